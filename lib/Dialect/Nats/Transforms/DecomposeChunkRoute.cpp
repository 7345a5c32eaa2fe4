//===- DecomposeChunkRoute.cpp - nats.chunk_route to linalg ---------------===//
//
// The router of a NAtS-L layer as upstream tensor and linalg ops: pad the
// tokens to whole chunks, sum each chunk, multiply by the router weight and
// compare each pair of logits.
//
//===----------------------------------------------------------------------===//

#include "nats/Dialect/Nats/IR/NatsOps.h"
#include "nats/Dialect/Nats/Transforms/Passes.h"
#include "nats/Dialect/Nats/Transforms/Transforms.h"

#include "RewriteAll.h"
#include "TileBuilder.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tensor/Utils/Utils.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

namespace mlir::nats {
#define GEN_PASS_DEF_NATSDECOMPOSECHUNKROUTEPASS
#include "nats/Dialect/Nats/Transforms/Passes.h.inc"
} // namespace mlir::nats

using namespace mlir;
using namespace mlir::nats;

namespace {

using utils::IteratorType;

/// A zero-filled f32 tensor of `sizes` (which may be dynamic), the
/// accumulator of a reduction.
Value zeroF32(OpBuilder &b, Location loc, ArrayRef<OpFoldResult> sizes) {
  Value empty = tensor::EmptyOp::create(b, loc, sizes, b.getF32Type());
  Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
  return linalg::FillOp::create(b, loc, zero, empty).getResult(0);
}

struct DecomposeChunkRoute : OpRewritePattern<ChunkRouteOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ChunkRouteOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Value x = op.getX();
    auto xType = cast<RankedTensorType>(x.getType());
    int64_t tokens = xType.getDimSize(1);
    if (ShapedType::isDynamic(tokens))
      return rewriter.notifyMatchFailure(op, "needs a static token count");
    int64_t chunk = op.getChunkSize();
    int64_t chunks = llvm::divideCeil(tokens, chunk);
    OpFoldResult batch = tensor::getMixedSize(rewriter, loc, x, 0);
    OpFoldResult model = tensor::getMixedSize(rewriter, loc, x, 2);
    OpFoldResult logits = tensor::getMixedSize(rewriter, loc, op.getWeight(), 1);

    // Whole chunks: zeros added at the end do not change a chunk's sum.
    if (chunks * chunk != tokens) {
      SmallVector<int64_t> paddedShape(xType.getShape());
      paddedShape[1] = chunks * chunk;
      Value zero = arith::ConstantOp::create(
          rewriter, loc, rewriter.getZeroAttr(xType.getElementType()));
      SmallVector<Value> dynamicDims =
          tensor::createDynamicDimValues(rewriter, loc, x);
      x = tensor::createPadHighOp(
          RankedTensorType::get(paddedShape, xType.getElementType()), x, zero,
          /*nofold=*/false, loc, rewriter, dynamicDims);
    }
    SmallVector<OpFoldResult> chunkedSizes = {
        batch, rewriter.getIndexAttr(chunks), rewriter.getIndexAttr(chunk),
        model};
    SmallVector<int64_t> chunkedShape = {xType.getDimSize(0), chunks, chunk,
                                         xType.getDimSize(2)};
    Value chunked = tensor::ExpandShapeOp::create(
        rewriter, loc,
        RankedTensorType::get(chunkedShape, xType.getElementType()), x,
        ArrayRef<ReassociationIndices>{{0}, {1, 2}, {3}}, chunkedSizes);

    // Per-chunk sums. The router takes the mean, but dividing a chunk's
    // logits by its (positive) token count changes neither the argmax nor
    // which way a tie goes, so the division is left out.
    AffineExpr b, n, c, d, j;
    bindDims(ctx, b, n, c, d);
    Value sumInit = zeroF32(rewriter, loc,
                            {batch, rewriter.getIndexAttr(chunks), model});
    Value sums =
        linalg::GenericOp::create(
            rewriter, loc, sumInit.getType(), chunked, sumInit,
            {AffineMap::get(4, 0, {b, n, c, d}, ctx),
             AffineMap::get(4, 0, {b, n, d}, ctx)},
            {IteratorType::parallel, IteratorType::parallel,
             IteratorType::reduction, IteratorType::parallel},
            [](OpBuilder &nb, Location nloc, ValueRange args) {
              Value sum = arith::AddFOp::create(
                  nb, nloc, TileBuilder::toF32(nb, nloc, args[0]), args[1]);
              linalg::YieldOp::create(nb, nloc, sum);
            })
            .getResult(0);

    // Router logits: sums (B×N×D) times weight (D×2R), in f32.
    bindDims(ctx, b, n, j, d);
    Value logitInit =
        zeroF32(rewriter, loc, {batch, rewriter.getIndexAttr(chunks), logits});
    Value chunkLogits =
        linalg::GenericOp::create(
            rewriter, loc, logitInit.getType(), ValueRange{sums, op.getWeight()},
            logitInit,
            {AffineMap::get(4, 0, {b, n, d}, ctx),
             AffineMap::get(4, 0, {d, j}, ctx),
             AffineMap::get(4, 0, {b, n, j}, ctx)},
            {IteratorType::parallel, IteratorType::parallel,
             IteratorType::parallel, IteratorType::reduction},
            [](OpBuilder &nb, Location nloc, ValueRange args) {
              Value product = arith::MulFOp::create(
                  nb, nloc, args[0], TileBuilder::toF32(nb, nloc, args[1]));
              Value sum = arith::AddFOp::create(nb, nloc, product, args[2]);
              linalg::YieldOp::create(nb, nloc, sum);
            })
            .getResult(0);

    // route[b, n, r] = argmax(logits[b, n, 2r : 2r + 2]) == 0.
    AffineExpr r;
    bindDims(ctx, b, n, r);
    auto routeType = cast<RankedTensorType>(op.getRoute().getType());
    OpFoldResult routerHeads;
    if (auto size = getConstantIntValue(logits))
      routerHeads = rewriter.getIndexAttr(*size / 2);
    else
      routerHeads = arith::DivUIOp::create(
                        rewriter, loc, cast<Value>(logits),
                        arith::ConstantIndexOp::create(rewriter, loc, 2))
                        .getResult();
    Value routeInit = tensor::EmptyOp::create(
        rewriter, loc,
        SmallVector<OpFoldResult>{batch, rewriter.getIndexAttr(chunks),
                                  routerHeads},
        rewriter.getI1Type());
    Value route =
        linalg::GenericOp::create(
            rewriter, loc, routeInit.getType(),
            ValueRange{chunkLogits, chunkLogits}, routeInit,
            {AffineMap::get(3, 0, {b, n, r * 2}, ctx),
             AffineMap::get(3, 0, {b, n, r * 2 + 1}, ctx),
             AffineMap::get(3, 0, {b, n, r}, ctx)},
            {IteratorType::parallel, IteratorType::parallel,
             IteratorType::parallel},
            [](OpBuilder &nb, Location nloc, ValueRange args) {
              Value keep = arith::CmpFOp::create(
                  nb, nloc, arith::CmpFPredicate::OGE, args[0], args[1]);
              linalg::YieldOp::create(nb, nloc, keep);
            })
            .getResult(0);
    if (route.getType() != routeType)
      route = tensor::CastOp::create(rewriter, loc, routeType, route);
    rewriter.replaceOp(op, route);
    return success();
  }
};

struct NatsDecomposeChunkRoutePass
    : nats::impl::NatsDecomposeChunkRoutePassBase<NatsDecomposeChunkRoutePass> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateNatsDecomposeChunkRoutePatterns(patterns);
    if (failed(rewriteAllOrReport<ChunkRouteOp>(
            getOperation(), std::move(patterns),
            "could not be decomposed: the token dim of 'x' must be static")))
      signalPassFailure();
  }
};

} // namespace

void mlir::nats::populateNatsDecomposeChunkRoutePatterns(
    RewritePatternSet &patterns, PatternBenefit benefit) {
  patterns.add<DecomposeChunkRoute>(patterns.getContext(), benefit);
}
