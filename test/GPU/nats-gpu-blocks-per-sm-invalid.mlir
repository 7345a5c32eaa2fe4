// RUN: nats-opt %s --nats-gpu-blocks-per-sm='blocks=0' --verify-diagnostics
// RUN: nats-opt %s --nats-gpu-blocks-per-sm='sm-count=0' --verify-diagnostics
// RUN: nats-opt %s --nats-gpu-blocks-per-sm='shared-memory-bytes=-1' --verify-diagnostics
// RUN: nats-opt %s --nats-gpu-blocks-per-sm='kernel-blocks=tile:0' --verify-diagnostics
// RUN: not nats-opt %s --nats-gpu-blocks-per-sm='blocks=0' 2>&1 \
// RUN:   | FileCheck %s --check-prefix=BLOCKS
// RUN: not nats-opt %s --nats-gpu-blocks-per-sm='sm-count=0' 2>&1 \
// RUN:   | FileCheck %s --check-prefix=SMS
// RUN: not nats-opt %s --nats-gpu-blocks-per-sm='shared-memory-bytes=-1' 2>&1 \
// RUN:   | FileCheck %s --check-prefix=SHARED
// RUN: not nats-opt %s --nats-gpu-blocks-per-sm='kernel-blocks=tile' 2>&1 \
// RUN:   | FileCheck %s --check-prefix=NAMED

// Each option's error at the module (one expected diagnostic serves the
// four runs; FileCheck checks each message whole).
// BLOCKS: error: nats-gpu-blocks-per-sm: blocks must be at least 1, got 0
// SMS: error: nats-gpu-blocks-per-sm: sm-count must be at least 1, got 0
// SHARED: error: nats-gpu-blocks-per-sm: shared-memory-bytes must be at least 1, got -1
// NAMED: error: nats-gpu-blocks-per-sm: kernel-blocks: expected name:blocks with blocks at least 1, got 'tile'

// expected-error-re @below {{nats-gpu-blocks-per-sm: {{((blocks|sm-count|shared-memory-bytes) must be at least 1, got (0|-1)|kernel-blocks: expected name:blocks with blocks at least 1, got 'tile:0')}}}}
module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @tile() kernel {
      gpu.return
    }
  }
}
