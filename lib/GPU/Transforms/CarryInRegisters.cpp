//===- CarryInRegisters.cpp - a thread's places in registers across a loop ===//
//
// The state pass keeps S in shared memory, f32: at every step of the chunk
// loop each warp loads its tensor-core accumulators of S, adds K_cᵀ U and
// stores them back, a load and a store of every element a step (the
// update, 38% of that kernel's time at head dim 256 in run 102). No other
// phase of the step touches S in f32 (the snapshot and W·S read its 16-bit
// copy), so each thread's places of S are its own for the whole loop. Here
// such places stay in registers: loaded once before the loop, carried as
// its iteration arguments, stored once after it.
//
// A block's loop (one with a barrier in its body: every thread runs it; a
// kernel's own, of constant bounds, that runs) carries a group of accesses
// to shared memory where
//  - each is a vector.load followed by a vector.store of the same place
//    (the same memref, indices equal up to constants), with nothing else in
//    the loop touching memory the group may share, and no cp.async into it
//    in flight when the loop starts;
//  - they are all in one block, the loop's body or that of a thread loop in
//    it (nats.thread_loop, a forall's iterations: unrolled here, at most
//    kMaxUnroll of them) or of a guard there, with no barrier between the
//    first and the last;
//  - within that block their places are provably apart, and they can be
//    computed before the loop.
// In a race-free kernel no other thread touches what a thread writes in the
// same phase, and no iteration of a forall what another one writes: what a
// thread stores in one step is what it loads in the next.
//
//===----------------------------------------------------------------------===//

#include "nats/GPU/Transforms/Aliasing.h"
#include "nats/GPU/Transforms/BarrierElision.h"
#include "nats/GPU/Transforms/Mapping.h"
#include "nats/GPU/Transforms/Passes.h"
#include "nats/GPU/Transforms/SyncEffects.h"

#include "mlir/Analysis/DataFlow/IntegerRangeAnalysis.h"
#include "mlir/Analysis/DataFlow/Utils.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"


namespace mlir::nats {
#define GEN_PASS_DEF_NATSGPUCARRYINREGISTERSPASS
#include "nats/GPU/Transforms/Passes.h.inc"
} // namespace mlir::nats

using namespace mlir;
using namespace mlir::nats;

namespace {

/// The iterations of a thread loop unrolled at most: the state pass's warps
/// take two tiles of S each at head dim 256.
constexpr int64_t kMaxUnroll = 4;

/// `value` as root + constant through arith.addi with a constant operand
/// (a constant alone has a null root).
std::pair<Value, int64_t> splitConstant(Value value) {
  int64_t sum = 0;
  while (auto add = value.getDefiningOp<arith::AddIOp>()) {
    if (std::optional<int64_t> c = getConstantIntValue(add.getRhs())) {
      sum += *c;
      value = add.getLhs();
    } else if (std::optional<int64_t> c = getConstantIntValue(add.getLhs())) {
      sum += *c;
      value = add.getRhs();
    } else {
      break;
    }
  }
  if (std::optional<int64_t> c = getConstantIntValue(value))
    return {Value(), sum + *c};
  return {value, sum};
}

/// A vector access's memref, indices and vector type.
struct Access {
  Operation *op;
  Value base;
  ValueRange indices;
  VectorType type;
};

Access getAccess(Operation *op) {
  if (auto load = dyn_cast<vector::LoadOp>(op))
    return {op, load.getBase(), load.getIndices(), load.getVectorType()};
  auto store = cast<vector::StoreOp>(op);
  return {op, store.getBase(), store.getIndices(), store.getVectorType()};
}

/// The constant differences of `b`'s indices from `a`'s, where both access
/// the same memref and every difference is constant.
std::optional<SmallVector<int64_t>> getDeltas(const Access &a,
                                              const Access &b) {
  if (a.base != b.base)
    return std::nullopt;
  SmallVector<int64_t> deltas;
  for (auto [x, y] : llvm::zip_equal(a.indices, b.indices)) {
    auto [xRoot, xConstant] = splitConstant(x);
    auto [yRoot, yConstant] = splitConstant(y);
    if (xRoot != yRoot)
      return std::nullopt;
    deltas.push_back(yConstant - xConstant);
  }
  return deltas;
}

bool isSamePlace(const Access &a, const Access &b) {
  std::optional<SmallVector<int64_t>> deltas = getDeltas(a, b);
  return a.type == b.type && deltas &&
         llvm::all_of(*deltas, [](int64_t d) { return d == 0; });
}

/// Whether distinct in-bounds indices of `type` name distinct elements:
/// each dimension's stride spans at least the dimensions inside it.
bool hasDistinctElements(MemRefType type) {
  SmallVector<int64_t> strides;
  int64_t offset;
  if (!type.hasStaticShape() ||
      failed(type.getStridesAndOffset(strides, offset)))
    return false;
  int64_t inner = 1;
  for (int64_t i = type.getRank() - 1; i >= 0; --i) {
    if (ShapedType::isDynamic(strides[i]) || strides[i] < inner)
      return false;
    inner = strides[i] * type.getDimSize(i);
  }
  return true;
}

/// Whether `index` provably lies in [0, limit) (integer range analysis).
bool isWithin(Value index, int64_t limit, DataFlowSolver &solver) {
  auto *lattice = solver.lookupState<dataflow::IntegerValueRangeLattice>(index);
  if (!lattice || lattice->getValue().isUninitialized())
    return false;
  const ConstantIntRanges &range = lattice->getValue().getValue();
  return range.smin().getSExtValue() >= 0 &&
         range.smax().getSExtValue() < limit;
}

/// Whether two accesses of 1-D vectors along the last dimension touch no
/// element in common: pieces of one row apart, or, where the indices inside
/// the first one that differs are provably in bounds, another row.
bool areApart(const Access &a, const Access &b, DataFlowSolver &solver) {
  std::optional<SmallVector<int64_t>> deltas = getDeltas(a, b);
  auto type = cast<MemRefType>(a.base.getType());
  if (!deltas || deltas->empty() || a.type.getRank() != 1 ||
      b.type.getRank() != 1 || !hasDistinctElements(type))
    return false;
  const auto *differs = llvm::find_if(ArrayRef(*deltas).drop_back(),
                                      [](int64_t d) { return d != 0; });
  if (differs == deltas->end() - 1) {
    int64_t delta = deltas->back();
    return delta >= a.type.getNumElements() ||
           -delta >= b.type.getNumElements();
  }
  int64_t rank = type.getRank();
  for (int64_t dim = differs - deltas->begin() + 1; dim < rank; ++dim) {
    int64_t size = type.getDimSize(dim);
    for (const Access *access : {&a, &b}) {
      int64_t limit = dim == rank - 1
                          ? size - access->type.getNumElements() + 1
                          : size;
      if (!isWithin(access->indices[dim], limit, solver))
        return false;
    }
  }
  return true;
}

/// Whether `memref` lies in the block's shared memory.
bool isShared(Value memref) {
  SmallVector<RootBuffer> roots = getRootBuffers(memref);
  return !roots.empty() && llvm::all_of(roots, [](const RootBuffer &root) {
    if (isa_and_nonnull<gpu::DynamicSharedMemoryOp>(root.base.getDefiningOp()))
      return true;
    auto type = dyn_cast<MemRefType>(root.base.getType());
    return type && gpu::GPUDialect::hasWorkgroupMemoryAddressSpace(type);
  });
}

/// Whether `value` can be computed before `loop`: defined outside it, or by
/// a pure op in it (of no regions) from such values. The induction
/// variables of `unrolled` loops count as known (constants once unrolled).
bool isComputableBefore(Value value, scf::ForOp loop,
                        ArrayRef<scf::ForOp> unrolled) {
  if (!loop->isAncestor(value.getParentRegion()->getParentOp()))
    return true;
  if (auto arg = dyn_cast<BlockArgument>(value))
    return llvm::any_of(unrolled, [&](scf::ForOp inner) {
      return arg == inner.getInductionVar();
    });
  Operation *def = value.getDefiningOp();
  return def->getNumRegions() == 0 && isPure(def) &&
         llvm::all_of(def->getOperands(), [&](Value operand) {
           return isComputableBefore(operand, loop, unrolled);
         });
}

/// A load and the store of its place after it, in one block.
struct Pair {
  Access load, store;
};

/// The guard (an scf.if) a pair's block is the body of, or null.
scf::IfOp getGuard(const Pair &pair) {
  return dyn_cast<scf::IfOp>(pair.load.op->getParentOp());
}

/// The thread loop around a pair in `loop`, or null.
scf::ForOp getThreadLoop(const Pair &pair, scf::ForOp loop) {
  Operation *parent = pair.load.op->getParentOp();
  if (isa<scf::IfOp>(parent))
    parent = parent->getParentOp();
  return parent == loop ? scf::ForOp() : cast<scf::ForOp>(parent);
}

/// What a block's loop may carry: the pairs, and the thread loops to unroll
/// first (in whose bodies they are).
struct Plan {
  SmallVector<Pair> pairs;
  SmallVector<scf::ForOp> unroll;
};

bool hasSynchronization(Block *block) {
  return block
      ->walk([](Operation *op) {
        return isSynchronization(op) ? WalkResult::interrupt()
                                     : WalkResult::advance();
      })
      .wasInterrupted();
}

/// `loop`'s iterations where its bounds and step are constants and its
/// induction variable an index; none otherwise.
std::optional<int64_t> getConstantTripCount(scf::ForOp loop) {
  std::optional<int64_t> lower = getConstantIntValue(loop.getLowerBound());
  std::optional<int64_t> upper = getConstantIntValue(loop.getUpperBound());
  std::optional<int64_t> step = getConstantIntValue(loop.getStep());
  if (!lower || !upper || !step || *step <= 0 ||
      !loop.getInductionVar().getType().isIndex())
    return std::nullopt;
  return *upper > *lower ? llvm::divideCeil(*upper - *lower, *step) : 0;
}

/// A thread loop that may be unrolled: 1 to kMaxUnroll iterations, no
/// results, and no synchronization in it.
bool isUnrollable(scf::ForOp loop) {
  std::optional<int64_t> trips = getConstantTripCount(loop);
  return loop->hasAttr(kThreadLoopAttrName) && trips && *trips >= 1 &&
         *trips <= kMaxUnroll && loop.getNumResults() == 0 &&
         !hasSynchronization(loop.getBody());
}

/// A guard whose body pairs may be in: an scf.if of no results and no else
/// (a thread loop's iteration in range), no synchronization in it.
bool isGuard(scf::IfOp guard) {
  return guard.getNumResults() == 0 && guard.getElseRegion().empty() &&
         !hasSynchronization(guard.thenBlock());
}

/// The ops of a loop that touch memory, in `blocks`, where pairs may be
/// (the loop's body, those of its unrollable thread loops and of their
/// guards): the vector accesses of shared memory, the synchronizations,
/// and the memrefs the others touch; failure where an op's effects are not
/// known (the ops of nested regions count as their parent's).
struct Accesses {
  SmallVector<Access> candidates;
  DenseSet<Operation *> syncs;
  SmallVector<Value> others;
};

FailureOr<Accesses> collectAccesses(ArrayRef<Block *> blocks) {
  Accesses accesses;
  for (Block *block : blocks)
    for (Operation &op : *block) {
      // A thread loop or guard whose body is one of the blocks.
      if (llvm::any_of(op.getRegions(), [&](Region &region) {
            return !region.empty() &&
                   llvm::is_contained(blocks, &region.front());
          }))
        continue;
      if (isa<vector::LoadOp, vector::StoreOp>(op) &&
          isShared(getAccess(&op).base)) {
        accesses.candidates.push_back(getAccess(&op));
        continue;
      }
      if (isSynchronization(&op)) {
        accesses.syncs.insert(&op);
        continue;
      }
      if (!mayTouchMemory(&op))
        continue;
      std::optional<SmallVector<MemoryEffects::EffectInstance>> effects =
          getMemoryEffects(&op, /*tiles=*/true);
      if (!effects)
        return failure();
      for (const MemoryEffects::EffectInstance &effect : *effects) {
        if (Value value = effect.getValue())
          accesses.others.push_back(value);
        else if (isa<MemoryEffects::Read, MemoryEffects::Write>(
                     effect.getEffect()))
          return failure(); // Some memory, or a barrier inside.
      }
    }
  return accesses;
}

/// Whether a synchronization of `block` lies between `first` and `last`.
bool isSyncBetween(Operation *first, Operation *last,
                   const DenseSet<Operation *> &syncs) {
  if (last->isBeforeInBlock(first))
    std::swap(first, last);
  for (Operation *op = first; op != last; op = op->getNextNode())
    if (syncs.contains(op))
      return true;
  return false;
}

/// The destinations of the cp.async copies issued before `loop` that may
/// not have completed when it starts (since the last wait for all of them
/// in the kernel's body); failure where that is not known.
FailureOr<SmallVector<Value>> getCopiesInFlight(scf::ForOp loop) {
  if (!isa<gpu::LaunchOp>(loop->getParentOp()))
    return failure();
  SmallVector<Value> destinations;
  for (Operation *op = loop->getPrevNode(); op; op = op->getPrevNode()) {
    if (auto wait = dyn_cast<nvgpu::DeviceAsyncWaitOp>(op);
        wait && wait.getNumGroups().value_or(0) == 0)
      break;
    op->walk([&](nvgpu::DeviceAsyncCopyOp copy) {
      destinations.push_back(copy.getDst());
    });
  }
  return destinations;
}

/// The plan for `loop`: empty where it carries nothing.
Plan planLoop(scf::ForOp loop, DataFlowSolver &solver) {
  // The loop runs (the places are accessed as they were), and every thread
  // runs it.
  Block *body = loop.getBody();
  std::optional<int64_t> trips = getConstantTripCount(loop);
  FailureOr<SmallVector<Value>> inFlight = getCopiesInFlight(loop);
  if (!trips || *trips < 1 || failed(inFlight) ||
      body->getOps<gpu::BarrierOp>().empty())
    return {};
  SmallVector<Block *> blocks = {body};
  auto addGuards = [&](Block *block) {
    for (auto guard : block->getOps<scf::IfOp>())
      if (isGuard(guard))
        blocks.push_back(guard.thenBlock());
  };
  addGuards(body);
  for (auto inner : body->getOps<scf::ForOp>())
    if (isUnrollable(inner)) {
      blocks.push_back(inner.getBody());
      addGuards(inner.getBody());
    }
  FailureOr<Accesses> accesses = collectAccesses(blocks);
  if (failed(accesses))
    return {};

  // Each load with the first store of its place after it.
  SmallVector<Pair> pairs;
  DenseSet<Operation *> paired;
  for (const Access &load : accesses->candidates) {
    if (!isa<vector::LoadOp>(load.op))
      continue;
    for (const Access &store : accesses->candidates)
      if (isa<vector::StoreOp>(store.op) && !paired.contains(store.op) &&
          store.op->getBlock() == load.op->getBlock() &&
          load.op->isBeforeInBlock(store.op) && isSamePlace(load, store)) {
        pairs.push_back({load, store});
        paired.insert(load.op);
        paired.insert(store.op);
        break;
      }
  }
  // A copy still in flight writes its destination during the loop.
  SmallVector<Value> others = accesses->others;
  llvm::append_range(others, *inFlight);
  for (const Access &access : accesses->candidates)
    if (!paired.contains(access.op))
      others.push_back(access.base);

  // A pair whose place (or guard) cannot be computed before the loop is an
  // access like the others.
  auto isComputable = [&](const Pair &pair) {
    SmallVector<scf::ForOp> inner;
    if (scf::ForOp threadLoop = getThreadLoop(pair, loop))
      inner.push_back(threadLoop);
    scf::IfOp guard = getGuard(pair);
    return llvm::all_of(pair.load.op->getOperands(),
                        [&](Value operand) {
                          return isComputableBefore(operand, loop, inner);
                        }) &&
           (!guard || isComputableBefore(guard.getCondition(), loop, inner));
  };
  llvm::erase_if(pairs, [&](const Pair &pair) {
    if (isComputable(pair))
      return false;
    others.push_back(pair.load.base);
    return true;
  });

  // A pair stays while nothing else may touch its memory but pairs of its
  // block at places apart, all in one phase; a pair dropped is an access
  // like the others.
  auto isCarriable = [&](const Pair &pair) {
    if (llvm::any_of(others, [&](Value other) {
          return mayAlias(other, pair.load.base);
        }))
      return false;
    return llvm::all_of(pairs, [&](const Pair &other) {
      if (!mayAlias(other.load.base, pair.load.base))
        return true;
      if (other.load.op->getBlock() != pair.load.op->getBlock())
        return false;
      if (&other != &pair && !areApart(other.load, pair.load, solver))
        return false;
      return !isSyncBetween(other.load.op, pair.store.op, accesses->syncs) &&
             !isSyncBetween(pair.load.op, other.store.op, accesses->syncs);
    });
  };
  for (bool changed = true; changed;) {
    changed = false;
    for (auto *it = pairs.begin(); it != pairs.end();) {
      if (isCarriable(*it)) {
        ++it;
        continue;
      }
      others.push_back(it->load.base);
      it = pairs.erase(it);
      changed = true;
    }
  }
  Plan plan;
  plan.pairs = std::move(pairs);
  for (const Pair &pair : plan.pairs)
    if (scf::ForOp inner = getThreadLoop(pair, loop);
        inner && !llvm::is_contained(plan.unroll, inner))
      plan.unroll.push_back(inner);
  return plan;
}

/// `value`, computed before `loop` (isComputableBefore): the ops it takes
/// in the loop cloned before it, once each.
Value cloneBefore(OpBuilder &builder, Value value, scf::ForOp loop,
                  IRMapping &mapping) {
  if (!loop->isAncestor(value.getParentRegion()->getParentOp()))
    return value;
  if (Value cloned = mapping.lookupOrNull(value))
    return cloned;
  Operation *def = value.getDefiningOp();
  for (Value operand : def->getOperands())
    cloneBefore(builder, operand, loop, mapping);
  builder.clone(*def, mapping);
  return mapping.lookup(value);
}

/// Whether the nearest op before (`forward` false) or after `op` that
/// touches memory is a barrier.
bool isNextToBarrier(Operation *op, bool forward) {
  for (Operation *next = forward ? op->getNextNode() : op->getPrevNode();
       next; next = forward ? next->getNextNode() : next->getPrevNode()) {
    if (isa<gpu::BarrierOp>(next))
      return true;
    if (mayTouchMemory(next))
      return false;
  }
  return false;
}

/// Loads the pairs' places before `loop`, carries them through it, stores
/// them after it, with a barrier on each side (where there is none): the
/// places were written and are read by other threads outside the loop. The
/// accesses are the pairs' own, moved (their alignment kept). A guard's
/// pairs are loaded and stored under its condition, and the guard in the
/// loop yields them (the carried values where it does not run).
void carry(RewriterBase &rewriter, scf::ForOp loop, ArrayRef<Pair> pairs) {
  Location loc = loop.getLoc();
  rewriter.setInsertionPoint(loop);
  IRMapping mapping;
  // The pairs by guard (none first where there are such), each guard's
  // condition computed before the loop.
  struct Group {
    scf::IfOp guard;
    Value conditionBefore;
    SmallVector<unsigned> members;
  };
  SmallVector<Group> groups;
  for (auto [i, pair] : llvm::enumerate(pairs)) {
    for (Value operand : pair.load.op->getOperands())
      cloneBefore(rewriter, operand, loop, mapping);
    scf::IfOp guard = getGuard(pair);
    auto *group = llvm::find_if(
        groups, [&](const Group &group) { return group.guard == guard; });
    if (group == groups.end()) {
      Value condition =
          guard ? cloneBefore(rewriter, guard.getCondition(), loop, mapping)
                : Value();
      groups.push_back({guard, condition, {}});
      group = groups.end() - 1;
    }
    group->members.push_back(i);
  }
  if (!isNextToBarrier(loop, /*forward=*/false))
    gpu::BarrierOp::create(rewriter, loc);

  SmallVector<Value> inits(pairs.size());
  for (Group &group : groups) {
    auto load = [&](OpBuilder &b, Location) {
      SmallVector<Value> values;
      for (unsigned i : group.members)
        values.push_back(b.clone(*pairs[i].load.op, mapping)->getResult(0));
      return values;
    };
    SmallVector<Value> values;
    if (!group.guard) {
      values = load(rewriter, loc);
    } else {
      auto loadIf = scf::IfOp::create(
          rewriter, loc, group.conditionBefore,
          [&](OpBuilder &b, Location l) {
            scf::YieldOp::create(b, l, load(b, l));
          },
          [&](OpBuilder &b, Location l) {
            SmallVector<Value> zeros;
            for (unsigned i : group.members) {
              VectorType type = pairs[i].load.type;
              zeros.push_back(arith::ConstantOp::create(
                  b, l, type, cast<TypedAttr>(b.getZeroAttr(type))));
            }
            scf::YieldOp::create(b, l, zeros);
          });
      values = loadIf.getResults();
    }
    for (auto [i, value] : llvm::zip_equal(group.members, values))
      inits[i] = value;
  }

  auto yield = [&](OpBuilder &, Location, ArrayRef<BlockArgument> carried) {
    SmallVector<Value> yields(pairs.size());
    for (Group &group : groups) {
      SmallVector<Value> stored;
      for (unsigned i : group.members)
        stored.push_back(
            cast<vector::StoreOp>(pairs[i].store.op).getValueToStore());
      if (!group.guard) {
        for (auto [i, value] : llvm::zip_equal(group.members, stored))
          yields[i] = value;
        continue;
      }
      // The guard with results: its body's stored values, or the carried
      // ones where it does not run.
      scf::IfOp guard = group.guard;
      rewriter.setInsertionPoint(guard);
      auto withResults = scf::IfOp::create(
          rewriter, guard.getLoc(), ValueRange(stored).getTypes(),
          guard.getCondition(), /*withElseRegion=*/true);
      rewriter.mergeBlocks(guard.thenBlock(), withResults.thenBlock());
      Operation *thenYield = withResults.thenBlock()->getTerminator();
      rewriter.setInsertionPoint(thenYield);
      rewriter.replaceOpWithNewOp<scf::YieldOp>(thenYield, stored);
      rewriter.setInsertionPointToEnd(withResults.elseBlock());
      SmallVector<Value> unchanged;
      for (unsigned i : group.members)
        unchanged.push_back(carried[i]);
      scf::YieldOp::create(rewriter, guard.getLoc(), unchanged);
      rewriter.eraseOp(guard);
      group.guard = nullptr;
      for (auto [i, value] :
           llvm::zip_equal(group.members, withResults.getResults()))
        yields[i] = value;
    }
    return yields;
  };
  auto carried = cast<scf::ForOp>(
      *cast<LoopLikeOpInterface>(loop.getOperation())
           .replaceWithAdditionalYields(
               rewriter, inits, /*replaceInitOperandUsesInLoop=*/false,
               yield));
  unsigned first = carried.getNumResults() - pairs.size();

  Operation *last = carried; // The last store, or guard of stores.
  for (const Group &group : groups) {
    rewriter.setInsertionPointAfter(last);
    if (group.conditionBefore) {
      auto storeIf = scf::IfOp::create(rewriter, loc, group.conditionBefore,
                                       /*withElseRegion=*/false);
      rewriter.setInsertionPoint(storeIf.thenBlock()->getTerminator());
      last = storeIf;
    }
    for (unsigned i : group.members) {
      // The store's place is its load's, computed before the loop.
      auto load = cast<vector::LoadOp>(pairs[i].load.op);
      auto store = cast<vector::StoreOp>(pairs[i].store.op);
      rewriter.moveOpBefore(store, rewriter.getInsertionBlock(),
                            rewriter.getInsertionPoint());
      rewriter.modifyOpInPlace(store, [&] {
        store.getValueToStoreMutable().assign(carried.getResult(first + i));
        store.getBaseMutable().assign(mapping.lookupOrDefault(load.getBase()));
        store.getIndicesMutable().assign(
            llvm::map_to_vector(load.getIndices(), [&](Value index) {
              return mapping.lookupOrDefault(index);
            }));
      });
      rewriter.replaceOp(load, carried.getRegionIterArg(first + i));
      rewriter.setInsertionPointAfter(store);
      if (!group.conditionBefore)
        last = store;
    }
  }
  if (!isNextToBarrier(last, /*forward=*/true)) {
    rewriter.setInsertionPointAfter(last);
    gpu::BarrierOp::create(rewriter, loc);
  }
}

/// Unrolls `inner` (isUnrollable) in place: its body once per iteration,
/// the induction variable a constant. Each pair in it becomes one pair per
/// iteration.
void unroll(RewriterBase &rewriter, scf::ForOp inner,
            SmallVector<Pair> &pairs) {
  int64_t lower = *getConstantIntValue(inner.getLowerBound());
  int64_t step = *getConstantIntValue(inner.getStep());
  int64_t trips = *getConstantTripCount(inner);
  rewriter.setInsertionPoint(inner);
  SmallVector<IRMapping> copies(trips);
  for (auto [i, mapping] : llvm::enumerate(copies)) {
    mapping.map(inner.getInductionVar(),
                arith::ConstantIndexOp::create(rewriter, inner.getLoc(),
                                               lower + i * step));
    for (Operation &op : inner.getBody()->without_terminator())
      rewriter.clone(op, mapping);
  }
  SmallVector<Pair> unrolled;
  for (const Pair &pair : pairs) {
    if (!inner->isAncestor(pair.load.op)) {
      unrolled.push_back(pair);
      continue;
    }
    for (IRMapping &mapping : copies)
      unrolled.push_back({getAccess(mapping.lookup(pair.load.op)),
                          getAccess(mapping.lookup(pair.store.op))});
  }
  pairs = std::move(unrolled);
  rewriter.eraseOp(inner);
}

struct NatsGPUCarryInRegistersPass
    : nats::impl::NatsGPUCarryInRegistersPassBase<
          NatsGPUCarryInRegistersPass> {
  void runOnOperation() override {
    // Innermost first: a loop's thread loops are unrolled after they have
    // been visited, and a carried loop's replacement is not visited again.
    SmallVector<scf::ForOp> loops;
    getOperation().walk([&](gpu::LaunchOp launch) {
      launch.getBody().walk([&](scf::ForOp loop) { loops.push_back(loop); });
    });
    // The indices' ranges (in bounds, for places in other rows), of the IR
    // as it is before any loop is carried.
    DataFlowSolver solver;
    dataflow::loadBaselineAnalyses(solver);
    solver.load<dataflow::IntegerRangeAnalysis>();
    if (failed(solver.initializeAndRun(getOperation())))
      return signalPassFailure();
    IRRewriter rewriter(&getContext());
    for (scf::ForOp loop : loops) {
      Plan plan = planLoop(loop, solver);
      if (plan.pairs.empty())
        continue;
      for (scf::ForOp inner : plan.unroll)
        unroll(rewriter, inner, plan.pairs);
      carry(rewriter, loop, plan.pairs);
    }
  }
};

} // namespace
