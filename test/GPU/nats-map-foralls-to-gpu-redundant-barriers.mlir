// RUN: nats-opt %s --pass-pipeline='builtin.module(func.func(nats-gpu-prefetch{shared-memory-bytes=8192},nats-map-foralls-to-gpu{block-threads=64}))' \
// RUN:   | FileCheck %s

// A block's loop whose tile nats-gpu-prefetch stages one step ahead: each
// step starts the next tile's async copies (in an scf.if: not on the last
// step), accumulates the current tile, and waits for its copies,
// then meets the block at a barrier. That barrier is the only one a step
// needs: the one that begins the if's copies follows it (the previous
// step's, or the one before the loop), as does the one after the if (the
// copies complete only at the wait); and the one after the accumulation
// comes right before the wait and that barrier.
// CHECK-LABEL: func.func @staged
// CHECK:         gpu.launch
// CHECK:           nvgpu.device_async_wait
// CHECK-NEXT:      gpu.barrier
// CHECK-NEXT:      scf.for
// CHECK-NOT:         gpu.barrier
// CHECK:             scf.if
// CHECK-NOT:           gpu.barrier
// CHECK:               nvgpu.device_async_copy
// CHECK-NOT:         gpu.barrier
// CHECK:             nvgpu.device_async_create_group
// CHECK-NOT:         gpu.barrier
// CHECK:             arith.addf
// CHECK-NOT:         gpu.barrier
// CHECK:             nvgpu.device_async_wait
// CHECK-NEXT:        gpu.barrier
// CHECK-NEXT:      }
func.func @staged(%src: memref<32x16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  scf.forall (%b) in (1) {
    %acc = memref.alloc() : memref<8x16xf32>
    scf.for %i = %c0 to %c4 step %c1 {
      %row = arith.muli %i, %c8 : index
      %tile = memref.subview %src[%row, 0] [8, 16] [1, 1]
          : memref<32x16xf32> to memref<8x16xf32, strided<[16, 1], offset: ?>>
      %buf = memref.alloc() : memref<8x16xf32>
      scf.forall (%r, %c) in (8, 16) {
        %from = memref.subview %tile[%r, %c] [1, 1] [1, 1]
            : memref<8x16xf32, strided<[16, 1], offset: ?>> to memref<1x1xf32, strided<[16, 1], offset: ?>>
        %to = memref.subview %buf[%r, %c] [1, 1] [1, 1]
            : memref<8x16xf32> to memref<1x1xf32, strided<[16, 1], offset: ?>>
        linalg.copy ins(%from : memref<1x1xf32, strided<[16, 1], offset: ?>>)
                    outs(%to : memref<1x1xf32, strided<[16, 1], offset: ?>>)
      } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
      scf.forall (%r, %c) in (8, 16) {
        %v = memref.load %buf[%r, %c] : memref<8x16xf32>
        %o = memref.load %acc[%r, %c] : memref<8x16xf32>
        %s = arith.addf %v, %o : f32
        memref.store %s, %acc[%r, %c] : memref<8x16xf32>
      } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
    }
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}
