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

def NatsFuseElementwisePass
    : Pass<"nats-fuse-elementwise", "::mlir::func::FuncOp"> {
  let summary = "Fold elementwise producers into their one consumer";
  let description = [{
    Works on tensors, after `nats-to-linalg`'s lowering of the nats ops.
    An elementwise `linalg.generic` (every loop parallel: a conversion, a
    scale, a mask, an exp) whose one use is an input of another
    `linalg.generic` that is not a contraction and reads it element for
    element (a permutation map: a broadcast would compute the producer
    again for every element it is broadcast to) is folded into it
    (upstream `populateElementwiseOpsFusionPatterns`): its result is never
    stored. On the GPU each linalg op of a tile is a step between two
    barriers of the whole block, and its result a buffer of the block's
    shared memory; on the CPU a pass over memory. A producer with more uses
    stays: folded into each, it would be computed once per use (on the
    H100 that took M1 and M2 1.1-1.2× as long, run 56; with one use 0.98-1.08×
    and 0.88× at head dim 256, run 57); a contraction (a matmul-like
    generic) keeps its own operands, which the GPU path runs on tensor
    cores.
  }];
  let dependentDialects = [
    "::mlir::linalg::LinalgDialect",
  ];
}

def NatsDeallocAfterLastUsePass
    : Pass<"nats-dealloc-after-last-use", "::mlir::func::FuncOp"> {
  let summary = "Free each buffer right after its last use";
  let description = [{
    After `buffer-deallocation-pipeline`, which frees a buffer at the end of
    the block that allocates it: a `memref.dealloc` of a `memref.alloc` of
    the same block moves to just after the last op of that block that uses
    the buffer or anything derived from it (a result of an op it is given
    to, but scalars and vectors: a view, a cast, a loop's result, a tensor,
    an async token; anything computed from a pointer taken as an index; a
    use inside a region counts as a use by the op of the block that holds
    it). A buffer that escapes (returned, yielded, used in another block, or
    a value derived from it written to memory) keeps its dealloc where it
    is, and so does a conditional one (inside an `scf.if`). A function of
    many steps (the NAtS-L layer: 58 intermediates) then holds only the
    buffers that are still to be read, not all of them at its end: on a
    GPU each `gpu.dealloc` is stream-ordered after the last kernel that
    reads the buffer, and the pool the runtime allocates from gives its
    memory to the next allocation.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

#endif // NATS_TRANSFORMS_PASSES_TD
