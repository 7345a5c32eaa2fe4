// RUN: nats-opt %s --pass-pipeline='builtin.module(func.func(nats-gpu-distribute))' \
// RUN:   --split-input-file --verify-diagnostics | FileCheck %s

// A tile (outermost forall) becomes a thread block; each linalg op in it
// becomes a forall of single-element tiles over its parallel dims, shared
// out over the block's threads; a reduction dim stays in the iteration.
// The fill a reduction accumulates into goes into the reduction's tiles:
// each thread fills its own element, then sums into it (no phase of its
// own).

// CHECK-LABEL: func.func @tile
// CHECK:       scf.forall (%[[B:.+]]) in (2)
// The elementwise op: one iteration per element, innermost dim fastest.
// CHECK:         scf.forall (%{{.+}}, %{{.+}}) in (8, 4)
// CHECK:           linalg.generic {{.*}} ins(%{{.+}} : tensor<1x1xf32>) outs(%{{.+}} : tensor<1x1xf32>)
// CHECK:         } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
// The row sum: rows over threads, each sums its 4 elements.
// CHECK:         scf.forall (%{{.+}}) in (8)
// CHECK-NEXT:      tensor.extract_slice
// CHECK-NEXT:      tensor.extract_slice
// CHECK-NEXT:      %[[F:.+]] = linalg.fill {{.*}} -> tensor<1xf32>
// CHECK:           linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]{{.*}} ins(%{{.+}} : tensor<1x4xf32>) outs(%[[F]] : tensor<1xf32>)
// CHECK:         } {mapping = [#gpu.thread<linear_dim_0>]}
// CHECK-NOT:     linalg.fill
// CHECK:       } {mapping = [#gpu.block<linear_dim_0>]}
func.func @tile(%x: tensor<2x8x4xf32>) -> tensor<2x8x4xf32> {
  %out = tensor.empty() : tensor<2x8x4xf32>
  %r = scf.forall (%b) in (2) shared_outs(%o = %out) -> (tensor<2x8x4xf32>) {
    %s = tensor.extract_slice %x[%b, 0, 0] [1, 8, 4] [1, 1, 1] : tensor<2x8x4xf32> to tensor<8x4xf32>
    %e = tensor.empty() : tensor<8x4xf32>
    %m = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                         iterator_types = ["parallel", "parallel"]}
        ins(%s : tensor<8x4xf32>) outs(%e : tensor<8x4xf32>) {
      ^bb0(%a: f32, %c: f32):
        %y = arith.mulf %a, %a : f32
        linalg.yield %y : f32
    } -> tensor<8x4xf32>
    %z = tensor.empty() : tensor<8xf32>
    %zero = arith.constant 0.0 : f32
    %f = linalg.fill ins(%zero : f32) outs(%z : tensor<8xf32>) -> tensor<8xf32>
    %sum = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>],
                           iterator_types = ["parallel", "reduction"]}
        ins(%m : tensor<8x4xf32>) outs(%f : tensor<8xf32>) {
      ^bb0(%a: f32, %c: f32):
        %y = arith.addf %a, %c : f32
        linalg.yield %y : f32
    } -> tensor<8xf32>
    %n = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>, affine_map<(i, j) -> (i, j)>],
                         iterator_types = ["parallel", "parallel"]}
        ins(%m, %sum : tensor<8x4xf32>, tensor<8xf32>) outs(%e : tensor<8x4xf32>) {
      ^bb0(%a: f32, %c: f32, %d: f32):
        %y = arith.divf %a, %c : f32
        linalg.yield %y : f32
    } -> tensor<8x4xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %n into %o[%b, 0, 0] [1, 8, 4] [1, 1, 1] : tensor<8x4xf32> into tensor<2x8x4xf32>
    }
  }
  return %r : tensor<2x8x4xf32>
}

// An op of the graph outside any tile: a thread forall of its own (a grid,
// after nats-map-foralls-to-gpu).

// CHECK-LABEL: func.func @graph
// CHECK:       scf.forall (%{{.+}}, %{{.+}}) in (3, 5)
// CHECK:         math.exp
// CHECK:       } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
func.func @graph(%x: tensor<3x5xf32>) -> tensor<3x5xf32> {
  %e = tensor.empty() : tensor<3x5xf32>
  %m = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<3x5xf32>) outs(%e : tensor<3x5xf32>) {
    ^bb0(%a: f32, %c: f32):
      %y = math.exp %a : f32
      linalg.yield %y : f32
  } -> tensor<3x5xf32>
  return %m : tensor<3x5xf32>
}

// A value carried around a loop in a tile is copied back into its iteration
// argument, so bufferization keeps it in the argument's buffer; the copy is
// distributed like any linalg op.

// CHECK-LABEL: func.func @carried
// CHECK:       scf.for {{.*}} iter_args(%[[ACC:.+]] = %{{.+}}) -> (tensor<4xf32>)
// CHECK:         %[[NEW:.+]] = scf.forall (%{{.+}}) in (4) shared_outs(%{{.+}} = %{{.+}})
// CHECK:           linalg.add {{.*}} -> tensor<1xf32>
// CHECK:         %[[BACK:.+]] = scf.forall (%{{.+}}) in (4) shared_outs(%{{.+}} = %[[ACC]])
// CHECK:           linalg.copy
// CHECK:         scf.yield %[[BACK]]
func.func @carried(%x: tensor<2x4xf32>, %init: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %r = scf.forall (%b) in (2) shared_outs(%o = %init) -> (tensor<2x4xf32>) {
    %s = tensor.extract_slice %x[%b, 0] [1, 4] [1, 1] : tensor<2x4xf32> to tensor<4xf32>
    %acc = scf.for %i = %c0 to %c3 step %c1 iter_args(%a = %s) -> (tensor<4xf32>) {
      %e = tensor.empty() : tensor<4xf32>
      %n = linalg.add ins(%a, %s : tensor<4xf32>, tensor<4xf32>) outs(%e : tensor<4xf32>) -> tensor<4xf32>
      scf.yield %n : tensor<4xf32>
    }
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %acc into %o[%b, 0] [1, 4] [1, 1] : tensor<4xf32> into tensor<2x4xf32>
    }
  }
  return %r : tensor<2x4xf32>
}

// -----

func.func @dynamic_tiles(%n: index, %x: tensor<?xf32>) -> tensor<?xf32> {
  // expected-error @below {{needs static bounds to become thread blocks}}
  %r = scf.forall (%i) in (%n) shared_outs(%o = %x) -> (tensor<?xf32>) {
    scf.forall.in_parallel {
    }
  }
  return %r : tensor<?xf32>
}

// -----

// A forall in a block whose iterations are scalar code (no linalg op) gets
// one thread per iteration: the triangular solve's columns.
// CHECK-LABEL: func.func @scalar_forall
// CHECK:       scf.forall (%{{.+}}) in (2)
// CHECK:         scf.forall (%{{.+}}) in (4)
// CHECK:           tensor.extract
// CHECK:         } {mapping = [#gpu.thread<linear_dim_0>]}
// CHECK:       } {mapping = [#gpu.block<linear_dim_0>]}
func.func @scalar_forall(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %r = scf.forall (%b) in (2) shared_outs(%o = %x) -> (tensor<2x4xf32>) {
    %row = tensor.extract_slice %o[%b, 0] [1, 4] [1, 1] : tensor<2x4xf32> to tensor<4xf32>
    %c = scf.forall (%i) in (4) shared_outs(%ro = %row) -> (tensor<4xf32>) {
      %v = tensor.extract %ro[%i] : tensor<4xf32>
      %w = arith.addf %v, %v : f32
      %e = tensor.from_elements %w : tensor<1xf32>
      scf.forall.in_parallel {
        tensor.parallel_insert_slice %e into %ro[%i] [1] [1] : tensor<1xf32> into tensor<4xf32>
      }
    }
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %c into %o[%b, 0] [1, 4] [1, 1] : tensor<4xf32> into tensor<2x4xf32>
    }
  }
  return %r : tensor<2x4xf32>
}
