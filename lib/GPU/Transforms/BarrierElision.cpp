//===- BarrierElision.cpp - phases of a block that need no barrier --------===//

#include "nats/GPU/Transforms/BarrierElision.h"
#include "nats/GPU/Transforms/Aliasing.h"
#include "nats/GPU/Transforms/Mapping.h"

#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "llvm/ADT/SmallBitVector.h"

using namespace mlir;
using namespace mlir::nats;

namespace {

/// Where one iteration of a thread forall accesses a memref from outside
/// the forall: per dimension the forall's induction variable `iv` (one
/// element) or, with `iv` = -1, a constant offset and size.
struct Slice {
  int64_t iv, offset, size;
  bool operator==(const Slice &other) const {
    return iv == other.iv && offset == other.offset && size == other.size;
  }
};

/// One access of a forall to memory.
struct Access {
  Value memref;
  bool write;
  /// Set where the elements are known per iteration (thread foralls):
  /// the memref from outside the forall that is accessed at `slices`.
  Value source;
  SmallVector<Slice> slices;
};

/// What a forall, or a scalar load that every thread runs, does to memory.
struct Phase {
  Operation *op;
  SmallVector<Access> accesses;
  bool unknown = false; // an effect on memory that is not known
};

/// `offset` (with `size`) as a slice at an induction variable of `forall`
/// (one element) or at a constant, or nothing.
std::optional<Slice> getSlice(scf::ForallOp forall, OpFoldResult offset,
                              int64_t size) {
  if (std::optional<int64_t> constant = getConstantIntValue(offset))
    return Slice{-1, *constant, size};
  auto argument = dyn_cast_if_present<BlockArgument>(dyn_cast<Value>(offset));
  if (!argument || argument.getOwner() != forall.getBody() || size != 1)
    return std::nullopt;
  return Slice{argument.getArgNumber(), 0, 1};
}

/// Sets `access.source` and `access.slices` where `access` (by `op`) is a
/// subview made in the forall of a memref from outside it, or a scalar
/// load or store of one, at induction variables and constants.
void setElements(scf::ForallOp forall, Operation *op, Access &access) {
  auto isOutside = [&](Value value) {
    return !forall->isAncestor(value.getParentRegion()->getParentOp());
  };
  SmallVector<Slice> slices;
  Value source;
  if (auto subview = access.memref.getDefiningOp<memref::SubViewOp>()) {
    source = subview.getSource();
    if (!isOutside(source) || !subview.hasUnitStride())
      return;
    for (auto [offset, size] :
         llvm::zip(subview.getMixedOffsets(), subview.getMixedSizes())) {
      std::optional<int64_t> staticSize = getConstantIntValue(size);
      std::optional<Slice> slice =
          staticSize ? getSlice(forall, offset, *staticSize) : std::nullopt;
      if (!slice)
        return;
      slices.push_back(*slice);
    }
  } else if (isa<memref::LoadOp, memref::StoreOp>(op) &&
             isOutside(access.memref)) {
    source = access.memref;
    ValueRange indices = isa<memref::LoadOp>(op)
                             ? cast<memref::LoadOp>(op).getIndices()
                             : cast<memref::StoreOp>(op).getIndices();
    for (Value index : indices) {
      std::optional<Slice> slice = getSlice(forall, index, 1);
      if (!slice)
        return;
      slices.push_back(*slice);
    }
  } else {
    return;
  }
  access.source = source;
  access.slices = std::move(slices);
}

Phase getPhase(Operation *op, bool tiles) {
  Phase phase{op};
  std::optional<SmallVector<MemoryEffects::EffectInstance>> effects =
      getMemoryEffects(op, tiles);
  if (!effects) {
    phase.unknown = true;
    return phase;
  }
  auto forall = dyn_cast<scf::ForallOp>(op);
  bool perThread = forall && isThreadForall(forall);
  for (const MemoryEffects::EffectInstance &effect : *effects) {
    bool write = isa<MemoryEffects::Write>(effect.getEffect());
    auto *operand = effect.getEffectValue<OpOperand *>();
    if (!operand || !(write || isa<MemoryEffects::Read>(effect.getEffect()))) {
      phase.unknown = true;
      continue;
    }
    Access access{operand->get(), write};
    if (perThread)
      setElements(forall, operand->getOwner(), access);
    phase.accesses.push_back(std::move(access));
  }
  return phase;
}

/// Whether each iteration of two thread foralls over the same iterations
/// touches in `x` and `y` the same elements, which no other iteration
/// touches: the same source at the same slices, with every induction
/// variable in them.
bool touchesOwnElements(const Access &x, const Access &y, unsigned rank) {
  if (!x.source || x.source != y.source || x.slices != y.slices)
    return false;
  llvm::SmallBitVector seen(rank);
  for (const Slice &slice : x.slices)
    if (slice.iv >= 0)
      seen.set(slice.iv);
  return seen.all();
}

bool conflict(const Phase &later, const Phase &earlier) {
  if (later.unknown || earlier.unknown)
    return true;
  auto x = dyn_cast<scf::ForallOp>(later.op);
  auto y = dyn_cast<scf::ForallOp>(earlier.op);
  bool sameIterations =
      x && y && isThreadForall(x) && isThreadForall(y) &&
      x.getStaticUpperBound() == y.getStaticUpperBound() &&
      llvm::none_of(x.getStaticUpperBound(), ShapedType::isDynamic);
  for (const Access &a : later.accesses)
    for (const Access &b : earlier.accesses)
      if ((a.write || b.write) && mayAlias(a.memref, b.memref) &&
          !(sameIterations && touchesOwnElements(a, b, x.getRank())))
        return true;
  return false;
}

/// A copy in the block's sequential code (no thread or warp forall around
/// it, under `body`) that copies something: shared out over the threads
/// between barriers when mapped, as a thread forall. (A copy onto itself
/// is erased: no phase, and no barrier before it.)
bool isSequentialCopy(Operation *op, Operation *body) {
  auto copy = dyn_cast<memref::CopyOp>(op);
  if (!copy || copy.getSource() == copy.getTarget())
    return false;
  for (Operation *parent = op->getParentOp(); parent && parent != body;
       parent = parent->getParentOp()) {
    auto forall = dyn_cast<scf::ForallOp>(parent);
    if (forall && (isThreadForall(forall) || isWarpForall(forall)))
      return false;
  }
  return true;
}

} // namespace

llvm::DenseSet<Operation *> nats::getPhasesWithoutBarrier(Operation *body,
                                                          bool tiles) {
  llvm::DenseSet<Operation *> withoutBarrier;
  body->walk([&](Block *block) {
    // The phases since the last barrier.
    SmallVector<Phase> group;
    auto joins = [&](const Phase &phase) {
      return !group.empty() && llvm::none_of(group, [&](const Phase &earlier) {
               return conflict(phase, earlier);
             });
    };
    for (Operation &op : *block) {
      auto forall = dyn_cast<scf::ForallOp>(op);
      bool isLoad = isa<memref::LoadOp>(op);
      if ((forall && (isThreadForall(forall) || isWarpForall(forall))) ||
          (tiles && isSequentialCopy(&op, body)) || isLoad) {
        Phase phase = getPhase(&op, tiles);
        if (joins(phase)) {
          withoutBarrier.insert(&op);
          group.push_back(std::move(phase));
          continue;
        }
        group.clear();
        // A forall or copy that does not join gets a barrier before it
        // and starts the next group; a load gets none, so nothing after it
        // may count on one.
        if (!isLoad)
          group.push_back(std::move(phase));
      } else if (mayTouchMemory(&op)) {
        group.clear();
      }
    }
  });
  return withoutBarrier;
}

bool nats::mayTouchMemory(Operation *op) {
  // Committing a thread's cp.async group is its own bookkeeping: the copies
  // touch memory where they are issued and complete at a wait.
  if (isa<nvgpu::DeviceAsyncCreateGroupOp>(op))
    return false;
  return op->getNumRegions() != 0 || !isMemoryEffectFree(op);
}

std::optional<SmallVector<MemoryEffects::EffectInstance>>
nats::getMemoryEffects(Operation *root, bool tiles) {
  if (!tiles)
    return getEffectsRecursively(root);
  SmallVector<MemoryEffects::EffectInstance> effects;
  WalkResult walk = root->walk<WalkOrder::PreOrder>([&](Operation *op) {
    if (isa<NVVM::MmaOp>(op))
      return WalkResult::advance();
    if (auto load = dyn_cast<nvgpu::LdMatrixOp>(op)) {
      effects.emplace_back(MemoryEffects::Read::get(),
                           &load.getSrcMemrefMutable());
      return WalkResult::advance();
    }
    bool recursive = op->hasTrait<OpTrait::HasRecursiveMemoryEffects>();
    if (auto iface = dyn_cast<MemoryEffectOpInterface>(op)) {
      iface.getEffects(effects);
      // Without the trait, the op's effects are those of its regions too.
      return recursive ? WalkResult::advance() : WalkResult::skip();
    }
    return recursive ? WalkResult::advance() : WalkResult::interrupt();
  });
  if (walk.wasInterrupted())
    return std::nullopt;
  return effects;
}
