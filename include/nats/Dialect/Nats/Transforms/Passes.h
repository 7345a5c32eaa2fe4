//===- Passes.h - nats dialect passes ---------------------------*- C++ -*-===//

#ifndef NATS_DIALECT_NATS_TRANSFORMS_PASSES_H
#define NATS_DIALECT_NATS_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"

namespace mlir::nats {

#define GEN_PASS_DECL
#include "nats/Dialect/Nats/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "nats/Dialect/Nats/Transforms/Passes.h.inc"

} // namespace mlir::nats

#endif // NATS_DIALECT_NATS_TRANSFORMS_PASSES_H
