//===- BufferUses.cpp - where a buffer is used within a block -------------===//

#include "nats/Transforms/BufferUses.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Operation.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SetVector.h"

using namespace mlir;

FailureOr<SmallVector<Operation *>>
mlir::nats::getBufferUsesInBlock(Value buffer, Block *block,
                                 Operation *ignore) {
  llvm::SetVector<Operation *> holders;
  // Each value with whether it is (computed from) a pointer.
  SmallVector<std::pair<Value, bool>> worklist{{buffer, false}};
  DenseSet<Value> seen;
  while (!worklist.empty()) {
    auto [value, pointer] = worklist.pop_back_val();
    if (!seen.insert(value).second)
      continue;
    for (Operation *user : value.getUsers()) {
      if (user == ignore)
        continue;
      Operation *holder = block->findAncestorOpInBlock(*user);
      if (!holder || holder->hasTrait<OpTrait::IsTerminator>())
        return failure();
      // The value itself stored: the op writes a place it names, and the
      // value is no place it reads or writes. (A barrier or a cp.async wait
      // writes no place it names: it orders the writes around it.)
      if (auto effects = dyn_cast<MemoryEffectOpInterface>(user)) {
        SmallVector<MemoryEffects::EffectInstance> all;
        effects.getEffects(all);
        bool writesPlace = llvm::any_of(all, [](const auto &effect) {
          return isa<MemoryEffects::Write>(effect.getEffect()) &&
                 effect.getValue();
        });
        bool onValue = llvm::any_of(all, [&](const auto &effect) {
          return effect.getValue() == value;
        });
        if (writesPlace && !onValue)
          return failure();
      }
      holders.insert(holder);
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
  return SmallVector<Operation *>(holders.takeVector());
}
