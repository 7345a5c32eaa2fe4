// Every verifier rule of the nats ops (spec §3.1 for nats.hybrid_attention
// and its two branch ops), each with the diagnostic it gives.
// RUN: nats-opt %s -split-input-file -verify-diagnostics

// chunk size zero
func.func @chunk_size_zero(%q: tensor<1x8x2x4xf32>, %k: tensor<1x8x2x4xf32>, %v: tensor<1x8x2x4xf32>, %g: tensor<1x8x2xf32>, %beta: tensor<1x8x2xf32>, %qs: tensor<1x8x2x4xf32>, %ks: tensor<1x8x2x4xf32>, %vs: tensor<1x8x2x4xf32>, %route: tensor<1x1x2xi1>) {
  // expected-error @+1 {{'nats.hybrid_attention' op 'chunk_size' must be at least 1, but is 0}}
  %o:3 = "nats.hybrid_attention"(%q, %k, %v, %g, %beta, %qs, %ks, %vs, %route) {chunk_size = 0 : i64}
      : (tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2xf32>, tensor<1x8x2xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x1x2xi1>)
      -> (tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x2x4x4xf32>)
  return
}

// -----

// negative window
func.func @negative_window(%q: tensor<1x8x2x4xf32>, %k: tensor<1x8x2x4xf32>, %v: tensor<1x8x2x4xf32>, %g: tensor<1x8x2xf32>, %beta: tensor<1x8x2xf32>, %qs: tensor<1x8x2x4xf32>, %ks: tensor<1x8x2x4xf32>, %vs: tensor<1x8x2x4xf32>, %route: tensor<1x1x2xi1>) {
  // expected-error @+1 {{'window' must be non-negative, but is -3}}
  %o:3 = "nats.hybrid_attention"(%q, %k, %v, %g, %beta, %qs, %ks, %vs, %route) {window = -3 : i64}
      : (tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2xf32>, tensor<1x8x2xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x1x2xi1>)
      -> (tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x2x4x4xf32>)
  return
}

// -----

// scale not f32
func.func @scale_not_f32(%q: tensor<1x8x2x4xf32>, %k: tensor<1x8x2x4xf32>, %v: tensor<1x8x2x4xf32>, %g: tensor<1x8x2xf32>, %beta: tensor<1x8x2xf32>, %qs: tensor<1x8x2x4xf32>, %ks: tensor<1x8x2x4xf32>, %vs: tensor<1x8x2x4xf32>, %route: tensor<1x1x2xi1>) {
  // expected-error @+1 {{attribute 'scale' failed to satisfy constraint: 32-bit float attribute}}
  %o:3 = "nats.hybrid_attention"(%q, %k, %v, %g, %beta, %qs, %ks, %vs, %route) {scale = 0.5 : f64}
      : (tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2xf32>, tensor<1x8x2xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x1x2xi1>)
      -> (tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x2x4x4xf32>)
  return
}

// -----

// q not a tensor
func.func @q_not_a_tensor(%q: memref<1x8x2x4xf32>, %k: tensor<1x8x2x4xf32>, %v: tensor<1x8x2x4xf32>, %g: tensor<1x8x2xf32>, %beta: tensor<1x8x2xf32>, %qs: tensor<1x8x2x4xf32>, %ks: tensor<1x8x2x4xf32>, %vs: tensor<1x8x2x4xf32>, %route: tensor<1x1x2xi1>) {
  // expected-error @+1 {{'q' must be a ranked tensor of rank 4 (BxTxHxK), but got 'memref<1x8x2x4xf32>'}}
  %o:3 = "nats.hybrid_attention"(%q, %k, %v, %g, %beta, %qs, %ks, %vs, %route)
      : (memref<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2xf32>, tensor<1x8x2xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x1x2xi1>)
      -> (tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x2x4x4xf32>)
  return
}

// -----

// q unranked
func.func @q_unranked(%q: tensor<*xf32>, %k: tensor<1x8x2x4xf32>, %v: tensor<1x8x2x4xf32>, %g: tensor<1x8x2xf32>, %beta: tensor<1x8x2xf32>, %qs: tensor<1x8x2x4xf32>, %ks: tensor<1x8x2x4xf32>, %vs: tensor<1x8x2x4xf32>, %route: tensor<1x1x2xi1>) {
  // expected-error @+1 {{'q' must be a ranked tensor of rank 4 (BxTxHxK), but got 'tensor<*xf32>'}}
  %o:3 = "nats.hybrid_attention"(%q, %k, %v, %g, %beta, %qs, %ks, %vs, %route)
      : (tensor<*xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2xf32>, tensor<1x8x2xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x1x2xi1>)
      -> (tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x2x4x4xf32>)
  return
}

// -----

// k wrong rank
func.func @k_wrong_rank(%q: tensor<1x8x2x4xf32>, %k: tensor<1x8x8xf32>, %v: tensor<1x8x2x4xf32>, %g: tensor<1x8x2xf32>, %beta: tensor<1x8x2xf32>, %qs: tensor<1x8x2x4xf32>, %ks: tensor<1x8x2x4xf32>, %vs: tensor<1x8x2x4xf32>, %route: tensor<1x1x2xi1>) {
  // expected-error @+1 {{'k' must be a ranked tensor of rank 4 (BxTxHxK), but got 'tensor<1x8x8xf32>'}}
  %o:3 = "nats.hybrid_attention"(%q, %k, %v, %g, %beta, %qs, %ks, %vs, %route)
      : (tensor<1x8x2x4xf32>, tensor<1x8x8xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2xf32>, tensor<1x8x2xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x1x2xi1>)
      -> (tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x2x4x4xf32>)
  return
}

// -----

// g wrong rank
func.func @g_wrong_rank(%q: tensor<1x8x2x4xf32>, %k: tensor<1x8x2x4xf32>, %v: tensor<1x8x2x4xf32>, %g: tensor<1x8x2x1xf32>, %beta: tensor<1x8x2xf32>, %qs: tensor<1x8x2x4xf32>, %ks: tensor<1x8x2x4xf32>, %vs: tensor<1x8x2x4xf32>, %route: tensor<1x1x2xi1>) {
  // expected-error @+1 {{'g' must be a ranked tensor of rank 3 (BxTxH), but got 'tensor<1x8x2x1xf32>'}}
  %o:3 = "nats.hybrid_attention"(%q, %k, %v, %g, %beta, %qs, %ks, %vs, %route)
      : (tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x1xf32>, tensor<1x8x2xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x1x2xi1>)
      -> (tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x2x4x4xf32>)
  return
}

// -----

// k key dim
func.func @k_key_dim(%q: tensor<1x8x2x4xf32>, %k: tensor<1x8x2x8xf32>, %v: tensor<1x8x2x4xf32>, %g: tensor<1x8x2xf32>, %beta: tensor<1x8x2xf32>, %qs: tensor<1x8x2x4xf32>, %ks: tensor<1x8x2x4xf32>, %vs: tensor<1x8x2x4xf32>, %route: tensor<1x1x2xi1>) {
  // expected-error @+1 {{dim 3 (K) of 'k' is 8, but 'q' has K = 4}}
  %o:3 = "nats.hybrid_attention"(%q, %k, %v, %g, %beta, %qs, %ks, %vs, %route)
      : (tensor<1x8x2x4xf32>, tensor<1x8x2x8xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2xf32>, tensor<1x8x2xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x1x2xi1>)
      -> (tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x2x4x4xf32>)
  return
}

// -----

// v batch
func.func @v_batch(%q: tensor<1x8x2x4xf32>, %k: tensor<1x8x2x4xf32>, %v: tensor<2x8x2x4xf32>, %g: tensor<1x8x2xf32>, %beta: tensor<1x8x2xf32>, %qs: tensor<1x8x2x4xf32>, %ks: tensor<1x8x2x4xf32>, %vs: tensor<1x8x2x4xf32>, %route: tensor<1x1x2xi1>) {
  // expected-error @+1 {{dim 0 (B) of 'v' is 2, but 'q' has B = 1}}
  %o:3 = "nats.hybrid_attention"(%q, %k, %v, %g, %beta, %qs, %ks, %vs, %route)
      : (tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<2x8x2x4xf32>, tensor<1x8x2xf32>, tensor<1x8x2xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x1x2xi1>)
      -> (tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x2x4x4xf32>)
  return
}

// -----

// beta tokens
func.func @beta_tokens(%q: tensor<1x8x2x4xf32>, %k: tensor<1x8x2x4xf32>, %v: tensor<1x8x2x4xf32>, %g: tensor<1x8x2xf32>, %beta: tensor<1x9x2xf32>, %qs: tensor<1x8x2x4xf32>, %ks: tensor<1x8x2x4xf32>, %vs: tensor<1x8x2x4xf32>, %route: tensor<1x1x2xi1>) {
  // expected-error @+1 {{dim 1 (T) of 'beta' is 9, but 'q' has T = 8}}
  %o:3 = "nats.hybrid_attention"(%q, %k, %v, %g, %beta, %qs, %ks, %vs, %route)
      : (tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2xf32>, tensor<1x9x2xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x1x2xi1>)
      -> (tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x2x4x4xf32>)
  return
}

// -----

// g heads
func.func @g_heads(%q: tensor<1x8x2x4xf32>, %k: tensor<1x8x2x4xf32>, %v: tensor<1x8x2x4xf32>, %g: tensor<1x8x3xf32>, %beta: tensor<1x8x2xf32>, %qs: tensor<1x8x2x4xf32>, %ks: tensor<1x8x2x4xf32>, %vs: tensor<1x8x2x4xf32>, %route: tensor<1x1x2xi1>) {
  // expected-error @+1 {{dim 2 (H) of 'g' is 3, but 'q' has H = 2}}
  %o:3 = "nats.hybrid_attention"(%q, %k, %v, %g, %beta, %qs, %ks, %vs, %route)
      : (tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x3xf32>, tensor<1x8x2xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x1x2xi1>)
      -> (tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x2x4x4xf32>)
  return
}

// -----

// ks key dim
func.func @ks_key_dim(%q: tensor<1x8x2x4xf32>, %k: tensor<1x8x2x4xf32>, %v: tensor<1x8x2x4xf32>, %g: tensor<1x8x2xf32>, %beta: tensor<1x8x2xf32>, %qs: tensor<1x8x2x4xf32>, %ks: tensor<1x8x2x2xf32>, %vs: tensor<1x8x2x4xf32>, %route: tensor<1x1x2xi1>) {
  // expected-error @+1 {{dim 3 (Ks) of 'ks' is 2, but 'qs' has Ks = 4}}
  %o:3 = "nats.hybrid_attention"(%q, %k, %v, %g, %beta, %qs, %ks, %vs, %route)
      : (tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2xf32>, tensor<1x8x2xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x2xf32>, tensor<1x8x2x4xf32>, tensor<1x1x2xi1>)
      -> (tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x2x4x4xf32>)
  return
}

// -----

// q integer
func.func @q_integer(%q: tensor<1x8x2x4xi32>, %k: tensor<1x8x2x4xf32>, %v: tensor<1x8x2x4xf32>, %g: tensor<1x8x2xf32>, %beta: tensor<1x8x2xf32>, %qs: tensor<1x8x2x4xf32>, %ks: tensor<1x8x2x4xf32>, %vs: tensor<1x8x2x4xf32>, %route: tensor<1x1x2xi1>) {
  // expected-error @+1 {{'q' must have element type f32, f16 or bf16, but has 'i32'}}
  %o:3 = "nats.hybrid_attention"(%q, %k, %v, %g, %beta, %qs, %ks, %vs, %route)
      : (tensor<1x8x2x4xi32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2xf32>, tensor<1x8x2xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x1x2xi1>)
      -> (tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x2x4x4xf32>)
  return
}

// -----

// mixed element types
func.func @mixed_element_types(%q: tensor<1x8x2x4xf32>, %k: tensor<1x8x2x4xf32>, %v: tensor<1x8x2x4xf32>, %g: tensor<1x8x2xf32>, %beta: tensor<1x8x2xf32>, %qs: tensor<1x8x2x4xf32>, %ks: tensor<1x8x2x4xf16>, %vs: tensor<1x8x2x4xf32>, %route: tensor<1x1x2xi1>) {
  // expected-error @+1 {{'ks' has element type 'f16', but 'q' has 'f32': the float operands must share one type}}
  %o:3 = "nats.hybrid_attention"(%q, %k, %v, %g, %beta, %qs, %ks, %vs, %route)
      : (tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2xf32>, tensor<1x8x2xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf16>, tensor<1x8x2x4xf32>, tensor<1x1x2xi1>)
      -> (tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x2x4x4xf32>)
  return
}

// -----

// route rank
func.func @route_rank(%q: tensor<1x8x2x4xf32>, %k: tensor<1x8x2x4xf32>, %v: tensor<1x8x2x4xf32>, %g: tensor<1x8x2xf32>, %beta: tensor<1x8x2xf32>, %qs: tensor<1x8x2x4xf32>, %ks: tensor<1x8x2x4xf32>, %vs: tensor<1x8x2x4xf32>, %route: tensor<1x2xi1>) {
  // expected-error @+1 {{'route' must be a ranked tensor of rank 3 (BxNxR), but got 'tensor<1x2xi1>'}}
  %o:3 = "nats.hybrid_attention"(%q, %k, %v, %g, %beta, %qs, %ks, %vs, %route)
      : (tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2xf32>, tensor<1x8x2xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x2xi1>)
      -> (tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x2x4x4xf32>)
  return
}

// -----

// route not i1
func.func @route_not_i1(%q: tensor<1x8x2x4xf32>, %k: tensor<1x8x2x4xf32>, %v: tensor<1x8x2x4xf32>, %g: tensor<1x8x2xf32>, %beta: tensor<1x8x2xf32>, %qs: tensor<1x8x2x4xf32>, %ks: tensor<1x8x2x4xf32>, %vs: tensor<1x8x2x4xf32>, %route: tensor<1x1x2xi8>) {
  // expected-error @+1 {{'route' must have element type i1, but has 'i8'}}
  %o:3 = "nats.hybrid_attention"(%q, %k, %v, %g, %beta, %qs, %ks, %vs, %route)
      : (tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2xf32>, tensor<1x8x2xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x1x2xi8>)
      -> (tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x2x4x4xf32>)
  return
}

// -----

// route batch
func.func @route_batch(%q: tensor<1x8x2x4xf32>, %k: tensor<1x8x2x4xf32>, %v: tensor<1x8x2x4xf32>, %g: tensor<1x8x2xf32>, %beta: tensor<1x8x2xf32>, %qs: tensor<1x8x2x4xf32>, %ks: tensor<1x8x2x4xf32>, %vs: tensor<1x8x2x4xf32>, %route: tensor<3x1x2xi1>) {
  // expected-error @+1 {{dim 0 (B) of 'route' is 3, but 'q' has B = 1}}
  %o:3 = "nats.hybrid_attention"(%q, %k, %v, %g, %beta, %qs, %ks, %vs, %route)
      : (tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2xf32>, tensor<1x8x2xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<3x1x2xi1>)
      -> (tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x2x4x4xf32>)
  return
}

// -----

// route chunks
func.func @route_chunks(%q: tensor<1x8x2x4xf32>, %k: tensor<1x8x2x4xf32>, %v: tensor<1x8x2x4xf32>, %g: tensor<1x8x2xf32>, %beta: tensor<1x8x2xf32>, %qs: tensor<1x8x2x4xf32>, %ks: tensor<1x8x2x4xf32>, %vs: tensor<1x8x2x4xf32>, %route: tensor<1x3x2xi1>) {
  // expected-error @+1 {{dim 1 (N) of 'route' is 3, but T = 8 and chunk_size = 4 need N = ceil(T / chunk_size) = 2}}
  %o:3 = "nats.hybrid_attention"(%q, %k, %v, %g, %beta, %qs, %ks, %vs, %route) {chunk_size = 4 : i64}
      : (tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2xf32>, tensor<1x8x2xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x3x2xi1>)
      -> (tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x2x4x4xf32>)
  return
}

// -----

// route chunks default
func.func @route_chunks_default(%q: tensor<1x8x2x4xf32>, %k: tensor<1x8x2x4xf32>, %v: tensor<1x8x2x4xf32>, %g: tensor<1x8x2xf32>, %beta: tensor<1x8x2xf32>, %qs: tensor<1x8x2x4xf32>, %ks: tensor<1x8x2x4xf32>, %vs: tensor<1x8x2x4xf32>, %route: tensor<1x2x2xi1>) {
  // expected-error @+1 {{dim 1 (N) of 'route' is 2, but T = 8 and chunk_size = 64 need N = ceil(T / chunk_size) = 1}}
  %o:3 = "nats.hybrid_attention"(%q, %k, %v, %g, %beta, %qs, %ks, %vs, %route)
      : (tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2xf32>, tensor<1x8x2xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x2x2xi1>)
      -> (tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x2x4x4xf32>)
  return
}

// -----

// no router heads
func.func @no_router_heads(%q: tensor<1x8x2x4xf32>, %k: tensor<1x8x2x4xf32>, %v: tensor<1x8x2x4xf32>, %g: tensor<1x8x2xf32>, %beta: tensor<1x8x2xf32>, %qs: tensor<1x8x2x4xf32>, %ks: tensor<1x8x2x4xf32>, %vs: tensor<1x8x2x4xf32>, %route: tensor<1x1x0xi1>) {
  // expected-error @+1 {{'route' must have at least one router head}}
  %o:3 = "nats.hybrid_attention"(%q, %k, %v, %g, %beta, %qs, %ks, %vs, %route)
      : (tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2xf32>, tensor<1x8x2xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x1x0xi1>)
      -> (tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x2x4x4xf32>)
  return
}

// -----

// H not multiple of R
func.func @H_not_multiple_of_R(%q: tensor<1x8x2x4xf32>, %k: tensor<1x8x2x4xf32>, %v: tensor<1x8x2x4xf32>, %g: tensor<1x8x2xf32>, %beta: tensor<1x8x2xf32>, %qs: tensor<1x8x2x4xf32>, %ks: tensor<1x8x2x4xf32>, %vs: tensor<1x8x2x4xf32>, %route: tensor<1x1x4xi1>) {
  // expected-error @+1 {{H = 2 (from 'q') must be a multiple of the R = 4 router heads of 'route'}}
  %o:3 = "nats.hybrid_attention"(%q, %k, %v, %g, %beta, %qs, %ks, %vs, %route)
      : (tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2xf32>, tensor<1x8x2xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x1x4xi1>)
      -> (tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x2x4x4xf32>)
  return
}

// -----

// Hs not multiple of R
func.func @Hs_not_multiple_of_R(%q: tensor<1x8x2x4xf32>, %k: tensor<1x8x2x4xf32>, %v: tensor<1x8x2x4xf32>, %g: tensor<1x8x2xf32>, %beta: tensor<1x8x2xf32>, %qs: tensor<1x8x3x4xf32>, %ks: tensor<1x8x3x4xf32>, %vs: tensor<1x8x3x4xf32>, %route: tensor<1x1x2xi1>) {
  // expected-error @+1 {{Hs = 3 (from 'qs') must be a multiple of the R = 2 router heads of 'route'}}
  %o:3 = "nats.hybrid_attention"(%q, %k, %v, %g, %beta, %qs, %ks, %vs, %route)
      : (tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2xf32>, tensor<1x8x2xf32>, tensor<1x8x3x4xf32>, tensor<1x8x3x4xf32>, tensor<1x8x3x4xf32>, tensor<1x1x2xi1>)
      -> (tensor<1x8x2x4xf32>, tensor<1x8x3x4xf32>, tensor<1x2x4x4xf32>)
  return
}

// -----

// initial state type
func.func @initial_state_type(%q: tensor<1x8x2x4xf32>, %k: tensor<1x8x2x4xf32>, %v: tensor<1x8x2x4xf32>, %g: tensor<1x8x2xf32>, %beta: tensor<1x8x2xf32>, %qs: tensor<1x8x2x4xf32>, %ks: tensor<1x8x2x4xf32>, %vs: tensor<1x8x2x4xf32>, %route: tensor<1x1x2xi1>, %initial_state: tensor<1x2x4x4xf16>) {
  // expected-error @+1 {{'initial_state' must have element type 'f32' (the state), but has 'f16'}}
  %o:3 = "nats.hybrid_attention"(%q, %k, %v, %g, %beta, %qs, %ks, %vs, %route, %initial_state)
      : (tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2xf32>, tensor<1x8x2xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x1x2xi1>, tensor<1x2x4x4xf16>)
      -> (tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x2x4x4xf32>)
  return
}

// -----

// initial state value dim
func.func @initial_state_value_dim(%q: tensor<1x8x2x4xf32>, %k: tensor<1x8x2x4xf32>, %v: tensor<1x8x2x4xf32>, %g: tensor<1x8x2xf32>, %beta: tensor<1x8x2xf32>, %qs: tensor<1x8x2x4xf32>, %ks: tensor<1x8x2x4xf32>, %vs: tensor<1x8x2x4xf32>, %route: tensor<1x1x2xi1>, %initial_state: tensor<1x2x4x8xf32>) {
  // expected-error @+1 {{dim 3 (V) of 'initial_state' is 8, but 'v' has V = 4}}
  %o:3 = "nats.hybrid_attention"(%q, %k, %v, %g, %beta, %qs, %ks, %vs, %route, %initial_state)
      : (tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2xf32>, tensor<1x8x2xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x1x2xi1>, tensor<1x2x4x8xf32>)
      -> (tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x2x4x4xf32>)
  return
}

// -----

// o element type
func.func @o_element_type(%q: tensor<1x8x2x4xf32>, %k: tensor<1x8x2x4xf32>, %v: tensor<1x8x2x4xf32>, %g: tensor<1x8x2xf32>, %beta: tensor<1x8x2xf32>, %qs: tensor<1x8x2x4xf32>, %ks: tensor<1x8x2x4xf32>, %vs: tensor<1x8x2x4xf32>, %route: tensor<1x1x2xi1>) {
  // expected-error @+1 {{'o' must have element type 'f32' (that of the inputs), but has 'bf16'}}
  %o:3 = "nats.hybrid_attention"(%q, %k, %v, %g, %beta, %qs, %ks, %vs, %route)
      : (tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2xf32>, tensor<1x8x2xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x1x2xi1>)
      -> (tensor<1x8x2x4xbf16>, tensor<1x8x2x4xf32>, tensor<1x2x4x4xf32>)
  return
}

// -----

// os value dim
func.func @os_value_dim(%q: tensor<1x8x2x4xf32>, %k: tensor<1x8x2x4xf32>, %v: tensor<1x8x2x4xf32>, %g: tensor<1x8x2xf32>, %beta: tensor<1x8x2xf32>, %qs: tensor<1x8x2x4xf32>, %ks: tensor<1x8x2x4xf32>, %vs: tensor<1x8x2x4xf32>, %route: tensor<1x1x2xi1>) {
  // expected-error @+1 {{dim 3 (Vs) of 'os' is 8, but 'vs' has Vs = 4}}
  %o:3 = "nats.hybrid_attention"(%q, %k, %v, %g, %beta, %qs, %ks, %vs, %route)
      : (tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2xf32>, tensor<1x8x2xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x1x2xi1>)
      -> (tensor<1x8x2x4xf32>, tensor<1x8x2x8xf32>, tensor<1x2x4x4xf32>)
  return
}

// -----

// final state type
func.func @final_state_type(%q: tensor<1x8x2x4xf32>, %k: tensor<1x8x2x4xf32>, %v: tensor<1x8x2x4xf32>, %g: tensor<1x8x2xf32>, %beta: tensor<1x8x2xf32>, %qs: tensor<1x8x2x4xf32>, %ks: tensor<1x8x2x4xf32>, %vs: tensor<1x8x2x4xf32>, %route: tensor<1x1x2xi1>) {
  // expected-error @+1 {{'final_state' must have element type 'f32' (the state), but has 'f16'}}
  %o:3 = "nats.hybrid_attention"(%q, %k, %v, %g, %beta, %qs, %ks, %vs, %route)
      : (tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2xf32>, tensor<1x8x2xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x1x2xi1>)
      -> (tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x2x4x4xf16>)
  return
}

// -----

// final state rank
func.func @final_state_rank(%q: tensor<1x8x2x4xf32>, %k: tensor<1x8x2x4xf32>, %v: tensor<1x8x2x4xf32>, %g: tensor<1x8x2xf32>, %beta: tensor<1x8x2xf32>, %qs: tensor<1x8x2x4xf32>, %ks: tensor<1x8x2x4xf32>, %vs: tensor<1x8x2x4xf32>, %route: tensor<1x1x2xi1>) {
  // expected-error @+1 {{'final_state' must be a ranked tensor of rank 4 (BxHxKxV), but got 'tensor<2x4x4xf32>'}}
  %o:3 = "nats.hybrid_attention"(%q, %k, %v, %g, %beta, %qs, %ks, %vs, %route)
      : (tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2xf32>, tensor<1x8x2xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x1x2xi1>)
      -> (tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<2x4x4xf32>)
  return
}

// -----

// route chunk size zero
func.func @route_chunk_size_zero(%x: tensor<1x10x8xf32>, %w: tensor<8x4xf32>) {
  // expected-error @+1 {{'nats.chunk_route' op 'chunk_size' must be at least 1, but is 0}}
  %r = "nats.chunk_route"(%x, %w) {chunk_size = 0 : i64} : (tensor<1x10x8xf32>, tensor<8x4xf32>) -> tensor<1x3x2xi1>
  return
}

// -----

// route x rank
func.func @route_x_rank(%x: tensor<10x8xf32>, %w: tensor<8x4xf32>) {
  // expected-error @+1 {{'x' must be a ranked tensor of rank 3 (BxTxD), but got 'tensor<10x8xf32>'}}
  %r = "nats.chunk_route"(%x, %w) {chunk_size = 4 : i64} : (tensor<10x8xf32>, tensor<8x4xf32>) -> tensor<1x3x2xi1>
  return
}

// -----

// route x integer
func.func @route_x_integer(%x: tensor<1x10x8xi32>, %w: tensor<8x4xi32>) {
  // expected-error @+1 {{'x' must have element type f32, f16 or bf16, but has 'i32'}}
  %r = "nats.chunk_route"(%x, %w) {chunk_size = 4 : i64} : (tensor<1x10x8xi32>, tensor<8x4xi32>) -> tensor<1x3x2xi1>
  return
}

// -----

// route weight rank
func.func @route_weight_rank(%x: tensor<1x10x8xf32>, %w: tensor<8xf32>) {
  // expected-error @+1 {{'weight' must be a ranked tensor of rank 2 (Dx2R), but got 'tensor<8xf32>'}}
  %r = "nats.chunk_route"(%x, %w) {chunk_size = 4 : i64} : (tensor<1x10x8xf32>, tensor<8xf32>) -> tensor<1x3x2xi1>
  return
}

// -----

// route weight model dim
func.func @route_weight_model_dim(%x: tensor<1x10x8xf32>, %w: tensor<6x4xf32>) {
  // expected-error @+1 {{dim 0 (D) of 'weight' is 6, but 'x' has D = 8}}
  %r = "nats.chunk_route"(%x, %w) {chunk_size = 4 : i64} : (tensor<1x10x8xf32>, tensor<6x4xf32>) -> tensor<1x3x2xi1>
  return
}

// -----

// route weight element type
func.func @route_weight_element_type(%x: tensor<1x10x8xf32>, %w: tensor<8x4xf16>) {
  // expected-error @+1 {{'weight' has element type 'f16', but 'x' has 'f32'}}
  %r = "nats.chunk_route"(%x, %w) {chunk_size = 4 : i64} : (tensor<1x10x8xf32>, tensor<8x4xf16>) -> tensor<1x3x2xi1>
  return
}

// -----

// route odd logits
func.func @route_odd_logits(%x: tensor<1x10x8xf32>, %w: tensor<8x5xf32>) {
  // expected-error @+1 {{dim 1 of 'weight' is 5, but must be even: two logits (softmax, linear) per router head}}
  %r = "nats.chunk_route"(%x, %w) {chunk_size = 4 : i64} : (tensor<1x10x8xf32>, tensor<8x5xf32>) -> tensor<1x3x2xi1>
  return
}

// -----

// route result rank
func.func @route_result_rank(%x: tensor<1x10x8xf32>, %w: tensor<8x4xf32>) {
  // expected-error @+1 {{'route' must be a ranked tensor of rank 3 (BxNxR), but got 'tensor<3x2xi1>'}}
  %r = "nats.chunk_route"(%x, %w) {chunk_size = 4 : i64} : (tensor<1x10x8xf32>, tensor<8x4xf32>) -> tensor<3x2xi1>
  return
}

// -----

// route result type
func.func @route_result_type(%x: tensor<1x10x8xf32>, %w: tensor<8x4xf32>) {
  // expected-error @+1 {{'route' must have element type i1, but has 'i32'}}
  %r = "nats.chunk_route"(%x, %w) {chunk_size = 4 : i64} : (tensor<1x10x8xf32>, tensor<8x4xf32>) -> tensor<1x3x2xi32>
  return
}

// -----

// route heads
func.func @route_heads(%x: tensor<1x10x8xf32>, %w: tensor<8x4xf32>) {
  // expected-error @+1 {{dim 2 (R) of 'route' is 3, but 'weight' has 4 logits, so R = 2}}
  %r = "nats.chunk_route"(%x, %w) {chunk_size = 4 : i64} : (tensor<1x10x8xf32>, tensor<8x4xf32>) -> tensor<1x3x3xi1>
  return
}

// -----

// route result chunks
func.func @route_result_chunks(%x: tensor<1x10x8xf32>, %w: tensor<8x4xf32>) {
  // expected-error @+1 {{dim 1 (N) of 'route' is 1, but T = 10 and chunk_size = 4 need N = ceil(T / chunk_size) = 3}}
  %r = "nats.chunk_route"(%x, %w) {chunk_size = 4 : i64} : (tensor<1x10x8xf32>, tensor<8x4xf32>) -> tensor<1x1x2xi1>
  return
}

// -----

// route result batch
func.func @route_result_batch(%x: tensor<1x10x8xf32>, %w: tensor<8x4xf32>) {
  // expected-error @+1 {{dim 0 (B) of 'route' is 2, but 'x' has B = 1}}
  %r = "nats.chunk_route"(%x, %w) {chunk_size = 4 : i64} : (tensor<1x10x8xf32>, tensor<8x4xf32>) -> tensor<2x3x2xi1>
  return
}

// -----

// gated delta without scale
func.func @gated_delta_without_scale(%q: tensor<1x8x2x4xf32>, %g: tensor<1x8x2xf32>, %route: tensor<1x2x2xi1>) {
  // expected-error @+1 {{'nats.gated_delta' op requires attribute 'scale'}}
  %o:2 = "nats.gated_delta"(%q, %q, %q, %g, %g, %route) {chunk_size = 4 : i64}
      : (tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2xf32>, tensor<1x8x2xf32>, tensor<1x2x2xi1>)
      -> (tensor<1x8x2x4xf32>, tensor<1x2x4x4xf32>)
  return
}

// -----

// gated delta chunk size
func.func @gated_delta_chunk_size(%q: tensor<1x8x2x4xf32>, %g: tensor<1x8x2xf32>, %route: tensor<1x2x2xi1>) {
  // expected-error @+1 {{'nats.gated_delta' op 'chunk_size' must be at least 1, but is 0}}
  %o:2 = "nats.gated_delta"(%q, %q, %q, %g, %g, %route) {chunk_size = 0 : i64, scale = 0.5 : f32}
      : (tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2xf32>, tensor<1x8x2xf32>, tensor<1x2x2xi1>)
      -> (tensor<1x8x2x4xf32>, tensor<1x2x4x4xf32>)
  return
}

// -----

// gated delta route chunks
func.func @gated_delta_route_chunks(%q: tensor<1x8x2x4xf32>, %g: tensor<1x8x2xf32>, %route: tensor<1x3x2xi1>) {
  // expected-error @+1 {{dim 1 (N) of 'route' is 3, but T = 8 and chunk_size = 4 need N = ceil(T / chunk_size) = 2}}
  %o:2 = "nats.gated_delta"(%q, %q, %q, %g, %g, %route) {chunk_size = 4 : i64, scale = 0.5 : f32}
      : (tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2xf32>, tensor<1x8x2xf32>, tensor<1x3x2xi1>)
      -> (tensor<1x8x2x4xf32>, tensor<1x2x4x4xf32>)
  return
}

// -----

// gated delta heads
func.func @gated_delta_heads(%q: tensor<1x8x2x4xf32>, %g: tensor<1x8x2xf32>, %route: tensor<1x2x4xi1>) {
  // expected-error @+1 {{H = 2 (from 'q') must be a multiple of the R = 4 router heads of 'route'}}
  %o:2 = "nats.gated_delta"(%q, %q, %q, %g, %g, %route) {chunk_size = 4 : i64, scale = 0.5 : f32}
      : (tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2xf32>, tensor<1x8x2xf32>, tensor<1x2x4xi1>)
      -> (tensor<1x8x2x4xf32>, tensor<1x2x4x4xf32>)
  return
}

// -----

// gated delta output type
func.func @gated_delta_output_type(%q: tensor<1x8x2x4xf32>, %g: tensor<1x8x2xf32>, %route: tensor<1x2x2xi1>) {
  // expected-error @+1 {{'o' must have element type 'f32' (that of the inputs), but has 'f16'}}
  %o:2 = "nats.gated_delta"(%q, %q, %q, %g, %g, %route) {chunk_size = 4 : i64, scale = 0.5 : f32}
      : (tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2xf32>, tensor<1x8x2xf32>, tensor<1x2x2xi1>)
      -> (tensor<1x8x2x4xf16>, tensor<1x2x4x4xf32>)
  return
}

// -----

// gated delta state dims
func.func @gated_delta_state_dims(%q: tensor<1x8x2x4xf32>, %g: tensor<1x8x2xf32>, %route: tensor<1x2x2xi1>) {
  // expected-error @+1 {{dim 2 (K) of 'final_state' is 8, but 'q' has K = 4}}
  %o:2 = "nats.gated_delta"(%q, %q, %q, %g, %g, %route) {chunk_size = 4 : i64, scale = 0.5 : f32}
      : (tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2xf32>, tensor<1x8x2xf32>, tensor<1x2x2xi1>)
      -> (tensor<1x8x2x4xf32>, tensor<1x2x8x4xf32>)
  return
}

// -----

// routed softmax without scale
func.func @routed_softmax_without_scale(%qs: tensor<1x8x2x4xf32>, %ks: tensor<1x8x2x4xf32>, %route: tensor<1x2x2xi1>) {
  // expected-error @+1 {{'nats.routed_softmax' op requires attribute 'scale'}}
  %os = "nats.routed_softmax"(%qs, %ks, %qs, %route) {chunk_size = 4 : i64}
      : (tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x2x2xi1>) -> tensor<1x8x2x4xf32>
  return
}

// -----

// routed softmax window
func.func @routed_softmax_window(%qs: tensor<1x8x2x4xf32>, %ks: tensor<1x8x2x4xf32>, %route: tensor<1x2x2xi1>) {
  // expected-error @+1 {{'nats.routed_softmax' op 'window' must be non-negative, but is -1}}
  %os = "nats.routed_softmax"(%qs, %ks, %qs, %route) {window = -1 : i64, scale = 0.5 : f32}
      : (tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x2x2xi1>) -> tensor<1x8x2x4xf32>
  return
}

// -----

// routed softmax mixed types
func.func @routed_softmax_mixed_types(%qs: tensor<1x8x2x4xf32>, %ks: tensor<1x8x2x4xbf16>, %route: tensor<1x2x2xi1>) {
  // expected-error @+1 {{'ks' has element type 'bf16', but 'qs' has 'f32': the float operands must share one type}}
  %os = "nats.routed_softmax"(%qs, %ks, %qs, %route) {chunk_size = 4 : i64, scale = 0.5 : f32}
      : (tensor<1x8x2x4xf32>, tensor<1x8x2x4xbf16>, tensor<1x8x2x4xf32>, tensor<1x2x2xi1>) -> tensor<1x8x2x4xf32>
  return
}

// -----

// routed softmax heads
func.func @routed_softmax_heads(%qs: tensor<1x8x2x4xf32>, %ks: tensor<1x8x2x4xf32>, %route: tensor<1x2x4xi1>) {
  // expected-error @+1 {{Hs = 2 (from 'qs') must be a multiple of the R = 4 router heads of 'route'}}
  %os = "nats.routed_softmax"(%qs, %ks, %qs, %route) {chunk_size = 4 : i64, scale = 0.5 : f32}
      : (tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x2x4xi1>) -> tensor<1x8x2x4xf32>
  return
}

// -----

// routed softmax route type
func.func @routed_softmax_route_type(%qs: tensor<1x8x2x4xf32>, %ks: tensor<1x8x2x4xf32>, %route: tensor<1x2x2xi32>) {
  // expected-error @+1 {{'route' must have element type i1, but has 'i32'}}
  %os = "nats.routed_softmax"(%qs, %ks, %qs, %route) {chunk_size = 4 : i64, scale = 0.5 : f32}
      : (tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x2x2xi32>) -> tensor<1x8x2x4xf32>
  return
}
