// RUN: nats-opt %s --pass-pipeline='builtin.module(func.func(nats-gpu-aligned-arguments{bytes=12}))' \
// RUN:   --verify-diagnostics

// expected-error @below {{nats-gpu-aligned-arguments: bytes must be a power of two, got 12}}
func.func @entry(%a: memref<4x8xbf16>) {
  return
}
