//===- Pipelines.cpp - the nats pass pipelines ----------------------------===//

#include "nats/Pipelines/Pipelines.h"

#include "nats/Dialect/Nats/Transforms/Passes.h"
#include "nats/GPU/Transforms/Passes.h"
#include "nats/GPU/Transforms/Workspace.h"
#include "nats/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::nats;

namespace {

/// Adds the upstream part of a pipeline, written as textual pipeline
/// elements: it reads exactly as a user would type it to nats-opt.
void addTextual(OpPassManager &pm, StringRef pipeline) {
  if (failed(parsePassPipeline(pipeline, pm)))
    llvm::report_fatal_error("nats: malformed built-in pipeline");
}

/// Marks every public function for a C interface, so that callers (the
/// runtime, nats-run) can call it with memref descriptors.
struct EmitCInterfacePass
    : PassWrapper<EmitCInterfacePass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(EmitCInterfacePass)
  StringRef getArgument() const final { return "nats-emit-c-interface"; }
  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>())
      if (func.isPublic() && !func.isExternal())
        func->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(),
                      UnitAttr::get(&getContext()));
  }
};

/// The gated delta rule's lowering as either pipeline's options say: its
/// tile and which terms it stores in 16 bits. The state pass's columns are
/// left to the caller (on the CPU one iteration per (batch, head), all of
/// the state's columns).
template <typename Options>
NatsFuseGatedDeltaPassOptions gatedDeltaOptions(const Options &options) {
  NatsFuseGatedDeltaPassOptions gatedDelta;
  gatedDelta.tileSize = options.tileSize;
  gatedDelta.roundOutputTerms = options.roundOutputTerms;
  gatedDelta.roundStateTerms = options.roundStateTerms;
  gatedDelta.roundChunkOperands = options.roundChunkOperands;
  gatedDelta.roundStateOperands = options.roundStateOperands;
  return gatedDelta;
}

} // namespace

void mlir::nats::addNatsToLinalgPasses(
    OpPassManager &pm, const NatsFuseGatedDeltaPassOptions &gatedDelta,
    int64_t blockSize, NatsTiling tiling, bool fuseElementwise,
    bool mapBlocks) {
  OpPassManager &func = pm.nest<func::FuncOp>();
  func.addPass(createNatsDecomposeChunkRoutePass());
  if (tiling == NatsTiling::HybridTiles)
    func.addPass(createNatsTileHybridAttentionPass());
  func.addPass(createNatsSplitBranchesPass());
  func.addPass(createNatsFuseGatedDeltaPass(gatedDelta));
  func.addPass(createNatsCompactRoutedSoftmaxPass({blockSize}));
  if (fuseElementwise)
    func.addPass(createNatsFuseElementwisePass());
  // Before canonicalization, which folds an unmapped forall of one
  // iteration into its body.
  if (mapBlocks)
    func.addPass(createNatsGPUMapBlocksPass());
  func.addPass(createCanonicalizerPass());
  func.addPass(createCSEPass());
}

void mlir::nats::buildNatsToLinalgPipeline(OpPassManager &pm,
                                           const NatsPipelineOptions &options) {
  addNatsToLinalgPasses(pm, gatedDeltaOptions(options), options.blockSize,
                        NatsTiling::HybridTiles, options.fuseElementwise);
}

void mlir::nats::buildNatsCPUPipeline(OpPassManager &pm,
                                      const NatsPipelineOptions &options) {
  addNatsToLinalgPasses(pm, gatedDeltaOptions(options), options.blockSize,
                        NatsTiling::HybridTiles, options.fuseElementwise);
  pm.addPass(std::make_unique<EmitCInterfacePass>());
  addTextual(pm, "one-shot-bufferize{bufferize-function-boundaries "
                 "allow-return-allocs-from-loops "
                 "function-boundary-type-conversion=identity-layout-map},"
                 "buffer-results-to-out-params{modify-public-functions "
                 "hoist-static-allocs},"
                 "buffer-deallocation-pipeline,"
                 "func.func(nats-dealloc-after-last-use,scf-forall-to-for,"
                 "nats-accumulate-in-registers,"
                 "convert-linalg-to-loops),"
                 "canonicalize,cse,"
                 "expand-strided-metadata,lower-affine,convert-scf-to-cf,"
                 "convert-to-llvm,reconcile-unrealized-casts");
}

std::string mlir::nats::defaultCudaPath() {
#ifdef NATS_CUDA_TOOLKIT_DIR
  return NATS_CUDA_TOOLKIT_DIR;
#else
  return "";
#endif
}

void mlir::nats::buildNatsGPUPipeline(OpPassManager &pm,
                                      const NatsGPUPipelineOptions &options) {
  // The attention's element type decides the tensor cores' precision; the
  // nats ops that say it are gone after nats-to-linalg.
  pm.addNestedPass<func::FuncOp>(createNatsGPUMmaPrecisionPass());
  // Each branch's own loops become thread blocks: B·H blocks for the gated
  // delta rule; B·R for the routed softmax's kept-chunk lists and
  // B·Hs·(query blocks) for its attention.
  // value-tile=0: the state pass's width by the grid.
  NatsFuseGatedDeltaPassOptions gatedDelta = gatedDeltaOptions(options);
  gatedDelta.valueTile = options.valueTile;
  gatedDelta.outputTile = options.outputTile;
  gatedDelta.smCount = options.valueTile ? 0 : options.smCount;
  addNatsToLinalgPasses(pm, gatedDelta, options.blockSize,
                        NatsTiling::BranchLoops, options.fuseElementwise,
                        /*mapBlocks=*/true);
  pm.addPass(std::make_unique<EmitCInterfacePass>());
  if (options.warpRows && options.mma)
    pm.addNestedPass<func::FuncOp>(
        createNatsGPUWarpRowsPass({options.warpRowsPrefetch}));
  pm.addNestedPass<func::FuncOp>(createNatsGPUDistributePass(
      {options.mma, options.stageOperands, options.warpReductions,
       options.graphMatmuls && options.mma, options.warpTileM,
       options.warpTileN,
       SmallVector<std::string>(options.kernelWarpTiles.begin(),
                                options.kernelWarpTiles.end()),
       options.resultMaps}));
  if (options.unshareEmpties)
    pm.addNestedPass<func::FuncOp>(createNatsGPUUnshareEmptiesPass());
  if (options.resultsInPlace)
    pm.addNestedPass<func::FuncOp>(createNatsGPUResultsInPlacePass());
  pm.addNestedPass<func::FuncOp>(
      createNatsGPUPadRowsPass({options.rowPadBytes}));
  // No allow-return-allocs-from-loops: a block's scratch buffer has one
  // workspace slot, so it must not outlive the loop iteration it is made in.
  addTextual(pm, "one-shot-bufferize{bufferize-function-boundaries "
                 "function-boundary-type-conversion=identity-layout-map},"
                 "buffer-results-to-out-params{modify-public-functions "
                 "hoist-static-allocs},"
                 // One view per tile: a tile written in place becomes a
                 // copy onto itself, which nats-map-foralls-to-gpu drops.
                 "canonicalize,cse");
  // The arguments (results too, out-params now) are the runtime's aligned
  // device arrays: 16-byte accesses to the inputs can be proven.
  pm.addNestedPass<func::FuncOp>(createNatsGPUAlignedArgumentsPass());
  // An SM's shared memory is what one block may have and its reserve. (A
  // count below 1 is nats-gpu-blocks-per-sm's to diagnose.)
  int64_t smSharedBytes =
      options.sharedMemoryBytes + kBlockSharedMemoryReserve;
  int64_t blocksPerSM = std::max<int64_t>(options.blocksPerSM, 1);
  int64_t blockSharedBytes =
      smSharedBytes / blocksPerSM - kBlockSharedMemoryReserve;
  if (options.prefetch)
    pm.addNestedPass<func::FuncOp>(
        createNatsGPUPrefetchPass({blockSharedBytes}));
  pm.addNestedPass<func::FuncOp>(
      createNatsGPUWorkspacePass({blockSharedBytes}));
  addTextual(pm, "buffer-deallocation-pipeline");
  OpPassManager &func = pm.nest<func::FuncOp>();
  func.addPass(createNatsDeallocAfterLastUsePass());
  func.addPass(createNatsGPUWarpReducePass());
  func.addPass(createNatsGPUMmaSyncPass(
      {options.mmaPrecision, options.pairedLoads, options.ldmatrix}));
  if (options.vectorElementForalls)
    func.addPass(createNatsGPUVectorizeElementForallsPass());
  func.addPass(createNatsGPUAlignVectorAccessesPass());
  func.addPass(createNatsMapForallsToGPUPass(
      {options.blockThreads,
       SmallVector<std::string>(options.kernelThreads.begin(),
                                options.kernelThreads.end()),
       options.mergePhases, options.mergeTiles}));
  if (options.carryInRegisters)
    func.addPass(createNatsGPUCarryInRegistersPass());
  func.addPass(createNatsGPUHostMemoryPass());
  func.addPass(createNatsAccumulateInRegistersPass());
  std::string kernelBlocks;
  if (!options.kernelBlocksPerSM.empty())
    kernelBlocks =
        " kernel-blocks=" + llvm::join(options.kernelBlocksPerSM, ",");
  std::string occupancy = llvm::formatv(
      "nats-gpu-blocks-per-sm{{blocks={0} sm-count={1} "
      "shared-memory-bytes={2}{3}},",
      options.blocksPerSM.getValue(), options.smCount.getValue(),
      smSharedBytes, kernelBlocks);
  std::string target = llvm::formatv("chip={0} features={1} O=3",
                                     options.chip, options.features);
  addTextual(pm, "func.func(convert-linalg-to-loops),canonicalize,cse,"
                 "expand-strided-metadata,lower-affine,convert-scf-to-cf,"
                 "gpu-launch-sink-index-computations,gpu-kernel-outlining," +
                 occupancy + "func.func(gpu-async-region),"
                 "nvvm-attach-target{" + target + "},"
                 "gpu.module(convert-nvgpu-to-nvvm,"
                 // Folded MMA fragments leave vector.shape_cast, which
                 // convert-gpu-to-nvvm does not lower.
                 "convert-vector-to-llvm,convert-gpu-to-nvvm,canonicalize,cse,"
                 "reconcile-unrealized-casts,"
                 "nats-gpu-extern-dynamic-shared-memory),"
                 "gpu-to-llvm,convert-to-llvm,reconcile-unrealized-casts,"
                 "gpu-module-to-binary{format=" + options.format.getValue() +
                 (options.cudaPath.empty()
                      ? std::string()
                      : " toolkit=" + options.cudaPath.getValue()) +
                 "}");
}

void mlir::nats::registerNatsPipelines() {
  PassPipelineRegistration<NatsPipelineOptions>(
      "nats-to-linalg",
      "Lower nats ops to tiled, fused and compacted linalg/scf on tensors",
      buildNatsToLinalgPipeline);
  PassPipelineRegistration<NatsPipelineOptions>(
      "nats-cpu",
      "Compile nats IR for the CPU: nats-to-linalg, bufferization, loops, "
      "LLVM dialect",
      buildNatsCPUPipeline);
  PassPipelineRegistration<NatsGPUPipelineOptions>(
      "nats-gpu",
      "Compile nats IR for an NVIDIA GPU: nats-to-linalg, thread blocks and "
      "threads, bufferization, gpu.launch, NVVM, an embedded cubin",
      buildNatsGPUPipeline);
}
