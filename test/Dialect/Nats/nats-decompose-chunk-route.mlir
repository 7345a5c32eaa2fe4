// RUN: nats-opt %s --nats-decompose-chunk-route --split-input-file \
// RUN:   --verify-diagnostics | FileCheck %s --implicit-check-not=nats.

// A partial last chunk is zero-padded; f16 accumulates in f32.
// CHECK-DAG: #[[ID4:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[BND:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-DAG: #[[W:.+]] = affine_map<(d0, d1, d2, d3) -> (d3, d2)>
// CHECK-DAG: #[[BNJ:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-DAG: #[[SOFTMAX:.+]] = affine_map<(d0, d1, d2) -> (d0, d1, d2 * 2)>
// CHECK-DAG: #[[LINEAR:.+]] = affine_map<(d0, d1, d2) -> (d0, d1, d2 * 2 + 1)>
// CHECK-LABEL: func.func @partial_chunk
// CHECK-SAME: (%[[X:.+]]: tensor<2x10x8xf16>, %[[W_ARG:.+]]: tensor<8x6xf16>)
// CHECK: %[[PAD:.+]] = tensor.pad %[[X]] low[0, 0, 0] high[0, 2, 0]
// CHECK: } : tensor<2x10x8xf16> to tensor<2x12x8xf16>
// CHECK: %[[CHUNKED:.+]] = tensor.expand_shape %[[PAD]] {{\[}}[0], [1, 2], [3]] output_shape [2, 3, 4, 8]
// CHECK: %[[SUMS:.+]] = linalg.generic {indexing_maps = [#[[ID4]], #[[BND]]], iterator_types = ["parallel", "parallel", "reduction", "parallel"]}
// CHECK-SAME: ins(%[[CHUNKED]] : tensor<2x3x4x8xf16>) outs(%{{.+}} : tensor<2x3x8xf32>)
// CHECK: arith.extf
// CHECK: %[[LOGITS:.+]] = linalg.generic {indexing_maps = [#[[BND]], #[[W]], #[[BNJ]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
// CHECK-SAME: ins(%[[SUMS]], %[[W_ARG]] : tensor<2x3x8xf32>, tensor<8x6xf16>)
// CHECK: %[[ROUTE:.+]] = linalg.generic {indexing_maps = [#[[SOFTMAX]], #[[LINEAR]], #{{.+}}]
// CHECK-SAME: ins(%[[LOGITS]], %[[LOGITS]] : tensor<2x3x6xf32>, tensor<2x3x6xf32>) outs(%{{.+}} : tensor<2x3x3xi1>)
// CHECK: arith.cmpf oge
// CHECK: return %[[ROUTE]] : tensor<2x3x3xi1>
func.func @partial_chunk(%x: tensor<2x10x8xf16>, %w: tensor<8x6xf16>) -> tensor<2x3x3xi1> {
  %r = nats.chunk_route %x, %w {chunk_size = 4 : i64}
      : tensor<2x10x8xf16>, tensor<8x6xf16> -> tensor<2x3x3xi1>
  return %r : tensor<2x3x3xi1>
}

// -----

// Whole chunks need no padding; dynamic B, D and R come from tensor.dim.
// CHECK-LABEL: func.func @dynamic_dims
// CHECK-NOT: tensor.pad
// CHECK: %[[LOGITS_DIM:.+]] = tensor.dim %{{.+}}, %c1 : tensor<?x?xf32>
// CHECK: tensor.expand_shape %{{.+}} {{\[}}[0], [1, 2], [3]] output_shape [%{{.+}}, 2, 4, %{{.+}}] : tensor<?x8x?xf32> into tensor<?x2x4x?xf32>
// CHECK: %[[HEADS:.+]] = arith.divui %[[LOGITS_DIM]], %c2 : index
// CHECK: tensor.empty(%{{.+}}, %[[HEADS]]) : tensor<?x2x?xi1>
func.func @dynamic_dims(%x: tensor<?x8x?xf32>, %w: tensor<?x?xf32>) -> tensor<?x2x?xi1> {
  %r = nats.chunk_route %x, %w {chunk_size = 4 : i64}
      : tensor<?x8x?xf32>, tensor<?x?xf32> -> tensor<?x2x?xi1>
  return %r : tensor<?x2x?xi1>
}

// -----

func.func @dynamic_tokens(%x: tensor<1x?x8xf32>, %w: tensor<8x2xf32>) -> tensor<1x?x1xi1> {
  // expected-error @+1 {{'nats.chunk_route' op could not be decomposed: the token dim of 'x' must be static}}
  %r = nats.chunk_route %x, %w {chunk_size = 4 : i64}
      : tensor<1x?x8xf32>, tensor<8x2xf32> -> tensor<1x?x1xi1>
  return %r : tensor<1x?x1xi1>
}
