//===- AlignedArguments.cpp - the GPU path's argument alignment -----------===//

#include "nats/GPU/Transforms/Passes.h"

#include "llvm/Support/MathExtras.h"

namespace mlir::nats {
#define GEN_PASS_DEF_NATSGPUALIGNEDARGUMENTSPASS
#include "nats/GPU/Transforms/Passes.h.inc"
} // namespace mlir::nats

using namespace mlir;
using namespace mlir::nats;

namespace {

struct NatsGPUAlignedArgumentsPass
    : nats::impl::NatsGPUAlignedArgumentsPassBase<NatsGPUAlignedArgumentsPass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    int64_t alignment = bytes;
    if (alignment < 1 || alignment > std::numeric_limits<int32_t>::max() ||
        !llvm::isPowerOf2_64(alignment)) {
      func.emitError() << "nats-gpu-aligned-arguments: bytes must be a "
                          "power of two, got "
                       << alignment;
      return signalPassFailure();
    }
    // Only a public function is called from outside, by the runtime that
    // keeps the promise.
    if (!func.isPublic() || func.isExternal())
      return;
    OpBuilder builder = OpBuilder::atBlockBegin(&func.getBody().front());
    for (BlockArgument argument : func.getArguments()) {
      if (!isa<MemRefType>(argument.getType()) || argument.use_empty())
        continue;
      auto assumed = memref::AssumeAlignmentOp::create(
          builder, argument.getLoc(), argument, alignment);
      argument.replaceAllUsesExcept(assumed.getResult(), assumed);
    }
  }
};

} // namespace
