//===- TileHybridAttention.cpp - tile hybrid_attention over heads ---------===//
//
// Tiles nats.hybrid_attention through its TilingInterface into an scf.forall
// over (batch, router head): the parallel part of the op, which the CPU
// runs as loops and the GPU maps to blocks.
//
//===----------------------------------------------------------------------===//

#include "nats/Dialect/Nats/IR/NatsOps.h"
#include "nats/Dialect/Nats/Transforms/Passes.h"

#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::nats {
#define GEN_PASS_DEF_NATSTILEHYBRIDATTENTIONPASS
#include "nats/Dialect/Nats/Transforms/Passes.h.inc"
} // namespace mlir::nats

using namespace mlir;
using namespace mlir::nats;

namespace {

struct NatsTileHybridAttentionPass
    : nats::impl::NatsTileHybridAttentionPassBase<NatsTileHybridAttentionPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<int64_t> sizes(tileSizes.begin(), tileSizes.end());
    if (sizes.empty())
      sizes = {1, 1};
    if (sizes.size() != 2 || llvm::any_of(sizes, [](int64_t s) { return s < 0; })) {
      getOperation()->emitError()
          << "nats-tile-hybrid-attention: 'tile-sizes' takes two "
             "non-negative sizes (batch, router heads)";
      return signalPassFailure();
    }

    IRRewriter rewriter(&getContext());
    SmallVector<OpFoldResult> tileSizesOfr;
    for (int64_t size : sizes)
      tileSizesOfr.push_back(rewriter.getIndexAttr(size));
    scf::SCFTilingOptions options;
    options.setTileSizes(tileSizesOfr);
    options.setLoopType(scf::SCFTilingOptions::LoopType::ForallOp);

    SmallVector<HybridAttentionOp> ops;
    getOperation()->walk([&](HybridAttentionOp op) {
      // Ops inside a tile loop were tiled already (by this pass or by the
      // transform dialect).
      if (!op->getParentOfType<scf::ForallOp>())
        ops.push_back(op);
    });
    for (HybridAttentionOp op : ops) {
      if (!op.hasStaticHeads()) {
        op.emitOpError() << "can be tiled over router heads only when H, Hs "
                            "and R are static";
        return signalPassFailure();
      }
      rewriter.setInsertionPoint(op);
      FailureOr<scf::SCFTilingResult> tiled = scf::tileUsingSCF(
          rewriter, cast<TilingInterface>(op.getOperation()), options);
      if (failed(tiled))
        return signalPassFailure();
      rewriter.replaceOp(op, tiled->replacements);
    }
  }
};

} // namespace
