//===- FuseGatedDelta.cpp - nats.gated_delta to the chunked WY/UT form ----===//
//
// Lowers the routed gated delta rule (spec §3.2) to its blocked form
// (docs/algorithms.md §1): an scf.forall over (batch, head) and in it an
// scf.for over tiles of L tokens that carries the K×V state. A tile's whole
// update is one fused region on tile-sized tensors:
//
//   γ = cumsum(g)                     M_ij = [i≥j] e^(γ_i−γ_j) Vis_ij
//   A = StrictLower(diag(β) K Kᵀ ⊙ M) U = (I + A)⁻¹ diag(β)(V − (K⊙e^γ) S)
//   O = (Q⊙e^γ) S + (Q Kᵀ ⊙ M) U     S' = e^γ_L S + (K ⊙ e^(γ_L−γ) ⊙ (1−m))ᵀ U
//
// where m_j is the route bit of token j's chunk and Vis_ij = (same chunk or
// m_j = 0) lets a token see the writes of earlier linear chunks only.
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
#define GEN_PASS_DEF_NATSFUSEGATEDDELTAPASS
#include "nats/Dialect/Nats/Transforms/Passes.h.inc"
} // namespace mlir::nats

using namespace mlir;
using namespace mlir::nats;

namespace {

constexpr double kL2NormEps = 1e-6;

struct FuseGatedDelta : OpRewritePattern<GatedDeltaOp> {
  FuseGatedDelta(MLIRContext *ctx, int64_t tileSize, int64_t valueTile,
                 PatternBenefit benefit)
      : OpRewritePattern(ctx, benefit), tileSize(tileSize),
        valueTile(valueTile) {}

  LogicalResult matchAndRewrite(GatedDeltaOp op,
                                PatternRewriter &rewriter) const override {
    // Every type, results included: the verifier lets a dynamic dim stand
    // beside a static one, and the tiles, the padding and the forall's
    // results are all built from static sizes.
    auto isStatic = [](Type type) {
      return cast<RankedTensorType>(type).hasStaticShape();
    };
    if (!llvm::all_of(op->getOperandTypes(), isStatic) ||
        !llvm::all_of(op->getResultTypes(), isStatic))
      return rewriter.notifyMatchFailure(op, "needs static shapes");
    auto qType = cast<RankedTensorType>(op.getQ().getType());
    auto vType = cast<RankedTensorType>(op.getV().getType());
    auto routeType = cast<RankedTensorType>(op.getRoute().getType());
    if (tileSize < 1)
      return rewriter.notifyMatchFailure(op, "tile-size must be positive");

    Location loc = op.getLoc();
    int64_t batch = qType.getDimSize(0), tokens = qType.getDimSize(1),
            heads = qType.getDimSize(2), keyDim = qType.getDimSize(3),
            valueDim = vType.getDimSize(3);
    int64_t chunk = op.getChunkSize();
    int64_t tile = TileBuilder::tileTokens(chunk, tileSize);
    int64_t padded = llvm::divideCeil(tokens, tile) * tile;
    Type elementType = qType.getElementType();
    // The state's columns (and v's, o's) are independent: value tiles are
    // iterations of their own, each redoing the V-free part (K·Kᵀ, W).
    int64_t columns = valueDim;
    if (valueTile > 0 && valueTile < valueDim && valueDim % valueTile == 0)
      columns = valueTile;

    // Padded tokens have g = 0 and beta = 0: they neither decay nor write,
    // and they come after every real token.
    Value q = TileBuilder::padTokens(rewriter, loc, op.getQ(), padded);
    Value k = TileBuilder::padTokens(rewriter, loc, op.getK(), padded);
    Value v = TileBuilder::padTokens(rewriter, loc, op.getV(), padded);
    Value g = TileBuilder::padTokens(rewriter, loc, op.getG(), padded);
    Value beta = TileBuilder::padTokens(rewriter, loc, op.getBeta(), padded);

    Value oInit = tensor::EmptyOp::create(rewriter, loc, vType.getShape(),
                                          elementType);
    auto stateType = cast<RankedTensorType>(op.getFinalState().getType());
    Value stateInit = tensor::EmptyOp::create(
        rewriter, loc, stateType.getShape(), rewriter.getF32Type());
    SmallVector<OpFoldResult> bounds = {rewriter.getIndexAttr(batch),
                                        rewriter.getIndexAttr(heads)};
    if (columns != valueDim)
      bounds.push_back(rewriter.getIndexAttr(valueDim / columns));
    auto forall = scf::ForallOp::create(rewriter, loc, bounds,
                                        ValueRange{oInit, stateInit},
                                        std::nullopt);

    OpBuilder::InsertionGuard guard(rewriter);
    rewriter.setInsertionPointToStart(forall.getBody());
    Value b = forall.getInductionVar(0), h = forall.getInductionVar(1);
    TileBuilder tb(rewriter, loc);
    OpFoldResult zero = rewriter.getIndexAttr(0);
    SmallVector<OpFoldResult> one(4, rewriter.getIndexAttr(1));

    // This iteration's value columns, from c0 on.
    OpFoldResult c0 = zero;
    if (columns != valueDim) {
      c0 = arith::MulIOp::create(rewriter, loc, forall.getInductionVar(2),
                                 tb.index(columns))
               .getResult();
      v = tensor::ExtractSliceOp::create(
          rewriter, loc,
          RankedTensorType::get({batch, padded, heads, columns}, elementType),
          v, ArrayRef<OpFoldResult>{zero, zero, zero, c0},
          ArrayRef<OpFoldResult>{rewriter.getIndexAttr(batch),
                                 rewriter.getIndexAttr(padded),
                                 rewriter.getIndexAttr(heads),
                                 rewriter.getIndexAttr(columns)},
          one);
    }

    // The state at the start: initial_state[b, h, :, columns] or zero.
    Value state0;
    if (Value init = op.getInitialState()) {
      state0 = tensor::ExtractSliceOp::create(
          rewriter, loc,
          RankedTensorType::get({keyDim, columns}, rewriter.getF32Type()),
          init, ArrayRef<OpFoldResult>{b, h, zero, c0},
          ArrayRef<OpFoldResult>{rewriter.getIndexAttr(1),
                                 rewriter.getIndexAttr(1),
                                 rewriter.getIndexAttr(keyDim),
                                 rewriter.getIndexAttr(columns)},
          one);
    } else {
      state0 = tb.zeros({keyDim, columns});
    }
    Value outRows = tensor::EmptyOp::create(
        rewriter, loc, ArrayRef<int64_t>{padded, columns}, elementType);

    // Router head of this linear head.
    Value routerHead = arith::DivUIOp::create(
        rewriter, loc, h,
        tb.index(heads / routeType.getDimSize(2)));
    auto loop = scf::ForOp::create(
        rewriter, loc, tb.index(0), tb.index(padded), tb.index(tile),
        ValueRange{state0, outRows},
        [&](OpBuilder &nb, Location nloc, Value t0, ValueRange iterArgs) {
          TileInputs in{
              TileBuilder::tokenSlice(nb, nloc, q, b, t0, h, tile),
              TileBuilder::tokenSlice(nb, nloc, k, b, t0, h, tile),
              TileBuilder::tokenSlice(nb, nloc, v, b, t0, h, tile),
              TileBuilder::tokenSlice(nb, nloc, g, b, t0, h, tile),
              TileBuilder::tokenSlice(nb, nloc, beta, b, t0, h, tile)};
          TileBuilder body(nb, nloc);
          Value keep = routeBits(body, op.getRoute(), b, t0, routerHead,
                                 chunk, tile);
          auto [out, state] =
              updateTile(body, op, in, keep, iterArgs[0], chunk, tile);
          SmallVector<OpFoldResult> offsets = {t0, nb.getIndexAttr(0)};
          SmallVector<OpFoldResult> sizes = {nb.getIndexAttr(tile),
                                             nb.getIndexAttr(columns)};
          SmallVector<OpFoldResult> strides(2, nb.getIndexAttr(1));
          Value rows = tensor::InsertSliceOp::create(nb, nloc, out, iterArgs[1],
                                                     offsets, sizes, strides);
          scf::YieldOp::create(nb, nloc, ValueRange{state, rows});
        });

    // Write this (batch, head, columns)' rows (without the padding) and
    // state.
    Value rows = tensor::ExtractSliceOp::create(
        rewriter, loc, loop.getResult(1),
        ArrayRef<OpFoldResult>{zero, zero},
        ArrayRef<OpFoldResult>{rewriter.getIndexAttr(tokens),
                               rewriter.getIndexAttr(columns)},
        ArrayRef<OpFoldResult>{rewriter.getIndexAttr(1),
                               rewriter.getIndexAttr(1)});
    rewriter.setInsertionPointToStart(forall.getTerminator().getBody());
    tensor::ParallelInsertSliceOp::create(
        rewriter, loc, rows, forall.getRegionIterArgs()[0],
        ArrayRef<OpFoldResult>{b, zero, h, c0},
        ArrayRef<OpFoldResult>{rewriter.getIndexAttr(1),
                               rewriter.getIndexAttr(tokens),
                               rewriter.getIndexAttr(1),
                               rewriter.getIndexAttr(columns)},
        one);
    tensor::ParallelInsertSliceOp::create(
        rewriter, loc, loop.getResult(0), forall.getRegionIterArgs()[1],
        ArrayRef<OpFoldResult>{b, h, zero, c0},
        ArrayRef<OpFoldResult>{rewriter.getIndexAttr(1),
                               rewriter.getIndexAttr(1),
                               rewriter.getIndexAttr(keyDim),
                               rewriter.getIndexAttr(columns)},
        one);
    rewriter.replaceOp(op, forall.getResults());
    return success();
  }

private:
  struct TileInputs {
    Value q, k, v, g, beta; // L×K, L×K, L×V, L, L in the input type
  };

  /// m (L, f32): 1 where token t0 + i lies in a chunk kept in softmax
  /// memory. Padding tokens read the last chunk's bit; they write nothing.
  static Value routeBits(TileBuilder &tb, Value route, Value b, Value t0,
                         Value routerHead, int64_t chunk, int64_t tile) {
    int64_t lastChunk =
        cast<RankedTensorType>(route.getType()).getDimSize(1) - 1;
    return tb.map(
        {tile}, {}, {},
        [&](OpBuilder &nb, Location nloc, ValueRange, ValueRange idx) {
          Value token = arith::AddIOp::create(nb, nloc, t0, idx[0]);
          Value chunkIndex = arith::MinUIOp::create(
              nb, nloc,
              arith::DivUIOp::create(
                  nb, nloc, token,
                  arith::ConstantIndexOp::create(nb, nloc, chunk)),
              arith::ConstantIndexOp::create(nb, nloc, lastChunk));
          Value bit = tensor::ExtractOp::create(
              nb, nloc, route, ValueRange{b, chunkIndex, routerHead});
          return arith::UIToFPOp::create(nb, nloc, nb.getF32Type(), bit);
        });
  }

  /// One tile's fused update: returns the tile's outputs (L×V, input type)
  /// and the state after it (K×V, f32).
  static std::pair<Value, Value> updateTile(TileBuilder &tb, GatedDeltaOp op,
                                            const TileInputs &in, Value keep,
                                            Value state, int64_t chunk,
                                            int64_t tile) {
    MLIRContext *ctx = tb.builder().getContext();
    Type elementType = cast<RankedTensorType>(in.q.getType()).getElementType();
    int64_t keyDim = cast<RankedTensorType>(in.q.getType()).getDimSize(1);
    int64_t valueDim = cast<RankedTensorType>(in.v.getType()).getDimSize(1);
    AffineExpr i, j;
    bindDims(ctx, i, j);
    AffineMap id2 = AffineMap::get(2, 0, {i, j}, ctx);
    AffineMap row = AffineMap::get(2, 0, {i}, ctx);
    AffineMap col = AffineMap::get(2, 0, {j}, ctx);
    auto f32 = [](OpBuilder &b, Location l, ValueRange a, ValueRange) {
      return TileBuilder::toF32(b, l, a[0]);
    };

    // q̂ = scale · l2norm(q), k̂ = l2norm(k) (or the raw vectors).
    auto normalized = [&](Value x, double scale) {
      Value xf = tb.map(x, f32);
      Value sumSq = op.getQkL2norm()
                        ? tb.rowSum(xf, [](OpBuilder &b, Location l,
                                           ValueRange a, ValueRange) {
                            return arith::MulFOp::create(b, l, a[0], a[0]);
                          })
                        : Value();
      return tb.map(
          {tile, keyDim}, sumSq ? ValueRange{xf, sumSq} : ValueRange{xf},
          sumSq ? ArrayRef<AffineMap>{id2, row} : ArrayRef<AffineMap>{id2},
          [&](OpBuilder &b, Location l, ValueRange a, ValueRange) {
            Value factor = arith::ConstantOp::create(
                b, l, b.getF32FloatAttr(scale));
            if (a.size() == 2) {
              Value eps = arith::ConstantOp::create(
                  b, l, b.getF32FloatAttr(kL2NormEps));
              factor = arith::MulFOp::create(
                  b, l, factor,
                  math::RsqrtOp::create(
                      b, l, arith::AddFOp::create(b, l, a[1], eps)));
            }
            return arith::MulFOp::create(b, l, a[0], factor);
          });
    };
    Value qn = normalized(in.q, op.getScale().convertToDouble());
    Value kn = normalized(in.k, 1.0);
    Value betaF = tb.map(in.beta, f32);

    // γ_i = Σ_{j ≤ i} g_j, the decay in log space from the tile start.
    Value gMasked = tb.map(
        {tile, tile}, in.g, {col},
        [](OpBuilder &b, Location l, ValueRange a, ValueRange idx) {
          Value inPrefix = arith::CmpIOp::create(
              b, l, arith::CmpIPredicate::ule, idx[1], idx[0]);
          Value zero = arith::ConstantOp::create(b, l, b.getF32FloatAttr(0));
          return arith::SelectOp::create(b, l, inPrefix,
                                         TileBuilder::toF32(b, l, a[0]), zero);
        });
    Value gamma = tb.rowSum(gMasked, [](OpBuilder &, Location, ValueRange a,
                                        ValueRange) { return a[0]; });

    // M_ij = [i ≥ j] · e^(γ_i − γ_j) · [same chunk, or j's chunk is linear].
    Value decay = tb.map(
        {tile, tile}, ValueRange{gamma, gamma, keep},
        ArrayRef<AffineMap>{row, col, col},
        [&](OpBuilder &b, Location l, ValueRange a, ValueRange idx) {
          Value c = arith::ConstantIndexOp::create(b, l, chunk);
          Value sameChunk = arith::CmpIOp::create(
              b, l, arith::CmpIPredicate::eq,
              arith::DivUIOp::create(b, l, idx[0], c),
              arith::DivUIOp::create(b, l, idx[1], c));
          Value zero = arith::ConstantOp::create(b, l, b.getF32FloatAttr(0));
          Value linear = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ,
                                               a[2], zero);
          Value causal = arith::CmpIOp::create(
              b, l, arith::CmpIPredicate::uge, idx[0], idx[1]);
          Value visible = arith::AndIOp::create(
              b, l, causal, arith::OrIOp::create(b, l, sameChunk, linear));
          Value factor = math::ExpOp::create(
              b, l, arith::SubFOp::create(b, l, a[0], a[1]));
          return arith::SelectOp::create(b, l, visible, factor, zero);
        });

    // A = StrictLower(diag(β) (K Kᵀ) ⊙ M).
    Value kk = tb.matmul(kn, kn, /*transposeA=*/false, /*transposeB=*/true);
    Value a = tb.map(
        {tile, tile}, ValueRange{kk, decay, betaF},
        ArrayRef<AffineMap>{id2, id2, row},
        [](OpBuilder &b, Location l, ValueRange x, ValueRange idx) {
          Value below = arith::CmpIOp::create(b, l, arith::CmpIPredicate::ugt,
                                              idx[0], idx[1]);
          Value value = arith::MulFOp::create(
              b, l, x[2], arith::MulFOp::create(b, l, x[0], x[1]));
          Value zero = arith::ConstantOp::create(b, l, b.getF32FloatAttr(0));
          return arith::SelectOp::create(b, l, below, value, zero);
        });

    // X = diag(β) (V − (K ⊙ e^γ) S): each token's write against the
    // tile-start state, before the in-tile correction.
    Value expGamma = tb.map(gamma, [](OpBuilder &b, Location l, ValueRange x,
                                      ValueRange) {
      return math::ExpOp::create(b, l, x[0]);
    });
    auto scaleRows = [&](Value m, Value factors, int64_t cols) {
      return tb.map({tile, cols}, ValueRange{m, factors},
                    ArrayRef<AffineMap>{id2, row},
                    [](OpBuilder &b, Location l, ValueRange x, ValueRange) {
                      return arith::MulFOp::create(b, l, x[0], x[1]);
                    });
    };
    Value kState = tb.matmul(scaleRows(kn, expGamma, keyDim), state);
    Value x = tb.map(
        {tile, valueDim}, ValueRange{in.v, kState, betaF},
        ArrayRef<AffineMap>{id2, id2, row},
        [](OpBuilder &b, Location l, ValueRange y, ValueRange) {
          Value diff = arith::SubFOp::create(
              b, l, TileBuilder::toF32(b, l, y[0]), y[1]);
          return arith::MulFOp::create(b, l, y[2], diff);
        });

    // U = (I + A)⁻¹ X by forward substitution: row i only needs rows < i.
    Value u = solveUnitLower(tb, a, x, tile, valueDim);

    // O = (Q ⊙ e^γ) S + ((Q Kᵀ) ⊙ M) U.
    Value inter = tb.matmul(scaleRows(qn, expGamma, keyDim), state);
    Value qk = tb.matmul(qn, kn, /*transposeA=*/false, /*transposeB=*/true);
    Value p = tb.map(ValueRange{qk, decay},
                     [](OpBuilder &b, Location l, ValueRange y, ValueRange) {
                       return arith::MulFOp::create(b, l, y[0], y[1]);
                     });
    Value intra = tb.matmul(p, u);
    Value out = tb.map(
        ValueRange{inter, intra},
        [&](OpBuilder &b, Location l, ValueRange y, ValueRange) {
          return TileBuilder::fromF32(
              b, l, arith::AddFOp::create(b, l, y[0], y[1]), elementType);
        },
        elementType);

    // S' = e^γ_L S + (K ⊙ e^(γ_L − γ) ⊙ (1 − m))ᵀ U: the tile's linear
    // chunks commit their writes, kept chunks only decay the state.
    OpBuilder &b = tb.builder();
    Location loc = tb.location();
    Value gammaLast =
        tensor::ExtractOp::create(b, loc, gamma, ValueRange{tb.index(tile - 1)});
    Value kCommit = tb.map(
        {tile, keyDim}, ValueRange{kn, gamma, keep},
        ArrayRef<AffineMap>{id2, row, row},
        [&](OpBuilder &nb, Location l, ValueRange y, ValueRange) {
          Value one = arith::ConstantOp::create(nb, l, nb.getF32FloatAttr(1));
          Value factor = math::ExpOp::create(
              nb, l, arith::SubFOp::create(nb, l, gammaLast, y[1]));
          Value linear = arith::SubFOp::create(nb, l, one, y[2]);
          return arith::MulFOp::create(
              nb, l, y[0], arith::MulFOp::create(nb, l, factor, linear));
        });
    Value written = tb.matmul(kCommit, u, /*transposeA=*/true);
    Value decayAll = math::ExpOp::create(b, loc, gammaLast);
    Value next = tb.map(ValueRange{state, written},
                        [&](OpBuilder &nb, Location l, ValueRange y,
                            ValueRange) {
                          return arith::AddFOp::create(
                              nb, l, arith::MulFOp::create(nb, l, decayAll, y[0]),
                              y[1]);
                        });
    return {out, next};
  }

  /// Rows per block of the blocked solve: a multiple of the tensor cores'
  /// tile, so that the off-diagonal products can run there.
  static constexpr int64_t kSolveBlock = 16;

  /// U with U_i = X_i − Σ_{j<i} A_ij U_j for a strictly lower A (L×L) and
  /// X (L×V): the unit-lower-triangular solve (I + A) U = X, by blocks of
  /// rows. Block b first takes the product with the blocks solved before it
  /// (one matmul), then solves its own diagonal block column by column. The
  /// dependent chain per column is L/16 short solves instead of one of L
  /// rows: the products, the bulk of the work, are independent matmuls.
  static Value solveUnitLower(TileBuilder &tb, Value a, Value x, int64_t tile,
                              int64_t valueDim) {
    OpBuilder &b = tb.builder();
    Location loc = tb.location();
    auto slice = [&](Value m, int64_t row, int64_t rows, int64_t col,
                     int64_t cols) -> Value {
      return tensor::ExtractSliceOp::create(
          b, loc, m, ArrayRef<OpFoldResult>{b.getIndexAttr(row), b.getIndexAttr(col)},
          ArrayRef<OpFoldResult>{b.getIndexAttr(rows), b.getIndexAttr(cols)},
          ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1)});
    };
    Value u = tb.zeros({tile, valueDim});
    for (int64_t row = 0; row < tile; row += kSolveBlock) {
      int64_t rows = std::min(kSolveBlock, tile - row);
      Value rhs = slice(x, row, rows, 0, valueDim);
      if (row > 0) {
        Value done = tb.matmul(slice(a, row, rows, 0, row),
                               slice(u, 0, row, 0, valueDim));
        rhs = tb.map(ValueRange{rhs, done},
                     [](OpBuilder &nb, Location l, ValueRange y, ValueRange) {
                       return arith::SubFOp::create(nb, l, y[0], y[1]);
                     });
      }
      // The block's rows of U are still zero: the solve writes them in place.
      Value block = solveColumns(tb, slice(a, row, rows, row, rows), rhs,
                                 slice(u, row, rows, 0, valueDim));
      u = tensor::InsertSliceOp::create(
          b, loc, block, u,
          ArrayRef<OpFoldResult>{b.getIndexAttr(row), b.getIndexAttr(0)},
          ArrayRef<OpFoldResult>{b.getIndexAttr(rows), b.getIndexAttr(valueDim)},
          ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1)});
    }
    return u;
  }

  /// The unit-lower solve of a diagonal block (n×n A, n×V X) into `zeros`
  /// (n×V). The columns
  /// are independent, so it is a forall over them, each a scalar forward
  /// substitution: its n steps need no one else's results (on a GPU, no
  /// barrier between rows; nats-gpu-distribute gives each column a thread).
  static Value solveColumns(TileBuilder &tb, Value a, Value x, Value zeros) {
    OpBuilder &b = tb.builder();
    Location loc = tb.location();
    auto xType = cast<RankedTensorType>(x.getType());
    int64_t n = xType.getDimSize(0), valueDim = xType.getDimSize(1);
    auto forall = scf::ForallOp::create(
        b, loc, ArrayRef<OpFoldResult>{b.getIndexAttr(valueDim)},
        ValueRange{zeros}, /*mapping=*/std::nullopt);
    OpBuilder nb = OpBuilder::atBlockBegin(forall.getBody());
    Value c = forall.getInductionVar(0);
    Value shared = forall.getRegionIterArgs()[0];
    Value zero = arith::ConstantIndexOp::create(nb, loc, 0);
    Value one = arith::ConstantIndexOp::create(nb, loc, 1);
    SmallVector<OpFoldResult> offsets = {nb.getIndexAttr(0), c};
    SmallVector<OpFoldResult> sizes = {nb.getIndexAttr(n), nb.getIndexAttr(1)};
    SmallVector<OpFoldResult> strides = {nb.getIndexAttr(1), nb.getIndexAttr(1)};
    Value column = tensor::ExtractSliceOp::create(nb, loc, shared, offsets,
                                                  sizes, strides);
    auto rows = scf::ForOp::create(
        nb, loc, zero, arith::ConstantIndexOp::create(nb, loc, n), one,
        ValueRange{column},
        [&](OpBuilder &rb, Location l, Value i, ValueRange uc) {
          Value xi = tensor::ExtractOp::create(rb, l, x, ValueRange{i, c});
          auto dot = scf::ForOp::create(
              rb, l, zero, i, one, ValueRange{xi},
              [&](OpBuilder &db, Location dl, Value j, ValueRange acc) {
                Value aij = tensor::ExtractOp::create(db, dl, a, ValueRange{i, j});
                Value uj =
                    tensor::ExtractOp::create(db, dl, uc[0], ValueRange{j, zero});
                Value next = arith::SubFOp::create(
                    db, dl, acc[0], arith::MulFOp::create(db, dl, aij, uj));
                scf::YieldOp::create(db, dl, next);
              });
          Value updated = tensor::InsertOp::create(rb, l, dot.getResult(0),
                                                   uc[0], ValueRange{i, zero});
          scf::YieldOp::create(rb, l, updated);
        });
    nb.setInsertionPointToStart(forall.getTerminator().getBody());
    tensor::ParallelInsertSliceOp::create(nb, loc, rows.getResult(0), shared,
                                          offsets, sizes, strides);
    return forall.getResult(0);
  }

  int64_t tileSize;
  int64_t valueTile;
};

struct NatsFuseGatedDeltaPass
    : nats::impl::NatsFuseGatedDeltaPassBase<NatsFuseGatedDeltaPass> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateNatsFuseGatedDeltaPatterns(patterns, tileSize, valueTile);
    if (failed(rewriteAllOrReport<GatedDeltaOp>(
            getOperation(), std::move(patterns),
            "could not be lowered: needs static shapes and a positive "
            "tile-size")))
      signalPassFailure();
  }
};

} // namespace

void mlir::nats::populateNatsFuseGatedDeltaPatterns(RewritePatternSet &patterns,
                                                    int64_t tileSize,
                                                    int64_t valueTile,
                                                    PatternBenefit benefit) {
  patterns.add<FuseGatedDelta>(patterns.getContext(), tileSize, valueTile,
                               benefit);
}
