//===- LaneCode.h - what the lane-level lowerings of warp tiles share -*- C++ -*-===//
//
// nats-gpu-mma-sync and nats-gpu-warp-reduce replace the linalg op of a warp
// tile by the code each lane runs, loading and storing the op's operands
// element by element at positions of its loops.
//
//===----------------------------------------------------------------------===//

#ifndef NATS_GPU_TRANSFORMS_LANECODE_H
#define NATS_GPU_TRANSFORMS_LANECODE_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"

namespace mlir::nats {

/// The indices into `operand` of `op` at the loop position `loopValues`
/// (one value per loop of `op`); its indexing map must be a projected
/// permutation, as those of the tiles nats-gpu-distribute makes are.
SmallVector<Value> getOperandIndices(linalg::LinalgOp op, OpOperand *operand,
                                     ArrayRef<Value> loopValues);

} // namespace mlir::nats

#endif // NATS_GPU_TRANSFORMS_LANECODE_H
