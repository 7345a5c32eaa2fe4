// RUN: nats-opt %s --nats-gpu-blocks-per-sm='blocks=0' --verify-diagnostics
// RUN: not nats-opt %s --nats-gpu-blocks-per-sm='sm-count=0' 2>&1 \
// RUN:   | FileCheck %s --check-prefix=SMS
// RUN: not nats-opt %s --nats-gpu-blocks-per-sm='shared-memory-bytes=-1' 2>&1 \
// RUN:   | FileCheck %s --check-prefix=SHARED

// (One expected diagnostic a file: the others are checked by FileCheck.)
// SMS: error: nats-gpu-blocks-per-sm: sm-count must be at least 1, got 0
// SHARED: error: nats-gpu-blocks-per-sm: shared-memory-bytes must be at least 1, got -1

// expected-error @below {{nats-gpu-blocks-per-sm: blocks must be at least 1, got 0}}
module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @tile() kernel {
      gpu.return
    }
  }
}
