//===- WarpReduction.h - which reductions a warp shares out -----*- C++ -*-===//
//
// nats-gpu-distribute tiles a reduction that a warp computes faster than one
// thread into one output element per warp; nats-gpu-warp-reduce turns each
// such tile into lane code and shuffles. Both ask the same question of an
// op, here.
//
//===----------------------------------------------------------------------===//

#ifndef NATS_GPU_TRANSFORMS_WARPREDUCTION_H
#define NATS_GPU_TRANSFORMS_WARPREDUCTION_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h" // kWarpSize

#include <optional>

namespace mlir::nats {

/// A reduction `out = combiner(f(ins), out)` over one loop.
struct WarpReduction {
  unsigned loop;         // the reduction loop, by position
  Operation *combiner;   // the body's op that folds f(ins) into out
  TypedAttr identity;    // combiner(identity, x) == x
};

/// The reduction `op` computes where `lanes` lanes can share it out: one
/// init of f32, static loop sizes, exactly one reduction loop of a multiple
/// of `lanes` iterations, a combiner (addf, mulf, maximumf, maxnumf,
/// minimumf, minnumf) that the body applies to the init once, last;
/// otherwise nothing. Whether it pays is the caller's question (a
/// tensor-core tile matches too).
std::optional<WarpReduction> getWarpReduction(linalg::LinalgOp op,
                                              int64_t lanes = kWarpSize);

} // namespace mlir::nats

#endif // NATS_GPU_TRANSFORMS_WARPREDUCTION_H
