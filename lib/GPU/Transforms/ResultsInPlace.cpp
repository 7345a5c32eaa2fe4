//===- ResultsInPlace.cpp - a block's results computed where they go -----===//
//
// A block's result that its forall inserts into a kernel output (or that a
// loop records in one) is computed into a scratch tensor and copied out
// at the block's end. Upstream's empty tensor elimination computes it in
// place instead: the empty it starts from becomes the destination's slice,
// global memory. That saves the copy's phase and the scratch buffer, but a
// value that a sequential loop carries would then live in global memory
// too, read back and written every iteration (the state pass's state): such
// values keep their scratch buffer. So do values that the block reads again
// besides recording them (an operand of a later product): it would read
// them back from global memory.
//
//===----------------------------------------------------------------------===//

#include "nats/GPU/Transforms/Passes.h"

#include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.h"
#include "mlir/Dialect/Bufferization/Transforms/OneShotAnalysis.h"
#include "mlir/Dialect/Bufferization/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Interfaces/SubsetOpInterface.h"

namespace mlir::nats {
#define GEN_PASS_DEF_NATSGPURESULTSINPLACEPASS
#include "nats/GPU/Transforms/Passes.h.inc"
} // namespace mlir::nats

using namespace mlir;
using namespace mlir::nats;

namespace {

/// Whether `value`, followed back through the operands it may alias (every
/// one: both branches of an scf.if or a select), may come out of a
/// sequential loop (a value it carries).
bool isLoopCarried(const bufferization::AnalysisState &state, Value value) {
  SmallVector<Value> worklist{value};
  llvm::SmallPtrSet<Value, 8> seen;
  while (!worklist.empty()) {
    auto result = dyn_cast<OpResult>(worklist.pop_back_val());
    if (!result || !seen.insert(result).second)
      continue;
    if (isa<scf::ForOp, scf::WhileOp>(result.getOwner()))
      return true;
    for (const bufferization::AliasingOpOperand &alias :
         state.getAliasingOpOperands(result))
      worklist.push_back(alias.opOperand->get());
  }
  return false;
}

struct NatsGPUResultsInPlacePass
    : nats::impl::NatsGPUResultsInPlacePassBase<NatsGPUResultsInPlacePass> {
  void runOnOperation() override {
    Operation *op = getOperation();
    // The analysis only: which operands bufferize in place, hence which
    // values the elimination may follow; with the defaults that the
    // pipeline's one-shot-bufferize keeps (no allocations returned from
    // loops), so that both decide alike.
    bufferization::OneShotBufferizationOptions options;
    bufferization::OneShotAnalysisState state(op, options);
    if (failed(bufferization::analyzeOp(op, state)))
      return signalPassFailure();
    IRRewriter rewriter(&getContext());
    auto outsideLoops = [&](RewriterBase &b, SubsetInsertionOpInterface insert,
                            tensor::EmptyOp empty, Operation *user) -> Value {
      Value source = insert.getSourceOperand().get();
      if (!source.hasOneUse() || isLoopCarried(state, source))
        return {};
      return bufferization::buildSubsetExtraction(b, insert, empty, user);
    };
    if (failed(bufferization::eliminateEmptyTensors(rewriter, op, state,
                                                    outsideLoops)))
      signalPassFailure();
  }
};

} // namespace
