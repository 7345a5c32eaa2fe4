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

#include "nats/Transforms/BufferUses.h"
#include "nats/Transforms/Passes.h"

#include "llvm/ADT/STLExtras.h"

namespace mlir::nats {
#define GEN_PASS_DEF_NATSDEALLOCAFTERLASTUSEPASS
#include "nats/Transforms/Passes.h.inc"
} // namespace mlir::nats

using namespace mlir;

namespace {

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
      FailureOr<SmallVector<Operation *>> uses =
          nats::getBufferUsesInBlock(alloc.getResult(), block, dealloc);
      if (failed(uses))
        continue;
      Operation *last = alloc;
      for (Operation *use : *uses)
        if (last->isBeforeInBlock(use))
          last = use;
      if (last->isBeforeInBlock(dealloc))
        dealloc->moveAfter(last);
    }
  }
};

} // namespace
