//===- UnshareEmpties.cpp - one empty, or fill of one, per use in a block -===//

#include "nats/GPU/Transforms/Mapping.h"
#include "nats/GPU/Transforms/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::nats {
#define GEN_PASS_DEF_NATSGPUUNSHAREEMPTIESPASS
#include "nats/GPU/Transforms/Passes.h.inc"
} // namespace mlir::nats

using namespace mlir;
using namespace mlir::nats;

namespace {

/// Whether `op` runs once per block iteration (a block's own op) and others
/// may be put before it (not one of a forall's parallel inserts).
bool isBlockLevel(Operation *op) {
  return !isa<scf::InParallelOp>(op->getParentOp()) &&
         isInBlockOutsideThreads(op);
}

/// The empty that `forall` fills with a value from outside it (a
/// linalg.fill that nats-gpu-distribute spread over the threads), or null.
tensor::EmptyOp getFilledEmpty(scf::ForallOp forall) {
  if (!isThreadForall(forall) || forall.getNumResults() != 1)
    return {};
  auto empty = forall.getOutputs()[0].getDefiningOp<tensor::EmptyOp>();
  SmallVector<linalg::LinalgOp> ops;
  forall.getBody()->walk([&](linalg::LinalgOp op) { ops.push_back(op); });
  if (!empty || ops.size() != 1 || !isa<linalg::FillOp>(ops.front()) ||
      !forall.isDefinedOutsideOfLoop(ops.front().getDpsInputs()[0]))
    return {};
  return empty;
}

/// Whether `use` makes its op write into the value: a destination (a
/// linalg op's init, a forall's shared output) or a loop's initial
/// iteration argument. Reads share a value without copies.
bool writesInto(OpOperand &use) {
  Operation *user = use.getOwner();
  if (auto dps = dyn_cast<DestinationStyleOpInterface>(user))
    return dps.isDpsInit(&use);
  if (auto forall = dyn_cast<scf::ForallOp>(user))
    return llvm::is_contained(forall.getOutputs(), use.get());
  if (auto loop = dyn_cast<scf::ForOp>(user))
    return llvm::is_contained(loop.getInitArgs(), use.get());
  return false;
}

/// Each block-level user that writes into a fill written by several, or by
/// one in a loop below it, gets a fill of its own right before it: the
/// work of the copy that bufferization would make for it, into a buffer
/// the pad-rows pass sees. Readers keep the original.
void unshareFill(RewriterBase &rewriter, scf::ForallOp fill,
                 tensor::EmptyOp empty) {
  SmallVector<OpOperand *> uses = llvm::map_to_vector(
      fill->getUses(), [](OpOperand &use) { return &use; });
  if (uses.size() == 1 &&
      uses.front()->getOwner()->getParentRegion() == fill->getParentRegion())
    return;
  for (OpOperand *use : uses) {
    Operation *user = use->getOwner();
    if (!isBlockLevel(user) || !writesInto(*use))
      continue;
    rewriter.setInsertionPoint(user);
    IRMapping mapping;
    mapping.map(empty.getResult(), rewriter.clone(*empty)->getResult(0));
    Operation *own = rewriter.clone(*fill, mapping);
    rewriter.modifyOpInPlace(user, [&] { use->set(own->getResult(0)); });
  }
  if (fill->use_empty())
    rewriter.eraseOp(fill);
  if (empty->use_empty())
    rewriter.eraseOp(empty);
}

/// Each use of a shared empty gets an empty of its own: right before a
/// block-level user (its buffer is then live from there on only), else
/// beside the original, which the first such use keeps.
void unshareEmpty(RewriterBase &rewriter, tensor::EmptyOp empty) {
  SmallVector<OpOperand *> uses = llvm::map_to_vector(
      empty->getUses(), [](OpOperand &use) { return &use; });
  bool originalTaken = false;
  for (OpOperand *use : uses) {
    Operation *user = use->getOwner();
    bool blockLevel = isBlockLevel(user);
    if (!blockLevel && !originalTaken) {
      originalTaken = true;
      continue;
    }
    rewriter.setInsertionPoint(blockLevel ? user : empty.getOperation());
    Operation *clone = rewriter.clone(*empty);
    rewriter.modifyOpInPlace(user, [&] { use->set(clone->getResult(0)); });
  }
  if (empty->use_empty())
    rewriter.eraseOp(empty);
}

struct NatsGPUUnshareEmptiesPass
    : nats::impl::NatsGPUUnshareEmptiesPassBase<NatsGPUUnshareEmptiesPass> {
  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    SmallVector<std::pair<scf::ForallOp, tensor::EmptyOp>> fills;
    getOperation().walk([&](scf::ForallOp forall) {
      if (tensor::EmptyOp empty = getFilledEmpty(forall))
        if (isBlockLevel(forall))
          fills.push_back({forall, empty});
    });
    for (auto [fill, empty] : fills)
      unshareFill(rewriter, fill, empty);
    // After the fills, which made empties of their own.
    SmallVector<tensor::EmptyOp> empties;
    getOperation().walk([&](tensor::EmptyOp empty) {
      if (getEnclosingBlockForall(empty) && !empty->hasOneUse() &&
          !empty->use_empty())
        empties.push_back(empty);
    });
    for (tensor::EmptyOp empty : empties)
      unshareEmpty(rewriter, empty);
  }
};

} // namespace
