//===- Mapping.cpp - which scf.forall runs on blocks, which on threads ----===//

#include "nats/GPU/Transforms/Mapping.h"

using namespace mlir;

namespace {
template <typename MappingAttrT>
bool isMappedTo(scf::ForallOp forall) {
  std::optional<ArrayAttr> mapping = forall.getMapping();
  return mapping && !mapping->empty() &&
         llvm::all_of(*mapping, llvm::IsaPred<MappingAttrT>);
}
} // namespace

bool mlir::nats::isBlockForall(scf::ForallOp forall) {
  return isMappedTo<gpu::GPUBlockMappingAttr>(forall);
}

bool mlir::nats::isThreadForall(scf::ForallOp forall) {
  return isMappedTo<gpu::GPUThreadMappingAttr>(forall);
}

bool mlir::nats::isWarpForall(scf::ForallOp forall) {
  return isMappedTo<gpu::GPUWarpMappingAttr>(forall);
}

int64_t mlir::nats::getTripCount(scf::ForallOp forall) {
  int64_t count = 1;
  for (int64_t bound : forall.getStaticUpperBound())
    count *= bound;
  return count;
}

scf::ForallOp mlir::nats::getEnclosingBlockForall(Operation *op) {
  for (auto forall = op->getParentOfType<scf::ForallOp>(); forall;
       forall = forall->getParentOfType<scf::ForallOp>())
    if (isBlockForall(forall))
      return forall;
  return {};
}

SmallVector<scf::ForallOp> mlir::nats::getBlockForalls(Operation *root) {
  SmallVector<scf::ForallOp> blocks;
  root->walk([&](scf::ForallOp forall) {
    if (isBlockForall(forall))
      blocks.push_back(forall);
  });
  return blocks;
}

bool mlir::nats::isInBlockOutsideThreads(Operation *op) {
  for (auto forall = op->getParentOfType<scf::ForallOp>(); forall;
       forall = forall->getParentOfType<scf::ForallOp>()) {
    if (isThreadForall(forall) || isWarpForall(forall))
      return false;
    if (isBlockForall(forall))
      return true;
  }
  return false;
}

LogicalResult mlir::nats::mapOutermostForallsToBlocks(Operation *root) {
  // The mapping ids name ten linear dims.
  constexpr int64_t kMaxRank =
      static_cast<int64_t>(gpu::MappingId::LinearDim9) -
      static_cast<int64_t>(gpu::MappingId::LinearDim0) + 1;
  bool failed = false;
  root->walk<WalkOrder::PreOrder>([&](scf::ForallOp forall) {
    if (forall.getMapping())
      return WalkResult::skip();
    if (!forall.getStaticUpperBound().size() ||
        ShapedType::isDynamicShape(forall.getStaticUpperBound())) {
      forall.emitOpError("needs static bounds to become thread blocks");
      failed = true;
    } else if (forall.getRank() > kMaxRank) {
      forall.emitOpError("has ")
          << forall.getRank() << " dims; a grid of thread blocks has at most "
          << kMaxRank;
      failed = true;
    } else {
      MLIRContext *ctx = forall.getContext();
      forall.setMappingAttr(ArrayAttr::get(
          ctx,
          linearMapping<gpu::GPUBlockMappingAttr>(ctx, forall.getRank())));
    }
    // A forall inside is a block's own work (nats-gpu-distribute's).
    return WalkResult::skip();
  });
  return failure(failed);
}

std::optional<std::pair<StringRef, int64_t>>
mlir::nats::parseKernelCount(StringRef entry) {
  auto [name, count] = entry.rsplit(':');
  int64_t value = 0;
  if (name.empty() || count.getAsInteger(10, value))
    return std::nullopt;
  return std::make_pair(name, value);
}

StringAttr mlir::nats::getKernelName(scf::ForallOp forall) {
  auto named = dyn_cast<NameLoc>(forall.getLoc());
  if (!named)
    return {};
  std::string name;
  for (char c : named.getName().getValue())
    name.push_back(llvm::isAlnum(c) ? c : '_');
  if (name.empty() || llvm::isDigit(name.front()))
    name.insert(0, "kernel_");
  return StringAttr::get(forall.getContext(), name);
}

bool mlir::nats::isElementAt(memref::SubViewOp view, ValueRange indices) {
  if (view.getSourceType().getRank() != static_cast<int64_t>(indices.size()))
    return false;
  for (auto [offset, index] : llvm::zip(view.getMixedOffsets(), indices))
    if (dyn_cast<Value>(offset) != index)
      return false;
  auto isOne = [](OpFoldResult value) {
    return isConstantIntValue(value, 1);
  };
  return llvm::all_of(view.getMixedSizes(), isOne) &&
         llvm::all_of(view.getMixedStrides(), isOne);
}
