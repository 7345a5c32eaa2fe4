//===- AccumulateInRegisters.cpp - reductions carry their value -----------===//
//
// A linalg op with a reduction, lowered by convert-linalg-to-loops, loads
// and stores its output element in every iteration of the reduction: the
// buffers may alias, so LLVM cannot keep it in a register. Here each output
// element is loaded once, carried through the reduction loops as an
// iteration argument, and stored once.
//
//===----------------------------------------------------------------------===//

#include "nats/Transforms/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::nats {
#define GEN_PASS_DEF_NATSACCUMULATEINREGISTERSPASS
#include "nats/Transforms/Passes.h.inc"
} // namespace mlir::nats

using namespace mlir;
using namespace mlir::nats;

namespace {

/// The indices `map` gives for the loop indices `dims`.
SmallVector<Value> applyMap(OpBuilder &b, Location loc, AffineMap map,
                            ArrayRef<Value> dims) {
  SmallVector<Value> indices;
  for (unsigned i = 0; i < map.getNumResults(); ++i)
    indices.push_back(getValueOrCreateConstantIndexOp(
        b, loc,
        affine::makeComposedFoldedAffineApply(
            b, loc, map.getSubMap({i}), getAsOpFoldResult(dims))));
  return indices;
}

/// Loops from 0 to each of some dims' ranges (step 1), for buildLoopNest.
struct LoopBounds {
  SmallVector<Value> lbs, ubs, steps;
  SmallVector<unsigned> dims;
};

struct AccumulateInRegisters : OpInterfaceRewritePattern<linalg::LinalgOp> {
  using OpInterfaceRewritePattern::OpInterfaceRewritePattern;

  LogicalResult matchAndRewrite(linalg::LinalgOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureBufferSemantics() || op.getNumDpsInits() != 1)
      return rewriter.notifyMatchFailure(op, "not one output buffer");
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
    if (llvm::any_of(ranges, ShapedType::isDynamic))
      return rewriter.notifyMatchFailure(op, "dynamic loop range");
    OpOperand *init = op.getDpsInitOperand(0);
    AffineMap initMap = op.getMatchingIndexingMap(init);
    bool reduces = false;
    for (auto [range, iterator] : llvm::zip(ranges, iterators))
      reduces |= iterator == utils::IteratorType::reduction && range > 1;
    if (!reduces || !initMap.isProjectedPermutation())
      return rewriter.notifyMatchFailure(op, "nothing to carry");

    Location loc = op.getLoc();
    Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
    Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
    // Dims of one iteration are index 0 and get no loop.
    LoopBounds parallel, reduction;
    for (auto [dim, range] : llvm::enumerate(ranges)) {
      if (range == 1)
        continue;
      LoopBounds &bounds = iterators[dim] == utils::IteratorType::parallel
                               ? parallel
                               : reduction;
      bounds.dims.push_back(dim);
      bounds.lbs.push_back(zero);
      bounds.ubs.push_back(arith::ConstantIndexOp::create(rewriter, loc, range));
      bounds.steps.push_back(one);
    }
    SmallVector<Value> dims(ranges.size(), zero);
    Block *body = op.getBlock();

    // One output element: dims set for its parallel indices.
    auto element = [&](OpBuilder &b, Location loc) {
      SmallVector<Value> initIndices = applyMap(b, loc, initMap, dims);
      Value initial = memref::LoadOp::create(b, loc, init->get(), initIndices);
      scf::LoopNest nest = scf::buildLoopNest(
          b, loc, reduction.lbs, reduction.ubs, reduction.steps,
          ValueRange{initial},
          [&](OpBuilder &b, Location loc, ValueRange ivs,
              ValueRange carried) -> scf::ValueVector {
            for (auto [dim, iv] : llvm::zip(reduction.dims, ivs))
              dims[dim] = iv;
            IRMapping mapping;
            for (OpOperand *input : op.getDpsInputOperands()) {
              Value value = input->get();
              if (isa<MemRefType>(value.getType()))
                value = memref::LoadOp::create(
                    b, loc, value,
                    applyMap(b, loc, op.getMatchingIndexingMap(input), dims));
              mapping.map(op.getMatchingBlockArgument(input), value);
            }
            mapping.map(op.getMatchingBlockArgument(init), carried.front());
            for (Operation &inner : body->without_terminator()) {
              if (auto index = dyn_cast<linalg::IndexOp>(inner)) {
                mapping.map(index.getResult(), dims[index.getDim()]);
                continue;
              }
              b.clone(inner, mapping);
            }
            return {mapping.lookupOrDefault(
                body->getTerminator()->getOperand(0))};
          });
      memref::StoreOp::create(b, loc, nest.results.front(), init->get(),
                              initIndices);
    };

    if (parallel.dims.empty()) {
      element(rewriter, loc);
    } else {
      scf::buildLoopNest(rewriter, loc, parallel.lbs, parallel.ubs,
                         parallel.steps,
                         [&](OpBuilder &b, Location loc, ValueRange ivs) {
                           for (auto [dim, iv] : llvm::zip(parallel.dims, ivs))
                             dims[dim] = iv;
                           element(b, loc);
                         });
    }
    rewriter.eraseOp(op);
    return success();
  }
};

struct NatsAccumulateInRegistersPass
    : nats::impl::NatsAccumulateInRegistersPassBase<
          NatsAccumulateInRegistersPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<AccumulateInRegisters>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
