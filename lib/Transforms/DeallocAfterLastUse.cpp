//===- DeallocAfterLastUse.cpp - free buffers once nothing reads them -----===//
//
// Ownership-based buffer deallocation frees a buffer at the end of the
// block that allocates it. In a function of many steps that is the peak of
// all of them together: the NAtS-L layer held all 58 of its intermediates
// at once (497 MiB at T = 4096 on an H100, 4.2x what the same layer in
// torch holds, docs/benchmarks.md run 112). Here each such free moves to
// just after the buffer's last use in that block.
//
//===----------------------------------------------------------------------===//

#include "nats/Transforms/Passes.h"

#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/STLExtras.h"

namespace mlir::nats {
#define GEN_PASS_DEF_NATSDEALLOCAFTERLASTUSEPASS
#include "nats/Transforms/Passes.h.inc"
} // namespace mlir::nats

using namespace mlir;

namespace {

/// The last op of `block` that uses `buffer`, or anything derived from it,
/// other than `dealloc`; null where none is bounded: a use outside the
/// block, by its terminator (returned, yielded), or a derived value written
/// to memory (it may be loaded back anywhere). Derived: every result of a
/// user but scalars and vectors, which are data (views, casts, loop
/// results, tensors, async tokens, descriptors may carry the buffer on);
/// from a pointer taken as an index on, every value computed from it (it
/// may become an address again).
Operation *lastUse(Value buffer, Block *block, Operation *dealloc) {
  Operation *last = buffer.getDefiningOp();
  // Each value with whether it is (computed from) a pointer.
  SmallVector<std::pair<Value, bool>> worklist{{buffer, false}};
  DenseSet<Value> seen;
  while (!worklist.empty()) {
    auto [value, pointer] = worklist.pop_back_val();
    if (!seen.insert(value).second)
      continue;
    for (Operation *user : value.getUsers()) {
      if (user == dealloc)
        continue;
      Operation *ancestor = block->findAncestorOpInBlock(*user);
      if (!ancestor || ancestor->hasTrait<OpTrait::IsTerminator>())
        return nullptr;
      // The value itself stored, not the place written to.
      if (auto effects = dyn_cast<MemoryEffectOpInterface>(user)) {
        SmallVector<MemoryEffects::EffectInstance> onValue;
        effects.getEffectsOnValue(value, onValue);
        if (effects.hasEffect<MemoryEffects::Write>() && onValue.empty())
          return nullptr;
      }
      if (last->isBeforeInBlock(ancestor))
        last = ancestor;
      // A use in a region may derive values there (a view in a loop's
      // body); a terminator there passes values to its op's results.
      Operation *producer =
          user->hasTrait<OpTrait::IsTerminator>() ? user->getParentOp() : user;
      bool toPointer =
          pointer || isa<memref::ExtractAlignedPointerAsIndexOp>(producer);
      for (Value result : producer->getResults()) {
        Type type = result.getType();
        if (toPointer || !(type.isIntOrIndexOrFloat() || isa<VectorType>(type)))
          worklist.push_back({result, toPointer});
      }
    }
  }
  return last;
}

struct NatsDeallocAfterLastUsePass
    : nats::impl::NatsDeallocAfterLastUsePassBase<
          NatsDeallocAfterLastUsePass> {
  void runOnOperation() override {
    SmallVector<memref::DeallocOp> deallocs;
    getOperation().walk(
        [&](memref::DeallocOp dealloc) { deallocs.push_back(dealloc); });
    // Last first: frees moved behind the same op keep their order.
    for (memref::DeallocOp dealloc : llvm::reverse(deallocs)) {
      auto alloc = dealloc.getMemref().getDefiningOp<memref::AllocOp>();
      Block *block = dealloc->getBlock();
      if (!alloc || alloc->getBlock() != block)
        continue;
      Operation *last = lastUse(alloc.getResult(), block, dealloc);
      if (last && last->isBeforeInBlock(dealloc))
        dealloc->moveAfter(last);
    }
  }
};

} // namespace
