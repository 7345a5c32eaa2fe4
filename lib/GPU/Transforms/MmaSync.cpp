//===- MmaSync.cpp - warp tiles of contractions become mma.sync -----------===//
//
// One warp computes a 16 × 8 tile of C += A · B with m16n8k8 mma.sync. The
// operands stay f32 in memory; each is split into two tf32 parts (3xTF32),
// so that tensor cores do the products at f32 accuracy: the lowering makes
// the same numbers as the FMA loops it replaces, to within f32 rounding.
// With tf32x1, one product of the operands rounded to tf32 per step.
//
// Fragment layout (PTX ISA, mma.m16n8k8 .tf32): lane = 4·g + t;
//   A: a0 = A[g][t], a1 = A[g+8][t], a2 = A[g][t+4], a3 = A[g+8][t+4]
//   B: b0 = B[t][g], b1 = B[t+4][g]
//   C: c0 = C[g][2t], c1 = C[g][2t+1], c2 = C[g+8][2t], c3 = C[g+8][2t+1]
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

/// Emits one warp's code for the tile `op` in place of it.
class MmaTileBuilder {
public:
  MmaTileBuilder(RewriterBase &rewriter, linalg::LinalgOp op, MmaLoops loops,
                 bool tf32x1)
      : b(rewriter), op(op), loops(loops), tf32x1(tf32x1), loc(op.getLoc()) {}

  void build() {
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
    SmallVector<Value> cValues;
    for (auto [m, n] : cIndex)
      cValues.push_back(load(c, m, n, zero));
    Value acc = vector::FromElementsOp::create(
        b, loc, VectorType::get({2, 2}, b.getF32Type()), cValues);

    int64_t depth = op.getStaticLoopRanges()[loops.k];
    auto step = scf::ForOp::create(
        b, loc, zero, index(depth), index(kMmaK), ValueRange{acc},
        [&](OpBuilder &, Location, Value k0, ValueRange iterArgs) {
          Value k = arith::AddIOp::create(b, loc, k0, t);
          Value k4 = arith::AddIOp::create(b, loc, k0, t4);
          auto [aHi, aLo] = split(fragment(
              {load(a, g, zero, k), load(a, g8, zero, k), load(a, g, zero, k4),
               load(a, g8, zero, k4)},
              {4, 1}));
          auto [bHi, bLo] = split(
              fragment({load(bOp, zero, g, k), load(bOp, zero, g, k4)}, {2, 1}));
          // Small terms first, so that they are not lost to the large one.
          SmallVector<std::pair<Value, Value>> products = {{aHi, bHi}};
          if (!tf32x1)
            products = {{aLo, bHi}, {aHi, bLo}, {aHi, bHi}};
          Value sum = iterArgs[0];
          for (auto [x, y] : products)
            sum = nvgpu::MmaSyncOp::create(b, loc, x, y, sum,
                                           ArrayRef<int64_t>{kMmaM, kMmaN, kMmaK},
                                           /*tf32Enabled=*/true);
          scf::YieldOp::create(b, loc, sum);
        });
    b.setInsertionPointAfter(step);
    for (auto [i, mn] : llvm::enumerate(cIndex)) {
      Value element = vector::ExtractOp::create(
          b, loc, step.getResult(0),
          ArrayRef<int64_t>{static_cast<int64_t>(i / 2),
                            static_cast<int64_t>(i % 2)});
      store(element, c, mn.first, mn.second, zero);
    }
    b.eraseOp(op);
  }

private:
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
  Location loc;
};

LogicalResult rewriteWarpTile(RewriterBase &rewriter, scf::ForallOp forall,
                              bool tf32x1) {
  if (forall.getNumResults() != 0)
    return forall.emitOpError("must be bufferized before it becomes mma.sync");
  SmallVector<linalg::LinalgOp> ops;
  forall.getBody()->walk([&](linalg::LinalgOp op) { ops.push_back(op); });
  if (ops.empty())
    return success(); // lane code already (nats-gpu-warp-reduce)
  if (ops.size() != 1)
    return forall.emitOpError("needs exactly one linalg op, a warp tile, got ")
           << ops.size();
  linalg::LinalgOp op = ops.front();
  std::optional<MmaLoops> loops = getMmaLoops(op);
  SmallVector<int64_t> sizes = op.getStaticLoopRanges();
  if (!op.hasPureBufferSemantics() || !loops || sizes[loops->m] != kMmaM ||
      sizes[loops->n] != kMmaN)
    return op->emitOpError("is not a 16x8 tile of an f32 contraction on "
                           "buffers, which one mma.sync warp tile computes");
  MmaTileBuilder(rewriter, op, *loops, tf32x1).build();
  return success();
}

struct NatsGPUMmaSyncPass
    : nats::impl::NatsGPUMmaSyncPassBase<NatsGPUMmaSyncPass> {
  using Base::Base;

  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    SmallVector<scf::ForallOp> foralls;
    getOperation().walk([&](scf::ForallOp forall) {
      if (isWarpForall(forall))
        foralls.push_back(forall);
    });
    for (scf::ForallOp forall : foralls)
      if (failed(rewriteWarpTile(rewriter, forall, tf32x1)))
        return signalPassFailure();
  }
};

} // namespace
