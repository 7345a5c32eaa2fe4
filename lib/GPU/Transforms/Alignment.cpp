//===- Alignment.cpp - which memref rows are aligned for wide accesses ----===//

#include "nats/GPU/Transforms/Alignment.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

using namespace mlir;

bool mlir::nats::isMultipleOf(OpFoldResult value, int64_t factor) {
  if (std::optional<int64_t> constant = getConstantIntValue(value))
    return *constant % factor == 0;
  Operation *def = cast<Value>(value).getDefiningOp();
  if (auto mul = dyn_cast_or_null<arith::MulIOp>(def))
    return isMultipleOf(mul.getLhs(), factor) ||
           isMultipleOf(mul.getRhs(), factor);
  if (auto add = dyn_cast_or_null<arith::AddIOp>(def))
    return isMultipleOf(add.getLhs(), factor) &&
           isMultipleOf(add.getRhs(), factor);
  // Tiling writes a tile's offset as affine.apply (d0 * size): a multiple
  // whatever its operands are.
  if (auto apply = dyn_cast_or_null<affine::AffineApplyOp>(def))
    return apply.getAffineMap().getResult(0).isMultipleOf(factor);
  return false;
}

bool mlir::nats::hasAlignedRows(Value value, int64_t elements,
                                bool inSharedMemory) {
  auto isAlignedStrided = [&](MemRefType type) {
    SmallVector<int64_t> strides;
    int64_t offset;
    if (failed(type.getStridesAndOffset(strides, offset)) || strides.empty() ||
        strides.back() != 1)
      return false;
    return llvm::all_of(ArrayRef(strides).drop_back(), [&](int64_t stride) {
      return !ShapedType::isDynamic(stride) && stride % elements == 0;
    });
  };
  auto type = dyn_cast<MemRefType>(value.getType());
  if (!type || !type.getElementType().isIntOrFloat() ||
      type.getElementTypeBitWidth() % 8 || !isAlignedStrided(type))
    return false;
  int64_t bytes = type.getElementTypeBitWidth() / 8 * elements;
  while (Operation *def = value.getDefiningOp()) {
    // One of two buffers (nats-gpu-prefetch's, taken in turn): both.
    if (auto select = dyn_cast<arith::SelectOp>(def))
      return hasAlignedRows(select.getTrueValue(), elements, inSharedMemory) &&
             hasAlignedRows(select.getFalseValue(), elements, inSharedMemory);
    if (auto subview = dyn_cast<memref::SubViewOp>(def)) {
      if (!isMultipleOf(subview.getMixedOffsets().back(), elements) ||
          !isAlignedStrided(subview.getSourceType()))
        return false;
      value = subview.getSource();
    } else if (isa<memref::MemorySpaceCastOp, memref::CastOp>(def)) {
      value = def->getOperand(0);
    } else if (auto view = dyn_cast<memref::ViewOp>(def)) {
      std::optional<int64_t> shift = getConstantIntValue(view.getByteShift());
      if (!shift || *shift % bytes)
        return false;
      value = view.getSource();
    } else if (auto assume = dyn_cast<memref::AssumeAlignmentOp>(def)) {
      // Global memory whose data is promised aligned, at an offset from
      // there that keeps it.
      SmallVector<int64_t> strides;
      int64_t offset;
      return !inSharedMemory && assume.getAlignment() >= bytes &&
             succeeded(assume.getType().getStridesAndOffset(strides, offset)) &&
             !ShapedType::isDynamic(offset) && offset % elements == 0;
    } else if (auto alloc = dyn_cast<memref::AllocOp>(def)) {
      return alloc.getAlignment().value_or(0) >= uint64_t(bytes) &&
             (!inSharedMemory ||
              gpu::GPUDialect::hasWorkgroupMemoryAddressSpace(
                  alloc.getType()));
    } else {
      // The block's shared-memory pool (an alloca that becomes the dynamic
      // shared memory, 16-byte aligned, in the kernel) and nothing else.
      if (isa<gpu::DynamicSharedMemoryOp>(def))
        return bytes <= 16;
      auto alloca = dyn_cast<memref::AllocaOp>(def);
      return alloca && bytes <= 16 &&
             gpu::GPUDialect::hasWorkgroupMemoryAddressSpace(
                 alloca.getType());
    }
  }
  return false;
}

int64_t mlir::nats::getAlignedPieceWidth(ArrayRef<Value> tiles,
                                         int64_t columns) {
  int64_t maxBytes = 1;
  for (Value tile : tiles) {
    Type element = cast<MemRefType>(tile.getType()).getElementType();
    if (!element.isIntOrFloat() || element.getIntOrFloatBitWidth() % 8)
      return 1;
    maxBytes =
        std::max<int64_t>(maxBytes, element.getIntOrFloatBitWidth() / 8);
  }
  for (int64_t width = kMaxAccessBytes / maxBytes; width > 1; width /= 2)
    if (columns % width == 0 && llvm::all_of(tiles, [&](Value tile) {
          return hasAlignedRows(tile, width, /*inSharedMemory=*/false);
        }))
      return width;
  return 1;
}
