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
    if (threads < 0) {
      module.emitError() << "nats-gpu-blocks-per-sm: threads must not be "
                            "negative, got "
                         << threads.getValue();
      return signalPassFailure();
    }
    auto i32 = [&](int64_t value) {
      return IntegerAttr::get(IntegerType::get(&getContext(), 32), value);
    };
    // An SM has 65536 registers; a thread may have 255 at most.
    constexpr int64_t kRegistersPerSM = 65536, kMaxRegisters = 255;
    for (auto kernel : module.getOps<gpu::GPUFuncOp>()) {
      if (!kernel.isKernel())
        continue;
      if (blocks > 1)
        kernel->setAttr(NVVM::NVVMDialect::getMinctasmAttrName(),
                        i32(blocks));
      if (threads > 0)
        kernel->setAttr(NVVM::NVVMDialect::getMaxnregAttrName(),
                        i32(std::min(kRegistersPerSM / (blocks * threads),
                                     kMaxRegisters)));
    }
  }
};

} // namespace
