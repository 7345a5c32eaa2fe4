//===- Passes.h - passes on the upstream IR nats lowers to ------*- C++ -*-===//

#ifndef NATS_TRANSFORMS_PASSES_H
#define NATS_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Pass/Pass.h"

namespace mlir::nats {

#define GEN_PASS_DECL
#include "nats/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "nats/Transforms/Passes.h.inc"

} // namespace mlir::nats

#endif // NATS_TRANSFORMS_PASSES_H
