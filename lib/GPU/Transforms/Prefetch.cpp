//===- Prefetch.cpp - stage a loop's next tiles while this one computes ---===//
//
// A block's sequential loop (the state pass's walk over chunks) starts each
// iteration by copying tiles of global memory into its own buffers (the
// staged operands of its tensor-core tiles), and every thread then waits
// for its loads before anything else can run. Here those copies move one
// iteration ahead: each staged buffer gets two, in shared memory; iteration
// i computes on one while cp.async (nvgpu.device_async_copy) fills the
// other with iteration i + 1's tile, 16 bytes a copy where the tiles' rows
// are aligned, and the copies are waited for at the end of the iteration,
// where the block meets at a barrier anyway. A block's copies outside its
// loops (the chunk terms' tiles of q and k) run as cp.async too, 16 bytes a
// copy where there had been one load and one store an element, issued as
// soon as their tiles are known and waited for where they were: k's tile
// loads while q's is normalized.
//
//===----------------------------------------------------------------------===//

#include "nats/GPU/Transforms/Aliasing.h"
#include "nats/GPU/Transforms/Alignment.h"
#include "nats/GPU/Transforms/Mapping.h"
#include "nats/GPU/Transforms/Passes.h"
#include "nats/GPU/Transforms/SyncEffects.h"
#include "nats/GPU/Transforms/Workspace.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

#include "llvm/ADT/SetVector.h"

namespace mlir::nats {
#define GEN_PASS_DEF_NATSGPUPREFETCHPASS
#include "nats/GPU/Transforms/Passes.h.inc"
} // namespace mlir::nats

using namespace mlir;
using namespace mlir::nats;

namespace {

/// Whether `op` (a loop: anything in it) may write to the buffer that
/// `memref` views.
bool isWrittenIn(Operation *op, Value memref) {
  std::optional<SmallVector<MemoryEffects::EffectInstance>> effects =
      getEffectsRecursively(op);
  return !effects ||
         llvm::any_of(*effects, [&](const MemoryEffects::EffectInstance &e) {
           return isa<MemoryEffects::Write>(e.getEffect()) &&
                  (!e.getValue() || mayAlias(e.getValue(), memref));
         });
}

/// The ops of `loop`'s body that `values` are computed from (in body
/// order), or nothing where one of them is not a side-effect-free op or a
/// load of memory that the loop does not write, or depends on a value the
/// loop carries: what the copy of another iteration recomputes.
std::optional<SmallVector<Operation *>>
getRecomputedSlice(scf::ForOp loop, ArrayRef<Value> values) {
  llvm::SetVector<Operation *> slice;
  SmallVector<Value> worklist(values);
  while (!worklist.empty()) {
    Value value = worklist.pop_back_val();
    // A value the loop carries is not known for another iteration.
    if (auto argument = dyn_cast<BlockArgument>(value))
      if (argument.getOwner() == loop.getBody() &&
          argument != loop.getInductionVar())
        return std::nullopt;
    Operation *def = value.getDefiningOp();
    if (!def || def->getBlock() != loop.getBody() || slice.contains(def))
      continue;
    if (def->getNumRegions() != 0)
      return std::nullopt;
    auto load = dyn_cast<memref::LoadOp>(def);
    if (!isPure(def) && !(load && !isWrittenIn(loop, load.getMemRef())))
      return std::nullopt;
    slice.insert(def);
    llvm::append_range(worklist, def->getOperands());
  }
  SmallVector<Operation *> ordered = slice.takeVector();
  llvm::sort(ordered,
             [](Operation *a, Operation *b) { return a->isBeforeInBlock(b); });
  return ordered;
}

/// A thread forall directly in a loop's body (or in a block's, outside its
/// loops) that copies a tile of global memory, element by element, into a
/// buffer allocated in that body and touched only from the copy on.
struct StagedCopy {
  scf::ForallOp forall;
  /// The tiles the forall copies between, defined outside it.
  Value source, target;
  /// The target's buffer, and the subviews from it to the target.
  memref::AllocOp buffer;
  SmallVector<memref::SubViewOp> targetViews;
  /// The ops of the loop's body that the tile and the views' operands are
  /// computed from, which the copy of another iteration clones (none
  /// outside loops).
  SmallVector<Operation *> slice;
  /// Elements a cp.async moves: 16 bytes' where every row of both tiles is
  /// so aligned and the rows divide into as many, else 4 bytes' (one 32-bit
  /// element, or two 16-bit ones where their pairs are aligned).
  int64_t vector = 1;
};

/// Whether `buffer` is touched in the loop only from the copy `forall` on:
/// the copy is then all that its contents in an iteration come from. (A
/// buffer that is freed is not: this runs before deallocation.)
bool isFirstTouchedBy(memref::AllocOp buffer, scf::ForallOp forall) {
  Block *body = forall->getBlock();
  SmallVector<Value> worklist{buffer.getResult()};
  while (!worklist.empty()) {
    Value value = worklist.pop_back_val();
    for (Operation *user : value.getUsers()) {
      if (auto view = dyn_cast<ViewLikeOpInterface>(user)) {
        worklist.push_back(view->getResult(0));
        continue;
      }
      Operation *ancestor = body->findAncestorOpInBlock(*user);
      if (isa<memref::DeallocOp>(user) || !ancestor ||
          (ancestor != forall && ancestor->isBeforeInBlock(forall)))
        return false;
    }
  }
  return true;
}

/// `forall` as a staged copy in `body`, a loop of `block` or `block`
/// itself.
std::optional<StagedCopy> matchStagedCopy(scf::ForallOp forall,
                                          Operation *body,
                                          scf::ForallOp block) {
  if (!isThreadForall(forall) || forall->getParentOp() != body ||
      forall.getNumResults() != 0 || !forall.isNormalized())
    return std::nullopt;
  linalg::CopyOp copy;
  for (Operation &op : forall.getBody()->without_terminator()) {
    if (auto elementCopy = dyn_cast<linalg::CopyOp>(op)) {
      if (copy)
        return std::nullopt;
      copy = elementCopy;
      continue;
    }
    // The forall's parallel insert, bufferized: a copy onto itself.
    auto self = dyn_cast<memref::CopyOp>(op);
    if (!isa<memref::SubViewOp>(op) &&
        !(self && self.getSource() == self.getTarget()))
      return std::nullopt;
  }
  if (!copy || !copy.hasPureBufferSemantics())
    return std::nullopt;
  auto from = copy.getInputs()[0].getDefiningOp<memref::SubViewOp>();
  auto to = copy.getOutputs()[0].getDefiningOp<memref::SubViewOp>();
  if (!from || !to || !isElementView(from, forall) ||
      !isElementView(to, forall))
    return std::nullopt;
  StagedCopy staged{forall, from.getSource(), to.getSource(), {}, {}};
  // cp.async moves 4, 8 or 16 bytes: elements of 32 or 16 bits.
  Type element = from.getSourceType().getElementType();
  if (element != to.getSourceType().getElementType() ||
      !element.isIntOrFloat() ||
      !llvm::is_contained({16u, 32u}, element.getIntOrFloatBitWidth()) ||
      !from.getSourceType().isLastDimUnitStride() ||
      !to.getSourceType().isLastDimUnitStride())
    return std::nullopt;

  // The target: subviews of a buffer of the loop's body.
  Value target = staged.target;
  while (auto view = target.getDefiningOp<memref::SubViewOp>()) {
    staged.targetViews.insert(staged.targetViews.begin(), view);
    target = view.getSource();
  }
  staged.buffer = target.getDefiningOp<memref::AllocOp>();
  if (!staged.buffer || staged.buffer->getParentOp() != body ||
      !staged.buffer.getType().hasStaticShape() ||
      !staged.buffer.getType().getLayout().isIdentity() ||
      staged.buffer.getType().getMemorySpace() ||
      !isFirstTouchedBy(staged.buffer, forall))
    return std::nullopt;

  // The source: global memory (buffers from outside the block) that, in a
  // loop, nothing in the loop writes.
  for (const RootBuffer &root : getRootBuffers(staged.source)) {
    Operation *owner = root.base.getDefiningOp();
    if (!owner)
      owner = cast<BlockArgument>(root.base).getOwner()->getParentOp();
    if (block->isAncestor(owner))
      return std::nullopt;
  }
  if (auto loop = dyn_cast<scf::ForOp>(body)) {
    if (isWrittenIn(loop, staged.source))
      return std::nullopt;
    // What the next iteration's tile and its place are computed from.
    SmallVector<Value> roots{staged.source};
    for (memref::SubViewOp view : staged.targetViews)
      llvm::append_range(roots, view->getOperands().drop_front());
    std::optional<SmallVector<Operation *>> slice =
        getRecomputedSlice(loop, roots);
    if (!slice)
      return std::nullopt;
    staged.slice = std::move(*slice);
  }
  // 16 bytes a cp.async where the tiles allow: a quarter of the copies of
  // 4 bytes to issue (the state pass's steps had waited on issuing them,
  // run 57).
  int64_t bytes = element.getIntOrFloatBitWidth() / 8;
  std::optional<int64_t> columns =
      getConstantIntValue(forall.getMixedUpperBound().back());
  auto fits = [&](int64_t vector) {
    return vector == 1 ||
           (columns && *columns % vector == 0 &&
            hasAlignedRows(staged.source, vector, /*inSharedMemory=*/false) &&
            hasAlignedRows(staged.target, vector, /*inSharedMemory=*/false));
  };
  for (int64_t vector : {16 / bytes, 4 / bytes})
    if (fits(vector)) {
      staged.vector = vector;
      return staged;
    }
  return std::nullopt;
}

/// A workgroup buffer of the shape and element type of `staged`'s.
Value allocateShared(OpBuilder &b, Location loc, StagedCopy &staged) {
  MemRefType type = staged.buffer.getType();
  auto workgroup = gpu::AddressSpaceAttr::get(
      b.getContext(), gpu::GPUDialect::getWorkgroupAddressSpace());
  return memref::AllocOp::create(
      b, loc, MemRefType::get(type.getShape(), type.getElementType(),
                              AffineMap(), workgroup));
}

/// `staged`'s copy of `from` into `buffer` (a workgroup buffer, viewed as
/// the original target was, its views' operands through `mapping`) as
/// cp.async: a thread forall as the original is shared out over the
/// threads, `staged.vector` elements a copy.
void createAsyncCopy(OpBuilder &b, Location loc, StagedCopy &staged,
                     Value from, Value buffer, const IRMapping &mapping) {
  Value to = buffer;
  for (memref::SubViewOp view : staged.targetViews) {
    auto mapAll = [&](ArrayRef<OpFoldResult> values) {
      return llvm::map_to_vector(values, [&](OpFoldResult value) {
        if (auto dynamic = dyn_cast<Value>(value))
          return OpFoldResult(mapping.lookupOrDefault(dynamic));
        return value;
      });
    };
    to = memref::SubViewOp::create(b, loc, to, mapAll(view.getMixedOffsets()),
                                   mapAll(view.getMixedSizes()),
                                   mapAll(view.getMixedStrides()));
  }
  scf::ForallOp forall = staged.forall;
  // With vector copies, the last dim in steps of `vector` elements.
  SmallVector<OpFoldResult> bounds = forall.getMixedUpperBound();
  if (staged.vector > 1)
    bounds.back() =
        b.getIndexAttr(*getConstantIntValue(bounds.back()) / staged.vector);
  scf::ForallOp::create(
      b, forall.getLoc(), forall.getMixedLowerBound(), bounds,
      forall.getMixedStep(), ValueRange{}, forall.getMapping(),
      [&](OpBuilder &nested, Location at, ValueRange ivs) {
        SmallVector<Value> indices(ivs);
        if (staged.vector > 1)
          indices.back() = arith::MulIOp::create(
              nested, at, ivs.back(),
              arith::ConstantIndexOp::create(nested, at, staged.vector));
        nvgpu::DeviceAsyncCopyOp::create(
            nested, at, nvgpu::DeviceAsyncTokenType::get(b.getContext()), to,
            indices, from, indices, nested.getIndexAttr(staged.vector),
            /*srcElements=*/Value(), /*bypassL1=*/UnitAttr());
        scf::InParallelOp::create(nested, at);
      });
}

/// Every thread waits for its copies; the barrier after makes all of them
/// visible to the block.
void waitForCopies(OpBuilder &b, Location loc) {
  Value group = nvgpu::DeviceAsyncCreateGroupOp::create(
      b, loc, nvgpu::DeviceAsyncTokenType::get(b.getContext()), ValueRange{});
  nvgpu::DeviceAsyncWaitOp::create(b, loc, group, b.getI32IntegerAttr(0));
  gpu::BarrierOp::create(b, loc);
}

/// The op of `body` after which `staged`'s copy can start: the last that
/// its tile or the views of its target are computed from, or that may
/// write to the tile's memory (null: none, the body's start).
Operation *getEarliestIssue(StagedCopy &staged, Block *body) {
  SmallVector<Value> roots{staged.source};
  for (memref::SubViewOp view : staged.targetViews)
    llvm::append_range(roots, view->getOperands().drop_front());
  Operation *last = nullptr;
  for (Value root : roots) {
    Operation *def = root.getDefiningOp();
    Operation *ancestor = def ? body->findAncestorOpInBlock(*def) : nullptr;
    if (ancestor && (!last || last->isBeforeInBlock(ancestor)))
      last = ancestor;
  }
  // Barriers and waits write no buffer of their own: they order the writes
  // of the ops around them, which are looked at.
  for (Operation *op = staged.forall->getPrevNode(); op && op != last;
       op = op->getPrevNode())
    if (!isSynchronization(op) && isWrittenIn(op, staged.source))
      return op;
  return last;
}

/// A copy as cp.async into a workgroup buffer in place of its own, as a
/// group of its own, waited for where the copy was: its users read the
/// buffer through a generic pointer, as they did. Outside loops it is issued
/// as early as its tile is known (the chunk terms' k tile then loads while
/// q's is normalized). In a loop's body (a copy whose buffers did not fit
/// twice) it is issued at the iteration's start, after `issued` (the group
/// of the copy staged there before it, null for none), its tile and target
/// views computed there again (nothing in the loop writes the tile): the
/// tiles load in the order the iteration needs them, while it works on
/// what it has. Returns its group and its wait, whose count of younger
/// groups the caller sets.
std::pair<nvgpu::DeviceAsyncCreateGroupOp, nvgpu::DeviceAsyncWaitOp>
stageInPlace(RewriterBase &b, StagedCopy &staged, Block *body,
             Operation *issued) {
  Location loc = staged.forall.getLoc();
  IRMapping mapping;
  if (issued) {
    b.setInsertionPointAfter(issued);
  } else if (isa<scf::ForOp>(body->getParentOp())) {
    b.setInsertionPointToStart(body);
  } else if (Operation *last = getEarliestIssue(staged, body)) {
    b.setInsertionPointAfter(last);
  } else {
    b.setInsertionPointToStart(body);
  }
  for (Operation *op : staged.slice)
    b.clone(*op, mapping);
  Value shared = allocateShared(b, loc, staged);
  Value generic = memref::MemorySpaceCastOp::create(
      b, loc, staged.buffer.getType(), shared);
  createAsyncCopy(b, loc, staged, mapping.lookupOrDefault(staged.source),
                  shared, mapping);
  auto group = nvgpu::DeviceAsyncCreateGroupOp::create(
      b, loc, nvgpu::DeviceAsyncTokenType::get(b.getContext()), ValueRange{});
  b.setInsertionPoint(staged.forall);
  auto wait = nvgpu::DeviceAsyncWaitOp::create(b, loc, group,
                                               b.getI32IntegerAttr(0));
  gpu::BarrierOp::create(b, loc);
  b.eraseOp(staged.forall);
  b.replaceAllUsesWith(staged.buffer.getResult(), generic);
  b.eraseOp(staged.buffer);
  return {group, wait};
}

class LoopPrefetcher {
public:
  LoopPrefetcher(RewriterBase &rewriter, scf::ForOp loop,
                 SmallVector<StagedCopy> copies)
      : b(rewriter), loop(loop), copies(std::move(copies)),
        loc(loop.getLoc()) {}

  void run() {
    Value iv = loop.getInductionVar();
    Value lb = loop.getLowerBound(), ub = loop.getUpperBound(),
          step = loop.getStep();

    // Two buffers a copy, live through the loop.
    b.setInsertionPoint(loop);
    SmallVector<std::pair<Value, Value>> buffers;
    for (StagedCopy &staged : copies)
      buffers.push_back(
          {allocateShared(b, loc, staged), allocateShared(b, loc, staged)});
    // The first iteration's tiles, before the loop.
    Value any =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, lb, ub);
    issueCopies(any, lb, llvm::to_vector(llvm::make_first_range(buffers)));
    waitForCopies(b, loc);

    // In the body: this iteration's buffer of each pair, and the other.
    b.setInsertionPointToStart(loop.getBody());
    Value count = arith::DivUIOp::create(
        b, loc, arith::SubIOp::create(b, loc, iv, lb), step);
    Value even = arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::eq,
        arith::RemUIOp::create(b, loc, count, index(2)), index(0));
    SmallVector<Value> next;
    for (auto [staged, pair] : llvm::zip(copies, buffers)) {
      Value current =
          arith::SelectOp::create(b, loc, even, pair.first, pair.second);
      next.push_back(
          arith::SelectOp::create(b, loc, even, pair.second, pair.first));
      // The users keep the generic pointer they had (NVPTX infers the
      // shared address space back).
      Value generic = memref::MemorySpaceCastOp::create(
          b, loc, staged.buffer.getType(), current);
      b.replaceAllUsesWith(staged.buffer.getResult(), generic);
    }
    // Then the next iteration's tiles, while this one computes.
    Value nextIv = arith::AddIOp::create(b, loc, iv, step);
    Value more = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt,
                                       nextIv, ub);
    issueCopies(more, nextIv, next);
    // A group of their own: the copies the iteration stages in place
    // (stageInPlace) then wait for theirs alone, these still in flight.
    Value group = nvgpu::DeviceAsyncCreateGroupOp::create(
        b, loc, nvgpu::DeviceAsyncTokenType::get(b.getContext()),
        ValueRange{});

    for (StagedCopy &staged : copies) {
      b.eraseOp(staged.forall);
      b.eraseOp(staged.buffer);
    }
    b.setInsertionPoint(loop.getBody()->getTerminator());
    nvgpu::DeviceAsyncWaitOp::create(b, loc, group, b.getI32IntegerAttr(0));
    gpu::BarrierOp::create(b, loc);
  }

private:
  Value index(int64_t value) {
    return arith::ConstantIndexOp::create(b, loc, value);
  }

  /// Where `condition` holds, starts each copy for iteration `iv` into its
  /// buffer of `targets` (workgroup memory).
  void issueCopies(Value condition, Value iv, ArrayRef<Value> targets) {
    auto guard = scf::IfOp::create(b, loc, condition, /*withElseRegion=*/false);
    OpBuilder::InsertionGuard insertion(b);
    b.setInsertionPoint(guard.thenBlock()->getTerminator());
    for (auto [staged, target] : llvm::zip(copies, targets)) {
      IRMapping mapping;
      mapping.map(loop.getInductionVar(), iv);
      for (Operation *op : staged.slice)
        b.clone(*op, mapping);
      createAsyncCopy(b, loc, staged, mapping.lookupOrDefault(staged.source),
                      target, mapping);
    }
  }

  RewriterBase &b;
  scf::ForOp loop;
  SmallVector<StagedCopy> copies;
  Location loc;
};

struct NatsGPUPrefetchPass
    : nats::impl::NatsGPUPrefetchPassBase<NatsGPUPrefetchPass> {
  using Base::Base;

  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    for (scf::ForallOp block : getBlockForalls(getOperation()))
      prefetchInBlock(rewriter, block);
  }

  /// The staged copies directly in `body` (a loop of `block`, or `block`),
  /// in order.
  static SmallVector<StagedCopy> collectCopies(Operation *body,
                                               scf::ForallOp block) {
    SmallVector<StagedCopy> copies;
    for (auto forall : body->getRegion(0).getOps<scf::ForallOp>())
      if (std::optional<StagedCopy> staged =
              matchStagedCopy(forall, body, block))
        copies.push_back(std::move(*staged));
    return copies;
  }

  /// Stages `copies` (of `body`) in place, each as a group of its own, and
  /// sets each wait's count of the groups issued after its own and before
  /// it, which may run on (cp.async.wait_group counts the youngest groups
  /// still in flight; a loop's prefetch of its next tiles is one of them).
  static void stageAllInPlace(RewriterBase &rewriter,
                              MutableArrayRef<StagedCopy> copies,
                              Block *body) {
    SmallVector<std::pair<nvgpu::DeviceAsyncCreateGroupOp,
                          nvgpu::DeviceAsyncWaitOp>>
        staged;
    bool inLoop = isa<scf::ForOp>(body->getParentOp());
    for (StagedCopy &copy : copies)
      staged.push_back(stageInPlace(
          rewriter, copy, body,
          inLoop && !staged.empty() ? staged.back().first : nullptr));
    for (auto [group, wait] : staged) {
      int32_t younger = 0;
      for (Operation *op = group->getNextNode(); op != wait;
           op = op->getNextNode())
        younger += isa<nvgpu::DeviceAsyncCreateGroupOp>(op);
      wait.setNumGroups(younger);
    }
  }

  /// A loop's staged copies get two buffers each (the next iteration's
  /// tile loads while this one computes) while the block's buffers, each
  /// such one twice, fit in `shared-memory-bytes` even if none shared
  /// memory with another: nats-gpu-workspace then places them all in
  /// shared memory. The copies outside the loops, and a loop's that do not
  /// fit twice (the state pass's tiles at head dim 256), are staged in
  /// place, one buffer each, while all the workgroup buffers fit (the
  /// workspace must place those in shared memory; the others may go to
  /// global memory): 16 bytes a copy, issued as soon as their tiles are
  /// known, where each thread had loaded and stored an element at a time.
  void prefetchInBlock(RewriterBase &rewriter, scf::ForallOp block) {
    int64_t bytes = 0;
    block.getBody()->walk([&](memref::AllocOp alloc) {
      if (alloc.getType().hasStaticShape())
        bytes += getSlotBytes(alloc.getType());
    });
    SmallVector<scf::ForOp> loops;
    block.getBody()->walk([&](scf::ForOp loop) {
      if (isInBlockOutsideThreads(loop))
        loops.push_back(loop);
    });
    int64_t workgroupBytes = 0;
    auto fitsOnce = [&](StagedCopy &copy) {
      int64_t slot = getSlotBytes(copy.buffer.getType());
      if (workgroupBytes + slot > sharedMemoryBytes)
        return false;
      workgroupBytes += slot;
      return true;
    };
    SmallVector<std::pair<Block *, SmallVector<StagedCopy>>> inPlace;
    for (scf::ForOp loop : loops) {
      SmallVector<StagedCopy> twice, once;
      for (StagedCopy &copy : collectCopies(loop, block)) {
        int64_t slot = getSlotBytes(copy.buffer.getType());
        if (bytes + slot <= sharedMemoryBytes) {
          bytes += slot;
          workgroupBytes += 2 * slot;
          twice.push_back(std::move(copy));
        } else {
          once.push_back(std::move(copy));
        }
      }
      if (!twice.empty())
        LoopPrefetcher(rewriter, loop, std::move(twice)).run();
      inPlace.push_back({loop.getBody(), std::move(once)});
    }
    inPlace.push_back({block.getBody(), collectCopies(block, block)});
    for (auto &[body, copies] : inPlace) {
      SmallVector<StagedCopy> taken;
      for (StagedCopy &copy : copies)
        if (fitsOnce(copy))
          taken.push_back(std::move(copy));
      stageAllInPlace(rewriter, taken, body);
    }
  }
};

} // namespace
