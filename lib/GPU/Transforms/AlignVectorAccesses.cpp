//===- AlignVectorAccesses.cpp - vector loads and stores at their width ---===//
//
// A vector.load or vector.store without an alignment becomes an LLVM access
// aligned to its element only, which the NVPTX backend splits into one
// access an element: nats-gpu-warp-rows' register of two bf16 (a lane's
// pair of an A fragment's row, read from memory) was two 16-bit loads. On
// buffers, this pass gives a 1-D vector access of at most 16 bytes the
// alignment of its size where the address provably has it (Alignment.h:
// the memref's rows are so aligned and its last index is a multiple of the
// vector's length), so that it stays one instruction. Accesses with an
// alignment already, and those it cannot prove, are left as they are.
//
//===----------------------------------------------------------------------===//

#include "nats/GPU/Transforms/Alignment.h"
#include "nats/GPU/Transforms/Passes.h"

#include "mlir/Dialect/Vector/IR/VectorOps.h"

namespace mlir::nats {
#define GEN_PASS_DEF_NATSGPUALIGNVECTORACCESSESPASS
#include "nats/GPU/Transforms/Passes.h.inc"
} // namespace mlir::nats

using namespace mlir;
using namespace mlir::nats;

namespace {

/// The alignment `op` (a vector.load or vector.store) provably has at its
/// vector's size, if that is one instruction's width.
template <typename AccessOp>
std::optional<int64_t> getProvenAlignment(AccessOp op) {
  VectorType vector = op.getVectorType();
  MemRefType memref = op.getMemRefType();
  if (op.getAlignment() || vector.getRank() != 1 || vector.isScalable() ||
      memref.getRank() == 0 || !memref.getElementType().isIntOrFloat() ||
      memref.getElementTypeBitWidth() % 8)
    return std::nullopt;
  int64_t elements = vector.getNumElements();
  int64_t bytes = elements * memref.getElementTypeBitWidth() / 8;
  if (!llvm::isPowerOf2_64(bytes) || bytes > kMaxAccessBytes ||
      !isMultipleOf(op.getIndices().back(), elements) ||
      !hasAlignedRows(op.getBase(), elements, /*inSharedMemory=*/false))
    return std::nullopt;
  return bytes;
}

struct NatsGPUAlignVectorAccessesPass
    : nats::impl::NatsGPUAlignVectorAccessesPassBase<
          NatsGPUAlignVectorAccessesPass> {
  void runOnOperation() override {
    getOperation().walk([](Operation *op) {
      auto align = [](auto access) {
        if (std::optional<int64_t> bytes = getProvenAlignment(access))
          access.setAlignment(*bytes);
      };
      if (auto load = dyn_cast<vector::LoadOp>(op))
        align(load);
      else if (auto store = dyn_cast<vector::StoreOp>(op))
        align(store);
    });
  }
};

} // namespace
