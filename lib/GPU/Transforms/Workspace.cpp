//===- Workspace.cpp - a block's scratch buffers as views of one workspace ===//
//
// A kernel cannot call the host allocator, and a block's scratch (the
// chunk's matrices, the state, the softmax tiles) is more than the 48 KiB of
// static shared memory once the head dim reaches 128. So every scratch
// buffer gets a slot in one device buffer per launch. memref.view keeps the
// buffer's identity-layout type, so nothing that uses it changes.
//
//===----------------------------------------------------------------------===//

#include "nats/GPU/Transforms/Mapping.h"
#include "nats/GPU/Transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"

namespace mlir::nats {
#define GEN_PASS_DEF_NATSGPUWORKSPACEPASS
#include "nats/GPU/Transforms/Passes.h.inc"
} // namespace mlir::nats

using namespace mlir;
using namespace mlir::nats;

namespace {

/// Slots start on 256-byte boundaries, as cudaMalloc's own buffers do, so
/// that any element type is aligned and rows stay in whole memory sectors.
constexpr int64_t kSlotAlign = 256;

/// Bytes one element of `type` takes in memory (i1 takes a byte, index 8).
int64_t elementBytes(Type type) {
  if (type.isIndex())
    return 8;
  return llvm::divideCeil(type.getIntOrFloatBitWidth(), 8);
}

LogicalResult placeInWorkspace(RewriterBase &rewriter, scf::ForallOp forall) {
  SmallVector<memref::AllocOp> allocs;
  WalkResult walk = forall.getBody()->walk([&](memref::AllocOp alloc) {
    MemRefType type = alloc.getType();
    if (!type.hasStaticShape() || !type.getLayout().isIdentity() ||
        type.getMemorySpace() ||
        !(type.getElementType().isIntOrIndexOrFloat())) {
      alloc.emitOpError("inside a thread block needs a static shape, the "
                        "identity layout, the default memory space and a "
                        "scalar element type, to get a workspace slot");
      return WalkResult::interrupt();
    }
    allocs.push_back(alloc);
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();
  if (allocs.empty())
    return success();

  SmallVector<int64_t> offsets;
  int64_t slotBytes = 0;
  for (memref::AllocOp alloc : allocs) {
    offsets.push_back(slotBytes);
    MemRefType type = alloc.getType();
    slotBytes += llvm::alignTo(
        type.getNumElements() * elementBytes(type.getElementType()),
        kSlotAlign);
  }
  int64_t blocks = getTripCount(forall);

  Location loc = forall.getLoc();
  rewriter.setInsertionPoint(forall);
  auto workspaceType =
      MemRefType::get({blocks * slotBytes}, rewriter.getI8Type());
  // Freed by the deallocation pipeline that runs next, like any buffer.
  Value workspace = memref::AllocOp::create(rewriter, loc, workspaceType);

  // The block's part starts at its linear index (row-major over the
  // forall's bounds, the order the launch delinearises in) times a slot set.
  rewriter.setInsertionPointToStart(forall.getBody());
  SmallVector<OpFoldResult> bounds = forall.getMixedUpperBound();
  Value linear = affine::AffineLinearizeIndexOp::create(
      rewriter, loc, forall.getInductionVars(), bounds, /*disjoint=*/true);
  Value base = arith::MulIOp::create(
      rewriter, loc, linear,
      arith::ConstantIndexOp::create(rewriter, loc, slotBytes));
  for (auto [alloc, offset] : llvm::zip(allocs, offsets)) {
    rewriter.setInsertionPoint(alloc);
    Value start = arith::AddIOp::create(
        rewriter, loc, base,
        arith::ConstantIndexOp::create(rewriter, alloc.getLoc(), offset));
    rewriter.replaceOpWithNewOp<memref::ViewOp>(alloc, alloc.getType(),
                                                workspace, start,
                                                ValueRange{});
  }
  return success();
}

struct NatsGPUWorkspacePass
    : nats::impl::NatsGPUWorkspacePassBase<NatsGPUWorkspacePass> {
  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    SmallVector<scf::ForallOp> foralls;
    getOperation().walk([&](scf::ForallOp forall) {
      if (isBlockForall(forall))
        foralls.push_back(forall);
    });
    for (scf::ForallOp forall : foralls)
      if (failed(placeInWorkspace(rewriter, forall)))
        return signalPassFailure();
  }
};

} // namespace
