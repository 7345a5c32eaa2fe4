//===- WarpRows.cpp - online-softmax loops on warp-owned rows -------------===//
//
// The routed softmax's loop over kept chunks carries, for each query row of
// a block, its running maximum m, its sum l and its output row O; a step
// computes S = Q·Kᵀ for one key tile, folds S into m and l and adds P·V to
// O. Distributed op by op (nats-gpu-distribute), every tensor of a step
// goes through shared memory between phases separated by block barriers:
// at head dim 64 about 416 KB of shared-memory traffic a block a step
// (docs/benchmarks.md). This pass lowers such a loop as a whole, the way
// FlashAttention-2 schedules it:
//  - warp w owns rows 16w .. 16w + 15 of the block, and its lanes hold in
//    registers their elements of every tensor of the step: of an R × N
//    tensor the m16n8 accumulator fragments of its rows (lane 4g + t:
//    rows g and g + 8, columns 8j + 2t and 8j + 2t + 1 of each n-tile j),
//    of an R-vector its rows g and g + 8; the loop carries those elements;
//  - a contraction A · B runs as m16n8k16 MMAs on 16-bit floats, f32
//    accumulation: A is either a 16-bit tile of memory widened to f32
//    outside the loop (Q: its fragments are loaded once, before the loop,
//    and a scalar factor of its widening is applied to the result instead)
//    or an R × K tensor of the step (P: an accumulator fragment pair of two
//    n-tiles is the A fragment of a 16-deep step, rounded to 16 bits); B is
//    a 16-bit tile of memory widened in the step (K, V): the block copies
//    it into shared memory with cp.async at the start of the step, rows
//    padded by 16 bytes, and lanes read it with ldmatrix, transposed where
//    its rows are the reduction (V in P·V);
//  - a row reduction folds the lane's elements of each row, then the four
//    lanes of the row (shuffles); an elementwise op runs on each element
//    the lane holds, its linalg.index the element's row and column.
// No S or P in shared memory. A step's block barriers: one before the
// copies overwrite the tiles; then, without prefetch, one after each group
// a contraction waits for, each piece of a tile a cp.async group of its
// own, so that V's loads while S and its softmax compute (three with K and
// V of one piece each); with prefetch, one after the wait for all but the
// next step's group.
//
// What one warp forall computes is a region of its block: the first loop
// whose every op the lanes compute (scalar code, tensor.empty, fills of
// scalars, the slices and widenings of B tiles, contractions, row
// reductions, elementwise ops; iteration arguments f32 tensors of R or
// R × N elements, R a multiple of 16), then the ops after it that read what
// the region computed (the own chunk's masked step, the product by 1 / l,
// the rounding of the output) and the contractions the lanes compute, as long
// as the lanes compute them; ops between that read nothing of the region
// move before it (the route bits of a masked step's keys, where a block
// spans chunks). B tiles outside the loops are copied once, first. A
// product that one elementwise op only adds to a value of its own
// accumulates onto that value (O = α·O + P·V: one set of accumulators, not
// two), where no product after it is added there too.
// What the ops after the region read is stored to buffers that they read
// as tensors (bufferization.to_tensor). The block
// runs one warp per 16 rows (nats-map-foralls-to-gpu sizes it from the warp
// forall, which holds barriers). A block without loops (the gated delta
// rule's outputs, O = r ⊙ (q·S) + P·U from 16-bit terms) starts its region
// at its first contraction, where the lanes compute every contraction of
// the block; its tiles land in pieces of 64 rows (whole where the threads
// do not divide a piece), and a contraction whose tile's rows are its depth
// waits for a piece only at the first step that reads it (at head dim 256,
// S is 64 KB a block of 128 value columns: q·S starts on its first
// quarter); one that reads a tile's rows as n waits for all of them first.
// Other blocks are left to nats-gpu-distribute.
// Where a causal mask (key <= query, both from the block's first token:
// the own chunk's step) hides columns from all of a warp's rows, the warp
// does not compute them: pairs of S's n-tiles that only the mask reads,
// and depth steps of P·V where P is 0 wherever the mask hid the score,
// each behind a warp-uniform branch (the own step's MMAs: 5/8 of them, on
// average over the warps of a 64-row block).
//
//===----------------------------------------------------------------------===//

#include "nats/GPU/Transforms/Alignment.h"
#include "nats/GPU/Transforms/LaneCode.h"
#include "nats/GPU/Transforms/Mapping.h"
#include "nats/GPU/Transforms/MmaTile.h"
#include "nats/GPU/Transforms/Passes.h"
#include "nats/GPU/Transforms/WarpReduction.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/IR/PatternMatch.h"

#include "llvm/ADT/MapVector.h"

namespace mlir::nats {
#define GEN_PASS_DEF_NATSGPUWARPROWSPASS
#include "nats/GPU/Transforms/Passes.h.inc"
} // namespace mlir::nats

using namespace mlir;
using namespace mlir::nats;

namespace {

/// One warp's share of the block's rows: an MMA tile's (kMmaM, 16). A
/// lane holds two columns of each n-tile (kMmaN, 8) of a row.
constexpr int64_t kWarpRows = kMmaM;
/// The depth of one m16n8k16 MMA step.
constexpr int64_t kStepK = 16;

/// The threads of a block of `rows` rows: one warp per kWarpRows.
constexpr int64_t getRowThreads(int64_t rows) {
  return rows / kWarpRows * kWarpSize;
}
/// The elements of one 16-byte cp.async of a 16-bit tile, and the padding
/// of its rows in shared memory: rows of a multiple of 128 bytes would all
/// start in one bank, and ldmatrix reads eight rows at once.
constexpr int64_t kChunk = 8;
/// The rows of a B tile copied as one group (in a block without loops, or
/// in a loop's step): a contraction reading the tile's rows as its depth
/// starts on the first piece while the others land.
constexpr int64_t kPieceRows = 64;

/// A 16-bit float tile of memory widened to f32 by an elementwise generic:
/// `ins(slice) { extf, optionally mulf by a scalar }`.
struct Widened {
  tensor::ExtractSliceOp slice;
  Value scale; // null: none
};

/// `value` as such a widened tile: a 2-D slice with unit strides whose
/// columns are contiguous in its source (its last dimension), of bf16 or
/// f16, rows and columns multiples of 16 and 8, its rows 16-byte aligned
/// (the source's last dimension and the slice's offset in it, provably,
/// multiples of 8: cp.async copies 16 bytes, Q's fragments load pairs).
std::optional<Widened> matchWidened(Value value) {
  auto generic = value.getDefiningOp<linalg::GenericOp>();
  if (!generic || generic.getNumDpsInputs() != 1 ||
      generic.getNumDpsInits() != 1 ||
      generic.getNumParallelLoops() != generic.getNumLoops() ||
      !llvm::all_of(generic.getIndexingMapsArray(),
                    [](AffineMap map) { return map.isIdentity(); }))
    return std::nullopt;
  auto slice =
      generic.getDpsInputs()[0].getDefiningOp<tensor::ExtractSliceOp>();
  if (!slice || !slice.hasUnitStride() || slice.getType().getRank() != 2 ||
      slice.getDroppedDims().test(slice.getSourceType().getRank() - 1))
    return std::nullopt;
  Type element = slice.getType().getElementType();
  ArrayRef<int64_t> shape = slice.getType().getShape();
  int64_t sourceRow = slice.getSourceType().getShape().back();
  if ((!element.isBF16() && !element.isF16()) ||
      ShapedType::isDynamicShape(shape) || shape[0] % kStepK ||
      shape[1] % kChunk || ShapedType::isDynamic(sourceRow) ||
      sourceRow % kChunk ||
      !isMultipleOf(slice.getMixedOffsets().back(), kChunk))
    return std::nullopt;
  Block *body = generic.getBody();
  Value yielded = body->getTerminator()->getOperand(0);
  auto extf = dyn_cast<arith::ExtFOp>(&body->front());
  if (!extf || extf.getIn() != body->getArgument(0) ||
      !extf.getType().isF32())
    return std::nullopt;
  if (yielded == extf.getResult() && body->getOperations().size() == 2)
    return Widened{slice, Value()};
  auto mul = dyn_cast<arith::MulFOp>(extf->getNextNode());
  if (!mul || yielded != mul.getResult() ||
      body->getOperations().size() != 3)
    return std::nullopt;
  Value scale = mul.getLhs() == extf.getResult() ? mul.getRhs() : mul.getLhs();
  if (scale == extf.getResult() ||
      generic->isAncestor(scale.getParentRegion()->getParentOp()))
    return std::nullopt;
  return Widened{slice, scale};
}

/// The scalar a tensor is filled with, or null.
Value getSplat(Value tensor) {
  auto fill = tensor.getDefiningOp<linalg::FillOp>();
  return fill ? fill.getDpsInputs()[0] : Value();
}

/// How a contraction of the step reads its operands.
struct Contraction {
  linalg::GenericOp op;
  MmaLoops loops;
  bool transposedB; // B's rows are the reduction (V in P·V)
};

/// `op` as a contraction R × N += (R × K) · B with A's map (m, k), B's
/// (n, k) or (k, n), C's (m, n); N and K multiples of 16.
std::optional<Contraction> matchContraction(linalg::GenericOp op) {
  std::optional<MmaLoops> loops = getMmaLoops(op);
  if (!loops)
    return std::nullopt;
  MLIRContext *ctx = op.getContext();
  auto map = [&](unsigned x, unsigned y) {
    return AffineMap::get(op.getNumLoops(), 0,
                          {getAffineDimExpr(x, ctx), getAffineDimExpr(y, ctx)},
                          ctx);
  };
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  SmallVector<int64_t> sizes = op.getStaticLoopRanges();
  if (maps[0] != map(loops->m, loops->k) ||
      maps[2] != map(loops->m, loops->n) || sizes[loops->n] % kStepK ||
      sizes[loops->k] % kStepK)
    return std::nullopt;
  if (maps[1] == map(loops->n, loops->k))
    return Contraction{op, *loops, false};
  if (maps[1] == map(loops->k, loops->n))
    return Contraction{op, *loops, true};
  return std::nullopt;
}

/// Whether the index `value` is provably non-negative as a signed number:
/// a constant, an induction variable from a non-negative constant bound,
/// or sums, products and quotients of such (positions, which do not wrap).
bool isNonNegative(Value value, int depth = 0) {
  if (std::optional<int64_t> constant = getConstantIntValue(value))
    return *constant >= 0;
  if (depth > 4)
    return false;
  auto nonNegative = [&](OpFoldResult bound) {
    std::optional<int64_t> constant = getConstantIntValue(bound);
    return constant && *constant >= 0;
  };
  if (auto forOp = scf::getForInductionVarOwner(value))
    return nonNegative(forOp.getLowerBound());
  if (auto forall = scf::getForallOpThreadIndexOwner(value))
    return llvm::all_of(forall.getMixedLowerBound(), nonNegative);
  Operation *op = value.getDefiningOp();
  if (!isa_and_nonnull<arith::AddIOp, arith::MulIOp, arith::DivUIOp,
                       arith::MinUIOp, arith::MaxUIOp>(op))
    return false;
  return llvm::all_of(op->getOperands(), [&](Value operand) {
    return isNonNegative(operand, depth + 1);
  });
}

/// Whether `value` is `generic`'s `linalg.index dim`, plus `offset` (null:
/// none), a non-negative value from outside its body: an offset that
/// cannot wrap, so that comparing two indices offset alike compares the
/// indices.
bool isIndexPlus(linalg::GenericOp generic, Value value, unsigned dim,
                 Value &offset) {
  auto isIndex = [&](Value v) {
    auto index = v.getDefiningOp<linalg::IndexOp>();
    return index && index.getDim() == dim &&
           index->getParentOp() == generic.getOperation();
  };
  offset = Value();
  if (isIndex(value))
    return true;
  auto add = value.getDefiningOp<arith::AddIOp>();
  if (!add)
    return false;
  for (auto [x, y] : {std::pair(add.getLhs(), add.getRhs()),
                      std::pair(add.getRhs(), add.getLhs())})
    if (isIndex(x) &&
        !generic.getBody()->getParent()->isAncestor(y.getParentRegion()) &&
        isNonNegative(y)) {
      offset = y;
      return true;
    }
  return false;
}

/// The select that `generic` yields where it is an elementwise op over
/// (rows, columns) writing its one result at each (row, column), or null:
/// the form of a causal mask and of what reads one.
arith::SelectOp getYieldedSelect(linalg::GenericOp generic) {
  if (!generic || generic.getNumReductionLoops() != 0 ||
      generic.getNumLoops() != 2 || generic.getNumResults() != 1 ||
      !generic.getIndexingMapMatchingResult(generic->getOpResult(0))
           .isIdentity())
    return {};
  return generic.getBody()->getTerminator()->getOperand(0)
      .getDefiningOp<arith::SelectOp>();
}

/// An elementwise generic over (rows, columns) that yields select(visible,
/// x, hidden), `hidden` a constant (not NaN) and `visible` a conjunction
/// with column <= row (< where `strict`), both indices offset alike (the
/// own chunk's keys and queries): column j of row i is `hidden` for j > i
/// (j >= i).
struct CausalMask {
  arith::SelectOp select;
  bool strict;
  FloatAttr hidden;
};

std::optional<CausalMask> matchCausalMask(linalg::GenericOp mask) {
  arith::SelectOp select = getYieldedSelect(mask);
  FloatAttr hidden;
  if (!select || !matchPattern(select.getFalseValue(), m_Constant(&hidden)) ||
      hidden.getValue().isNaN())
    return std::nullopt;
  // The terms of the conjunction, for one `column <= row` or `<`.
  SmallVector<Value> terms = {select.getCondition()};
  while (!terms.empty()) {
    Value term = terms.pop_back_val();
    if (auto both = term.getDefiningOp<arith::AndIOp>()) {
      terms.append({both.getLhs(), both.getRhs()});
      continue;
    }
    auto cmp = term.getDefiningOp<arith::CmpIOp>();
    if (!cmp)
      continue;
    using P = arith::CmpIPredicate;
    P pred = cmp.getPredicate();
    Value column = cmp.getLhs(), row = cmp.getRhs();
    if (pred == P::uge || pred == P::ugt || pred == P::sge || pred == P::sgt)
      std::swap(column, row);
    else if (pred != P::ule && pred != P::ult && pred != P::sle &&
             pred != P::slt)
      continue;
    Value columnOffset, rowOffset;
    if (isIndexPlus(mask, column, 1, columnOffset) &&
        isIndexPlus(mask, row, 0, rowOffset) && columnOffset == rowOffset)
      return CausalMask{select,
                        pred == P::ult || pred == P::ugt || pred == P::slt ||
                            pred == P::sgt,
                        hidden};
  }
  return std::nullopt;
}

/// Whether `c`'s product is read only through a causal mask (its one
/// user, selecting the product where visible), and the mask's strictness:
/// the columns it hides need not be computed.
std::optional<bool> getMaskedColumns(Contraction c) {
  Value product = c.op.getResult(0);
  if (!product.hasOneUse())
    return std::nullopt;
  OpOperand &use = *product.getUses().begin();
  auto mask = dyn_cast<linalg::GenericOp>(use.getOwner());
  std::optional<CausalMask> causal = matchCausalMask(mask);
  if (!causal || !mask.getMatchingIndexingMap(&use).isIdentity() ||
      causal->select.getTrueValue() != mask.getMatchingBlockArgument(&use))
    return std::nullopt;
  return causal->strict;
}

/// Whether `tensor` is 0 wherever a causal mask hides a column, and the
/// mask's strictness: an elementwise generic yields select(x == hidden, 0,
/// y), x at each element of a causal mask's result hiding `hidden` (P of a
/// masked online-softmax step: 0 where the score is -inf). Terms of a
/// product over such columns vanish (but for 0 · inf or 0 · NaN in the
/// other factor, which are not computed then).
std::optional<bool> getZeroColumns(Value tensor) {
  auto generic = tensor.getDefiningOp<linalg::GenericOp>();
  arith::SelectOp select = getYieldedSelect(generic);
  if (!select || !matchPattern(select.getTrueValue(), m_AnyZeroFloat()))
    return std::nullopt;
  auto cmp = select.getCondition().getDefiningOp<arith::CmpFOp>();
  if (!cmp || cmp.getPredicate() != arith::CmpFPredicate::OEQ)
    return std::nullopt;
  for (auto [x, constant] : {std::pair(cmp.getLhs(), cmp.getRhs()),
                             std::pair(cmp.getRhs(), cmp.getLhs())}) {
    auto arg = dyn_cast<BlockArgument>(x);
    FloatAttr value;
    if (!arg || arg.getOwner() != generic.getBody() ||
        arg.getArgNumber() >= generic.getNumDpsInputs() ||
        !matchPattern(constant, m_Constant(&value)))
      continue;
    OpOperand *input = generic.getDpsInputOperand(arg.getArgNumber());
    std::optional<CausalMask> causal =
        matchCausalMask(input->get().getDefiningOp<linalg::GenericOp>());
    if (causal && causal->hidden == value &&
        generic.getMatchingIndexingMap(input).isIdentity())
      return causal->strict;
  }
  return std::nullopt;
}

/// The rows R of a tensor that the lanes can hold (R or R × N elements, N
/// a multiple of 8; f32 unless `anyElement`), or nothing.
std::optional<int64_t> getLaneRows(Type type, bool anyElement = false) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor || !tensor.getElementType().isIntOrFloat() ||
      (!anyElement && !tensor.getElementType().isF32()) ||
      !tensor.hasStaticShape() || tensor.getRank() < 1 ||
      tensor.getRank() > 2 || tensor.getDimSize(0) % kWarpRows ||
      (tensor.getRank() == 2 && tensor.getDimSize(1) % kMmaN))
    return std::nullopt;
  return tensor.getDimSize(0);
}

/// Whether `generic` is an elementwise op (all loops parallel) or a
/// reduction of rows (loops (row, column), the column reduced, one init
/// indexed by row) that lanes compute on their elements: its inputs are
/// read with projected permutations, those that `inStep` (the lanes hold
/// them) at the element itself or at its row, its output has R rows, and
/// only a reduction reads its init.
bool isLaneComputable(linalg::GenericOp generic, int64_t rows,
                      function_ref<bool(Value)> inStep) {
  bool reduces = generic.getNumReductionLoops() != 0;
  if (generic.getNumDpsInits() != 1 ||
      getLaneRows(generic.getDpsInits()[0].getType(), !reduces) != rows ||
      !llvm::all_of(generic.getIndexingMapsArray(),
                    [](AffineMap map) { return map.isProjectedPermutation(); }))
    return false;
  for (OpOperand *input : generic.getDpsInputOperands()) {
    if (!inStep(input->get()) || getSplat(input->get()))
      continue;
    AffineMap map = generic.getMatchingIndexingMap(input);
    bool atElement = map.isIdentity() && map.getNumDims() <= 2;
    bool atRow = map.getNumResults() == 1 && map.getDimPosition(0) == 0;
    if (!getLaneRows(input->get().getType(), true) || (!atElement && !atRow))
      return false;
  }
  OpOperand *init = generic.getDpsInitOperand(0);
  bool readsInit = !generic.getMatchingBlockArgument(init).use_empty();
  if (!reduces)
    return !readsInit &&
           generic.getMatchingIndexingMap(init).isIdentity();
  // A row's four lanes hold two of each n-tile's columns.
  std::optional<WarpReduction> reduction = getWarpReduction(generic, kMmaN);
  return reduction && reduction->loop == 1 && generic.getNumLoops() == 2 &&
         generic.getMatchingIndexingMap(init) ==
             AffineMap::get(2, 0, getAffineDimExpr(0, generic.getContext()));
}

/// Whether `op` is inside a loop of its thread block (a step of a loop the
/// pass lowers) rather than in the block's straight-line code.
bool isInBlockLoop(Operation *op) {
  for (Operation *parent = op->getParentOp();
       parent && !isa<scf::ForallOp>(parent); parent = parent->getParentOp())
    if (isa<scf::ForOp>(parent))
      return true;
  return false;
}

/// Whether `tile`, a widened B tile, can be staged: its source is read from
/// outside the block's loops and the region (`held`), the block's threads
/// copy it in 16-byte chunks, each thread as many, and only contractions
/// read it, as B.
bool isStagedTile(Value tile, Widened widened, int64_t rows,
                  function_ref<bool(Value)> held) {
  Value source = widened.slice.getSource();
  Operation *def = source.getDefiningOp();
  ArrayRef<int64_t> shape = widened.slice.getType().getShape();
  return !widened.scale && !held(source) && (!def || !isInBlockLoop(def)) &&
         (shape[0] * shape[1] / kChunk) % getRowThreads(rows) == 0 &&
         llvm::all_of(tile.getUses(), [](OpOperand &use) {
           auto user = dyn_cast<linalg::GenericOp>(use.getOwner());
           return user && matchContraction(user) &&
                  use.getOperandNumber() == 1;
         });
}

/// Whether the lanes compute `op`, in a loop of a region or in the region
/// after a loop; `held` says which tensors the lanes hold (the step's and
/// the region's). Scalar code, tensor.empty, fills of scalars, the slices
/// and widenings of B tiles (read by contractions only), contractions (B a
/// widened 16-bit tile, A held or widened outside the region; a widening's
/// factor only on a product that starts at zero) and lane-computable
/// generics.
bool isLaneOp(Operation &op, int64_t rows, function_ref<bool(Value)> held) {
  if (isa<tensor::EmptyOp>(op))
    return true;
  if (llvm::none_of(op.getResultTypes(), llvm::IsaPred<TensorType>)) {
    // Scalar code: pure ops, reads of tensors the lanes do not hold.
    return op.getNumRegions() == 0 &&
           (isa<tensor::ExtractOp>(op) || isPure(&op)) &&
           llvm::none_of(op.getOperands(), [&](Value operand) {
             return isa<TensorType>(operand.getType()) && held(operand);
           });
  }
  if (auto slice = dyn_cast<tensor::ExtractSliceOp>(op))
    return llvm::all_of(slice->getUsers(), [](Operation *user) {
      std::optional<Widened> widened =
          user->getNumResults() == 1 ? matchWidened(user->getResult(0))
                                     : std::nullopt;
      return widened && !widened->scale;
    });
  if (auto fill = dyn_cast<linalg::FillOp>(op))
    return fill.getNumDpsInputs() == 1 &&
           !isa<TensorType>(fill.getDpsInputs()[0].getType());
  auto generic = dyn_cast<linalg::GenericOp>(op);
  if (!generic)
    return false;
  if (std::optional<Widened> widened = matchWidened(generic.getResult(0)))
    return isStagedTile(generic.getResult(0), *widened, rows, held);
  if (std::optional<Contraction> contraction = matchContraction(generic)) {
    if (generic.getStaticLoopRanges()[contraction->loops.m] != rows)
      return false;
    Value a = generic.getDpsInputs()[0], b = generic.getDpsInputs()[1];
    std::optional<Widened> bTile = matchWidened(b);
    if (!bTile || !isStagedTile(b, *bTile, rows, held))
      return false;
    std::optional<Widened> aTile = matchWidened(a);
    if (!aTile) // P: what the lanes computed (not an empty or a slice)
      return held(a) && !a.getDefiningOp<tensor::EmptyOp>() &&
             !a.getDefiningOp<tensor::ExtractSliceOp>();
    // Q: widened outside the region's loops (loaded once) from a source
    // read there; its factor applies to the result, which must then start
    // at zero.
    Value init = getSplat(generic.getDpsInits()[0]);
    Operation *source = aTile->slice.getSource().getDefiningOp();
    return !isInBlockLoop(a.getDefiningOp()) &&
           !held(aTile->slice.getSource()) &&
           (!source || !isInBlockLoop(source)) &&
           aTile->slice.getType().getElementType() ==
               bTile->slice.getType().getElementType() &&
           (!aTile->scale || (init && matchPattern(init, m_AnyZeroFloat())));
  }
  return isLaneComputable(generic, rows, held);
}

/// Whether `loop` is a loop of lane ops (at least one contraction) carrying
/// f32 tensors of R or R × N elements; R in `rows`. `held` says which
/// tensors from outside the loop the lanes hold (the region's so far).
bool isWarpRowsLoop(scf::ForOp loop, int64_t &rows,
                    function_ref<bool(Value)> held) {
  if (!isInBlockOutsideThreads(loop) || loop.getNumRegionIterArgs() == 0 ||
      !loop.getInductionVar().getType().isIndex())
    return false;
  rows = 0;
  for (Value init : loop.getInitArgs()) {
    std::optional<int64_t> r = getLaneRows(init.getType());
    if (!r || (rows && *r != rows))
      return false;
    rows = *r;
  }
  if (getRowThreads(rows) > 1024)
    return false;
  auto heldInLoop = [&](Value value) {
    return loop->isAncestor(value.getParentRegion()->getParentOp()) ||
           held(value);
  };
  bool sawContraction = false;
  for (Operation &op : loop.getBody()->without_terminator()) {
    if (!isLaneOp(op, rows, heldInLoop))
      return false;
    auto generic = dyn_cast<linalg::GenericOp>(op);
    sawContraction |= generic && matchContraction(generic).has_value();
  }
  return sawContraction;
}

/// The ops of a block that one warp forall computes: a loop this pass
/// lowers (or, in a block without loops, its first contraction) and the
/// ops after it that use what the region computed, as long as the lanes
/// compute them; the ops between that do not use it move before the region
/// (they are pure).
struct LaneRegion {
  SmallVector<Operation *> ops, hoisted;
  int64_t rows = 0;
};

/// The rows of a block without loops whose every contraction the lanes
/// compute from operands of memory (16-bit tiles widened), all of the same
/// rows, or nothing: such a block's region starts at its first contraction.
/// (Were one of them left out, it would run op by op on the region's warps
/// alone.)
std::optional<int64_t> getLoopFreeRows(Block *block) {
  if (llvm::any_of(*block, llvm::IsaPred<scf::ForOp>))
    return std::nullopt;
  std::optional<int64_t> rows;
  auto none = [](Value) { return false; };
  for (auto generic : block->getOps<linalg::GenericOp>()) {
    if (!getMmaLoops(generic))
      continue;
    std::optional<Contraction> contraction = matchContraction(generic);
    if (!contraction)
      return std::nullopt;
    int64_t m = generic.getStaticLoopRanges()[contraction->loops.m];
    if ((rows && *rows != m) || m % kWarpRows ||
        getRowThreads(m) > 1024 || !isLaneOp(*generic, m, none))
      return std::nullopt;
    rows = m;
  }
  return rows;
}

std::optional<LaneRegion> findLaneRegion(Block *block) {
  LaneRegion region;
  DenseSet<Value> values;
  auto held = [&](Value value) { return values.contains(value); };
  auto add = [&](Operation *op) {
    region.ops.push_back(op);
    values.insert(op->result_begin(), op->result_end());
  };
  std::optional<int64_t> loopFreeRows = getLoopFreeRows(block);
  for (Operation &op : block->without_terminator()) {
    auto loop = dyn_cast<scf::ForOp>(op);
    int64_t rows;
    if (region.ops.empty()) {
      if (loop && isWarpRowsLoop(loop, rows, held)) {
        region.rows = rows;
        add(loop);
      }
      auto generic = dyn_cast<linalg::GenericOp>(op);
      if (loopFreeRows && generic && matchContraction(generic)) {
        region.rows = *loopFreeRows;
        add(&op);
      }
      continue;
    }
    bool usesRegion = op.walk([&](Operation *nested) {
                          return llvm::any_of(nested->getOperands(), held)
                                     ? WalkResult::interrupt()
                                     : WalkResult::advance();
                        }).wasInterrupted();
    bool lanes = loop ? isWarpRowsLoop(loop, rows, held) && rows == region.rows
                      : isLaneOp(op, region.rows, held);
    // A contraction the lanes compute joins even if it does not read the
    // region's tensors (the own chunk's S = Q·Kᵀ): what follows it does.
    auto generic = dyn_cast<linalg::GenericOp>(op);
    if (!usesRegion && !(lanes && generic && matchContraction(generic))) {
      if (!isMemoryEffectFree(&op))
        break;
      region.hoisted.push_back(&op);
      continue;
    }
    if (!lanes)
      break;
    add(&op);
  }
  if (region.ops.empty())
    return std::nullopt;
  return region;
}

/// Emits the lane code of one region and replaces it.
class WarpRowsLowering {
public:
  WarpRowsLowering(RewriterBase &rewriter, LaneRegion region, bool prefetch)
      : b(rewriter), region(std::move(region)),
        first(this->region.ops.front()), loc(first->getLoc()),
        warps(this->region.rows / kWarpRows), prefetch(prefetch) {}

  void run() {
    Block *block = first->getBlock();
    for (Operation *op : region.hoisted)
      op->moveBefore(first);
    b.setInsertionPoint(first);
    allocateBuffers();
    auto forall = scf::ForallOp::create(
        b, loc, ArrayRef<OpFoldResult>{b.getIndexAttr(warps)}, ValueRange{},
        b.getArrayAttr(linearMapping<gpu::GPUWarpMappingAttr>(
            b.getContext(), 1)),
        [&](OpBuilder &, Location, ValueRange ivs) {
          emitWarp(ivs[0]);
          scf::InParallelOp::create(b, loc);
        });
    b.setInsertionPointAfter(forall);
    for (auto [value, buffer] : llvm::zip(outputs, outputBuffers)) {
      Value tensor = bufferization::ToTensorOp::create(
          b, loc, value.getType(), buffer, /*restrict=*/true,
          /*writable=*/true);
      b.replaceAllUsesWith(value, tensor);
    }
    for (Operation *op : llvm::reverse(region.ops))
      b.eraseOp(op);
    // Whatever the block no longer uses (the tiles' widenings and slices,
    // the fills and empties the region read): nats-gpu-distribute would
    // give each a phase of its own.
    for (Operation &op : llvm::make_early_inc_range(llvm::reverse(*block)))
      if (isOpTriviallyDead(&op))
        b.eraseOp(&op);
  }

private:
  /// A tensor of the step as the lane holds it: of R × N, four elements an
  /// n-tile (j: (g, 8j + 2t), (g, 8j + 2t + 1), (g + 8, 8j + 2t),
  /// (g + 8, 8j + 2t + 1)); of R, rows g and g + 8.
  using Elements = SmallVector<Value>;

  /// A B tile staged in shared memory: its buffers (rows padded; a second
  /// where a loop's step copies the next step's tile while it computes on
  /// this one), the one this step reads, and the slice it copies.
  struct Staged {
    Value buffer, second, current;
    tensor::ExtractSliceOp slice;
    /// The tile's pieces, where it lands in pieces (a block without loops;
    /// a loop's step, while it is emitted): the row each ends at and its
    /// group's index in `groups`.
    SmallVector<std::pair<int64_t, size_t>> pieces;
  };

  Value index(int64_t value) {
    return arith::ConstantIndexOp::create(b, loc, value);
  }
  Value add(Value value, int64_t offset) {
    return offset ? arith::AddIOp::create(b, loc, value, index(offset))
                        .getResult()
                  : value;
  }

  /// The staged B tile that `op` widens, or null.
  Staged *stagedOf(Operation &op) {
    if (op.getNumResults() != 1)
      return nullptr;
    auto it = staged.find(op.getResult(0));
    return it == staged.end() ? nullptr : &it->second;
  }

  /// The contractions of the region, its loops' included.
  SmallVector<Contraction> contractions() {
    SmallVector<Contraction> found;
    for (Operation *op : region.ops)
      op->walk([&](linalg::GenericOp generic) {
        if (std::optional<Contraction> c = matchContraction(generic))
          found.push_back(*c);
      });
    return found;
  }

  /// The staging buffers of the B tiles (workgroup memory) and the
  /// buffers of what the region computes for the ops after it, in the block
  /// before the warps.
  void allocateBuffers() {
    auto workgroup = gpu::AddressSpaceAttr::get(b.getContext(),
                                                gpu::AddressSpace::Workgroup);
    for (Contraction c : contractions()) {
      Value tile = c.op.getDpsInputs()[1];
      if (staged.contains(tile))
        continue;
      RankedTensorType type = matchWidened(tile)->slice.getType();
      auto bufferType = MemRefType::get(
          {type.getDimSize(0), type.getDimSize(1) + kChunk},
          type.getElementType(), AffineMap(), workgroup);
      auto allocate = [&]() -> Value {
        return memref::AllocOp::create(b, loc, bufferType,
                                       b.getI64IntegerAttr(16));
      };
      Value buffer = allocate();
      bool inLoop = isInBlockLoop(tile.getDefiningOp());
      staged[tile] = {buffer, prefetch && inLoop ? allocate() : Value(),
                      buffer, matchWidened(tile)->slice};
    }
    DenseSet<Operation *> ops(region.ops.begin(), region.ops.end());
    for (Operation *op : region.ops)
      for (Value result : op->getResults()) {
        if (llvm::all_of(result.getUsers(), [&](Operation *user) {
              return ops.contains(user);
            }))
          continue;
        auto type = cast<RankedTensorType>(result.getType());
        outputs.push_back(result);
        // A matrix's rows padded by an n-tile's columns (16 bytes of bf16,
        // 32 of f32): a lane group stores 8 columns of each of its rows, so
        // rows a multiple of 128 bytes long would put them all in the same
        // banks (15M conflicts in the outputs at head dim 256, run 107;
        // padded, they took 0.781 -> 0.729 ms there, run 109); 16 bytes
        // would still overlap two rows' f32 pairs.
        SmallVector<int64_t> shape(type.getShape());
        Type element = type.getElementType();
        bool padded = shape.size() == 2 && element.isIntOrFloat() &&
                      element.getIntOrFloatBitWidth() % 8 == 0;
        if (padded)
          shape[1] += kMmaN;
        Value buffer =
            memref::AllocOp::create(b, loc, MemRefType::get(shape, element));
        if (padded)
          buffer = memref::SubViewOp::create(
              b, loc, buffer, SmallVector<OpFoldResult>(2, b.getIndexAttr(0)),
              getAsIndexOpFoldResult(b.getContext(), type.getShape()),
              SmallVector<OpFoldResult>(2, b.getIndexAttr(1)));
        outputBuffers.push_back(buffer);
      }
  }

  /// One warp's code: the lane's coordinates, the A fragments and B tiles
  /// from outside the loops, the region's ops, the outputs' stores.
  void emitWarp(Value warp) {
    Value lane = gpu::LaneIdOp::create(b, loc, /*upperBound=*/nullptr);
    thread = arith::AddIOp::create(
        b, loc, arith::MulIOp::create(b, loc, warp, index(kWarpSize)), lane);
    g = arith::DivUIOp::create(b, loc, lane, index(4));
    t = arith::RemUIOp::create(b, loc, lane, index(4));
    t2 = arith::MulIOp::create(b, loc, t, index(2));
    warpRow = arith::MulIOp::create(b, loc, warp, index(kWarpRows));
    lastRow = Value();
    Value r0 = arith::AddIOp::create(b, loc, warpRow, g);
    rowIndex = {r0, add(r0, 8)};
    quarter = arith::DivUIOp::create(b, loc, lane, index(8));
    laneRow = arith::RemUIOp::create(b, loc, lane, index(8));

    loadOutsideFragments();
    // The B tiles outside the loops (the own chunk's K and V) are copied
    // once, first; the loops' waits or the one before the ops after them
    // see them. Without loops (the gated delta rule's outputs), each tile
    // is copied in pieces, a group each, which the contractions wait for
    // as they reach them.
    SmallVector<Value> tokens;
    if (llvm::none_of(region.ops, llvm::IsaPred<scf::ForOp>))
      for (auto &[tile, stagedTile] : staged)
        copyInPieces(stagedTile);
    else
      for (auto &[tile, stagedTile] : staged)
        if (!isInBlockLoop(tile.getDefiningOp()))
          copyTile(stagedTile, stagedTile.buffer, scalars, tokens);
    bool pending = !tokens.empty();
    if (pending)
      nvgpu::DeviceAsyncCreateGroupOp::create(
          b, loc, nvgpu::DeviceAsyncTokenType::get(b.getContext()), tokens);
    for (Operation *op : region.ops) {
      if (auto loop = dyn_cast<scf::ForOp>(op)) {
        emitLoop(loop);
        continue;
      }
      if (pending) {
        waitForCopies({}, /*pending=*/0);
        pending = false;
      }
      emitTensorOp(*op);
    }
    for (auto [value, buffer] : llvm::zip(outputs, outputBuffers))
      store(buffer, elementsOf(value));
  }

  /// Copies `tile` in pieces of kPieceRows rows (where the block's
  /// threads divide a piece's 16-byte chunks; else whole), each committed
  /// as a group.
  void copyInPieces(Staged &tile) {
    ArrayRef<int64_t> shape = tile.slice.getType().getShape();
    int64_t rows = shape[0];
    int64_t pieceRows =
        rows % kPieceRows == 0 &&
                kPieceRows * (shape[1] / kChunk) % (warps * kWarpSize) == 0
            ? kPieceRows
            : rows;
    for (int64_t begin = 0; begin < rows; begin += pieceRows) {
      SmallVector<Value> tokens;
      copyTile(tile, tile.buffer, scalars, tokens,
               std::make_pair(begin, begin + pieceRows));
      tile.pieces.push_back({begin + pieceRows, groups.size()});
      groups.push_back(nvgpu::DeviceAsyncCreateGroupOp::create(
          b, loc, nvgpu::DeviceAsyncTokenType::get(b.getContext()), tokens));
    }
  }

  /// Waits until the pieces of `tile` up to row `rows` have landed and
  /// makes them every thread's: one wait, for the last such piece's group
  /// (groups complete in the order they were committed), where it has not
  /// been waited for.
  void waitForRows(const Staged &tile, int64_t rows) {
    const auto *piece = llvm::find_if(
        tile.pieces, [&](const auto &piece) { return piece.first >= rows; });
    assert(piece != tile.pieces.end() && "rows within the tile");
    size_t group = piece->second;
    if (int64_t(group) <= landed)
      return;
    nvgpu::DeviceAsyncWaitOp::create(
        b, loc, groups[group], b.getI32IntegerAttr(groups.size() - 1 - group));
    gpu::BarrierOp::create(b, loc);
    landed = group;
  }

  /// Commits `tokens` (the copies just issued) as a group, waits until at
  /// most `pending` groups are in flight and makes what landed every
  /// thread's.
  void waitForCopies(ValueRange tokens, int32_t pending) {
    Value group = nvgpu::DeviceAsyncCreateGroupOp::create(
        b, loc, nvgpu::DeviceAsyncTokenType::get(b.getContext()), tokens);
    nvgpu::DeviceAsyncWaitOp::create(b, loc, group,
                                     b.getI32IntegerAttr(pending));
    gpu::BarrierOp::create(b, loc);
  }

  /// `loop` on the lanes' elements of what it carries. With two buffers a
  /// tile, the first step's tiles are copied before it and each step starts
  /// the next one's copies before it waits for its own.
  void emitLoop(scf::ForOp loop) {
    Value lower = scalars.lookupOrDefault(loop.getLowerBound());
    Value upper = scalars.lookupOrDefault(loop.getUpperBound());
    Value step = scalars.lookupOrDefault(loop.getStep());
    // The loop's own tiles with two buffers each.
    SmallVector<Staged *> tiles;
    for (Operation &op : loop.getBody()->without_terminator())
      if (Staged *tile = stagedOf(op); tile && tile->second)
        tiles.push_back(tile);
    bool ahead = !tiles.empty();
    if (ahead)
      copyStepIf(loop, lower, upper, /*second=*/false);
    SmallVector<Value> inits;
    for (Value init : loop.getInitArgs())
      llvm::append_range(inits, elementsOf(init));
    auto newLoop = scf::ForOp::create(
        b, loc, lower, upper, step, inits,
        [&](OpBuilder &, Location, Value iv, ValueRange args) {
          scalars.map(loop.getInductionVar(), iv);
          for (auto [arg, values] :
               llvm::zip(loop.getRegionIterArgs(), split(loop, args)))
            lanes[arg] = values;
          // No thread overwrites a tile another still reads (previous
          // step).
          gpu::BarrierOp::create(b, loc);
          if (ahead) {
            // Step k reads the first buffers where k is even.
            Value k = arith::DivUIOp::create(
                b, loc, arith::SubIOp::create(b, loc, iv, lower), step);
            Value even = arith::CmpIOp::create(
                b, loc, arith::CmpIPredicate::eq,
                arith::RemUIOp::create(b, loc, k, index(2)), index(0));
            for (Staged *tile : tiles)
              tile->current =
                  arith::SelectOp::create(b, loc, even, tile->buffer,
                                          tile->second);
            // This step's group landed once at most the next step's is
            // in flight.
            Value next = arith::AddIOp::create(b, loc, iv, step);
            Value group = copyStepIf(loop, next, upper, /*second=*/true, even);
            nvgpu::DeviceAsyncWaitOp::create(b, loc, group,
                                             b.getI32IntegerAttr(1));
            gpu::BarrierOp::create(b, loc);
          }
          emitStep(loop.getBody(), ahead);
        });
    for (auto [result, values] :
         llvm::zip(loop.getResults(), split(loop, newLoop.getResults())))
      lanes[result] = values;
  }

  /// Where `iv` < `upper`, the copies of `loop`'s tiles for its step at
  /// `iv` (its scalar code at `iv`), into the first buffers or (`second`)
  /// into those the step at `iv` reads given `even` for the step before;
  /// then a commit of the group (every thread's, copies or not), returned.
  Value copyStepIf(scf::ForOp loop, Value iv, Value upper, bool second,
                   Value even = Value()) {
    Value inRange =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, iv, upper);
    auto guard = scf::IfOp::create(b, loc, inRange, /*withElseRegion=*/false);
    {
      OpBuilder::InsertionGuard inGuard(b);
      b.setInsertionPoint(guard.thenBlock()->getTerminator());
      IRMapping map = scalars;
      map.map(loop.getInductionVar(), iv);
      SmallVector<Value> tokens;
      cloneStep(loop.getBody(), map, tokens, [&](Staged &tile) -> Value {
        if (!tile.second)
          return Value();
        if (!second)
          return tile.buffer;
        return arith::SelectOp::create(b, loc, even, tile.second,
                                       tile.buffer);
      });
    }
    return nvgpu::DeviceAsyncCreateGroupOp::create(
        b, loc, nvgpu::DeviceAsyncTokenType::get(b.getContext()),
        ValueRange{});
  }

  /// `flat` cut into the elements of each of `loop`'s tensors.
  SmallVector<Elements> split(scf::ForOp loop, ValueRange flat) {
    SmallVector<Elements> parts;
    for (Value arg : loop.getRegionIterArgs()) {
      size_t count = countOf(cast<RankedTensorType>(arg.getType()));
      parts.push_back(Elements(flat.take_front(count)));
      flat = flat.drop_front(count);
    }
    return parts;
  }
  static size_t countOf(RankedTensorType type) {
    return type.getRank() == 1 ? 2 : 4 * (type.getDimSize(1) / kMmaN);
  }

  /// The lane's row of element e (of R × N: its e-th; of R: e = 0, 1).
  Value rowOf(int64_t e, bool matrix) {
    return rowIndex[matrix ? (e % 4) / 2 : e];
  }
  Value columnOf(int64_t e) { return add(t2, kMmaN * (e / 4) + e % 2); }
  /// The lane's element e as indices: (row, column), or (row).
  SmallVector<Value> indicesOf(int64_t e, bool matrix) {
    SmallVector<Value> indices{rowOf(e, matrix)};
    if (matrix)
      indices.push_back(columnOf(e));
    return indices;
  }

  /// The lane's elements of `tensor`: the step's, a fill's scalar, or read
  /// from a tensor from outside the step.
  Elements elementsOf(Value tensor) {
    auto it = lanes.find(tensor);
    if (it != lanes.end())
      return it->second;
    auto type = cast<RankedTensorType>(tensor.getType());
    if (Value splat = getSplat(tensor))
      return Elements(countOf(type), scalars.lookupOrDefault(splat));
    bool matrix = type.getRank() == 2;
    Elements elements;
    for (size_t e = 0; e < countOf(type); ++e)
      elements.push_back(
          tensor::ExtractOp::create(b, loc, tensor, indicesOf(e, matrix)));
    return elements;
  }

  void store(Value buffer, const Elements &values) {
    auto type = cast<MemRefType>(buffer.getType());
    if (type.getRank() == 2) {
      auto pair = VectorType::get({2}, type.getElementType());
      for (size_t e = 0; e < values.size(); e += 2)
        vector::StoreOp::create(
            b, loc,
            vector::FromElementsOp::create(b, loc, pair,
                                           ValueRange{values[e], values[e + 1]}),
            buffer, ValueRange{rowOf(e, true), columnOf(e)});
      return;
    }
    // A row's four lanes hold its value: the first stores it.
    Value first = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, t,
                                        index(0));
    auto guard = scf::IfOp::create(b, loc, first, /*withElseRegion=*/false);
    OpBuilder::InsertionGuard inGuard(b);
    b.setInsertionPoint(guard.thenBlock()->getTerminator());
    for (int64_t i = 0; i < 2; ++i)
      memref::StoreOp::create(b, loc, values[i], buffer, rowIndex[i]);
  }

  /// One step of a loop: the scalar code and the copies of the B tiles it
  /// widens (unless `ahead`: copied by the step before), then its tensors.
  /// Where the step's contractions read only tiles it copies, each tile
  /// lands in pieces, a group each, which the contractions wait for as they
  /// reach them (as in a block without loops): V's tile loads while S =
  /// Q·Kᵀ and its softmax compute, and P·V takes V's depth steps first.
  void emitStep(Block *body, bool ahead) {
    SmallVector<Value> tokens;
    bool inPieces = !ahead && readsOnlyOwnTiles(body);
    cloneStep(body, scalars, tokens, [&](Staged &tile) {
      return ahead || inPieces ? Value() : tile.buffer;
    });
    SmallVector<Staged *> pieced;
    if (inPieces) {
      for (Operation &op : body->without_terminator())
        if (Staged *tile = stagedOf(op)) {
          copyInPieces(*tile);
          pieced.push_back(tile);
        }
    } else if (!ahead) {
      waitForCopies(tokens, /*pending=*/0);
    }
    for (Operation &op : body->without_terminator())
      emitTensorOp(op);
    // The groups are the step's values, all waited for by its contractions:
    // nothing after it (the next step included) may wait on them.
    for (Staged *tile : pieced)
      tile->pieces.clear();
    groups.clear();
    landed = -1;
    SmallVector<Value> yielded;
    for (Value value : body->getTerminator()->getOperands())
      llvm::append_range(yielded, elementsOf(value));
    scf::YieldOp::create(b, loc, yielded);
  }

  /// Whether every contraction of `body` (a loop's) reads a B tile that
  /// the body itself widens: a tile from outside the loop has no pieces, so
  /// its contraction would wait for nothing before reading it.
  bool readsOnlyOwnTiles(Block *body) {
    bool own = true;
    body->walk([&](linalg::GenericOp generic) {
      if (std::optional<Contraction> c = matchContraction(generic)) {
        Operation *def = c->op.getDpsInputs()[1].getDefiningOp();
        own &= def && def->getBlock() == body && stagedOf(*def);
      }
    });
    return own;
  }

  /// A loop step's scalar code cloned through `map`, and the copies of the
  /// tiles it widens into `bufferOf(tile)` (none where that is null).
  void cloneStep(Block *body, IRMapping &map, SmallVector<Value> &tokens,
                 function_ref<Value(Staged &)> bufferOf) {
    for (Operation &op : body->without_terminator()) {
      if (llvm::none_of(op.getResultTypes(), llvm::IsaPred<TensorType>)) {
        b.clone(op, map);
        continue;
      }
      if (Staged *tile = stagedOf(op))
        if (Value buffer = bufferOf(*tile))
          copyTile(*tile, buffer, map, tokens);
    }
  }

  /// The lanes' elements of what a tensor op of the region computes (B
  /// tiles, slices, empties: nothing; scalar code is cloned before).
  void emitTensorOp(Operation &op) {
    if (auto fill = dyn_cast<linalg::FillOp>(op)) {
      lanes[fill.getResult(0)] = elementsOf(fill.getResult(0));
      return;
    }
    auto generic = dyn_cast<linalg::GenericOp>(op);
    if (!generic || stagedOf(op))
      return;
    if (std::optional<Contraction> contraction = matchContraction(generic)) {
      if (getAccumulatingAdd(*contraction))
        deferred.insert({generic.getResult(0), *contraction});
      else
        lanes[generic.getResult(0)] =
            emitContraction(*contraction, elementsOf(generic.getDpsInits()[0]));
    } else if (generic.getNumReductionLoops() != 0)
      lanes[generic.getResult(0)] = emitRowReduction(generic);
    else
      lanes[generic.getResult(0)] = emitElementwise(generic);
  }

  /// `source` as a buffer (its tensor read, not written).
  Value toBuffer(Value source) {
    auto type = cast<RankedTensorType>(source.getType());
    // Function arguments bufferize with identity layouts (the pipelines'
    // function-boundary-type-conversion); anything else may be strided, but
    // its rows are contiguous (a slice with unit strides of a buffer that
    // bufferization made): vector loads and cp.async need them so.
    MemRefLayoutAttrInterface layout;
    if (!isa<BlockArgument>(source) ||
        !isa<FunctionOpInterface>(
            cast<BlockArgument>(source).getOwner()->getParentOp())) {
      SmallVector<int64_t> strides(type.getRank(), ShapedType::kDynamic);
      strides.back() = 1;
      layout = StridedLayoutAttr::get(b.getContext(), ShapedType::kDynamic,
                                      strides);
    }
    auto bufferType =
        MemRefType::get(type.getShape(), type.getElementType(), layout);
    auto &buffer = buffers[source];
    if (!buffer) {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(first);
      buffer = bufferization::ToBufferOp::create(b, loc, bufferType, source,
                                                 /*read_only=*/true);
    }
    return buffer;
  }

  /// The indices into `slice`'s source of its element (row, column).
  /// (Its offsets' scalars through `map`: a step's, or the next's.)
  SmallVector<Value> sourceIndices(tensor::ExtractSliceOp slice, Value row,
                                   Value column, const IRMapping &map) {
    llvm::SmallBitVector dropped = slice.getDroppedDims();
    SmallVector<Value> indices;
    int64_t kept = 0;
    for (auto [dim, offset] : llvm::enumerate(slice.getMixedOffsets())) {
      Value start = isa<Value>(offset)
                        ? map.lookupOrDefault(cast<Value>(offset))
                        : index(*getConstantIntValue(offset));
      if (dropped.test(dim)) {
        indices.push_back(start);
        continue;
      }
      Value within = kept++ == 0 ? row : column;
      indices.push_back(arith::AddIOp::create(b, loc, start, within));
    }
    return indices;
  }

  /// The block copies `tile`'s slice (its offsets through `map`) into
  /// `buffer` (its rows [begin, end) where `rows` says so), 16 bytes a
  /// cp.async (the block's threads divide the chunks: isLaneOp for a whole
  /// tile, copyInPieces for a piece).
  void copyTile(Staged &tile, Value buffer, const IRMapping &map,
                SmallVector<Value> &tokens,
                std::optional<std::pair<int64_t, int64_t>> rows = {}) {
    Value source = toBuffer(tile.slice.getSource());
    ArrayRef<int64_t> shape = tile.slice.getType().getShape();
    auto [begin, end] = rows.value_or(std::make_pair(int64_t(0), shape[0]));
    int64_t perRow = shape[1] / kChunk, chunks = end * perRow;
    int64_t threads = warps * kWarpSize;
    assert((end - begin) * perRow % threads == 0 &&
           "the block's threads divide the chunks");
    for (int64_t first = begin * perRow; first < chunks; first += threads) {
      Value chunk = add(thread, first);
      Value row = arith::DivUIOp::create(b, loc, chunk, index(perRow));
      Value column = arith::MulIOp::create(
          b, loc, arith::RemUIOp::create(b, loc, chunk, index(perRow)),
          index(kChunk));
      tokens.push_back(nvgpu::DeviceAsyncCopyOp::create(
          b, loc, nvgpu::DeviceAsyncTokenType::get(b.getContext()),
          buffer, ValueRange{row, column}, source,
          sourceIndices(tile.slice, row, column, map), b.getIndexAttr(kChunk),
          /*srcElements=*/Value(), /*bypassL1=*/b.getUnitAttr()));
    }
  }

  /// The lane's register of the 16-bit elements (row, column) and
  /// (row, column + 1) of `slice` (in memory).
  Value loadPair(tensor::ExtractSliceOp slice, Value row, Value column) {
    Type half = slice.getType().getElementType();
    return vector::LoadOp::create(b, loc, VectorType::get({2}, half),
                                  toBuffer(slice.getSource()),
                                  sourceIndices(slice, row, column, scalars));
  }

  /// A's fragment for each 16-deep step of a contraction.
  SmallVector<Value> aFragmentsOf(Contraction c, Type half, int64_t depth) {
    Value a = c.op.getDpsInputs()[0];
    auto it = lanes.find(a);
    if (it == lanes.end())
      return aFragments.lookup(a); // loaded before the loop
    // The accumulators of n-tiles 2s and 2s + 1 are step s's A.
    const Elements &p = it->second;
    SmallVector<Value> fragments;
    for (int64_t s = 0; s < depth / kStepK; ++s) {
      const Value *lo = &p[8 * s], *hi = &p[8 * s + 4];
      fragments.push_back(createFragment(
          b, loc,
          {packHalves(b, loc, lo[0], lo[1], half),
           packHalves(b, loc, lo[2], lo[3], half),
           packHalves(b, loc, hi[0], hi[1], half),
           packHalves(b, loc, hi[2], hi[3], half)}));
    }
    return fragments;
  }

  /// The A fragments of the contractions whose A is a tile widened outside
  /// the loop (Q), loaded before it.
  void loadOutsideFragments() {
    for (Contraction c : contractions()) {
      Value a = c.op.getDpsInputs()[0];
      std::optional<Widened> tile = matchWidened(a);
      if (!tile || aFragments.count(a))
        continue;
      int64_t depth = c.op.getStaticLoopRanges()[c.loops.k];
      auto &loaded = aFragments[a];
      for (int64_t s = 0; s < depth / kStepK; ++s) {
        Value k = add(t2, s * kStepK), k8 = add(t2, s * kStepK + 8);
        loaded.push_back(createFragment(b, loc,
                                        {loadPair(tile->slice, rowIndex[0], k),
                                         loadPair(tile->slice, rowIndex[1], k),
                                         loadPair(tile->slice, rowIndex[0], k8),
                                         loadPair(tile->slice, rowIndex[1], k8)}));
      }
    }
  }

  /// The addf by which the one user of `c`'s product, an elementwise op,
  /// adds it to a value of its own, where the product starts at zero and
  /// takes no factor: the MMAs can accumulate onto that value instead (O =
  /// α·O + P·V), one accumulator fewer.
  arith::AddFOp getAccumulatingAdd(Contraction c) {
    Value product = c.op.getResult(0);
    Value init = getSplat(c.op.getDpsInits()[0]);
    std::optional<Widened> a = matchWidened(c.op.getDpsInputs()[0]);
    if (!init || !matchPattern(init, m_AnyZeroFloat()) || (a && a->scale) ||
        !product.hasOneUse())
      return {};
    OpOperand &use = *product.getUses().begin();
    auto user = dyn_cast<linalg::GenericOp>(use.getOwner());
    // The user must be one the lanes compute (in a loop step, or the
    // region's), and read no other product computed after this one (one is
    // deferred at a time; an earlier one the lanes hold by then: O = r ⊙
    // (q·S) + P·U accumulates P·U onto r ⊙ (q·S), one set of accumulators).
    if (!user || user.getNumReductionLoops() != 0 ||
        user->getBlock() != c.op->getBlock() ||
        (!isInBlockLoop(user) && !llvm::is_contained(region.ops, user)) ||
        llvm::any_of(user.getDpsInputs(),
                     [&](Value input) {
                       auto producer = input.getDefiningOp<linalg::GenericOp>();
                       return input != product && producer &&
                              matchContraction(producer) &&
                              (producer->getBlock() != c.op->getBlock() ||
                               !producer->isBeforeInBlock(c.op));
                     }) ||
        !user.getMatchingIndexingMap(&use).isIdentity() ||
        cast<RankedTensorType>(user.getResult(0).getType()).getShape() !=
            cast<RankedTensorType>(product.getType()).getShape())
      return {};
    BlockArgument arg = user.getMatchingBlockArgument(&use);
    auto add = arg.hasOneUse()
                   ? dyn_cast<arith::AddFOp>(*arg.getUsers().begin())
                   : arith::AddFOp();
    if (!add || add.getLhs() == add.getRhs())
      return {};
    return add;
  }

  /// C + A · B on the tensor cores, C's elements in `acc`.
  Elements emitContraction(Contraction c, Elements acc) {
    SmallVector<int64_t> sizes = c.op.getStaticLoopRanges();
    int64_t n = sizes[c.loops.n], depth = sizes[c.loops.k];
    Staged &tile = staged.find(c.op.getDpsInputs()[1])->second;
    Type half = tile.slice.getType().getElementType();
    SmallVector<Value> aFragment = aFragmentsOf(c, half, depth);
    auto accType = VectorType::get({2, 2}, b.getF32Type());
    // ldmatrix.x4: lane 8q + r addresses row r of matrix q. Matrices 0, 1:
    // n-tile j's two k halves, 2, 3: tile j + 1's.
    Value qLow = arith::MulIOp::create(
        b, loc, arith::RemUIOp::create(b, loc, quarter, index(2)), index(8));
    Value qHigh = arith::MulIOp::create(
        b, loc, arith::DivUIOp::create(b, loc, quarter, index(2)), index(8));
    // The (n-tile pair, depth step) order: n-tiles outer, unless the tile
    // lands in pieces along the depth (its rows), each step then waiting
    // for the rows it reads, or A's columns (the depth) are causally
    // hidden from some of the warp's rows: then depth outer. (A tile in
    // pieces whose rows are n is waited for whole, at the first step.)
    bool byDepth = !tile.pieces.empty() && c.transposedB;
    int64_t pairs = n / kMmaN / 2, steps = depth / kStepK;
    // Where a causal mask hides columns from all the warp's rows (from
    // `column` on: column > its last row, >= where strict), no product
    // needs them: S's columns (a pair of n-tiles) or P's (a depth step of
    // P·V). The first pair or step always has some visible.
    auto sees = [&](int64_t column, bool strict) {
      return arith::CmpIOp::create(
          b, loc, strict ? arith::CmpIPredicate::ult : arith::CmpIPredicate::ule,
          index(column), getLastRow());
    };
    std::optional<bool> zeroColumns;
    if (lanes.count(c.op.getDpsInputs()[0]))
      zeroColumns = getZeroColumns(c.op.getDpsInputs()[0]);
    // n-tiles j, j + 1 at depth step s, onto acc.
    auto emitStep = [&](int64_t j, int64_t s) {
      Value row, column;
      if (c.transposedB) {
        // B[k][n] is the tile's (k, n): rows k, transposed by ldmatrix.
        row = arith::AddIOp::create(b, loc, add(laneRow, s * kStepK), qLow);
        column = add(qHigh, kMmaN * j);
      } else {
        // B[k][n] is the tile's (n, k).
        row = arith::AddIOp::create(b, loc, add(laneRow, kMmaN * j), qHigh);
        column = add(qLow, s * kStepK);
      }
      Value fragments = nvgpu::LdMatrixOp::create(
          b, loc, VectorType::get({4, 2}, half), tile.current,
          ValueRange{row, column}, c.transposedB, /*numTiles=*/4);
      for (int64_t pair = 0; pair < 2; ++pair) {
        Value bFragment = vector::ExtractStridedSliceOp::create(
            b, loc, fragments, ArrayRef<int64_t>{2 * pair, 0},
            ArrayRef<int64_t>{2, 2}, ArrayRef<int64_t>{1, 1});
        MutableArrayRef<Value> sum(&acc[4 * (j + pair)], 4);
        Value next = createMma16x8x16(
            b, loc, aFragment[s], bFragment,
            vector::FromElementsOp::create(b, loc, accType, sum));
        for (int64_t e = 0; e < 4; ++e)
          sum[e] = vector::ExtractOp::create(b, loc, next,
                                             ArrayRef<int64_t>{e / 2, e % 2});
      }
    };
    if (byDepth || zeroColumns) {
      for (int64_t s = 0; s < steps; ++s) {
        if (!tile.pieces.empty())
          waitForRows(tile,
                      byDepth ? (s + 1) * kStepK : tile.pieces.back().first);
        auto emitPairs = [&] {
          for (int64_t pair = 0; pair < pairs; ++pair)
            emitStep(2 * pair, s);
        };
        if (zeroColumns && s > 0)
          emitIf(sees(s * kStepK, *zeroColumns), acc, emitPairs);
        else
          emitPairs();
      }
    } else {
      std::optional<bool> maskedColumns = getMaskedColumns(c);
      for (int64_t pair = 0; pair < pairs; ++pair) {
        int64_t j = 2 * pair;
        if (!tile.pieces.empty())
          waitForRows(tile, tile.pieces.back().first);
        auto emitSteps = [&] {
          for (int64_t s = 0; s < steps; ++s)
            emitStep(j, s);
        };
        if (maskedColumns && j > 0)
          emitIf(sees(kMmaN * j, *maskedColumns),
                 MutableArrayRef<Value>(&acc[4 * j], 8), emitSteps);
        else
          emitSteps();
      }
    }
    std::optional<Widened> aTile = lanes.count(c.op.getDpsInputs()[0])
                                       ? std::nullopt
                                       : matchWidened(c.op.getDpsInputs()[0]);
    if (aTile && aTile->scale) {
      Value scale = scalars.lookupOrDefault(aTile->scale);
      for (Value &element : acc)
        element = arith::MulFOp::create(b, loc, element, scale);
    }
    return acc;
  }

  /// The warp's last row, computed once, where its first row is.
  Value getLastRow() {
    if (!lastRow) {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointAfterValue(warpRow);
      lastRow = add(warpRow, kWarpRows - 1);
    }
    return lastRow;
  }

  /// `then` (which updates `values`) where `cond` holds (a warp-uniform
  /// branch: no barrier may be in it); `values` as they were elsewhere.
  void emitIf(Value cond, MutableArrayRef<Value> values,
              function_ref<void()> then) {
    SmallVector<Value> before(values);
    auto ifOp = scf::IfOp::create(b, loc, ValueRange(values).getTypes(), cond,
                                  /*withElseRegion=*/true);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(ifOp.thenBlock());
      then();
      scf::YieldOp::create(b, loc, ValueRange(values));
      b.setInsertionPointToStart(ifOp.elseBlock());
      scf::YieldOp::create(b, loc, before);
    }
    llvm::copy(ifOp.getResults(), values.begin());
    assert(!ifOp->walk([](Operation *op) {
                   return isa<gpu::BarrierOp, nvgpu::DeviceAsyncWaitOp>(op)
                              ? WalkResult::interrupt()
                              : WalkResult::advance();
                 }).wasInterrupted() &&
           "no barrier or wait in a warp's branch");
  }

  /// `generic`'s body for one element: `args` for its block arguments
  /// (inputs, then the init where given), `indices` for linalg.index.
  Value cloneBody(linalg::GenericOp generic, ValueRange args,
                  ArrayRef<Value> indices) {
    IRMapping map = mapArguments(generic, args);
    return cloneBodyAt(b, generic, map, indices);
  }
  /// The scalars, and the block arguments of `generic` to `args` (null: an
  /// argument no cloned op reads).
  IRMapping mapArguments(linalg::GenericOp generic, ValueRange args) {
    IRMapping map = scalars;
    for (auto [arg, value] : llvm::zip(generic.getBody()->getArguments(), args))
      if (value)
        map.map(arg, value);
    return map;
  }

  /// The inputs of `generic` at the lane's element e of its iteration
  /// space (rows × columns, or rows).
  SmallVector<Value> inputsAt(linalg::GenericOp generic, int64_t e,
                              bool matrix) {
    SmallVector<Value> loopIndices = indicesOf(e, matrix);
    SmallVector<Value> args;
    for (OpOperand *input : generic.getDpsInputOperands()) {
      Value value = input->get();
      if (deferred.count(value)) {
        args.push_back(Value()); // the product its addf gets from the MMAs
        continue;
      }
      if (!isa<RankedTensorType>(value.getType())) {
        args.push_back(scalars.lookupOrDefault(value));
        continue;
      }
      AffineMap map = generic.getMatchingIndexingMap(input);
      auto it = lanes.find(value);
      Value splat = getSplat(value);
      if (it != lanes.end() || splat) {
        Elements elements = elementsOf(value);
        // A row vector broadcast along the columns, or the same shape.
        bool rowVector = map.getNumResults() == 1 && map.getDimPosition(0) == 0;
        args.push_back(splat ? elements[0]
                       : rowVector && matrix ? elements[(e % 4) / 2]
                                             : elements[e]);
        continue;
      }
      args.push_back(tensor::ExtractOp::create(
          b, loc, value, getOperandIndices(generic, input, loopIndices)));
    }
    return args;
  }

  Elements emitElementwise(linalg::GenericOp generic) {
    auto type = cast<RankedTensorType>(generic.getResult(0).getType());
    bool matrix = type.getRank() == 2;
    size_t count = countOf(type);
    std::optional<Contraction> product;
    Value arg;
    for (OpOperand *input : generic.getDpsInputOperands())
      if (auto it = deferred.find(input->get()); it != deferred.end()) {
        product = it->second;
        arg = generic.getMatchingBlockArgument(input);
      }
    Elements result;
    if (!product) {
      for (size_t e = 0; e < count; ++e)
        result.push_back(
            cloneBody(generic, inputsAt(generic, e, matrix), indicesOf(e, matrix)));
      return result;
    }
    // The body up to the addf of the product, for every element; the
    // product's MMAs accumulate onto the addf's other operand; the rest.
    arith::AddFOp add = getAccumulatingAdd(*product);
    Block *body = generic.getBody();
    Value other = add.getLhs() == arg ? add.getRhs() : add.getLhs();
    SmallVector<IRMapping> maps;
    Elements others;
    for (size_t e = 0; e < count; ++e) {
      maps.push_back(mapArguments(generic, inputsAt(generic, e, matrix)));
      cloneOpsAt(b, body->begin(), add->getIterator(), maps.back(),
                 indicesOf(e, matrix));
      others.push_back(maps.back().lookupOrDefault(other));
    }
    Elements sums = emitContraction(*product, others);
    for (size_t e = 0; e < count; ++e) {
      maps[e].map(add.getResult(), sums[e]);
      cloneOpsAt(b, std::next(add->getIterator()),
                 body->getTerminator()->getIterator(), maps[e],
                 indicesOf(e, matrix));
      result.push_back(maps[e].lookup(body->getTerminator()->getOperand(0)));
    }
    return result;
  }

  /// A row reduction: each lane folds its elements of the row from the
  /// combiner's identity, the row's four lanes combine theirs, and the
  /// init joins once.
  Elements emitRowReduction(linalg::GenericOp generic) {
    WarpReduction reduction = *getWarpReduction(generic, kMmaN);
    int64_t columns = generic.getStaticLoopRanges()[1];
    BlockArgument out =
        generic.getMatchingBlockArgument(generic.getDpsInitOperand(0));
    auto combine = [&](Value value, Value other) {
      IRMapping map;
      for (Value operand : reduction.combiner->getOperands())
        map.map(operand, operand == out ? other : value);
      return b.clone(*reduction.combiner, map)->getResult(0);
    };
    Elements init = elementsOf(generic.getDpsInits()[0]);
    Elements result;
    for (int64_t i = 0; i < 2; ++i) {
      Value acc = arith::ConstantOp::create(b, loc, reduction.identity);
      for (int64_t j = 0; j < columns / kMmaN; ++j)
        for (int64_t parity = 0; parity < 2; ++parity) {
          int64_t e = 4 * j + 2 * i + parity;
          SmallVector<Value> args = inputsAt(generic, e, /*matrix=*/true);
          args.push_back(acc);
          acc = cloneBody(generic, args, indicesOf(e, /*matrix=*/true));
        }
      for (int32_t offset : {1, 2}) {
        Value other = gpu::ShuffleOp::create(b, loc, acc, offset, kWarpSize,
                                             gpu::ShuffleMode::XOR)
                          .getShuffleResult();
        acc = combine(acc, other);
      }
      result.push_back(combine(acc, init[i]));
    }
    return result;
  }

  RewriterBase &b;
  LaneRegion region;
  Operation *first;
  Location loc;
  int64_t warps;
  /// Whether a loop's tiles are copied a step ahead, into two buffers.
  bool prefetch;
  /// What the region computes for the ops after it, and their buffers.
  SmallVector<Value> outputs, outputBuffers;
  // In the order of the block's contractions (a product that an add
  // accumulates onto its value is emitted with that add, later): the
  // copies are issued so.
  llvm::MapVector<Value, Staged> staged;
  /// The groups of the pieces, in the order they were committed, and the
  /// last one waited for (-1: none).
  SmallVector<Value> groups;
  int64_t landed = -1;
  DenseMap<Value, Value> buffers;
  DenseMap<Value, SmallVector<Value>> aFragments;
  /// The old step's scalars and the loop's induction variable in the new.
  IRMapping scalars;
  /// The lane's elements of the step's tensors.
  DenseMap<Value, Elements> lanes;
  /// Products that their user's addf accumulates onto (getAccumulatingAdd).
  DenseMap<Value, Contraction> deferred;
  Value thread, warpRow, lastRow, g, t, t2, quarter, laneRow;
  SmallVector<Value> rowIndex;
};

struct NatsGPUWarpRowsPass
    : nats::impl::NatsGPUWarpRowsPassBase<NatsGPUWarpRowsPass> {
  using Base::Base;

  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    for (scf::ForallOp block : getBlockForalls(getOperation()))
      if (std::optional<LaneRegion> region = findLaneRegion(block.getBody()))
        WarpRowsLowering(rewriter, std::move(*region), prefetch).run();
  }
};

} // namespace
