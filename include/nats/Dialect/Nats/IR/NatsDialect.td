//===- NatsDialect.td - the nats dialect -------------------*- tablegen -*-===//
//
// The nats dialect: token-level hybrid attention (NAtS-L) at the level of
// the model graph.
//
//===----------------------------------------------------------------------===//

#ifndef NATS_DIALECT_NATS_NATSDIALECT_TD
#define NATS_DIALECT_NATS_NATSDIALECT_TD

include "mlir/IR/OpBase.td"

def Nats_Dialect : Dialect {
  let name = "nats";
  let cppNamespace = "::mlir::nats";
  let summary = "Token-level hybrid attention: a Gated DeltaNet state and "
                "routed softmax memory in one layer";
  let description = [{
    The `nats` dialect says at a high level what a NAtS-L attention layer
    computes: `nats.hybrid_attention` is the core op with its two memories,
    `nats.chunk_route` the per-chunk router decision that feeds it. Everything
    else of the layer graph (projections, short convolutions, gates, the
    combine) is written in upstream `linalg`, `tensor`, `arith` and `math`.

    The ops work on tensors; the lowering passes tile, fuse and compact them
    before bufferization.
  }];
  let dependentDialects = ["::mlir::tensor::TensorDialect"];
}

class Nats_Op<string mnemonic, list<Trait> traits = []>
    : Op<Nats_Dialect, mnemonic, traits>;

#endif // NATS_DIALECT_NATS_NATSDIALECT_TD
