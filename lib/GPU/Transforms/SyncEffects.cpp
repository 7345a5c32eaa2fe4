//===- SyncEffects.cpp - memory effects of GPU synchronization ------------===//

#include "nats/GPU/Transforms/SyncEffects.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

using namespace mlir;

namespace {

template <typename OpT>
struct OrdersMemory
    : MemoryEffectOpInterface::ExternalModel<OrdersMemory<OpT>, OpT> {
  void getEffects(
      Operation *op,
      SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
          &effects) const {
    effects.emplace_back(MemoryEffects::Read::get());
    effects.emplace_back(MemoryEffects::Write::get());
  }
};

} // namespace

void mlir::nats::registerSyncEffectModels(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, gpu::GPUDialect *) {
    gpu::BarrierOp::attachInterface<OrdersMemory<gpu::BarrierOp>>(*ctx);
  });
  registry.addExtension(+[](MLIRContext *ctx, nvgpu::NVGPUDialect *) {
    nvgpu::DeviceAsyncCreateGroupOp::attachInterface<
        OrdersMemory<nvgpu::DeviceAsyncCreateGroupOp>>(*ctx);
    nvgpu::DeviceAsyncWaitOp::attachInterface<
        OrdersMemory<nvgpu::DeviceAsyncWaitOp>>(*ctx);
  });
}

bool mlir::nats::isSynchronization(Operation *op) {
  return isa<gpu::BarrierOp, nvgpu::DeviceAsyncCreateGroupOp,
             nvgpu::DeviceAsyncWaitOp>(op);
}
