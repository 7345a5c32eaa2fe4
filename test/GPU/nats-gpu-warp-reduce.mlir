// RUN: nats-opt %s --pass-pipeline='builtin.module(func.func(nats-gpu-distribute{warp-reductions}))' \
// RUN:   --split-input-file | FileCheck %s --check-prefix=DIST
// RUN: nats-opt %s --pass-pipeline='builtin.module(func.func(nats-gpu-distribute))' \
// RUN:   --split-input-file | FileCheck %s --check-prefix=THREADS
// RUN: nats-opt %s --pass-pipeline='builtin.module(func.func(nats-gpu-warp-reduce))' \
// RUN:   --split-input-file --verify-diagnostics | FileCheck %s

// With warp-reductions, a chunk's row norms (64 rows of 128) go to warp
// tiles of 8 rows, 4 lanes a row (each lane then folds 32 iterations), the
// whole row in each tile, the fill of their outputs fused in; without it,
// to the threads, one row each. Its producer (elementwise) stays on the
// threads.

// DIST-LABEL:  func.func @row_norms
// DIST:        scf.forall (%{{.+}}) in (8)
// DIST:          %[[FILLED:.+]] = linalg.fill {{.*}} -> tensor<8xf32>
// DIST:          linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]{{.*}} ins(%{{.+}} : tensor<8x128xf32>) outs(%[[FILLED]] : tensor<8xf32>)
// DIST:        } {mapping = [#gpu.warp<linear_dim_0>]}
// DIST:        } {mapping = [#gpu.block<linear_dim_0>]}
// THREADS-LABEL: func.func @row_norms
// THREADS:     scf.forall (%{{.+}}) in (64)
// THREADS:       linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]
// THREADS:     } {mapping = [#gpu.thread<linear_dim_0>]}
func.func @row_norms(%x: tensor<2x64x128xf32>, %init: tensor<2x64xf32>) -> tensor<2x64xf32> {
  %r = scf.forall (%b) in (2) shared_outs(%o = %init) -> (tensor<2x64xf32>) {
    %s = tensor.extract_slice %x[%b, 0, 0] [1, 64, 128] [1, 1, 1] : tensor<2x64x128xf32> to tensor<64x128xf32>
    %slot = tensor.extract_slice %o[%b, 0] [1, 64] [1, 1] : tensor<2x64xf32> to tensor<64xf32>
    %zero = arith.constant 0.0 : f32
    %i = linalg.fill ins(%zero : f32) outs(%slot : tensor<64xf32>) -> tensor<64xf32>
    %sq = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                          iterator_types = ["parallel", "parallel"]}
        ins(%s : tensor<64x128xf32>) outs(%s : tensor<64x128xf32>) {
      ^bb0(%a: f32, %unused: f32):
        %y = arith.mulf %a, %a : f32
        linalg.yield %y : f32
    } -> tensor<64x128xf32>
    %sum = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>],
                           iterator_types = ["parallel", "reduction"]}
        ins(%sq : tensor<64x128xf32>) outs(%i : tensor<64xf32>) {
      ^bb0(%a: f32, %m: f32):
        %y = arith.addf %a, %m : f32
        linalg.yield %y : f32
    } -> tensor<64xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %sum into %o[%b, 0] [1, 64] [1, 1] : tensor<64xf32> into tensor<2x64xf32>
    }
  } {mapping = [#gpu.block<linear_dim_0>]}
  return %r : tensor<2x64xf32>
}

// -----

// Rows of 64 take 2 lanes each, 16 rows a warp; with only 8 rows, one warp
// tile takes all 8, 4 lanes a row. Rows of 32 are a thread's each.

// DIST-LABEL:  func.func @few_rows
// DIST:        linalg.generic {{.*}} ins(%{{.+}} : tensor<8x64xf32>) outs(%{{.+}} : tensor<8xf32>)
// DIST:        } {mapping = [#gpu.warp<linear_dim_0>]}
// DIST:        scf.forall (%{{.+}}) in (8)
// DIST:          linalg.generic {{.*}} ins(%{{.+}} : tensor<1x32xf32>) outs(%{{.+}} : tensor<1xf32>)
// DIST:        } {mapping = [#gpu.thread<linear_dim_0>]}
func.func @few_rows(%x: tensor<8x64xf32>, %z: tensor<8x32xf32>, %init: tensor<8xf32>) -> (tensor<8xf32>, tensor<8xf32>) {
  %r:2 = scf.forall (%b) in (1) shared_outs(%o = %init, %p = %init) -> (tensor<8xf32>, tensor<8xf32>) {
    %max = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>],
                           iterator_types = ["parallel", "reduction"]}
        ins(%x : tensor<8x64xf32>) outs(%o : tensor<8xf32>) {
      ^bb0(%a: f32, %m: f32):
        %y = arith.maximumf %a, %m : f32
        linalg.yield %y : f32
    } -> tensor<8xf32>
    %short = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>],
                             iterator_types = ["parallel", "reduction"]}
        ins(%z : tensor<8x32xf32>) outs(%p : tensor<8xf32>) {
      ^bb0(%a: f32, %m: f32):
        %y = arith.maximumf %a, %m : f32
        linalg.yield %y : f32
    } -> tensor<8xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %max into %o[0] [8] [1] : tensor<8xf32> into tensor<8xf32>
      tensor.parallel_insert_slice %short into %p[0] [8] [1] : tensor<8xf32> into tensor<8xf32>
    }
  } {mapping = [#gpu.block<linear_dim_0>]}
  return %r#0, %r#1 : tensor<8xf32>, tensor<8xf32>
}

// -----

// A row of 64 squares summed by one warp: lane l takes columns l and l + 32
// (two rounds, the body with the partial in place of the output, the
// partial from 0), five xor shuffles fold the lanes, and every lane stores
// the output plus the total. linalg.index reads the loop position.

// CHECK-LABEL: func.func @row_sum
// CHECK:         %[[LANE:.+]] = gpu.lane_id
// CHECK:         %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK:         %[[PART:.+]] = scf.for %[[R:.+]] = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%[[ACC:.+]] = %[[ZERO]]) -> (f32) {
// CHECK:           %[[OFF:.+]] = arith.muli %[[R]], %{{.+}}
// CHECK:           %[[K:.+]] = arith.addi %[[LANE]], %[[OFF]] overflow<nsw, nuw>
// CHECK:           %[[X:.+]] = memref.load %{{.+}}[%{{.+}}, %[[K]]]
// CHECK:           %[[KF:.+]] = arith.index_cast %[[K]]
// CHECK:           %[[SQ:.+]] = arith.mulf %[[X]], %[[X]]
// CHECK:           %[[NEXT:.+]] = arith.addf %[[SQ]], %[[ACC]]
// CHECK:           scf.yield %[[NEXT]]
// CHECK:         %[[S16:.+]], %{{.+}} = gpu.shuffle  xor %[[PART]], %{{.+}}, %{{.+}} : f32
// CHECK:         %[[T16:.+]] = arith.addf %[[PART]], %[[S16]]
// CHECK-COUNT-4: gpu.shuffle  xor
// CHECK:         %[[OLD:.+]] = memref.load %{{.+}}[%{{.+}}]
// CHECK:         %[[NEW:.+]] = arith.addf %{{.+}}, %[[OLD]]
// CHECK:         memref.store %[[NEW]], %{{.+}}[%{{.+}}]
// CHECK-NOT:     linalg.generic
func.func @row_sum(%x: memref<8x64xf32>, %y: memref<8xf32>, %w: memref<8xi32>) {
  scf.forall (%i) in (8) {
    %row = memref.subview %x[%i, 0] [1, 64] [1, 1] : memref<8x64xf32> to memref<1x64xf32, strided<[64, 1], offset: ?>>
    %out = memref.subview %y[%i] [1] [1] : memref<8xf32> to memref<1xf32, strided<[1], offset: ?>>
    linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>],
                    iterator_types = ["parallel", "reduction"]}
        ins(%row : memref<1x64xf32, strided<[64, 1], offset: ?>>)
        outs(%out : memref<1xf32, strided<[1], offset: ?>>) {
      ^bb0(%a: f32, %s: f32):
        %j = linalg.index 1 : index
        %unused = arith.index_cast %j : index to i32
        %sq = arith.mulf %a, %a : f32
        %t = arith.addf %sq, %s : f32
        linalg.yield %t : f32
    }
  } {mapping = [#gpu.warp<linear_dim_0>]}
  return
}

// -----

// A warp tile of 8 rows of 128: lane l takes row l / 4 and columns l % 4,
// l % 4 + 4, ... (32 rounds); two xor shuffles (offsets 2 and 1) fold a
// row's four lanes, which store the same total. The fill of the outputs
// that nats-gpu-distribute fused into the tile is the value the total is
// folded into: no fill, no load of the output.

// CHECK-LABEL: func.func @row_groups
// CHECK:         %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK:         %[[ID:.+]] = gpu.lane_id
// CHECK:         %[[LANE:.+]] = arith.remui %[[ID]], %[[C4:.+]] : index
// CHECK:         %[[ROW:.+]] = arith.divui %[[ID]], %[[C4]] : index
// CHECK:         %[[PART:.+]] = scf.for %[[R:.+]] = %{{.+}} to %[[C32:.+]] step %{{.+}} iter_args
// CHECK:           %[[OFF:.+]] = arith.muli %[[R]], %[[C4]]
// CHECK:           %[[K:.+]] = arith.addi %[[LANE]], %[[OFF]] overflow<nsw, nuw>
// CHECK:           memref.load %{{.+}}[%[[ROW]], %[[K]]]
// CHECK:         gpu.shuffle  xor %[[PART]], %c2_i32, %{{.+}} : f32
// CHECK:         gpu.shuffle  xor %{{.+}}, %c1_i32, %{{.+}} : f32
// CHECK-NOT:     gpu.shuffle
// CHECK:         %[[NEW:.+]] = arith.addf %{{.+}}, %[[ZERO]] : f32
// CHECK-NEXT:    memref.store %[[NEW]], %{{.+}}[%[[ROW]]]
// CHECK-NOT:     linalg.fill
func.func @row_groups(%x: memref<64x128xf32>, %y: memref<64xf32>) {
  scf.forall (%i) in (8) {
    %c8 = arith.constant 8 : index
    %r = arith.muli %i, %c8 : index
    %rows = memref.subview %x[%r, 0] [8, 128] [1, 1] : memref<64x128xf32> to memref<8x128xf32, strided<[128, 1], offset: ?>>
    %out = memref.subview %y[%r] [8] [1] : memref<64xf32> to memref<8xf32, strided<[1], offset: ?>>
    %zero = arith.constant 0.0 : f32
    linalg.fill ins(%zero : f32) outs(%out : memref<8xf32, strided<[1], offset: ?>>)
    linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>],
                    iterator_types = ["parallel", "reduction"]}
        ins(%rows : memref<8x128xf32, strided<[128, 1], offset: ?>>)
        outs(%out : memref<8xf32, strided<[1], offset: ?>>) {
      ^bb0(%a: f32, %s: f32):
        %sq = arith.mulf %a, %a : f32
        %t = arith.addf %sq, %s : f32
        linalg.yield %t : f32
    }
  } {mapping = [#gpu.warp<linear_dim_0>]}
  return
}

// -----

func.func @on_tensors(%x: tensor<1x64xf32>, %y: tensor<1xf32>) {
  scf.forall (%i) in (8) {
    // expected-error @below {{must be bufferized before it becomes a warp's shuffle reduction}}
    %r = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>],
                         iterator_types = ["parallel", "reduction"]}
        ins(%x : tensor<1x64xf32>) outs(%y : tensor<1xf32>) {
      ^bb0(%a: f32, %s: f32):
        %t = arith.addf %a, %s : f32
        linalg.yield %t : f32
    } -> tensor<1xf32>
  } {mapping = [#gpu.warp<linear_dim_0>]}
  return
}

// -----

// A tensor-core tile is a reduction too (16 x 8 outputs, k = 128) but not
// one output element: it is left to nats-gpu-mma-sync.

// CHECK-LABEL: func.func @mma_tile
// CHECK-NOT:     gpu.shuffle
// CHECK:         linalg.matmul
func.func @mma_tile(%a: memref<16x128xf32>, %b: memref<128x8xf32>, %c: memref<16x8xf32>) {
  scf.forall (%i) in (1) {
    linalg.matmul ins(%a, %b : memref<16x128xf32>, memref<128x8xf32>) outs(%c : memref<16x8xf32>)
  } {mapping = [#gpu.warp<linear_dim_0>]}
  return
}

// -----

func.func @diagonal(%x: memref<64x64xf32>, %y: memref<1xf32>) {
  scf.forall (%i) in (8) {
    // expected-error @below {{needs projected-permutation indexing maps to become a warp's shuffle reduction}}
    linalg.generic {indexing_maps = [affine_map<(i, j) -> (j, j)>, affine_map<(i, j) -> (i)>],
                    iterator_types = ["parallel", "reduction"]}
        ins(%x : memref<64x64xf32>) outs(%y : memref<1xf32>) {
      ^bb0(%a: f32, %s: f32):
        %t = arith.addf %a, %s : f32
        linalg.yield %t : f32
    }
  } {mapping = [#gpu.warp<linear_dim_0>]}
  return
}
