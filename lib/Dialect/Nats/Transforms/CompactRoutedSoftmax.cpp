//===- CompactRoutedSoftmax.cpp - routed softmax over kept chunks ---------===//
//
// Lowers nats.routed_softmax (spec §3.3) so that work follows the keys a
// query can see (docs/algorithms.md §2). Per (batch, softmax head):
//
//  1. Compaction: one pass over the route bits of the head's router head
//     gives each kept chunk its slot (an exclusive prefix sum) and the list
//     of kept chunk indices.
//  2. For each query block (whole chunks, so a block starts where its first
//     chunk starts), an online softmax over
//       a. the kept chunks before the block, read through the list: full
//          key blocks, no mask;
//       b. with a window, the key blocks just before the block, masked to
//          keys inside the window that (a) did not already count;
//       c. the block's own keys, masked by the full rule (causal; same
//          chunk, kept chunk or window).
//
// No T×T mask or score matrix exists: scores are query block × key block.
//
//===----------------------------------------------------------------------===//

#include "nats/Dialect/Nats/IR/NatsOps.h"
#include "nats/Dialect/Nats/Transforms/Passes.h"
#include "nats/Dialect/Nats/Transforms/Transforms.h"

#include "RewriteAll.h"
#include "TileBuilder.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

namespace mlir::nats {
#define GEN_PASS_DEF_NATSCOMPACTROUTEDSOFTMAXPASS
#include "nats/Dialect/Nats/Transforms/Passes.h.inc"
} // namespace mlir::nats

using namespace mlir;
using namespace mlir::nats;

namespace {

/// The running state of an online softmax over key blocks: row max, row
/// sum of exponentials and the unnormalised output, per query of a block.
struct OnlineSoftmax {
  Value max, sum, acc; // Lq, Lq, Lq×Vs (f32)
};

/// What a masked key block needs to decide visibility.
struct MaskInfo {
  Value route;      // B×N×R i1
  Value batch;      // b
  Value routerHead; // r(s)
  Value queryStart; // token index of the block's first query
  Value keyStart;   // token index of the key block's first key
  int64_t chunk, window, lastChunk;
};

/// Whether query `qStart + i` sees key `kStart + j` (spec §3.3).
Value isVisible(OpBuilder &b, Location loc, const MaskInfo &info, Value i,
                Value j) {
  auto index = [&](int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); };
  Value query = arith::AddIOp::create(b, loc, info.queryStart, i);
  Value key = arith::AddIOp::create(b, loc, info.keyStart, j);
  Value causal =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ule, key, query);
  Value chunk = index(info.chunk);
  Value keyChunk = arith::DivUIOp::create(b, loc, key, chunk);
  Value sameChunk = arith::CmpIOp::create(
      b, loc, arith::CmpIPredicate::eq, keyChunk,
      arith::DivUIOp::create(b, loc, query, chunk));
  // Keys past the last chunk are padding: they are never causal for a real
  // query, and read the last chunk's bit to stay in bounds.
  Value kept = tensor::ExtractOp::create(
      b, loc, info.route,
      ValueRange{info.batch,
                 arith::MinUIOp::create(b, loc, keyChunk, index(info.lastChunk)),
                 info.routerHead});
  Value visible = arith::OrIOp::create(b, loc, sameChunk, kept);
  if (info.window > 0) {
    Value inWindow = arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::ult,
        arith::SubIOp::create(b, loc, query, key), index(info.window));
    visible = arith::OrIOp::create(b, loc, visible, inWindow);
  }
  return arith::AndIOp::create(b, loc, causal, visible);
}

/// One online-softmax step over a key block (keys Lk×Ks, values Lk×Vs in
/// the input type) for the queries `q` (Lq×Ks, f32). With `mask`, scores of
/// keys a query cannot see are -inf; `onlyNew` further hides keys that an
/// earlier step already counted (window band: keys of kept chunks).
OnlineSoftmax attend(TileBuilder &tb, Value q, Value keys, Value values,
                     double scale, const OnlineSoftmax &state,
                     const MaskInfo *mask, bool onlyNew) {
  MLIRContext *ctx = tb.builder().getContext();
  int64_t rows = cast<RankedTensorType>(q.getType()).getDimSize(0);
  int64_t valueDim = cast<RankedTensorType>(values.getType()).getDimSize(1);
  AffineExpr i, j;
  bindDims(ctx, i, j);
  AffineMap id2 = AffineMap::get(2, 0, {i, j}, ctx);
  AffineMap row = AffineMap::get(2, 0, {i}, ctx);
  auto f32 = [](OpBuilder &b, Location l, ValueRange a, ValueRange) {
    return TileBuilder::toF32(b, l, a[0]);
  };

  Value scores = tb.matmul(q, tb.map(keys, f32), /*transposeA=*/false,
                           /*transposeB=*/true);
  scores = tb.map(scores, [&](OpBuilder &b, Location l, ValueRange a,
                              ValueRange idx) -> Value {
    Value scaled = arith::MulFOp::create(
        b, l, a[0], arith::ConstantOp::create(b, l, b.getF32FloatAttr(scale)));
    if (!mask)
      return scaled;
    Value visible = isVisible(b, l, *mask, idx[0], idx[1]);
    if (onlyNew) {
      // A window key in a kept chunk was counted with the kept chunks.
      Value key = arith::AddIOp::create(b, l, mask->keyStart, idx[1]);
      Value keyChunk = arith::DivUIOp::create(
          b, l, key, arith::ConstantIndexOp::create(b, l, mask->chunk));
      Value kept = tensor::ExtractOp::create(
          b, l, mask->route,
          ValueRange{mask->batch, keyChunk, mask->routerHead});
      Value notKept = arith::XOrIOp::create(
          b, l, kept, arith::ConstantIntOp::create(b, l, 1, 1));
      visible = arith::AndIOp::create(b, l, visible, notKept);
    }
    Value minusInf = arith::ConstantOp::create(
        b, l, b.getF32FloatAttr(-std::numeric_limits<float>::infinity()));
    return arith::SelectOp::create(b, l, visible, scaled, minusInf);
  });

  // m' = max(m, rowmax); rows that have seen nothing yet keep m' = -inf and
  // must not produce exp(-inf - -inf) = NaN.
  Value blockMax = tb.rowMax(scores);
  Value newMax = tb.map(ValueRange{state.max, blockMax},
                        [](OpBuilder &b, Location l, ValueRange a, ValueRange) {
                          return arith::MaximumFOp::create(b, l, a[0], a[1]);
                        });
  auto expBelow = [](OpBuilder &b, Location l, Value x, Value max,
                     double ifEmpty) -> Value {
    Value minusInf = arith::ConstantOp::create(
        b, l, b.getF32FloatAttr(-std::numeric_limits<float>::infinity()));
    Value empty =
        arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ, max, minusInf);
    Value e = math::ExpOp::create(b, l, arith::SubFOp::create(b, l, x, max));
    return arith::SelectOp::create(
        b, l, empty, arith::ConstantOp::create(b, l, b.getF32FloatAttr(ifEmpty)),
        e);
  };
  Value p = tb.map({rows, cast<RankedTensorType>(scores.getType()).getDimSize(1)},
                   ValueRange{scores, newMax}, ArrayRef<AffineMap>{id2, row},
                   [&](OpBuilder &b, Location l, ValueRange a, ValueRange) {
                     return expBelow(b, l, a[0], a[1], 0.0);
                   });
  Value rescale = tb.map(ValueRange{state.max, newMax},
                         [&](OpBuilder &b, Location l, ValueRange a, ValueRange) {
                           return expBelow(b, l, a[0], a[1], 1.0);
                         });
  Value pSum = tb.rowSum(p, [](OpBuilder &, Location, ValueRange a, ValueRange) {
    return a[0];
  });
  Value sum = tb.map(ValueRange{state.sum, rescale, pSum},
                     [](OpBuilder &b, Location l, ValueRange a, ValueRange) {
                       return arith::AddFOp::create(
                           b, l, arith::MulFOp::create(b, l, a[0], a[1]), a[2]);
                     });
  Value pv = tb.matmul(p, tb.map(values, f32));
  Value acc = tb.map({rows, valueDim}, ValueRange{state.acc, rescale, pv},
                     ArrayRef<AffineMap>{id2, row, id2},
                     [](OpBuilder &b, Location l, ValueRange a, ValueRange) {
                       return arith::AddFOp::create(
                           b, l, arith::MulFOp::create(b, l, a[0], a[1]), a[2]);
                     });
  return {newMax, sum, acc};
}

struct CompactRoutedSoftmax : OpRewritePattern<RoutedSoftmaxOp> {
  CompactRoutedSoftmax(MLIRContext *ctx, int64_t blockSize,
                       PatternBenefit benefit)
      : OpRewritePattern(ctx, benefit), blockSize(blockSize) {}

  LogicalResult matchAndRewrite(RoutedSoftmaxOp op,
                                PatternRewriter &rewriter) const override {
    auto qType = cast<RankedTensorType>(op.getQs().getType());
    auto vType = cast<RankedTensorType>(op.getVs().getType());
    auto routeType = cast<RankedTensorType>(op.getRoute().getType());
    if (!qType.hasStaticShape() || !vType.hasStaticShape() ||
        !routeType.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "needs static shapes");
    if (blockSize < 1)
      return rewriter.notifyMatchFailure(op, "block-size must be positive");

    Location loc = op.getLoc();
    int64_t batch = qType.getDimSize(0), tokens = qType.getDimSize(1),
            heads = qType.getDimSize(2), keyDim = qType.getDimSize(3),
            valueDim = vType.getDimSize(3);
    int64_t chunk = op.getChunkSize(), window = op.getWindow();
    int64_t chunks = routeType.getDimSize(1);
    int64_t block = TileBuilder::tileTokens(chunk, blockSize);
    int64_t padded = llvm::divideCeil(tokens, block) * block;
    double scale = op.getScale().convertToDouble();
    Type elementType = qType.getElementType();

    Value q = TileBuilder::padTokens(rewriter, loc, op.getQs(), padded);
    Value k = TileBuilder::padTokens(rewriter, loc, op.getKs(), padded);
    Value v = TileBuilder::padTokens(rewriter, loc, op.getVs(), padded);
    Value route = op.getRoute();

    Value outInit = tensor::EmptyOp::create(rewriter, loc, vType.getShape(),
                                            elementType);
    auto forall = scf::ForallOp::create(
        rewriter, loc,
        ArrayRef<OpFoldResult>{rewriter.getIndexAttr(batch),
                               rewriter.getIndexAttr(heads)},
        ValueRange{outInit}, std::nullopt);
    OpBuilder::InsertionGuard guard(rewriter);
    rewriter.setInsertionPointToStart(forall.getBody());
    Value b = forall.getInductionVar(0), s = forall.getInductionVar(1);
    TileBuilder tb(rewriter, loc);
    Value routerHead = arith::DivUIOp::create(
        rewriter, loc, s, tb.index(heads / routeType.getDimSize(2)));

    // 1. Compaction: slot[n] = number of kept chunks before n, and
    //    list[slot[n]] = n for every kept chunk n.
    Value slotsInit = tensor::EmptyOp::create(
        rewriter, loc, ArrayRef<int64_t>{chunks + 1}, rewriter.getIndexType());
    Value listInit = tensor::EmptyOp::create(
        rewriter, loc, ArrayRef<int64_t>{chunks}, rewriter.getIndexType());
    auto compaction = scf::ForOp::create(
        rewriter, loc, tb.index(0), tb.index(chunks), tb.index(1),
        ValueRange{tb.index(0), slotsInit, listInit},
        [&](OpBuilder &nb, Location nloc, Value n, ValueRange it) {
          Value count = it[0];
          Value slots = tensor::InsertOp::create(nb, nloc, count, it[1], n);
          // Writing n at `count` either way is harmless: a chunk that is not
          // kept leaves count as it is, and the next kept chunk overwrites.
          Value list = tensor::InsertOp::create(nb, nloc, n, it[2], count);
          Value kept = tensor::ExtractOp::create(nb, nloc, route,
                                                 ValueRange{b, n, routerHead});
          Value next = arith::AddIOp::create(
              nb, nloc, count,
              arith::IndexCastOp::create(nb, nloc, nb.getIndexType(),
                                         arith::ExtUIOp::create(
                                             nb, nloc, nb.getI64Type(), kept)));
          scf::YieldOp::create(nb, nloc, ValueRange{next, slots, list});
        });
    Value slots = tensor::InsertOp::create(
        rewriter, loc, compaction.getResult(0), compaction.getResult(1),
        ValueRange{tb.index(chunks)});
    Value list = compaction.getResult(2);

    // 2. Query blocks.
    Value rowsInit = tensor::EmptyOp::create(
        rewriter, loc, ArrayRef<int64_t>{padded, valueDim}, elementType);
    auto blocks = scf::ForOp::create(
        rewriter, loc, tb.index(0), tb.index(padded), tb.index(block),
        ValueRange{rowsInit},
        [&](OpBuilder &nb, Location nloc, Value t0, ValueRange it) {
          TileBuilder body(nb, nloc);
          Value qBlock = body.map(
              TileBuilder::tokenSlice(nb, nloc, q, b, t0, s, block),
              [](OpBuilder &bb, Location l, ValueRange a, ValueRange) {
                return TileBuilder::toF32(bb, l, a[0]);
              });
          OnlineSoftmax state{
              body.filled({block},
                          body.f32Constant(
                              -std::numeric_limits<double>::infinity())),
              body.zeros({block}), body.zeros({block, valueDim})};
          MaskInfo mask{route, b,     routerHead, t0,
                        t0,    chunk, window,     chunks - 1};

          // a. Kept chunks wholly before the block: slots [0, slot[c(t0)]).
          Value firstChunk =
              arith::DivUIOp::create(nb, nloc, t0, body.index(chunk));
          Value keptBefore = tensor::ExtractOp::create(nb, nloc, slots,
                                                       ValueRange{firstChunk});
          state = loop(nb, nloc, body.index(0), keptBefore, body.index(1),
                       state, [&](TileBuilder &kb, Value slot,
                                  const OnlineSoftmax &st) {
                         OpBuilder &bb = kb.builder();
                         Location l = kb.location();
                         Value n = tensor::ExtractOp::create(bb, l, list,
                                                             ValueRange{slot});
                         Value start =
                             arith::MulIOp::create(bb, l, n, kb.index(chunk));
                         return attend(
                             kb, qBlock,
                             TileBuilder::tokenSlice(bb, l, k, b, start, s,
                                                     chunk),
                             TileBuilder::tokenSlice(bb, l, v, b, start, s,
                                                     chunk),
                             scale, st, nullptr, false);
                       });

          // b. The window band before the block, in blocks of keys.
          if (window > 1) {
            int64_t reach = llvm::divideCeil(window - 1, block) * block;
            Value from = arith::SubIOp::create(
                nb, nloc,
                arith::MaxSIOp::create(nb, nloc, t0, body.index(reach)),
                body.index(reach));
            state = loop(nb, nloc, from, t0, body.index(block), state,
                         [&](TileBuilder &kb, Value start,
                             const OnlineSoftmax &st) {
                           OpBuilder &bb = kb.builder();
                           Location l = kb.location();
                           MaskInfo band = mask;
                           band.keyStart = start;
                           return attend(
                               kb, qBlock,
                               TileBuilder::tokenSlice(bb, l, k, b, start, s,
                                                       block),
                               TileBuilder::tokenSlice(bb, l, v, b, start, s,
                                                       block),
                               scale, st, &band, /*onlyNew=*/true);
                         });
          }

          // c. The block's own keys.
          state = attend(body, qBlock,
                         TileBuilder::tokenSlice(nb, nloc, k, b, t0, s, block),
                         TileBuilder::tokenSlice(nb, nloc, v, b, t0, s, block),
                         scale, state, &mask, false);

          // Every query sees itself, so the row sums are positive.
          AffineExpr i, j;
          bindDims(nb.getContext(), i, j);
          Value out = body.map(
              {block, valueDim}, ValueRange{state.acc, state.sum},
              ArrayRef<AffineMap>{AffineMap::get(2, 0, {i, j}, nb.getContext()),
                                  AffineMap::get(2, 0, {i}, nb.getContext())},
              [&](OpBuilder &bb, Location l, ValueRange a, ValueRange) {
                return TileBuilder::fromF32(
                    bb, l, arith::DivFOp::create(bb, l, a[0], a[1]),
                    elementType);
              },
              elementType);
          Value rows = tensor::InsertSliceOp::create(
              nb, nloc, out, it[0],
              ArrayRef<OpFoldResult>{t0, nb.getIndexAttr(0)},
              ArrayRef<OpFoldResult>{nb.getIndexAttr(block),
                                     nb.getIndexAttr(valueDim)},
              ArrayRef<OpFoldResult>{nb.getIndexAttr(1), nb.getIndexAttr(1)});
          scf::YieldOp::create(nb, nloc, rows);
        });

    Value rows = tensor::ExtractSliceOp::create(
        rewriter, loc, blocks.getResult(0),
        ArrayRef<OpFoldResult>{rewriter.getIndexAttr(0),
                               rewriter.getIndexAttr(0)},
        ArrayRef<OpFoldResult>{rewriter.getIndexAttr(tokens),
                               rewriter.getIndexAttr(valueDim)},
        ArrayRef<OpFoldResult>{rewriter.getIndexAttr(1),
                               rewriter.getIndexAttr(1)});
    rewriter.setInsertionPointToStart(forall.getTerminator().getBody());
    OpFoldResult zero = rewriter.getIndexAttr(0);
    tensor::ParallelInsertSliceOp::create(
        rewriter, loc, rows, forall.getRegionIterArgs()[0],
        ArrayRef<OpFoldResult>{b, zero, s, zero},
        ArrayRef<OpFoldResult>{rewriter.getIndexAttr(1),
                               rewriter.getIndexAttr(tokens),
                               rewriter.getIndexAttr(1),
                               rewriter.getIndexAttr(valueDim)},
        SmallVector<OpFoldResult>(4, rewriter.getIndexAttr(1)));
    rewriter.replaceOp(op, forall.getResults());
    return success();
  }

private:
  using Step = function_ref<OnlineSoftmax(TileBuilder &, Value,
                                          const OnlineSoftmax &)>;

  /// An scf.for from `lb` to `ub` carrying the online-softmax state.
  static OnlineSoftmax loop(OpBuilder &b, Location loc, Value lb, Value ub,
                            Value step, const OnlineSoftmax &init, Step body) {
    auto forOp = scf::ForOp::create(
        b, loc, lb, ub, step, ValueRange{init.max, init.sum, init.acc},
        [&](OpBuilder &nb, Location nloc, Value iv, ValueRange it) {
          TileBuilder tb(nb, nloc);
          OnlineSoftmax next = body(tb, iv, {it[0], it[1], it[2]});
          scf::YieldOp::create(nb, nloc,
                               ValueRange{next.max, next.sum, next.acc});
        });
    return {forOp.getResult(0), forOp.getResult(1), forOp.getResult(2)};
  }

  int64_t blockSize;
};

struct NatsCompactRoutedSoftmaxPass
    : nats::impl::NatsCompactRoutedSoftmaxPassBase<
          NatsCompactRoutedSoftmaxPass> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateNatsCompactRoutedSoftmaxPatterns(patterns, blockSize);
    if (failed(rewriteAllOrReport<RoutedSoftmaxOp>(
            getOperation(), std::move(patterns),
            "could not be lowered: needs static shapes and a positive "
            "block-size")))
      signalPassFailure();
  }
};

} // namespace

void mlir::nats::populateNatsCompactRoutedSoftmaxPatterns(
    RewritePatternSet &patterns, int64_t blockSize, PatternBenefit benefit) {
  patterns.add<CompactRoutedSoftmax>(patterns.getContext(), blockSize,
                                     benefit);
}
