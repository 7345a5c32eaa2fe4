//===- BlocksPerSM.cpp - kernels that fit several blocks on an SM ---------===//

#include "nats/GPU/Transforms/Passes.h"

namespace mlir::nats {
#define GEN_PASS_DEF_NATSGPUBLOCKSPERSMPASS
#include "nats/GPU/Transforms/Passes.h.inc"
} // namespace mlir::nats

using namespace mlir;

namespace {

struct NatsGPUBlocksPerSMPass
    : nats::impl::NatsGPUBlocksPerSMPassBase<NatsGPUBlocksPerSMPass> {
  using Base::Base;

  void runOnOperation() override {
    gpu::GPUModuleOp module = getOperation();
    if (blocks < 1) {
      module.emitError() << "nats-gpu-blocks-per-sm: blocks must be at least "
                            "1, got "
                         << blocks.getValue();
      return signalPassFailure();
    }
    auto count = IntegerAttr::get(IntegerType::get(&getContext(), 32), blocks);
    for (auto kernel : module.getOps<gpu::GPUFuncOp>())
      if (kernel.isKernel())
        kernel->setAttr(NVVM::NVVMDialect::getMinctasmAttrName(), count);
  }
};

} // namespace
