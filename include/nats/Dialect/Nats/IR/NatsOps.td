//===- NatsOps.td - nats dialect operations ----------------*- tablegen -*-===//
//
// The ops of the nats dialect. Their semantics are the contract of
// docs/spec.md; the verifiers check every structural rule of it.
//
//===----------------------------------------------------------------------===//

#ifndef NATS_DIALECT_NATS_NATSOPS_TD
#define NATS_DIALECT_NATS_NATSOPS_TD

include "nats/Dialect/Nats/IR/NatsDialect.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/TilingInterface.td"

// A plain `i64` attribute read as a signed value: `chunk_size` and `window`
// are written `64 : i64` in IR, and a negative value must reach the verifier
// as negative rather than as a huge unsigned number.
def Nats_SignedI64Attr : TypedSignlessIntegerAttrBase<
    I64, "int64_t", "64-bit signless integer attribute"> {
  let convertFromStorage = "$_self.getValue().getSExtValue()";
}

//===----------------------------------------------------------------------===//
// HybridAttentionOp
//===----------------------------------------------------------------------===//

def Nats_HybridAttentionOp : Nats_Op<"hybrid_attention", [
    Pure,
    DeclareOpInterfaceMethods<ReifyRankedShapedTypeOpInterface,
                              ["reifyResultShapes"]>,
    DeclareOpInterfaceMethods<TilingInterface, [
        "getLoopIteratorTypes", "getIterationDomain",
        "getTiledImplementation", "getResultTilePosition"]>]> {
  let summary = "NAtS-L attention: a gated delta-rule state and routed "
                "softmax memory, chosen per chunk by a router";
  let description = [{
    Computes both branches of a NAtS-L layer for one sequence batch.

    The sequence of `T` tokens is cut into chunks of `chunk_size` (C) tokens,
    `N = ceil(T / C)`. For every chunk and router head, `route` says where
    the chunk lives once complete: `0` folds it into the Gated DeltaNet state
    (a K×V matrix per linear head), `1` keeps its keys and values for causal
    softmax attention by all later queries (the state only decays over it).
    Inside its own chunk a query sees every earlier token through both
    branches. With `window` (W) > 0 a query also sees the last W tokens in the
    softmax branch.

    | operand | shape | |
    |---|---|---|
    | `q`, `k` | B×T×H×K | linear-branch queries and keys |
    | `v` | B×T×H×V | linear-branch values |
    | `g` | B×T×H | log decay (≤ 0) |
    | `beta` | B×T×H | write strength in [0, 1] |
    | `qs`, `ks` | B×T×Hs×Ks | softmax-branch queries and keys |
    | `vs` | B×T×Hs×Vs | softmax-branch values |
    | `route` | B×N×R, i1 | 1: kept in softmax memory; 0: folded into the state |
    | `initial_state` | B×H×K×V, f32 | optional; zero when absent |

    Results: `o` (B×T×H×V), `os` (B×T×Hs×Vs), both of the inputs' element
    type, and `final_state` (B×H×K×V, f32). `H` and `Hs` are multiples of
    `R`; linear head `h` follows router head `h / (H/R)`, softmax head `s`
    router head `s / (Hs/R)`.

    Tiling (`TilingInterface`): the iteration domain is (batch, router
    head), both parallel. A tile of router heads owns their H/R linear and
    Hs/R softmax heads, so a tile is the same op on slices of every operand;
    the tokens (and the chunk dimension, which carries the state) are never
    tiled. Tiling over router heads needs static H, Hs and R.

    `scale` defaults to `K^-0.5` and `softmax_scale` to `Ks^-0.5`; with
    `qk_l2norm` (the default) `q` and `k` are l2-normalised over the key dim
    before `scale` is applied.

    Example:

    ```mlir
    %o, %os, %s = nats.hybrid_attention
        linear(%q, %k, %v, %g, %beta) softmax(%qs, %ks, %vs) route(%route)
        {chunk_size = 64 : i64}
        : (tensor<1x256x4x64xf32>, tensor<1x256x4x64xf32>,
           tensor<1x256x4x128xf32>, tensor<1x256x4xf32>, tensor<1x256x4xf32>,
           tensor<1x256x8x32xf32>, tensor<1x256x8x32xf32>,
           tensor<1x256x8x64xf32>, tensor<1x4x4xi1>)
        -> (tensor<1x256x4x128xf32>, tensor<1x256x8x64xf32>,
            tensor<1x4x64x128xf32>)
    ```
  }];

  // Operand and result types are checked by the C++ verifier rather than by
  // ODS type constraints, so that every diagnostic names the operand and the
  // dimension at fault instead of an operand number.
  let arguments = (ins
    AnyType:$q, AnyType:$k, AnyType:$v, AnyType:$g, AnyType:$beta,
    AnyType:$qs, AnyType:$ks, AnyType:$vs, AnyType:$route,
    Optional<AnyType>:$initial_state,
    DefaultValuedAttr<Nats_SignedI64Attr, "64">:$chunk_size,
    DefaultValuedAttr<Nats_SignedI64Attr, "0">:$window,
    OptionalAttr<F32Attr>:$scale,
    OptionalAttr<F32Attr>:$softmax_scale,
    DefaultValuedAttr<BoolAttr, "true">:$qk_l2norm);
  let results = (outs AnyType:$o, AnyType:$os, AnyType:$final_state);

  let assemblyFormat = [{
    `linear` `(` $q `,` $k `,` $v `,` $g `,` $beta `)`
    `softmax` `(` $qs `,` $ks `,` $vs `)`
    `route` `(` $route `)`
    (`initial_state` `(` $initial_state^ `)`)?
    attr-dict `:` functional-type(operands, results)
  }];

  let extraClassDeclaration = [{
    /// The scale applied to the linear-branch queries: `scale`, or K^-0.5.
    /// Fails when the attribute is absent and K is dynamic.
    std::optional<float> getEffectiveScale();
    /// The softmax scale: `softmax_scale`, or Ks^-0.5. Fails when the
    /// attribute is absent and Ks is dynamic.
    std::optional<float> getEffectiveSoftmaxScale();
    /// Whether H, Hs and R are static, as tiling over router heads needs.
    bool hasStaticHeads();
  }];

  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// GatedDeltaOp and RoutedSoftmaxOp: the two branches
//===----------------------------------------------------------------------===//

def Nats_GatedDeltaOp : Nats_Op<"gated_delta", [Pure]> {
  let summary = "the linear branch of nats.hybrid_attention: a routed gated "
                "delta rule";
  let description = [{
    The linear branch of `nats.hybrid_attention` on its own (spec §3.2),
    produced by `nats-split-branches`: `o` (B×T×H×V) and `final_state`
    (B×H×K×V, f32). Every token of a chunk writes into the running state
    and reads it; at the end of the chunk the state keeps those writes if
    `route` is 0 for the chunk's router head, and only decays over the chunk
    if it is 1. Unlike on `nats.hybrid_attention`, `scale` is explicit.

    ```mlir
    %o, %state = nats.gated_delta(%q, %k, %v, %g, %beta) route(%route)
        {chunk_size = 64 : i64, scale = 0.125 : f32} : (...) -> (...)
    ```
  }];
  let arguments = (ins
    AnyType:$q, AnyType:$k, AnyType:$v, AnyType:$g, AnyType:$beta,
    AnyType:$route, Optional<AnyType>:$initial_state,
    DefaultValuedAttr<Nats_SignedI64Attr, "64">:$chunk_size,
    F32Attr:$scale,
    DefaultValuedAttr<BoolAttr, "true">:$qk_l2norm);
  let results = (outs AnyType:$o, AnyType:$final_state);
  let assemblyFormat = [{
    `(` $q `,` $k `,` $v `,` $g `,` $beta `)` `route` `(` $route `)`
    (`initial_state` `(` $initial_state^ `)`)?
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Nats_RoutedSoftmaxOp : Nats_Op<"routed_softmax", [Pure]> {
  let summary = "the softmax branch of nats.hybrid_attention: causal softmax "
                "over kept chunks, the own chunk and a window";
  let description = [{
    The softmax branch of `nats.hybrid_attention` on its own (spec §3.3),
    produced by `nats-split-branches`: query `i` attends key `j <= i` when
    both are in one chunk, when `j`'s chunk is kept (`route` 1 for the
    query head's router head), or when `i - j < window`. Unlike on
    `nats.hybrid_attention`, `scale` is explicit.

    ```mlir
    %os = nats.routed_softmax(%qs, %ks, %vs) route(%route)
        {chunk_size = 64 : i64, scale = 0.125 : f32} : (...) -> tensor<...>
    ```
  }];
  let arguments = (ins
    AnyType:$qs, AnyType:$ks, AnyType:$vs, AnyType:$route,
    DefaultValuedAttr<Nats_SignedI64Attr, "64">:$chunk_size,
    DefaultValuedAttr<Nats_SignedI64Attr, "0">:$window,
    F32Attr:$scale);
  let results = (outs AnyType:$os);
  let assemblyFormat = [{
    `(` $qs `,` $ks `,` $vs `)` `route` `(` $route `)`
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// ChunkRouteOp
//===----------------------------------------------------------------------===//

def Nats_ChunkRouteOp : Nats_Op<"chunk_route", [Pure]> {
  let summary = "per-chunk router decision: where each chunk of tokens lives";
  let description = [{
    The NAtS-L router. For every chunk of `chunk_size` tokens of `x`
    (B×T×D) it takes the mean of `x` over the chunk's tokens (only the tokens
    present, for a partial last chunk), multiplies it by `weight` (D×2R) and
    reads the logits as R pairs: `route[b, n, r] = argmax(logits[b, n, r, :])
    == 0`, ties going to index 0. A `1` sends the chunk to softmax memory, a
    `0` to the linear state (the convention of `nats.hybrid_attention`).

    Example:

    ```mlir
    %route = nats.chunk_route %x, %wr {chunk_size = 64 : i64}
        : tensor<1x1024x512xf32>, tensor<512x8xf32> -> tensor<1x16x4xi1>
    ```
  }];

  let arguments = (ins AnyType:$x, AnyType:$weight,
                       DefaultValuedAttr<Nats_SignedI64Attr, "64">:$chunk_size);
  let results = (outs AnyType:$route);

  let assemblyFormat = [{
    $x `,` $weight attr-dict `:` type($x) `,` type($weight) `->` type($route)
  }];

  let hasVerifier = 1;
}

#endif // NATS_DIALECT_NATS_NATSOPS_TD
