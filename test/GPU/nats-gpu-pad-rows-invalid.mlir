// RUN: nats-opt %s --pass-pipeline='builtin.module(func.func(nats-gpu-pad-rows{pad-bytes=-4}))' \
// RUN:   --verify-diagnostics

// expected-error @below {{nats-gpu-pad-rows: pad-bytes must not be negative, got -4}}
func.func @negative() {
  return
}
