//===- CompactRoutedSoftmax.cpp - routed softmax over kept chunks ---------===//
//
// Lowers nats.routed_softmax (spec §3.3) so that work follows the keys a
// query can see (docs/algorithms.md §2), in two scf.foralls (a kernel each
// on a GPU):
//
//  1. Compaction, one iteration per (batch, router head): the route bits
//     give each kept chunk its slot (an exclusive prefix sum, by log2 N
//     doubling steps) and the list of kept chunk indices by slot (a binary
//     search per slot): data-parallel maps, no step per chunk. Done once
//     per router head, not once per query block: every block of every
//     softmax head that shares the router head reads the same list, as an
//     attention kernel reads a block-sparse mask's precomputed indices.
//  2. One iteration per (batch, softmax head, query block [t0, t0 + Lq)),
//     independent of the others, an online softmax over
//       a. the kept chunks wholly before the block's first chunk c0, read
//          through the list: full key blocks, no mask. Every query of the
//          block is in chunk c0 or later and after these keys, so each of
//          them is visible by the kept-chunk rule alone;
//       b. the band of keys before t0 that a query may still see: the own
//          chunk's keys before t0 (when a chunk is longer than a block) and
//          the window. Masked, and keys of kept chunks before c0 are hidden
//          there because (a) counted them already;
//       c. the block's own keys, masked by the full rule (key <= query
//          alone where the block lies within one chunk).
//
// Scores exist only as query block × key block tiles: no T×T mask or score
// matrix. The two matrix products of a step are linalg contractions on
// static tile shapes, the same structure a GPU mapping tiles into MMAs.
//
//===----------------------------------------------------------------------===//

#include "nats/Dialect/Nats/IR/NatsOps.h"
#include "nats/Dialect/Nats/Transforms/Passes.h"
#include "nats/Dialect/Nats/Transforms/Transforms.h"

#include "RewriteAll.h"
#include "TileBuilder.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

namespace mlir::nats {
#define GEN_PASS_DEF_NATSCOMPACTROUTEDSOFTMAXPASS
#include "nats/Dialect/Nats/Transforms/Passes.h.inc"
} // namespace mlir::nats

using namespace mlir;
using namespace mlir::nats;

namespace {

constexpr double kMinusInf = -std::numeric_limits<double>::infinity();

/// `x` rounded up to a multiple of `m` (both positive).
int64_t roundUp(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

/// How tokens are cut into blocks. A query block of Lq tokens is also the
/// key block of the masked steps (band and diagonal); the unmasked steps
/// read `group` kept chunks at a time.
struct Blocking {
  int64_t query;  // Lq
  int64_t group;  // kept chunks per full key block
  int64_t padded; // tokens padded to whole query blocks

  /// With C <= block-size a block is a whole number of chunks (the largest
  /// not above block-size), so it starts where a chunk starts, and one full
  /// key block gathers as many kept chunks as a block has: small chunks
  /// (C = 1, token-level routing) still give tile-sized products. With
  /// C > block-size a block may start inside a chunk (the band reads the
  /// chunk's earlier keys) and a full key block is one chunk.
  static Blocking of(int64_t chunk, int64_t blockSize, int64_t tokens) {
    if (chunk > blockSize)
      return {blockSize, 1, roundUp(tokens, blockSize)};
    int64_t query = blockSize / chunk * chunk;
    return {query, query / chunk, roundUp(tokens, query)};
  }
};

/// The running state of an online softmax over key blocks: row max, row
/// sum of exponentials and the unnormalised output, per query of a block.
struct OnlineSoftmax {
  Value max, sum, acc; // Lq, Lq, Lq×Vs (f32)
};

/// What the steps of one (batch, softmax head) read.
struct Head {
  Value q, k, v;     // B×P×Hs×{Ks,Vs}, padded to P tokens, input type
  Value route;       // B×N×R, i1
  Value batch, head, routerHead;
  Value slots;       // B×R×N: kept chunks before each chunk (index)
  Value list;        // B×R×S: kept chunk indices by slot (index)
  int64_t chunk, chunks, window;
  Blocking blocks;
};

Value minusInf(OpBuilder &b, Location loc) {
  return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(kMinusInf));
}

Value indexConstant(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIndexOp::create(b, loc, value);
}

/// The chunk in `slot` of the head's list of kept chunks.
Value keptChunk(OpBuilder &b, Location loc, const Head &h, Value slot) {
  return tensor::ExtractOp::create(b, loc, h.list,
                                   ValueRange{h.batch, h.routerHead, slot});
}

/// `tile` in f32: a widening copy for f16/bf16, the value itself for f32.
Value widen(TileBuilder &tb, Value tile) {
  if (cast<RankedTensorType>(tile.getType()).getElementType().isF32())
    return tile;
  return tb.map(tile, [](OpBuilder &b, Location l, ValueRange a, ValueRange) {
    return TileBuilder::toF32(b, l, a[0]);
  });
}

/// The f32 tile value[b, start : start + length, s, :].
Value tokenTile(TileBuilder &tb, const Head &h, Value value, Value start,
                int64_t length) {
  return widen(tb, TileBuilder::tokenSlice(tb.builder(), tb.location(), value,
                                           h.batch, start, h.head, length));
}

/// The f32 keys (or values) of the kept chunks in slots [first, first + G),
/// one after the other: a slice when G = 1, else a gather through the list.
Value gatherKept(TileBuilder &tb, const Head &h, Value value, Value first) {
  OpBuilder &b = tb.builder();
  Location loc = tb.location();
  int64_t chunk = h.chunk, group = h.blocks.group;
  if (group == 1) {
    Value n = keptChunk(b, loc, h, first);
    Value start =
        arith::MulIOp::create(b, loc, n, indexConstant(b, loc, chunk));
    return tokenTile(tb, h, value, start, chunk);
  }
  int64_t dim = cast<RankedTensorType>(value.getType()).getDimSize(3);
  return tb.map({group * chunk, dim}, ValueRange{}, ArrayRef<AffineMap>{},
                [&](OpBuilder &nb, Location l, ValueRange, ValueRange idx) {
                  Value c = indexConstant(nb, l, chunk);
                  Value slot = arith::AddIOp::create(
                      nb, l, first, arith::DivUIOp::create(nb, l, idx[0], c));
                  Value n = keptChunk(nb, l, h, slot);
                  Value token = arith::AddIOp::create(
                      nb, l, arith::MulIOp::create(nb, l, n, c),
                      arith::RemUIOp::create(nb, l, idx[0], c));
                  Value element = tensor::ExtractOp::create(
                      nb, l, value,
                      ValueRange{h.batch, token, h.head, idx[1]});
                  return TileBuilder::toF32(nb, l, element);
                });
}

/// exp(x - max), on every score.
Value expBelow(OpBuilder &b, Location loc, Value x, Value max) {
  return TileBuilder::exp(b, loc, arith::SubFOp::create(b, loc, x, max));
}

/// `ifInf` where `x` is -inf, else `value`.
Value unlessMinusInf(OpBuilder &b, Location loc, Value x, double ifInf,
                     Value value) {
  Value inf = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, x,
                                    minusInf(b, loc));
  return arith::SelectOp::create(
      b, loc, inf, arith::ConstantOp::create(b, loc, b.getF32FloatAttr(ifInf)),
      value);
}

/// The scores (Lq×Lk) with -inf where `visible(i, j)` is false; `columns`
/// are per-key inputs (Lk) that the predicate reads as args.
Value hide(TileBuilder &tb, Value scores, ValueRange columns,
           TileBuilder::MapBody visible) {
  MLIRContext *ctx = tb.builder().getContext();
  auto type = cast<RankedTensorType>(scores.getType());
  AffineExpr i, j;
  bindDims(ctx, i, j);
  SmallVector<AffineMap> maps = {AffineMap::get(2, 0, {i, j}, ctx)};
  maps.append(columns.size(), AffineMap::get(2, 0, {j}, ctx));
  SmallVector<Value> inputs = {scores};
  llvm::append_range(inputs, columns);
  return tb.map(type.getShape(), inputs, maps,
                [&](OpBuilder &b, Location l, ValueRange a, ValueRange idx) {
                  return arith::SelectOp::create(
                      b, l, visible(b, l, a.drop_front(), idx), a[0],
                      minusInf(b, l));
                });
}

/// One online-softmax step: folds the scores (Lq×Lk f32) and values (Lk×Vs
/// f32) of a key block into the state. Where the step is `masked`, its
/// hidden scores are -inf, and so is a row's maximum until the row has seen
/// a key: p is 0 exactly where a score is -inf (not exp(-inf - -inf) =
/// NaN), which also tells nats-gpu-warp-rows which terms of P·V vanish.
/// Unmasked (the kept chunks before the block: whole chunks of real
/// tokens), every score of finite inputs and so every new maximum is
/// finite.
OnlineSoftmax update(TileBuilder &tb, const OnlineSoftmax &state,
                     Value scores, Value values, bool masked) {
  MLIRContext *ctx = tb.builder().getContext();
  auto scoresType = cast<RankedTensorType>(scores.getType());
  auto accType = cast<RankedTensorType>(state.acc.getType());
  AffineExpr i, j;
  bindDims(ctx, i, j);
  AffineMap id2 = AffineMap::get(2, 0, {i, j}, ctx);
  AffineMap row = AffineMap::get(2, 0, {i}, ctx);
  // a · b + c, elementwise: the rescaled running sum and accumulator.
  auto fma = [](OpBuilder &b, Location l, ValueRange a, ValueRange) -> Value {
    return arith::AddFOp::create(b, l, arith::MulFOp::create(b, l, a[0], a[1]),
                                 a[2]);
  };

  // m' = max(m, rowmax); p = exp(s - m'); alpha = exp(m - m').
  Value newMax = tb.map(ValueRange{state.max, tb.rowMax(scores)},
                        [](OpBuilder &b, Location l, ValueRange a, ValueRange) {
                          return arith::MaximumFOp::create(b, l, a[0], a[1]);
                        });
  Value p = tb.map(scoresType.getShape(), ValueRange{scores, newMax},
                   ArrayRef<AffineMap>{id2, row},
                   [&](OpBuilder &b, Location l, ValueRange a, ValueRange) {
                     Value e = expBelow(b, l, a[0], a[1]);
                     return masked ? unlessMinusInf(b, l, a[0], 0.0, e) : e;
                   });
  // 1 while the row has seen no key (its sum and accumulator are 0).
  Value alpha =
      tb.map(ValueRange{state.max, newMax},
             [](OpBuilder &b, Location l, ValueRange a, ValueRange) {
               return unlessMinusInf(b, l, a[1], 1.0,
                                     expBelow(b, l, a[0], a[1]));
             });
  Value rowSum =
      tb.rowSum(p, [](OpBuilder &, Location, ValueRange a, ValueRange) {
        return a[0];
      });
  Value sum = tb.map(ValueRange{state.sum, alpha, rowSum}, fma);
  Value acc = tb.map(accType.getShape(),
                     ValueRange{state.acc, alpha, tb.matmul(p, values)},
                     ArrayRef<AffineMap>{id2, row, id2}, fma);
  return {newMax, sum, acc};
}

using Step = function_ref<OnlineSoftmax(TileBuilder &, Value iv,
                                        const OnlineSoftmax &)>;

/// An scf.for from `lb` to `ub` carrying the online-softmax state.
OnlineSoftmax loop(TileBuilder &tb, Value lb, Value ub, int64_t step,
                   const OnlineSoftmax &init, Step body) {
  auto forOp = scf::ForOp::create(
      tb.builder(), tb.location(), lb, ub, tb.index(step),
      ValueRange{init.max, init.sum, init.acc},
      [&](OpBuilder &nb, Location nloc, Value iv, ValueRange it) {
        TileBuilder inner(nb, nloc);
        OnlineSoftmax next = body(inner, iv, {it[0], it[1], it[2]});
        scf::YieldOp::create(nb, nloc,
                             ValueRange{next.max, next.sum, next.acc});
      });
  return {forOp.getResult(0), forOp.getResult(1), forOp.getResult(2)};
}

/// The inclusive prefix sum of an index vector `x` (N): ceil(log2 N) maps,
/// the k-th adding to each element the one 2^k before it (Hillis-Steele),
/// each a pass over N elements that needs no other's result.
Value inclusiveSum(TileBuilder &tb, Value x) {
  int64_t n = cast<RankedTensorType>(x.getType()).getDimSize(0);
  for (int64_t shift = 1; shift < n; shift *= 2) {
    Value previous = x;
    x = tb.map(
        ValueRange{previous},
        [&](OpBuilder &b, Location l, ValueRange a, ValueRange idx) -> Value {
          Value s = indexConstant(b, l, shift);
          Value has = arith::CmpIOp::create(b, l, arith::CmpIPredicate::uge,
                                            idx[0], s);
          Value at = arith::SelectOp::create(
              b, l, has, arith::SubIOp::create(b, l, idx[0], s),
              indexConstant(b, l, 0));
          Value before = arith::SelectOp::create(
              b, l, has, tensor::ExtractOp::create(b, l, previous, at),
              indexConstant(b, l, 0));
          return arith::AddIOp::create(b, l, a[0], before);
        },
        tb.builder().getIndexType());
  }
  return x;
}

/// list[s] (`length` slots) = the chunk whose bit is the (s+1)-th set one:
/// the first n with counts[n] > s, by a binary search of the non-decreasing
/// inclusive `counts` (N); 0 for a slot past the last kept chunk, which is
/// read only where the mask hides it.
Value keptList(TileBuilder &tb, Value counts, int64_t length) {
  int64_t n = cast<RankedTensorType>(counts.getType()).getDimSize(0);
  int64_t steps = llvm::Log2_64_Ceil(n + 1);
  return tb.map(
      {length}, ValueRange{}, ArrayRef<AffineMap>{},
      [&](OpBuilder &b, Location l, ValueRange, ValueRange idx) -> Value {
        // Invariant: the answer is in [lo, hi]; hi = n means "none".
        Value lo = indexConstant(b, l, 0), hi = indexConstant(b, l, n);
        Value last = indexConstant(b, l, n - 1), one = indexConstant(b, l, 1);
        for (int64_t step = 0; step < steps; ++step) {
          Value mid = arith::DivUIOp::create(
              b, l, arith::AddIOp::create(b, l, lo, hi),
              indexConstant(b, l, 2));
          Value at = arith::MinUIOp::create(b, l, mid, last);
          Value count = tensor::ExtractOp::create(b, l, counts, at);
          Value after = arith::CmpIOp::create(b, l, arith::CmpIPredicate::ugt,
                                              count, idx[0]);
          Value open = arith::CmpIOp::create(b, l, arith::CmpIPredicate::ult,
                                             lo, hi);
          Value lower = arith::AndIOp::create(b, l, open, after);
          Value higher = arith::AndIOp::create(
              b, l, open, arith::XOrIOp::create(
                              b, l, after,
                              arith::ConstantIntOp::create(b, l, 1, 1)));
          hi = arith::SelectOp::create(b, l, lower, mid, hi);
          lo = arith::SelectOp::create(
              b, l, higher, arith::AddIOp::create(b, l, mid, one), lo);
        }
        Value found = arith::CmpIOp::create(b, l, arith::CmpIPredicate::ult, lo,
                                            indexConstant(b, l, n));
        return arith::SelectOp::create(b, l, found, lo,
                                       indexConstant(b, l, 0));
      },
      tb.builder().getIndexType());
}

/// One query block's output rows (Lq×Vs, `elementType`).
Value queryBlock(TileBuilder &tb, const Head &h, Value t0,
                 double scale, Type elementType) {
  OpBuilder &b = tb.builder();
  Location loc = tb.location();
  int64_t lq = h.blocks.query, group = h.blocks.group, chunk = h.chunk,
          window = h.window;
  int64_t valueDim = cast<RankedTensorType>(h.v.getType()).getDimSize(3);

  // The scale is applied to the queries once, not to every score tile.
  Value q = tb.map(TileBuilder::tokenSlice(b, loc, h.q, h.batch, t0, h.head,
                                           lq),
                   [&](OpBuilder &nb, Location l, ValueRange a, ValueRange) {
                     return arith::MulFOp::create(
                         nb, l, TileBuilder::toF32(nb, l, a[0]),
                         arith::ConstantOp::create(
                             nb, l, nb.getF32FloatAttr(scale)));
                   });
  auto scores = [&](TileBuilder &kb, Value keys) {
    return kb.matmul(q, keys, /*transposeA=*/false, /*transposeB=*/true);
  };
  OnlineSoftmax state{tb.filled({lq}, tb.f32Constant(kMinusInf)),
                      tb.zeros({lq}), tb.zeros({lq, valueDim})};

  // a. Kept chunks before c0: slots [0, slots[b, r, c0]), G at a time. The last
  //    ones, fewer than G, fill a key block only partly; the slots past
  //    them are hidden by a column mask.
  Value firstChunk = arith::DivUIOp::create(b, loc, t0, tb.index(chunk));
  Value keptBefore = tensor::ExtractOp::create(
      b, loc, h.slots, ValueRange{h.batch, h.routerHead, firstChunk});
  Value fullEnd = keptBefore;
  if (group > 1)
    fullEnd = arith::MulIOp::create(
        b, loc, arith::DivUIOp::create(b, loc, keptBefore, tb.index(group)),
        tb.index(group));
  state = loop(tb, tb.index(0), fullEnd, group, state,
               [&](TileBuilder &kb, Value slot, const OnlineSoftmax &st) {
                 Value s = scores(kb, gatherKept(kb, h, h.k, slot));
                 return update(kb, st, s, gatherKept(kb, h, h.v, slot),
                               /*masked=*/false);
               });
  if (group > 1) {
    Value rest = arith::SubIOp::create(b, loc, keptBefore, fullEnd);
    Value any = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, rest,
                                      tb.index(0));
    auto partial = scf::IfOp::create(
        b, loc, any,
        [&](OpBuilder &nb, Location l) {
          TileBuilder kb(nb, l);
          Value hiddenScores = hide(
              kb, scores(kb, gatherKept(kb, h, h.k, fullEnd)), ValueRange{},
              [&](OpBuilder &bb, Location ll, ValueRange, ValueRange idx) {
                Value slot = arith::DivUIOp::create(
                    bb, ll, idx[1], indexConstant(bb, ll, chunk));
                return arith::CmpIOp::create(
                    bb, ll, arith::CmpIPredicate::ult, slot, rest);
              });
          Value values = gatherKept(kb, h, h.v, fullEnd);
          OnlineSoftmax next =
              update(kb, state, hiddenScores, values, /*masked=*/true);
          scf::YieldOp::create(nb, l,
                               ValueRange{next.max, next.sum, next.acc});
        },
        [&](OpBuilder &nb, Location l) {
          scf::YieldOp::create(nb, l,
                               ValueRange{state.max, state.sum, state.acc});
        });
    state = {partial.getResult(0), partial.getResult(1),
             partial.getResult(2)};
  }

  // A masked step over the Lq keys from `keyStart`: query i sees key j iff
  // j <= i and (same chunk, kept, or i - j < W), except keys of kept chunks
  // before c0, which step (a) counted. Where every key is in its queries'
  // chunk (`oneChunk`: the block's own keys, the block within a chunk) that
  // is j <= i alone, and no route bits are read: on a GPU that read went
  // through shared memory, and every block waited for it before its first
  // copy.
  auto masked = [&](TileBuilder &kb, Value keyStart, const OnlineSoftmax &st,
                    bool oneChunk) {
    // The route bit of each key's chunk, read once per key rather than per
    // score by the mask. Padding keys read the last chunk's bit: they are
    // never visible to a real query, it only keeps the read in bounds.
    SmallVector<Value> kept;
    if (!oneChunk)
      kept.push_back(kb.map(
          {lq}, ValueRange{}, ArrayRef<AffineMap>{},
          [&](OpBuilder &nb, Location l, ValueRange, ValueRange idx) {
            Value n = arith::MinUIOp::create(
                nb, l,
                arith::DivUIOp::create(
                    nb, l, arith::AddIOp::create(nb, l, keyStart, idx[0]),
                    indexConstant(nb, l, chunk)),
                indexConstant(nb, l, h.chunks - 1));
            return tensor::ExtractOp::create(
                nb, l, h.route, ValueRange{h.batch, n, h.routerHead});
          },
          kb.builder().getI1Type()));
    Value hidden = hide(
        kb, scores(kb, tokenTile(kb, h, h.k, keyStart, lq)), kept,
        [&](OpBuilder &bb, Location ll, ValueRange a, ValueRange idx) -> Value {
          auto cmp = [&](arith::CmpIPredicate p, Value x, Value y) -> Value {
            return arith::CmpIOp::create(bb, ll, p, x, y);
          };
          Value query = arith::AddIOp::create(bb, ll, t0, idx[0]);
          Value key = arith::AddIOp::create(bb, ll, keyStart, idx[1]);
          auto causal = [&] {
            return cmp(arith::CmpIPredicate::ule, key, query);
          };
          if (oneChunk)
            return causal();
          Value c = indexConstant(bb, ll, chunk);
          Value keyChunk = arith::DivUIOp::create(bb, ll, key, c);
          Value isKept = a[0];
          Value seen = arith::OrIOp::create(
              bb, ll,
              cmp(arith::CmpIPredicate::eq, keyChunk,
                  arith::DivUIOp::create(bb, ll, query, c)),
              isKept);
          if (window > 1)
            seen = arith::OrIOp::create(
                bb, ll, seen,
                cmp(arith::CmpIPredicate::ult,
                    arith::SubIOp::create(bb, ll, query, key),
                    indexConstant(bb, ll, window)));
          Value counted = arith::AndIOp::create(
              bb, ll, isKept,
              cmp(arith::CmpIPredicate::ult, keyChunk, firstChunk));
          Value fresh = arith::XOrIOp::create(
              bb, ll, counted, arith::ConstantIntOp::create(bb, ll, 1, 1));
          return arith::AndIOp::create(
              bb, ll, causal(), arith::AndIOp::create(bb, ll, seen, fresh));
        });
    return update(kb, st, hidden, tokenTile(kb, h, h.v, keyStart, lq),
                  /*masked=*/true);
  };

  // b. The band [lo, t0), lo = min(own chunk start, t0 - W + 1), in key
  //    blocks aligned to Lq. It is empty unless a window reaches back or a
  //    block can start inside a chunk.
  if (window > 1 || lq % chunk != 0) {
    Value lo = arith::MulIOp::create(b, loc, firstChunk, tb.index(chunk));
    if (window > 1)
      lo = arith::MinUIOp::create(
          b, loc, lo,
          arith::SubIOp::create(
              b, loc, arith::MaxUIOp::create(b, loc, t0, tb.index(window - 1)),
              tb.index(window - 1)));
    Value from = arith::MulIOp::create(
        b, loc, arith::DivUIOp::create(b, loc, lo, tb.index(lq)),
        tb.index(lq));
    state = loop(tb, from, t0, lq, state,
                 [&](TileBuilder &kb, Value keyStart, const OnlineSoftmax &st) {
                   return masked(kb, keyStart, st, /*oneChunk=*/false);
                 });
  }

  // c. The block's own keys: in one chunk where Lq divides it.
  state = masked(tb, t0, state, /*oneChunk=*/chunk % lq == 0);

  // Every query sees itself, so the row sums are positive. One division a
  // row, then a product an element: a division is a routine of its own on
  // a GPU.
  Value inverse =
      tb.map(ValueRange{state.sum},
             [](OpBuilder &nb, Location l, ValueRange a, ValueRange) {
               return arith::DivFOp::create(
                   nb, l,
                   arith::ConstantOp::create(nb, l, nb.getF32FloatAttr(1.0)),
                   a[0]);
             });
  MLIRContext *ctx = b.getContext();
  AffineExpr i, j;
  bindDims(ctx, i, j);
  return tb.map({lq, valueDim}, ValueRange{state.acc, inverse},
                ArrayRef<AffineMap>{AffineMap::get(2, 0, {i, j}, ctx),
                                    AffineMap::get(2, 0, {i}, ctx)},
                [&](OpBuilder &nb, Location l, ValueRange a, ValueRange) {
                  return TileBuilder::fromF32(
                      nb, l, arith::MulFOp::create(nb, l, a[0], a[1]),
                      elementType);
                },
                elementType);
}

/// The kept chunks of every (batch, router head) of `route` (B×N×R):
/// slots (B×R×N), the number of kept chunks before each chunk, and the list
/// (B×R×`length`) of kept chunks by slot. One forall iteration per (batch,
/// router head), a kernel of its own on a GPU.
std::pair<Value, Value> keptChunkLists(TileBuilder &tb, Value route,
                                       int64_t length) {
  OpBuilder &b = tb.builder();
  Location loc = tb.location();
  auto routeType = cast<RankedTensorType>(route.getType());
  int64_t batch = routeType.getDimSize(0), chunks = routeType.getDimSize(1),
          routers = routeType.getDimSize(2);
  Type indexType = b.getIndexType();
  auto forall = scf::ForallOp::create(
      b, NameLoc::get(b.getStringAttr("routed_softmax_lists"), loc),
      ArrayRef<OpFoldResult>{b.getIndexAttr(batch), b.getIndexAttr(routers)},
      ValueRange{tensor::EmptyOp::create(
                     b, loc, ArrayRef<int64_t>{batch, routers, chunks},
                     indexType),
                 tensor::EmptyOp::create(
                     b, loc, ArrayRef<int64_t>{batch, routers, length},
                     indexType)},
      std::nullopt);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(forall.getBody());
  Value batchIv = forall.getInductionVar(0), r = forall.getInductionVar(1);
  Value bits = tb.map(
      {chunks}, ValueRange{}, ArrayRef<AffineMap>{},
      [&](OpBuilder &nb, Location l, ValueRange, ValueRange idx) {
        Value kept = tensor::ExtractOp::create(nb, l, route,
                                               ValueRange{batchIv, idx[0], r});
        return arith::IndexCastUIOp::create(nb, l, nb.getIndexType(), kept);
      },
      indexType);
  Value counts = inclusiveSum(tb, bits);
  Value slots = tb.map(
      ValueRange{counts, bits},
      [](OpBuilder &nb, Location l, ValueRange a, ValueRange) {
        return arith::SubIOp::create(nb, l, a[0], a[1]);
      },
      indexType);
  Value list = keptList(tb, counts, length);
  b.setInsertionPointToStart(forall.getTerminator().getBody());
  OpFoldResult one = b.getIndexAttr(1);
  Value results[] = {slots, list};
  for (auto [result, out] : llvm::zip(results, forall.getRegionIterArgs())) {
    int64_t size = cast<RankedTensorType>(result.getType()).getDimSize(0);
    tensor::ParallelInsertSliceOp::create(
        b, loc, result, out,
        ArrayRef<OpFoldResult>{batchIv, r, b.getIndexAttr(0)},
        ArrayRef<OpFoldResult>{one, one, b.getIndexAttr(size)},
        SmallVector<OpFoldResult>(3, one));
  }
  return {forall.getResult(0), forall.getResult(1)};
}

struct CompactRoutedSoftmax : OpRewritePattern<RoutedSoftmaxOp> {
  CompactRoutedSoftmax(MLIRContext *ctx, int64_t blockSize,
                       PatternBenefit benefit)
      : OpRewritePattern(ctx, benefit), blockSize(blockSize) {}

  LogicalResult matchAndRewrite(RoutedSoftmaxOp op,
                                PatternRewriter &rewriter) const override {
    // Every type, the result's included: the verifier lets a dynamic dim
    // stand beside a static one, and blocks and padding need static sizes.
    auto isStatic = [](Type type) {
      return cast<RankedTensorType>(type).hasStaticShape();
    };
    if (!llvm::all_of(op->getOperandTypes(), isStatic) ||
        !isStatic(op.getType()))
      return rewriter.notifyMatchFailure(op, "needs static shapes");
    if (blockSize < 1)
      return rewriter.notifyMatchFailure(op, "block-size must be positive");

    auto qType = cast<RankedTensorType>(op.getQs().getType());
    auto vType = cast<RankedTensorType>(op.getVs().getType());
    auto routeType = cast<RankedTensorType>(op.getRoute().getType());
    Location loc = op.getLoc();
    int64_t batch = qType.getDimSize(0), tokens = qType.getDimSize(1),
            heads = qType.getDimSize(2), valueDim = vType.getDimSize(3);
    int64_t chunks = routeType.getDimSize(1);
    int64_t chunk = op.getChunkSize();
    Blocking blocks = Blocking::of(chunk, blockSize, tokens);
    Type elementType = qType.getElementType();
    TileBuilder tb(rewriter, loc);

    // Padded keys come after every real query: causality hides them.
    Head h;
    h.q = TileBuilder::padTokens(rewriter, loc, op.getQs(), blocks.padded);
    h.k = TileBuilder::padTokens(rewriter, loc, op.getKs(), blocks.padded);
    h.v = TileBuilder::padTokens(rewriter, loc, op.getVs(), blocks.padded);
    h.route = op.getRoute();
    h.chunk = chunk;
    h.chunks = chunks;
    h.window = op.getWindow();
    h.blocks = blocks;

    // 1. Compaction.
    std::tie(h.slots, h.list) =
        keptChunkLists(tb, h.route, roundUp(chunks, blocks.group));

    // 2. One iteration per (batch, softmax head, query block): the query
    //    blocks are independent (a GPU runs each as a thread block).
    int64_t lq = blocks.query;
    // Named for the GPU kernel it becomes (nats-map-foralls-to-gpu).
    auto forall = scf::ForallOp::create(
        rewriter, NameLoc::get(rewriter.getStringAttr("routed_softmax"), loc),
        ArrayRef<OpFoldResult>{rewriter.getIndexAttr(batch),
                               rewriter.getIndexAttr(heads),
                               rewriter.getIndexAttr(blocks.padded / lq)},
        ValueRange{tensor::EmptyOp::create(
            rewriter, loc,
            ArrayRef<int64_t>{batch, blocks.padded, heads, valueDim},
            elementType)},
        std::nullopt);
    OpBuilder::InsertionGuard guard(rewriter);
    rewriter.setInsertionPointToStart(forall.getBody());
    h.batch = forall.getInductionVar(0);
    h.head = forall.getInductionVar(1);
    h.routerHead = arith::DivUIOp::create(
        rewriter, loc, h.head, tb.index(heads / routeType.getDimSize(2)));

    Value t0 = arith::MulIOp::create(rewriter, loc, forall.getInductionVar(2),
                                     tb.index(lq));
    Value rows =
        queryBlock(tb, h, t0, op.getScale().convertToDouble(), elementType);
    rewriter.setInsertionPointToStart(forall.getTerminator().getBody());
    OpFoldResult zero = rewriter.getIndexAttr(0), one = rewriter.getIndexAttr(1);
    tensor::ParallelInsertSliceOp::create(
        rewriter, loc, rows, forall.getRegionIterArgs()[0],
        ArrayRef<OpFoldResult>{h.batch, t0, h.head, zero},
        ArrayRef<OpFoldResult>{one, rewriter.getIndexAttr(lq), one,
                               rewriter.getIndexAttr(valueDim)},
        SmallVector<OpFoldResult>(4, one));

    // The padding's rows go.
    rewriter.setInsertionPointAfter(forall);
    Value result = tensor::ExtractSliceOp::create(
        rewriter, loc, vType, forall.getResult(0),
        SmallVector<OpFoldResult>(4, zero),
        ArrayRef<OpFoldResult>{rewriter.getIndexAttr(batch),
                               rewriter.getIndexAttr(tokens),
                               rewriter.getIndexAttr(heads),
                               rewriter.getIndexAttr(valueDim)},
        SmallVector<OpFoldResult>(4, one));
    rewriter.replaceOp(op, result);
    return success();
  }

private:
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
