//===- Alignment.h - which memref rows are aligned for wide accesses -*- C++ -*-===//
//
// Wide memory instructions (a 64-bit load of two f32, ldmatrix's 16-byte
// rows, a 16-byte cp.async) need addresses aligned to their width.
// nats-gpu-mma-sync, nats-gpu-prefetch and nats-gpu-align-vector-accesses
// prove that every row of a memref starts so aligned by following it back
// through its views to the buffer it comes from.
//
//===----------------------------------------------------------------------===//

#ifndef NATS_GPU_TRANSFORMS_ALIGNMENT_H
#define NATS_GPU_TRANSFORMS_ALIGNMENT_H

#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/Value.h"

#include <cstdint>

namespace mlir::nats {

/// The widest access the GPU makes in one instruction, in bytes.
constexpr int64_t kMaxAccessBytes = 16;

/// Whether the index `value` is provably a multiple of `factor`: a constant
/// that is, a product with a factor that is, a sum of two that are, or an
/// affine.apply whose expression is one for any operands.
bool isMultipleOf(OpFoldResult value, int64_t factor);

/// Whether the memref `value` (of integers or floats of whole bytes) has
/// unit stride in its last dimension and every element at a last index that
/// is a multiple of `elements` is aligned to `elements` elements' bytes:
/// its other strides are multiples of
/// `elements`, and so is every offset along the last dimension down to an
/// aligned buffer (an allocation aligned to that many bytes or more, the
/// shared-memory pool and views of it at byte shifts that are multiples of
/// the alignment; both buffers of nats-gpu-prefetch's select; a
/// memref.assume_alignment of that many bytes or more, as
/// nats-gpu-aligned-arguments makes of a function's arguments). Anything
/// else (a function argument without one, a dynamic shift) is not known to
/// be. With `inSharedMemory`, that buffer must also be the block's
/// shared memory (the pool, or an allocation in workgroup memory).
bool hasAlignedRows(Value value, int64_t elements, bool inSharedMemory);

/// Elements one access of each memref of `tiles` moves, row by row: the
/// most (a power of two) that are at most kMaxAccessBytes of any tile's
/// elements (integers or floats of whole bytes), divide `columns` and to
/// which every tile's rows are aligned (hasAlignedRows); 1 where none is.
int64_t getAlignedPieceWidth(ArrayRef<Value> tiles, int64_t columns);

} // namespace mlir::nats

#endif // NATS_GPU_TRANSFORMS_ALIGNMENT_H
