//===- VectorizeElementForalls.cpp - element-wise thread foralls by pieces ===//
//
// A thread forall that applies one element-wise linalg op to element views
// of tiles (nats-gpu-distribute's share of a fill, a copy or a map over the
// threads) moves one element an iteration: the state pass's snapshot of S
// (f32 in shared memory, bf16 in global memory) was a 2-byte store and a
// 4-byte load per element, 36% of that kernel's time at head dim 256 (run
// 102). Where every tile's rows are aligned to pieces of W elements (16
// bytes at most of any of them) and W divides the last bound, each
// iteration here moves a piece: vector loads, the op's body on vectors,
// vector stores (nats-gpu-align-vector-accesses then gives each its
// alignment). A row's value that a map reads (a row factor: diag(β)·V in
// the chunk terms) is loaded once a piece and broadcast: v's tile then
// moves in pieces, not 2 bytes a load from global memory (30% of the chunk
// terms' time at head dim 256 in run 107; they took 0.74-0.85× as long
// over M1 and M2 with it, run 109).
//
//===----------------------------------------------------------------------===//

#include "nats/GPU/Transforms/Alignment.h"
#include "nats/GPU/Transforms/Mapping.h"
#include "nats/GPU/Transforms/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::nats {
#define GEN_PASS_DEF_NATSGPUVECTORIZEELEMENTFORALLSPASS
#include "nats/GPU/Transforms/Passes.h.inc"
} // namespace mlir::nats

using namespace mlir;
using namespace mlir::nats;

namespace {

/// Whether `map` reads a row's value: all loops but the last, in order.
bool isRowMap(AffineMap map) {
  unsigned loops = map.getNumDims();
  return loops > 1 &&
         map == AffineMap::getMultiDimIdentityMap(loops, map.getContext())
                    .dropResult(loops - 1);
}

/// Whether `generic`'s body can run on vectors: every op element-wise
/// mappable, its operands the body's own values or scalars from outside
/// (broadcast), and no index op; its operands read at the element, or (an
/// input) at its row (one value a piece, broadcast).
bool hasVectorizableBody(linalg::GenericOp generic) {
  if (generic.getNumReductionLoops() != 0 || generic.hasIndexSemantics())
    return false;
  for (OpOperand &operand : generic->getOpOperands()) {
    AffineMap map = generic.getMatchingIndexingMap(&operand);
    if (!map.isIdentity() &&
        !(generic.isDpsInput(&operand) && isRowMap(map)))
      return false;
  }
  Block *body = generic.getBody();
  for (Operation &op : body->without_terminator()) {
    if (!OpTrait::hasElementwiseMappableTraits(&op) ||
        op.getNumRegions() != 0)
      return false;
    for (Value operand : op.getOperands())
      if (operand.getParentBlock() != body &&
          !operand.getType().isIntOrFloat())
        return false;
  }
  return true;
}

/// A thread forall of one element-wise op on element views of tiles.
struct ElementForall {
  scf::ForallOp forall;
  linalg::LinalgOp op;
  /// The tile each of `op`'s memref operands views an element (or a
  /// row's value) of.
  SmallVector<Value> tiles;
  /// Whether each tile is a row's values (read one a piece).
  SmallVector<bool> rows;
};

/// Whether `view` is a row's value of its source at `forall`'s induction
/// variables but the last (a 1-element view).
bool isRowView(memref::SubViewOp view, scf::ForallOp forall) {
  return isElementAt(view, ValueRange(forall.getInductionVars()).drop_back());
}

std::optional<ElementForall> matchElementForall(scf::ForallOp forall) {
  if (!isThreadForall(forall) || forall.getNumResults() != 0 ||
      !forall.isNormalized() ||
      !getConstantIntValue(forall.getMixedUpperBound().back()))
    return std::nullopt;
  ElementForall match{forall, nullptr, {}};
  for (Operation &op : forall.getBody()->without_terminator()) {
    if (auto view = dyn_cast<memref::SubViewOp>(op)) {
      if (!(isElementView(view, forall) || isRowView(view, forall)) ||
          !view->hasOneUse())
        return std::nullopt;
      continue;
    }
    auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
    if (match.op || !linalgOp || !linalgOp.hasPureBufferSemantics())
      return std::nullopt;
    auto generic = dyn_cast<linalg::GenericOp>(op);
    if (!isa<linalg::FillOp, linalg::CopyOp>(op) &&
        !(generic && hasVectorizableBody(generic)))
      return std::nullopt;
    match.op = linalgOp;
  }
  if (!match.op)
    return std::nullopt;
  for (OpOperand &operand : match.op->getOpOperands()) {
    if (!isa<MemRefType>(operand.get().getType()))
      continue;
    auto view = operand.get().getDefiningOp<memref::SubViewOp>();
    if (!view || view->getBlock() != forall.getBody())
      return std::nullopt;
    // A row's value where the op reads it so, an element otherwise.
    bool row = !isElementView(view, forall);
    if (row != (isa<linalg::GenericOp>(*match.op) &&
                isRowMap(match.op.getMatchingIndexingMap(&operand))) ||
        (row && !view.getType().getElementType().isIntOrIndexOrFloat()))
      return std::nullopt;
    match.tiles.push_back(view.getSource());
    match.rows.push_back(row);
  }
  return match;
}

/// `match`'s forall over pieces of `width` elements of its last dim.
void vectorize(RewriterBase &b, ElementForall &match, int64_t width) {
  scf::ForallOp forall = match.forall;
  Location loc = forall.getLoc();
  SmallVector<OpFoldResult> bounds = forall.getMixedUpperBound();
  bounds.back() =
      b.getIndexAttr(*getConstantIntValue(bounds.back()) / width);
  auto vectorOf = [&](Type element) {
    return VectorType::get({width}, element);
  };
  b.setInsertionPoint(forall);
  scf::ForallOp::create(
      b, loc, forall.getMixedLowerBound(), bounds, forall.getMixedStep(),
      ValueRange{}, forall.getMapping(),
      [&](OpBuilder &nested, Location at, ValueRange ivs) {
        SmallVector<Value> indices(ivs);
        indices.back() = arith::MulIOp::create(
            nested, at, ivs.back(),
            arith::ConstantIndexOp::create(nested, at, width),
            arith::IntegerOverflowFlags::nuw |
                arith::IntegerOverflowFlags::nsw);
        auto load = [&](Value tile, bool row = false) -> Value {
          Type element = cast<MemRefType>(tile.getType()).getElementType();
          if (row)
            return vector::BroadcastOp::create(
                nested, at, vectorOf(element),
                memref::LoadOp::create(nested, at, tile,
                                       ArrayRef<Value>(indices).drop_back()));
          return vector::LoadOp::create(nested, at, vectorOf(element), tile,
                                        indices);
        };
        auto store = [&](Value piece, Value tile) {
          vector::StoreOp::create(nested, at, piece, tile, indices);
        };
        // The tiles in operand order: the op's inputs, then its outputs.
        ArrayRef<Value> tiles = match.tiles;
        ArrayRef<Value> outputs = tiles.take_back(match.op.getNumDpsInits());
        if (auto fill = dyn_cast<linalg::FillOp>(*match.op)) {
          Value value = fill.getInputs()[0];
          store(vector::BroadcastOp::create(nested, at,
                                            vectorOf(value.getType()), value),
                outputs[0]);
        } else if (isa<linalg::CopyOp>(*match.op)) {
          store(load(tiles[0]), outputs[0]);
        } else {
          auto generic = cast<linalg::GenericOp>(*match.op);
          Block *body = generic.getBody();
          IRMapping mapping;
          for (auto [argument, tile, row] :
               llvm::zip(body->getArguments(), tiles, match.rows))
            if (!argument.use_empty())
              mapping.map(argument, load(tile, row));
          // A scalar from outside the body, an operand or a yielded value,
          // is broadcast.
          auto mapOutside = [&](Operation &op) {
            for (Value operand : op.getOperands())
              if (!mapping.contains(operand) &&
                  operand.getParentBlock() != body)
                mapping.map(operand,
                            vector::BroadcastOp::create(
                                nested, at, vectorOf(operand.getType()),
                                operand));
          };
          for (Operation &op : body->without_terminator()) {
            mapOutside(op);
            Operation *clone = nested.clone(op, mapping);
            for (Value result : clone->getResults())
              result.setType(vectorOf(result.getType()));
          }
          mapOutside(*body->getTerminator());
          for (auto [yielded, tile] :
               llvm::zip(body->getTerminator()->getOperands(), outputs))
            store(mapping.lookup(yielded), tile);
        }
        scf::InParallelOp::create(nested, at);
      });
  b.eraseOp(forall);
}

struct NatsGPUVectorizeElementForallsPass
    : nats::impl::NatsGPUVectorizeElementForallsPassBase<
          NatsGPUVectorizeElementForallsPass> {
  void runOnOperation() override {
    SmallVector<ElementForall> matches;
    getOperation().walk([&](scf::ForallOp forall) {
      if (std::optional<ElementForall> match = matchElementForall(forall))
        matches.push_back(std::move(*match));
    });
    IRRewriter rewriter(&getContext());
    for (ElementForall &match : matches) {
      // A row's values are read one a piece: only the pieces' tiles count.
      SmallVector<Value> pieces;
      for (auto [tile, row] : llvm::zip(match.tiles, match.rows))
        if (!row)
          pieces.push_back(tile);
      if (int64_t width = getAlignedPieceWidth(
              pieces, *getConstantIntValue(
                          match.forall.getMixedUpperBound().back()));
          width > 1)
        vectorize(rewriter, match, width);
    }
  }
};

} // namespace
