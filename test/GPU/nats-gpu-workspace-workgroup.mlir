// RUN: nats-opt %s --pass-pipeline='builtin.module(func.func(nats-gpu-workspace{shared-memory-bytes=256}))' \
// RUN:   | FileCheck %s

// A buffer asked for in workgroup memory (nats-gpu-prefetch's) is placed
// first and is the view of the pool itself; here it takes the 256 bytes
// of shared memory and the larger default buffer goes to the workspace.
// CHECK-LABEL: func.func @workgroup
// CHECK:       memref.alloc() : memref<768xi8>
// CHECK:       scf.forall
// CHECK:         %[[POOL:.+]] = memref.alloca() : memref<256xi8, #gpu.address_space<workgroup>>
// CHECK:         %[[W:.+]] = memref.view %[[POOL]][%{{.+}}][] : memref<256xi8, #gpu.address_space<workgroup>> to memref<4x4xf32, #gpu.address_space<workgroup>>
// CHECK-NOT:     memref.memory_space_cast
// CHECK:         memref.view %{{.+}}[%{{.+}}][] : memref<768xi8> to memref<2x4xf32>
// CHECK:         memref.store %{{.+}}, %[[W]]
func.func @workgroup(%out: memref<3x4xf32>) {
  %c0 = arith.constant 0 : index
  %f = arith.constant 1.0 : f32
  scf.forall (%i) in (3) {
    %w = memref.alloc() : memref<4x4xf32, #gpu.address_space<workgroup>>
    %small = memref.alloc() : memref<2x4xf32>
    memref.store %f, %small[%c0, %c0] : memref<2x4xf32>
    memref.store %f, %w[%c0, %c0] : memref<4x4xf32, #gpu.address_space<workgroup>>
    %x = memref.load %small[%c0, %c0] : memref<2x4xf32>
    %y = memref.load %w[%c0, %c0] : memref<4x4xf32, #gpu.address_space<workgroup>>
    %z = arith.addf %x, %y : f32
    memref.store %z, %out[%i, %c0] : memref<3x4xf32>
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}
