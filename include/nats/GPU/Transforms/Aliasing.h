//===- Aliasing.h - which buffers a block's memrefs may share ---*- C++ -*-===//
//
// nats-gpu-prefetch asks whether a loop writes the memory a copy reads, and
// nats-map-foralls-to-gpu whether two phases of a block touch the same
// memory. Both follow memref values back through views to the buffers they
// come from: an allocation overlaps only itself, and after
// nats-gpu-workspace the block's buffers are views of one pool at constant
// byte shifts, which overlap only where their bytes do.
//
//===----------------------------------------------------------------------===//

#ifndef NATS_GPU_TRANSFORMS_ALIASING_H
#define NATS_GPU_TRANSFORMS_ALIASING_H

#include "mlir/IR/Value.h"

#include <cstdint>
#include <limits>

namespace mlir::nats {

/// A buffer a memref may view: where it comes from (an allocation, a
/// function argument, ...) and the bytes of it [begin, end) that the view
/// can reach, where a memref.view at a constant shift to a static type says
/// so (the whole buffer otherwise).
struct RootBuffer {
  Value base;
  int64_t begin = 0;
  int64_t end = std::numeric_limits<int64_t>::max();
};

/// The buffers that `value` may be a view of (through subviews, casts,
/// views, and both sides of a select).
SmallVector<RootBuffer> getRootBuffers(Value value);

/// Whether the memrefs `a` and `b` may overlap: views of one buffer (every
/// gpu.dynamic_shared_memory is one) where their byte ranges meet; an
/// allocation overlaps no other allocation and no function argument; two
/// function arguments may be one buffer, and a root of any other kind (a
/// loop's memref argument, a cast's result) may be any buffer.
bool mayAlias(Value a, Value b);

} // namespace mlir::nats

#endif // NATS_GPU_TRANSFORMS_ALIASING_H
