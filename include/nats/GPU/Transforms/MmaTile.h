//===- MmaTile.h - which contractions run on tensor cores -------*- C++ -*-===//
//
// nats-gpu-distribute tiles a contraction that fits the tensor cores into
// warp tiles; nats-gpu-mma-sync turns each tile into mma.sync. Both ask the
// same questions of an op, here: which loops are its m, n and k, whether
// it is an update of an accumulator that goes into the tiles, and whether
// it is a map of their results that goes in after them.
//
//===----------------------------------------------------------------------===//

#ifndef NATS_GPU_TRANSFORMS_MMATILE_H
#define NATS_GPU_TRANSFORMS_MMATILE_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"

#include <optional>

namespace mlir::nats {

/// The shape of one mma.sync on f32 data read as tf32: m16n8k8. A warp tile
/// is kMmaM × kMmaN of the output with the whole reduction.
constexpr int64_t kMmaM = 16;
constexpr int64_t kMmaN = 8;
constexpr int64_t kMmaK = 8;

/// The loops of a contraction, by position in its iteration domain.
struct MmaLoops {
  unsigned m, n, k;
};

/// The m, n and k loops of `op` where it is C(m, n) += A(m, k) · B(k, n)
/// (operands in any layout, no batch loop) with C of f32 and A and B of f32,
/// bf16 or f16 (widened), static sizes that are multiples of the mma shape;
/// otherwise nothing.
std::optional<MmaLoops> getMmaLoops(linalg::LinalgOp op);

/// Whether `op` rewrites each element of its one output from that element
/// and the elements of its inputs at the same position (a linalg.generic,
/// all loops parallel, the output through the identity map, its inputs
/// through projected permutations, no linalg.index; values from above are
/// scalars to it): the state pass's decay d · S before K_cᵀ U accumulates
/// onto it, U₀ widened from 16 bits before (−W) S does. nats-gpu-distribute
/// fuses such an update of a contraction's accumulator into its warp tiles
/// and nats-gpu-mma-sync applies it to C as it is loaded (C is not loaded
/// where the update does not read it): no phase of its own, with a barrier
/// after it, and no pass over C in memory.
bool isElementwiseUpdate(linalg::LinalgOp op);

/// Whether `op` computes each element of its one output from the element
/// of `result` at the same position (a linalg.generic, all loops parallel,
/// both through identity maps, the output's old value unread), its other
/// inputs read through projected permutations (broadcasts) and its body
/// free to read the position (linalg.index): the rounding of a product to
/// the 16-bit type it is stored or multiplied in, P = (Q Kᵀ) ⊙ M, −A's
/// masked scaling of K Kᵀ. nats-gpu-distribute fuses such a map of a
/// contraction's result into its warp tiles and nats-gpu-mma-sync applies
/// it to the accumulators as they are stored: the mapped tile comes from the
/// lanes' registers, where it was a phase of the whole block that read the
/// result back.
bool isElementwiseMapOf(linalg::LinalgOp op, Value result);

/// Whether `type` is a buffer in private memory: the type
/// nats-gpu-distribute gives a warp-tiled contraction's result that the
/// block reads nowhere but in the map fused into the tiles. The lanes'
/// accumulators hold it; nats-gpu-workspace gives it no slot and
/// nats-gpu-mma-sync stores nothing to it and erases it.
bool isRegisterTile(MemRefType type);

} // namespace mlir::nats

#endif // NATS_GPU_TRANSFORMS_MMATILE_H
