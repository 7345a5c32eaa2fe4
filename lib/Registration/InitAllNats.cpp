//===- InitAllNats.cpp - register nats with a tool ------------------------===//

#include "nats/InitAllNats.h"

#include "nats/Dialect/Nats/IR/NatsDialect.h"
#include "nats/Dialect/Nats/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Transform/IR/TransformDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllExtensions.h"

void mlir::nats::registerNatsDialects(DialectRegistry &registry) {
  registry.insert<NatsDialect>();
}

void mlir::nats::registerNatsCompilerDialects(DialectRegistry &registry) {
  registerNatsDialects(registry);
  registry.insert<arith::ArithDialect, bufferization::BufferizationDialect,
                  func::FuncDialect, gpu::GPUDialect, LLVM::LLVMDialect,
                  NVVM::NVVMDialect, linalg::LinalgDialect, math::MathDialect,
                  memref::MemRefDialect, scf::SCFDialect,
                  tensor::TensorDialect, transform::TransformDialect,
                  vector::VectorDialect>();
  // Extensions attach only to dialects that are loaded, so registering all
  // of upstream's costs nothing and keeps every interface model (one-shot
  // bufferization, tiling, the NVVM target, ...) in reach of our pipelines.
  registerAllExtensions(registry);
}

void mlir::nats::registerNatsPasses() { registerNatsDialectPasses(); }
