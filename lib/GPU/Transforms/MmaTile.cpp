//===- MmaTile.cpp - which contractions run on tensor cores ---------------===//

#include "nats/GPU/Transforms/MmaTile.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"

using namespace mlir;

std::optional<nats::MmaLoops> nats::getMmaLoops(linalg::LinalgOp op) {
  if (!linalg::isaContractionOpInterface(op) || op.getNumDpsInputs() != 2 ||
      op.getNumDpsInits() != 1)
    return std::nullopt;
  FailureOr<linalg::ContractionDimensions> dims =
      linalg::inferContractionDims(op);
  if (failed(dims) || !dims->batch.empty() || dims->m.size() != 1 ||
      dims->n.size() != 1 || dims->k.size() != 1)
    return std::nullopt;
  // Inputs of 16-bit floats are widened as they are loaded.
  auto isOperandType = [&](OpOperand &operand) {
    Type element = getElementTypeOrSelf(operand.get().getType());
    return element.isF32() ||
           (op.isDpsInput(&operand) && (element.isBF16() || element.isF16()));
  };
  for (OpOperand &operand : op->getOpOperands())
    if (!isOperandType(operand) ||
        !op.getMatchingIndexingMap(&operand).isProjectedPermutation())
      return std::nullopt;
  SmallVector<int64_t> sizes = op.getStaticLoopRanges();
  MmaLoops loops{dims->m[0], dims->n[0], dims->k[0]};
  auto fits = [&](unsigned loop, int64_t tile) {
    return !ShapedType::isDynamic(sizes[loop]) && sizes[loop] % tile == 0;
  };
  if (!fits(loops.m, kMmaM) || !fits(loops.n, kMmaN) || !fits(loops.k, kMmaK))
    return std::nullopt;
  return loops;
}

/// Whether `op` is a linalg.generic that writes each element of its one
/// output at its own position: all loops parallel, the output through the
/// identity map. The question both predicates below start with.
static bool writesEachElement(linalg::LinalgOp op) {
  return isa<linalg::GenericOp>(op.getOperation()) &&
         op.getNumDpsInits() == 1 &&
         op.getNumLoops() == op.getNumParallelLoops() &&
         op.getMatchingIndexingMap(op.getDpsInitOperand(0)).isIdentity();
}

bool nats::isElementwiseUpdate(linalg::LinalgOp op) {
  if (!writesEachElement(op) ||
      llvm::any_of(op.getDpsInputOperands(), [&](OpOperand *input) {
        return !op.getMatchingIndexingMap(input).isProjectedPermutation();
      }))
    return false;
  return !op.getBlock()
              ->walk([](linalg::IndexOp) { return WalkResult::interrupt(); })
              .wasInterrupted();
}

bool nats::isElementwiseMapOf(linalg::LinalgOp op, Value result) {
  if (!writesEachElement(op) ||
      !op.getMatchingBlockArgument(op.getDpsInitOperand(0)).use_empty())
    return false;
  bool readsResult = false;
  for (OpOperand *input : op.getDpsInputOperands()) {
    AffineMap map = op.getMatchingIndexingMap(input);
    if (input->get() == result && map.isIdentity())
      readsResult = true;
    else if (input->get() == result || !map.isProjectedPermutation())
      return false;
  }
  return readsResult;
}

bool nats::isRegisterTile(MemRefType type) {
  auto space = dyn_cast_or_null<gpu::AddressSpaceAttr>(type.getMemorySpace());
  return space && space.getValue() == gpu::AddressSpace::Private;
}
