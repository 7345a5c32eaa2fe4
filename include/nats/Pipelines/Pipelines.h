//===- Pipelines.h - the nats pass pipelines --------------------*- C++ -*-===//
//
// Named pipelines, registered in nats-opt (and the mlir-opt plugin) and used
// by the runtime, so that every way of compiling runs the same passes.
//
//===----------------------------------------------------------------------===//

#ifndef NATS_PIPELINES_PIPELINES_H
#define NATS_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassOptions.h"

namespace mlir {
class OpPassManager;

namespace nats {

struct NatsPipelineOptions : PassPipelineOptions<NatsPipelineOptions> {
  Option<int64_t> tileSize{*this, "tile-size",
                           llvm::cl::desc("tokens per gated-delta tile"),
                           llvm::cl::init(64)};
  Option<int64_t> blockSize{*this, "block-size",
                            llvm::cl::desc("query tokens per softmax block"),
                            llvm::cl::init(64)};
};

/// nats-to-linalg: the nats ops to tiled, fused, compacted linalg/scf/tensor
/// IR (router decomposition, tiling, branch split, gated-delta fusion,
/// routed-softmax compaction, cleanup). Shared by every target.
void buildNatsToLinalgPipeline(OpPassManager &pm,
                               const NatsPipelineOptions &options);

/// nats-cpu: nats-to-linalg, then one-shot bufferization (results become
/// out-parameters, buffers are deallocated), loops, and the LLVM dialect.
/// Public functions get a C interface (`_mlir_ciface_<name>`).
void buildNatsCPUPipeline(OpPassManager &pm,
                          const NatsPipelineOptions &options);

/// Registers the pipelines above with the pass registry.
void registerNatsPipelines();

} // namespace nats
} // namespace mlir

#endif // NATS_PIPELINES_PIPELINES_H
