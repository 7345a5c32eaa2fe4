//===- Passes.h - passes that map nats' loops onto a GPU --------*- C++ -*-===//

#ifndef NATS_GPU_TRANSFORMS_PASSES_H
#define NATS_GPU_TRANSFORMS_PASSES_H

#include "nats/GPU/Transforms/MmaPrecision.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::nats {

#define GEN_PASS_DECL
#include "nats/GPU/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "nats/GPU/Transforms/Passes.h.inc"

} // namespace mlir::nats

#endif // NATS_GPU_TRANSFORMS_PASSES_H
