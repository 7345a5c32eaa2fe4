//===- MmaPrecision.cpp - mark functions by their attention's element type ===//

#include "nats/Dialect/Nats/IR/NatsDialect.h"
#include "nats/GPU/Transforms/Passes.h"

namespace mlir::nats {
#define GEN_PASS_DEF_NATSGPUMMAPRECISIONPASS
#include "nats/GPU/Transforms/Passes.h.inc"
} // namespace mlir::nats

using namespace mlir;
using namespace mlir::nats;

namespace {

struct NatsGPUMmaPrecisionPass
    : nats::impl::NatsGPUMmaPrecisionPassBase<NatsGPUMmaPrecisionPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func->hasAttr(kMmaPrecisionAttrName))
      return;
    bool any = false, allNarrow = true;
    func.walk([&](Operation *op) {
      if (!isa_and_nonnull<NatsDialect>(op->getDialect()) ||
          op->getNumOperands() == 0)
        return;
      any = true;
      Type element = getElementTypeOrSelf(op->getOperand(0).getType());
      allNarrow &=
          isa<FloatType>(element) && element.getIntOrFloatBitWidth() <= 16;
    });
    if (any)
      func->setAttr(kMmaPrecisionAttrName,
                    StringAttr::get(&getContext(),
                                    getMmaPrecisionMark(
                                        allNarrow ? MmaPrecision::TF32
                                                  : MmaPrecision::ThreeTF32)));
  }
};

} // namespace
