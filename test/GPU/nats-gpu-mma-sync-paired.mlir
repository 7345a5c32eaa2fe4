// RUN: nats-opt %s --pass-pipeline='builtin.module(func.func(nats-gpu-mma-sync{paired-loads}))' \
// RUN:   | FileCheck %s

// paired-loads: the step's k slots t and t + 4 take columns 2t and 2t + 1,
// for A and B alike. A and B (both k-contiguous) live in the block's
// shared-memory pool at byte shifts that are multiples of 8, with even row
// strides: each lane reads its two elements of a row with one 8-byte
// aligned vector.load. The accumulator keeps its loads.
// CHECK-LABEL: func.func @pool
// CHECK:         %[[T:.+]] = arith.remui
// CHECK:         %[[T2:.+]] = arith.muli %[[T]], %{{.+}} : index
// CHECK:         scf.for %[[K0:.+]] = %{{.+}} to %{{.+}} step %{{.+}} iter_args
// CHECK:           %[[K:.+]] = arith.addi %[[K0]], %[[T2]] : index
// CHECK:           %[[A0:.+]] = vector.load %[[SA:.+]][%{{.+}}, %[[K]]] {alignment = 8 : i64} : memref<16x16xf32, strided<[20, 1], offset: ?>>, vector<2xf32>
// CHECK:           %[[A1:.+]] = vector.load %[[SA]][%{{.+}}, %[[K]]] {alignment = 8 : i64}
// CHECK:           vector.load %[[SB:.+]][%{{.+}}, %[[K]]] {alignment = 8 : i64} : memref<8x16xf32, strided<[20, 1], offset: ?>>, vector<2xf32>
// CHECK-COUNT-3:   nvgpu.mma.sync
func.func @pool(%c: memref<32x16xf32>) {
  %c0 = arith.constant 0 : index
  %c1280 = arith.constant 1280 : index
  scf.forall (%blk) in (1) {
    %pool = memref.alloca() : memref<4096xi8, #gpu.address_space<workgroup>>
    %va = memref.view %pool[%c0][] : memref<4096xi8, #gpu.address_space<workgroup>> to memref<32x20xf32, #gpu.address_space<workgroup>>
    %vb = memref.view %pool[%c1280][] : memref<4096xi8, #gpu.address_space<workgroup>> to memref<16x20xf32, #gpu.address_space<workgroup>>
    %ga = memref.memory_space_cast %va : memref<32x20xf32, #gpu.address_space<workgroup>> to memref<32x20xf32>
    %gb = memref.memory_space_cast %vb : memref<16x20xf32, #gpu.address_space<workgroup>> to memref<16x20xf32>
    %a = memref.subview %ga[0, 0] [32, 16] [1, 1] : memref<32x20xf32> to memref<32x16xf32, strided<[20, 1]>>
    %b = memref.subview %gb[0, 0] [16, 16] [1, 1] : memref<16x20xf32> to memref<16x16xf32, strided<[20, 1]>>
    scf.forall (%i, %j) in (2, 2) {
      %c16 = arith.constant 16 : index
      %c8 = arith.constant 8 : index
      %m = arith.muli %i, %c16 : index
      %n = arith.muli %j, %c8 : index
      %sa = memref.subview %a[%m, 0] [16, 16] [1, 1] : memref<32x16xf32, strided<[20, 1]>> to memref<16x16xf32, strided<[20, 1], offset: ?>>
      %sb = memref.subview %b[%n, 0] [8, 16] [1, 1] : memref<16x16xf32, strided<[20, 1]>> to memref<8x16xf32, strided<[20, 1], offset: ?>>
      %sc = memref.subview %c[%m, %n] [16, 8] [1, 1] : memref<32x16xf32> to memref<16x8xf32, strided<[16, 1], offset: ?>>
      linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>,
                                       affine_map<(m, n, k) -> (m, n)>],
                      iterator_types = ["parallel", "parallel", "reduction"]}
          ins(%sa, %sb : memref<16x16xf32, strided<[20, 1], offset: ?>>, memref<8x16xf32, strided<[20, 1], offset: ?>>)
          outs(%sc : memref<16x8xf32, strided<[16, 1], offset: ?>>) {
        ^bb0(%x: f32, %y: f32, %acc: f32):
          %p = arith.mulf %x, %y : f32
          %s = arith.addf %p, %acc : f32
          linalg.yield %s : f32
      }
    } {mapping = [#gpu.warp<linear_dim_1>, #gpu.warp<linear_dim_0>]}
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}

// A function argument (its offset unknown) and a B stored k-major (k is not
// its contiguous dimension): the permuted columns, read one by one.
// CHECK-LABEL: func.func @unknown
// CHECK:         scf.for %[[K0:.+]] = %{{.+}} to %{{.+}} step %{{.+}} iter_args
// CHECK:           %[[K:.+]] = arith.addi %[[K0]], %{{.+}} : index
// CHECK:           %[[K1:.+]] = arith.addi %[[K]], %{{.+}} : index
// CHECK-NOT:       vector.load
// CHECK:           memref.load %[[SA:.+]][%{{.+}}, %[[K]]]
// CHECK:           memref.load %[[SA]][%{{.+}}, %[[K1]]]
// CHECK:           memref.load %[[SB:.+]][%[[K]], %{{.+}}]
// CHECK:           memref.load %[[SB]][%[[K1]], %{{.+}}]
func.func @unknown(%a: memref<16x8xf32>, %b: memref<8x8xf32>, %c: memref<16x8xf32>) {
  scf.forall (%blk) in (1) {
    scf.forall (%i) in (1) {
      linalg.matmul ins(%a, %b : memref<16x8xf32>, memref<8x8xf32>) outs(%c : memref<16x8xf32>)
    } {mapping = [#gpu.warp<linear_dim_0>]}
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}
