//===- WarpReduction.cpp - which reductions a warp shares out -------------===//

#include "nats/GPU/Transforms/WarpReduction.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

#include <limits>

using namespace mlir;

namespace {

/// The value x with combiner(x, y) == y for every y, for the combiners a
/// warp reduction folds lanes with; null for any other op.
TypedAttr getIdentity(Operation *combiner, FloatType type) {
  double identity;
  if (isa<arith::AddFOp>(combiner))
    identity = 0.0;
  else if (isa<arith::MulFOp>(combiner))
    identity = 1.0;
  else if (isa<arith::MaximumFOp, arith::MaxNumFOp>(combiner))
    identity = -std::numeric_limits<double>::infinity();
  else if (isa<arith::MinimumFOp, arith::MinNumFOp>(combiner))
    identity = std::numeric_limits<double>::infinity();
  else
    return {};
  return FloatAttr::get(type, identity);
}

} // namespace

std::optional<nats::WarpReduction>
nats::getWarpReduction(linalg::LinalgOp op, int64_t lanes) {
  if (op.getNumDpsInits() != 1 || !op.getBlock())
    return std::nullopt;
  auto type = dyn_cast<FloatType>(
      getElementTypeOrSelf(op.getDpsInitOperand(0)->get().getType()));
  if (!type || !type.isF32())
    return std::nullopt;
  SmallVector<unsigned> reductions;
  op.getReductionDims(reductions);
  if (reductions.size() != 1)
    return std::nullopt;
  SmallVector<int64_t> sizes = op.getStaticLoopRanges();
  if (ShapedType::isDynamicShape(sizes))
    return std::nullopt;
  if (sizes[reductions[0]] % lanes != 0)
    return std::nullopt;

  // The init is read once, by the op whose result the body yields.
  Block *body = op.getBlock();
  BlockArgument out = op.getMatchingBlockArgument(op.getDpsInitOperand(0));
  Operation *combiner =
      body->getTerminator()->getOperand(0).getDefiningOp();
  if (!combiner || combiner->getBlock() != body ||
      combiner->getNumOperands() != 2 || !out.hasOneUse() ||
      out.getUses().begin()->getOwner() != combiner)
    return std::nullopt;
  TypedAttr identity = getIdentity(combiner, type);
  if (!identity)
    return std::nullopt;
  return WarpReduction{reductions[0], combiner, identity};
}
