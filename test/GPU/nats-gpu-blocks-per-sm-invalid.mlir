// RUN: nats-opt %s --pass-pipeline='builtin.module(gpu.module(nats-gpu-blocks-per-sm{blocks=0}))' \
// RUN:   --verify-diagnostics

// expected-error @below {{nats-gpu-blocks-per-sm: blocks must be at least 1, got 0}}
gpu.module @kernels {
  gpu.func @tile() kernel {
    gpu.return
  }
}
