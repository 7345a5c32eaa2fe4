//===- BufferUses.h - where a buffer is used within a block -----*- C++ -*-===//
//
// One walk from a buffer to the ops of a block that use it or a value
// derived from it, for the passes that bound a buffer's life: where it is
// freed (nats-dealloc-after-last-use) and which buffers may share memory
// (nats-gpu-workspace).
//
//===----------------------------------------------------------------------===//

#ifndef NATS_TRANSFORMS_BUFFERUSES_H
#define NATS_TRANSFORMS_BUFFERUSES_H

#include "mlir/IR/Block.h"
#include "mlir/Support/LLVM.h"

namespace mlir::nats {

/// The ops of `block` that hold a use (other than by `ignore`) of `buffer`
/// or of a value derived from it, each once: every result of a user but
/// scalars and vectors, which are data (views, casts, loop results,
/// tensors, async tokens, descriptors may carry the buffer on), and from a
/// pointer taken as an index on every value computed from it (it may
/// become an address again); a use in a region is held by the op of
/// `block` around it. Fails where the buffer's life is not bounded in
/// `block`: a use outside it, by its terminator (returned, yielded), or a
/// derived value written to memory (it may be loaded back anywhere): an op
/// that writes a place it names, of which the value is none.
FailureOr<SmallVector<Operation *>>
getBufferUsesInBlock(Value buffer, Block *block, Operation *ignore = nullptr);

} // namespace mlir::nats

#endif // NATS_TRANSFORMS_BUFFERUSES_H
