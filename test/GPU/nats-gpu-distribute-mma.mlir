// RUN: nats-opt %s --pass-pipeline='builtin.module(func.func(nats-gpu-distribute{mma result-maps}))' | FileCheck %s
// RUN: nats-opt %s --pass-pipeline='builtin.module(func.func(nats-gpu-distribute{mma}))' \
// RUN:   | FileCheck %s --check-prefix=NOMAP
// RUN: nats-opt %s --pass-pipeline='builtin.module(func.func(nats-gpu-distribute{mma stage-operands}))' \
// RUN:   | FileCheck %s --check-prefix=STAGE
// RUN: nats-opt %s --pass-pipeline='builtin.module(func.func(nats-gpu-distribute{mma warp-tile-m=64 warp-tile-n=24}))' \
// RUN:   | FileCheck %s --check-prefix=WARP
// RUN: nats-opt %s --pass-pipeline='builtin.module(func.func(nats-gpu-distribute{mma warp-tile-m=32 warp-tile-n=16 kernel-warp-tiles=gated_delta_state_pass:16x8}))' \
// RUN:   | FileCheck %s --check-prefix=NAMED

// With a warp tile larger than the output (64 x 24 asked, 32 x 16 there),
// each side shrinks to the largest multiple of 16 (rows) or 8 (columns)
// that divides it: one warp tile of 32 x 16.
// WARP-LABEL: func.func @contractions
// WARP:         scf.forall (%{{.+}}, %{{.+}}) in (1, 1)
// WARP:           linalg.matmul {{.*}} -> tensor<32x16xf32>
// WARP:         } {mapping = [#gpu.warp<linear_dim_1>, #gpu.warp<linear_dim_0>]}

// With mma, a contraction in a block that fits the tensor cores is tiled
// into 16 x 8 tiles of its output (the whole reduction in each), numbered
// from 0 and mapped to warps; one that does not fit (a single row) stays
// on threads, as does any contraction outside a block.

// CHECK-LABEL: func.func @contractions
// CHECK:       scf.forall (%{{.+}}) in (2)
// CHECK:         scf.forall (%[[I:.+]], %[[J:.+]]) in (2, 2)
// CHECK-DAG:       %[[M:.+]] = affine.apply #{{.+}}(%[[I]])
// CHECK-DAG:       %[[N:.+]] = affine.apply #{{.+}}(%[[J]])
// CHECK:           tensor.extract_slice %{{.+}}[%[[M]], 0] [16, 8] [1, 1]
// CHECK:           tensor.extract_slice %{{.+}}[0, %[[N]]] [8, 8] [1, 1]
// CHECK:           linalg.matmul {{.*}} -> tensor<16x8xf32>
// CHECK:         } {mapping = [#gpu.warp<linear_dim_1>, #gpu.warp<linear_dim_0>]}
// CHECK:         scf.forall (%{{.+}}, %{{.+}}) in (1, 16)
// CHECK:           linalg.matmul {{.*}} -> tensor<1x1xf32>
// CHECK:         } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
// CHECK:       } {mapping = [#gpu.block<linear_dim_0>]}
// CHECK:       scf.forall (%{{.+}}, %{{.+}}) in (32, 16)
// CHECK:         linalg.matmul {{.*}} -> tensor<1x1xf32>
// CHECK:       } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
func.func @contractions(%a: tensor<2x32x8xf32>, %row: tensor<2x1x8xf32>, %b: tensor<8x16xf32>,
                        %c: tensor<2x32x16xf32>, %d: tensor<2x1x16xf32>)
    -> (tensor<2x32x16xf32>, tensor<2x1x16xf32>, tensor<32x16xf32>) {
  %r:2 = scf.forall (%i) in (2) shared_outs(%oc = %c, %od = %d) -> (tensor<2x32x16xf32>, tensor<2x1x16xf32>) {
    %sa = tensor.extract_slice %a[%i, 0, 0] [1, 32, 8] [1, 1, 1] : tensor<2x32x8xf32> to tensor<32x8xf32>
    %sr = tensor.extract_slice %row[%i, 0, 0] [1, 1, 8] [1, 1, 1] : tensor<2x1x8xf32> to tensor<1x8xf32>
    %sc = tensor.extract_slice %oc[%i, 0, 0] [1, 32, 16] [1, 1, 1] : tensor<2x32x16xf32> to tensor<32x16xf32>
    %sd = tensor.extract_slice %od[%i, 0, 0] [1, 1, 16] [1, 1, 1] : tensor<2x1x16xf32> to tensor<1x16xf32>
    %mc = linalg.matmul ins(%sa, %b : tensor<32x8xf32>, tensor<8x16xf32>) outs(%sc : tensor<32x16xf32>) -> tensor<32x16xf32>
    %md = linalg.matmul ins(%sr, %b : tensor<1x8xf32>, tensor<8x16xf32>) outs(%sd : tensor<1x16xf32>) -> tensor<1x16xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %mc into %oc[%i, 0, 0] [1, 32, 16] [1, 1, 1] : tensor<32x16xf32> into tensor<2x32x16xf32>
      tensor.parallel_insert_slice %md into %od[%i, 0, 0] [1, 1, 16] [1, 1, 1] : tensor<1x16xf32> into tensor<2x1x16xf32>
    }
  } {mapping = [#gpu.block<linear_dim_0>]}
  %a0 = tensor.extract_slice %a[0, 0, 0] [1, 32, 8] [1, 1, 1] : tensor<2x32x8xf32> to tensor<32x8xf32>
  %e = tensor.empty() : tensor<32x16xf32>
  %outside = linalg.matmul ins(%a0, %b : tensor<32x8xf32>, tensor<8x16xf32>) outs(%e : tensor<32x16xf32>) -> tensor<32x16xf32>
  return %r#0, %r#1, %outside : tensor<2x32x16xf32>, tensor<2x1x16xf32>, tensor<32x16xf32>
}

// With stage-operands, the inputs that a block's warp tiles would read from
// global memory (slices of arguments, arguments, the block's shared outputs)
// are first copied, one element per thread, into tensors of the block's
// own; an input computed in the block (%t, below) is read where it is.

// STAGE-LABEL: func.func @staged
// STAGE:       scf.forall (%{{.+}}) in (2)
// STAGE:         %[[T:.+]] = scf.forall (%{{.+}}, %{{.+}}) in (32, 8)
// STAGE:           linalg.exp
// STAGE:         } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
// STAGE:         %[[EA:.+]] = tensor.empty() : tensor<32x8xf32>
// STAGE:         %[[A:.+]] = scf.forall (%{{.+}}, %{{.+}}) in (32, 8) shared_outs(%{{.+}} = %[[EA]])
// STAGE:           linalg.copy
// STAGE:         } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
// STAGE:         %[[EB:.+]] = tensor.empty() : tensor<8x16xf32>
// STAGE:         %[[B:.+]] = scf.forall (%{{.+}}, %{{.+}}) in (8, 16) shared_outs(%{{.+}} = %[[EB]])
// STAGE:           linalg.copy
// STAGE:         } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
// STAGE:         scf.forall (%{{.+}}, %{{.+}}) in (2, 2)
// STAGE:           tensor.extract_slice %[[A]]
// STAGE:           tensor.extract_slice %[[B]]
// STAGE:           linalg.matmul
// STAGE:         } {mapping = [#gpu.warp<linear_dim_1>, #gpu.warp<linear_dim_0>]}
// STAGE-NOT:     linalg.copy
// STAGE:         scf.forall (%{{.+}}, %{{.+}}) in (2, 2)
// STAGE:           tensor.extract_slice %[[T]]
// STAGE:           tensor.extract_slice %[[B]]
// STAGE:         } {mapping = [#gpu.warp<linear_dim_1>, #gpu.warp<linear_dim_0>]}
// STAGE:       } {mapping = [#gpu.block<linear_dim_0>]}
func.func @staged(%a: tensor<2x32x8xf32>, %b: tensor<8x16xf32>, %c: tensor<2x32x16xf32>)
    -> tensor<2x32x16xf32> {
  %r = scf.forall (%i) in (2) shared_outs(%oc = %c) -> (tensor<2x32x16xf32>) {
    %sa = tensor.extract_slice %a[%i, 0, 0] [1, 32, 8] [1, 1, 1] : tensor<2x32x8xf32> to tensor<32x8xf32>
    %sc = tensor.extract_slice %oc[%i, 0, 0] [1, 32, 16] [1, 1, 1] : tensor<2x32x16xf32> to tensor<32x16xf32>
    %e = tensor.empty() : tensor<32x8xf32>
    %t = linalg.exp ins(%sa : tensor<32x8xf32>) outs(%e : tensor<32x8xf32>) -> tensor<32x8xf32>
    %m = linalg.matmul ins(%sa, %b : tensor<32x8xf32>, tensor<8x16xf32>) outs(%sc : tensor<32x16xf32>) -> tensor<32x16xf32>
    %n = linalg.matmul ins(%t, %b : tensor<32x8xf32>, tensor<8x16xf32>) outs(%m : tensor<32x16xf32>) -> tensor<32x16xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %n into %oc[%i, 0, 0] [1, 32, 16] [1, 1, 1] : tensor<32x16xf32> into tensor<2x32x16xf32>
    }
  } {mapping = [#gpu.block<linear_dim_0>]}
  return %r : tensor<2x32x16xf32>
}

// A fill that a contraction accumulates into is fused into its warp tiles:
// each warp fills its own 16 x 8 tile, then runs it. Where something else
// reads the fill too (@twice), that reader keeps the fill outside, on the
// threads like any op.

// CHECK-LABEL: func.func @filled
// CHECK:       scf.forall (%{{.+}}) in (2)
// CHECK-NOT:     linalg.fill
// CHECK:         %[[E:.+]] = tensor.empty() : tensor<32x16xf32>
// CHECK:         scf.forall (%{{.+}}, %{{.+}}) in (2, 2) shared_outs(%[[O:.+]] = %[[E]])
// CHECK:           %[[T:.+]] = tensor.extract_slice %[[O]]
// CHECK:           %[[F:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%[[T]] : tensor<16x8xf32>)
// CHECK:           linalg.matmul {{.*}} outs(%[[F]] : tensor<16x8xf32>)
// CHECK:         } {mapping = [#gpu.warp<linear_dim_1>, #gpu.warp<linear_dim_0>]}
// CHECK:       } {mapping = [#gpu.block<linear_dim_0>]}
func.func @filled(%a: tensor<2x32x8xf32>, %b: tensor<8x16xf32>, %c: tensor<2x32x16xf32>)
    -> tensor<2x32x16xf32> {
  %zero = arith.constant 0.0 : f32
  %r = scf.forall (%i) in (2) shared_outs(%oc = %c) -> (tensor<2x32x16xf32>) {
    %sa = tensor.extract_slice %a[%i, 0, 0] [1, 32, 8] [1, 1, 1] : tensor<2x32x8xf32> to tensor<32x8xf32>
    %e = tensor.empty() : tensor<32x16xf32>
    %f = linalg.fill ins(%zero : f32) outs(%e : tensor<32x16xf32>) -> tensor<32x16xf32>
    %m = linalg.matmul ins(%sa, %b : tensor<32x8xf32>, tensor<8x16xf32>) outs(%f : tensor<32x16xf32>) -> tensor<32x16xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %m into %oc[%i, 0, 0] [1, 32, 16] [1, 1, 1] : tensor<32x16xf32> into tensor<2x32x16xf32>
    }
  } {mapping = [#gpu.block<linear_dim_0>]}
  return %r : tensor<2x32x16xf32>
}

// CHECK-LABEL: func.func @twice
// CHECK:         %[[F:.+]] = scf.forall (%{{.+}}, %{{.+}}) in (32, 16)
// CHECK:           linalg.fill
// CHECK:         } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
// CHECK:         scf.forall (%{{.+}}, %{{.+}}) in (2, 2)
// CHECK:           linalg.fill
// CHECK:           linalg.matmul
// CHECK:         } {mapping = [#gpu.warp<linear_dim_1>, #gpu.warp<linear_dim_0>]}
// CHECK:         scf.forall (%{{.+}}, %{{.+}}) in (32, 16)
// CHECK:           linalg.add ins(%{{.+}}, %{{.+}} : tensor<1x1xf32>, tensor<1x1xf32>)
func.func @twice(%a: tensor<32x8xf32>, %b: tensor<8x16xf32>, %c: tensor<1x32x16xf32>)
    -> tensor<1x32x16xf32> {
  %zero = arith.constant 0.0 : f32
  %r = scf.forall (%i) in (1) shared_outs(%oc = %c) -> (tensor<1x32x16xf32>) {
    %e = tensor.empty() : tensor<32x16xf32>
    %f = linalg.fill ins(%zero : f32) outs(%e : tensor<32x16xf32>) -> tensor<32x16xf32>
    %m = linalg.matmul ins(%a, %b : tensor<32x8xf32>, tensor<8x16xf32>) outs(%f : tensor<32x16xf32>) -> tensor<32x16xf32>
    %e2 = tensor.empty() : tensor<32x16xf32>
    %x = linalg.add ins(%m, %f : tensor<32x16xf32>, tensor<32x16xf32>) outs(%e2 : tensor<32x16xf32>) -> tensor<32x16xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %x into %oc[%i, 0, 0] [1, 32, 16] [1, 1, 1] : tensor<32x16xf32> into tensor<1x32x16xf32>
    }
  } {mapping = [#gpu.block<linear_dim_0>]}
  return %r : tensor<1x32x16xf32>
}

// An elementwise update of the accumulator (the state pass's decay d · S
// before K_cᵀ U accumulates onto it) that the contraction alone
// reads is fused into its warp tiles as a fill is: each warp updates its
// own 16 x 8 tile, then runs it, with no phase of the threads between.
// Where something else reads it (@update_twice), it stays outside.
// CHECK-LABEL: func.func @updated
// CHECK-SAME:    (%{{.+}}: tensor<32x8xf32>, %{{.+}}: tensor<8x16xf32>, %{{.+}}: tensor<32x16xf32>, %[[D:.+]]: f32)
// CHECK:         scf.forall (%{{.+}}) in (1) shared_outs(%[[S:.+]] = %{{.+}})
// CHECK-NOT:     #gpu.thread
// CHECK:         scf.forall (%{{.+}}, %{{.+}}) in (2, 2) shared_outs(%[[O:.+]] = %[[S]])
// CHECK:           %[[T:.+]] = tensor.extract_slice %[[O]]
// CHECK:           %[[U:.+]] = linalg.generic {{.*}} outs(%[[T]] : tensor<16x8xf32>)
// CHECK:             arith.mulf %[[D]]
// CHECK:           linalg.matmul {{.*}} outs(%[[U]] : tensor<16x8xf32>)
// CHECK:         } {mapping = [#gpu.warp<linear_dim_1>, #gpu.warp<linear_dim_0>]}
func.func @updated(%a: tensor<32x8xf32>, %b: tensor<8x16xf32>, %s: tensor<32x16xf32>, %d: f32)
    -> tensor<32x16xf32> {
  %r = scf.forall (%i) in (1) shared_outs(%o = %s) -> (tensor<32x16xf32>) {
    %u = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>],
                         iterator_types = ["parallel", "parallel"]} outs(%o : tensor<32x16xf32>) {
    ^bb0(%x: f32):
      %y = arith.mulf %d, %x : f32
      linalg.yield %y : f32
    } -> tensor<32x16xf32>
    %m = linalg.matmul ins(%a, %b : tensor<32x8xf32>, tensor<8x16xf32>) outs(%u : tensor<32x16xf32>) -> tensor<32x16xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %m into %o[0, 0] [32, 16] [1, 1] : tensor<32x16xf32> into tensor<32x16xf32>
    }
  } {mapping = [#gpu.block<linear_dim_0>]}
  return %r : tensor<32x16xf32>
}

// So is one that writes the accumulator from another tile of the block
// (U₀ widened from bf16 before (−W) S accumulates onto it): each warp
// widens its own part of the input, a slice of it in the tile.
// CHECK-LABEL: func.func @widened
// CHECK:         %[[X:.+]] = scf.forall {{.*}} -> (tensor<32x16xbf16>)
// CHECK:           linalg.copy
// CHECK:         } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
// CHECK-NOT:     #gpu.thread
// CHECK:         scf.forall (%{{.+}}, %{{.+}}) in (2, 2) shared_outs
// CHECK:           %[[XT:.+]] = tensor.extract_slice %[[X]]
// CHECK:           %[[U:.+]] = linalg.generic {{.*}} ins(%[[XT]] : tensor<16x8xbf16>) outs(%{{.+}} : tensor<16x8xf32>)
// CHECK:             arith.extf
// CHECK:           linalg.matmul {{.*}} outs(%[[U]] : tensor<16x8xf32>)
// CHECK:         } {mapping = [#gpu.warp<linear_dim_1>, #gpu.warp<linear_dim_0>]}
func.func @widened(%a: tensor<32x8xf32>, %b: tensor<8x16xf32>, %x: tensor<32x16xbf16>,
                   %s: tensor<32x16xf32>) -> tensor<32x16xf32> {
  %r = scf.forall (%i) in (1) shared_outs(%o = %s) -> (tensor<32x16xf32>) {
    %e16 = tensor.empty() : tensor<32x16xbf16>
    %c = linalg.copy ins(%x : tensor<32x16xbf16>) outs(%e16 : tensor<32x16xbf16>) -> tensor<32x16xbf16>
    %e = tensor.empty() : tensor<32x16xf32>
    %u = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                         iterator_types = ["parallel", "parallel"]}
        ins(%c : tensor<32x16xbf16>) outs(%e : tensor<32x16xf32>) {
    ^bb0(%v: bf16, %w: f32):
      %y = arith.extf %v : bf16 to f32
      linalg.yield %y : f32
    } -> tensor<32x16xf32>
    %m = linalg.matmul ins(%a, %b : tensor<32x8xf32>, tensor<8x16xf32>) outs(%u : tensor<32x16xf32>) -> tensor<32x16xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %m into %o[0, 0] [32, 16] [1, 1] : tensor<32x16xf32> into tensor<32x16xf32>
    }
  } {mapping = [#gpu.block<linear_dim_0>]}
  return %r : tensor<32x16xf32>
}

// An elementwise map of the result (rounding the product to the bf16 it is
// stored in) that the block reads again (here an operand of a second
// product) is fused into the warp tiles after the contraction: each warp
// rounds its own tile, a second result of the tiles, with no phase of the
// threads after them; its empty moves before them. The product itself,
// which nothing else reads, is kept in registers: its tensor becomes a
// private allocation.
// Without result-maps the map is the threads' phase after the tiles.
// NOMAP-LABEL: func.func @mapped
// NOMAP:         scf.forall (%{{.+}}, %{{.+}}) in (2, 2) shared_outs(%{{.+}} = %{{.+}}) -> (tensor<32x16xf32>)
// NOMAP:         } {mapping = [#gpu.warp<linear_dim_1>, #gpu.warp<linear_dim_0>]}
// NOMAP:         arith.truncf
// NOMAP:         } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
// CHECK-LABEL: func.func @mapped
// CHECK:         scf.forall (%{{.+}}) in (1) shared_outs
// CHECK:           %[[E:.+]] = tensor.empty() : tensor<32x16xbf16>
// CHECK-NOT:       #gpu.thread
// CHECK:           %[[P:.+]] = bufferization.alloc_tensor() {memory_space = #gpu.address_space<private>} : tensor<32x16xf32>
// CHECK:           %[[X:.+]]:2 = scf.forall (%{{.+}}, %{{.+}}) in (2, 2) shared_outs(%{{.+}} = %[[P]], %[[R:.+]] = %[[E]])
// CHECK:             %[[M:.+]] = linalg.matmul
// CHECK:             %[[T:.+]] = tensor.extract_slice %[[R]]
// CHECK:             linalg.generic {{.*}} ins(%[[M]] : tensor<16x8xf32>) outs(%[[T]] : tensor<16x8xbf16>)
// CHECK:               arith.truncf
// CHECK:           } {mapping = [#gpu.warp<linear_dim_1>, #gpu.warp<linear_dim_0>]}
// CHECK-NOT:       linalg.generic
// CHECK:           scf.forall (%{{.+}}, %{{.+}}) in (2, 1)
// CHECK:             tensor.extract_slice %[[X]]#1
// CHECK:             linalg.matmul
func.func @mapped(%a: tensor<32x8xf32>, %b: tensor<8x16xf32>, %c: tensor<16x8xbf16>,
                  %out: tensor<1x32x8xf32>) -> tensor<1x32x8xf32> {
  %cst = arith.constant 0.0 : f32
  %r = scf.forall (%i) in (1) shared_outs(%o = %out) -> (tensor<1x32x8xf32>) {
    %e = tensor.empty() : tensor<32x16xf32>
    %f = linalg.fill ins(%cst : f32) outs(%e : tensor<32x16xf32>) -> tensor<32x16xf32>
    %m = linalg.matmul ins(%a, %b : tensor<32x8xf32>, tensor<8x16xf32>) outs(%f : tensor<32x16xf32>) -> tensor<32x16xf32>
    %e16 = tensor.empty() : tensor<32x16xbf16>
    %x = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                         iterator_types = ["parallel", "parallel"]}
        ins(%m : tensor<32x16xf32>) outs(%e16 : tensor<32x16xbf16>) {
    ^bb0(%v: f32, %w: bf16):
      %y = arith.truncf %v : f32 to bf16
      linalg.yield %y : bf16
    } -> tensor<32x16xbf16>
    %e2 = tensor.empty() : tensor<32x8xf32>
    %f2 = linalg.fill ins(%cst : f32) outs(%e2 : tensor<32x8xf32>) -> tensor<32x8xf32>
    %n = linalg.matmul ins(%x, %c : tensor<32x16xbf16>, tensor<16x8xbf16>) outs(%f2 : tensor<32x8xf32>) -> tensor<32x8xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %n into %o[%i, 0, 0] [1, 32, 8] [1, 1, 1] : tensor<32x8xf32> into tensor<1x32x8xf32>
    }
  } {mapping = [#gpu.block<linear_dim_0>]}
  return %r : tensor<1x32x8xf32>
}

// A map whose result the block only records in an output is fused too,
// and a copy of it by the threads right after the tiles takes its place
// in the insert (nats-gpu-results-in-place computes the copy in the
// output): the threads store whole rows where a warp's accumulators would
// store 16 bytes to each of eight, and the mapped tile's buffer dies
// after the copy.
// CHECK-LABEL: func.func @recorded_only
// CHECK:         %[[X:.+]]:2 = scf.forall (%{{.+}}, %{{.+}}) in (2, 2) shared_outs
// CHECK:           arith.truncf
// CHECK:         } {mapping = [#gpu.warp<linear_dim_1>, #gpu.warp<linear_dim_0>]}
// CHECK:         %[[C:.+]] = scf.forall (%{{.+}}, %{{.+}}) in (32, 16)
// CHECK:           tensor.extract_slice %[[X]]#1
// CHECK:           linalg.copy
// CHECK:         } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
// CHECK:         tensor.parallel_insert_slice %[[C]] into
func.func @recorded_only(%a: tensor<32x8xf32>, %b: tensor<8x16xf32>, %out: tensor<1x32x16xbf16>)
    -> tensor<1x32x16xbf16> {
  %cst = arith.constant 0.0 : f32
  %r = scf.forall (%i) in (1) shared_outs(%o = %out) -> (tensor<1x32x16xbf16>) {
    %e = tensor.empty() : tensor<32x16xf32>
    %f = linalg.fill ins(%cst : f32) outs(%e : tensor<32x16xf32>) -> tensor<32x16xf32>
    %m = linalg.matmul ins(%a, %b : tensor<32x8xf32>, tensor<8x16xf32>) outs(%f : tensor<32x16xf32>) -> tensor<32x16xf32>
    %e16 = tensor.empty() : tensor<32x16xbf16>
    %x = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                         iterator_types = ["parallel", "parallel"]}
        ins(%m : tensor<32x16xf32>) outs(%e16 : tensor<32x16xbf16>) {
    ^bb0(%v: f32, %w: bf16):
      %y = arith.truncf %v : f32 to bf16
      linalg.yield %y : bf16
    } -> tensor<32x16xbf16>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %x into %o[%i, 0, 0] [1, 32, 16] [1, 1, 1] : tensor<32x16xbf16> into tensor<1x32x16xbf16>
    }
  } {mapping = [#gpu.block<linear_dim_0>]}
  return %r : tensor<1x32x16xbf16>
}

// CHECK-LABEL: func.func @update_twice
// CHECK:         scf.forall (%{{.+}}, %{{.+}}) in (32, 16)
// CHECK:           arith.mulf
// CHECK:         } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
// CHECK:         scf.forall (%{{.+}}, %{{.+}}) in (2, 2)
// CHECK-NOT:       linalg.generic
// CHECK:           linalg.matmul
// CHECK:         } {mapping = [#gpu.warp<linear_dim_1>, #gpu.warp<linear_dim_0>]}
func.func @update_twice(%a: tensor<32x8xf32>, %b: tensor<8x16xf32>, %s: tensor<32x16xf32>, %d: f32)
    -> tensor<32x16xf32> {
  %r = scf.forall (%i) in (1) shared_outs(%o = %s) -> (tensor<32x16xf32>) {
    %u = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>],
                         iterator_types = ["parallel", "parallel"]} outs(%o : tensor<32x16xf32>) {
    ^bb0(%x: f32):
      %y = arith.mulf %d, %x : f32
      linalg.yield %y : f32
    } -> tensor<32x16xf32>
    %m = linalg.matmul ins(%a, %b : tensor<32x8xf32>, tensor<8x16xf32>) outs(%u : tensor<32x16xf32>) -> tensor<32x16xf32>
    %e = tensor.empty() : tensor<32x16xf32>
    %x = linalg.add ins(%m, %u : tensor<32x16xf32>, tensor<32x16xf32>) outs(%e : tensor<32x16xf32>) -> tensor<32x16xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %x into %o[0, 0] [32, 16] [1, 1] : tensor<32x16xf32> into tensor<32x16xf32>
    }
  } {mapping = [#gpu.block<linear_dim_0>]}
  return %r : tensor<32x16xf32>
}

// kernel-warp-tiles: the contractions of the block whose location names
// the kernel gated_delta_state_pass take 16 x 8 warp tiles (four of its
// 32 x 16 output), another block's warp-tile-m x warp-tile-n (one).
// NAMED-LABEL: func.func @named
// NAMED:         scf.forall (%{{.+}}, %{{.+}}) in (2, 2)
// NAMED:           linalg.matmul {{.*}} -> tensor<16x8xf32>
// NAMED:         } {mapping = [#gpu.warp<linear_dim_1>, #gpu.warp<linear_dim_0>]}
// NAMED:       } {mapping = [#gpu.block<linear_dim_0>]}
// NAMED:         scf.forall (%{{.+}}, %{{.+}}) in (1, 1)
// NAMED:           linalg.matmul {{.*}} -> tensor<32x16xf32>
// NAMED:       } {mapping = [#gpu.block<linear_dim_0>]}
func.func @named(%a: tensor<2x32x8xf32>, %b: tensor<8x16xf32>, %c: tensor<2x32x16xf32>)
    -> (tensor<2x32x16xf32>, tensor<2x32x16xf32>) {
  %r = scf.forall (%i) in (2) shared_outs(%oc = %c) -> (tensor<2x32x16xf32>) {
    %sa = tensor.extract_slice %a[%i, 0, 0] [1, 32, 8] [1, 1, 1] : tensor<2x32x8xf32> to tensor<32x8xf32>
    %sc = tensor.extract_slice %oc[%i, 0, 0] [1, 32, 16] [1, 1, 1] : tensor<2x32x16xf32> to tensor<32x16xf32>
    %m = linalg.matmul ins(%sa, %b : tensor<32x8xf32>, tensor<8x16xf32>) outs(%sc : tensor<32x16xf32>) -> tensor<32x16xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %m into %oc[%i, 0, 0] [1, 32, 16] [1, 1, 1] : tensor<32x16xf32> into tensor<2x32x16xf32>
    }
  } {mapping = [#gpu.block<linear_dim_0>]} loc("gated_delta_state_pass")
  %s = scf.forall (%i) in (2) shared_outs(%oc = %c) -> (tensor<2x32x16xf32>) {
    %sa = tensor.extract_slice %a[%i, 0, 0] [1, 32, 8] [1, 1, 1] : tensor<2x32x8xf32> to tensor<32x8xf32>
    %sc = tensor.extract_slice %oc[%i, 0, 0] [1, 32, 16] [1, 1, 1] : tensor<2x32x16xf32> to tensor<32x16xf32>
    %m = linalg.matmul ins(%sa, %b : tensor<32x8xf32>, tensor<8x16xf32>) outs(%sc : tensor<32x16xf32>) -> tensor<32x16xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %m into %oc[%i, 0, 0] [1, 32, 16] [1, 1, 1] : tensor<32x16xf32> into tensor<2x32x16xf32>
    }
  } {mapping = [#gpu.block<linear_dim_0>]} loc("gated_delta_outputs")
  return %r, %s : tensor<2x32x16xf32>, tensor<2x32x16xf32>
}
