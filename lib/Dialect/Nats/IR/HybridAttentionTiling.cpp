//===- HybridAttentionTiling.cpp - TilingInterface of hybrid_attention ----===//
//
// nats.hybrid_attention tiles over (batch, router head). Router head r owns
// linear heads [r·H/R, (r+1)·H/R) and softmax heads [r·Hs/R, (r+1)·Hs/R),
// so a tile of router heads is the same op on head slices of every operand,
// with all tokens: the chunk dimension carries the state and stays whole.
//
//===----------------------------------------------------------------------===//

#include "nats/Dialect/Nats/IR/NatsOps.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/TypeUtilities.h"

using namespace mlir;
using namespace mlir::nats;

namespace {

/// What a dim of an operand or result is to the (batch, router head)
/// iteration domain.
enum class Role {
  Batch,        // tiled with the batch loop
  LinearHeads,  // H/R per router head
  SoftmaxHeads, // Hs/R per router head
  RouterHeads,  // one per router head (route)
  Whole,        // never tiled
};

/// A dim of a value: its role, and where its full size comes from (an
/// operand and a dim of it), so that results can be sized from operands.
struct DimSpec {
  Role role;
  unsigned operand;
  unsigned dim;
};

// Operand numbers, in the spec's order.
enum : unsigned { Q, K, V, G, Beta, Qs, Ks, Vs, Route, InitialState };

SmallVector<DimSpec> linearTokens(unsigned lastFrom) {
  return {{Role::Batch, Q, 0},
          {Role::Whole, Q, 1},
          {Role::LinearHeads, Q, 2},
          {Role::Whole, lastFrom, 3}};
}

SmallVector<DimSpec> softmaxTokens(unsigned lastFrom) {
  return {{Role::Batch, Qs, 0},
          {Role::Whole, Qs, 1},
          {Role::SoftmaxHeads, Qs, 2},
          {Role::Whole, lastFrom, 3}};
}

SmallVector<DimSpec> state() {
  return {{Role::Batch, Q, 0},
          {Role::LinearHeads, Q, 2},
          {Role::Whole, Q, 3},
          {Role::Whole, V, 3}};
}

SmallVector<DimSpec> operandDims(unsigned operand) {
  switch (operand) {
  case Q:
  case K:
    return linearTokens(Q);
  case V:
    return linearTokens(V);
  case G:
  case Beta:
    return {{Role::Batch, Q, 0}, {Role::Whole, Q, 1}, {Role::LinearHeads, Q, 2}};
  case Qs:
  case Ks:
    return softmaxTokens(Qs);
  case Vs:
    return softmaxTokens(Vs);
  case Route:
    return {{Role::Batch, Route, 0},
            {Role::Whole, Route, 1},
            {Role::RouterHeads, Route, 2}};
  default:
    return state();
  }
}

SmallVector<DimSpec> resultDims(unsigned result) {
  switch (result) {
  case 0:
    return linearTokens(V);
  case 1:
    return softmaxTokens(Vs);
  default:
    return state();
  }
}

/// Linear and softmax heads per router head; needs static head counts.
std::pair<int64_t, int64_t> headGroups(HybridAttentionOp op) {
  int64_t r = cast<RankedTensorType>(op.getRoute().getType()).getDimSize(2);
  return {cast<RankedTensorType>(op.getQ().getType()).getDimSize(2) / r,
          cast<RankedTensorType>(op.getQs().getType()).getDimSize(2) / r};
}

/// Offsets and sizes of the slice of a value with `dims` that the tile
/// (`offsets`, `sizes`) of the (batch, router head) domain touches.
LogicalResult tileOf(OpBuilder &b, HybridAttentionOp op, ArrayRef<DimSpec> dims,
                     ArrayRef<OpFoldResult> offsets,
                     ArrayRef<OpFoldResult> sizes,
                     SmallVector<OpFoldResult> &sliceOffsets,
                     SmallVector<OpFoldResult> &sliceSizes) {
  if (!op.hasStaticHeads())
    return op.emitOpError() << "can be tiled over router heads only when H, "
                               "Hs and R are static";
  std::pair<int64_t, int64_t> groups = headGroups(op);
  Location loc = op.getLoc();
  AffineExpr d0 = b.getAffineDimExpr(0);
  auto scaled = [&](OpFoldResult value, int64_t factor) {
    return affine::makeComposedFoldedAffineApply(b, loc, d0 * factor, value);
  };
  sliceOffsets.clear();
  sliceSizes.clear();
  for (const DimSpec &dim : dims) {
    switch (dim.role) {
    case Role::Batch:
      sliceOffsets.push_back(offsets[0]);
      sliceSizes.push_back(sizes[0]);
      break;
    case Role::LinearHeads:
    case Role::SoftmaxHeads:
    case Role::RouterHeads: {
      int64_t factor = dim.role == Role::LinearHeads    ? groups.first
                       : dim.role == Role::SoftmaxHeads ? groups.second
                                                        : 1;
      sliceOffsets.push_back(scaled(offsets[1], factor));
      sliceSizes.push_back(scaled(sizes[1], factor));
      break;
    }
    case Role::Whole:
      sliceOffsets.push_back(b.getIndexAttr(0));
      sliceSizes.push_back(tensor::getMixedSize(
          b, loc, op->getOperand(dim.operand), dim.dim));
      break;
    }
  }
  return success();
}

} // namespace

bool HybridAttentionOp::hasStaticHeads() {
  auto dim = [](Value value, unsigned i) {
    return cast<RankedTensorType>(value.getType()).getDimSize(i);
  };
  int64_t r = dim(getRoute(), 2);
  return !ShapedType::isDynamic(dim(getQ(), 2)) &&
         !ShapedType::isDynamic(dim(getQs(), 2)) && !ShapedType::isDynamic(r) &&
         r > 0;
}

LogicalResult HybridAttentionOp::reifyResultShapes(
    OpBuilder &b, ReifiedRankedShapedTypeDims &reifiedReturnShapes) {
  for (unsigned result = 0; result < getNumResults(); ++result) {
    SmallVector<OpFoldResult> &shape = reifiedReturnShapes.emplace_back();
    for (const DimSpec &dim : resultDims(result))
      shape.push_back(tensor::getMixedSize(b, getLoc(),
                                           getOperand(dim.operand), dim.dim));
  }
  return success();
}

SmallVector<utils::IteratorType> HybridAttentionOp::getLoopIteratorTypes() {
  return {utils::IteratorType::parallel, utils::IteratorType::parallel};
}

SmallVector<Range> HybridAttentionOp::getIterationDomain(OpBuilder &b) {
  OpFoldResult zero = b.getIndexAttr(0), one = b.getIndexAttr(1);
  return {{zero, tensor::getMixedSize(b, getLoc(), getQ(), 0), one},
          {zero, tensor::getMixedSize(b, getLoc(), getRoute(), 2), one}};
}

FailureOr<TilingResult>
HybridAttentionOp::getTiledImplementation(OpBuilder &b,
                                          ArrayRef<OpFoldResult> offsets,
                                          ArrayRef<OpFoldResult> sizes) {
  Location loc = getLoc();
  SmallVector<Value> tiledOperands;
  SmallVector<Operation *> slices;
  for (OpOperand &operand : getOperation()->getOpOperands()) {
    SmallVector<OpFoldResult> sliceOffsets, sliceSizes;
    if (failed(tileOf(b, *this, operandDims(operand.getOperandNumber()),
                      offsets, sizes, sliceOffsets, sliceSizes)))
      return failure();
    SmallVector<OpFoldResult> strides(sliceSizes.size(), b.getIndexAttr(1));
    auto slice = tensor::ExtractSliceOp::create(b, loc, operand.get(),
                                                sliceOffsets, sliceSizes,
                                                strides);
    tiledOperands.push_back(slice);
    slices.push_back(slice);
  }
  SmallVector<Type> resultTypes;
  for (unsigned result = 0; result < getNumResults(); ++result) {
    SmallVector<OpFoldResult> resultOffsets, resultSizes;
    if (failed(getResultTilePosition(b, result, offsets, sizes, resultOffsets,
                                     resultSizes)))
      return failure();
    SmallVector<int64_t> shape;
    SmallVector<Value> dynamic;
    dispatchIndexOpFoldResults(resultSizes, dynamic, shape);
    resultTypes.push_back(RankedTensorType::get(
        shape, getElementTypeOrSelf(getResult(result).getType())));
  }
  Operation *tiled = mlir::clone(b, getOperation(), resultTypes, tiledOperands);
  return TilingResult{{tiled}, SmallVector<Value>(tiled->getResults()), slices};
}

LogicalResult HybridAttentionOp::getResultTilePosition(
    OpBuilder &b, unsigned resultNumber, ArrayRef<OpFoldResult> offsets,
    ArrayRef<OpFoldResult> sizes, SmallVector<OpFoldResult> &resultOffsets,
    SmallVector<OpFoldResult> &resultSizes) {
  return tileOf(b, *this, resultDims(resultNumber), offsets, sizes,
                resultOffsets, resultSizes);
}
