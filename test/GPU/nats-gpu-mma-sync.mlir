// RUN: nats-opt %s --pass-pipeline='builtin.module(func.func(nats-gpu-mma-sync))' \
// RUN:   --split-input-file --verify-diagnostics | FileCheck %s
// RUN: nats-opt %s --pass-pipeline='builtin.module(func.func(nats-gpu-mma-sync{precision=tf32}))' \
// RUN:   --split-input-file --verify-diagnostics | FileCheck %s --check-prefix=X1
// RUN: not nats-opt %s --pass-pipeline='builtin.module(func.func(nats-map-foralls-to-gpu{block-threads=48}))' \
// RUN:   --split-input-file 2>&1 | FileCheck %s --check-prefix=THREADS

// A warp tile of C = A · Bᵀ (B read by rows: the layout comes from the
// indexing maps) becomes one warp's code: lane = 4g + t holds
// C[g][2t], C[g][2t+1], C[g+8][2t], C[g+8][2t+1]; each step of 8 along the
// reduction loads A[g][k+t], A[g+8][k+t], A[g][k+t+4], A[g+8][k+t+4] and
// B[k+t][g], B[k+t+4][g], then splits them into tf32 pairs (round: +0x1000, keep
// the top 19 bits) and runs three mma.sync, the small products first.

// With precision=tf32, each step rounds A and B to tf32 once and runs one
// mma.sync.
// X1-LABEL: func.func @tile
// X1:         scf.for
// X1-NOT:       arith.subf
// X1:           %[[A:.+]] = arith.bitcast %{{.+}} : vector<4x1xi32> to vector<4x1xf32>
// X1-NOT:       arith.subf
// X1:           %[[B:.+]] = arith.bitcast %{{.+}} : vector<2x1xi32> to vector<2x1xf32>
// X1-NEXT:      %[[P:.+]] = nvgpu.mma.sync(%[[A]], %[[B]], %{{.+}}) {mmaShape = [16, 8, 8], tf32Enabled}
// X1-NEXT:      scf.yield %[[P]] : vector<2x2xf32>

// CHECK-LABEL: func.func @tile
// CHECK:         scf.forall
// CHECK:           %[[SC:.+]] = memref.subview %{{.+}}[%{{.+}}, %{{.+}}] [16, 8] [1, 1]
// CHECK:           %[[LANE:.+]] = gpu.lane_id
// CHECK:           %[[G:.+]] = arith.divui %[[LANE]], %{{.+}} : index
// CHECK:           %[[T:.+]] = arith.remui %[[LANE]], %{{.+}} : index
// CHECK:           %[[G8:.+]] = arith.addi %[[G]], %{{.+}} : index
// CHECK:           %[[T2:.+]] = arith.muli %[[T]], %{{.+}} : index
// CHECK:           %[[C0:.+]] = memref.load %[[SC]][%[[G]], %[[T2]]]
// CHECK:           %[[T21:.+]] = arith.addi %[[T2]], %{{.+}} : index
// CHECK:           memref.load %[[SC]][%[[G]], %[[T21]]]
// CHECK:           memref.load %[[SC]][%[[G8]], %[[T2]]]
// CHECK:           %[[T21B:.+]] = arith.addi %[[T2]], %{{.+}} : index
// CHECK:           %[[C3:.+]] = memref.load %[[SC]][%[[G8]], %[[T21B]]]
// CHECK:           %[[ACC:.+]] = vector.from_elements %[[C0]], %{{.+}}, %{{.+}}, %[[C3]] : vector<2x2xf32>
// CHECK:           %[[SUM:.+]] = scf.for %[[K0:.+]] = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%[[IN:.+]] = %[[ACC]]) -> (vector<2x2xf32>) {
// CHECK:             %[[K:.+]] = arith.addi %[[K0]], %[[T]] : index
// CHECK:             %[[K4:.+]] = arith.addi %[[K]], %{{.+}} : index
// CHECK:             memref.load %[[SA:.+]][%[[G]], %[[K]]]
// CHECK:             memref.load %[[SA]][%[[G]], %[[K4]]]
// CHECK:             memref.load %[[SA]][%[[G8]], %[[K]]]
// CHECK:             memref.load %[[SA]][%[[G8]], %[[K4]]]
// CHECK:             %[[A:.+]] = vector.from_elements {{.*}} : vector<4x1xf32>
// CHECK:             memref.load %[[SB:.+]][%[[G]], %[[K]]]
// CHECK:             memref.load %[[SB]][%[[G]], %[[K4]]]
// CHECK:             arith.bitcast %[[A]] : vector<4x1xf32> to vector<4x1xi32>
// CHECK:             arith.constant dense<4096> : vector<4x1xi32>
// CHECK:             arith.constant dense<-8192> : vector<4x1xi32>
// CHECK:             %[[AHI:.+]] = arith.bitcast %{{.+}} : vector<4x1xi32> to vector<4x1xf32>
// CHECK:             arith.subf %[[A]], %[[AHI]]
// CHECK:             %[[ALO:.+]] = arith.bitcast %{{.+}} : vector<4x1xi32> to vector<4x1xf32>
// CHECK:             %[[BHI:.+]] = arith.bitcast %{{.+}} : vector<2x1xi32> to vector<2x1xf32>
// CHECK:             %[[BLO:.+]] = arith.bitcast %{{.+}} : vector<2x1xi32> to vector<2x1xf32>
// CHECK:             %[[P1:.+]] = nvgpu.mma.sync(%[[ALO]], %[[BHI]], %[[IN]]) {mmaShape = [16, 8, 8], tf32Enabled}
// CHECK:             %[[P2:.+]] = nvgpu.mma.sync(%[[AHI]], %[[BLO]], %[[P1]]) {mmaShape = [16, 8, 8], tf32Enabled}
// CHECK:             %[[P3:.+]] = nvgpu.mma.sync(%[[AHI]], %[[BHI]], %[[P2]]) {mmaShape = [16, 8, 8], tf32Enabled}
// CHECK:             scf.yield %[[P3]] : vector<2x2xf32>
// CHECK:           %[[ROW0:.+]] = vector.extract %[[SUM]][0] : vector<2xf32> from vector<2x2xf32>
// CHECK:           vector.extract %[[ROW0]][0] : f32 from vector<2xf32>
// CHECK:           memref.store %{{.+}}, %[[SC]][%[[G]], %[[T2]]]
// CHECK:           %[[ROW1:.+]] = vector.extract %[[SUM]][1] : vector<2xf32> from vector<2x2xf32>
// CHECK:           vector.extract %[[ROW1]][1] : f32 from vector<2xf32>
// CHECK:           memref.store %{{.+}}, %[[SC]][%[[G8]], %{{.+}}]
// CHECK-NOT:       linalg.generic
// CHECK:         } {mapping = [#gpu.warp<linear_dim_1>, #gpu.warp<linear_dim_0>]}
func.func @tile(%a: memref<32x16xf32>, %b: memref<16x16xf32>, %c: memref<32x16xf32>) {
  scf.forall (%blk) in (1) {
    scf.forall (%i, %j) in (2, 2) {
      %c16 = arith.constant 16 : index
      %c8 = arith.constant 8 : index
      %m = arith.muli %i, %c16 : index
      %n = arith.muli %j, %c8 : index
      %sa = memref.subview %a[%m, 0] [16, 16] [1, 1] : memref<32x16xf32> to memref<16x16xf32, strided<[16, 1], offset: ?>>
      %sb = memref.subview %b[%n, 0] [8, 16] [1, 1] : memref<16x16xf32> to memref<8x16xf32, strided<[16, 1], offset: ?>>
      %sc = memref.subview %c[%m, %n] [16, 8] [1, 1] : memref<32x16xf32> to memref<16x8xf32, strided<[16, 1], offset: ?>>
      linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>,
                                       affine_map<(m, n, k) -> (m, n)>],
                      iterator_types = ["parallel", "parallel", "reduction"]}
          ins(%sa, %sb : memref<16x16xf32, strided<[16, 1], offset: ?>>, memref<8x16xf32, strided<[16, 1], offset: ?>>)
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

// THREADS: error: 'scf.forall' op needs block-threads to be a multiple of 32, got 48

// -----

// A fill of the tile before it (nats-gpu-distribute fuses the fill a
// contraction accumulates into) starts every lane's accumulator at the
// fill's value: C is written, never read, and the fill is gone.
// CHECK-LABEL: func.func @filled_tile
// CHECK-SAME:    (%{{.+}}: memref<16x8xf32>, %{{.+}}: memref<8x8xf32>, %[[C:.+]]: memref<16x8xf32>, %[[V:.+]]: f32)
// CHECK-NOT:     linalg.fill
// CHECK-NOT:     memref.load %[[C]]
// CHECK:         %[[ACC:.+]] = vector.broadcast %[[V]] : f32 to vector<2x2xf32>
// CHECK:         scf.for {{.+}} iter_args(%{{.+}} = %[[ACC]])
// CHECK-NOT:     memref.load %[[C]]
// CHECK:         memref.store %{{.+}}, %[[C]]
func.func @filled_tile(%a: memref<16x8xf32>, %b: memref<8x8xf32>, %c: memref<16x8xf32>, %v: f32) {
  scf.forall (%blk) in (1) {
    scf.forall (%i) in (1) {
      linalg.fill ins(%v : f32) outs(%c : memref<16x8xf32>)
      linalg.matmul ins(%a, %b : memref<16x8xf32>, memref<8x8xf32>) outs(%c : memref<16x8xf32>)
    } {mapping = [#gpu.warp<linear_dim_0>]}
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}

// -----

// An elementwise update of the tile before it (nats-gpu-distribute fuses
// one that only the contraction reads) maps C's elements as they are
// loaded into the accumulators: no pass over C of its own, and it is gone.
// CHECK-LABEL: func.func @updated_tile
// CHECK-SAME:    (%{{.+}}: memref<16x8xf32>, %{{.+}}: memref<8x8xf32>, %[[C:.+]]: memref<16x8xf32>, %[[D:.+]]: f32)
// CHECK-NOT:     linalg.generic
// CHECK-COUNT-4: arith.mulf %[[D]], %{{.+}} : f32
// CHECK:         %[[ACC:.+]] = vector.from_elements
// CHECK:         scf.for {{.+}} iter_args(%{{.+}} = %[[ACC]])
// CHECK:         memref.store %{{.+}}, %[[C]]
func.func @updated_tile(%a: memref<16x8xf32>, %b: memref<8x8xf32>, %c: memref<16x8xf32>, %d: f32) {
  scf.forall (%blk) in (1) {
    scf.forall (%i) in (1) {
      linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>],
                      iterator_types = ["parallel", "parallel"]} outs(%c : memref<16x8xf32>) {
      ^bb0(%x: f32):
        %y = arith.mulf %d, %x : f32
        linalg.yield %y : f32
      }
      linalg.matmul ins(%a, %b : memref<16x8xf32>, memref<8x8xf32>) outs(%c : memref<16x8xf32>)
    } {mapping = [#gpu.warp<linear_dim_0>]}
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}

// -----

// An update that writes C from another buffer (U₀ widened from bf16) loads
// that buffer at each element's position and not C.
// CHECK-LABEL: func.func @widened_tile
// CHECK-SAME:    (%{{.+}}: memref<16x8xf32>, %{{.+}}: memref<8x8xf32>, %[[C:.+]]: memref<16x8xf32>, %[[X:.+]]: memref<16x8xbf16>)
// CHECK-NOT:     linalg.generic
// CHECK-NOT:     memref.load %[[C]]
// CHECK-COUNT-4: arith.extf %{{.+}} : bf16 to f32
// CHECK:         %[[ACC:.+]] = vector.from_elements
// CHECK:         scf.for {{.+}} iter_args(%{{.+}} = %[[ACC]])
// CHECK:         memref.store %{{.+}}, %[[C]]
func.func @widened_tile(%a: memref<16x8xf32>, %b: memref<8x8xf32>, %c: memref<16x8xf32>,
                        %x: memref<16x8xbf16>) {
  scf.forall (%blk) in (1) {
    scf.forall (%i) in (1) {
      linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                      iterator_types = ["parallel", "parallel"]}
          ins(%x : memref<16x8xbf16>) outs(%c : memref<16x8xf32>) {
      ^bb0(%v: bf16, %w: f32):
        %y = arith.extf %v : bf16 to f32
        linalg.yield %y : f32
      }
      linalg.matmul ins(%a, %b : memref<16x8xf32>, memref<8x8xf32>) outs(%c : memref<16x8xf32>)
    } {mapping = [#gpu.warp<linear_dim_0>]}
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}

// -----

// A tile whose result the block reads nowhere but in the map after it is
// kept in registers (private memory, nats-gpu-distribute): only the map's
// values are stored, and its buffer is gone.
// CHECK-LABEL: func.func @register_tile
// CHECK-SAME:    (%{{.+}}: memref<16x8xf32>, %{{.+}}: memref<8x8xf32>, %[[D:.+]]: memref<16x8xbf16>)
// CHECK-NOT:     memref.alloca
// CHECK:         scf.for
// CHECK-COUNT-4: memref.store %{{.+}}, %[[D]]
// CHECK-NOT:     memref.store
// CHECK:         return
func.func @register_tile(%a: memref<16x8xf32>, %b: memref<8x8xf32>, %d: memref<16x8xbf16>) {
  scf.forall (%blk) in (1) {
    %c = memref.alloca() : memref<32x8xf32, #gpu.address_space<private>>
    scf.forall (%i) in (1) {
      %t = memref.subview %c[16, 0] [16, 8] [1, 1] : memref<32x8xf32, #gpu.address_space<private>>
          to memref<16x8xf32, strided<[8, 1], offset: 128>, #gpu.address_space<private>>
      %zero = arith.constant 0.0 : f32
      linalg.fill ins(%zero : f32) outs(%t : memref<16x8xf32, strided<[8, 1], offset: 128>, #gpu.address_space<private>>)
      linalg.matmul ins(%a, %b : memref<16x8xf32>, memref<8x8xf32>)
          outs(%t : memref<16x8xf32, strided<[8, 1], offset: 128>, #gpu.address_space<private>>)
      linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                      iterator_types = ["parallel", "parallel"]}
          ins(%t : memref<16x8xf32, strided<[8, 1], offset: 128>, #gpu.address_space<private>>)
          outs(%d : memref<16x8xbf16>) {
      ^bb0(%x: f32, %y: bf16):
        %r = arith.truncf %x : f32 to bf16
        linalg.yield %r : bf16
      }
    } {mapping = [#gpu.warp<linear_dim_0>]}
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}

// -----

// Anything else that uses such a buffer would read memory that is not there.
func.func @register_tile_read(%a: memref<16x8xf32>, %b: memref<8x8xf32>, %d: memref<16x8xbf16>,
                              %e: memref<16x8xf32>) {
  scf.forall (%blk) in (1) {
    %c = memref.alloca() : memref<16x8xf32, #gpu.address_space<private>>
    scf.forall (%i) in (1) {
      %zero = arith.constant 0.0 : f32
      linalg.fill ins(%zero : f32) outs(%c : memref<16x8xf32, #gpu.address_space<private>>)
      linalg.matmul ins(%a, %b : memref<16x8xf32>, memref<8x8xf32>)
          outs(%c : memref<16x8xf32, #gpu.address_space<private>>)
      linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                      iterator_types = ["parallel", "parallel"]}
          ins(%c : memref<16x8xf32, #gpu.address_space<private>>) outs(%d : memref<16x8xbf16>) {
      ^bb0(%x: f32, %y: bf16):
        %r = arith.truncf %x : f32 to bf16
        linalg.yield %r : bf16
      }
    } {mapping = [#gpu.warp<linear_dim_0>]}
    // expected-error @below {{uses a warp tile's result that its lanes keep in registers}}
    memref.copy %c, %e : memref<16x8xf32, #gpu.address_space<private>> to memref<16x8xf32>
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}

// -----

// An elementwise map of the tile after it (nats-gpu-distribute fuses the
// rounding of a product to bf16 in) is applied to the accumulators as they
// are stored: C's elements, then their rounded copies in D, from the same
// registers; the map's phase is gone.
// CHECK-LABEL: func.func @mapped_tile
// CHECK-SAME:    (%{{.+}}: memref<16x8xf32>, %{{.+}}: memref<8x8xf32>, %[[C:.+]]: memref<16x8xf32>, %[[D:.+]]: memref<16x8xbf16>)
// CHECK-NOT:     linalg.generic
// CHECK:         %[[SUM:.+]] = scf.for
// CHECK:         %[[PAIR:.+]] = vector.extract %[[SUM]][0]
// CHECK:         %[[X:.+]] = vector.extract %[[PAIR]][0]
// CHECK:         %[[Y:.+]] = arith.truncf %[[X]] : f32 to bf16
// CHECK:         memref.store %[[Y]], %[[D]]
// CHECK:         memref.store %{{.+}}, %[[C]]
func.func @mapped_tile(%a: memref<16x8xf32>, %b: memref<8x8xf32>, %c: memref<16x8xf32>,
                       %d: memref<16x8xbf16>) {
  scf.forall (%blk) in (1) {
    scf.forall (%i) in (1) {
      linalg.matmul ins(%a, %b : memref<16x8xf32>, memref<8x8xf32>) outs(%c : memref<16x8xf32>)
      linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                      iterator_types = ["parallel", "parallel"]}
          ins(%c : memref<16x8xf32>) outs(%d : memref<16x8xbf16>) {
      ^bb0(%x: f32, %y: bf16):
        %r = arith.truncf %x : f32 to bf16
        linalg.yield %r : bf16
      }
    } {mapping = [#gpu.warp<linear_dim_0>]}
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}

// -----

// The map's other inputs are loaded at the element's position (a scalar
// is used as it is), and linalg.index reads it (−A's mask, with M and a
// row's β as inputs).
// CHECK-LABEL: func.func @mapped_with_inputs
// CHECK-SAME:    (%{{.+}}: memref<16x8xf32>, %{{.+}}: memref<8x8xf32>, %[[C:.+]]: memref<16x8xf32>, %[[M:.+]]: memref<16x8xf32>, %[[BETA:.+]]: memref<16xf32>, %[[D:.+]]: memref<16x8xf32>, %[[K:.+]]: f32)
// CHECK-NOT:     linalg.generic
// CHECK:         scf.for
// CHECK:         %[[X:.+]] = vector.extract %{{.+}}[0] : f32 from vector<2xf32>
// CHECK:         %[[MV:.+]] = memref.load %[[M]][%[[ROW:.+]], %[[COL:.+]]] : memref<16x8xf32>
// CHECK:         %[[BV:.+]] = memref.load %[[BETA]][%[[ROW]]] : memref<16xf32>
// CHECK:         arith.cmpi ugt, %[[ROW]], %[[COL]] : index
// CHECK:         arith.mulf %{{.+}}, %[[K]] : f32
// CHECK:         memref.store %{{.+}}, %[[D]][%[[ROW]], %[[COL]]]
func.func @mapped_with_inputs(%a: memref<16x8xf32>, %b: memref<8x8xf32>, %c: memref<16x8xf32>,
                              %m: memref<16x8xf32>, %beta: memref<16xf32>, %d: memref<16x8xf32>,
                              %k: f32) {
  %zero = arith.constant 0.0 : f32
  scf.forall (%blk) in (1) {
    scf.forall (%i) in (1) {
      linalg.matmul ins(%a, %b : memref<16x8xf32>, memref<8x8xf32>) outs(%c : memref<16x8xf32>)
      linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>,
                                       affine_map<(i, j) -> (i)>, affine_map<(i, j) -> ()>,
                                       affine_map<(i, j) -> (i, j)>],
                      iterator_types = ["parallel", "parallel"]}
          ins(%c, %m, %beta, %k : memref<16x8xf32>, memref<16x8xf32>, memref<16xf32>, f32)
          outs(%d : memref<16x8xf32>) {
      ^bb0(%x: f32, %mask: f32, %s: f32, %scale: f32, %y: f32):
        %r = linalg.index 0 : index
        %q = linalg.index 1 : index
        %below = arith.cmpi ugt, %r, %q : index
        %p = arith.mulf %x, %mask : f32
        %v = arith.mulf %s, %p : f32
        %w = arith.mulf %v, %scale : f32
        %out = arith.select %below, %w, %zero : f32
        linalg.yield %out : f32
      }
    } {mapping = [#gpu.warp<linear_dim_0>]}
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}

// -----

// 16-bit operands (bf16 A, f16 B into f32 C) are widened as they are
// loaded: exact, and tf32 already.
// CHECK-LABEL: func.func @narrow_operands
// CHECK:         scf.for
// CHECK:           %[[A:.+]] = memref.load %{{.+}} : memref<16x8xbf16>
// CHECK:           arith.extf %[[A]] : bf16 to f32
// CHECK:           %[[B:.+]] = memref.load %{{.+}} : memref<8x8xf16>
// CHECK:           arith.extf %[[B]] : f16 to f32
// CHECK:           nvgpu.mma.sync
func.func @narrow_operands(%a: memref<16x8xbf16>, %b: memref<8x8xf16>, %c: memref<16x8xf32>) {
  scf.forall (%blk) in (1) {
    scf.forall (%i) in (1) {
      linalg.matmul ins(%a, %b : memref<16x8xbf16>, memref<8x8xf16>) outs(%c : memref<16x8xf32>)
    } {mapping = [#gpu.warp<linear_dim_0>]}
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}

// -----

// C in a buffer whose rows are 8-byte aligned (an allocation aligned to 64
// bytes, even row strides) and n its contiguous dimension: each of a lane's
// pairs C[g][2t], C[g][2t+1] and C[g+8][2t], C[g+8][2t+1] is read and
// written by one 64-bit access.
// CHECK-LABEL: func.func @aligned_accumulator
// CHECK:         %[[C:.+]] = memref.alloc() {alignment = 64 : i64} : memref<16x8xf32>
// CHECK:         %[[G:.+]] = arith.divui
// CHECK:         %[[T:.+]] = arith.remui
// CHECK:         %[[G8:.+]] = arith.addi %[[G]]
// CHECK:         %[[T2:.+]] = arith.muli %[[T]]
// CHECK-NOT:     memref.load %[[C]]
// CHECK:         vector.load %[[C]][%[[G]], %[[T2]]] {alignment = 8 : i64} : memref<16x8xf32>, vector<2xf32>
// CHECK:         vector.load %[[C]][%[[G8]], %[[T2]]] {alignment = 8 : i64} : memref<16x8xf32>, vector<2xf32>
// CHECK:         %[[SUM:.+]] = scf.for
// CHECK:         %[[ROW0:.+]] = vector.extract %[[SUM]][0] : vector<2xf32> from vector<2x2xf32>
// CHECK:         vector.store %[[ROW0]], %[[C]][%[[G]], %[[T2]]] {alignment = 8 : i64} : memref<16x8xf32>, vector<2xf32>
// CHECK:         %[[ROW1:.+]] = vector.extract %[[SUM]][1] : vector<2xf32> from vector<2x2xf32>
// CHECK:         vector.store %[[ROW1]], %[[C]][%[[G8]], %[[T2]]] {alignment = 8 : i64} : memref<16x8xf32>, vector<2xf32>
// CHECK-NOT:     memref.store %{{.+}}, %[[C]]
func.func @aligned_accumulator(%a: memref<16x8xf32>, %b: memref<8x8xf32>) -> memref<16x8xf32> {
  %c = memref.alloc() {alignment = 64 : i64} : memref<16x8xf32>
  scf.forall (%blk) in (1) {
    scf.forall (%i) in (1) {
      linalg.matmul ins(%a, %b : memref<16x8xf32>, memref<8x8xf32>) outs(%c : memref<16x8xf32>)
    } {mapping = [#gpu.warp<linear_dim_0>]}
  } {mapping = [#gpu.block<linear_dim_0>]}
  return %c : memref<16x8xf32>
}

// -----

// A warp tile of 2 × 2 MMA tiles (32 × 16): four accumulators carried
// through the k-loop; each step loads the two A fragments and the two B
// fragments once and runs the four MMAs on them (A of rows 0 and 16, B of
// columns 0 and 8), each MMA tile stored at its offset (precision=tf32:
// one MMA a tile and step).
// X1-LABEL: func.func @multi_tile
// X1:         %[[G:.+]] = arith.divui
// X1:         %[[R:.+]]:4 = scf.for {{.+}} iter_args(%[[C00:.+]] = %{{.+}}, %[[C01:.+]] = %{{.+}}, %[[C10:.+]] = %{{.+}}, %[[C11:.+]] = %{{.+}})
// X1:           memref.load %[[A:.+]][%[[G]], %{{.+}}]
// X1:           %[[G16:.+]] = arith.addi %[[G]], %{{.+}} : index
// X1:           memref.load %[[A]][%[[G16]], %{{.+}}]
// X1:           memref.load %[[B:.+]][%{{.+}}, %[[G]]]
// X1:           %[[G8:.+]] = arith.addi %[[G]], %{{.+}} : index
// X1:           memref.load %[[B]][%{{.+}}, %[[G8]]]
// X1:           %[[P00:.+]] = nvgpu.mma.sync(%[[A0:.+]], %[[B0:.+]], %[[C00]])
// X1:           %[[P01:.+]] = nvgpu.mma.sync(%[[A0]], %[[B1:.+]], %[[C01]])
// X1:           %[[P10:.+]] = nvgpu.mma.sync(%[[A1:.+]], %[[B0]], %[[C10]])
// X1:           %[[P11:.+]] = nvgpu.mma.sync(%[[A1]], %[[B1]], %[[C11]])
// X1:           scf.yield %[[P00]], %[[P01]], %[[P10]], %[[P11]]
// X1-COUNT-16:  memref.store
func.func @multi_tile(%a: memref<32x16xf32>, %b: memref<16x16xf32>, %c: memref<32x16xf32>, %v: f32) {
  scf.forall (%blk) in (1) {
    scf.forall (%i) in (1) {
      linalg.fill ins(%v : f32) outs(%c : memref<32x16xf32>)
      linalg.matmul ins(%a, %b : memref<32x16xf32>, memref<16x16xf32>) outs(%c : memref<32x16xf32>)
    } {mapping = [#gpu.warp<linear_dim_0>]}
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}

// -----

func.func @fill_elsewhere(%a: memref<16x8xf32>, %b: memref<8x8xf32>, %c: memref<16x8xf32>,
                          %d: memref<16x8xf32>, %v: f32) {
  scf.forall (%blk) in (1) {
    scf.forall (%i) in (1) {
      // expected-error @below {{must fill or update the output of the warp tile it precedes, on buffers}}
      linalg.fill ins(%v : f32) outs(%d : memref<16x8xf32>)
      linalg.matmul ins(%a, %b : memref<16x8xf32>, memref<8x8xf32>) outs(%c : memref<16x8xf32>)
    } {mapping = [#gpu.warp<linear_dim_0>]}
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}

// -----

func.func @two_ops(%a: memref<16x8xf32>, %b: memref<8x8xf32>, %c: memref<16x8xf32>) {
  scf.forall (%blk) in (1) {
    // expected-error @below {{needs one linalg op, a warp tile, perhaps after a fill or an elementwise update of its output and before an elementwise map of it, got 2 linalg ops}}
    scf.forall (%i) in (1) {
      linalg.matmul ins(%a, %b : memref<16x8xf32>, memref<8x8xf32>) outs(%c : memref<16x8xf32>)
      linalg.matmul ins(%a, %b : memref<16x8xf32>, memref<8x8xf32>) outs(%c : memref<16x8xf32>)
    } {mapping = [#gpu.warp<linear_dim_0>]}
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}

// -----

func.func @map_after_store(%a: memref<16x8xf32>, %b: memref<8x8xf32>, %c: memref<16x8xf32>,
                           %d: memref<16x8xbf16>, %v: f32) {
  %i0 = arith.constant 0 : index
  scf.forall (%blk) in (1) {
    scf.forall (%i) in (1) {
      linalg.matmul ins(%a, %b : memref<16x8xf32>, memref<8x8xf32>) outs(%c : memref<16x8xf32>)
      memref.store %v, %c[%i0, %i0] : memref<16x8xf32>
      // expected-error @below {{must follow the warp tile it maps with no memory access between them}}
      linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                      iterator_types = ["parallel", "parallel"]}
          ins(%c : memref<16x8xf32>) outs(%d : memref<16x8xbf16>) {
      ^bb0(%x: f32, %y: bf16):
        %r = arith.truncf %x : f32 to bf16
        linalg.yield %r : bf16
      }
    } {mapping = [#gpu.warp<linear_dim_0>]}
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}

// -----

func.func @odd_tile(%a: memref<24x8xf32>, %b: memref<8x8xf32>, %c: memref<24x8xf32>) {
  scf.forall (%blk) in (1) {
    scf.forall (%i) in (1) {
      // expected-error @below {{is not a warp tile of a contraction into f32 (of f32, bf16 or f16) on buffers with multiples of 16 x 8 x 8 for its m, n and k, which mma.sync computes}}
      linalg.matmul ins(%a, %b : memref<24x8xf32>, memref<8x8xf32>) outs(%c : memref<24x8xf32>)
    } {mapping = [#gpu.warp<linear_dim_0>]}
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}

// -----

func.func @f64_tile(%a: memref<16x8xf64>, %b: memref<8x8xf64>, %c: memref<16x8xf32>) {
  scf.forall (%blk) in (1) {
    scf.forall (%i) in (1) {
      // expected-error @below {{is not a warp tile of a contraction into f32 (of f32, bf16 or f16) on buffers with multiples of 16 x 8 x 8 for its m, n and k, which mma.sync computes}}
      linalg.matmul ins(%a, %b : memref<16x8xf64>, memref<8x8xf64>) outs(%c : memref<16x8xf32>)
    } {mapping = [#gpu.warp<linear_dim_0>]}
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}

// -----

func.func @on_tensors(%a: tensor<16x8xf32>, %b: tensor<8x8xf32>, %c: tensor<16x8xf32>) -> tensor<16x8xf32> {
  // expected-error @below {{must be bufferized before it becomes mma.sync}}
  %r = scf.forall (%i) in (1) shared_outs(%o = %c) -> (tensor<16x8xf32>) {
    %m = linalg.matmul ins(%a, %b : tensor<16x8xf32>, tensor<8x8xf32>) outs(%o : tensor<16x8xf32>) -> tensor<16x8xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %m into %o[0, 0] [16, 8] [1, 1] : tensor<16x8xf32> into tensor<16x8xf32>
    }
  } {mapping = [#gpu.warp<linear_dim_0>]}
  return %r : tensor<16x8xf32>
}
