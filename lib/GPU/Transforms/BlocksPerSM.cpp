//===- BlocksPerSM.cpp - occupancy and register budgets of kernels --------===//

#include "nats/GPU/Transforms/Mapping.h"
#include "nats/GPU/Transforms/Passes.h"
#include "nats/GPU/Transforms/Workspace.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/SymbolTable.h"

#include "llvm/ADT/StringMap.h"

namespace mlir::nats {
#define GEN_PASS_DEF_NATSGPUBLOCKSPERSMPASS
#include "nats/GPU/Transforms/Passes.h.inc"
} // namespace mlir::nats

using namespace mlir;

namespace {

// An SM has 65536 registers and runs 2048 threads at most; a thread may
// have 255 registers.
constexpr int64_t kRegistersPerSM = 65536, kThreadsPerSM = 2048,
                  kMaxRegisters = 255;

struct NatsGPUBlocksPerSMPass
    : nats::impl::NatsGPUBlocksPerSMPassBase<NatsGPUBlocksPerSMPass> {
  using Base::Base;

  /// The most blocks of `kernel` that `launch` can put on one SM at once,
  /// by its shared memory and its grid; none where either is not a
  /// constant.
  std::optional<int64_t> blocksAtOnce(gpu::LaunchFuncOp launch,
                                      gpu::GPUFuncOp kernel) {
    int64_t pool = 0;
    if (Value size = launch.getDynamicSharedMemorySize()) {
      std::optional<int64_t> bytes = getConstantIntValue(size);
      if (!bytes)
        return std::nullopt;
      pool = *bytes;
    }
    std::optional<ArrayRef<int32_t>> grid = kernel.getKnownGridSize();
    if (!grid)
      return std::nullopt;
    int64_t gridBlocks = llvm::product_of(*grid, int64_t{1});
    int64_t byMemory =
        sharedMemoryBytes / (pool + nats::kBlockSharedMemoryReserve);
    return std::min<int64_t>(byMemory,
                             llvm::divideCeilSigned(gridBlocks, smCount.getValue()));
  }

  /// The registers a thread may have for `count` blocks of `threads` to
  /// share an SM: a warp's come 256 at a time.
  static int64_t registerBudget(int64_t count, int64_t threads) {
    int64_t warps = llvm::divideCeil(threads, 32);
    int64_t perWarp = kRegistersPerSM / (count * warps) / 256 * 256;
    return std::min(perWarp / 32, kMaxRegisters);
  }

  /// Makes `launch` ask for the dynamic shared memory that keeps more than
  /// `wanted` blocks of `kernel` from sharing an SM, where its shared
  /// memory, grid and threads would let more: neither PTX nor ptxas caps
  /// occupancy (a register budget is a ceiling, and ptxas may take fewer).
  void keepOthersOut(gpu::LaunchFuncOp launch, gpu::GPUFuncOp kernel,
                     int64_t wanted) {
    std::optional<ArrayRef<int32_t>> blockSize = kernel.getKnownBlockSize();
    std::optional<int64_t> count = blocksAtOnce(launch, kernel);
    if (!blockSize || !count)
      return;
    int64_t threads = llvm::product_of(*blockSize, int64_t{1});
    if (std::min(*count, kThreadsPerSM / threads) <= wanted)
      return;
    OpBuilder builder(launch);
    int64_t bytes = sharedMemoryBytes / (wanted + 1) -
                    nats::kBlockSharedMemoryReserve + 1;
    launch.getDynamicSharedMemorySizeMutable().assign(
        arith::ConstantIntOp::create(builder, launch.getLoc(), bytes, 32));
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    for (auto [name, value] : {std::pair{"blocks", blocks.getValue()},
                               {"sm-count", smCount.getValue()},
                               {"shared-memory-bytes",
                                sharedMemoryBytes.getValue()}}) {
      if (value >= 1)
        continue;
      module.emitError() << "nats-gpu-blocks-per-sm: " << name
                         << " must be at least 1, got " << value;
      return signalPassFailure();
    }
    llvm::StringMap<int64_t> blocksOfKernel;
    for (const std::string &entry : kernelBlocks) {
      auto parsed = nats::parseKernelCount(entry);
      if (!parsed || parsed->second < 1) {
        module.emitError() << "nats-gpu-blocks-per-sm: kernel-blocks: "
                              "expected name:blocks with blocks at least 1, "
                              "got '"
                           << entry << "'";
        return signalPassFailure();
      }
      blocksOfKernel[parsed->first] = parsed->second;
    }
    // The most blocks of each kernel an SM may hold at once, over all its
    // launches (none: unknown), a named kernel's launches first kept to
    // its count.
    llvm::DenseMap<Operation *, std::optional<int64_t>> atOnce;
    module.walk([&](gpu::LaunchFuncOp launch) {
      auto kernel = SymbolTable::lookupNearestSymbolFrom<gpu::GPUFuncOp>(
          launch, launch.getKernel());
      if (!kernel)
        return;
      auto named = blocksOfKernel.find(kernel.getName());
      if (named != blocksOfKernel.end())
        keepOthersOut(launch, kernel, named->second);
      std::optional<int64_t> count = blocksAtOnce(launch, kernel);
      auto [it, inserted] = atOnce.try_emplace(kernel, count);
      if (!inserted && it->second)
        it->second = count ? std::max(*it->second, *count) : count;
    });
    auto i32 = [&](int64_t value) {
      return IntegerAttr::get(IntegerType::get(&getContext(), 32), value);
    };
    module.walk([&](gpu::GPUFuncOp kernel) {
      if (!kernel.isKernel())
        return;
      auto named = blocksOfKernel.find(kernel.getName());
      bool isNamed = named != blocksOfKernel.end();
      // The most blocks an SM can hold (none: unknown).
      std::optional<int64_t> fit;
      int64_t threads = 0;
      std::optional<ArrayRef<int32_t>> blockSize = kernel.getKnownBlockSize();
      auto launched = atOnce.find(kernel);
      if (blockSize && launched != atOnce.end() && launched->second) {
        threads = llvm::product_of(*blockSize, int64_t{1});
        fit = std::min(*launched->second, kThreadsPerSM / threads);
      }
      // A named kernel asks for no more blocks than an SM can hold.
      int64_t wanted = isNamed ? named->second : blocks.getValue();
      if (isNamed && fit)
        wanted = std::min(wanted, *fit);
      if (wanted > 1)
        kernel->setAttr(NVVM::NVVMDialect::getMinctasmAttrName(),
                        i32(wanted));
      if (!fit || (!isNamed && *fit > wanted))
        return;
      kernel->setAttr(NVVM::NVVMDialect::getMaxnregAttrName(),
                      i32(registerBudget(wanted, threads)));
    });
  }
};

} // namespace
