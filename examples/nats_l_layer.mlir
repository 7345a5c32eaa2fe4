//===- nats_l_layer.mlir - one NAtS-L layer (spec §4) ----------------------===//
//
// One NAtS-L layer, the model graph around the core op (spec §4): upstream
// linalg / tensor / arith / math for the projections, short convolutions,
// gates, norms and the output combine, and the two nats ops for the router
// (`nats.chunk_route`) and the attention itself (`nats.hybrid_attention`).
//
// Sizes (all static): B = 1, T = 1024, D = 512; linear branch H = 4, K = 64,
// V = 128; softmax branch Hs = 8, Ks = 32, Vs = 64 (a re-split of the same
// H·K = 256 / H·V = 512 projected channels); router R = 4; chunk_size C = 64,
// so N = 16 chunks.
//
// Weights, in argument order: wq, wk D×(H·K); wv D×(H·V); conv_q, conv_k
// 4×(H·K); conv_v 4×(H·V); wb, wa D×H; a_log, dt_bias H; qs_norm, ks_norm Ks;
// wr D×(2R); wm (H·K)×(2·Hs); wg D×(H·V); o_norm, os_norm Vs; wo (H·V)×D.
//
// Conventions:
//   1. q, k, v = SiLU(ShortConv4(x·W)). ShortConv4 is the causal depthwise
//      conv of linalg.depthwise_conv_1d_nwc_wc over x padded with 3 zero
//      tokens on the left: y[b,t,c] = Σ_{w=0..3} xpad[b,t+w,c]·conv[w,c]
//      (tap w = 3 is the current token). SiLU(z) = z·sigmoid(z),
//      sigmoid(z) = 1 / (1 + exp(-z)).
//   2. beta = sigmoid(x·wb); g = -exp(a_log)·softplus(x·wa + dt_bias) with the
//      stable softplus(z) = max(z, 0) + log1p(exp(-|z|)).
//   3. qs, ks = RMSNorm over Ks of q, k viewed B×T×Hs×Ks, times qs_norm /
//      ks_norm; vs = v viewed B×T×Hs×Vs. RMSNorm(z) = z / sqrt(mean(z²) + 1e-6).
//   4. route = nats.chunk_route(x, wr): chunk means of x times wr, viewed R×2
//      (column r·2 + j, j = 0 softmax, 1 linear); 1 = kept in softmax memory.
//   5. nats.hybrid_attention with chunk_size 64 and the default window (0),
//      scales (K^-0.5, Ks^-0.5) and qk_l2norm (true).
//   6. Combine per token and softmax head s: w = softmax over j of (q·wm)
//      viewed B×T×Hs×2 (column s·2 + j; q is the linear-branch q after conv
//      and SiLU, before l2norm); gate = SiLU(x·wg) viewed B×T×Hs×Vs;
//      y = gate ⊙ (w_0·RMSNorm(o)·o_norm + w_1·RMSNorm(os)·os_norm) with o
//      viewed B×T×Hs×Vs, eps 1e-6; out = (y viewed (B·T)×(H·V))·wo.
//
// Float64 reference: `nats.reference.layer` in python/nats/reference.py
// (weights from `nats.reference.init_layer_weights`, same names and shapes).
//
//===----------------------------------------------------------------------===//

// Elementwise over B×T×channels, and a per-channel vector broadcast over B×T.
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#chan3 = affine_map<(d0, d1, d2) -> (d2)>
// Over B×T×heads×dim: elementwise; one value per (b, t, head) (the reduced
// last dim: sums of squares, branch weights); a per-dim norm weight.
#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#row4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
#last4 = affine_map<(d0, d1, d2, d3) -> (d3)>
// The two logits of a head's branch mix, from B×T×Hs×2.
#pick0 = affine_map<(d0, d1, d2) -> (d0, d1, d2, 0)>
#pick1 = affine_map<(d0, d1, d2) -> (d0, d1, d2, 1)>

func.func @nats_l_layer(
    %x: tensor<1x1024x512xf32>,
    %wq: tensor<512x256xf32>, %wk: tensor<512x256xf32>, %wv: tensor<512x512xf32>,
    %conv_q: tensor<4x256xf32>, %conv_k: tensor<4x256xf32>, %conv_v: tensor<4x512xf32>,
    %wb: tensor<512x4xf32>, %wa: tensor<512x4xf32>,
    %a_log: tensor<4xf32>, %dt_bias: tensor<4xf32>,
    %qs_norm: tensor<32xf32>, %ks_norm: tensor<32xf32>,
    %wr: tensor<512x8xf32>,
    %wm: tensor<256x16xf32>,
    %wg: tensor<512x512xf32>,
    %o_norm: tensor<64xf32>, %os_norm: tensor<64xf32>,
    %wo: tensor<512x512xf32>) -> tensor<1x1024x512xf32> {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %eps = arith.constant 1.0e-06 : f32
  %ks_dim = arith.constant 32.0 : f32
  %vs_dim = arith.constant 64.0 : f32

  // x as (B·T)×D, the left operand of every projection.
  %x_flat = tensor.collapse_shape %x [[0, 1], [2]]
      : tensor<1x1024x512xf32> into tensor<1024x512xf32>

  //===--------------------------------------------------------------------===//
  // §4.1  q, k, v = SiLU(ShortConv4(x·W))
  //===--------------------------------------------------------------------===//

  // q: projection, causal depthwise conv (3 zero tokens on the left), SiLU.
  %q_acc0 = tensor.empty() : tensor<1024x256xf32>
  %q_acc = linalg.fill ins(%zero : f32) outs(%q_acc0 : tensor<1024x256xf32>) -> tensor<1024x256xf32>
  %q_proj_flat = linalg.matmul ins(%x_flat, %wq : tensor<1024x512xf32>, tensor<512x256xf32>)
      outs(%q_acc : tensor<1024x256xf32>) -> tensor<1024x256xf32>
  %q_proj = tensor.expand_shape %q_proj_flat [[0, 1], [2]] output_shape [1, 1024, 256]
      : tensor<1024x256xf32> into tensor<1x1024x256xf32>
  %q_pad = tensor.pad %q_proj low[0, 3, 0] high[0, 0, 0] {
  ^bb0(%i0: index, %i1: index, %i2: index):
    tensor.yield %zero : f32
  } : tensor<1x1024x256xf32> to tensor<1x1027x256xf32>
  %q_conv_acc0 = tensor.empty() : tensor<1x1024x256xf32>
  %q_conv_acc = linalg.fill ins(%zero : f32) outs(%q_conv_acc0 : tensor<1x1024x256xf32>) -> tensor<1x1024x256xf32>
  %q_conv = linalg.depthwise_conv_1d_nwc_wc
      {dilations = dense<1> : tensor<1xi64>, strides = dense<1> : tensor<1xi64>}
      ins(%q_pad, %conv_q : tensor<1x1027x256xf32>, tensor<4x256xf32>)
      outs(%q_conv_acc : tensor<1x1024x256xf32>) -> tensor<1x1024x256xf32>
  %q_init = tensor.empty() : tensor<1x1024x256xf32>
  %q = linalg.generic {indexing_maps = [#id3, #id3],
                       iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%q_conv : tensor<1x1024x256xf32>) outs(%q_init : tensor<1x1024x256xf32>) {
  ^bb0(%z: f32, %unused: f32):
    %neg = arith.negf %z : f32
    %e = math.exp %neg : f32
    %den = arith.addf %one, %e : f32
    %sig = arith.divf %one, %den : f32
    %silu = arith.mulf %z, %sig : f32
    linalg.yield %silu : f32
  } -> tensor<1x1024x256xf32>

  // k: the same with wk, conv_k.
  %k_acc0 = tensor.empty() : tensor<1024x256xf32>
  %k_acc = linalg.fill ins(%zero : f32) outs(%k_acc0 : tensor<1024x256xf32>) -> tensor<1024x256xf32>
  %k_proj_flat = linalg.matmul ins(%x_flat, %wk : tensor<1024x512xf32>, tensor<512x256xf32>)
      outs(%k_acc : tensor<1024x256xf32>) -> tensor<1024x256xf32>
  %k_proj = tensor.expand_shape %k_proj_flat [[0, 1], [2]] output_shape [1, 1024, 256]
      : tensor<1024x256xf32> into tensor<1x1024x256xf32>
  %k_pad = tensor.pad %k_proj low[0, 3, 0] high[0, 0, 0] {
  ^bb0(%i0: index, %i1: index, %i2: index):
    tensor.yield %zero : f32
  } : tensor<1x1024x256xf32> to tensor<1x1027x256xf32>
  %k_conv_acc0 = tensor.empty() : tensor<1x1024x256xf32>
  %k_conv_acc = linalg.fill ins(%zero : f32) outs(%k_conv_acc0 : tensor<1x1024x256xf32>) -> tensor<1x1024x256xf32>
  %k_conv = linalg.depthwise_conv_1d_nwc_wc
      {dilations = dense<1> : tensor<1xi64>, strides = dense<1> : tensor<1xi64>}
      ins(%k_pad, %conv_k : tensor<1x1027x256xf32>, tensor<4x256xf32>)
      outs(%k_conv_acc : tensor<1x1024x256xf32>) -> tensor<1x1024x256xf32>
  %k_init = tensor.empty() : tensor<1x1024x256xf32>
  %k = linalg.generic {indexing_maps = [#id3, #id3],
                       iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%k_conv : tensor<1x1024x256xf32>) outs(%k_init : tensor<1x1024x256xf32>) {
  ^bb0(%z: f32, %unused: f32):
    %neg = arith.negf %z : f32
    %e = math.exp %neg : f32
    %den = arith.addf %one, %e : f32
    %sig = arith.divf %one, %den : f32
    %silu = arith.mulf %z, %sig : f32
    linalg.yield %silu : f32
  } -> tensor<1x1024x256xf32>

  // v: the same with wv, conv_v (H·V = 512 channels).
  %v_acc0 = tensor.empty() : tensor<1024x512xf32>
  %v_acc = linalg.fill ins(%zero : f32) outs(%v_acc0 : tensor<1024x512xf32>) -> tensor<1024x512xf32>
  %v_proj_flat = linalg.matmul ins(%x_flat, %wv : tensor<1024x512xf32>, tensor<512x512xf32>)
      outs(%v_acc : tensor<1024x512xf32>) -> tensor<1024x512xf32>
  %v_proj = tensor.expand_shape %v_proj_flat [[0, 1], [2]] output_shape [1, 1024, 512]
      : tensor<1024x512xf32> into tensor<1x1024x512xf32>
  %v_pad = tensor.pad %v_proj low[0, 3, 0] high[0, 0, 0] {
  ^bb0(%i0: index, %i1: index, %i2: index):
    tensor.yield %zero : f32
  } : tensor<1x1024x512xf32> to tensor<1x1027x512xf32>
  %v_conv_acc0 = tensor.empty() : tensor<1x1024x512xf32>
  %v_conv_acc = linalg.fill ins(%zero : f32) outs(%v_conv_acc0 : tensor<1x1024x512xf32>) -> tensor<1x1024x512xf32>
  %v_conv = linalg.depthwise_conv_1d_nwc_wc
      {dilations = dense<1> : tensor<1xi64>, strides = dense<1> : tensor<1xi64>}
      ins(%v_pad, %conv_v : tensor<1x1027x512xf32>, tensor<4x512xf32>)
      outs(%v_conv_acc : tensor<1x1024x512xf32>) -> tensor<1x1024x512xf32>
  %v_init = tensor.empty() : tensor<1x1024x512xf32>
  %v = linalg.generic {indexing_maps = [#id3, #id3],
                       iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%v_conv : tensor<1x1024x512xf32>) outs(%v_init : tensor<1x1024x512xf32>) {
  ^bb0(%z: f32, %unused: f32):
    %neg = arith.negf %z : f32
    %e = math.exp %neg : f32
    %den = arith.addf %one, %e : f32
    %sig = arith.divf %one, %den : f32
    %silu = arith.mulf %z, %sig : f32
    linalg.yield %silu : f32
  } -> tensor<1x1024x512xf32>

  //===--------------------------------------------------------------------===//
  // §4.2  Linear branch: beta = sigmoid(x·wb),
  //       g = -exp(a_log)·softplus(x·wa + dt_bias); heads H×K, H×K, H×V
  //===--------------------------------------------------------------------===//

  %b_acc0 = tensor.empty() : tensor<1024x4xf32>
  %b_acc = linalg.fill ins(%zero : f32) outs(%b_acc0 : tensor<1024x4xf32>) -> tensor<1024x4xf32>
  %b_proj_flat = linalg.matmul ins(%x_flat, %wb : tensor<1024x512xf32>, tensor<512x4xf32>)
      outs(%b_acc : tensor<1024x4xf32>) -> tensor<1024x4xf32>
  %b_proj = tensor.expand_shape %b_proj_flat [[0, 1], [2]] output_shape [1, 1024, 4]
      : tensor<1024x4xf32> into tensor<1x1024x4xf32>
  %beta_init = tensor.empty() : tensor<1x1024x4xf32>
  %beta = linalg.generic {indexing_maps = [#id3, #id3],
                          iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%b_proj : tensor<1x1024x4xf32>) outs(%beta_init : tensor<1x1024x4xf32>) {
  ^bb0(%z: f32, %unused: f32):
    %neg = arith.negf %z : f32
    %e = math.exp %neg : f32
    %den = arith.addf %one, %e : f32
    %sig = arith.divf %one, %den : f32
    linalg.yield %sig : f32
  } -> tensor<1x1024x4xf32>

  %a_acc0 = tensor.empty() : tensor<1024x4xf32>
  %a_acc = linalg.fill ins(%zero : f32) outs(%a_acc0 : tensor<1024x4xf32>) -> tensor<1024x4xf32>
  %a_proj_flat = linalg.matmul ins(%x_flat, %wa : tensor<1024x512xf32>, tensor<512x4xf32>)
      outs(%a_acc : tensor<1024x4xf32>) -> tensor<1024x4xf32>
  %a_proj = tensor.expand_shape %a_proj_flat [[0, 1], [2]] output_shape [1, 1024, 4]
      : tensor<1024x4xf32> into tensor<1x1024x4xf32>
  %g_init = tensor.empty() : tensor<1x1024x4xf32>
  %g = linalg.generic {indexing_maps = [#id3, #chan3, #chan3, #id3],
                       iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%a_proj, %a_log, %dt_bias : tensor<1x1024x4xf32>, tensor<4xf32>, tensor<4xf32>)
      outs(%g_init : tensor<1x1024x4xf32>) {
  ^bb0(%a: f32, %alog: f32, %dt: f32, %unused: f32):
    // softplus(z) = max(z, 0) + log1p(exp(-|z|))
    %z = arith.addf %a, %dt : f32
    %zpos = arith.maximumf %z, %zero : f32
    %zabs = math.absf %z : f32
    %nabs = arith.negf %zabs : f32
    %e = math.exp %nabs : f32
    %l = math.log1p %e : f32
    %softplus = arith.addf %zpos, %l : f32
    %rate = math.exp %alog : f32
    %decay = arith.mulf %rate, %softplus : f32
    %gv = arith.negf %decay : f32
    linalg.yield %gv : f32
  } -> tensor<1x1024x4xf32>

  // Linear-branch heads: q, k as B×T×H×K, v as B×T×H×V.
  %q_heads = tensor.expand_shape %q [[0], [1], [2, 3]] output_shape [1, 1024, 4, 64]
      : tensor<1x1024x256xf32> into tensor<1x1024x4x64xf32>
  %k_heads = tensor.expand_shape %k [[0], [1], [2, 3]] output_shape [1, 1024, 4, 64]
      : tensor<1x1024x256xf32> into tensor<1x1024x4x64xf32>
  %v_heads = tensor.expand_shape %v [[0], [1], [2, 3]] output_shape [1, 1024, 4, 128]
      : tensor<1x1024x512xf32> into tensor<1x1024x4x128xf32>

  //===--------------------------------------------------------------------===//
  // §4.3  Softmax branch: the same channels as Hs×Ks, Hs×Ks, Hs×Vs;
  //       qs = RMSNorm(q)·qs_norm, ks = RMSNorm(k)·ks_norm, eps 1e-6
  //===--------------------------------------------------------------------===//

  %q_sheads = tensor.expand_shape %q [[0], [1], [2, 3]] output_shape [1, 1024, 8, 32]
      : tensor<1x1024x256xf32> into tensor<1x1024x8x32xf32>
  %k_sheads = tensor.expand_shape %k [[0], [1], [2, 3]] output_shape [1, 1024, 8, 32]
      : tensor<1x1024x256xf32> into tensor<1x1024x8x32xf32>
  %vs = tensor.expand_shape %v [[0], [1], [2, 3]] output_shape [1, 1024, 8, 64]
      : tensor<1x1024x512xf32> into tensor<1x1024x8x64xf32>

  // qs: sum of squares over Ks, then z / sqrt(mean + eps) · qs_norm.
  %qs_ss0 = tensor.empty() : tensor<1x1024x8xf32>
  %qs_ss_acc = linalg.fill ins(%zero : f32) outs(%qs_ss0 : tensor<1x1024x8xf32>) -> tensor<1x1024x8xf32>
  %qs_sumsq = linalg.generic {indexing_maps = [#id4, #row4],
                              iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%q_sheads : tensor<1x1024x8x32xf32>) outs(%qs_ss_acc : tensor<1x1024x8xf32>) {
  ^bb0(%z: f32, %acc: f32):
    %sq = arith.mulf %z, %z : f32
    %sum = arith.addf %acc, %sq : f32
    linalg.yield %sum : f32
  } -> tensor<1x1024x8xf32>
  %qs_init = tensor.empty() : tensor<1x1024x8x32xf32>
  %qs = linalg.generic {indexing_maps = [#id4, #row4, #last4, #id4],
                        iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%q_sheads, %qs_sumsq, %qs_norm : tensor<1x1024x8x32xf32>, tensor<1x1024x8xf32>, tensor<32xf32>)
      outs(%qs_init : tensor<1x1024x8x32xf32>) {
  ^bb0(%z: f32, %ss: f32, %w: f32, %unused: f32):
    %mean = arith.divf %ss, %ks_dim : f32
    %var = arith.addf %mean, %eps : f32
    %inv = math.rsqrt %var : f32
    %n = arith.mulf %z, %inv : f32
    %r = arith.mulf %n, %w : f32
    linalg.yield %r : f32
  } -> tensor<1x1024x8x32xf32>

  // ks: the same with ks_norm.
  %ks_ss0 = tensor.empty() : tensor<1x1024x8xf32>
  %ks_ss_acc = linalg.fill ins(%zero : f32) outs(%ks_ss0 : tensor<1x1024x8xf32>) -> tensor<1x1024x8xf32>
  %ks_sumsq = linalg.generic {indexing_maps = [#id4, #row4],
                              iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%k_sheads : tensor<1x1024x8x32xf32>) outs(%ks_ss_acc : tensor<1x1024x8xf32>) {
  ^bb0(%z: f32, %acc: f32):
    %sq = arith.mulf %z, %z : f32
    %sum = arith.addf %acc, %sq : f32
    linalg.yield %sum : f32
  } -> tensor<1x1024x8xf32>
  %ks_init = tensor.empty() : tensor<1x1024x8x32xf32>
  %ks = linalg.generic {indexing_maps = [#id4, #row4, #last4, #id4],
                        iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%k_sheads, %ks_sumsq, %ks_norm : tensor<1x1024x8x32xf32>, tensor<1x1024x8xf32>, tensor<32xf32>)
      outs(%ks_init : tensor<1x1024x8x32xf32>) {
  ^bb0(%z: f32, %ss: f32, %w: f32, %unused: f32):
    %mean = arith.divf %ss, %ks_dim : f32
    %var = arith.addf %mean, %eps : f32
    %inv = math.rsqrt %var : f32
    %n = arith.mulf %z, %inv : f32
    %r = arith.mulf %n, %w : f32
    linalg.yield %r : f32
  } -> tensor<1x1024x8x32xf32>

  //===--------------------------------------------------------------------===//
  // §4.4  Router: per chunk, mean of x times wr, argmax over R×2 == 0
  //===--------------------------------------------------------------------===//

  %route = nats.chunk_route %x, %wr {chunk_size = 64 : i64}
      : tensor<1x1024x512xf32>, tensor<512x8xf32> -> tensor<1x16x4xi1>

  //===--------------------------------------------------------------------===//
  // §4.5  Core op (spec §3)
  //===--------------------------------------------------------------------===//

  %o, %os, %final_state = nats.hybrid_attention
      linear(%q_heads, %k_heads, %v_heads, %g, %beta) softmax(%qs, %ks, %vs) route(%route)
      {chunk_size = 64 : i64}
      : (tensor<1x1024x4x64xf32>, tensor<1x1024x4x64xf32>, tensor<1x1024x4x128xf32>,
         tensor<1x1024x4xf32>, tensor<1x1024x4xf32>,
         tensor<1x1024x8x32xf32>, tensor<1x1024x8x32xf32>, tensor<1x1024x8x64xf32>,
         tensor<1x16x4xi1>)
      -> (tensor<1x1024x4x128xf32>, tensor<1x1024x8x64xf32>, tensor<1x4x64x128xf32>)

  //===--------------------------------------------------------------------===//
  // §4.5  Combine: w = softmax(q·wm) over 2 per softmax head,
  //       y = SiLU(x·wg) ⊙ (w_0·RMSNorm(o)·o_norm + w_1·RMSNorm(os)·os_norm),
  //       out = y·wo
  //===--------------------------------------------------------------------===//

  // Branch-mix logits q·wm, viewed B×T×Hs×2 (column s·2 + j).
  %q_flat = tensor.collapse_shape %q [[0, 1], [2]]
      : tensor<1x1024x256xf32> into tensor<1024x256xf32>
  %mix_acc0 = tensor.empty() : tensor<1024x16xf32>
  %mix_acc = linalg.fill ins(%zero : f32) outs(%mix_acc0 : tensor<1024x16xf32>) -> tensor<1024x16xf32>
  %mix_logits_flat = linalg.matmul ins(%q_flat, %wm : tensor<1024x256xf32>, tensor<256x16xf32>)
      outs(%mix_acc : tensor<1024x16xf32>) -> tensor<1024x16xf32>
  %mix_logits = tensor.expand_shape %mix_logits_flat [[0, 1], [2, 3]] output_shape [1, 1024, 8, 2]
      : tensor<1024x16xf32> into tensor<1x1024x8x2xf32>
  // w_0, w_1: a max-shifted softmax over the two logits of each head.
  %mix0_init = tensor.empty() : tensor<1x1024x8xf32>
  %mix1_init = tensor.empty() : tensor<1x1024x8xf32>
  %mix0, %mix1 = linalg.generic {indexing_maps = [#pick0, #pick1, #id3, #id3],
                                 iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%mix_logits, %mix_logits : tensor<1x1024x8x2xf32>, tensor<1x1024x8x2xf32>)
      outs(%mix0_init, %mix1_init : tensor<1x1024x8xf32>, tensor<1x1024x8xf32>) {
  ^bb0(%l0: f32, %l1: f32, %unused0: f32, %unused1: f32):
    %m = arith.maximumf %l0, %l1 : f32
    %s0 = arith.subf %l0, %m : f32
    %s1 = arith.subf %l1, %m : f32
    %e0 = math.exp %s0 : f32
    %e1 = math.exp %s1 : f32
    %den = arith.addf %e0, %e1 : f32
    %w0 = arith.divf %e0, %den : f32
    %w1 = arith.divf %e1, %den : f32
    linalg.yield %w0, %w1 : f32, f32
  } -> (tensor<1x1024x8xf32>, tensor<1x1024x8xf32>)

  // Output gate SiLU(x·wg), viewed B×T×Hs×Vs.
  %gate_acc0 = tensor.empty() : tensor<1024x512xf32>
  %gate_acc = linalg.fill ins(%zero : f32) outs(%gate_acc0 : tensor<1024x512xf32>) -> tensor<1024x512xf32>
  %gate_proj_flat = linalg.matmul ins(%x_flat, %wg : tensor<1024x512xf32>, tensor<512x512xf32>)
      outs(%gate_acc : tensor<1024x512xf32>) -> tensor<1024x512xf32>
  %gate_proj = tensor.expand_shape %gate_proj_flat [[0, 1], [2, 3]] output_shape [1, 1024, 8, 64]
      : tensor<1024x512xf32> into tensor<1x1024x8x64xf32>
  %gate_init = tensor.empty() : tensor<1x1024x8x64xf32>
  %gate = linalg.generic {indexing_maps = [#id4, #id4],
                          iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%gate_proj : tensor<1x1024x8x64xf32>) outs(%gate_init : tensor<1x1024x8x64xf32>) {
  ^bb0(%z: f32, %unused: f32):
    %neg = arith.negf %z : f32
    %e = math.exp %neg : f32
    %den = arith.addf %one, %e : f32
    %sig = arith.divf %one, %den : f32
    %silu = arith.mulf %z, %sig : f32
    linalg.yield %silu : f32
  } -> tensor<1x1024x8x64xf32>

  // The linear output re-split into Hs heads of Vs channels.
  %o_flat = tensor.collapse_shape %o [[0], [1], [2, 3]]
      : tensor<1x1024x4x128xf32> into tensor<1x1024x512xf32>
  %o_split = tensor.expand_shape %o_flat [[0], [1], [2, 3]] output_shape [1, 1024, 8, 64]
      : tensor<1x1024x512xf32> into tensor<1x1024x8x64xf32>

  // RMSNorm(o)·o_norm over Vs.
  %o_ss0 = tensor.empty() : tensor<1x1024x8xf32>
  %o_ss_acc = linalg.fill ins(%zero : f32) outs(%o_ss0 : tensor<1x1024x8xf32>) -> tensor<1x1024x8xf32>
  %o_sumsq = linalg.generic {indexing_maps = [#id4, #row4],
                             iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%o_split : tensor<1x1024x8x64xf32>) outs(%o_ss_acc : tensor<1x1024x8xf32>) {
  ^bb0(%z: f32, %acc: f32):
    %sq = arith.mulf %z, %z : f32
    %sum = arith.addf %acc, %sq : f32
    linalg.yield %sum : f32
  } -> tensor<1x1024x8xf32>
  %o_normed_init = tensor.empty() : tensor<1x1024x8x64xf32>
  %o_normed = linalg.generic {indexing_maps = [#id4, #row4, #last4, #id4],
                              iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%o_split, %o_sumsq, %o_norm : tensor<1x1024x8x64xf32>, tensor<1x1024x8xf32>, tensor<64xf32>)
      outs(%o_normed_init : tensor<1x1024x8x64xf32>) {
  ^bb0(%z: f32, %ss: f32, %w: f32, %unused: f32):
    %mean = arith.divf %ss, %vs_dim : f32
    %var = arith.addf %mean, %eps : f32
    %inv = math.rsqrt %var : f32
    %n = arith.mulf %z, %inv : f32
    %r = arith.mulf %n, %w : f32
    linalg.yield %r : f32
  } -> tensor<1x1024x8x64xf32>

  // RMSNorm(os)·os_norm over Vs.
  %os_ss0 = tensor.empty() : tensor<1x1024x8xf32>
  %os_ss_acc = linalg.fill ins(%zero : f32) outs(%os_ss0 : tensor<1x1024x8xf32>) -> tensor<1x1024x8xf32>
  %os_sumsq = linalg.generic {indexing_maps = [#id4, #row4],
                              iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%os : tensor<1x1024x8x64xf32>) outs(%os_ss_acc : tensor<1x1024x8xf32>) {
  ^bb0(%z: f32, %acc: f32):
    %sq = arith.mulf %z, %z : f32
    %sum = arith.addf %acc, %sq : f32
    linalg.yield %sum : f32
  } -> tensor<1x1024x8xf32>
  %os_normed_init = tensor.empty() : tensor<1x1024x8x64xf32>
  %os_normed = linalg.generic {indexing_maps = [#id4, #row4, #last4, #id4],
                               iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%os, %os_sumsq, %os_norm : tensor<1x1024x8x64xf32>, tensor<1x1024x8xf32>, tensor<64xf32>)
      outs(%os_normed_init : tensor<1x1024x8x64xf32>) {
  ^bb0(%z: f32, %ss: f32, %w: f32, %unused: f32):
    %mean = arith.divf %ss, %vs_dim : f32
    %var = arith.addf %mean, %eps : f32
    %inv = math.rsqrt %var : f32
    %n = arith.mulf %z, %inv : f32
    %r = arith.mulf %n, %w : f32
    linalg.yield %r : f32
  } -> tensor<1x1024x8x64xf32>

  // y = gate ⊙ (w_0·RMSNorm(o)·o_norm + w_1·RMSNorm(os)·os_norm).
  %y_init = tensor.empty() : tensor<1x1024x8x64xf32>
  %y = linalg.generic {indexing_maps = [#id4, #row4, #id4, #row4, #id4, #id4],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%gate, %mix0, %o_normed, %mix1, %os_normed
          : tensor<1x1024x8x64xf32>, tensor<1x1024x8xf32>, tensor<1x1024x8x64xf32>,
            tensor<1x1024x8xf32>, tensor<1x1024x8x64xf32>)
      outs(%y_init : tensor<1x1024x8x64xf32>) {
  ^bb0(%gt: f32, %w0: f32, %on: f32, %w1: f32, %osn: f32, %unused: f32):
    %lin = arith.mulf %w0, %on : f32
    %sm = arith.mulf %w1, %osn : f32
    %mixed = arith.addf %lin, %sm : f32
    %r = arith.mulf %gt, %mixed : f32
    linalg.yield %r : f32
  } -> tensor<1x1024x8x64xf32>

  // out = (y viewed (B·T)×(H·V))·wo, back to B×T×D.
  %y_flat = tensor.collapse_shape %y [[0, 1], [2, 3]]
      : tensor<1x1024x8x64xf32> into tensor<1024x512xf32>
  %out_acc0 = tensor.empty() : tensor<1024x512xf32>
  %out_acc = linalg.fill ins(%zero : f32) outs(%out_acc0 : tensor<1024x512xf32>) -> tensor<1024x512xf32>
  %out_flat = linalg.matmul ins(%y_flat, %wo : tensor<1024x512xf32>, tensor<512x512xf32>)
      outs(%out_acc : tensor<1024x512xf32>) -> tensor<1024x512xf32>
  %out = tensor.expand_shape %out_flat [[0, 1], [2]] output_shape [1, 1024, 512]
      : tensor<1024x512xf32> into tensor<1x1024x512xf32>
  return %out : tensor<1x1024x512xf32>
}
