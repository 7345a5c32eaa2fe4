//===- InitAllNats.h - register nats with a tool ----------------*- C++ -*-===//
//
// The one place that says what a nats tool registers: nats-opt, the mlir-opt
// plugin and the compile runtime all call these.
//
//===----------------------------------------------------------------------===//

#ifndef NATS_INITALLNATS_H
#define NATS_INITALLNATS_H

namespace mlir {
class DialectRegistry;

namespace nats {

/// Registers the nats dialect and the interface models that nats' passes
/// need on upstream ops (the memory effects of GPU synchronization): what a
/// tool that already has the upstream dialects (stock mlir-opt) needs.
void registerNatsDialects(DialectRegistry &registry);

/// Registers the nats dialect, the upstream dialects that nats IR and its
/// lowerings use (func, arith, math, tensor, linalg, scf, memref,
/// bufferization, vector, gpu, nvgpu, nvvm, llvm, transform) and their
/// extensions and interface models (bufferization, tiling, inlining, GPU
/// targets).
void registerNatsCompilerDialects(DialectRegistry &registry);

/// Registers every nats pass and pipeline.
void registerNatsPasses();

} // namespace nats
} // namespace mlir

#endif // NATS_INITALLNATS_H
