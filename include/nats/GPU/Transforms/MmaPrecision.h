//===- MmaPrecision.h - how tensor-core contractions multiply ---*- C++ -*-===//
//
// Shared by nats-gpu-mma-precision (which marks functions), nats-gpu-mma-sync
// (which follows the mark) and the nats-gpu pipeline's option.
//
//===----------------------------------------------------------------------===//

#ifndef NATS_GPU_TRANSFORMS_MMAPRECISION_H
#define NATS_GPU_TRANSFORMS_MMAPRECISION_H

#include "llvm/ADT/StringRef.h"

#include <optional>

namespace mlir::nats {

/// The products of a tensor-core step: three tf32 m16n8k8 products of the
/// operands' high and low parts (f32 accuracy), one (tf32), one bf16
/// m16n8k16 product of the operands rounded to bf16 (bf16), or as the
/// function's mark says (auto).
enum class MmaPrecision { Auto, ThreeTF32, TF32, BF16 };

/// The function attribute that nats-gpu-mma-precision sets (or a user):
/// the mark of a precision other than Auto.
constexpr llvm::StringLiteral kMmaPrecisionAttrName = "nats.mma_precision";

/// The mark's value for a precision other than Auto.
inline llvm::StringRef getMmaPrecisionMark(MmaPrecision precision) {
  switch (precision) {
  case MmaPrecision::TF32:
    return "tf32";
  case MmaPrecision::BF16:
    return "bf16";
  default:
    return "3xtf32";
  }
}

/// The precision a mark's value names, or none for any other string.
inline std::optional<MmaPrecision> parseMmaPrecisionMark(llvm::StringRef mark) {
  for (MmaPrecision precision :
       {MmaPrecision::ThreeTF32, MmaPrecision::TF32, MmaPrecision::BF16})
    if (mark == getMmaPrecisionMark(precision))
      return precision;
  return std::nullopt;
}

} // namespace mlir::nats

#endif // NATS_GPU_TRANSFORMS_MMAPRECISION_H
