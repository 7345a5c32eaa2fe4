// RUN: nats-opt %s --nats-tile-hybrid-attention --cse --split-input-file \
// RUN:   --verify-diagnostics | FileCheck %s
// RUN: nats-opt %s --nats-tile-hybrid-attention="tile-sizes=2,0" \
// RUN:   --split-input-file --verify-diagnostics | FileCheck %s --check-prefix=BATCH

// H = 4, Hs = 8, R = 2: a router-head tile owns 2 linear and 4 softmax heads.
// CHECK-DAG: #[[TWO:.+]] = affine_map<(d0) -> (d0 * 2)>
// CHECK-DAG: #[[FOUR:.+]] = affine_map<(d0) -> (d0 * 4)>
// CHECK-LABEL: func.func @tile
// CHECK-SAME: (%[[Q:[^:]+]]: tensor<2x100x4x16xf32>, %[[V:[^:]+]]: tensor<2x100x4x32xf32>, %[[G:[^:]+]]: tensor<2x100x4xf32>, %[[QS:[^:]+]]: tensor<2x100x8x8xf32>, %[[VS:[^:]+]]: tensor<2x100x8x4xf32>, %[[ROUTE:[^:]+]]: tensor<2x2x2xi1>, %[[S0:[^:]+]]: tensor<2x4x16x32xf32>)
// CHECK: scf.forall (%[[B:.+]], %[[R:.+]]) in (2, 2) shared_outs(%[[O:.+]] = %{{.+}}, %[[OS:.+]] = %{{.+}}, %[[S:.+]] = %{{.+}})
// CHECK-DAG: %[[H0:.+]] = affine.apply #[[TWO]](%[[R]])
// CHECK-DAG: %[[HS0:.+]] = affine.apply #[[FOUR]](%[[R]])
// CHECK-DAG: tensor.extract_slice %[[Q]][%[[B]], 0, %[[H0]], 0] [1, 100, 2, 16] [1, 1, 1, 1]
// CHECK-DAG: tensor.extract_slice %[[G]][%[[B]], 0, %[[H0]]] [1, 100, 2] [1, 1, 1]
// CHECK-DAG: tensor.extract_slice %[[QS]][%[[B]], 0, %[[HS0]], 0] [1, 100, 4, 8] [1, 1, 1, 1]
// CHECK-DAG: tensor.extract_slice %[[ROUTE]][%[[B]], 0, %[[R]]] [1, 2, 1] [1, 1, 1]
// CHECK-DAG: tensor.extract_slice %[[S0]][%[[B]], %[[H0]], 0, 0] [1, 2, 16, 32] [1, 1, 1, 1]
// CHECK: nats.hybrid_attention
// CHECK-SAME: -> (tensor<1x100x2x32xf32>, tensor<1x100x4x4xf32>, tensor<1x2x16x32xf32>)
// CHECK: scf.forall.in_parallel
// CHECK-DAG: tensor.parallel_insert_slice %{{.+}} into %[[O]][%[[B]], 0, %[[H0]], 0] [1, 100, 2, 32]
// CHECK-DAG: tensor.parallel_insert_slice %{{.+}} into %[[OS]][%[[B]], 0, %[[HS0]], 0] [1, 100, 4, 4]
// CHECK-DAG: tensor.parallel_insert_slice %{{.+}} into %[[S]][%[[B]], %[[H0]], 0, 0] [1, 2, 16, 32]

// Tiling only the batch, by 2, leaves one tile holding the whole op.
// BATCH-LABEL: func.func @tile
// BATCH: scf.forall (%{{.+}}) = (0) to (2) step (2)
// BATCH: nats.hybrid_attention
// BATCH-SAME: -> (tensor<2x100x4x32xf32>, tensor<2x100x8x4xf32>, tensor<2x4x16x32xf32>)
func.func @tile(%q: tensor<2x100x4x16xf32>, %v: tensor<2x100x4x32xf32>,
                %g: tensor<2x100x4xf32>, %qs: tensor<2x100x8x8xf32>,
                %vs: tensor<2x100x8x4xf32>, %route: tensor<2x2x2xi1>,
                %s0: tensor<2x4x16x32xf32>)
    -> (tensor<2x100x4x32xf32>, tensor<2x100x8x4xf32>, tensor<2x4x16x32xf32>) {
  %o, %os, %s = nats.hybrid_attention linear(%q, %q, %v, %g, %g)
      softmax(%qs, %qs, %vs) route(%route) initial_state(%s0)
      : (tensor<2x100x4x16xf32>, tensor<2x100x4x16xf32>, tensor<2x100x4x32xf32>,
         tensor<2x100x4xf32>, tensor<2x100x4xf32>, tensor<2x100x8x8xf32>,
         tensor<2x100x8x8xf32>, tensor<2x100x8x4xf32>, tensor<2x2x2xi1>,
         tensor<2x4x16x32xf32>)
      -> (tensor<2x100x4x32xf32>, tensor<2x100x8x4xf32>, tensor<2x4x16x32xf32>)
  return %o, %os, %s : tensor<2x100x4x32xf32>, tensor<2x100x8x4xf32>, tensor<2x4x16x32xf32>
}

// -----

// Dynamic head counts cannot be split per router head.
func.func @dynamic_heads(%q: tensor<1x64x?x4xf32>, %g: tensor<1x64x?xf32>,
                         %route: tensor<1x1x2xi1>) -> tensor<1x64x?x4xf32> {
  // expected-error @+1 {{can be tiled over router heads only when H, Hs and R are static}}
  %o, %os, %s = nats.hybrid_attention linear(%q, %q, %q, %g, %g)
      softmax(%q, %q, %q) route(%route)
      : (tensor<1x64x?x4xf32>, tensor<1x64x?x4xf32>, tensor<1x64x?x4xf32>,
         tensor<1x64x?xf32>, tensor<1x64x?xf32>, tensor<1x64x?x4xf32>,
         tensor<1x64x?x4xf32>, tensor<1x64x?x4xf32>, tensor<1x1x2xi1>)
      -> (tensor<1x64x?x4xf32>, tensor<1x64x?x4xf32>, tensor<1x?x4x4xf32>)
  return %o : tensor<1x64x?x4xf32>
}
