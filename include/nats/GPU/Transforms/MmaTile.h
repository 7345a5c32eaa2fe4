//===- MmaTile.h - which contractions run on tensor cores -------*- C++ -*-===//
//
// nats-gpu-distribute tiles a contraction that fits the tensor cores into
// warp tiles; nats-gpu-mma-sync turns each tile into mma.sync. Both ask the
// same question of an op, here: which loops are its m, n and k.
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

} // namespace mlir::nats

#endif // NATS_GPU_TRANSFORMS_MMATILE_H
