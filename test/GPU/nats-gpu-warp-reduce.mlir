// RUN: nats-opt %s --pass-pipeline='builtin.module(func.func(nats-gpu-distribute{warp-reductions}))' \
// RUN:   --split-input-file | FileCheck %s --check-prefix=DIST
// RUN: nats-opt %s --pass-pipeline='builtin.module(func.func(nats-gpu-distribute))' \
// RUN:   --split-input-file | FileCheck %s --check-prefix=THREADS
// RUN: nats-opt %s --pass-pipeline='builtin.module(func.func(nats-gpu-warp-reduce))' \
// RUN:   --split-input-file --verify-diagnostics | FileCheck %s

// With warp-reductions, a row maximum of a chunk (8 rows of 64: no more
// outputs than iterations) goes to the warps, one row each, the whole row
// in each tile; without it, to the threads. Its producer (elementwise)
// stays on the threads.

// DIST-LABEL:  func.func @row_max
// DIST:        scf.forall (%{{.+}}) in (8)
// DIST:          linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]{{.*}} ins(%{{.+}} : tensor<1x64xf32>) outs(%{{.+}} : tensor<1xf32>)
// DIST:        } {mapping = [#gpu.warp<linear_dim_0>]}
// DIST:        } {mapping = [#gpu.block<linear_dim_0>]}
// THREADS-LABEL: func.func @row_max
// THREADS:     scf.forall (%{{.+}}) in (8)
// THREADS:       linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]
// THREADS:     } {mapping = [#gpu.thread<linear_dim_0>]}
func.func @row_max(%x: tensor<2x8x64xf32>, %init: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %r = scf.forall (%b) in (2) shared_outs(%o = %init) -> (tensor<2x8xf32>) {
    %s = tensor.extract_slice %x[%b, 0, 0] [1, 8, 64] [1, 1, 1] : tensor<2x8x64xf32> to tensor<8x64xf32>
    %i = tensor.extract_slice %o[%b, 0] [1, 8] [1, 1] : tensor<2x8xf32> to tensor<8xf32>
    %max = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>],
                           iterator_types = ["parallel", "reduction"]}
        ins(%s : tensor<8x64xf32>) outs(%i : tensor<8xf32>) {
      ^bb0(%a: f32, %m: f32):
        %y = arith.maximumf %a, %m : f32
        linalg.yield %y : f32
    } -> tensor<8xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %max into %o[%b, 0] [1, 8] [1, 1] : tensor<8xf32> into tensor<2x8xf32>
    }
  } {mapping = [#gpu.block<linear_dim_0>]}
  return %r : tensor<2x8xf32>
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
