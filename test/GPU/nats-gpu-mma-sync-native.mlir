// RUN: nats-opt %s --pass-pipeline='builtin.module(func.func(nats-gpu-mma-sync{ldmatrix precision=3xtf32}))' \
// RUN:   --split-input-file | FileCheck %s

// A and B of one 16-bit type, 16 deep: each step is one m16n8k16 MMA on the
// operands as they are, whatever the precision (a product of two bf16 is
// exact in f32). Both live in the block's shared-memory pool with 16-byte
// aligned rows of 48 bytes. A is k-contiguous: one ldmatrix.x4 (lane 8q + r
// at row r + 8·(q % 2), column k0 + 8·(q / 2)); B is stored k-major (n
// contiguous): one ldmatrix.x4.trans for both of the warp tile's n-tiles
// (lane 8q + r at k row k0 + r + 8·(q % 2), column 8·(q / 2)), split in
// two. The bf16 MMAs become nvvm.mma.sync on the fragments' registers.
// CHECK-LABEL: func.func @bf16_shared
// CHECK:         %[[LANE:.+]] = gpu.lane_id
// CHECK:         %[[Q:.+]] = arith.divui %[[LANE]], %{{.+}} : index
// CHECK:         %[[R:.+]] = arith.remui %[[LANE]], %{{.+}} : index
// CHECK:         %[[WA:.+]] = memref.memory_space_cast %{{.+}} : memref<16x16xbf16, strided<[24, 1], offset: ?>> to memref<16x16xbf16, strided<[24, 1], offset: ?>, #gpu.address_space<workgroup>>
// CHECK:         %[[WB:.+]] = memref.memory_space_cast %{{.+}} : memref<16x16xbf16, strided<[24, 1]>> to memref<16x16xbf16, strided<[24, 1]>, #gpu.address_space<workgroup>>
// CHECK:         %[[STEP:.+]] = arith.constant 16 : index
// CHECK:         scf.for %[[K0:.+]] = %{{.+}} to %{{.+}} step %[[STEP]] iter_args
// CHECK-NOT:       memref.load
// CHECK:           %[[A:.+]] = nvgpu.ldmatrix %[[WA]][%{{.+}}, %{{.+}}] {numTiles = 4 : i32, transpose = false} : memref<16x16xbf16, strided<[24, 1], offset: ?>, #gpu.address_space<workgroup>> -> vector<4x2xbf16>
// CHECK:           %[[B:.+]] = nvgpu.ldmatrix %[[WB]][%{{.+}}, %{{.+}}] {numTiles = 4 : i32, transpose = true} : memref<16x16xbf16, strided<[24, 1]>, #gpu.address_space<workgroup>> -> vector<4x2xbf16>
// CHECK:           vector.extract_strided_slice %[[B]] {offsets = [2, 0], sizes = [2, 2], strides = [1, 1]}
// CHECK:           vector.extract_strided_slice %[[B]] {offsets = [0, 0], sizes = [2, 2], strides = [1, 1]}
// CHECK-NOT:       arith.andi
// CHECK-NOT:       nvgpu.mma.sync
// CHECK:           nvvm.mma.sync
// CHECK-SAME:        multiplicandAPtxType = #nvvm.mma_type<bf16>
// CHECK-SAME:        shape = #nvvm.shape<m = 16, n = 8, k = 16>
// CHECK:           nvvm.mma.sync
// CHECK-NOT:       nvvm.mma.sync
// CHECK:           scf.yield
func.func @bf16_shared(%c: memref<16x16xf32>) {
  %c0 = arith.constant 0 : index
  %c768 = arith.constant 768 : index
  scf.forall (%blk) in (1) {
    %pool = memref.alloca() : memref<2048xi8, #gpu.address_space<workgroup>>
    %va = memref.view %pool[%c0][] : memref<2048xi8, #gpu.address_space<workgroup>> to memref<16x24xbf16, #gpu.address_space<workgroup>>
    %vb = memref.view %pool[%c768][] : memref<2048xi8, #gpu.address_space<workgroup>> to memref<16x24xbf16, #gpu.address_space<workgroup>>
    %ga = memref.memory_space_cast %va : memref<16x24xbf16, #gpu.address_space<workgroup>> to memref<16x24xbf16>
    %gb = memref.memory_space_cast %vb : memref<16x24xbf16, #gpu.address_space<workgroup>> to memref<16x24xbf16>
    %a = memref.subview %ga[0, 0] [16, 16] [1, 1] : memref<16x24xbf16> to memref<16x16xbf16, strided<[24, 1]>>
    %b = memref.subview %gb[0, 0] [16, 16] [1, 1] : memref<16x24xbf16> to memref<16x16xbf16, strided<[24, 1]>>
    scf.forall (%i) in (1) {
      %sa = memref.subview %a[%i, 0] [16, 16] [1, 1] : memref<16x16xbf16, strided<[24, 1]>> to memref<16x16xbf16, strided<[24, 1], offset: ?>>
      linalg.matmul ins(%sa, %b : memref<16x16xbf16, strided<[24, 1], offset: ?>>, memref<16x16xbf16, strided<[24, 1]>>)
          outs(%c : memref<16x16xf32>)
    } {mapping = [#gpu.warp<linear_dim_0>]}
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}

// -----

// f16 operands that ldmatrix cannot read (function arguments: no alignment
// known): each register of a fragment is a lane's two elements at k = 2t,
// 2t + 1 (then + 8), loaded one by one; B is stored n-major (Q·Kᵀ). The
// f16 MMA stays nvgpu.mma.sync (convert-nvgpu-to-nvvm lowers it).
// CHECK-LABEL: func.func @f16_elements
// CHECK:         %[[LANE:.+]] = gpu.lane_id
// CHECK:         %[[G:.+]] = arith.divui %[[LANE]], %{{.+}} : index
// CHECK:         %[[T:.+]] = arith.remui %[[LANE]], %{{.+}} : index
// CHECK:         %[[T2:.+]] = arith.muli %[[T]], %{{.+}} : index
// CHECK:         scf.for %[[K0:.+]] = %{{.+}} to %{{.+}} step %{{.+}} iter_args
// CHECK:           %[[K:.+]] = arith.addi %[[K0]], %[[T2]] : index
// CHECK:           %[[X:.+]] = memref.load %[[A:.+]][%[[G]], %[[K]]] : memref<16x32xf16>
// CHECK:           %[[K1:.+]] = arith.addi %[[K]], %{{.+}} : index
// CHECK:           %[[Y:.+]] = memref.load %[[A]][%[[G]], %[[K1]]] : memref<16x32xf16>
// CHECK:           vector.from_elements %[[X]], %[[Y]] : vector<2xf16>
// CHECK-COUNT-5:   vector.from_elements %{{.+}}, %{{.+}} : vector<2xf16>
// CHECK-NOT:       arith.extf
// CHECK:           nvgpu.mma.sync(%{{.+}}, %{{.+}}, %{{.+}}) {mmaShape = [16, 8, 16]} : (vector<4x2xf16>, vector<2x2xf16>, vector<2x2xf32>) -> vector<2x2xf32>
// CHECK:           scf.yield
func.func @f16_elements(%a: memref<16x32xf16>, %b: memref<8x32xf16>, %c: memref<16x8xf32>) {
  scf.forall (%i) in (1) {
    linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>,
                                   affine_map<(m, n, k) -> (m, n)>]
        ins(%a, %b : memref<16x32xf16>, memref<8x32xf16>) outs(%c : memref<16x8xf32>)
  } {mapping = [#gpu.warp<linear_dim_0>]}
  return
}

// -----

// 8 deep (no multiple of 16): k8 steps on the operands widened, which are
// tf32 already: no rounding and, at 3xTF32, no low parts (one MMA a step).
// CHECK-LABEL: func.func @bf16_shallow
// CHECK:         scf.for
// CHECK:           arith.extf %{{.+}} : bf16 to f32
// CHECK-NOT:       arith.andi
// CHECK:           nvgpu.mma.sync
// CHECK-NOT:       nvgpu.mma.sync
// CHECK:           scf.yield
func.func @bf16_shallow(%a: memref<16x8xbf16>, %b: memref<8x8xbf16>, %c: memref<16x8xf32>) {
  scf.forall (%i) in (1) {
    linalg.matmul ins(%a, %b : memref<16x8xbf16>, memref<8x8xbf16>) outs(%c : memref<16x8xf32>)
  } {mapping = [#gpu.warp<linear_dim_0>]}
  return
}
