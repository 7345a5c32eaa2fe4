// RUN: nats-opt %s --nats-split-branches --split-input-file --verify-diagnostics \
// RUN:   | FileCheck %s --implicit-check-not=nats.hybrid_attention

// The default scales (K^-0.5 = 0.25, Ks^-0.5 = 0.5) become explicit; the
// route feeds both branches.
// CHECK-LABEL: func.func @split
// CHECK-SAME: (%[[Q:[^:]+]]: tensor<1x70x2x16xbf16>, %[[G:[^:]+]]: tensor<1x70x2xbf16>, %[[QS:[^:]+]]: tensor<1x70x4x4xbf16>, %[[ROUTE:[^:]+]]: tensor<1x5x2xi1>, %[[S0:[^:]+]]: tensor<1x2x16x16xf32>)
// CHECK: %[[O:.+]], %[[STATE:.+]] = nats.gated_delta(%[[Q]], %[[Q]], %[[Q]], %[[G]], %[[G]]) route(%[[ROUTE]]) initial_state(%[[S0]])
// CHECK-SAME: {chunk_size = 16 : i64, qk_l2norm = false, scale = 2.500000e-01 : f32}
// CHECK: %[[OS:.+]] = nats.routed_softmax(%[[QS]], %[[QS]], %[[QS]]) route(%[[ROUTE]])
// CHECK-SAME: {chunk_size = 16 : i64, scale = 5.000000e-01 : f32, window = 3 : i64}
// CHECK: return %[[O]], %[[OS]], %[[STATE]]
func.func @split(%q: tensor<1x70x2x16xbf16>, %g: tensor<1x70x2xbf16>,
                 %qs: tensor<1x70x4x4xbf16>, %route: tensor<1x5x2xi1>,
                 %s0: tensor<1x2x16x16xf32>)
    -> (tensor<1x70x2x16xbf16>, tensor<1x70x4x4xbf16>, tensor<1x2x16x16xf32>) {
  %o, %os, %s = nats.hybrid_attention linear(%q, %q, %q, %g, %g)
      softmax(%qs, %qs, %qs) route(%route) initial_state(%s0)
      {chunk_size = 16 : i64, window = 3 : i64, qk_l2norm = false}
      : (tensor<1x70x2x16xbf16>, tensor<1x70x2x16xbf16>, tensor<1x70x2x16xbf16>,
         tensor<1x70x2xbf16>, tensor<1x70x2xbf16>, tensor<1x70x4x4xbf16>,
         tensor<1x70x4x4xbf16>, tensor<1x70x4x4xbf16>, tensor<1x5x2xi1>,
         tensor<1x2x16x16xf32>)
      -> (tensor<1x70x2x16xbf16>, tensor<1x70x4x4xbf16>, tensor<1x2x16x16xf32>)
  return %o, %os, %s : tensor<1x70x2x16xbf16>, tensor<1x70x4x4xbf16>, tensor<1x2x16x16xf32>
}

// -----

// Explicit scales are kept as they are.
// CHECK-LABEL: func.func @explicit_scales
// CHECK: nats.gated_delta{{.*}}scale = 1.000000e+00 : f32
// CHECK: nats.routed_softmax{{.*}}scale = 2.000000e+00 : f32
func.func @explicit_scales(%q: tensor<1x8x1x?xf32>, %g: tensor<1x8x1xf32>,
                           %route: tensor<1x1x1xi1>)
    -> (tensor<1x8x1x?xf32>, tensor<1x8x1x?xf32>) {
  %o, %os, %s = nats.hybrid_attention linear(%q, %q, %q, %g, %g)
      softmax(%q, %q, %q) route(%route) {scale = 1.0 : f32, softmax_scale = 2.0 : f32}
      : (tensor<1x8x1x?xf32>, tensor<1x8x1x?xf32>, tensor<1x8x1x?xf32>,
         tensor<1x8x1xf32>, tensor<1x8x1xf32>, tensor<1x8x1x?xf32>,
         tensor<1x8x1x?xf32>, tensor<1x8x1x?xf32>, tensor<1x1x1xi1>)
      -> (tensor<1x8x1x?xf32>, tensor<1x8x1x?xf32>, tensor<1x1x?x?xf32>)
  return %o, %os : tensor<1x8x1x?xf32>, tensor<1x8x1x?xf32>
}

// -----

// A default scale of a dynamic key dim is unknown.
func.func @dynamic_key_dim(%q: tensor<1x8x1x?xf32>, %g: tensor<1x8x1xf32>,
                           %route: tensor<1x1x1xi1>) -> tensor<1x8x1x?xf32> {
  // expected-error @+1 {{could not be split: without 'scale' and 'softmax_scale' attributes, the key dims of 'q' and 'qs' must be static}}
  %o, %os, %s = nats.hybrid_attention linear(%q, %q, %q, %g, %g)
      softmax(%q, %q, %q) route(%route)
      : (tensor<1x8x1x?xf32>, tensor<1x8x1x?xf32>, tensor<1x8x1x?xf32>,
         tensor<1x8x1xf32>, tensor<1x8x1xf32>, tensor<1x8x1x?xf32>,
         tensor<1x8x1x?xf32>, tensor<1x8x1x?xf32>, tensor<1x1x1xi1>)
      -> (tensor<1x8x1x?xf32>, tensor<1x8x1x?xf32>, tensor<1x1x?x?xf32>)
  return %o : tensor<1x8x1x?xf32>
}
