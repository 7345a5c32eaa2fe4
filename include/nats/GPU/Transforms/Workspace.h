//===- Workspace.h - what a block's scratch buffer takes --------*- C++ -*-===//
//
// nats-gpu-workspace gives each scratch buffer of a block a slot; the passes
// before it that add buffers (nats-gpu-prefetch) count in the same slots.
//
//===----------------------------------------------------------------------===//

#ifndef NATS_GPU_TRANSFORMS_WORKSPACE_H
#define NATS_GPU_TRANSFORMS_WORKSPACE_H

#include "mlir/IR/BuiltinTypes.h"

namespace mlir::nats {

/// Bytes a buffer of the static `type` takes in its workspace slot: slots
/// start on 256-byte boundaries, as cudaMalloc's own buffers do, so that
/// any element type is aligned and rows stay in whole memory sectors.
int64_t getSlotBytes(MemRefType type);

/// Shared memory a thread block takes on its SM beyond its dynamic pool:
/// the 1 KiB that the system reserves for each block on sm_80 and later.
/// (The pool's base is an extern declaration of no bytes of its own:
/// nats-gpu-extern-dynamic-shared-memory.)
constexpr int64_t kBlockSharedMemoryReserve = 1024;

} // namespace mlir::nats

#endif // NATS_GPU_TRANSFORMS_WORKSPACE_H
