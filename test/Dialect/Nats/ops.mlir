// Round trip of the custom form, and of the generic form into the custom one.
// RUN: nats-opt %s | nats-opt | FileCheck %s
// RUN: nats-opt %s --mlir-print-op-generic | nats-opt | FileCheck %s
// RUN: nats-opt %s --split-input-file | FileCheck %s --check-prefix=DEFAULTS

// CHECK-LABEL: func.func @hybrid_attention_generic
// CHECK-SAME: (%[[Q:[^:]+]]: tensor<2x130x4x16xf32>, %[[K:[^:]+]]: tensor<2x130x4x16xf32>, %[[V:[^:]+]]: tensor<2x130x4x32xf32>, %[[G:[^:]+]]: tensor<2x130x4xf32>, %[[BETA:[^:]+]]: tensor<2x130x4xf32>, %[[QS:[^:]+]]: tensor<2x130x8x8xf32>, %[[KS:[^:]+]]: tensor<2x130x8x8xf32>, %[[VS:[^:]+]]: tensor<2x130x8x16xf32>, %[[ROUTE:[^:]+]]: tensor<2x3x2xi1>, %[[S0:[^:]+]]: tensor<2x4x16x32xf32>)
// CHECK: %{{.+}}, %{{.+}}, %{{.+}} = nats.hybrid_attention linear(%[[Q]], %[[K]], %[[V]], %[[G]], %[[BETA]]) softmax(%[[QS]], %[[KS]], %[[VS]]) route(%[[ROUTE]]) initial_state(%[[S0]])
// CHECK-SAME: {qk_l2norm = false, scale = 2.500000e-01 : f32, softmax_scale = 5.000000e-01 : f32, window = 8 : i64}
// CHECK-SAME: -> (tensor<2x130x4x32xf32>, tensor<2x130x8x16xf32>, tensor<2x4x16x32xf32>)
func.func @hybrid_attention_generic(
    %q: tensor<2x130x4x16xf32>, %k: tensor<2x130x4x16xf32>, %v: tensor<2x130x4x32xf32>,
    %g: tensor<2x130x4xf32>, %beta: tensor<2x130x4xf32>,
    %qs: tensor<2x130x8x8xf32>, %ks: tensor<2x130x8x8xf32>, %vs: tensor<2x130x8x16xf32>,
    %route: tensor<2x3x2xi1>, %s0: tensor<2x4x16x32xf32>)
    -> (tensor<2x130x4x32xf32>, tensor<2x130x8x16xf32>, tensor<2x4x16x32xf32>) {
  %o, %os, %s = "nats.hybrid_attention"(%q, %k, %v, %g, %beta, %qs, %ks, %vs, %route, %s0)
      {chunk_size = 64 : i64, window = 8 : i64, scale = 0.25 : f32,
       softmax_scale = 0.5 : f32, qk_l2norm = false}
      : (tensor<2x130x4x16xf32>, tensor<2x130x4x16xf32>, tensor<2x130x4x32xf32>,
         tensor<2x130x4xf32>, tensor<2x130x4xf32>, tensor<2x130x8x8xf32>,
         tensor<2x130x8x8xf32>, tensor<2x130x8x16xf32>, tensor<2x3x2xi1>,
         tensor<2x4x16x32xf32>)
      -> (tensor<2x130x4x32xf32>, tensor<2x130x8x16xf32>, tensor<2x4x16x32xf32>)
  return %o, %os, %s : tensor<2x130x4x32xf32>, tensor<2x130x8x16xf32>, tensor<2x4x16x32xf32>
}

// Custom form, token-level routing (chunk_size 1), no initial state, bf16,
// dynamic batch and tokens.
// CHECK-LABEL: func.func @hybrid_attention_custom
// CHECK: nats.hybrid_attention linear(%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}) softmax(%{{.+}}, %{{.+}}, %{{.+}}) route(%{{.+}}) {chunk_size = 1 : i64, window = 16 : i64} :
// CHECK-NOT: initial_state
// CHECK-SAME: -> (tensor<?x?x2x8xbf16>, tensor<?x?x4x4xbf16>, tensor<?x2x8x8xf32>)
func.func @hybrid_attention_custom(
    %q: tensor<?x?x2x8xbf16>, %v: tensor<?x?x2x8xbf16>, %g: tensor<?x?x2xbf16>,
    %qs: tensor<?x?x4x4xbf16>, %route: tensor<?x?x2xi1>)
    -> (tensor<?x?x2x8xbf16>, tensor<?x?x4x4xbf16>, tensor<?x2x8x8xf32>) {
  %o, %os, %s = nats.hybrid_attention linear(%q, %q, %v, %g, %g)
      softmax(%qs, %qs, %qs) route(%route) {chunk_size = 1 : i64, window = 16 : i64}
      : (tensor<?x?x2x8xbf16>, tensor<?x?x2x8xbf16>, tensor<?x?x2x8xbf16>,
         tensor<?x?x2xbf16>, tensor<?x?x2xbf16>, tensor<?x?x4x4xbf16>,
         tensor<?x?x4x4xbf16>, tensor<?x?x4x4xbf16>, tensor<?x?x2xi1>)
      -> (tensor<?x?x2x8xbf16>, tensor<?x?x4x4xbf16>, tensor<?x2x8x8xf32>)
  return %o, %os, %s : tensor<?x?x2x8xbf16>, tensor<?x?x4x4xbf16>, tensor<?x2x8x8xf32>
}

// CHECK-LABEL: func.func @chunk_route
// CHECK: nats.chunk_route %{{.+}}, %{{.+}} {chunk_size = 4 : i64} : tensor<2x10x8xf16>, tensor<8x6xf16> -> tensor<2x3x3xi1>
func.func @chunk_route(%x: tensor<2x10x8xf16>, %w: tensor<8x6xf16>) -> tensor<2x3x3xi1> {
  %r = "nats.chunk_route"(%x, %w) {chunk_size = 4 : i64}
      : (tensor<2x10x8xf16>, tensor<8x6xf16>) -> tensor<2x3x3xi1>
  return %r : tensor<2x3x3xi1>
}

// Attributes at their defaults are not printed.
// DEFAULTS-LABEL: func.func @defaults
// DEFAULTS: nats.hybrid_attention linear({{.*}}) softmax({{.*}}) route({{.*}}) : (
// DEFAULTS: nats.chunk_route %{{.+}}, %{{.+}} : tensor
func.func @defaults(
    %q: tensor<1x64x1x4xf16>, %g: tensor<1x64x1xf16>, %route: tensor<1x1x1xi1>,
    %x: tensor<1x64x4xf16>, %w: tensor<4x2xf16>)
    -> (tensor<1x64x1x4xf16>, tensor<1x1x1xi1>) {
  %o, %os, %s = nats.hybrid_attention linear(%q, %q, %q, %g, %g)
      softmax(%q, %q, %q) route(%route)
      {chunk_size = 64 : i64, window = 0 : i64, qk_l2norm = true}
      : (tensor<1x64x1x4xf16>, tensor<1x64x1x4xf16>, tensor<1x64x1x4xf16>,
         tensor<1x64x1xf16>, tensor<1x64x1xf16>, tensor<1x64x1x4xf16>,
         tensor<1x64x1x4xf16>, tensor<1x64x1x4xf16>, tensor<1x1x1xi1>)
      -> (tensor<1x64x1x4xf16>, tensor<1x64x1x4xf16>, tensor<1x1x4x4xf32>)
  %r = nats.chunk_route %x, %w {chunk_size = 64 : i64}
      : tensor<1x64x4xf16>, tensor<4x2xf16> -> tensor<1x1x1xi1>
  return %o, %r : tensor<1x64x1x4xf16>, tensor<1x1x1xi1>
}

// The branch ops that nats-split-branches produces.
// CHECK-LABEL: func.func @branches
// CHECK: nats.gated_delta(%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}) route(%{{.+}}) initial_state(%{{.+}}) {chunk_size = 16 : i64, qk_l2norm = false, scale = 5.000000e-01 : f32} :
// CHECK: nats.routed_softmax(%{{.+}}, %{{.+}}, %{{.+}}) route(%{{.+}}) {chunk_size = 16 : i64, scale = 2.500000e-01 : f32, window = 4 : i64} :
func.func @branches(%q: tensor<2x32x4x8xf32>, %g: tensor<2x32x4xf32>,
                    %route: tensor<2x2x2xi1>, %s0: tensor<2x4x8x8xf32>)
    -> (tensor<2x32x4x8xf32>, tensor<2x4x8x8xf32>, tensor<2x32x4x8xf32>) {
  %o, %s = "nats.gated_delta"(%q, %q, %q, %g, %g, %route, %s0)
      {chunk_size = 16 : i64, scale = 0.5 : f32, qk_l2norm = false}
      : (tensor<2x32x4x8xf32>, tensor<2x32x4x8xf32>, tensor<2x32x4x8xf32>,
         tensor<2x32x4xf32>, tensor<2x32x4xf32>, tensor<2x2x2xi1>,
         tensor<2x4x8x8xf32>) -> (tensor<2x32x4x8xf32>, tensor<2x4x8x8xf32>)
  %os = nats.routed_softmax(%q, %q, %q) route(%route)
      {chunk_size = 16 : i64, window = 4 : i64, scale = 0.25 : f32}
      : (tensor<2x32x4x8xf32>, tensor<2x32x4x8xf32>, tensor<2x32x4x8xf32>,
         tensor<2x2x2xi1>) -> tensor<2x32x4x8xf32>
  return %o, %s, %os : tensor<2x32x4x8xf32>, tensor<2x4x8x8xf32>, tensor<2x32x4x8xf32>
}
