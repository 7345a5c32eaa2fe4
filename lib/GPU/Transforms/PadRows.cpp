//===- PadRows.cpp - a block's scratch rows padded against bank conflicts -===//

#include "nats/GPU/Transforms/Mapping.h"
#include "nats/GPU/Transforms/Passes.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::nats {
#define GEN_PASS_DEF_NATSGPUPADROWSPASS
#include "nats/GPU/Transforms/Passes.h.inc"
} // namespace mlir::nats

using namespace mlir;
using namespace mlir::nats;

namespace {

/// Shared memory has 32 banks of 4 bytes. Rows whose length is a multiple of
/// this start in at most two banks, so that the rows a warp reads down a
/// column at once (ldmatrix's eight of 16 bytes, the lanes of a tensor-core
/// operand's column) meet in the same banks: 128-byte rows in one, 64-byte
/// rows (a bf16 tile of 32 columns, an f32 one of 16) pairwise.
constexpr int64_t kBankRowBytes = 64;

/// Whether `empty` is a block's scratch with rows that would all start in
/// the same bank, and `padBytes` is a whole number of its elements.
bool needsPadding(tensor::EmptyOp empty, int64_t padBytes) {
  RankedTensorType type = empty.getType();
  if (!type.hasStaticShape() || type.getRank() < 2 ||
      !type.getElementType().isIntOrFloat())
    return false;
  unsigned bits = type.getElementTypeBitWidth();
  if (bits % 8 || padBytes % (bits / 8))
    return false;
  if (type.getShape().back() * (bits / 8) % kBankRowBytes)
    return false;
  return isInBlockOutsideThreads(empty);
}

struct NatsGPUPadRowsPass
    : nats::impl::NatsGPUPadRowsPassBase<NatsGPUPadRowsPass> {
  using Base::Base;

  void runOnOperation() override {
    if (padBytes < 0) {
      getOperation().emitError("nats-gpu-pad-rows: pad-bytes must not be "
                               "negative, got ")
          << static_cast<int64_t>(padBytes);
      return signalPassFailure();
    }
    if (padBytes == 0)
      return;
    SmallVector<tensor::EmptyOp> empties;
    getOperation().walk([&](tensor::EmptyOp empty) {
      if (needsPadding(empty, padBytes))
        empties.push_back(empty);
    });
    IRRewriter rewriter(&getContext());
    for (tensor::EmptyOp empty : empties) {
      RankedTensorType type = empty.getType();
      SmallVector<int64_t> shape(type.getShape());
      shape.back() += padBytes / (type.getElementTypeBitWidth() / 8);
      rewriter.setInsertionPoint(empty);
      Value padded = tensor::EmptyOp::create(rewriter, empty.getLoc(), shape,
                                             type.getElementType());
      int64_t rank = type.getRank();
      rewriter.replaceOpWithNewOp<tensor::ExtractSliceOp>(
          empty, type, padded,
          SmallVector<OpFoldResult>(rank, rewriter.getIndexAttr(0)),
          getAsIndexOpFoldResult(&getContext(), type.getShape()),
          SmallVector<OpFoldResult>(rank, rewriter.getIndexAttr(1)));
    }
  }
};

} // namespace
