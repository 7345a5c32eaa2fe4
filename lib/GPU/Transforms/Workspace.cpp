//===- Workspace.cpp - a block's scratch buffers as views of one workspace ===//
//
// A kernel cannot call the host allocator: every scratch buffer of a block
// (the chunk's matrices, the state, the softmax tiles) gets a slot, in the
// block's shared memory while it has room, else in one device buffer per
// launch. memref.view (and a cast to a generic pointer for shared slots)
// keeps the buffer's type, so nothing that uses it changes.
//
//===----------------------------------------------------------------------===//

#include "nats/GPU/Transforms/Mapping.h"
#include "nats/GPU/Transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"

#include <numeric>

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

/// Bytes a buffer of `type` takes in its slot.
int64_t slotBytes(MemRefType type) {
  return llvm::alignTo(
      type.getNumElements() * elementBytes(type.getElementType()), kSlotAlign);
}

LogicalResult placeInWorkspace(RewriterBase &rewriter, scf::ForallOp forall,
                               int64_t sharedMemoryBytes) {
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

  // Smallest first, while they fit: as many buffers as possible in shared
  // memory. The small ones (vectors, the solve's columns) are read in
  // scalar loops; what is left out is large (the output tile, a 64 x 128
  // matrix), read by tensor-core tiles whose loads the L1 cache serves.
  SmallVector<size_t> order(allocs.size());
  std::iota(order.begin(), order.end(), 0);
  llvm::stable_sort(order, [&](size_t x, size_t y) {
    return slotBytes(allocs[x].getType()) < slotBytes(allocs[y].getType());
  });
  SmallVector<int64_t> offsets(allocs.size());
  SmallVector<bool> inShared(allocs.size());
  int64_t sharedBytes = 0, globalBytes = 0;
  for (size_t i : order) {
    int64_t bytes = slotBytes(allocs[i].getType());
    inShared[i] = sharedBytes + bytes <= sharedMemoryBytes;
    int64_t &used = inShared[i] ? sharedBytes : globalBytes;
    offsets[i] = used;
    used += bytes;
  }

  Location loc = forall.getLoc();
  auto constant = [&](int64_t value) -> Value {
    return arith::ConstantIndexOp::create(rewriter, loc, value);
  };
  // The global workspace: before the forall, freed by the deallocation
  // pipeline that runs next, like any buffer. A block's part starts at its
  // linear index (row-major over the forall's bounds, the order the launch
  // delinearises in) times its slots' size.
  Value workspace, globalBase;
  if (globalBytes) {
    rewriter.setInsertionPoint(forall);
    workspace = memref::AllocOp::create(
        rewriter, loc,
        MemRefType::get({getTripCount(forall) * globalBytes},
                        rewriter.getI8Type()));
    rewriter.setInsertionPointToStart(forall.getBody());
    Value linear = affine::AffineLinearizeIndexOp::create(
        rewriter, loc, forall.getInductionVars(), forall.getMixedUpperBound(),
        /*disjoint=*/true);
    globalBase = arith::MulIOp::create(rewriter, loc, linear,
                                       constant(globalBytes));
  }
  // The shared pool: one per block, nats-map-foralls-to-gpu makes it the
  // launch's dynamic shared memory.
  Value pool;
  if (sharedBytes) {
    rewriter.setInsertionPointToStart(forall.getBody());
    pool = memref::AllocaOp::create(
        rewriter, loc,
        MemRefType::get({sharedBytes}, rewriter.getI8Type(), AffineMap(),
                        gpu::AddressSpaceAttr::get(
                            rewriter.getContext(),
                            gpu::GPUDialect::getWorkgroupAddressSpace())));
  }

  for (auto [alloc, offset, shared] : llvm::zip(allocs, offsets, inShared)) {
    rewriter.setInsertionPoint(alloc);
    MemRefType type = alloc.getType();
    if (!shared) {
      Value start = arith::AddIOp::create(rewriter, loc, globalBase,
                                          constant(offset));
      rewriter.replaceOpWithNewOp<memref::ViewOp>(alloc, type, workspace,
                                                  start, ValueRange{});
      continue;
    }
    // A generic pointer into shared memory: the users keep their types
    // (NVPTX infers the shared address space back for the loads).
    Value view = memref::ViewOp::create(
        rewriter, loc,
        MemRefType::get(type.getShape(), type.getElementType(), AffineMap(),
                        cast<MemRefType>(pool.getType()).getMemorySpace()),
        pool, constant(offset), ValueRange{});
    rewriter.replaceOpWithNewOp<memref::MemorySpaceCastOp>(alloc, type, view);
  }
  return success();
}

struct NatsGPUWorkspacePass
    : nats::impl::NatsGPUWorkspacePassBase<NatsGPUWorkspacePass> {
  using Base::Base;

  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    SmallVector<scf::ForallOp> foralls;
    getOperation().walk([&](scf::ForallOp forall) {
      if (isBlockForall(forall))
        foralls.push_back(forall);
    });
    for (scf::ForallOp forall : foralls)
      if (failed(placeInWorkspace(rewriter, forall, sharedMemoryBytes)))
        return signalPassFailure();
  }
};

} // namespace
