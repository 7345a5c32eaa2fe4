//===- FuseGatedDelta.cpp - nats.gated_delta to the chunked WY/UT form ----===//
//
// Lowers the routed gated delta rule (spec §3.2) to its blocked form
// (docs/algorithms.md §1) in three stages over tiles of L tokens:
//
//  1. the chunk terms, an scf.forall over (batch, head, tile): everything
//     that does not depend on the state, for every tile at once,
//       γ = cumsum(g)                     M_ij = [i≥j] e^(γ_i−γ_j) Vis_ij
//       A = StrictLower(diag(β) K Kᵀ ⊙ M) T = (I + A)⁻¹
//       W = T diag(β) (K⊙e^γ), kept as −W U₀ = T diag(β) V
//       P = Q Kᵀ ⊙ M,  r = e^γ ⊙ (q̂'s factor of q),
//       K_c = K⊙e^(γ_L−γ)⊙(1−m),  d = e^γ_L;
//  2. the state pass, an scf.forall over (batch, head, value columns) with
//     an scf.for over tiles that carries the K×V state S: it records each
//     tile's start state, and
//       U = U₀ + (−W) S                   S' = d S + K_cᵀ U,
//     each one product accumulated onto U₀ and onto the decayed S (in
//     place: the sequential steps are few);
//  3. the outputs, an scf.forall over (batch, head, tile):
//       O = Q_γ S + P U with Q_γ = diag(r) q, made from the input q where
//       it is read: one factor a row where Q_γ was a tile of K, written
//       by stage 1 and read back (FLA's chunk_fwd_o reads q too).
//
// With round-output-terms, what only stage 3 reads (P, U and the
// tiles' start states) is stored in the inputs' 16-bit type, as FLA stores
// it: half the bytes between the stages, products still summed in f32.
// With round-state-terms, so are −W, K_c and U₀, which stage 2 reads
// (FLA's w, k and u): every group of state columns reads −W and K_c again
// at every step, and U₀ is widened as the product U accumulates onto it.
//
// m_j is the route bit of token j's chunk and Vis_ij = (same chunk or
// m_j = 0) lets a token see the writes of earlier linear chunks only. Only
// stage 2 is sequential, and it is two small matrix products a tile.
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

/// Index attributes for static offsets and sizes.
SmallVector<OpFoldResult> indexAttrs(OpBuilder &b, ArrayRef<int64_t> values) {
  return llvm::map_to_vector(values, [&](int64_t value) -> OpFoldResult {
    return b.getIndexAttr(value);
  });
}

/// value[offsets : offsets + sizes] with its first `drop` dims (each of
/// size 1) dropped from the result type.
Value sliceOf(OpBuilder &b, Location loc, Value value,
              ArrayRef<OpFoldResult> offsets, ArrayRef<int64_t> sizes,
              unsigned drop) {
  auto type = cast<RankedTensorType>(value.getType());
  SmallVector<OpFoldResult> strides(sizes.size(), b.getIndexAttr(1));
  return tensor::ExtractSliceOp::create(
      b, loc,
      RankedTensorType::get(sizes.drop_front(drop), type.getElementType()),
      value, offsets, indexAttrs(b, sizes), strides);
}

/// Writes `source` into `dest` at `offsets` with `sizes` as the parallel
/// result of the forall whose terminator `b` builds in.
void insertInParallel(OpBuilder &b, Location loc, Value source, Value dest,
                      ArrayRef<OpFoldResult> offsets,
                      ArrayRef<int64_t> sizes) {
  SmallVector<OpFoldResult> strides(sizes.size(), b.getIndexAttr(1));
  tensor::ParallelInsertSliceOp::create(b, loc, source, dest, offsets,
                                        indexAttrs(b, sizes), strides);
}

/// The shapes of one lowering.
struct Sizes {
  int64_t batch, tokens, padded, heads, keyDim, valueDim;
  int64_t chunk, tile, tiles, columns;
  /// The outputs stage's value columns an iteration.
  int64_t outputColumns;
  /// The element type of what only the outputs stage reads: f32, or the
  /// inputs' type with round-output-terms.
  Type outputTerms;
  /// The element type of −W, K_c and U₀: f32, or the inputs' type with
  /// round-state-terms.
  Type stateTerms;
  /// The element type of the chunk terms' own operands (q̂, k̂, T and the
  /// right-hand sides of −W and U₀): f32, or the inputs' type with
  /// round-chunk-operands.
  Type chunkOperands;
  /// The element type that S and U enter the state pass's products in:
  /// f32, or the inputs' type with round-state-operands.
  Type stateOperands;
};

/// The state-free terms of every tile (stage 1), indexed [batch, head,
/// tile, row, column]: −W and K_c (L×K) and U₀ (L×V) in the state terms'
/// storage type, P (L×L) in the outputs' storage type, r (L, f32: Q_γ's
/// factor of each row of q); and d = e^γ_L (f32) indexed [batch, head,
/// tile].
struct ChunkTerms {
  Value negW, u0, p, qFactor, kCommit, decay;
};

struct FuseGatedDelta : OpRewritePattern<GatedDeltaOp> {
  FuseGatedDelta(MLIRContext *ctx,
                 const NatsFuseGatedDeltaPassOptions &options,
                 PatternBenefit benefit)
      : OpRewritePattern(ctx, benefit), options(options) {}

  LogicalResult matchAndRewrite(GatedDeltaOp op,
                                PatternRewriter &rewriter) const override {
    // Every type, results included: the verifier lets a dynamic dim stand
    // beside a static one, and the tiles, the padding and the foralls'
    // results are all built from static sizes.
    auto isStatic = [](Type type) {
      return cast<RankedTensorType>(type).hasStaticShape();
    };
    if (!llvm::all_of(op->getOperandTypes(), isStatic) ||
        !llvm::all_of(op->getResultTypes(), isStatic))
      return rewriter.notifyMatchFailure(op, "needs static shapes");
    if (options.tileSize < 1)
      return rewriter.notifyMatchFailure(op, "tile-size must be positive");

    auto qType = cast<RankedTensorType>(op.getQ().getType());
    Sizes s;
    s.batch = qType.getDimSize(0);
    s.tokens = qType.getDimSize(1);
    s.heads = qType.getDimSize(2);
    s.keyDim = qType.getDimSize(3);
    s.valueDim = cast<RankedTensorType>(op.getV().getType()).getDimSize(3);
    s.chunk = op.getChunkSize();
    s.tile = TileBuilder::tileTokens(s.chunk, options.tileSize);
    s.tiles = llvm::divideCeil(s.tokens, s.tile);
    s.padded = s.tiles * s.tile;
    // The state's columns (and v's, o's) are independent: the state pass
    // may run groups of them as iterations of their own.
    s.columns = s.valueDim;
    if (options.smCount > 0)
      s.columns = chooseValueTile(s.batch * s.heads, s.valueDim);
    else if (options.valueTile > 0 && options.valueTile < s.valueDim &&
             s.valueDim % options.valueTile == 0)
      s.columns = options.valueTile;
    s.outputColumns =
        options.outputTile > 0 && s.valueDim % options.outputTile == 0
            ? options.outputTile
            : s.valueDim;
    // The inputs' element type where the option rounds the terms to it.
    auto storage = [&](bool rounded) -> Type {
      return rounded ? qType.getElementType() : rewriter.getF32Type();
    };
    s.outputTerms = storage(options.roundOutputTerms);
    s.stateTerms = storage(options.roundStateTerms);
    s.chunkOperands = storage(options.roundChunkOperands);
    s.stateOperands = storage(options.roundStateOperands);

    // Padded tokens have g = 0 and beta = 0: they neither decay nor write,
    // and they come after every real token.
    auto pad = [&](Value value) {
      return TileBuilder::padTokens(rewriter, op.getLoc(), value, s.padded);
    };
    Inputs padded{pad(op.getQ()), pad(op.getK()), pad(op.getV()),
                  pad(op.getG()), pad(op.getBeta())};
    ChunkTerms terms = buildChunkTerms(rewriter, op, s, padded);
    auto [u, states, finalState] = buildStatePass(rewriter, op, s, terms);
    Value o = buildOutputs(rewriter, op, s, padded.q, terms, u, states);
    rewriter.replaceOp(op, {o, finalState});
    return success();
  }

private:
  /// The state pass's columns an iteration with `smCount` SMs: of 8, 16,
  /// 32 and 64 (those dividing V; else all V), the one with the least waves
  /// of iterations (one block an SM) times a block's cost. The costs are
  /// the state pass's on an H100 with one wave of blocks, at head dim 128
  /// (docs/benchmarks.md, runs 50 and 55: 8, 32 and 64 columns 0.76, 1.25
  /// and 2 times 16's): wider blocks read each tile's −W and K_c once for
  /// more columns, but take longer a step. 128 columns were never the
  /// fastest there (3.6, and slower still at head dim 256).
  int64_t chooseValueTile(int64_t pairs, int64_t valueDim) const {
    constexpr std::pair<int64_t, double> kCosts[] = {
        {8, 0.76}, {16, 1.0}, {32, 1.25}, {64, 2.0}};
    int64_t best = valueDim;
    double bestTime = std::numeric_limits<double>::infinity();
    for (auto [columns, cost] : kCosts) {
      if (columns > valueDim || valueDim % columns != 0)
        continue;
      int64_t waves =
          llvm::divideCeil(pairs * (valueDim / columns), options.smCount);
      if (waves * cost < bestTime) {
        best = columns;
        bestTime = waves * cost;
      }
    }
    return best;
  }

  /// The inputs in their own type, padded to whole tiles ([B, T', H, ...]),
  /// or one tile of them (L×K, L×K, L×V, L, L).
  struct Inputs {
    Value q, k, v, g, beta;
  };

  /// An scf.forall over (batch, head, and `last` iterations) with `inits`
  /// as its shared outputs, the insertion point at the start of its body.
  /// Its location carries `stage` as a name: the GPU kernel made of it is
  /// called so (nats-map-foralls-to-gpu), and profiles say which stage ran.
  static scf::ForallOp createForall(PatternRewriter &rewriter, Location loc,
                                    StringRef stage, const Sizes &s,
                                    int64_t last, ValueRange inits) {
    SmallVector<int64_t> bounds = {s.batch, s.heads};
    if (last > 1)
      bounds.push_back(last);
    auto forall = scf::ForallOp::create(
        rewriter, NameLoc::get(rewriter.getStringAttr(stage), loc),
        indexAttrs(rewriter, bounds), inits, std::nullopt);
    rewriter.setInsertionPointToStart(forall.getBody());
    return forall;
  }

  /// Stage 1: every tile's state-free terms, one iteration per tile.
  static ChunkTerms buildChunkTerms(PatternRewriter &rewriter, GatedDeltaOp op,
                                    const Sizes &s, const Inputs &padded) {
    Location loc = op.getLoc();
    OpBuilder::InsertionGuard guard(rewriter);
    int64_t L = s.tile, K = s.keyDim, V = s.valueDim;
    SmallVector<SmallVector<int64_t>> tails = {{L, K}, {L, V}, {L, L},
                                               {L},    {L, K}, {}};
    // ChunkTerms order: P and r are read by the outputs stage only, −W and
    // K_c by the state pass.
    Type f32 = rewriter.getF32Type();
    SmallVector<Type> types = {s.stateTerms, s.stateTerms, s.outputTerms,
                               f32,          s.stateTerms, f32};
    SmallVector<Value> inits;
    for (auto [tail, type] : llvm::zip(tails, types)) {
      SmallVector<int64_t> shape = {s.batch, s.heads, s.tiles};
      llvm::append_range(shape, tail);
      inits.push_back(tensor::EmptyOp::create(rewriter, loc, shape, type));
    }
    scf::ForallOp forall = createForall(
        rewriter, loc, "gated_delta_chunk_terms", s, s.tiles, inits);
    Value b = forall.getInductionVar(0), h = forall.getInductionVar(1);
    Value n = s.tiles > 1 ? forall.getInductionVar(2)
                          : arith::ConstantIndexOp::create(rewriter, loc, 0);
    TileBuilder tb(rewriter, loc);
    Value t0 = arith::MulIOp::create(rewriter, loc, n, tb.index(L));
    auto tileOf = [&](Value all) {
      return TileBuilder::tokenSlice(rewriter, loc, all, b, t0, h, L);
    };
    Inputs in{tileOf(padded.q), tileOf(padded.k), tileOf(padded.v),
              tileOf(padded.g), tileOf(padded.beta)};
    // Router head of this linear head.
    auto routeType = cast<RankedTensorType>(op.getRoute().getType());
    Value routerHead = arith::DivUIOp::create(
        rewriter, loc, h, tb.index(s.heads / routeType.getDimSize(2)));
    Value keep = routeBits(tb, op.getRoute(), b, t0, routerHead, s.chunk, L);
    SmallVector<Value> values = tileTerms(tb, op, in, keep, s);
    for (auto [value, type] : llvm::zip(values, types))
      value = tb.convert(value, type);

    rewriter.setInsertionPointToStart(forall.getTerminator().getBody());
    OpFoldResult zero = rewriter.getIndexAttr(0);
    for (auto [value, shared, tail] :
         llvm::zip(values, forall.getRegionIterArgs(), tails)) {
      SmallVector<OpFoldResult> offsets = {b, h, n};
      SmallVector<int64_t> sizes = {1, 1, 1};
      offsets.append(tail.size(), zero);
      llvm::append_range(sizes, tail);
      insertInParallel(rewriter, loc, value, shared, offsets, sizes);
    }
    ResultRange r = forall.getResults();
    return {r[0], r[1], r[2], r[3], r[4], r[5]};
  }

  /// Stage 2: the walk over tiles that carries the state, one iteration per
  /// (batch, head, group of columns). Returns U ([B, H, NT, L, V]) and each
  /// tile's start state ([B, H, NT, K, V]) in the outputs' storage type,
  /// and the final state (f32).
  static std::tuple<Value, Value, Value>
  buildStatePass(PatternRewriter &rewriter, GatedDeltaOp op, const Sizes &s,
                 const ChunkTerms &terms) {
    Location loc = op.getLoc();
    OpBuilder::InsertionGuard guard(rewriter);
    int64_t L = s.tile, K = s.keyDim, V = s.valueDim, C = s.columns;
    auto stateType = cast<RankedTensorType>(op.getFinalState().getType());
    SmallVector<Value> inits = {
        tensor::EmptyOp::create(rewriter, loc,
                                ArrayRef<int64_t>{s.batch, s.heads, s.tiles, L, V},
                                s.outputTerms),
        tensor::EmptyOp::create(rewriter, loc,
                                ArrayRef<int64_t>{s.batch, s.heads, s.tiles, K, V},
                                s.outputTerms),
        tensor::EmptyOp::create(rewriter, loc, stateType.getShape(),
                                rewriter.getF32Type())};
    scf::ForallOp forall = createForall(rewriter, loc, "gated_delta_state_pass",
                                        s, V / C, inits);
    Value b = forall.getInductionVar(0), h = forall.getInductionVar(1);
    TileBuilder tb(rewriter, loc);
    OpFoldResult zero = rewriter.getIndexAttr(0), c0 = zero;
    if (C != V)
      c0 = arith::MulIOp::create(rewriter, loc, forall.getInductionVar(2),
                                 tb.index(C))
               .getResult();

    // The state at the start: initial_state[b, h, :, columns] or zero.
    Value state0 = op.getInitialState()
                       ? sliceOf(rewriter, loc, op.getInitialState(),
                                 {b, h, zero, c0}, {1, 1, K, C}, 2)
                       : tb.zeros({K, C});
    // This iteration's parts of U and of the tile-start states, written in
    // place in the forall's outputs.
    ValueRange shared = forall.getRegionIterArgs();
    Value uRows = sliceOf(rewriter, loc, shared[0], {b, h, zero, zero, c0},
                          {1, 1, s.tiles, L, C}, 2);
    Value starts = sliceOf(rewriter, loc, shared[1], {b, h, zero, zero, c0},
                           {1, 1, s.tiles, K, C}, 2);
    // Every tile's decay, copied before the walk: read from the chunk terms
    // at each step, its load was on the critical path of every step (a GPU
    // block's global load; the copy is one, into shared memory).
    Value decays = tb.copy(
        sliceOf(rewriter, loc, terms.decay, {b, h, zero}, {1, 1, s.tiles}, 2));
    // With round-state-operands S and U enter the products in the inputs'
    // type, as FLA's chunk_fwd_h rounds h and v_new: a GPU multiplies two
    // 16-bit tiles (m16n8k16, half the steps of tf32's and half the operand
    // bytes); the sums stay f32. The loop carries S's rounded copy too,
    // made where S' is (a GPU's warps round their tiles of S' as they
    // store them).
    bool roundState = !s.stateOperands.isF32();
    SmallVector<Value> carriedInits = {state0, uRows, starts};
    if (roundState)
      carriedInits.push_back(tb.convert(state0, s.stateOperands));
    auto loop = scf::ForOp::create(
        rewriter, loc, tb.index(0), tb.index(s.tiles), tb.index(1),
        carriedInits,
        [&](OpBuilder &nb, Location nloc, Value n, ValueRange carried) {
          TileBuilder body(nb, nloc);
          Value state = carried[0];
          // Records `value` (f32) in its row of the outputs' terms.
          auto insert = [&](Value value, Value dest, int64_t rows) {
            return tensor::InsertSliceOp::create(
                nb, nloc, body.convert(value, s.outputTerms), dest,
                ArrayRef<OpFoldResult>{n, nb.getIndexAttr(0),
                                       nb.getIndexAttr(0)},
                indexAttrs(nb, {1, rows, C}), indexAttrs(nb, {1, 1, 1}));
          };
          // The tile's start state is S rounded to the outputs' type: where
          // the loop carries that rounding already, it is S's copy (a GPU
          // then reads S in f32 only where it updates it).
          Value started = insert(
              roundState && s.stateOperands == s.outputTerms ? carried[3]
                                                             : state,
              carried[2], K);
          Value negW = sliceOf(nb, nloc, terms.negW, {b, h, n, zero, zero},
                               {1, 1, 1, L, K}, 3);
          Value u0 =
              sliceOf(nb, nloc, terms.u0, {b, h, n, zero, c0}, {1, 1, 1, L, C}, 3);
          Value kCommit = sliceOf(nb, nloc, terms.kCommit, {b, h, n, zero, zero},
                                  {1, 1, 1, L, K}, 3);
          Value decay = tensor::ExtractOp::create(nb, nloc, decays, n);
          // U = U₀ + (−W) S: the tile's writes corrected for the state,
          // one product accumulated onto a copy of U₀ (widened to f32 as
          // the product starts: nats-gpu-mma-sync loads it so).
          Value u =
              body.matmulAdd(negW, roundState ? carried[3] : state,
                             body.convert(body.copy(u0), nb.getF32Type()));
          // S' = d S + K_cᵀ U: the state decays in place, then the linear
          // chunks' writes accumulate onto it (K_c's rows of kept chunks
          // are zero: they only decay it).
          Value decayed =
              body.update(state, [&](OpBuilder &mb, Location l, Value x) {
                return arith::MulFOp::create(mb, l, decay, x);
              });
          Value next =
              body.matmulAdd(kCommit, body.convert(u, s.stateOperands),
                             decayed, /*transposeA=*/true);
          SmallVector<Value> yields = {next, insert(u, carried[1], L),
                                       started};
          if (roundState)
            yields.push_back(body.convert(next, s.stateOperands, carried[3]));
          scf::YieldOp::create(nb, nloc, yields);
        });

    rewriter.setInsertionPointToStart(forall.getTerminator().getBody());
    insertInParallel(rewriter, loc, loop.getResult(1), shared[0],
                     {b, h, zero, zero, c0}, {1, 1, s.tiles, L, C});
    insertInParallel(rewriter, loc, loop.getResult(2), shared[1],
                     {b, h, zero, zero, c0}, {1, 1, s.tiles, K, C});
    insertInParallel(rewriter, loc, loop.getResult(0), shared[2],
                     {b, h, zero, c0}, {1, 1, K, C});
    return {forall.getResult(0), forall.getResult(1), forall.getResult(2)};
  }

  /// Stage 3: O = diag(r) (q S) + P U, one iteration per tile and group of
  /// s.outputColumns value columns (each reads the tile's q, r and P); o in
  /// the input type. `q` is the padded input.
  static Value buildOutputs(PatternRewriter &rewriter, GatedDeltaOp op,
                            const Sizes &s, Value q, const ChunkTerms &terms,
                            Value u, Value states) {
    Location loc = op.getLoc();
    OpBuilder::InsertionGuard guard(rewriter);
    int64_t L = s.tile, K = s.keyDim, V = s.valueDim;
    int64_t C = s.outputColumns;
    int64_t groups = V / C;
    auto oType = cast<RankedTensorType>(op.getO().getType());
    Type elementType = oType.getElementType();
    Value init = tensor::EmptyOp::create(
        rewriter, loc, ArrayRef<int64_t>{s.batch, s.padded, s.heads, V},
        elementType);
    scf::ForallOp forall = createForall(rewriter, loc, "gated_delta_outputs",
                                        s, s.tiles * groups, init);
    Value b = forall.getInductionVar(0), h = forall.getInductionVar(1);
    TileBuilder tb(rewriter, loc);
    Value n = s.tiles * groups > 1 ? forall.getInductionVar(2) : tb.index(0);
    OpFoldResult zero = rewriter.getIndexAttr(0), c0 = zero;
    if (groups > 1) {
      c0 = arith::MulIOp::create(
               rewriter, loc,
               arith::RemUIOp::create(rewriter, loc, n, tb.index(groups)),
               tb.index(C))
               .getResult();
      n = arith::DivUIOp::create(rewriter, loc, n, tb.index(groups));
    }
    auto term = [&](Value all, int64_t rows, int64_t columns,
                    OpFoldResult column) {
      return tb.convert(sliceOf(rewriter, loc, all, {b, h, n, zero, column},
                                {1, 1, 1, rows, columns}, 3),
                        tb.f32());
    };
    // Each product's operands right before it: a block's buffers of the
    // first are dead by the second's. Q_γ's row factors apply to q S, so
    // that q is widened as it is (a GPU warp loads its tensor-core
    // fragments straight from memory).
    Value t0 = arith::MulIOp::create(rewriter, loc, n, tb.index(L));
    Value qTile = tb.convert(
        TileBuilder::tokenSlice(rewriter, loc, q, b, t0, h, L), tb.f32());
    Value start = term(states, K, C, c0);
    Value fromState = tb.matmul(qTile, start);
    Value p = term(terms.p, L, L, zero);
    Value uTile = term(u, L, C, c0);
    Value inTile = tb.matmul(p, uTile);
    Value qFactor =
        sliceOf(rewriter, loc, terms.qFactor, {b, h, n, zero}, {1, 1, 1, L}, 3);
    MLIRContext *ctx = rewriter.getContext();
    AffineMap id2 = rewriter.getMultiDimIdentityMap(2);
    AffineMap row = AffineMap::get(2, 0, getAffineDimExpr(0, ctx));
    Value out = tb.map(
        {L, C}, ValueRange{fromState, inTile, qFactor},
        ArrayRef<AffineMap>{id2, id2, row},
        [&](OpBuilder &nb, Location l, ValueRange y, ValueRange) {
          Value sum = arith::AddFOp::create(
              nb, l, arith::MulFOp::create(nb, l, y[2], y[0]), y[1]);
          return TileBuilder::fromF32(nb, l, sum, elementType);
        },
        elementType);
    rewriter.setInsertionPointToStart(forall.getTerminator().getBody());
    insertInParallel(rewriter, loc, out, forall.getRegionIterArgs()[0],
                     {b, t0, h, c0}, {1, L, 1, C});
    rewriter.setInsertionPointAfter(forall);
    if (s.padded == s.tokens)
      return forall.getResult(0);
    // Without the padding tokens.
    return sliceOf(rewriter, loc, forall.getResult(0), {zero, zero, zero, zero},
                   oType.getShape(), 0);
  }

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

  /// One tile's state-free terms, in ChunkTerms order: −W, U₀ (f32
  /// matrices), P (in the outputs' storage type), r (f32), K_c (in the
  /// state terms') and d (tensor<1xf32>).
  static SmallVector<Value> tileTerms(TileBuilder &tb, GatedDeltaOp op,
                                      const Inputs &in, Value keep,
                                      const Sizes &s) {
    int64_t chunk = s.chunk, tile = s.tile;
    MLIRContext *ctx = tb.builder().getContext();
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
    // A map's body whose f32 result is stored as `type`: rounded in the
    // same map, so that the f32 term takes no buffer and no pass of its own.
    auto storedAs = [](Type type, auto body) {
      return [=](OpBuilder &b, Location l, ValueRange y, ValueRange idx) {
        return TileBuilder::fromF32(b, l, body(b, l, y, idx), type);
      };
    };
    auto multiply = [](OpBuilder &b, Location l, ValueRange y, ValueRange) {
      Value product = TileBuilder::toF32(b, l, y[0]);
      for (Value factor : y.drop_front())
        product = arith::MulFOp::create(b, l, product,
                                        TileBuilder::toF32(b, l, factor));
      return product;
    };

    // q̂ = scale · l2norm(q), k̂ = l2norm(k) (or the raw vectors), in the
    // chunk operands' type. The tile is read twice (its squares' sum, then
    // the scaling) from a copy in the inputs' own type, widened where read:
    // in a GPU block, half the shared memory of an f32 copy. A row's factor
    // scale · rsqrt(Σx² + ε) is a vector of its own (null without l2norm,
    // where the factor is scale), its rsqrt taken once a row rather than in
    // the scaling once an element (8192 of them a tile at head dim 128).
    auto rowFactors = [&](Value x, double scale) -> Value {
      if (!op.getQkL2norm())
        return Value();
      Value sumSq = tb.rowSum(
          x, [](OpBuilder &b, Location l, ValueRange a, ValueRange) {
            Value x = TileBuilder::toF32(b, l, a[0]);
            return arith::MulFOp::create(b, l, x, x);
          });
      return tb.map(sumSq, [scale](OpBuilder &b, Location l, ValueRange a,
                                   ValueRange) -> Value {
        Value eps =
            arith::ConstantOp::create(b, l, b.getF32FloatAttr(kL2NormEps));
        return arith::MulFOp::create(
            b, l, arith::ConstantOp::create(b, l, b.getF32FloatAttr(scale)),
            math::RsqrtOp::create(b, l, arith::AddFOp::create(b, l, a[0], eps)));
      });
    };
    // `y` times a row's factor: the map's next input, or the constant scale.
    auto timesFactor = [](OpBuilder &b, Location l, Value y,
                          ValueRange factor, double scale) -> Value {
      Value f = factor.empty()
                    ? arith::ConstantOp::create(b, l, b.getF32FloatAttr(scale))
                    : factor[0];
      return arith::MulFOp::create(b, l, TileBuilder::toF32(b, l, y), f);
    };
    // The normalized tile and its rows' factors (null without l2norm).
    auto normalized = [&](Value x, double scale) -> std::pair<Value, Value> {
      Value tileCopy = tb.copy(x);
      Value factors = rowFactors(tileCopy, scale);
      Value tileNormalized = tb.map(
          {tile, keyDim},
          factors ? ValueRange{tileCopy, factors} : ValueRange{tileCopy},
          factors ? ArrayRef<AffineMap>{id2, row} : ArrayRef<AffineMap>{id2},
          storedAs(s.chunkOperands,
                   [&](OpBuilder &b, Location l, ValueRange a, ValueRange) {
                     return timesFactor(b, l, a[0], a.drop_front(), scale);
                   }),
          s.chunkOperands);
      return {tileNormalized, factors};
    };
    double qScale = op.getScale().convertToDouble();
    auto [qn, qFactors] = normalized(in.q, qScale);
    Value kn = normalized(in.k, 1.0).first;
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
    auto exp = [](OpBuilder &b, Location l, ValueRange x, ValueRange) {
      return TileBuilder::exp(b, l, x[0]);
    };
    Value expGamma = tb.map(gamma, exp);

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
          Value factor =
              TileBuilder::exp(b, l, arith::SubFOp::create(b, l, a[0], a[1]));
          return arith::SelectOp::create(b, l, visible, factor, zero);
        });

    // Q̂ and K̂ are read by the terms that need no solve first, so that their
    // buffers are free before the solve's (a GPU block's shared memory).
    OpBuilder &b = tb.builder();
    Location loc = tb.location();
    // P = (Q Kᵀ) ⊙ M and r, Q_γ = Q ⊙ e^γ's factor of each row of the
    // input q: the two factors of O.
    Value qk = tb.matmul(qn, kn, /*transposeA=*/false, /*transposeB=*/true);
    Value p = tb.map(ValueRange{qk, decay}, storedAs(s.outputTerms, multiply),
                     s.outputTerms);
    Value qFactor = tb.map(
        qFactors ? ValueRange{expGamma, qFactors} : ValueRange{expGamma},
        [&](OpBuilder &nb, Location l, ValueRange y, ValueRange) {
          return timesFactor(nb, l, y[0], y.drop_front(), qScale);
        });

    // K_c = K ⊙ e^(γ_L − γ) ⊙ (1 − m): what the tile's linear chunks commit
    // to the state, and d = e^γ_L, how the state decays over the tile.
    Value gammaLast = sliceOf(b, loc, gamma, {b.getIndexAttr(tile - 1)}, {1}, 0);
    Value decayAll = tb.map(gammaLast, exp);
    Value gammaLastScalar =
        tensor::ExtractOp::create(b, loc, gamma, ValueRange{tb.index(tile - 1)});
    Value kCommit = tb.map(
        {tile, keyDim}, ValueRange{kn, gamma, keep},
        ArrayRef<AffineMap>{id2, row, row},
        storedAs(s.stateTerms,
                 [&](OpBuilder &nb, Location l, ValueRange y,
                     ValueRange) -> Value {
                   Value one =
                       arith::ConstantOp::create(nb, l, nb.getF32FloatAttr(1));
                   Value factor = TileBuilder::exp(
                       nb, l,
                       arith::SubFOp::create(nb, l, gammaLastScalar, y[1]));
                   Value linear = arith::SubFOp::create(nb, l, one, y[2]);
                   return arith::MulFOp::create(
                       nb, l, TileBuilder::toF32(nb, l, y[0]),
                       arith::MulFOp::create(nb, l, factor, linear));
                 }),
        s.stateTerms);

    // −A = −StrictLower(diag(β) (K Kᵀ) ⊙ M), negated as the inverse's
    // block rows multiply it.
    Value kk = tb.matmul(kn, kn, /*transposeA=*/false, /*transposeB=*/true);
    Value negA = tb.map(
        {tile, tile}, ValueRange{kk, decay, betaF},
        ArrayRef<AffineMap>{id2, id2, row},
        [](OpBuilder &b, Location l, ValueRange x, ValueRange idx) {
          Value below = arith::CmpIOp::create(b, l, arith::CmpIPredicate::ugt,
                                              idx[0], idx[1]);
          Value value = arith::NegFOp::create(
              b, l,
              arith::MulFOp::create(b, l, x[2],
                                    arith::MulFOp::create(b, l, x[0], x[1])));
          Value zero = arith::ConstantOp::create(b, l, b.getF32FloatAttr(0));
          return arith::SelectOp::create(b, l, below, value, zero);
        });

    Value inverse = invertUnitLower(tb, negA, tile);
    // T too is an operand of the chunk terms' products (FLA's solve_tril
    // stores it in the inputs' type): with both sides 16-bit, the GPU
    // multiplies them as they are (m16n8k16), half the tensor-core steps.
    inverse = tb.convert(inverse, s.chunkOperands);

    // −W = T (−diag(β) (K ⊙ e^γ)) and U₀ = T diag(β) V with T = (I + A)⁻¹
    // (the UT transform): W comes out negated for the state pass (U = U₀ +
    // (−W) S, one product). Their right-hand sides are made after the
    // solve, so that its buffers and theirs are not live at once (a GPU
    // block's shared memory); V is read where it is.
    Value kWrites = tb.map(
        {tile, keyDim}, ValueRange{kn, expGamma, betaF},
        ArrayRef<AffineMap>{id2, row, row},
        storedAs(s.chunkOperands,
                 [&](OpBuilder &nb, Location l, ValueRange y,
                     ValueRange idx) -> Value {
                   return arith::NegFOp::create(nb, l,
                                                multiply(nb, l, y, idx));
                 }),
        s.chunkOperands);
    Value vWrites = tb.map(
        {tile, valueDim}, ValueRange{in.v, betaF}, ArrayRef<AffineMap>{id2, row},
        storedAs(s.chunkOperands, multiply), s.chunkOperands);
    // U₀ first: its right-hand side is dead once U₀ is made, and −W's tiles
    // can take its place (a GPU block's shared memory).
    Value u0 = tb.convert(tb.matmul(inverse, vWrites), s.stateTerms);
    Value negW = tb.matmul(inverse, kWrites);
    return {negW, u0, p, qFactor, kCommit, decayAll};
  }

  /// Rows per block of the blocked inverse: a multiple of the tensor
  /// cores' tile, so that its products can run there.
  static constexpr int64_t kSolveBlock = 16;

  /// T = (I + A)⁻¹ (L×L) for a strictly lower A given as −A, by blocks of
  /// rows: the inverses T_bb of the diagonal blocks first, all at once (the
  /// only scalar, sequential steps); then each block row's part left of its
  /// diagonal, T_{b,<b} = T_bb (−A)_{b,<b} T_{<b,<b}, two matmuls (on
  /// tensor cores where they fit), the second accumulating onto the zeros
  /// there in place. It reads T_bb from a copy of the diagonal blocks of
  /// its own, so that no op reads T where it writes it (bufferization would
  /// copy the block row out and back). The products with T that follow
  /// (−W and U₀) are whole tiles, where solving against the right-hand
  /// sides block row after block row had been a chain of thin ones (FLA's
  /// solve_tril is this form too).
  static Value invertUnitLower(TileBuilder &tb, Value negA, int64_t tile) {
    OpBuilder &b = tb.builder();
    Location loc = tb.location();
    auto slice = [&](Value m, int64_t row, int64_t rows, int64_t col,
                     int64_t cols) -> Value {
      return sliceOf(b, loc, m, {b.getIndexAttr(row), b.getIndexAttr(col)},
                     {rows, cols}, 0);
    };
    int64_t padded = llvm::divideCeil(tile, kSolveBlock) * kSolveBlock;
    auto [blocks, inverse] = invertDiagonalBlocks(tb, negA, tile, padded);
    for (int64_t row = kSolveBlock; row < tile; row += kSolveBlock) {
      int64_t rows = std::min(kSolveBlock, tile - row);
      Value left = tb.matmul(slice(negA, row, rows, 0, row),
                             slice(inverse, 0, row, 0, row));
      Value block = tb.matmulAdd(slice(blocks, row, rows, 0, rows), left,
                                 slice(inverse, row, rows, 0, row));
      inverse = tensor::InsertSliceOp::create(
          b, loc, block, inverse,
          ArrayRef<OpFoldResult>{b.getIndexAttr(row), b.getIndexAttr(0)},
          ArrayRef<OpFoldResult>{b.getIndexAttr(rows), b.getIndexAttr(row)},
          ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1)});
    }
    return padded == tile ? inverse : slice(inverse, 0, tile, 0, tile);
  }

  /// The inverses of the unit-lower diagonal blocks of I + A (−A given),
  /// twice: block b's n_b × n_b in rows [16b, 16b + n_b) and columns
  /// [0, n_b) of a P × 16 result, and at its place on the diagonal of a
  /// P × P zero matrix (P: L rounded up to 16; n_b = min(16, L − 16b); the
  /// rows from L on hold the inverse of I where −A is padded with zeros:
  /// nothing reads them). Column c of block b is the forward substitution
  /// t_i = δ_ic + Σ_{j<i} (−A)_ij t_j for i = 0..15: the L columns of all
  /// blocks are independent, so it is one forall over them (on a GPU, one
  /// thread each and no barrier between rows). t_j is zero for j < c, so the
  /// rows and the sums run over the whole block for every column: straight-
  /// line code of 120 products whose 16 values stay scalars (registers on a
  /// GPU; a column in shared memory with loops bounded by c had been a chain
  /// of dependent loads, the chunk terms' longest phase, run 63).
  static std::pair<Value, Value> invertDiagonalBlocks(TileBuilder &tb,
                                                      Value negA, int64_t tile,
                                                      int64_t padded) {
    OpBuilder &b = tb.builder();
    Location loc = tb.location();
    // Whole blocks to read: −A padded with zeros to P × P.
    if (padded != tile)
      negA = tensor::InsertSliceOp::create(
          b, loc, negA, tb.zeros({padded, padded}),
          ArrayRef<OpFoldResult>{b.getIndexAttr(0), b.getIndexAttr(0)},
          ArrayRef<OpFoldResult>{b.getIndexAttr(tile), b.getIndexAttr(tile)},
          ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1)});
    Value blocks = tensor::EmptyOp::create(
        b, loc, ArrayRef<int64_t>{padded, kSolveBlock}, tb.f32());
    auto forall = scf::ForallOp::create(
        b, loc, ArrayRef<OpFoldResult>{b.getIndexAttr(tile)},
        ValueRange{blocks, tb.zeros({padded, padded})},
        /*mapping=*/std::nullopt);
    OpBuilder nb = OpBuilder::atBlockBegin(forall.getBody());
    Value column = forall.getInductionVar(0);
    Value shared = forall.getRegionIterArgs()[0];
    Value placed = forall.getRegionIterArgs()[1];
    auto index = [&](int64_t value) -> Value {
      return arith::ConstantIndexOp::create(nb, loc, value);
    };
    auto f32 = [&](double value) -> Value {
      return arith::ConstantOp::create(nb, loc, nb.getF32FloatAttr(value));
    };
    // This column's block starts at row `first`; the column is `local`
    // within it.
    Value local = arith::RemUIOp::create(nb, loc, column, index(kSolveBlock));
    Value first = arith::SubIOp::create(nb, loc, column, local);
    Value one = f32(1), zero = f32(0);
    SmallVector<Value> t;
    for (int64_t i = 0; i < kSolveBlock; ++i) {
      Value onDiagonal = arith::CmpIOp::create(
          nb, loc, arith::CmpIPredicate::eq, local, index(i));
      Value sum = arith::SelectOp::create(nb, loc, onDiagonal, one, zero);
      Value row = arith::AddIOp::create(nb, loc, first, index(i));
      for (int64_t j = 0; j < i; ++j) {
        Value aij = tensor::ExtractOp::create(
            nb, loc, negA,
            ValueRange{row, arith::AddIOp::create(nb, loc, first, index(j))});
        sum = arith::AddFOp::create(
            nb, loc, sum, arith::MulFOp::create(nb, loc, aij, t[j]));
      }
      t.push_back(sum);
    }
    // Written into the column of the shared result (in place: no buffer of
    // the thread's own).
    SmallVector<OpFoldResult> sizes = {nb.getIndexAttr(kSolveBlock),
                                       nb.getIndexAttr(1)};
    SmallVector<OpFoldResult> strides = {nb.getIndexAttr(1), nb.getIndexAttr(1)};
    Value part = tensor::ExtractSliceOp::create(
        nb, loc, shared, ArrayRef<OpFoldResult>{first, local}, sizes, strides);
    for (auto [i, value] : llvm::enumerate(t))
      part = tensor::InsertOp::create(nb, loc, value, part,
                                      ValueRange{index(i), index(0)});
    nb.setInsertionPointToStart(forall.getTerminator().getBody());
    tensor::ParallelInsertSliceOp::create(
        nb, loc, part, shared, ArrayRef<OpFoldResult>{first, local}, sizes,
        strides);
    tensor::ParallelInsertSliceOp::create(
        nb, loc, part, placed, ArrayRef<OpFoldResult>{first, column}, sizes,
        strides);
    return {forall.getResult(0), forall.getResult(1)};
  }

  NatsFuseGatedDeltaPassOptions options;
};

struct NatsFuseGatedDeltaPass
    : nats::impl::NatsFuseGatedDeltaPassBase<NatsFuseGatedDeltaPass> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateNatsFuseGatedDeltaPatterns(
        patterns, {tileSize, valueTile, smCount, outputTile, roundOutputTerms,
                   roundStateTerms, roundChunkOperands, roundStateOperands});
    if (failed(rewriteAllOrReport<GatedDeltaOp>(
            getOperation(), std::move(patterns),
            "could not be lowered: needs static shapes and a positive "
            "tile-size")))
      signalPassFailure();
  }
};

} // namespace

void mlir::nats::populateNatsFuseGatedDeltaPatterns(
    RewritePatternSet &patterns, const NatsFuseGatedDeltaPassOptions &options,
    PatternBenefit benefit) {
  patterns.add<FuseGatedDelta>(patterns.getContext(), options, benefit);
}
