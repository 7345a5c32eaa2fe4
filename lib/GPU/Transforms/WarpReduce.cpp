//===- WarpReduce.cpp - warp tiles of reductions become lanes and shuffles ===//
//
// One warp computes r output elements of a reduction of n iterations (r a
// power of two, n a multiple of 32), each on a group of g = 32 / r lanes:
// lane l of output l / g folds iterations l % g, l % g + g, ... into its own
// partial (the op's body, the output replaced by the partial, which starts
// at the combiner's identity), log2(g) butterfly shuffles within the group
// fold its g partials (every lane of it ends with the total), and the total
// is folded into the output once. A thread alone would take n dependent
// steps; the group takes n / g + log2(g). The sum is reassociated: lanes'
// partials, then the tree.
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

/// The outputs of a reduction tile: `count` along `loop` (none where the
/// count is 1), one along every other loop.
struct OutputRows {
  std::optional<unsigned> loop;
  int64_t count = 1;
};

/// Emits one warp's code for the reduction tile `op` in place of it.
class WarpReductionBuilder {
public:
  /// `initial`: the value a fill of the tile's output (erased) gave every
  /// output, or null (the outputs are loaded).
  WarpReductionBuilder(RewriterBase &rewriter, linalg::LinalgOp op,
                       WarpReduction reduction, OutputRows rows,
                       Value initial)
      : b(rewriter), op(op), reduction(reduction), rows(rows),
        initial(initial), loc(op.getLoc()) {}

  void build() {
    b.setInsertionPoint(op);
    int64_t lanes = kWarpSize / rows.count;
    Value groupSize = index(lanes);
    Value laneId = gpu::LaneIdOp::create(b, loc, /*upperBound=*/nullptr);
    // The lane's place in its group, and its group's output.
    Value lane = lanes == kWarpSize
                     ? laneId
                     : Value(arith::RemUIOp::create(b, loc, laneId, groupSize));
    SmallVector<Value> origin(op.getNumLoops(), index(0));
    if (rows.loop)
      origin[*rows.loop] = arith::DivUIOp::create(b, loc, laneId, groupSize);
    OpOperand *init = op.getDpsInitOperand(0);
    int64_t extent = op.getStaticLoopRanges()[reduction.loop];
    Value identity = arith::ConstantOp::create(b, loc, reduction.identity);

    // A constant trip count (extent / lanes rounds), which LLVM unrolls.
    auto rounds = scf::ForOp::create(
        b, loc, index(0), index(extent / lanes), index(1),
        ValueRange{identity},
        [&](OpBuilder &, Location, Value round, ValueRange partial) {
          Value k = arith::AddIOp::create(
              b, loc, lane, arith::MulIOp::create(b, loc, round, groupSize),
              arith::IntegerOverflowFlags::nuw |
                  arith::IntegerOverflowFlags::nsw);
          SmallVector<Value> loopValues(origin);
          loopValues[reduction.loop] = k;
          IRMapping mapping;
          for (OpOperand *input : op.getDpsInputOperands())
            mapping.map(op.getMatchingBlockArgument(input),
                        load(input, loopValues));
          mapping.map(op.getMatchingBlockArgument(init), partial[0]);
          scf::YieldOp::create(b, loc, cloneBodyAt(b, op, mapping, loopValues));
        });
    b.setInsertionPointAfter(rounds);
    Value total = rounds.getResult(0);
    // Offsets below the group's size stay within the group.
    for (int32_t offset = lanes / 2; offset >= 1; offset /= 2) {
      auto other = gpu::ShuffleOp::create(b, loc, total, offset, kWarpSize,
                                          gpu::ShuffleMode::XOR);
      total = combine(total, other.getShuffleResult());
    }
    // Every lane of the group holds the total and stores the same value.
    Value result = combine(total, initial ? initial : load(init, origin));
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
  OutputRows rows;
  Value initial;
  Location loc;
};

/// The outputs of the reduction tile `op` where a warp's lanes split into
/// one group each: a power of two of at most 32 along one loop (their
/// groups of lanes must divide the reduction), one along the others.
std::optional<OutputRows> getOutputRows(linalg::LinalgOp op,
                                        unsigned reductionLoop) {
  OutputRows rows;
  SmallVector<int64_t> sizes = op.getStaticLoopRanges();
  for (auto [i, size] : llvm::enumerate(sizes)) {
    if (i == reductionLoop || size == 1)
      continue;
    if (rows.loop)
      return std::nullopt;
    rows = {static_cast<unsigned>(i), size};
  }
  if (!llvm::isPowerOf2_64(rows.count) || rows.count > kWarpSize ||
      sizes[reductionLoop] % (kWarpSize / rows.count))
    return std::nullopt;
  return rows;
}

struct NatsGPUWarpReducePass
    : nats::impl::NatsGPUWarpReducePassBase<NatsGPUWarpReducePass> {
  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    struct Tile {
      linalg::LinalgOp op;
      WarpReduction reduction;
      OutputRows rows;
      linalg::FillOp fill; // of the output, just before (fused in), or null
    };
    SmallVector<Tile> tiles;
    WalkResult walk = getOperation().walk([&](linalg::LinalgOp op) {
      auto forall = op->getParentOfType<scf::ForallOp>();
      if (!forall || !isWarpForall(forall))
        return WalkResult::advance();
      // A reduction tile is a row of outputs; a tensor-core tile (16 x 8
      // outputs, a reduction too) is nats-gpu-mma-sync's.
      std::optional<WarpReduction> reduction = getWarpReduction(op);
      if (!reduction)
        return WalkResult::advance();
      std::optional<OutputRows> rows = getOutputRows(op, reduction->loop);
      if (!rows)
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
      // nats-gpu-distribute fuses the fill of the output into the tile: the
      // lanes fold their total into its value instead of a load (and the
      // fill's stores, another phase before the tile, go).
      auto fill = dyn_cast_if_present<linalg::FillOp>(op->getPrevNode());
      if (fill && (!fill.hasPureBufferSemantics() ||
                   fill.getDpsInits()[0] != op.getDpsInits()[0]))
        fill = nullptr;
      tiles.push_back({op, *reduction, *rows, fill});
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return signalPassFailure();
    for (auto [op, reduction, rows, fill] : tiles) {
      Value initial = fill ? fill.getDpsInputs()[0] : Value();
      WarpReductionBuilder(rewriter, op, reduction, rows, initial).build();
      if (fill)
        rewriter.eraseOp(fill);
    }
  }
};

} // namespace
