//===- NatsDialect.h - the nats dialect -------------------------*- C++ -*-===//
//
// Declares the nats dialect class.
//
//===----------------------------------------------------------------------===//

#ifndef NATS_DIALECT_NATS_IR_NATSDIALECT_H
#define NATS_DIALECT_NATS_IR_NATSDIALECT_H

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Dialect.h"

#include "nats/Dialect/Nats/IR/NatsOpsDialect.h.inc"

#endif // NATS_DIALECT_NATS_IR_NATSDIALECT_H
