//===- LaneCode.h - what the lane-level lowerings share ---------*- C++ -*-===//
//
// nats-gpu-mma-sync and nats-gpu-warp-reduce replace the linalg op of a warp
// tile by the code each lane runs, loading and storing the op's operands
// element by element at positions of its loops; nats-gpu-warp-rows writes a
// warp's lane code for a whole loop. The pieces they share.
//
//===----------------------------------------------------------------------===//

#ifndef NATS_GPU_TRANSFORMS_LANECODE_H
#define NATS_GPU_TRANSFORMS_LANECODE_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"

namespace mlir::nats {

/// The indices into `operand` of `op` at the loop position `loopValues`
/// (its indexing map a projected permutation).
SmallVector<Value> getOperandIndices(linalg::LinalgOp op, OpOperand *operand,
                                     ArrayRef<Value> loopValues);

/// The ops [begin, end) of a linalg body for one element, cloned at `b`'s
/// insertion point: `mapping` gives the values they read from outside the
/// range (block arguments, earlier results) and is extended by the clones;
/// linalg.index d reads `loopValues[d]`, the element's position.
void cloneOpsAt(OpBuilder &b, Block::iterator begin, Block::iterator end,
                IRMapping &mapping, ArrayRef<Value> loopValues);

/// The value that `op`'s body yields for one element (its first yielded
/// value): its ops cloned by cloneOpsAt.
Value cloneBodyAt(OpBuilder &b, linalg::LinalgOp op, IRMapping &mapping,
                  ArrayRef<Value> loopValues);

/// The f32 values `low` and `high` rounded to the 16-bit float type `half`
/// (bf16 or f16): one register of an m16n8k16 operand fragment.
Value packHalves(OpBuilder &b, Location loc, Value low, Value high, Type half);

/// An m16n8k16 operand fragment (A: 4 × 2, B: 2 × 2 elements of 16 bits)
/// of its registers (vector<2xhalf> each).
Value createFragment(OpBuilder &b, Location loc, ValueRange registers);

/// `accumulator` (an m16n8 C fragment, vector<2x2xf32>) plus A · B of one
/// m16n8k16 MMA on 16-bit floats, f32 accumulation.
Value createMma16x8x16(OpBuilder &b, Location loc, Value a, Value bFragment,
                       Value accumulator);

} // namespace mlir::nats

#endif // NATS_GPU_TRANSFORMS_LANECODE_H
