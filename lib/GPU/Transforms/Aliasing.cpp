//===- Aliasing.cpp - which buffers a block's memrefs may share -----------===//

#include "nats/GPU/Transforms/Aliasing.h"
#include "nats/GPU/Transforms/Workspace.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

using namespace mlir;

/// The bytes a memref.view at a constant shift to a static, contiguous
/// type covers in its source (at most its workspace slot: what
/// nats-gpu-workspace gives it); nothing where that is not known.
static std::optional<std::pair<int64_t, int64_t>>
getViewBytes(memref::ViewOp view) {
  std::optional<int64_t> shift = getConstantIntValue(view.getByteShift());
  MemRefType type = view.getType();
  if (!shift || !type.hasStaticShape() || !type.getLayout().isIdentity())
    return std::nullopt;
  return std::make_pair(*shift, *shift + nats::getSlotBytes(type));
}

SmallVector<nats::RootBuffer> nats::getRootBuffers(Value value) {
  SmallVector<RootBuffer> roots;
  SmallVector<RootBuffer> worklist{{value}};
  while (!worklist.empty()) {
    RootBuffer next = worklist.pop_back_val();
    Operation *def = next.base.getDefiningOp();
    if (auto select = dyn_cast_or_null<arith::SelectOp>(def)) {
      worklist.push_back({select.getTrueValue(), next.begin, next.end});
      worklist.push_back({select.getFalseValue(), next.begin, next.end});
    } else if (auto view = dyn_cast_or_null<memref::ViewOp>(def)) {
      // The view's bytes (or those of an inner view's range within it) in
      // its source's: a view of the block's pool, itself a view of the
      // dynamic shared memory.
      RootBuffer source{view.getSource()};
      if (auto bytes = getViewBytes(view)) {
        auto [shift, end] = *bytes;
        bool inner = next.end != std::numeric_limits<int64_t>::max();
        source.begin = shift + (inner ? next.begin : 0);
        source.end = inner ? shift + next.end : end;
      }
      worklist.push_back(source);
    } else if (auto cast = dyn_cast_or_null<memref::ReinterpretCastOp>(def)) {
      // Its offset, sizes and strides may reach anywhere in the buffers
      // beneath its source, beyond the source's own bytes.
      for (const RootBuffer &root : getRootBuffers(cast.getSource()))
        roots.push_back({root.base});
    } else if (auto viewLike = dyn_cast_or_null<ViewLikeOpInterface>(def)) {
      // A subview or a cast stays within what it views.
      worklist.push_back({viewLike.getViewSource(), next.begin, next.end});
    } else {
      roots.push_back(next);
    }
  }
  return roots;
}

namespace {

/// What a root buffer is, for telling two apart.
enum class RootKind {
  /// Memory of its own: an allocation, or the block's shared memory (every
  /// gpu.dynamic_shared_memory of a kernel is the same memory).
  Allocation,
  /// An argument of the function: memory from outside, no allocation of
  /// the function's.
  Argument,
  /// Anything else (a loop's memref argument, a cast's result, ...): may be
  /// any of the others.
  Unknown,
};

RootKind getRootKind(Value base) {
  if (isa_and_nonnull<memref::AllocOp, memref::AllocaOp,
                      gpu::DynamicSharedMemoryOp>(base.getDefiningOp()))
    return RootKind::Allocation;
  if (auto arg = dyn_cast<BlockArgument>(base))
    if (arg.getOwner()->isEntryBlock() &&
        isa<FunctionOpInterface>(arg.getOwner()->getParentOp()))
      return RootKind::Argument;
  return RootKind::Unknown;
}

/// Whether two roots are the same memory.
bool isSameRoot(Value x, Value y) {
  return x == y || (x.getDefiningOp<gpu::DynamicSharedMemoryOp>() &&
                    y.getDefiningOp<gpu::DynamicSharedMemoryOp>());
}

} // namespace

bool nats::mayAlias(Value a, Value b) {
  for (const RootBuffer &x : getRootBuffers(a))
    for (const RootBuffer &y : getRootBuffers(b)) {
      if (isSameRoot(x.base, y.base)) {
        if (x.begin < y.end && y.begin < x.end)
          return true;
        continue;
      }
      RootKind xKind = getRootKind(x.base), yKind = getRootKind(y.base);
      if (xKind == RootKind::Unknown || yKind == RootKind::Unknown ||
          (xKind == RootKind::Argument && yKind == RootKind::Argument))
        return true;
    }
  return false;
}
