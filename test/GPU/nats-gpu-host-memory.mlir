// RUN: nats-opt %s --pass-pipeline='builtin.module(func.func(nats-gpu-host-memory))' \
// RUN:   --split-input-file --verify-diagnostics | FileCheck %s

// The host only allocates and frees what kernels use, in device memory.

// CHECK-LABEL: func.func @host
// CHECK:       %[[BUF:.+]] = gpu.alloc () : memref<16xf32>
// CHECK:       gpu.launch
// CHECK:         memref.store %{{.+}}, %[[BUF]]
// CHECK:       gpu.dealloc %[[BUF]] : memref<16xf32>
func.func @host() {
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %one = arith.constant 1.0 : f32
  %buf = memref.alloc() : memref<16xf32>
  gpu.launch blocks(%bx, %by, %bz) in (%x = %c1, %y = %c1, %z = %c1)
             threads(%tx, %ty, %tz) in (%u = %c16, %v = %c1, %w = %c1) {
    memref.store %one, %buf[%tx] : memref<16xf32>
    gpu.terminator
  }
  memref.dealloc %buf : memref<16xf32>
  return
}

// -----

func.func @load_on_host(%x: memref<4xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  // expected-error @below {{on the host would read or write device memory}}
  %v = memref.load %x[%c0] : memref<4xf32>
  return %v : f32
}
