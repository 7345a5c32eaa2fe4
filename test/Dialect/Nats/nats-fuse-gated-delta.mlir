// RUN: nats-opt %s --nats-fuse-gated-delta="tile-size=32" --cse --split-input-file \
// RUN:   --verify-diagnostics | FileCheck %s --implicit-check-not=nats.gated_delta

// T = 40 with chunk 16 and tile-size 32: tiles of 32 tokens (two whole
// chunks), tokens padded to 64. One fused region per tile: the l2norms,
// the cumsum of g, K·Kᵀ ⊙ M, the forward substitution, both output terms
// and the routed state update, all on tile-sized tensors.
// CHECK-LABEL: func.func @gated_delta
// CHECK-SAME: (%[[Q:[^:]+]]: tensor<2x40x4x8xbf16>, %[[V:[^:]+]]: tensor<2x40x4x16xbf16>, %[[G:[^:]+]]: tensor<2x40x4xbf16>, %[[ROUTE:[^:]+]]: tensor<2x3x2xi1>, %[[S0:[^:]+]]: tensor<2x4x8x16xf32>)
// CHECK: %[[QP:.+]] = tensor.pad %[[Q]] low[0, 0, 0, 0] high[0, 24, 0, 0]
// CHECK: scf.forall (%[[B:.+]], %[[H:.+]]) in (2, 4) shared_outs(%[[O:.+]] = %{{.+}}, %[[S:.+]] = %{{.+}}) -> (tensor<2x40x4x16xbf16>, tensor<2x4x8x16xf32>)
// CHECK: %[[STATE0:.+]] = tensor.extract_slice %[[S0]][%[[B]], %[[H]], 0, 0] [1, 1, 8, 16] [1, 1, 1, 1] : tensor<2x4x8x16xf32> to tensor<8x16xf32>
// CHECK: %[[TILES:.+]]:2 = scf.for %[[T0:.+]] = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%[[STATE:.+]] = %[[STATE0]], %{{.+}} = %{{.+}}) -> (tensor<8x16xf32>, tensor<64x16xbf16>)
// CHECK: tensor.extract_slice %[[QP]][%[[B]], %[[T0]], %[[H]], 0] [1, 32, 1, 8] [1, 1, 1, 1] : tensor<2x64x4x8xbf16> to tensor<32x8xbf16>
// Route bit of each token's chunk, for this head's router head.
// CHECK: tensor.extract %[[ROUTE]][%[[B]], %{{.+}}, %{{.+}}] : tensor<2x3x2xi1>
// CHECK: math.rsqrt
// K·Kᵀ: a contraction over the key dim.
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[KN:.+]], %[[KN]] : tensor<32x8xf32>, tensor<32x8xf32>) outs(%{{.+}} : tensor<32x32xf32>)
// The unit-lower-triangular solve, one row at a time.
// CHECK: scf.for {{.*}} iter_args(%{{.+}} = %{{.+}}) -> (tensor<32x16xf32>)
// CHECK: scf.yield %{{.+}} : tensor<32x16xf32>
// The state update contracts over the tile's tokens.
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]} ins(%{{.+}}, %{{.+}} : tensor<32x8xf32>, tensor<32x16xf32>) outs(%{{.+}} : tensor<8x16xf32>)
// CHECK: scf.yield %{{.+}}, %{{.+}} : tensor<8x16xf32>, tensor<64x16xbf16>
// CHECK: %[[ROWS:.+]] = tensor.extract_slice %[[TILES]]#1[0, 0] [40, 16] [1, 1]
// CHECK: scf.forall.in_parallel
// CHECK-NEXT: tensor.parallel_insert_slice %[[ROWS]] into %[[O]][%[[B]], 0, %[[H]], 0] [1, 40, 1, 16]
// CHECK-NEXT: tensor.parallel_insert_slice %[[TILES]]#0 into %[[S]][%[[B]], %[[H]], 0, 0] [1, 1, 8, 16]
func.func @gated_delta(%q: tensor<2x40x4x8xbf16>, %v: tensor<2x40x4x16xbf16>,
                       %g: tensor<2x40x4xbf16>, %route: tensor<2x3x2xi1>,
                       %s0: tensor<2x4x8x16xf32>)
    -> (tensor<2x40x4x16xbf16>, tensor<2x4x8x16xf32>) {
  %o, %s = nats.gated_delta(%q, %q, %v, %g, %g) route(%route) initial_state(%s0)
      {chunk_size = 16 : i64, scale = 0.35 : f32}
      : (tensor<2x40x4x8xbf16>, tensor<2x40x4x8xbf16>, tensor<2x40x4x16xbf16>,
         tensor<2x40x4xbf16>, tensor<2x40x4xbf16>, tensor<2x3x2xi1>,
         tensor<2x4x8x16xf32>) -> (tensor<2x40x4x16xbf16>, tensor<2x4x8x16xf32>)
  return %o, %s : tensor<2x40x4x16xbf16>, tensor<2x4x8x16xf32>
}

// -----

func.func @dynamic_tokens(%q: tensor<1x?x1x4xf32>, %g: tensor<1x?x1xf32>,
                          %route: tensor<1x?x1xi1>) -> tensor<1x?x1x4xf32> {
  // expected-error @+1 {{'nats.gated_delta' op could not be lowered: needs static shapes and a positive tile-size}}
  %o, %s = nats.gated_delta(%q, %q, %q, %g, %g) route(%route) {scale = 0.5 : f32}
      : (tensor<1x?x1x4xf32>, tensor<1x?x1x4xf32>, tensor<1x?x1x4xf32>,
         tensor<1x?x1xf32>, tensor<1x?x1xf32>, tensor<1x?x1xi1>)
      -> (tensor<1x?x1x4xf32>, tensor<1x1x4x4xf32>)
  return %o : tensor<1x?x1x4xf32>
}
