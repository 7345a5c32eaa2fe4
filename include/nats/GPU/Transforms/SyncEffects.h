//===- SyncEffects.h - memory effects of GPU synchronization ----*- C++ -*-===//
//
// gpu.barrier, nvgpu.device_async_create_group and nvgpu.device_async_wait
// say nothing of memory, so passes that need every op's effects (buffer
// deallocation) reject them. Each orders the memory accesses around it:
// these models declare that it reads and writes memory, on no buffer in
// particular.
//
//===----------------------------------------------------------------------===//

#ifndef NATS_GPU_TRANSFORMS_SYNCEFFECTS_H
#define NATS_GPU_TRANSFORMS_SYNCEFFECTS_H

namespace mlir {
class DialectRegistry;
class Operation;

namespace nats {

/// Attaches the memory effects above to the ops, as the gpu and nvgpu
/// dialects load.
void registerSyncEffectModels(DialectRegistry &registry);

/// Whether `op` is one of those ops: it orders the accesses around it and
/// writes no buffer of its own.
bool isSynchronization(Operation *op);

} // namespace nats
} // namespace mlir

#endif // NATS_GPU_TRANSFORMS_SYNCEFFECTS_H
