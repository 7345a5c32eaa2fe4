//===- LaneCode.cpp - what the lane-level lowerings of warp tiles share ---===//

#include "nats/GPU/Transforms/LaneCode.h"

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
