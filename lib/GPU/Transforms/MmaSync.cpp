//===- MmaSync.cpp - warp tiles of contractions become mma.sync -----------===//
//
// One warp computes a 16 × 8 tile of C += A · B with m16n8k8 mma.sync. The
// operands stay f32 in memory; each is split into two tf32 parts (3xTF32),
// so that tensor cores do the products at f32 accuracy: the lowering makes
// the same numbers as the FMA loops it replaces, to within f32 rounding.
// With precision tf32, one product of the operands rounded to tf32 a step.
//
// Fragment layout (PTX ISA, mma.m16n8k8 .tf32): lane = 4·g + t;
//   A: a0 = A[g][t], a1 = A[g+8][t], a2 = A[g][t+4], a3 = A[g+8][t+4]
//   B: b0 = B[t][g], b1 = B[t+4][g]
//   C: c0 = C[g][2t], c1 = C[g][2t+1], c2 = C[g+8][2t], c3 = C[g+8][2t+1]
// With paired-loads, the step's k slots t and t+4 hold columns 2t and 2t+1
// (the same permutation for A and B leaves the sum as it is), so that a
// lane's two elements of a row are adjacent: where k is an operand's
// contiguous dimension and the pair is provably 8-byte aligned, one 64-bit
// load reads both (half the shared-memory instructions).
//
//===----------------------------------------------------------------------===//

#include "nats/GPU/Transforms/LaneCode.h"
#include "nats/GPU/Transforms/Mapping.h"
#include "nats/GPU/Transforms/MmaTile.h"
#include "nats/GPU/Transforms/Passes.h"

#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::nats {
#define GEN_PASS_DEF_NATSGPUMMASYNCPASS
#include "nats/GPU/Transforms/Passes.h.inc"
} // namespace mlir::nats

using namespace mlir;
using namespace mlir::nats;

namespace {

/// Whether the f32 memref `value` has unit stride in its last dimension and
/// an element at an even last index is always 8-byte aligned: its other
/// strides are even, and so is every offset down to an aligned buffer (an
/// allocation, the shared-memory pool and views of it at byte shifts that
/// are multiples of 8, subviews at an even last offset). Anything else
/// (a function argument, a dynamic shift) is not known to be.
bool hasEvenElementOffsets(Value value) {
  auto isEvenlyStrided = [](MemRefType type) {
    SmallVector<int64_t> strides;
    int64_t offset;
    if (failed(type.getStridesAndOffset(strides, offset)) || strides.empty() ||
        strides.back() != 1)
      return false;
    return llvm::all_of(ArrayRef(strides).drop_back(), [](int64_t stride) {
      return !ShapedType::isDynamic(stride) && stride % 2 == 0;
    });
  };
  auto type = dyn_cast<MemRefType>(value.getType());
  if (!type || !isEvenlyStrided(type))
    return false;
  while (Operation *def = value.getDefiningOp()) {
    // One of two buffers (nats-gpu-prefetch's, taken in turn): both.
    if (auto select = dyn_cast<arith::SelectOp>(def))
      return hasEvenElementOffsets(select.getTrueValue()) &&
             hasEvenElementOffsets(select.getFalseValue());
    if (auto subview = dyn_cast<memref::SubViewOp>(def)) {
      std::optional<int64_t> last =
          getConstantIntValue(subview.getMixedOffsets().back());
      if (!last || *last % 2 || !isEvenlyStrided(subview.getSourceType()))
        return false;
      value = subview.getSource();
    } else if (isa<memref::MemorySpaceCastOp, memref::CastOp>(def)) {
      value = def->getOperand(0);
    } else if (auto view = dyn_cast<memref::ViewOp>(def)) {
      std::optional<int64_t> shift = getConstantIntValue(view.getByteShift());
      if (!shift || *shift % 8)
        return false;
      value = view.getSource();
    } else if (auto alloc = dyn_cast<memref::AllocOp>(def)) {
      return alloc.getAlignment().value_or(0) >= 8;
    } else {
      // The block's shared-memory pool (an alloca that becomes the dynamic
      // shared memory, 16-byte aligned) and nothing else.
      auto alloca = dyn_cast<memref::AllocaOp>(def);
      return alloca && gpu::GPUDialect::isWorkgroupMemoryAddressSpace(
                           alloca.getType().getMemorySpace());
    }
  }
  return false;
}

/// Emits one warp's code for the tile `op` in place of it.
class MmaTileBuilder {
public:
  /// `options.precision` is the one for this function (not Auto).
  MmaTileBuilder(RewriterBase &rewriter, linalg::LinalgOp op, MmaLoops loops,
                 const NatsGPUMmaSyncPassOptions &options)
      : b(rewriter), op(op), loops(loops),
        tf32x1(options.precision == MmaPrecision::TF32),
        pairedLoads(options.pairedLoads),
        splitAccumulators(options.splitAccumulators), loc(op.getLoc()) {}

  /// `initial`, where given, is every element of C before the tile adds to
  /// it: C is then written, not read.
  void build(Value initial) {
    b.setInsertionPoint(op);
    Value lane = gpu::LaneIdOp::create(b, loc, /*upperBound=*/nullptr);
    Value g = arith::DivUIOp::create(b, loc, lane, index(4));
    Value t = arith::RemUIOp::create(b, loc, lane, index(4));
    Value g8 = add(g, 8), t4 = add(t, 4);
    Value t2 = arith::MulIOp::create(b, loc, t, index(2)), t21 = add(t2, 1);
    Value zero = index(0);

    OpOperand *a = op.getDpsInputOperand(0), *bOp = op.getDpsInputOperand(1);
    OpOperand *c = op.getDpsInitOperand(0);
    // (m, n) of the accumulator's four elements, in fragment order.
    SmallVector<std::pair<Value, Value>> cIndex = {
        {g, t2}, {g, t21}, {g8, t2}, {g8, t21}};
    auto accType = VectorType::get({2, 2}, b.getF32Type());
    Value acc;
    if (initial) {
      acc = vector::BroadcastOp::create(b, loc, accType, initial);
    } else {
      SmallVector<Value> cValues;
      for (auto [m, n] : cIndex)
        cValues.push_back(load(c, m, n, zero));
      acc = vector::FromElementsOp::create(b, loc, accType, cValues);
    }

    int64_t depth = op.getStaticLoopRanges()[loops.k];
    // With split-accumulators, independent chains of MMAs: two k-steps an
    // iteration into accumulators of their own where the depth allows, and
    // with 3xTF32 the small terms apart from the large; summed at the end.
    bool splitK = splitAccumulators && depth % (2 * kMmaK) == 0;
    unsigned perStep = splitAccumulators && !tf32x1 ? 2 : 1;
    int64_t stepsPerIteration = splitK ? 2 : 1;
    SmallVector<Value> inits = {acc};
    if (stepsPerIteration * perStep > 1) {
      Value zeros = arith::ConstantOp::create(
          b, loc, DenseElementsAttr::get(accType, b.getF32FloatAttr(0)));
      inits.resize(stepsPerIteration * perStep, zeros);
    }
    auto loop = scf::ForOp::create(
        b, loc, zero, index(depth), index(kMmaK * stepsPerIteration), inits,
        [&](OpBuilder &, Location, Value k0, ValueRange iterArgs) {
          SmallVector<Value> sums(iterArgs);
          for (int64_t s = 0; s < stepsPerIteration; ++s) {
            Value kStep = s ? add(k0, s * kMmaK) : k0;
            auto [aHi, aLo, bHi, bLo] = loadFragments(a, bOp, kStep, g, g8, t,
                                                      t2, t4, zero);
            unsigned big = s * perStep, small = big + perStep - 1;
            // Small terms first, so that they are not lost to the large one.
            if (!tf32x1) {
              sums[small] = mma(aLo, bHi, sums[small]);
              sums[small] = mma(aHi, bLo, sums[small]);
            }
            sums[big] = mma(aHi, bHi, sums[big]);
          }
          scf::YieldOp::create(b, loc, sums);
        });
    b.setInsertionPointAfter(loop);
    // The large sums together, the small ones together, then both.
    Value total = loop.getResult(0);
    if (loop.getNumResults() > 1) {
      Value small, large;
      for (auto [i, sum] : llvm::enumerate(loop.getResults())) {
        Value &into = (perStep == 2 && i % 2) ? small : large;
        into = into ? Value(arith::AddFOp::create(b, loc, into, sum)) : sum;
      }
      total = small ? Value(arith::AddFOp::create(b, loc, large, small)) : large;
    }
    for (auto [i, mn] : llvm::enumerate(cIndex)) {
      Value element = vector::ExtractOp::create(
          b, loc, total,
          ArrayRef<int64_t>{static_cast<int64_t>(i / 2),
                            static_cast<int64_t>(i % 2)});
      store(element, c, mn.first, mn.second, zero);
    }
    b.eraseOp(op);
  }

private:
  Value mma(Value x, Value y, Value sum) {
    return nvgpu::MmaSyncOp::create(b, loc, x, y, sum,
                                    ArrayRef<int64_t>{kMmaM, kMmaN, kMmaK},
                                    /*tf32Enabled=*/true);
  }

  /// The lane's A and B fragments of the k-step at k0, split into tf32
  /// (hi, lo; lo null with tf32x1).
  std::tuple<Value, Value, Value, Value>
  loadFragments(OpOperand *a, OpOperand *bOp, Value k0, Value g, Value g8,
                Value t, Value t2, Value t4, Value zero) {
    // The columns of k slots t and t + 4 (see the file comment).
    Value k, k4;
    SmallVector<Value> aElements;
    if (pairedLoads) {
      k = arith::AddIOp::create(b, loc, k0, t2);
      k4 = arith::AddIOp::create(b, loc, k, index(1));
      auto [aG, aG4] = loadPair(a, g, zero, k, k4);
      auto [aG8, aG84] = loadPair(a, g8, zero, k, k4);
      aElements = {aG, aG8, aG4, aG84};
    } else {
      k = arith::AddIOp::create(b, loc, k0, t);
      k4 = arith::AddIOp::create(b, loc, k0, t4);
      aElements = {load(a, g, zero, k), load(a, g8, zero, k),
                   load(a, g, zero, k4), load(a, g8, zero, k4)};
    }
    auto [aHi, aLo] = split(fragment(aElements, {4, 1}));
    auto [bK, bK4] = loadPair(bOp, zero, g, k, k4);
    auto [bHi, bLo] = split(fragment({bK, bK4}, {2, 1}));
    return {aHi, aLo, bHi, bLo};
  }

  Value index(int64_t value) {
    return arith::ConstantIndexOp::create(b, loc, value);
  }
  Value add(Value value, int64_t offset) {
    return arith::AddIOp::create(b, loc, value, index(offset));
  }

  /// The indices into `operand` at loop position (m, n, k).
  SmallVector<Value> indices(OpOperand *operand, Value m, Value n, Value k) {
    SmallVector<Value> loopValues(op.getNumLoops());
    loopValues[loops.m] = m;
    loopValues[loops.n] = n;
    loopValues[loops.k] = k;
    return getOperandIndices(op, operand, loopValues);
  }
  Value load(OpOperand *operand, Value m, Value n, Value k) {
    return memref::LoadOp::create(b, loc, operand->get(),
                                  indices(operand, m, n, k));
  }
  /// The elements of `operand` at k and k4 (m, n as given): one 64-bit
  /// load where k4 = k + 1 is the next element of a contiguous, 8-byte
  /// aligned pair, two loads otherwise.
  std::pair<Value, Value> loadPair(OpOperand *operand, Value m, Value n,
                                   Value k, Value k4) {
    if (!pairedLoads || !isPairLoadable(operand))
      return {load(operand, m, n, k), load(operand, m, n, k4)};
    auto pairType = VectorType::get({2}, b.getF32Type());
    Value pair = vector::LoadOp::create(b, loc, pairType, operand->get(),
                                        indices(operand, m, n, k),
                                        /*nontemporal=*/false, llvm::Align(8));
    return {vector::ExtractOp::create(b, loc, pair, ArrayRef<int64_t>{0}),
            vector::ExtractOp::create(b, loc, pair, ArrayRef<int64_t>{1})};
  }
  /// Whether k is `operand`'s last, unit-stride dimension and every (even)
  /// k of it starts an 8-byte aligned pair.
  bool isPairLoadable(OpOperand *operand) {
    AffineMap map = op.getMatchingIndexingMap(operand);
    if (map.getNumResults() == 0 ||
        map.getResults().back() != b.getAffineDimExpr(loops.k))
      return false;
    return hasEvenElementOffsets(operand->get());
  }

  void store(Value value, OpOperand *operand, Value m, Value n, Value k) {
    memref::StoreOp::create(b, loc, value, operand->get(),
                            indices(operand, m, n, k));
  }

  Value fragment(ArrayRef<Value> elements, ArrayRef<int64_t> shape) {
    return vector::FromElementsOp::create(
        b, loc, VectorType::get(shape, b.getF32Type()), elements);
  }

  /// x rounded to the nearest tf32 (10 mantissa bits), as f32 bits: add
  /// half of the dropped part's range to the magnitude, then drop it.
  Value roundToTF32(Value x) {
    auto floatType = cast<VectorType>(x.getType());
    auto intType = floatType.clone(b.getI32Type());
    auto splat = [&](int32_t value) -> Value {
      return arith::ConstantOp::create(
          b, loc, DenseElementsAttr::get(intType, b.getI32IntegerAttr(value)));
    };
    Value bits = arith::BitcastOp::create(b, loc, intType, x);
    bits = arith::AddIOp::create(b, loc, bits, splat(0x1000));
    bits = arith::AndIOp::create(b, loc, bits, splat(~0x1FFF));
    return arith::BitcastOp::create(b, loc, floatType, bits);
  }
  /// x as hi + lo, both tf32 (lo is null with tf32x1: only hi is used).
  std::pair<Value, Value> split(Value x) {
    Value hi = roundToTF32(x);
    if (tf32x1)
      return {hi, Value()};
    Value lo = roundToTF32(arith::SubFOp::create(b, loc, x, hi));
    return {hi, lo};
  }

  RewriterBase &b;
  linalg::LinalgOp op;
  MmaLoops loops;
  bool tf32x1;
  bool pairedLoads;
  bool splitAccumulators;
  Location loc;
};

LogicalResult rewriteWarpTile(RewriterBase &rewriter, scf::ForallOp forall,
                              const NatsGPUMmaSyncPassOptions &options) {
  if (forall.getNumResults() != 0)
    return forall.emitOpError("must be bufferized before it becomes mma.sync");
  SmallVector<linalg::LinalgOp> ops;
  forall.getBody()->walk([&](linalg::LinalgOp op) { ops.push_back(op); });
  if (ops.empty())
    return success(); // lane code already (nats-gpu-warp-reduce)
  // A fill of the tile first (nats-gpu-distribute fuses it in) is the
  // accumulators' initial value.
  auto fill = dyn_cast<linalg::FillOp>(ops.front().getOperation());
  if (ops.size() != (fill ? 2 : 1))
    return forall.emitOpError("needs one linalg op, a warp tile, or a fill "
                              "of its output and then the tile, got ")
           << ops.size() << " linalg ops";
  linalg::LinalgOp op = ops.back();
  if (fill && (!fill.hasPureBufferSemantics() ||
               fill.getDpsInits()[0] != op.getDpsInits()[0]))
    return fill->emitOpError("must fill the output of the warp tile it "
                             "precedes, on buffers");
  std::optional<MmaLoops> loops = getMmaLoops(op);
  SmallVector<int64_t> sizes = op.getStaticLoopRanges();
  if (!op.hasPureBufferSemantics() || !loops || sizes[loops->m] != kMmaM ||
      sizes[loops->n] != kMmaN)
    return op->emitOpError("is not a 16x8 tile of an f32 contraction on "
                           "buffers, which one mma.sync warp tile computes");
  Value initial = fill ? fill.getDpsInputs()[0] : Value();
  if (fill)
    rewriter.eraseOp(fill);
  MmaTileBuilder(rewriter, op, *loops, options).build(initial);
  return success();
}

struct NatsGPUMmaSyncPass
    : nats::impl::NatsGPUMmaSyncPassBase<NatsGPUMmaSyncPass> {
  using Base::Base;

  void runOnOperation() override {
    FailureOr<MmaPrecision> resolved = getFunctionPrecision();
    if (failed(resolved))
      return signalPassFailure();
    IRRewriter rewriter(&getContext());
    SmallVector<scf::ForallOp> foralls;
    getOperation().walk([&](scf::ForallOp forall) {
      if (isWarpForall(forall))
        foralls.push_back(forall);
    });
    for (scf::ForallOp forall : foralls)
      if (failed(rewriteWarpTile(rewriter, forall,
                                 {*resolved, pairedLoads, splitAccumulators})))
        return signalPassFailure();
  }

  /// This function's precision: the option, or with auto the function's
  /// mark (3xTF32 without one), which this pass consumes (nothing after it
  /// reads it).
  FailureOr<MmaPrecision> getFunctionPrecision() {
    func::FuncOp func = getOperation();
    Attribute mark = func->removeAttr(kMmaPrecisionAttrName);
    if (precision != MmaPrecision::Auto)
      return precision.getValue();
    if (!mark)
      return MmaPrecision::ThreeTF32;
    auto name = dyn_cast<StringAttr>(mark);
    std::optional<MmaPrecision> named =
        name ? parseMmaPrecisionMark(name.getValue()) : std::nullopt;
    if (!named)
      return func.emitOpError()
             << "has " << kMmaPrecisionAttrName << " = " << mark
             << ", expected \"" << getMmaPrecisionMark(MmaPrecision::TF32)
             << "\" or \"" << getMmaPrecisionMark(MmaPrecision::ThreeTF32)
             << "\"";
    return *named;
  }
};

} // namespace
