//===- Mapping.h - which scf.forall runs on blocks, which on threads -*- C++ -*-===//
//
// The GPU passes talk to each other through the upstream mapping attributes
// on scf.forall: #gpu.block for a forall whose iterations are thread blocks,
// #gpu.thread for one whose iterations are shared out over threads,
// #gpu.warp for one whose iterations are shared out over warps (all 32
// lanes of a warp run an iteration together: a tensor-core tile, or one
// output element of a reduction).
//
//===----------------------------------------------------------------------===//

#ifndef NATS_GPU_TRANSFORMS_MAPPING_H
#define NATS_GPU_TRANSFORMS_MAPPING_H

#include "mlir/Dialect/SCF/IR/SCF.h"

namespace mlir::nats {

/// Whether `forall` is mapped to thread blocks.
bool isBlockForall(scf::ForallOp forall);

/// Whether `forall` is mapped to threads.
bool isThreadForall(scf::ForallOp forall);

/// Whether `forall` is mapped to warps.
bool isWarpForall(scf::ForallOp forall);

/// The number of iterations of a forall with static bounds.
int64_t getTripCount(scf::ForallOp forall);

/// The innermost block forall around `op`, or null.
scf::ForallOp getEnclosingBlockForall(Operation *op);

/// Whether `op` is a block's own: inside a block forall with no thread or
/// warp forall in between (not part of a thread's or a warp's tile).
bool isInBlockOutsideThreads(Operation *op);

} // namespace mlir::nats

#endif // NATS_GPU_TRANSFORMS_MAPPING_H
