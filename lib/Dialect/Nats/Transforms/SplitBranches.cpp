//===- SplitBranches.cpp - hybrid_attention into its two branches ---------===//
//
// nats.hybrid_attention computes two independent things that share only the
// route: the linear branch (o, final_state) and the softmax branch (os).
// Splitting them lets each be tiled and lowered in the way that suits it.
//
//===----------------------------------------------------------------------===//

#include "nats/Dialect/Nats/IR/NatsOps.h"
#include "nats/Dialect/Nats/Transforms/Passes.h"
#include "nats/Dialect/Nats/Transforms/Transforms.h"

#include "RewriteAll.h"


namespace mlir::nats {
#define GEN_PASS_DEF_NATSSPLITBRANCHESPASS
#include "nats/Dialect/Nats/Transforms/Passes.h.inc"
} // namespace mlir::nats

using namespace mlir;
using namespace mlir::nats;

namespace {

struct SplitBranches : OpRewritePattern<HybridAttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(HybridAttentionOp op,
                                PatternRewriter &rewriter) const override {
    std::optional<float> scale = op.getEffectiveScale();
    std::optional<float> softmaxScale = op.getEffectiveSoftmaxScale();
    if (!scale || !softmaxScale)
      return rewriter.notifyMatchFailure(
          op, "a default scale needs a static key dim");
    Location loc = op.getLoc();
    auto linear = GatedDeltaOp::create(
        rewriter, loc, op.getO().getType(), op.getFinalState().getType(),
        op.getQ(), op.getK(), op.getV(), op.getG(), op.getBeta(),
        op.getRoute(), op.getInitialState(), op.getChunkSizeAttr(),
        rewriter.getF32FloatAttr(*scale), op.getQkL2normAttr());
    auto softmax = RoutedSoftmaxOp::create(
        rewriter, loc, op.getOs().getType(), op.getQs(), op.getKs(),
        op.getVs(), op.getRoute(), op.getChunkSizeAttr(), op.getWindowAttr(),
        rewriter.getF32FloatAttr(*softmaxScale));
    rewriter.replaceOp(op, ValueRange{linear.getO(), softmax.getOs(),
                                      linear.getFinalState()});
    return success();
  }
};

struct NatsSplitBranchesPass
    : nats::impl::NatsSplitBranchesPassBase<NatsSplitBranchesPass> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateNatsSplitBranchesPatterns(patterns);
    if (failed(rewriteAllOrReport<HybridAttentionOp>(
            getOperation(), std::move(patterns),
            "could not be split: without 'scale' and 'softmax_scale' "
            "attributes, the key dims of 'q' and 'qs' must be static")))
      signalPassFailure();
  }
};

} // namespace

void mlir::nats::populateNatsSplitBranchesPatterns(RewritePatternSet &patterns,
                                                   PatternBenefit benefit) {
  patterns.add<SplitBranches>(patterns.getContext(), benefit);
}
