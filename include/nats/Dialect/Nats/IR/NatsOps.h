//===- NatsOps.h - nats dialect operations ----------------------*- C++ -*-===//
//
// Declares the ops of the nats dialect.
//
//===----------------------------------------------------------------------===//

#ifndef NATS_DIALECT_NATS_IR_NATSOPS_H
#define NATS_DIALECT_NATS_IR_NATSOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/TilingInterface.h"

#include "nats/Dialect/Nats/IR/NatsDialect.h"

#define GET_OP_CLASSES
#include "nats/Dialect/Nats/IR/NatsOps.h.inc"

#endif // NATS_DIALECT_NATS_IR_NATSOPS_H
