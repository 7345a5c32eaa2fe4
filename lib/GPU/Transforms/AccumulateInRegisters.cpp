//===- AccumulateInRegisters.cpp - a thread's reduction in a register -----===//
//
// After distribution each thread runs, per output element, a linalg op
// whose parallel dimensions have one iteration: a dot product, a row sum.
// Lowered by convert-linalg-to-loops, its output element is loaded and
// stored in every iteration of the reduction; here it is an iteration
// argument of the reduction loops instead.
//
//===----------------------------------------------------------------------===//

#include "nats/GPU/Transforms/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::nats {
#define GEN_PASS_DEF_NATSGPUACCUMULATEINREGISTERSPASS
#include "nats/GPU/Transforms/Passes.h.inc"
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

struct AccumulateInRegisters : OpInterfaceRewritePattern<linalg::LinalgOp> {
  using OpInterfaceRewritePattern::OpInterfaceRewritePattern;

  LogicalResult matchAndRewrite(linalg::LinalgOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureBufferSemantics() || op.getNumDpsInits() != 1 ||
        !op->getParentOfType<gpu::LaunchOp>())
      return rewriter.notifyMatchFailure(op, "not a thread's reduction");
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
    bool reduces = false;
    for (auto [range, iterator] : llvm::zip(ranges, iterators)) {
      if (ShapedType::isDynamic(range))
        return rewriter.notifyMatchFailure(op, "dynamic loop range");
      if (iterator == utils::IteratorType::parallel && range != 1)
        return rewriter.notifyMatchFailure(op, "more than one output element");
      reduces |= iterator == utils::IteratorType::reduction && range > 1;
    }
    OpOperand *init = op.getDpsInitOperand(0);
    AffineMap initMap = op.getMatchingIndexingMap(init);
    if (!reduces || !initMap.isProjectedPermutation())
      return rewriter.notifyMatchFailure(op, "nothing to carry");

    Location loc = op.getLoc();
    Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
    SmallVector<Value> dims(ranges.size(), zero);
    // The output element: parallel dims are 0, reductions do not index it.
    SmallVector<Value> initIndices = applyMap(rewriter, loc, initMap, dims);
    Value initial =
        memref::LoadOp::create(rewriter, loc, init->get(), initIndices);

    SmallVector<Value> lbs, ubs, steps;
    SmallVector<unsigned> reductionDims;
    for (auto [dim, range] : llvm::enumerate(ranges)) {
      if (iterators[dim] != utils::IteratorType::reduction)
        continue;
      reductionDims.push_back(dim);
      lbs.push_back(zero);
      ubs.push_back(arith::ConstantIndexOp::create(rewriter, loc, range));
      steps.push_back(arith::ConstantIndexOp::create(rewriter, loc, 1));
    }
    Block *body = op.getBlock();
    scf::LoopNest nest = scf::buildLoopNest(
        rewriter, loc, lbs, ubs, steps, ValueRange{initial},
        [&](OpBuilder &b, Location loc, ValueRange ivs,
            ValueRange carried) -> scf::ValueVector {
          for (auto [dim, iv] : llvm::zip(reductionDims, ivs))
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
    memref::StoreOp::create(rewriter, loc, nest.results.front(), init->get(),
                            initIndices);
    rewriter.eraseOp(op);
    return success();
  }
};

struct NatsGPUAccumulateInRegistersPass
    : nats::impl::NatsGPUAccumulateInRegistersPassBase<
          NatsGPUAccumulateInRegistersPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<AccumulateInRegisters>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
