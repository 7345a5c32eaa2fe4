// RUN: nats-opt %s --pass-pipeline='builtin.module(func.func(nats-gpu-distribute{mma graph-matmuls}))' \
// RUN:   --split-input-file --verify-diagnostics | FileCheck %s
// RUN: nats-opt %s --pass-pipeline='builtin.module(func.func(nats-gpu-distribute{mma}))' \
// RUN:   --split-input-file --verify-diagnostics | FileCheck %s --check-prefix=GRID
// RUN: nats-opt %s --pass-pipeline='builtin.module(func.func(nats-gpu-distribute{mma graph-matmuls}))' \
// RUN:   --split-input-file --mlir-print-debuginfo | FileCheck %s --check-prefix=NAME
// NAME: loc("graph_matmul"

// With graph-matmuls, a projection of the graph (bf16 operands, f32
// result, every size a multiple of 64) becomes one block per 64 x 64 output
// tile (named graph_matmul), walking k by 64 with the tile carried in place;
// each step converts its operand tiles to f32 (thread foralls) and
// multiplies them with an f32 matmul on warp tiles (tensor cores).
// Without it: one output element per thread.

// CHECK-LABEL: func.func @projection
// CHECK:         scf.forall (%[[I:.+]], %[[J:.+]]) in (2, 3) shared_outs(%[[OUT:.+]] = %{{.+}})
// CHECK:           %[[TILE:.+]] = tensor.extract_slice %[[OUT]]{{.*}} [64, 64] [1, 1]
// CHECK:           scf.for %{{.+}} = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%[[ACC:.+]] = %[[TILE]]) -> (tensor<64x64xf32>)
// CHECK:             scf.forall (%{{.+}}, %{{.+}}) in (64, 64)
// CHECK:               arith.extf %{{.+}} : bf16 to f32
// CHECK:             } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
// CHECK:             scf.forall (%{{.+}}, %{{.+}}) in (64, 64)
// CHECK:               arith.extf %{{.+}} : bf16 to f32
// CHECK:             } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
// CHECK:             scf.forall (%{{.+}}, %{{.+}}) in (4, 8)
// CHECK:               linalg.matmul ins(%{{.+}}, %{{.+}} : tensor<16x64xf32>, tensor<64x8xf32>) outs(%{{.+}} : tensor<16x8xf32>)
// CHECK:             } {mapping = [#gpu.warp<linear_dim_1>, #gpu.warp<linear_dim_0>]}
// CHECK:         } {mapping = [#gpu.block<linear_dim_1>, #gpu.block<linear_dim_0>]}
// GRID-LABEL:  func.func @projection
// GRID:        scf.forall (%{{.+}}, %{{.+}}) in (128, 192)
// GRID:          linalg.matmul ins(%{{.+}}, %{{.+}} : tensor<1x128xbf16>, tensor<128x1xbf16>)
// GRID:        } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
func.func @projection(%x: tensor<128x128xbf16>, %w: tensor<128x192xbf16>) -> tensor<128x192xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<128x192xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<128x192xf32>) -> tensor<128x192xf32>
  %y = linalg.matmul ins(%x, %w : tensor<128x128xbf16>, tensor<128x192xbf16>)
      outs(%acc : tensor<128x192xf32>) -> tensor<128x192xf32>
  return %y : tensor<128x192xf32>
}

// -----

// A matmul with a size that is not a multiple of 64 (n = 6: a gate's
// projection) stays a grid of one element per thread.

// CHECK-LABEL: func.func @narrow
// CHECK-NOT:     #gpu.block
// CHECK:         } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
func.func @narrow(%x: tensor<128x128xbf16>, %w: tensor<128x6xbf16>, %acc: tensor<128x6xf32>) -> tensor<128x6xf32> {
  %y = linalg.matmul ins(%x, %w : tensor<128x128xbf16>, tensor<128x6xbf16>)
      outs(%acc : tensor<128x6xf32>) -> tensor<128x6xf32>
  return %y : tensor<128x6xf32>
}
