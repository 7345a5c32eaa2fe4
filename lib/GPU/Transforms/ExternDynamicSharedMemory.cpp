//===- ExternDynamicSharedMemory.cpp - the pool as an extern declaration --===//

#include "nats/GPU/Transforms/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"

namespace mlir::nats {
#define GEN_PASS_DEF_NATSGPUEXTERNDYNAMICSHAREDMEMORYPASS
#include "nats/GPU/Transforms/Passes.h.inc"
} // namespace mlir::nats

using namespace mlir;

namespace {

/// A zero-sized array in the shared address space, whatever its name: to
/// NVPTX any such array is the base of the dynamic shared memory (whose
/// size is the launch's); convert-gpu-to-nvvm names its own
/// __dynamic_shmem__<n>.
bool isDynamicSharedMemoryBase(LLVM::GlobalOp global) {
  auto array = dyn_cast<LLVM::LLVMArrayType>(global.getGlobalType());
  return array && array.getNumElements() == 0 &&
         global.getAddrSpace() ==
             static_cast<unsigned>(NVVM::NVVMMemorySpace::Shared);
}

struct NatsGPUExternDynamicSharedMemoryPass
    : nats::impl::NatsGPUExternDynamicSharedMemoryPassBase<
          NatsGPUExternDynamicSharedMemoryPass> {
  void runOnOperation() override {
    getOperation().walk([](LLVM::GlobalOp global) {
      if (isDynamicSharedMemoryBase(global) && !global.getValueOrNull() &&
          !global.getInitializerBlock())
        global.setLinkage(LLVM::Linkage::External);
    });
  }
};

} // namespace
