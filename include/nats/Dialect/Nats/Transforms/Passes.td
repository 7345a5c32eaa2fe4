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

#endif // NATS_DIALECT_NATS_TRANSFORMS_PASSES_TD
