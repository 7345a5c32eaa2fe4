//===- MmaPrecision.h - how tensor-core contractions multiply ---*- C++ -*-===//
//
// Shared by nats-gpu-mma-precision (which marks functions), nats-gpu-mma-sync
// (which follows the mark) and the nats-gpu pipeline's option.
//
//===----------------------------------------------------------------------===//

#ifndef NATS_GPU_TRANSFORMS_MMAPRECISION_H
#define NATS_GPU_TRANSFORMS_MMAPRECISION_H

#include "llvm/ADT/StringRef.h"

namespace mlir::nats {

/// The products of one m16n8k8 step: three tf32 products of the operands'
/// high and low parts (f32 accuracy), one (tf32), or as the function's
/// mark says (auto).
enum class MmaPrecision { Auto, ThreeTF32, TF32 };

/// The function attribute that nats-gpu-mma-precision sets: "tf32" or
/// "3xtf32".
constexpr llvm::StringLiteral kMmaPrecisionAttrName = "nats.mma_precision";

} // namespace mlir::nats

#endif // NATS_GPU_TRANSFORMS_MMAPRECISION_H
