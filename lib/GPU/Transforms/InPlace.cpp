//===- InPlace.cpp - which value a tensor was computed in place from ------===//

#include "nats/GPU/Transforms/InPlace.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"

using namespace mlir;

Value nats::getInPlaceSource(Value value) {
  while (auto result = dyn_cast<OpResult>(value)) {
    Operation *def = result.getOwner();
    if (auto forall = dyn_cast<scf::ForallOp>(def))
      value = forall.getOutputs()[result.getResultNumber()];
    else if (auto loop = dyn_cast<scf::ForOp>(def))
      value = loop.getInitArgs()[result.getResultNumber()];
    else if (auto dps = dyn_cast<DestinationStyleOpInterface>(def))
      value = dps.getTiedOpOperand(result)->get();
    else
      break;
  }
  return value;
}
