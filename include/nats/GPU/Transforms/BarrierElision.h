//===- BarrierElision.h - phases of a block that need no barrier -*- C++ -*-===//
//
// nats-map-foralls-to-gpu puts a barrier of the whole block between any two
// thread or warp foralls. Where the second touches nothing the first writes
// and writes nothing the first reads, or each thread touches only the
// elements it wrote itself, that barrier orders nothing: the two run as one
// phase. In the routed softmax the conversion of V runs beside S = Q·Kᵀ,
// and the row maxima and their update, the probabilities and the rescale
// factors, the row sums and P·V each share a phase. A scalar load between
// two foralls, which every thread runs (the state pass's decay of the
// tile), is a phase of its own that reads: it needs no barrier on either
// side where nothing around it writes what it reads.
//
//===----------------------------------------------------------------------===//

#ifndef NATS_GPU_TRANSFORMS_BARRIERELISION_H
#define NATS_GPU_TRANSFORMS_BARRIERELISION_H

#include "mlir/IR/Operation.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "llvm/ADT/DenseSet.h"

namespace mlir::nats {

/// The thread and warp foralls and the scalar loads (memref.load) in
/// `body` (inside a block forall, on buffers, before they are mapped) that
/// may run without a barrier after the phase before them: in one block of
/// ops, with nothing between but side-effect-free ops, and no access of
/// theirs conflicting with any of the phases since the last barrier (a
/// write and another access of memory that may overlap, unless both are
/// thread foralls over the same iterations and each iteration touches the
/// same elements in both, which one thread then runs in order). With
/// `tiles`, the effects of warp tiles on tensor cores are known (otherwise
/// unknown: nvvm.mma.sync declares none, nvgpu.ldmatrix a read of no
/// memref), and the memref.copy ops of the block's sequential code (shared
/// out over the threads when mapped) are phases too.
llvm::DenseSet<Operation *> getPhasesWithoutBarrier(Operation *body,
                                                    bool tiles);

/// The memory effects of `root` and of the ops in it (none where one's are
/// not known), as getEffectsRecursively. With `tiles`, those of a warp
/// tile's lane code are known: nvvm.mma.sync touches no memory (its
/// operands are registers; it declares no effects at all), and
/// nvgpu.ldmatrix reads its source alone (ODS also declares a read of the
/// op as a whole, of no memref). Without, every warp tile on tensor cores
/// has unknown effects.
std::optional<SmallVector<MemoryEffects::EffectInstance>>
getMemoryEffects(Operation *root, bool tiles);

/// Whether `op` touches memory or holds ops that may: what a barrier
/// around it may have to order.
bool mayTouchMemory(Operation *op);

} // namespace mlir::nats

#endif // NATS_GPU_TRANSFORMS_BARRIERELISION_H
