//===- InPlace.h - which value a tensor was computed in place from -*- C++ -*-===//
//
// nats-gpu-distribute (loop-carried values) and nats-gpu-unshare-empties
// (slices written back) both ask, of a tensor, which value it updates in
// place: the one reached through destinations only, which bufferization
// gives the same buffer.
//
//===----------------------------------------------------------------------===//

#ifndef NATS_GPU_TRANSFORMS_INPLACE_H
#define NATS_GPU_TRANSFORMS_INPLACE_H

#include "mlir/IR/Value.h"

namespace mlir::nats {

/// The value that `value` is computed in place from: followed from a result
/// to the operand it updates (the tied init of a destination-style op, such
/// as an insert's destination; a forall's shared output; a loop's initial
/// value) as long as there is one; a block argument or the result of any
/// other op ends the walk.
Value getInPlaceSource(Value value);

} // namespace mlir::nats

#endif // NATS_GPU_TRANSFORMS_INPLACE_H
