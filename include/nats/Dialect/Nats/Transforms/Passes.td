//===- Passes.td - nats dialect passes ---------------------*- tablegen -*-===//

#ifndef NATS_DIALECT_NATS_TRANSFORMS_PASSES_TD
#define NATS_DIALECT_NATS_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def NatsDecomposeChunkRoutePass : Pass<"nats-decompose-chunk-route"> {
  let summary = "Decompose nats.chunk_route into linalg and tensor ops";
  let description = [{
    Rewrites the per-chunk router decision into upstream ops on tensors:
    the tokens are zero-padded to whole chunks and summed per chunk
    (`linalg.generic` reduction), the sums multiplied by the router weight,
    and each pair of logits compared: `route = logit_softmax >= logit_linear`
    (ties go to softmax, like argmax). The router's mean differs from the sum
    by a positive factor per chunk, which changes no comparison, so the
    division is left out. Half-precision inputs accumulate in f32.

    Before:

    ```mlir
    %r = nats.chunk_route %x, %w {chunk_size = 4 : i64}
        : tensor<1x10x8xf32>, tensor<8x4xf32> -> tensor<1x3x2xi1>
    ```

    After: `tensor.pad`, `tensor.expand_shape` and three `linalg.generic`
    ops (chunk sum, router matmul, pairwise compare).

    The op needs a static T (the chunk structure); other dims may be dynamic.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

def NatsTileHybridAttentionPass : Pass<"nats-tile-hybrid-attention"> {
  let summary = "Tile nats.hybrid_attention over batch and router heads";
  let description = [{
    Tiles every `nats.hybrid_attention` through its `TilingInterface`: the
    iteration domain is (batch, router head), both parallel, and a router
    head owns H/R linear and Hs/R softmax heads, so each tile is the same op
    on slices (all tokens; the chunk dimension carries the state and is not
    tiled). Produces an `scf.forall` whose body holds the tiled op and
    `tensor.parallel_insert_slice`s of its three results.

    With the default `tile-sizes=1,1` every tile is one (batch, router head).
    The router-head tile needs static H, Hs and R.
  }];
  let options = [
    ListOption<"tileSizes", "tile-sizes", "int64_t",
               "tile sizes of the (batch, router head) iteration domain; "
               "0 leaves a dimension untiled">,
  ];
  let dependentDialects = [
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

def NatsSplitBranchesPass : Pass<"nats-split-branches"> {
  let summary = "Split nats.hybrid_attention into its linear and softmax "
                "branches";
  let description = [{
    Rewrites `nats.hybrid_attention` into `nats.gated_delta` (o,
    final_state) and `nats.routed_softmax` (os). The two branches share only
    `route`; splitting lets each be lowered on its own. The default scales
    (K^-0.5, Ks^-0.5) become explicit `scale` attributes; an op whose default
    scale depends on a dynamic key dim is rejected with an error.
  }];
}

def NatsFuseGatedDeltaPass : Pass<"nats-fuse-gated-delta"> {
  let summary = "Lower nats.gated_delta to the chunked WY/UT form: chunk "
                "terms in parallel, a state pass, outputs in parallel";
  let description = [{
    Turns the routed gated delta rule into its blocked form (docs/algorithms.md
    §1) over tiles of `tile-size` tokens, in three `scf.forall`s:

    1. the chunk terms, one iteration per (batch, head, tile): the l2norm of
       q and k, the in-tile cumulative sum γ of g, `K·Kᵀ ⊙ M` (the decay and
       route-visibility mask), and the unit-lower-triangular solve
       `[−W | U₀] = (I + A)⁻¹ [−β K⊙e^γ | β V]` (by blocks of 16 rows: a
       matmul with the rows solved before, then an `scf.forall` over the
       columns, each a scalar forward substitution of the diagonal block);
       also `P = Q·Kᵀ ⊙ M`, `Q⊙e^γ`, the committed keys
       `K⊙e^(γ_L−γ)⊙(1−m)` (zero for kept chunks) and the tile's decay
       `e^γ_L`. None of it depends on the state, so every tile is
       independent;
    2. the state pass, one iteration per (batch, head): an `scf.for` over
       the tiles carries the K×V state S, records it as the tile's start
       state, and computes `U = U₀ + (−W)·S` and `S' = e^γ_L S + K_cᵀ·U`,
       each one contraction accumulated onto (a copy of) U₀ and onto S
       decayed in place, so that the sequential steps are few;
    3. the outputs, one iteration per (batch, head, tile):
       `O = (Q⊙e^γ)·S_start + P·U`.

    The stages pass f32 tensors indexed [batch, head, tile, row, column];
    with `round-output-terms`, those that only stage 3 reads (Q⊙e^γ, P, U
    and the tiles' start states) are stored in the inputs' element type
    (bf16 or f16 inputs, as FLA stores them), widened again where stage 3
    multiplies them: half the bytes, the sums still in f32. With
    `round-state-terms`, so are −W, K_c and U₀ (FLA's w, k and u), which
    the state pass reads at every step, −W and K_c again for every group
    of state columns: its products then take them as 16-bit operands, and
    the tile of U₀ that U = U₀ + (−W) S accumulates in is widened from a
    16-bit copy. With
    `round-chunk-operands`, so are the chunk terms' own operands: the
    normalized q̂ and k̂, the right-hand sides diag(β)(K⊙e^γ) and
    diag(β)V of −W and U₀ and their left-hand side T = (I + A)⁻¹ (FLA's
    l2norm, solve_tril and recompute_w_u keep them so), which halves the
    tiles a GPU block holds for stage 1 and makes every product of stage
    1 one of two 16-bit operands. With `round-state-operands`, S and U
    enter stage 2's products in that type too (FLA's chunk_fwd_h rounds h
    and v_new so): the loop carries S's rounded copy beside S, rounded
    again from each S' in place, and U is rounded for K_cᵀ U; the sums
    stay f32.
    Tokens are padded to whole tiles with g = 0 and beta = 0, which leave
    the state unchanged; the padding rows of O are cut off at the end.

    The tile size is a multiple of chunk_size (the largest not above
    `tile-size`), or chunk_size itself when that is larger.

    The state's columns are independent (column j of S follows v's column j
    alone), so with `value-tile` dividing V the state pass gets a third
    dim over groups of `value-tile` columns: more, smaller iterations, what a
    GPU with more SMs than (batch, head) pairs wants. With `sm-count`, the
    pass chooses the group instead: 8, 16, 32 or 64 columns (dividing V),
    whichever gives the fewest waves of B·H·V/columns iterations over that
    many SMs, weighted by an iteration's cost (measured on the H100: wider
    groups read each tile's −W and K_c once for more columns but take
    longer a step).

    The outputs stage likewise runs groups of `output-tile` value columns
    (where that divides V) as iterations of their own, each reading its
    tile's q and P again. (On a GPU, `nats-gpu-warp-rows` takes a group of
    a multiple of 16 columns only; narrower ones are left to
    `nats-gpu-distribute`.)
  }];
  let options = [
    Option<"tileSize", "tile-size", "int64_t", "64",
           "tokens per tile (rounded to a multiple of chunk_size)">,
    Option<"valueTile", "value-tile", "int64_t", "0",
           "state columns per iteration where that divides V (0: all)">,
    Option<"smCount", "sm-count", "int64_t", "0",
           "choose the state pass's columns an iteration (16 to 64) by the "
           "waves of iterations on this many SMs, instead of value-tile "
           "(0: value-tile)">,
    Option<"outputTile", "output-tile", "int64_t", "128",
           "value columns per iteration of the outputs stage where that "
           "divides V (0, or one that does not: all)">,
    Option<"roundOutputTerms", "round-output-terms", "bool", "false",
           "store the terms only the outputs stage reads in the inputs' "
           "element type">,
    Option<"roundStateTerms", "round-state-terms", "bool", "false",
           "store −W, K_c and U₀, which the state pass reads, in the "
           "inputs' element type">,
    Option<"roundChunkOperands", "round-chunk-operands", "bool", "false",
           "keep q̂, k̂, T = (I + A)⁻¹ and the right-hand sides of −W and "
           "U₀ in the inputs' element type">,
    Option<"roundStateOperands", "round-state-operands", "bool", "false",
           "multiply the state pass's S and U in the inputs' element type">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

def NatsCompactRoutedSoftmaxPass : Pass<"nats-compact-routed-softmax"> {
  let summary = "Lower nats.routed_softmax to a kept-chunk index list and an "
                "online softmax";
  let description = [{
    Two `scf.forall`s. The first, one iteration per (batch, router head),
    compacts the router head's kept chunks into an index list: an exclusive
    prefix sum over `route` gives each kept chunk its slot, by ceil(log2 N)
    doubling maps, and each slot's chunk is found by a binary search of the
    sums (data-parallel). The second, one iteration per (batch, softmax
    head, query block), each independent, reads its router head's list and
    runs an online (flash-style) softmax over: the kept chunks wholly before
    the block, as unmasked key blocks gathered through the list (with chunks smaller than a block,
    several kept chunks are grouped into one key block so that products stay
    tile-sized); the band of keys before the block that a query may still
    see (its own chunk's earlier keys when a chunk is longer than a block,
    and the window; masked); and the block's own keys (masked by the full
    rule). A query block is the largest whole number of chunks not above
    `block-size`, or `block-size` tokens when a chunk is longer. Work grows
    with the kept keys, not with T²; no T×T mask is built. All types must
    be static.
  }];
  let options = [
    Option<"blockSize", "block-size", "int64_t", "64",
           "query tokens per block">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

#endif // NATS_DIALECT_NATS_TRANSFORMS_PASSES_TD
