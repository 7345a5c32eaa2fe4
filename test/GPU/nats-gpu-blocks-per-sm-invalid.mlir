// RUN: nats-opt %s --pass-pipeline='builtin.module(gpu.module(nats-gpu-blocks-per-sm{blocks=0}))' \
// RUN:   --verify-diagnostics --split-input-file
// RUN: not nats-opt %s --pass-pipeline='builtin.module(gpu.module(nats-gpu-blocks-per-sm{threads=-1}))' \
// RUN:   2>&1 | FileCheck %s --check-prefix=THREADS

// THREADS: error: nats-gpu-blocks-per-sm: threads must not be negative, got -1

// expected-error @below {{nats-gpu-blocks-per-sm: blocks must be at least 1, got 0}}
gpu.module @kernels {
  gpu.func @tile() kernel {
    gpu.return
  }
}
