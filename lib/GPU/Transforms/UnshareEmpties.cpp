//===- UnshareEmpties.cpp - one empty, or fill of one, per use in a block -===//

#include "nats/GPU/Transforms/InPlace.h"
#include "nats/GPU/Transforms/Mapping.h"
#include "nats/GPU/Transforms/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
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

/// The extract_slice of `use`'s value that `use` writes back, where `use` is
/// the destination of a tensor.insert_slice whose source was computed in
/// place from that slice (the same offsets, sizes and strides, reached
/// through destinations only): an update of a part of the value, which
/// bufferization does in place as long as both uses see the same value.
tensor::ExtractSliceOp getSliceWrittenBack(OpOperand &use) {
  auto insert = dyn_cast<tensor::InsertSliceOp>(use.getOwner());
  if (!insert || &use != &insert.getDestMutable())
    return {};
  Value source = getInPlaceSource(insert.getSource());
  auto slice = source.getDefiningOp<tensor::ExtractSliceOp>();
  if (!slice || slice.getSource() != use.get() ||
      !mlir::detail::sameOffsetsSizesAndStrides(
          slice, insert, [](OpFoldResult a, OpFoldResult b) { return a == b; }))
    return {};
  return slice;
}

/// Those of `uses` that write a slice of their value back, with the slices
/// (found before any use changes: unsharing changes the slices' sources).
SmallVector<std::pair<OpOperand *, tensor::ExtractSliceOp>>
getSlicesWrittenBack(ArrayRef<OpOperand *> uses) {
  SmallVector<std::pair<OpOperand *, tensor::ExtractSliceOp>> writeBacks;
  for (OpOperand *use : uses)
    if (tensor::ExtractSliceOp slice = getSliceWrittenBack(*use))
      writeBacks.push_back({use, slice});
  return writeBacks;
}

/// Points each use that writes a slice back (getSliceWrittenBack) at the
/// value its slice now reads, which unsharing may have changed.
void rejoinSlicesWrittenBack(
    RewriterBase &rewriter,
    ArrayRef<std::pair<OpOperand *, tensor::ExtractSliceOp>> writeBacks) {
  for (auto [use, slice] : writeBacks)
    rewriter.modifyOpInPlace(use->getOwner(),
                             [&] { use->set(slice.getSource()); });
}

/// Moves `fill` (and `empty`, where only the fill uses it) right before
/// the first op of its block that uses it: its buffer is then live from
/// there on only. (Canonicalization merges equal fills, e.g. the zeros a
/// product accumulates into and the zero matrix a later step builds on:
/// once the product has taken in a fill of its own, the one left over would
/// hold its buffer across every phase in between.)
void sinkToFirstUser(RewriterBase &rewriter, scf::ForallOp fill,
                     tensor::EmptyOp empty) {
  Block *block = fill->getBlock();
  Operation *first = nullptr;
  for (Operation *user : fill->getUsers()) {
    Operation *ancestor = block->findAncestorOpInBlock(*user);
    if (ancestor && (!first || ancestor->isBeforeInBlock(first)))
      first = ancestor;
  }
  if (!first || first == fill->getNextNode())
    return;
  if (empty->hasOneUse() && empty->getBlock() == block)
    rewriter.moveOpBefore(empty, first);
  rewriter.moveOpBefore(fill, first);
}

/// Each block-level user that writes into a fill written by several, or by
/// one in a loop below it, gets a fill of its own right before it: the
/// work of the copy that bufferization would make for it, into a buffer
/// the pad-rows pass sees. Readers keep the original, moved to the first
/// of them.
void unshareFill(RewriterBase &rewriter, scf::ForallOp fill,
                 tensor::EmptyOp empty) {
  SmallVector<OpOperand *> uses = llvm::map_to_vector(
      fill->getUses(), [](OpOperand &use) { return &use; });
  if (uses.size() == 1 &&
      uses.front()->getOwner()->getParentRegion() == fill->getParentRegion())
    return sinkToFirstUser(rewriter, fill, empty);
  auto writeBacks = getSlicesWrittenBack(uses);
  for (OpOperand *use : uses) {
    Operation *user = use->getOwner();
    if (llvm::is_contained(llvm::make_first_range(writeBacks), use) ||
        !isBlockLevel(user) || !writesInto(*use))
      continue;
    rewriter.setInsertionPoint(user);
    IRMapping mapping;
    mapping.map(empty.getResult(), rewriter.clone(*empty)->getResult(0));
    Operation *own = rewriter.clone(*fill, mapping);
    rewriter.modifyOpInPlace(user, [&] { use->set(own->getResult(0)); });
  }
  rejoinSlicesWrittenBack(rewriter, writeBacks);
  if (!fill->use_empty())
    return sinkToFirstUser(rewriter, fill, empty);
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
  auto writeBacks = getSlicesWrittenBack(uses);
  for (OpOperand *use : uses) {
    Operation *user = use->getOwner();
    if (llvm::is_contained(llvm::make_first_range(writeBacks), use))
      continue;
    bool blockLevel = isBlockLevel(user);
    if (!blockLevel && !originalTaken) {
      originalTaken = true;
      continue;
    }
    rewriter.setInsertionPoint(blockLevel ? user : empty.getOperation());
    Operation *clone = rewriter.clone(*empty);
    rewriter.modifyOpInPlace(user, [&] { use->set(clone->getResult(0)); });
  }
  rejoinSlicesWrittenBack(rewriter, writeBacks);
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
