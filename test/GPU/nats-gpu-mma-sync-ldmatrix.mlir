// RUN: nats-opt %s --pass-pipeline='builtin.module(func.func(nats-gpu-mma-sync{ldmatrix paired-loads precision=tf32}))' \
// RUN:   --split-input-file | FileCheck %s

// ldmatrix: A and B (both k-contiguous) live in the block's shared-memory
// pool with rows of 80 bytes at 16-byte aligned shifts. A warp tile of 1 × 2
// MMA tiles reads, each k-step, its A fragment with one ldmatrix.x4 (lane
// 8q + r: row r + 8·(q % 2), column k0 + 4·(q / 2)) and both B fragments
// with one more (n row r + 8·(q / 2), column k0 + 4·(q % 2)), through a
// workgroup view of each operand made once before the loop; k keeps its
// order (no paired loads).
// CHECK-LABEL: func.func @pool
// CHECK:         %[[LANE:.+]] = gpu.lane_id
// CHECK:         %[[Q:.+]] = arith.divui %[[LANE]], %{{.+}} : index
// CHECK:         %[[R:.+]] = arith.remui %[[LANE]], %{{.+}} : index
// CHECK:         %[[WA:.+]] = memref.memory_space_cast %{{.+}} : memref<16x16xf32, strided<[20, 1], offset: ?>> to memref<16x16xf32, strided<[20, 1], offset: ?>, #gpu.address_space<workgroup>>
// CHECK:         %[[WB:.+]] = memref.memory_space_cast %{{.+}} : memref<16x16xf32, strided<[20, 1], offset: ?>> to memref<16x16xf32, strided<[20, 1], offset: ?>, #gpu.address_space<workgroup>>
// CHECK:         scf.for %[[K0:.+]] = %{{.+}} to %{{.+}} step %{{.+}} iter_args
// CHECK-NOT:       vector.load
// CHECK:           %[[A:.+]] = nvgpu.ldmatrix %[[WA]][%{{.+}}, %{{.+}}] {numTiles = 4 : i32, transpose = false} : memref<16x16xf32, strided<[20, 1], offset: ?>, #gpu.address_space<workgroup>> -> vector<4x1xf32>
// CHECK:           %[[B:.+]] = nvgpu.ldmatrix %[[WB]][%{{.+}}, %{{.+}}] {numTiles = 4 : i32, transpose = false} : memref<16x16xf32, strided<[20, 1], offset: ?>, #gpu.address_space<workgroup>> -> vector<4x1xf32>
// CHECK:           vector.extract_strided_slice %[[B]] {offsets = [2, 0], sizes = [2, 1], strides = [1, 1]}
// CHECK:           vector.extract_strided_slice %[[B]] {offsets = [0, 0], sizes = [2, 1], strides = [1, 1]}
// CHECK-COUNT-2:   nvgpu.mma.sync
func.func @pool(%c: memref<16x16xf32>) {
  %c0 = arith.constant 0 : index
  %c1280 = arith.constant 1280 : index
  scf.forall (%blk) in (1) {
    %pool = memref.alloca() : memref<4096xi8, #gpu.address_space<workgroup>>
    %va = memref.view %pool[%c0][] : memref<4096xi8, #gpu.address_space<workgroup>> to memref<16x20xf32, #gpu.address_space<workgroup>>
    %vb = memref.view %pool[%c1280][] : memref<4096xi8, #gpu.address_space<workgroup>> to memref<16x20xf32, #gpu.address_space<workgroup>>
    %ga = memref.memory_space_cast %va : memref<16x20xf32, #gpu.address_space<workgroup>> to memref<16x20xf32>
    %gb = memref.memory_space_cast %vb : memref<16x20xf32, #gpu.address_space<workgroup>> to memref<16x20xf32>
    %a = memref.subview %ga[0, 0] [16, 16] [1, 1] : memref<16x20xf32> to memref<16x16xf32, strided<[20, 1]>>
    %b = memref.subview %gb[0, 0] [16, 16] [1, 1] : memref<16x20xf32> to memref<16x16xf32, strided<[20, 1]>>
    scf.forall (%i) in (1) {
      %sa = memref.subview %a[%i, 0] [16, 16] [1, 1] : memref<16x16xf32, strided<[20, 1]>> to memref<16x16xf32, strided<[20, 1], offset: ?>>
      %sb = memref.subview %b[%i, 0] [16, 16] [1, 1] : memref<16x16xf32, strided<[20, 1]>> to memref<16x16xf32, strided<[20, 1], offset: ?>>
      linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>,
                                     affine_map<(m, n, k) -> (m, n)>]
          ins(%sa, %sb : memref<16x16xf32, strided<[20, 1], offset: ?>>, memref<16x16xf32, strided<[20, 1], offset: ?>>)
          outs(%c : memref<16x16xf32>)
    } {mapping = [#gpu.warp<linear_dim_0>]}
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}

// -----

// B stored k-major (P·V): A by ldmatrix, B by element loads in k order
// (B[k0 + t][g], B[k0 + t + 4][g]), one x4 per MMA tile of A.
// CHECK-LABEL: func.func @k_major_b
// CHECK:         %[[T:.+]] = arith.remui %{{.+}}, %{{.+}} : index
// CHECK:         scf.for %[[K0:.+]] = %{{.+}} to %{{.+}} step %{{.+}} iter_args
// CHECK:           %[[K:.+]] = arith.addi %[[K0]], %[[T]] : index
// CHECK:           %[[K4:.+]] = arith.addi %[[K]], %{{.+}} : index
// CHECK:           nvgpu.ldmatrix {{.+}} {numTiles = 4 : i32, transpose = false} : {{.+}} -> vector<4x1xf32>
// CHECK:           memref.load %[[B:.+]][%[[K]], %{{.+}}]
// CHECK:           memref.load %[[B]][%[[K4]], %{{.+}}]
// CHECK:           nvgpu.mma.sync
func.func @k_major_b(%b: memref<8x8xf32>, %c: memref<16x8xf32>) {
  %c0 = arith.constant 0 : index
  scf.forall (%blk) in (1) {
    %pool = memref.alloca() : memref<4096xi8, #gpu.address_space<workgroup>>
    %va = memref.view %pool[%c0][] : memref<4096xi8, #gpu.address_space<workgroup>> to memref<16x12xf32, #gpu.address_space<workgroup>>
    %a = memref.subview %va[0, 0] [16, 8] [1, 1] : memref<16x12xf32, #gpu.address_space<workgroup>> to memref<16x8xf32, strided<[12, 1]>, #gpu.address_space<workgroup>>
    scf.forall (%i) in (1) {
      linalg.matmul ins(%a, %b : memref<16x8xf32, strided<[12, 1]>, #gpu.address_space<workgroup>>, memref<8x8xf32>)
          outs(%c : memref<16x8xf32>)
    } {mapping = [#gpu.warp<linear_dim_0>]}
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}

// -----

// An A that is not known to be in shared memory (a function argument)
// keeps the loads it had: paired where asked for, no ldmatrix.
// CHECK-LABEL: func.func @global_a
// CHECK-NOT:     nvgpu.ldmatrix
// CHECK:         nvgpu.mma.sync
// CHECK-NOT:     nvgpu.ldmatrix
func.func @global_a(%a: memref<16x8xf32>, %b: memref<8x8xf32>, %c: memref<16x8xf32>) {
  scf.forall (%blk) in (1) {
    scf.forall (%i) in (1) {
      linalg.matmul ins(%a, %b : memref<16x8xf32>, memref<8x8xf32>) outs(%c : memref<16x8xf32>)
    } {mapping = [#gpu.warp<linear_dim_0>]}
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}
