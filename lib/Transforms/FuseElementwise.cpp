//===- FuseElementwise.cpp - elementwise producers into their consumers ---===//
//
// The lowering of the nats ops writes one linalg op per step of the
// algorithm (a conversion, then a norm, then a scale...). Each is a pass
// over a tile: on the GPU a step between barriers of the whole block with
// its result in shared memory. Folding an elementwise producer into its
// one consumer removes the step and the buffer. (Folded into each of
// several, it would be computed again per use: on the H100 that was
// slower, docs/benchmarks.md, run 56.)
//
//===----------------------------------------------------------------------===//

#include "nats/Transforms/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::nats {
#define GEN_PASS_DEF_NATSFUSEELEMENTWISEPASS
#include "nats/Transforms/Passes.h.inc"
} // namespace mlir::nats

using namespace mlir;
using namespace mlir::nats;

namespace {

/// Whether `use` may take an elementwise producer into its op's body: an
/// input of a generic that is not a contraction, read element for element
/// (a permutation: under a broadcast, the fused producer would be computed
/// again for every element it is broadcast to).
bool isFusableUse(OpOperand &use) {
  auto consumer = dyn_cast<linalg::GenericOp>(use.getOwner());
  return consumer && consumer.isDpsInput(&use) &&
         !linalg::isaContractionOpInterface(consumer) &&
         consumer.getMatchingIndexingMap(&use).isPermutation();
}

struct NatsFuseElementwisePass
    : nats::impl::NatsFuseElementwisePassBase<NatsFuseElementwisePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    linalg::populateElementwiseOpsFusionPatterns(
        patterns, [](OpOperand *fused) {
          auto producer = fused->get().getDefiningOp<linalg::GenericOp>();
          return producer && producer->getNumResults() == 1 &&
                 producer->getResult(0).hasOneUse() && isFusableUse(*fused);
        });
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
