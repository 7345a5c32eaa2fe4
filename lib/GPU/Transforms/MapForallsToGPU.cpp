//===- MapForallsToGPU.cpp - mapped foralls to gpu.launch and threads -----===//
//
// The execution model inside a block: all threads run the block's
// sequential code (the chunk loop, scalar bookkeeping) in step; a thread
// forall is the one place where they split the work. Two rules keep that
// consistent:
//  - a thread forall is a loop over rounds of the block size, with a barrier
//    before (no thread overwrites what a slower one still reads) and after
//    (everybody sees the results);
//  - any other write to a buffer is done by thread 0 alone, between
//    barriers (a barrier or a wait for async copies is every thread's).
//    Were all threads to write, a fast thread could already be writing the
//    next value into the same place while a slow one writes the old one.
//
//===----------------------------------------------------------------------===//

#include "nats/GPU/Transforms/Alignment.h"
#include "nats/GPU/Transforms/BarrierElision.h"
#include "nats/GPU/Transforms/Mapping.h"
#include "nats/GPU/Transforms/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/Transforms/Transforms.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/StringMap.h"

namespace mlir::nats {
#define GEN_PASS_DEF_NATSMAPFORALLSTOGPUPASS
#include "nats/GPU/Transforms/Passes.h.inc"
} // namespace mlir::nats

using namespace mlir;
using namespace mlir::nats;

namespace {

/// Inlines the body of a bufferized `forall` before `point`, its induction
/// variables delinearised from `linear`.
void inlineForallBody(RewriterBase &rewriter, scf::ForallOp forall,
                      Value linear, Operation *point) {
  rewriter.setInsertionPoint(point);
  auto ivs = affine::AffineDelinearizeIndexOp::create(
      rewriter, forall.getLoc(), linear, forall.getMixedUpperBound(),
      /*hasOuterBound=*/true);
  Operation *terminator = forall.getBody()->getTerminator();
  rewriter.inlineBlockBefore(forall.getBody(), point, ivs.getResults());
  rewriter.eraseOp(terminator);
  rewriter.eraseOp(forall);
}

/// Elements of `copy` one access moves: pieces of rows where both sides'
/// rows are so aligned (1 for a copy of one element, a rank-0 memref).
int64_t getCopyVectorWidth(memref::CopyOp copy) {
  auto type = cast<MemRefType>(copy.getSource().getType());
  if (type.getRank() == 0)
    return 1;
  return getAlignedPieceWidth({copy.getSource(), copy.getTarget()},
                              type.getShape().back());
}

/// Copies access number `linear` (row-major over `copy`'s shape, its rows
/// in pieces of `width` elements) of `copy`: one element, or a vector of
/// `width` (one 16-byte load and store of a tile's row piece where there
/// had been eight of bf16).
void copyElements(RewriterBase &rewriter, memref::CopyOp copy, Value linear,
                  int64_t width) {
  Location loc = copy.getLoc();
  auto type = cast<MemRefType>(copy.getSource().getType());
  SmallVector<int64_t> shape(type.getShape());
  shape.back() /= width;
  SmallVector<Value> index = affine::AffineDelinearizeIndexOp::create(
                                 rewriter, loc, linear, shape,
                                 /*hasOuterBound=*/true)
                                 .getResults();
  if (width == 1) {
    Value element =
        memref::LoadOp::create(rewriter, loc, copy.getSource(), index);
    memref::StoreOp::create(rewriter, loc, element, copy.getTarget(), index);
    return;
  }
  index.back() = arith::MulIOp::create(
      rewriter, loc, index.back(),
      arith::ConstantIndexOp::create(rewriter, loc, width),
      arith::IntegerOverflowFlags::nuw | arith::IntegerOverflowFlags::nsw);
  auto vector = VectorType::get({width}, type.getElementType());
  uint64_t alignment =
      width * type.getElementType().getIntOrFloatBitWidth() / 8;
  auto load =
      vector::LoadOp::create(rewriter, loc, vector, copy.getSource(), index);
  load.setAlignment(alignment);
  auto store = vector::StoreOp::create(rewriter, loc, load, copy.getTarget(),
                                       index);
  store.setAlignment(alignment);
}

/// Inserts a barrier before `op` unless one is already there.
void barrierBefore(RewriterBase &rewriter, Operation *op) {
  if (isa_and_nonnull<gpu::BarrierOp>(op->getPrevNode()))
    return;
  rewriter.setInsertionPoint(op);
  gpu::BarrierOp::create(rewriter, op->getLoc());
}

void barrierAfter(RewriterBase &rewriter, Operation *op) {
  if (isa_and_nonnull<gpu::BarrierOp>(op->getNextNode()))
    return;
  rewriter.setInsertionPointAfter(op);
  gpu::BarrierOp::create(rewriter, op->getLoc());
}

/// Whether `op` is a loop (a thread loop) or an if (the prefetch's, which
/// skips the last step) whose only accesses to memory are async copies
/// (nats-gpu-prefetch's): they complete only at a wait, which a barrier
/// follows. Barriers inside order nothing of theirs.
bool onlyStartsAsyncCopies(Operation *op) {
  if (!isa<scf::ForOp, scf::IfOp>(op))
    return false;
  // Each op nested in `op` starts async copies, is a barrier, has no
  // effects of its own, or has only those of the ops it holds (walked too).
  auto harmless = [](Operation *nested) {
    if (isa<nvgpu::DeviceAsyncCopyOp, gpu::BarrierOp>(nested))
      return true;
    if (auto effects = dyn_cast<MemoryEffectOpInterface>(nested))
      return effects.hasNoEffect();
    return nested->hasTrait<OpTrait::HasRecursiveMemoryEffects>();
  };
  return !op->walk([&](Operation *nested) {
              return harmless(nested) ? WalkResult::advance()
                                      : WalkResult::interrupt();
            })
              .wasInterrupted();
}

/// The last op before `op` in its block that may touch memory, or null.
Operation *previousEffect(Operation *op) {
  for (Operation *previous = op->getPrevNode(); previous;
       previous = previous->getPrevNode())
    if (mayTouchMemory(previous))
      return previous;
  return nullptr;
}

/// Whether every thread passes a barrier right before `op`, with nothing
/// that touches memory between: one before it in its block; or, where it
/// is the first in its block, one right before the scf.if that holds it,
/// or right before the scf.for that holds it and at the end of that loop's
/// body (the previous iteration's).
bool afterBarrier(Operation *op) {
  if (Operation *previous = previousEffect(op))
    return isa<gpu::BarrierOp>(previous);
  Operation *parent = op->getParentOp();
  if (isa<scf::IfOp>(parent))
    return afterBarrier(parent);
  if (auto loop = dyn_cast<scf::ForOp>(parent)) {
    Operation *last = previousEffect(loop.getBody()->getTerminator());
    return last && isa<gpu::BarrierOp>(last) && afterBarrier(loop);
  }
  return false;
}

/// Whether the next op after `barrier` that touches memory, past at least
/// one commit or wait of async copies (each thread's own), is a barrier:
/// that one orders everything around both.
bool beforeAsyncWaitAndBarrier(gpu::BarrierOp barrier) {
  bool waits = false;
  for (Operation *next = barrier->getNextNode(); next;
       next = next->getNextNode()) {
    if (isa<nvgpu::DeviceAsyncCreateGroupOp, nvgpu::DeviceAsyncWaitOp>(next))
      waits = true;
    else if (isa<gpu::BarrierOp>(next))
      return waits;
    else if (mayTouchMemory(next))
      return false;
  }
  return false;
}

/// Whether `barrier` orders nothing that another one does not: every
/// thread reaches it right after another (afterBarrier: also across an
/// if's start and a loop's back edge); or right before a commit or wait of
/// async copies that a barrier follows; or right after ops that only start
/// async copies, which a barrier precedes (a loop or an if may not run at
/// all, so the barriers inside order nothing around them).
bool isRedundant(gpu::BarrierOp barrier) {
  if (afterBarrier(barrier) || beforeAsyncWaitAndBarrier(barrier))
    return true;
  Operation *previous = previousEffect(barrier);
  return previous && onlyStartsAsyncCopies(previous) && afterBarrier(previous);
}

/// Erases redundant barriers one at a time: each is redundant by the
/// barriers still there, so the ones it leans on stay.
void eraseRedundantBarriers(RewriterBase &rewriter, Operation *body) {
  while (true) {
    gpu::BarrierOp redundant;
    body->walk([&](gpu::BarrierOp barrier) {
      if (!isRedundant(barrier))
        return WalkResult::advance();
      redundant = barrier;
      return WalkResult::interrupt();
    });
    if (!redundant)
      return;
    rewriter.eraseOp(redundant);
  }
}

/// A loop made of a thread (or warp) forall: its iteration index i, and
/// the op its body goes before.
struct ThreadLoop {
  scf::ForOp loop;
  Value index;
  Operation *bodyEnd;
};

struct BlockMapper {
  RewriterBase &rewriter;
  int64_t blockThreads;
  /// Whether foralls without conflicts share a phase (merge-phases), and
  /// warp tiles on tensor cores and copies too (merge-tiles).
  bool mergePhases, mergeTiles;
  Value threadId;
  /// The loops made from thread foralls: what is inside runs per thread.
  DenseSet<Operation *> threadLoops;

  /// `count` iterations shared out over the threads (first = tid, step =
  /// blockThreads) or the warps (first = warp, step = warps), at the
  /// rewriter's insertion point, between barriers: a loop over the
  /// ceil(count / step) rounds, iteration i = first + round * step, guarded
  /// by i < count where step does not divide count: the loop, i, and the
  /// op the body goes before. The trip count is a constant,
  /// so LLVM unrolls short loops and overlaps their loads (a loop from
  /// `first` to `count` by `step` has a trip count it cannot know).
  ThreadLoop createThreadLoop(Location loc, int64_t count, Value first,
                              int64_t step) {
    auto constant = [&](int64_t value) -> Value {
      return arith::ConstantIndexOp::create(rewriter, loc, value);
    };
    auto loop = scf::ForOp::create(rewriter, loc, constant(0),
                                   constant(llvm::divideCeil(count, step)),
                                   constant(1));
    threadLoops.insert(loop);
    loop->setAttr(kThreadLoopAttrName, rewriter.getUnitAttr());
    barrierBefore(rewriter, loop);
    barrierAfter(rewriter, loop);
    rewriter.setInsertionPointToStart(loop.getBody());
    Value index = arith::AddIOp::create(
        rewriter, loc, first,
        arith::MulIOp::create(rewriter, loc, loop.getInductionVar(),
                              constant(step)),
        arith::IntegerOverflowFlags::nuw | arith::IntegerOverflowFlags::nsw);
    Operation *bodyEnd = loop.getBody()->getTerminator();
    if (count % step != 0) {
      Value inRange = arith::CmpIOp::create(
          rewriter, loc, arith::CmpIPredicate::ult, index, constant(count));
      auto guard = scf::IfOp::create(rewriter, loc, inRange,
                                     /*withElseRegion=*/false);
      bodyEnd = guard.thenBlock()->getTerminator();
    }
    return {loop, index, bodyEnd};
  }
  ThreadLoop createThreadLoop(Location loc, int64_t count) {
    return createThreadLoop(loc, count, threadId, blockThreads);
  }

  /// A forall becomes a thread loop over its iterations from `first` by
  /// `step`.
  scf::ForOp mapOntoLoop(scf::ForallOp forall, Value first, int64_t step) {
    rewriter.setInsertionPoint(forall);
    ThreadLoop loop =
        createThreadLoop(forall.getLoc(), getTripCount(forall), first, step);
    inlineForallBody(rewriter, forall, loop.index, loop.bodyEnd);
    return loop.loop;
  }

  /// A warp forall becomes a loop over its iterations, one per warp at a
  /// time; every lane of the warp runs it (its body is lane-level code from
  /// nats-gpu-mma-sync).
  FailureOr<scf::ForOp> mapWarps(scf::ForallOp forall) {
    if (blockThreads % kWarpSize != 0)
      return forall.emitOpError("needs block-threads to be a multiple of ")
             << kWarpSize << ", got " << blockThreads;
    WalkResult linalgLeft = forall.getBody()->walk(
        [](linalg::LinalgOp) { return WalkResult::interrupt(); });
    if (linalgLeft.wasInterrupted())
      return forall.emitOpError("still holds a linalg op: run "
                                "nats-gpu-mma-sync before mapping warps");
    Location loc = forall.getLoc();
    rewriter.setInsertionPoint(forall);
    Value warp = arith::DivUIOp::create(
        rewriter, loc, threadId,
        arith::ConstantIndexOp::create(rewriter, loc, kWarpSize));
    return mapOntoLoop(forall, warp, blockThreads / kWarpSize);
  }

  /// A copy becomes a loop over its elements (a kernel has no memrefCopy).
  /// One in the block's sequential code (bufferization makes these) is
  /// shared out over the threads like a thread forall (that loop is
  /// returned); one inside a thread loop is that thread's own (null).
  FailureOr<Operation *> mapCopy(memref::CopyOp copy) {
    // A tile written in place is "copied" onto itself (the parallel insert
    // of a thread or warp forall): nothing to do.
    if (copy.getSource() == copy.getTarget()) {
      rewriter.eraseOp(copy);
      return nullptr;
    }
    auto type = cast<MemRefType>(copy.getSource().getType());
    if (!type.hasStaticShape())
      return copy.emitOpError("in a kernel needs a static shape");
    Location loc = copy.getLoc();
    rewriter.setInsertionPoint(copy);
    int64_t width = getCopyVectorWidth(copy);
    int64_t accesses = type.getNumElements() / width;
    Value index;
    Operation *threadLoop = nullptr;
    if (inThreadLoop(copy)) {
      auto constant = [&](int64_t value) -> Value {
        return arith::ConstantIndexOp::create(rewriter, loc, value);
      };
      auto loop = scf::ForOp::create(rewriter, loc, constant(0),
                                     constant(accesses), constant(1));
      rewriter.setInsertionPointToStart(loop.getBody());
      index = loop.getInductionVar();
    } else {
      ThreadLoop loop = createThreadLoop(loc, accesses);
      index = loop.index;
      threadLoop = loop.loop;
      rewriter.setInsertionPoint(loop.bodyEnd);
    }
    copyElements(rewriter, copy, index, width);
    rewriter.eraseOp(copy);
    return threadLoop;
  }

  bool inThreadLoop(Operation *op) {
    for (Operation *parent = op->getParentOp(); parent;
         parent = parent->getParentOp())
      if (threadLoops.contains(parent))
        return true;
    return false;
  }

  /// A write outside the thread loops runs on thread 0 alone.
  void guardWrite(Operation *op) {
    Location loc = op->getLoc();
    barrierBefore(rewriter, op);
    barrierAfter(rewriter, op);
    rewriter.setInsertionPoint(op);
    Value isFirst = arith::CmpIOp::create(
        rewriter, loc, arith::CmpIPredicate::eq, threadId,
        arith::ConstantIndexOp::create(rewriter, loc, 0));
    auto guard = scf::IfOp::create(rewriter, loc, isFirst,
                                   /*withElseRegion=*/false);
    rewriter.moveOpBefore(op, guard.thenBlock()->getTerminator());
  }

  LogicalResult mapBlockBody(Operation *body) {
    llvm::DenseSet<Operation *> withoutBarrier;
    if (mergePhases)
      withoutBarrier = getPhasesWithoutBarrier(body, mergeTiles);
    // The loops of those foralls and copies and those loads, whose barrier
    // before goes at the end.
    SmallVector<Operation *> unordered;
    body->walk([&](memref::LoadOp load) {
      if (withoutBarrier.contains(load))
        unordered.push_back(load);
    });
    // Foralls nested in a block that are not thread foralls (the walk over
    // query blocks) run in sequence.
    SmallVector<scf::ForallOp> foralls;
    body->walk([&](scf::ForallOp forall) { foralls.push_back(forall); });
    for (scf::ForallOp forall : foralls) {
      if ((isThreadForall(forall) || isWarpForall(forall)) &&
          !forall.isNormalized())
        return forall.emitOpError("needs normalized bounds (from 0 by 1)");
      // The forall goes: its place in the set would be stale.
      bool keepBarrier = !withoutBarrier.erase(forall);
      if (isThreadForall(forall)) {
        scf::ForOp loop = mapOntoLoop(forall, threadId, blockThreads);
        if (!keepBarrier)
          unordered.push_back(loop);
        continue;
      }
      if (isWarpForall(forall)) {
        FailureOr<scf::ForOp> loop = mapWarps(forall);
        if (failed(loop))
          return failure();
        if (!keepBarrier)
          unordered.push_back(*loop);
        continue;
      }
      if (isBlockForall(forall))
        return forall.emitOpError("block forall nested in a block forall");
      if (failed(scf::forallToForLoop(rewriter, forall)))
        return forall.emitOpError("could not be turned into a loop");
    }

    SmallVector<memref::CopyOp> copies;
    body->walk([&](memref::CopyOp copy) { copies.push_back(copy); });
    for (memref::CopyOp copy : copies) {
      bool keepBarrier = !withoutBarrier.erase(copy);
      FailureOr<Operation *> loop = mapCopy(copy);
      if (failed(loop))
        return failure();
      if (!keepBarrier && *loop)
        unordered.push_back(*loop);
    }

    SmallVector<Operation *> writes;
    body->walk([&](Operation *op) {
      // Leaf writers of buffers only: a loop or an if writes through its
      // body; a barrier or a wait for async copies (which order memory,
      // SyncEffects.h) is every thread's.
      bool isLeaf = op->getNumRegions() == 0 || isa<linalg::LinalgOp>(op);
      bool onBuffers = llvm::any_of(op->getOperandTypes(),
                                    llvm::IsaPred<BaseMemRefType>);
      if (isLeaf && onBuffers && hasEffect<MemoryEffects::Write>(op) &&
          !inThreadLoop(op))
        writes.push_back(op);
    });
    for (Operation *op : writes)
      guardWrite(op);
    eraseRedundantBarriers(rewriter, body);
    for (Operation *op : unordered)
      eraseBarrierBefore(op, withoutBarrier);
    return success();
  }

  /// Erases the barrier between `op` (a thread loop or a scalar load) and
  /// the thread loop or the load of `phases` before it (with nothing
  /// between them but side-effect-free ops): the two are one phase.
  void eraseBarrierBefore(Operation *op,
                          const llvm::DenseSet<Operation *> &phases) {
    auto barrier = dyn_cast_or_null<gpu::BarrierOp>(previousEffect(op));
    if (!barrier)
      return;
    Operation *before = previousEffect(barrier);
    if (before && (threadLoops.contains(before) || phases.contains(before)))
      rewriter.eraseOp(barrier);
  }
};

/// A launch of `gridSize` blocks of `blockSize` threads; with `name`, the
/// kernel that outlining makes of it is called so, which profilers show.
gpu::LaunchOp createLaunch(RewriterBase &rewriter, Location loc,
                           int64_t gridSize, int64_t blockSize,
                           int64_t sharedBytes = 0, StringAttr name = {}) {
  auto constant = [&](int64_t value) -> Value {
    return arith::ConstantIndexOp::create(rewriter, loc, value);
  };
  Value one = constant(1);
  Value shared = sharedBytes ? arith::ConstantIntOp::create(
                                   rewriter, loc, sharedBytes, /*width=*/32)
                                   .getResult()
                             : Value();
  auto launch = gpu::LaunchOp::create(rewriter, loc, constant(gridSize), one,
                                      one, constant(blockSize), one, one,
                                      shared);
  if (name)
    launch.setFunctionAttr(FlatSymbolRefAttr::get(name));
  rewriter.setInsertionPointToEnd(&launch.getBody().front());
  gpu::TerminatorOp::create(rewriter, loc);
  return launch;
}

/// Creates, at the rewriter's insertion point, a launch of
/// ceil(count / blockThreads) blocks, and in it calls `body` with the
/// thread's number (block-major) where that is below `count`; `body`
/// inserts at the rewriter's insertion point.
void createGridLaunch(RewriterBase &rewriter, Location loc, int64_t count,
                      int64_t blockThreads,
                      function_ref<void(Value linear)> body) {
  int64_t blocks = llvm::divideCeilSigned(count, blockThreads);
  gpu::LaunchOp launch = createLaunch(rewriter, loc, blocks, blockThreads);
  rewriter.setInsertionPoint(launch.getBody().front().getTerminator());
  Value linear = affine::AffineLinearizeIndexOp::create(
      rewriter, loc,
      ValueRange{launch.getBlockIds().x, launch.getThreadIds().x},
      ArrayRef<int64_t>{blocks, blockThreads}, /*disjoint=*/true);
  Value inRange = arith::CmpIOp::create(
      rewriter, loc, arith::CmpIPredicate::ult, linear,
      arith::ConstantIndexOp::create(rewriter, loc, count));
  auto guard = scf::IfOp::create(rewriter, loc, inRange,
                                 /*withElseRegion=*/false);
  rewriter.setInsertionPoint(guard.thenBlock()->getTerminator());
  body(linear);
}

/// The threads that the warp foralls of `block` holding barriers
/// (nats-gpu-warp-rows' lane code) need: every warp must reach each barrier,
/// so each runs one iteration, all in one round. 0 where there are none;
/// `chosen` (kernel-threads' count, or 0) must agree.
FailureOr<int64_t> getBarrierWarpThreads(scf::ForallOp block, int64_t chosen) {
  int64_t threads = 0;
  WalkResult walk = block.getBody()->walk<WalkOrder::PreOrder>(
      [&](scf::ForallOp forall) {
    if (!isWarpForall(forall) ||
        !forall.getBody()
             ->walk([](gpu::BarrierOp) { return WalkResult::interrupt(); })
             .wasInterrupted())
      return WalkResult::advance();
    int64_t needed = getTripCount(forall) * kWarpSize;
    auto error = [&]() {
      return forall.emitOpError("holds barriers, so its block needs one warp "
                                "per iteration: ")
             << needed << " threads";
    };
    if (needed > 1024) {
      error() << ", more than a block has";
      return WalkResult::interrupt();
    }
    if (threads && needed != threads) {
      error() << ", where another such forall needs " << threads;
      return WalkResult::interrupt();
    }
    if (chosen && needed != chosen) {
      error() << ", where kernel-threads gives it " << chosen;
      return WalkResult::interrupt();
    }
    threads = needed;
    return WalkResult::skip();
  });
  if (walk.wasInterrupted())
    return failure();
  return threads;
}

/// The block's pool of shared memory (from nats-gpu-workspace): the one
/// `memref.alloca` of workgroup memory directly in the block, or null.
FailureOr<memref::AllocaOp> getSharedPool(scf::ForallOp forall) {
  memref::AllocaOp pool;
  for (Operation &op : forall.getBody()->getOperations()) {
    auto alloca = dyn_cast<memref::AllocaOp>(op);
    if (!alloca || !gpu::GPUDialect::hasWorkgroupMemoryAddressSpace(
                       alloca.getType()))
      continue;
    MemRefType type = alloca.getType();
    if (pool || type.getRank() != 1 || !type.hasStaticShape() ||
        !type.getElementType().isInteger(8))
      return alloca.emitOpError("is not the block's one static pool of "
                                "shared memory bytes");
    pool = alloca;
  }
  return pool;
}

/// The pool becomes the launch's dynamic shared memory (static shared
/// memory stops at 48 KiB; the runtime raises the limit for the kernel).
void useDynamicSharedMemory(RewriterBase &rewriter, memref::AllocaOp pool) {
  rewriter.setInsertionPoint(pool);
  Location loc = pool.getLoc();
  MemRefType type = pool.getType();
  Value base = gpu::DynamicSharedMemoryOp::create(
      rewriter, loc,
      MemRefType::get({ShapedType::kDynamic}, type.getElementType(),
                      AffineMap(), type.getMemorySpace()));
  rewriter.replaceOpWithNewOp<memref::ViewOp>(
      pool, type, base, arith::ConstantIndexOp::create(rewriter, loc, 0),
      ValueRange{});
}

struct NatsMapForallsToGPUPass
    : nats::impl::NatsMapForallsToGPUPassBase<NatsMapForallsToGPUPass> {
  using Base::Base;

  /// The threads of the kernels that kernel-threads names.
  llvm::StringMap<int64_t> threadsOfKernel;

  void runOnOperation() override {
    // A CUDA block has at most 1024 threads.
    auto isBlockSize = [](int64_t threads) {
      return threads >= 1 && threads <= 1024;
    };
    if (!isBlockSize(blockThreads)) {
      emitError(getOperation().getLoc())
          << "block-threads must be in [1, 1024], got "
          << static_cast<int64_t>(blockThreads);
      return signalPassFailure();
    }
    for (const std::string &entry : kernelThreads) {
      auto parsed = parseKernelCount(entry);
      if (!parsed || !isBlockSize(parsed->second)) {
        emitError(getOperation().getLoc())
            << "kernel-threads: expected name:threads with threads in [1, "
               "1024], got '"
            << entry << "'";
        return signalPassFailure();
      }
      threadsOfKernel[parsed->first] = parsed->second;
    }
    IRRewriter rewriter(&getContext());
    SmallVector<scf::ForallOp> outermost;
    getOperation().walk([&](scf::ForallOp forall) {
      if (!forall->getParentOfType<scf::ForallOp>())
        outermost.push_back(forall);
    });
    for (scf::ForallOp forall : outermost)
      if (failed(map(rewriter, forall)))
        return signalPassFailure();

    // Copies between buffers outside the kernels (bufferization makes
    // them, e.g. to pad the tokens): a kernel each, one access per thread
    // (an element, or a row's piece where the views are so aligned).
    SmallVector<memref::CopyOp> copies;
    getOperation().walk([&](memref::CopyOp copy) {
      if (!copy->getParentOfType<gpu::LaunchOp>())
        copies.push_back(copy);
    });
    for (memref::CopyOp copy : copies) {
      auto type = cast<MemRefType>(copy.getSource().getType());
      if (!type.hasStaticShape()) {
        copy.emitOpError("needs a static shape to become a kernel");
        return signalPassFailure();
      }
      rewriter.setInsertionPoint(copy);
      int64_t width = getCopyVectorWidth(copy);
      createGridLaunch(rewriter, copy.getLoc(), type.getNumElements() / width,
                       blockThreads, [&](Value linear) {
                         copyElements(rewriter, copy, linear, width);
                       });
      rewriter.eraseOp(copy);
    }
  }

  LogicalResult map(RewriterBase &rewriter, scf::ForallOp forall) {
    Location loc = forall.getLoc();
    if (forall.getNumResults() != 0)
      return forall.emitOpError("must be bufferized before it is mapped");
    if (ShapedType::isDynamicShape(forall.getStaticUpperBound()) ||
        !forall.isNormalized())
      return forall.emitOpError("needs static, normalized bounds");

    rewriter.setInsertionPoint(forall);
    if (isBlockForall(forall)) {
      FailureOr<memref::AllocaOp> pool = getSharedPool(forall);
      if (failed(pool))
        return failure();
      int64_t sharedBytes = *pool ? pool->getType().getNumElements() : 0;
      StringAttr name = getKernelName(forall);
      int64_t threads = blockThreads;
      int64_t chosen = name ? threadsOfKernel.lookup(name.getValue()) : 0;
      if (chosen)
        threads = chosen;
      FailureOr<int64_t> needed = getBarrierWarpThreads(forall, chosen);
      if (failed(needed))
        return failure();
      if (*needed)
        threads = *needed;
      gpu::LaunchOp launch = createLaunch(
          rewriter, loc, getTripCount(forall), threads, sharedBytes, name);
      if (*pool)
        useDynamicSharedMemory(rewriter, *pool);
      Operation *end = launch.getBody().front().getTerminator();
      inlineForallBody(rewriter, forall, launch.getBlockIds().x, end);
      BlockMapper mapper{rewriter, threads, mergePhases, mergeTiles,
                         launch.getThreadIds().x, {}};
      return mapper.mapBlockBody(launch);
    }
    if (isThreadForall(forall)) {
      // An op of the graph around the tiles: one iteration per thread.
      createGridLaunch(rewriter, loc, getTripCount(forall), blockThreads,
                       [&](Value linear) {
                         inlineForallBody(rewriter, forall, linear,
                                          &*rewriter.getInsertionPoint());
                       });
      return success();
    }
    return forall.emitOpError(
        "is not mapped to GPU blocks or threads (run nats-gpu-distribute)");
  }
};

} // namespace
