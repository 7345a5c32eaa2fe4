//===- NatsDialect.cpp - the nats dialect ---------------------------------===//

#include "nats/Dialect/Nats/IR/NatsDialect.h"
#include "nats/Dialect/Nats/IR/NatsOps.h"

using namespace mlir;
using namespace mlir::nats;

#include "nats/Dialect/Nats/IR/NatsOpsDialect.cpp.inc"

void NatsDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "nats/Dialect/Nats/IR/NatsOps.cpp.inc"
      >();
}
