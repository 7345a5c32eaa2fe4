//===- HostMemory.cpp - host-side buffers become device memory ------------===//

#include "nats/GPU/Transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::nats {
#define GEN_PASS_DEF_NATSGPUHOSTMEMORYPASS
#include "nats/GPU/Transforms/Passes.h.inc"
} // namespace mlir::nats

using namespace mlir;
using namespace mlir::nats;

namespace {

struct NatsGPUHostMemoryPass
    : nats::impl::NatsGPUHostMemoryPassBase<NatsGPUHostMemoryPass> {
  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    SmallVector<Operation *> hostOps;
    WalkResult walk =
        getOperation().walk<WalkOrder::PreOrder>([&](Operation *op) {
          if (isa<gpu::LaunchOp>(op))
            return WalkResult::skip();
          if (isa<memref::AllocOp, memref::DeallocOp>(op)) {
            hostOps.push_back(op);
            return WalkResult::advance();
          }
          bool touchesMemory = hasEffect<MemoryEffects::Read>(op) ||
                               hasEffect<MemoryEffects::Write>(op);
          if (touchesMemory && !isa<gpu::GPUDialect>(op->getDialect())) {
            op->emitOpError("on the host would read or write device memory; "
                            "in the GPU path only kernels access buffers");
            return WalkResult::interrupt();
          }
          return WalkResult::advance();
        });
    if (walk.wasInterrupted())
      return signalPassFailure();

    for (Operation *op : hostOps) {
      rewriter.setInsertionPoint(op);
      if (auto alloc = dyn_cast<memref::AllocOp>(op)) {
        rewriter.replaceOpWithNewOp<gpu::AllocOp>(
            alloc, alloc.getType(), /*asyncToken=*/Type(),
            /*asyncDependencies=*/ValueRange{}, alloc.getDynamicSizes(),
            alloc.getSymbolOperands(), /*hostShared=*/false);
      } else {
        auto dealloc = cast<memref::DeallocOp>(op);
        rewriter.replaceOpWithNewOp<gpu::DeallocOp>(
            dealloc, /*asyncToken=*/Type(), ValueRange{}, dealloc.getMemref());
      }
    }
  }
};

} // namespace
