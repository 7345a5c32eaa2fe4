//===- WarpReduce.cpp - warp tiles of reductions become lanes and shuffles ===//
//
// One warp computes one output element of a reduction of n iterations
// (n a multiple of 32): lane l folds iterations l, l + 32, ... into its own
// partial (the op's body, the output replaced by the partial, which starts
// at the combiner's identity), five butterfly shuffles fold the 32 partials
// (every lane ends with the total), and the total is folded into the
// output once. A thread alone would take n dependent steps; the warp takes
// n / 32 + 5. The sum is reassociated: lanes' partials, then the tree.
//
//===----------------------------------------------------------------------===//

#include "nats/GPU/Transforms/LaneCode.h"
#include "nats/GPU/Transforms/Mapping.h"
#include "nats/GPU/Transforms/Passes.h"
#include "nats/GPU/Transforms/WarpReduction.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::nats {
#define GEN_PASS_DEF_NATSGPUWARPREDUCEPASS
#include "nats/GPU/Transforms/Passes.h.inc"
} // namespace mlir::nats

using namespace mlir;
using namespace mlir::nats;

namespace {

/// Emits one warp's code for the reduction tile `op` in place of it.
class WarpReductionBuilder {
public:
  WarpReductionBuilder(RewriterBase &rewriter, linalg::LinalgOp op,
                       WarpReduction reduction)
      : b(rewriter), op(op), reduction(reduction), loc(op.getLoc()) {}

  void build() {
    b.setInsertionPoint(op);
    Value lane = gpu::LaneIdOp::create(b, loc, /*upperBound=*/nullptr);
    Block *body = op.getBlock();
    OpOperand *init = op.getDpsInitOperand(0);
    int64_t extent = op.getStaticLoopRanges()[reduction.loop];
    Value identity = arith::ConstantOp::create(b, loc, reduction.identity);

    // A constant trip count (extent / 32 rounds), which LLVM unrolls.
    auto rounds = scf::ForOp::create(
        b, loc, index(0), index(extent / kWarpSize), index(1),
        ValueRange{identity},
        [&](OpBuilder &, Location, Value round, ValueRange partial) {
          Value k = arith::AddIOp::create(
              b, loc, lane,
              arith::MulIOp::create(b, loc, round, index(kWarpSize)),
              arith::IntegerOverflowFlags::nuw |
                  arith::IntegerOverflowFlags::nsw);
          SmallVector<Value> loopValues(op.getNumLoops(), index(0));
          loopValues[reduction.loop] = k;
          IRMapping mapping;
          for (OpOperand *input : op.getDpsInputOperands())
            mapping.map(op.getMatchingBlockArgument(input),
                        load(input, loopValues));
          mapping.map(op.getMatchingBlockArgument(init), partial[0]);
          for (Operation &inner : body->without_terminator()) {
            if (auto position = dyn_cast<linalg::IndexOp>(inner)) {
              mapping.map(position.getResult(), loopValues[position.getDim()]);
              continue;
            }
            b.clone(inner, mapping);
          }
          scf::YieldOp::create(
              b, loc, mapping.lookup(body->getTerminator()->getOperand(0)));
        });
    b.setInsertionPointAfter(rounds);
    Value total = rounds.getResult(0);
    for (int32_t offset = kWarpSize / 2; offset >= 1; offset /= 2) {
      auto other = gpu::ShuffleOp::create(b, loc, total, offset, kWarpSize,
                                          gpu::ShuffleMode::XOR);
      total = combine(total, other.getShuffleResult());
    }
    // Every lane holds the total and stores the same value.
    SmallVector<Value> origin(op.getNumLoops(), index(0));
    Value result = combine(total, load(init, origin));
    memref::StoreOp::create(b, loc, result, init->get(),
                            getOperandIndices(op, init, origin));
    b.eraseOp(op);
  }

private:
  Value index(int64_t value) {
    return arith::ConstantIndexOp::create(b, loc, value);
  }

  Value load(OpOperand *operand, ArrayRef<Value> loopValues) {
    return memref::LoadOp::create(b, loc, operand->get(),
                                  getOperandIndices(op, operand, loopValues));
  }

  /// The combiner applied to (x, y), with its attributes (fastmath).
  Value combine(Value x, Value y) {
    OperationState state(loc, reduction.combiner->getName());
    state.addOperands({x, y});
    state.addTypes(x.getType());
    state.addAttributes(reduction.combiner->getAttrs());
    return b.create(state)->getResult(0);
  }

  RewriterBase &b;
  linalg::LinalgOp op;
  WarpReduction reduction;
  Location loc;
};

/// Whether every loop of `op` but `reductionLoop` has one iteration.
bool isSingleOutput(linalg::LinalgOp op, unsigned reductionLoop) {
  for (auto [i, size] : llvm::enumerate(op.getStaticLoopRanges()))
    if (i != reductionLoop && size != 1)
      return false;
  return true;
}

struct NatsGPUWarpReducePass
    : nats::impl::NatsGPUWarpReducePassBase<NatsGPUWarpReducePass> {
  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    SmallVector<std::pair<linalg::LinalgOp, WarpReduction>> tiles;
    WalkResult walk = getOperation().walk([&](linalg::LinalgOp op) {
      auto forall = op->getParentOfType<scf::ForallOp>();
      if (!forall || !isWarpForall(forall))
        return WalkResult::advance();
      // A reduction tile is one output element; a tensor-core tile (16 x 8
      // outputs, a reduction too) is nats-gpu-mma-sync's.
      std::optional<WarpReduction> reduction = getWarpReduction(op);
      if (!reduction || !isSingleOutput(op, reduction->loop))
        return WalkResult::advance();
      if (!op.hasPureBufferSemantics()) {
        op->emitOpError("must be bufferized before it becomes a warp's "
                        "shuffle reduction");
        return WalkResult::interrupt();
      }
      for (AffineMap map : op.getIndexingMapsArray())
        if (!map.isProjectedPermutation()) {
          op->emitOpError("needs projected-permutation indexing maps to "
                          "become a warp's shuffle reduction");
          return WalkResult::interrupt();
        }
      tiles.emplace_back(op, *reduction);
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return signalPassFailure();
    for (auto [op, reduction] : tiles)
      WarpReductionBuilder(rewriter, op, reduction).build();
  }
};

} // namespace
