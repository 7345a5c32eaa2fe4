// nats.hybrid_attention tiles through its TilingInterface with the upstream
// transform dialect, like any structured op.
// RUN: nats-opt %s --transform-interpreter --cse | FileCheck %s

// CHECK-LABEL: func.func @tile_router_heads
// CHECK: scf.forall (%[[B:.+]], %[[R:.+]]) in (1, 4)
// CHECK: tensor.extract_slice %{{.+}}[%[[B]], 0, %[[R]]] [1, 3, 1]
// CHECK: nats.hybrid_attention
// CHECK-SAME: -> (tensor<1x130x1x8xf16>, tensor<1x130x2x8xf16>, tensor<1x1x8x8xf32>)
func.func @tile_router_heads(%q: tensor<1x130x4x8xf16>, %g: tensor<1x130x4xf16>,
                             %qs: tensor<1x130x8x8xf16>, %route: tensor<1x3x4xi1>)
    -> (tensor<1x130x4x8xf16>, tensor<1x130x8x8xf16>, tensor<1x4x8x8xf32>) {
  %o, %os, %s = nats.hybrid_attention linear(%q, %q, %q, %g, %g)
      softmax(%qs, %qs, %qs) route(%route)
      : (tensor<1x130x4x8xf16>, tensor<1x130x4x8xf16>, tensor<1x130x4x8xf16>,
         tensor<1x130x4xf16>, tensor<1x130x4xf16>, tensor<1x130x8x8xf16>,
         tensor<1x130x8x8xf16>, tensor<1x130x8x8xf16>, tensor<1x3x4xi1>)
      -> (tensor<1x130x4x8xf16>, tensor<1x130x8x8xf16>, tensor<1x4x8x8xf32>)
  return %o, %os, %s : tensor<1x130x4x8xf16>, tensor<1x130x8x8xf16>, tensor<1x4x8x8xf32>
}

module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %op = transform.structured.match ops{["nats.hybrid_attention"]} in %root
        : (!transform.any_op) -> !transform.any_op
    %tiled, %loop = transform.structured.tile_using_forall %op tile_sizes [1, 1]
        : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    transform.yield
  }
}
