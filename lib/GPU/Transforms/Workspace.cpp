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
#include "nats/GPU/Transforms/MmaTile.h"
#include "nats/GPU/Transforms/Passes.h"
#include "nats/GPU/Transforms/Workspace.h"
#include "nats/Transforms/BufferUses.h"

#include "mlir/IR/PatternMatch.h"

#include <limits>
#include <numeric>

namespace mlir::nats {
#define GEN_PASS_DEF_NATSGPUWORKSPACEPASS
#include "nats/GPU/Transforms/Passes.h.inc"
} // namespace mlir::nats

using namespace mlir;
using namespace mlir::nats;

namespace {

/// Bytes one element of `type` takes in memory (i1 takes a byte, index 8).
int64_t elementBytes(Type type) {
  if (type.isIndex())
    return 8;
  return llvm::divideCeil(type.getIntOrFloatBitWidth(), 8);
}

/// Where a buffer is live in its block, as positions of a pre-order walk:
/// from its allocation to the end of the last op of the block that holds a
/// use of it or of a value derived from it (getBufferUsesInBlock: a use
/// inside a loop keeps the buffer live for the whole loop); everywhere where
/// that is not bounded.
struct LiveRange {
  int64_t first, last;
  bool overlaps(const LiveRange &other) const {
    return first <= other.last && other.first <= last;
  }
};

LiveRange getLiveRange(memref::AllocOp alloc,
                       const DenseMap<Operation *, LiveRange> &positions) {
  FailureOr<SmallVector<Operation *>> uses =
      getBufferUsesInBlock(alloc.getResult(), alloc->getBlock());
  if (failed(uses))
    return {0, std::numeric_limits<int64_t>::max()};
  LiveRange range = positions.lookup(alloc);
  for (Operation *use : *uses)
    range.last = std::max(range.last, positions.lookup(use).last);
  return range;
}

/// The lowest offset at which `bytes` fit beside the slots already placed
/// whose buffers are live at the same time.
int64_t firstFit(int64_t bytes, const LiveRange &range,
                 ArrayRef<std::tuple<int64_t, int64_t, LiveRange>> placed) {
  SmallVector<std::pair<int64_t, int64_t>> taken;
  for (auto [offset, size, other] : placed)
    if (range.overlaps(other))
      taken.push_back({offset, offset + size});
  llvm::sort(taken);
  int64_t offset = 0;
  for (auto [begin, end] : taken) {
    if (offset + bytes <= begin)
      break;
    offset = std::max(offset, end);
  }
  return offset;
}

/// Where each buffer goes: its offset, in shared memory or the global
/// workspace, and the bytes each takes in all.
struct Placement {
  SmallVector<int64_t> offsets;
  SmallVector<bool> inShared;
  int64_t sharedBytes = 0, globalBytes = 0;
};

/// Places `allocs` (of `bytes` slots, live over `ranges`) in `order`, each
/// at the lowest offset free while it is live: in shared memory where that
/// ends within `sharedMemoryBytes`, else in the global workspace (a
/// failure for one asked for in workgroup memory, an error where
/// `diagnose`).
FailureOr<Placement> place(MutableArrayRef<memref::AllocOp> allocs,
                           ArrayRef<int64_t> bytes, ArrayRef<LiveRange> ranges,
                           ArrayRef<size_t> order, int64_t sharedMemoryBytes,
                           bool diagnose) {
  Placement result;
  result.offsets.resize(allocs.size());
  result.inShared.resize(allocs.size());
  SmallVector<std::tuple<int64_t, int64_t, LiveRange>> sharedSlots, globalSlots;
  for (size_t i : order) {
    int64_t offset = firstFit(bytes[i], ranges[i], sharedSlots);
    bool shared = offset + bytes[i] <= sharedMemoryBytes;
    if (!shared &&
        gpu::GPUDialect::hasWorkgroupMemoryAddressSpace(allocs[i].getType())) {
      if (!diagnose)
        return failure();
      return allocs[i].emitOpError("needs ")
             << bytes[i] << " bytes of shared memory at offset " << offset
             << ", beyond the block's " << sharedMemoryBytes;
    }
    if (!shared)
      offset = firstFit(bytes[i], ranges[i], globalSlots);
    result.offsets[i] = offset;
    result.inShared[i] = shared;
    (shared ? sharedSlots : globalSlots)
        .push_back({offset, bytes[i], ranges[i]});
    int64_t &used = shared ? result.sharedBytes : result.globalBytes;
    used = std::max(used, offset + bytes[i]);
  }
  return result;
}

LogicalResult placeInWorkspace(RewriterBase &rewriter, scf::ForallOp forall,
                               int64_t sharedMemoryBytes) {
  SmallVector<memref::AllocOp> allocs;
  DenseMap<Operation *, LiveRange> positions;
  int64_t position = 0;
  forall.getBody()->walk<WalkOrder::PreOrder>(
      [&](Operation *op) { positions[op] = {position, position}; ++position; });
  // Post-order, each op's range ends where the last op inside it does.
  forall.getBody()->walk([&](Operation *op) {
    for (Region &region : op->getRegions())
      for (Operation &inner : region.getOps())
        positions[op].last =
            std::max(positions[op].last, positions[&inner].last);
  });
  SmallVector<memref::AllocOp> registerTiles;
  WalkResult walk = forall.getBody()->walk([&](memref::AllocOp alloc) {
    MemRefType type = alloc.getType();
    if (isRegisterTile(type)) {
      registerTiles.push_back(alloc);
      return WalkResult::advance();
    }
    if (!type.hasStaticShape() || !type.getLayout().isIdentity() ||
        (type.getMemorySpace() &&
         !gpu::GPUDialect::hasWorkgroupMemoryAddressSpace(type)) ||
        !(type.getElementType().isIntOrIndexOrFloat())) {
      alloc.emitOpError("inside a thread block needs a static shape, the "
                        "identity layout, the default or the workgroup "
                        "memory space and a scalar element type, to get a "
                        "workspace slot");
      return WalkResult::interrupt();
    }
    allocs.push_back(alloc);
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();
  // A warp tile's result that its lanes keep in registers gets no slot: it
  // becomes an alloca, which needs no deallocation, until
  // nats-gpu-mma-sync, which stores nothing to it, erases it.
  for (memref::AllocOp alloc : registerTiles) {
    rewriter.setInsertionPoint(alloc);
    rewriter.replaceOpWithNewOp<memref::AllocaOp>(alloc, alloc.getType());
  }
  if (allocs.empty())
    return success();

  // Buffers that are never live at the same time share memory: every
  // phase of a block ends at a barrier (nats-map-foralls-to-gpu), so the
  // last reads of one are done before the first writes of the next.
  // First-fit packs well in two orders, neither always the better: the
  // longest-lived first (the vectors a block reads throughout then lie
  // below the tiles, not in the gaps between them where the next phase's
  // tile would go) and the largest first. Where either puts every buffer in
  // shared memory, the one with the fewest bytes a block: the most blocks an
  // SM. Else those asked for in workgroup memory (nats-gpu-prefetch's, which
  // cp.async fills: they must be in shared memory) first, then the rest
  // smallest first, while they fit: as many buffers as possible in shared
  // memory. The small ones (vectors, the solve's columns) are read in
  // scalar loops; what is left out is large (the output tile, a 64 x 128
  // matrix), read by tensor-core tiles whose loads the L1 cache serves.
  SmallVector<LiveRange> ranges =
      llvm::map_to_vector(allocs, [&](memref::AllocOp alloc) {
        return getLiveRange(alloc, positions);
      });
  SmallVector<int64_t> bytes =
      llvm::map_to_vector(allocs, [](memref::AllocOp alloc) {
        return getSlotBytes(alloc.getType());
      });
  auto asked = [&](size_t i) {
    return gpu::GPUDialect::hasWorkgroupMemoryAddressSpace(
        allocs[i].getType());
  };
  auto placeBy = [&](auto key, bool askedFirst) {
    SmallVector<size_t> order(allocs.size());
    std::iota(order.begin(), order.end(), 0);
    llvm::stable_sort(order, [&](size_t x, size_t y) {
      if (askedFirst && (asked(x) || asked(y)))
        return asked(x) && (!asked(y) || bytes[x] < bytes[y]);
      return key(x) < key(y);
    });
    return place(allocs, bytes, ranges, order, sharedMemoryBytes,
                 /*diagnose=*/askedFirst);
  };
  auto length = [&](size_t i) { return ranges[i].last - ranges[i].first; };
  FailureOr<Placement> placement = failure();
  for (bool longestFirst : {true, false}) {
    FailureOr<Placement> packed = placeBy(
        [&](size_t i) {
          return longestFirst ? std::make_pair(-length(i), -bytes[i])
                              : std::make_pair(-bytes[i], -length(i));
        },
        /*askedFirst=*/false);
    if (succeeded(packed) &&
        llvm::all_of(packed->inShared, [](bool shared) { return shared; }) &&
        (failed(placement) || packed->sharedBytes < placement->sharedBytes))
      placement = std::move(packed);
  }
  if (failed(placement))
    placement = placeBy([&](size_t i) { return bytes[i]; },
                        /*askedFirst=*/true);
  if (failed(placement))
    return failure();
  auto &[offsets, inShared, sharedBytes, globalBytes] = *placement;

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
    // (NVPTX infers the shared address space back for the loads); a buffer
    // asked for in workgroup memory is the view itself.
    Value view = memref::ViewOp::create(
        rewriter, loc,
        MemRefType::get(type.getShape(), type.getElementType(), AffineMap(),
                        cast<MemRefType>(pool.getType()).getMemorySpace()),
        pool, constant(offset), ValueRange{});
    if (gpu::GPUDialect::hasWorkgroupMemoryAddressSpace(type))
      rewriter.replaceOp(alloc, view);
    else
      rewriter.replaceOpWithNewOp<memref::MemorySpaceCastOp>(alloc, type, view);
  }
  return success();
}

struct NatsGPUWorkspacePass
    : nats::impl::NatsGPUWorkspacePassBase<NatsGPUWorkspacePass> {
  using Base::Base;

  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    for (scf::ForallOp forall : getBlockForalls(getOperation()))
      if (failed(placeInWorkspace(rewriter, forall, sharedMemoryBytes)))
        return signalPassFailure();
  }
};

} // namespace

int64_t mlir::nats::getSlotBytes(MemRefType type) {
  constexpr int64_t kSlotAlign = 256;
  return llvm::alignTo(
      type.getNumElements() * elementBytes(type.getElementType()), kSlotAlign);
}
