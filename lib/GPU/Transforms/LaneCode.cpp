//===- LaneCode.cpp - what the lane-level lowerings of warp tiles share ---===//

#include "nats/GPU/Transforms/LaneCode.h"

#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;

SmallVector<Value> nats::getOperandIndices(linalg::LinalgOp op,
                                           OpOperand *operand,
                                           ArrayRef<Value> loopValues) {
  AffineMap map = op.getMatchingIndexingMap(operand);
  SmallVector<Value> indices;
  for (unsigned i = 0; i < map.getNumResults(); ++i)
    indices.push_back(loopValues[map.getDimPosition(i)]);
  return indices;
}

void nats::cloneOpsAt(OpBuilder &b, Block::iterator begin, Block::iterator end,
                      IRMapping &mapping, ArrayRef<Value> loopValues) {
  for (Operation &inner : llvm::make_range(begin, end)) {
    if (auto position = dyn_cast<linalg::IndexOp>(inner)) {
      mapping.map(position.getResult(), loopValues[position.getDim()]);
      continue;
    }
    b.clone(inner, mapping);
  }
}

Value nats::cloneBodyAt(OpBuilder &b, linalg::LinalgOp op, IRMapping &mapping,
                        ArrayRef<Value> loopValues) {
  Block *body = op.getBlock();
  cloneOpsAt(b, body->begin(), body->getTerminator()->getIterator(), mapping,
             loopValues);
  return mapping.lookup(body->getTerminator()->getOperand(0));
}

Value nats::packHalves(OpBuilder &b, Location loc, Value low, Value high,
                       Type half) {
  Value wide = vector::FromElementsOp::create(
      b, loc, VectorType::get({2}, b.getF32Type()), ValueRange{low, high});
  return arith::TruncFOp::create(b, loc, VectorType::get({2}, half), wide);
}

Value nats::createFragment(OpBuilder &b, Location loc, ValueRange registers) {
  auto registerType = cast<VectorType>(registers.front().getType());
  auto type =
      VectorType::get({static_cast<int64_t>(registers.size()), 2},
                      registerType.getElementType());
  Value fragment = arith::ConstantOp::create(
      b, loc, type, b.getZeroAttr(type));
  for (auto [i, reg] : llvm::enumerate(registers))
    fragment = vector::InsertOp::create(b, loc, reg, fragment,
                                        ArrayRef<int64_t>{int64_t(i)});
  return fragment;
}

Value nats::createMma16x8x16(OpBuilder &b, Location loc, Value a,
                             Value bFragment, Value accumulator) {
  return nvgpu::MmaSyncOp::create(b, loc, a, bFragment, accumulator,
                                  ArrayRef<int64_t>{16, 8, 16});
}
