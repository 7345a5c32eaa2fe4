//===- Passes.td - passes on the upstream IR nats lowers to -*- tablegen -*-===//
//
// Passes that both the CPU and the GPU pipeline run on the linalg, scf and
// memref IR that the nats ops became.
//
//===----------------------------------------------------------------------===//

#ifndef NATS_TRANSFORMS_PASSES_TD
#define NATS_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def NatsAccumulateInRegistersPass
    : Pass<"nats-accumulate-in-registers", "::mlir::func::FuncOp"> {
  let summary = "A reduction keeps its running value in a register";
  let description = [{
    Works on buffers, in place of `convert-linalg-to-loops` for the linalg
    ops with a reduction: the op becomes loops over its parallel dimensions
    (those with more than one iteration) and, inside, loops over its
    reduction dimensions that carry the output element as an `scf.for`
    iteration argument: loaded once, stored once. `convert-linalg-to-loops`
    loads and stores it in every iteration, and since the buffers may alias
    (on the GPU every scratch buffer is a view of one workspace), LLVM
    cannot keep it in a register itself.

    On the GPU, after distribution, each thread's op has one iteration in
    every parallel dimension: only the reduction loops remain. Ops with one
    output, static loop ranges and a projected-permutation output map are
    rewritten; others are left to `convert-linalg-to-loops`.
  }];
  let dependentDialects = [
    "::mlir::affine::AffineDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
  ];
}

#endif // NATS_TRANSFORMS_PASSES_TD
