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

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

namespace mlir::nats {

/// The unit attribute nats-map-foralls-to-gpu sets on a loop it makes of a
/// thread or warp forall (or of a copy shared out over the threads): the
/// loop's iterations were the forall's, so no two touch a place that one of
/// them writes (nats-gpu-carry-in-registers unrolls such loops).
constexpr llvm::StringLiteral kThreadLoopAttrName = "nats.thread_loop";

/// Whether `forall` is mapped to thread blocks.
bool isBlockForall(scf::ForallOp forall);

/// Whether `forall` is mapped to threads.
bool isThreadForall(scf::ForallOp forall);

/// Whether `forall` is mapped to warps.
bool isWarpForall(scf::ForallOp forall);

/// The number of iterations of a forall with static bounds.
int64_t getTripCount(scf::ForallOp forall);

/// The `#gpu.block` foralls under `root`, collected before a pass rewrites
/// them.
SmallVector<scf::ForallOp> getBlockForalls(Operation *root);

/// Whether `view` is element (indices...) of its source: offsets
/// `indices`, sizes and strides 1.
bool isElementAt(memref::SubViewOp view, ValueRange indices);

/// Whether `view` is element (ivs...) of its source, `forall`'s induction
/// variables: a thread's element of a tile in a thread forall.
inline bool isElementView(memref::SubViewOp view, scf::ForallOp forall) {
  return isElementAt(view, forall.getInductionVars());
}

/// The innermost block forall around `op`, or null.
scf::ForallOp getEnclosingBlockForall(Operation *op);

/// Whether `op` is a block's own: inside a block forall with no thread or
/// warp forall in between (not part of a thread's or a warp's tile).
bool isInBlockOutsideThreads(Operation *op);

/// Mapping attributes for a forall of `rank` dims; the last dim varies
/// fastest (linear_dim_0), so consecutive threads touch consecutive
/// elements of the innermost dimension.
template <typename MappingAttrT>
SmallVector<Attribute> linearMapping(MLIRContext *ctx, int64_t rank) {
  SmallVector<Attribute> mapping;
  for (int64_t i = 0; i < rank; ++i)
    mapping.push_back(MappingAttrT::get(
        ctx, static_cast<gpu::MappingId>(
                 static_cast<uint64_t>(gpu::MappingId::LinearDim0) + rank -
                 1 - i)));
  return mapping;
}

/// Maps every outermost scf.forall under `root` that has no mapping yet to
/// thread blocks (#gpu.block): one block per iteration. Fails, with an
/// error at the forall, on one without static bounds.
LogicalResult mapOutermostForallsToBlocks(Operation *root);

/// The kernel name a block forall asks for: the name its location starts
/// with (the lowering names each stage's loop: gated_delta_state_pass,
/// routed_softmax, ...), reduced to the characters a PTX name may hold; or
/// null. Names further inside the location are the user's and stay there.
StringAttr getKernelName(scf::ForallOp forall);

/// A `name:count` entry of a per-kernel option (kernel-threads,
/// kernel-blocks) as its kernel name and count: none where the name is
/// empty or the count no integer. The count's range is the option's to
/// check.
std::optional<std::pair<StringRef, int64_t>>
parseKernelCount(StringRef entry);

} // namespace mlir::nats

#endif // NATS_GPU_TRANSFORMS_MAPPING_H
