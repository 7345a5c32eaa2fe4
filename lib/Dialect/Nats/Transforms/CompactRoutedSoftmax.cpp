//===- CompactRoutedSoftmax.cpp - placeholder, being written ------------------------===//

#include "nats/Dialect/Nats/IR/NatsOps.h"
#include "nats/Dialect/Nats/Transforms/Passes.h"
#include "nats/Dialect/Nats/Transforms/Transforms.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::nats {
#define GEN_PASS_DEF_NATSCOMPACTROUTEDSOFTMAXPASS
#include "nats/Dialect/Nats/Transforms/Passes.h.inc"
} // namespace mlir::nats

using namespace mlir;
using namespace mlir::nats;

namespace {
struct NatsCompactRoutedSoftmaxPass : nats::impl::NatsCompactRoutedSoftmaxPassBase<NatsCompactRoutedSoftmaxPass> {
  using Base::Base;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateNatsCompactRoutedSoftmaxPatterns(patterns, blockSize);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};
} // namespace

void mlir::nats::populateNatsCompactRoutedSoftmaxPatterns(RewritePatternSet &patterns,
                                              int64_t, PatternBenefit) {}
