// RUN: nats-opt %s --pass-pipeline='builtin.module(func.func(nats-map-foralls-to-gpu{block-threads=128 merge-phases spread-warps}))' \
// RUN:   | FileCheck %s
// RUN: nats-opt %s --pass-pipeline='builtin.module(func.func(nats-map-foralls-to-gpu{block-threads=128 merge-phases}))' \
// RUN:   | FileCheck %s --check-prefix=SAME

// Two warp foralls of 2 iterations on buffers of their own share a phase
// (4 warps): with spread-warps the second starts at warp 2, so that each
// warp has one iteration (warp w runs iteration (w + 4 - 2) mod 4 of it);
// without, both run on warps 0 and 1 in turn. A warp forall after a
// barrier starts at warp 0 again.
// CHECK-LABEL: func.func @two_tiles
// CHECK:         gpu.launch
// CHECK:           %[[WARP:.+]] = arith.divui %{{.+}}, %c32
// CHECK:           scf.for
// CHECK:             arith.addi %[[WARP]]
// CHECK-NOT:       gpu.barrier
// CHECK:           %[[W2:.+]] = arith.divui %{{.+}}, %c32
// CHECK:           %[[SHIFTED:.+]] = arith.addi %[[W2]], %c2
// CHECK:           %[[FIRST:.+]] = arith.remui %[[SHIFTED]], %c4
// CHECK:           scf.for
// CHECK:             arith.addi %[[FIRST]]
// CHECK:           gpu.barrier
// CHECK:           %[[W3:.+]] = arith.divui %{{.+}}, %c32
// CHECK-NOT:       arith.remui
// CHECK:           scf.for
// CHECK:             arith.addi %[[W3]]
// SAME-LABEL: func.func @two_tiles
// SAME-NOT:     arith.remui %{{.+}}, %c4
func.func @two_tiles(%x: memref<64xf32>) {
  %c0 = arith.constant 0 : index
  %c256 = arith.constant 256 : index
  %zero = arith.constant 0.0 : f32
  scf.forall (%blk) in (1) {
    %pool = memref.alloca() : memref<512xi8, #gpu.address_space<workgroup>>
    %va = memref.view %pool[%c0][] : memref<512xi8, #gpu.address_space<workgroup>> to memref<2xf32, #gpu.address_space<workgroup>>
    %vb = memref.view %pool[%c256][] : memref<512xi8, #gpu.address_space<workgroup>> to memref<2xf32, #gpu.address_space<workgroup>>
    scf.forall (%i) in (2) {
      memref.store %zero, %va[%i] : memref<2xf32, #gpu.address_space<workgroup>>
    } {mapping = [#gpu.warp<linear_dim_0>]}
    scf.forall (%i) in (2) {
      memref.store %zero, %vb[%i] : memref<2xf32, #gpu.address_space<workgroup>>
    } {mapping = [#gpu.warp<linear_dim_0>]}
    scf.forall (%i) in (2) {
      %e = memref.load %vb[%i] : memref<2xf32, #gpu.address_space<workgroup>>
      memref.store %e, %x[%i] : memref<64xf32>
    } {mapping = [#gpu.warp<linear_dim_0>]}
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}
