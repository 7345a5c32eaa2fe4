//===- MapBlocks.cpp - outermost foralls onto thread blocks ---------------===//

#include "nats/GPU/Transforms/Mapping.h"
#include "nats/GPU/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlir::nats {
#define GEN_PASS_DEF_NATSGPUMAPBLOCKSPASS
#include "nats/GPU/Transforms/Passes.h.inc"
} // namespace mlir::nats

using namespace mlir;

namespace {

struct NatsGPUMapBlocksPass
    : nats::impl::NatsGPUMapBlocksPassBase<NatsGPUMapBlocksPass> {
  void runOnOperation() override {
    if (failed(nats::mapOutermostForallsToBlocks(getOperation())))
      signalPassFailure();
  }
};

} // namespace
