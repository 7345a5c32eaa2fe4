//===- Pipelines.h - the nats pass pipelines --------------------*- C++ -*-===//
//
// Named pipelines, registered in nats-opt (and the mlir-opt plugin) and used
// by the runtime, so that every way of compiling runs the same passes.
//
//===----------------------------------------------------------------------===//

#ifndef NATS_PIPELINES_PIPELINES_H
#define NATS_PIPELINES_PIPELINES_H

#include "nats/Dialect/Nats/Transforms/Passes.h"
#include "nats/GPU/Transforms/MmaPrecision.h"

#include "mlir/Pass/PassOptions.h"

namespace mlir {
class OpPassManager;

namespace nats {

/// The options every nats pipeline has: how the nats ops are tiled, and
/// which of the gated delta rule's terms are stored in the inputs' 16-bit
/// type (all or none by default: `RoundTerms`).
template <typename Derived, bool RoundTerms>
struct NatsLoweringOptions : PassPipelineOptions<Derived> {
  template <typename T>
  using Option = typename PassPipelineOptions<Derived>::template Option<T>;
  Option<int64_t> tileSize{*this, "tile-size",
                           llvm::cl::desc("tokens per gated-delta tile"),
                           llvm::cl::init(64)};
  Option<int64_t> blockSize{*this, "block-size",
                            llvm::cl::desc("query tokens per softmax block"),
                            llvm::cl::init(64)};
  Option<bool> fuseElementwise{
      *this, "fuse-elementwise",
      llvm::cl::desc("fold elementwise producers into their one consumer "
                     "(nats-fuse-elementwise): on the GPU fewer steps "
                     "between barriers, on the H100 0.88-1.08x the "
                     "gated delta rule's time (run 57)"),
      llvm::cl::init(false)};
  // Off on the CPU: there f32 terms cost nothing but memory. On for the GPU
  // (H100, docs/benchmarks.md). round-output-terms: the outputs stage then
  // runs on warp rows (the terms are its 16-bit tensor-core tiles): run 53,
  // the outputs kernel 2x faster at head dim 128 (1x8192x96x128 0.852 ->
  // 0.427 ms) and 6x at 256 (5.95 -> 1.00), the state pass up to 9% slower
  // (its 16-bit stores), the op 4-32% faster on M1 and M2's H = 32, as fast
  // at H = 8; peak memory 13-34% lower. round-state-terms: the state pass
  // reads −W and K_c again for every group of state columns at every step;
  // in 16 bits (run 65) it takes 0.69-0.94x as long on M1 and M2, the op
  // 0.89-0.98x, peak memory 13-18% lower. Since stop 35 U₀ too, its tile
  // widened as U's product starts (with result maps copied out by the
  // threads and products kept in registers: the op 0.81-0.98x, run 91). round-chunk-operands: the chunk
  // terms' tiles take 105 KB instead of 155 KB a block at head dim 128,
  // which lets two blocks share an SM (with kernel-threads'
  // gated_delta_chunk_terms:256); by itself (run 70) the op takes
  // 0.98-1.00x as long at head dims 64 and 128, 0.975x at 256. With T in
  // 16 bits too, the chunk terms' products are all of two 16-bit operands,
  // which nats-gpu-mma-sync multiplies as they are (m16n8k16): the chunk
  // terms 0.89-0.93x, their state pass 0.93-0.95x (run 74).
  // round-state-operands: the state pass's products bf16 m16n8k16 instead
  // of TF32; on an H100 (run 86) it took 0.75-0.87x as long at head dim
  // 128 (0.95x at 64, 0.98x at 256), the op 0.85-0.99x at M1 and M2.
  Option<bool> roundOutputTerms{
      *this, "round-output-terms",
      llvm::cl::desc("store the gated delta rule's terms that only its "
                     "outputs stage reads (P, U, the tiles' start "
                     "states) in the inputs' element type where that is "
                     "bf16 or f16, as FLA does (nats-fuse-gated-delta)"),
      llvm::cl::init(RoundTerms)};
  Option<bool> roundStateTerms{
      *this, "round-state-terms",
      llvm::cl::desc("store the gated delta rule's −W, K_c and U₀, which its "
                     "state pass reads at every step, in the inputs' element "
                     "type where that is bf16 or f16, as FLA stores w, k and "
                     "u (nats-fuse-gated-delta)"),
      llvm::cl::init(RoundTerms)};
  Option<bool> roundChunkOperands{
      *this, "round-chunk-operands",
      llvm::cl::desc("keep the gated delta rule's chunk-terms operands (the "
                     "normalized q and k, T = (I + A)^-1, the right-hand "
                     "sides of W and U0) in the inputs' element type where "
                     "that is bf16 or f16, as FLA's l2norm, solve_tril and "
                     "recompute_w_u keep them (nats-fuse-gated-delta)"),
      llvm::cl::init(RoundTerms)};
  Option<bool> roundStateOperands{
      *this, "round-state-operands",
      llvm::cl::desc("multiply the gated delta rule's state S and its "
                     "corrected writes U in the state pass in the inputs' "
                     "element type where that is bf16 or f16, as FLA's "
                     "chunk_fwd_h rounds h and v_new (nats-fuse-gated-delta)"),
      llvm::cl::init(RoundTerms)};
};

struct NatsPipelineOptions
    : NatsLoweringOptions<NatsPipelineOptions, /*RoundTerms=*/false> {};

/// The CUDA toolkit found when nats was built, or "" (MLIR then looks at
/// $CUDA_HOME, $CUDA_PATH, $CUDA_ROOT).
std::string defaultCudaPath();

struct NatsGPUPipelineOptions
    : NatsLoweringOptions<NatsGPUPipelineOptions, /*RoundTerms=*/true> {
  Option<std::string> chip{*this, "chip",
                           llvm::cl::desc("the GPU to compile for"),
                           llvm::cl::init("sm_90a")};
  Option<std::string> features{*this, "features",
                               llvm::cl::desc("NVPTX target features"),
                               llvm::cl::init("+ptx80")};
  // 512: with one block per tile, the threads of a block are the only
  // parallelism within a tile (measured on the H100 at B,T,H,K,V =
  // 2,4096,8,128,128, first mapping: 338 ms at 128 threads, 207 at 256, 146
  // at 512, 124 at 1024; with the chunk-parallel stages: 4.27 at 512, 4.24
  // at 1024, 5.11 at 256; docs/gpu.md). Since the phases were merged and
  // the register budgets set, 512 against 1024 on the H200 (runs 34-36,
  // docs/benchmarks.md): the routed softmax 8.07 -> 6.74 ms at
  // 1x16384x32x64 with a quarter of the chunks kept, the 340M layer 4.62 ->
  // 4.41 ms at T = 4096, the gated delta rule's kernels 2% faster at M2's
  // longest shapes (its state pass 5-8%).
  Option<int64_t> blockThreads{*this, "block-threads",
                               llvm::cl::desc("threads per thread block"),
                               llvm::cl::init(512)};
  // gated_delta_chunk_terms:256: with round-chunk-operands its block's
  // tiles took 105 KB at head dim 128 (79 registers a thread at 256
  // threads), so two blocks of 256 threads shared an SM where one of 512
  // did. On an H100 (run 70, docs/benchmarks.md) the chunk terms took
  // 0.78-0.84x as long at head dims 64 and 128 and the op 0.87-0.95x; at
  // 256 (154 KB, one block an SM either way) 1.15x and 1.05x. Since stop 29
  // the block takes 71 KB at head dim 128 (three an SM) and 110 KB at 256
  // (two).
  ListOption<std::string> kernelThreads{
      *this, "kernel-threads",
      llvm::cl::desc("name:threads entries: the threads of the named "
                     "kernel (e.g. gated_delta_outputs with "
                     "round-output-terms=0: with 16-bit terms it is one "
                     "warp per 16 rows), instead of block-threads "
                     "(nats-map-foralls-to-gpu); a list given replaces "
                     "the default one"),
      llvm::cl::list_init<std::string>({"gated_delta_chunk_terms:256"})};
  // 0: 8, 16, 32 or 64 columns a block, whichever takes the fewest waves of
  // blocks by a measured cost (nats-fuse-gated-delta's sm-count). On the
  // H100 (run 50, docs/benchmarks.md) 32 against 16 took the state pass
  // 0.62-0.69x as long wherever it halved the waves (M1, M2 at H = 32) and
  // 1.25x where the waves stayed (M2 at H = 8: 64 blocks or 32 for 132
  // SMs); 64 columns were faster again where they halved the waves once
  // more (4,2048,16,128: 0.274 -> 0.227 ms); 8 columns took 0.76x 16's
  // at one wave (M2 at H = 8, run 55).
  Option<int64_t> valueTile{
      *this, "value-tile",
      llvm::cl::desc("state columns per thread block of the gated delta "
                     "rule's state pass, where that divides V (0: 16, 32 "
                     "or 64, the fewest waves of blocks on sm-count SMs)"),
      llvm::cl::init(0)};
  // A block's O is its warps' 16 rows each in registers (nats-gpu-warp-rows
  // with 16-bit terms), 64 f32 a lane at 128 columns; at head dim 256, all
  // 256 columns took 255 registers a thread and spilled, with 197 KB of
  // shared memory a block. 64 columns (4 blocks an SM at head dim 256) took
  // the outputs kernel 1.06x as long there, 0.97-1.05x elsewhere (run 105).
  Option<int64_t> outputTile{
      *this, "output-tile",
      llvm::cl::desc("value columns per thread block of the gated delta "
                     "rule's outputs, where that divides V (0, or one that "
                     "does not: all; a multiple of 16 for warp-rows)"),
      llvm::cl::init(128)};
  // 1: measured on the H200 at 2,4096,8,128 (docs/benchmarks.md, run 10):
  // 1.27 ms, against 1.83 with block-threads=512 blocks-per-sm=2 (the chunk
  // terms spill at 64 registers and half their scratch goes to global
  // memory: 0.62 -> 1.06 ms) and 1.88 with 256 threads x 4; the 340M layer
  // 6.7 ms, against 7.45 with 512 x 2.
  Option<int64_t> blocksPerSM{
      *this, "blocks-per-sm",
      llvm::cl::desc("thread blocks each SM should hold at once: kernels "
                     "keep their registers within 65536 / (blocks-per-sm * "
                     "block-threads), and shared-memory-bytes is one SM's "
                     "share divided among them"),
      llvm::cl::init(1)};
  // gated_delta_chunk_terms:3: the chunk terms get the 80 registers that
  // three blocks of 256 threads may have where their 71 KB of shared memory
  // let three share an SM (head dim 128; ptxas takes 124-127 at some shapes
  // and 80 at others, and at 80 spills nothing there). On an H100 (run 77,
  // docs/benchmarks.md) the chunk terms took 0.85-0.89x as long at
  // 2x16384x16x128, 4x2048x16x128 and 4x4096x64x128 (the gated delta
  // rule's kernels 0.93-0.94x), as long elsewhere, and 1.06x at head dim 64
  // (76 bytes of spill stores; 0.130 -> 0.134 ms). Head dim 256's 110 KB
  // let two share an SM: its budget is ptxas's own.
  // gated_delta_state_pass:1: one state-pass block an SM. Where its shared
  // memory admits two (1x8192x96x128: 107 KB, three waves of blocks) ptxas
  // may take few enough registers for two (60 since its decays are read
  // from shared memory), and two an SM took it 1.11-1.19x as long (runs 78
  // and 80).
  // routed_softmax:4: four blocks of the routed softmax an SM where its
  // shared memory admits them (head dim 64: 46 KB, 128 registers, 24 bytes
  // of spill stores; ptxas took 142 and three). On an H100 (runs 110, 111)
  // the routed softmax took 0.87-0.92x as long at M3's head dim 64; at 128
  // its 87 KB admit two, as before; the 340M layer's (71 KB) three, at 168
  // registers with 160 bytes of spill stores, and took as long.
  ListOption<std::string> kernelBlocksPerSM{
      *this, "kernel-blocks-per-sm",
      llvm::cl::desc("name:blocks entries: the named kernel's blocks an SM "
                     "instead of blocks-per-sm (no more, and as many as its "
                     "shared memory and threads let an SM hold) and their "
                     "register budget (nats-gpu-blocks-per-sm's "
                     "kernel-blocks); a list given replaces the default one"),
      llvm::cl::list_init<std::string>(
          {"gated_delta_chunk_terms:3", "gated_delta_state_pass:1",
           "routed_softmax:4"})};
  // 132: the H100 SXM's and the H200's; the register budgets of kernels
  // whose grid puts at most blocks-per-sm blocks on each SM follow it, and
  // so does the state pass's width where value-tile is 0.
  Option<int64_t> smCount{
      *this, "sm-count",
      llvm::cl::desc("streaming multiprocessors of the device "
                     "(nats-gpu-blocks-per-sm; value-tile=0)"),
      llvm::cl::init(132)};
  // The most shared memory a block may have on the H100 (sm_90) is 227 KiB
  // (an A100, sm_80: 163 KiB); the pool's base takes none of it
  // (nats-gpu-extern-dynamic-shared-memory).
  Option<int64_t> sharedMemoryBytes{
      *this, "shared-memory-bytes",
      llvm::cl::desc("shared memory per block for the blocks' scratch; the "
                     "rest goes to a global workspace"),
      llvm::cl::init(232448)};
  // 16: f32 rows of 128-byte multiples all start in bank 0; padded, the
  // op and the layer ran 1.1-1.8x faster on the H200 (the 340M layer 11.6
  // -> 6.34 ms at T = 4096; docs/benchmarks.md, run 8). Rows of 64-byte
  // multiples (in two banks) are padded too since stop 34.
  Option<int64_t> rowPadBytes{
      *this, "row-pad-bytes",
      llvm::cl::desc("bytes added to each row of a block's scratch matrices "
                     "whose rows would all start in one or two shared-memory "
                     "banks (nats-gpu-pad-rows; 0: none)"),
      llvm::cl::init(16)};
  // On: Nsight Compute showed 41% of the chunk terms' time (2,4096,8,128 on
  // the H200) and 43% of the routed softmax's (1,16384,32,64, rho = 1/4) in
  // contractions that read bufferization's copies of CSE-merged empties and
  // zero fills, unpadded (8-way bank conflicts); with this the chunk terms
  // took 0.619 -> 0.468 ms, the same o (docs/benchmarks.md, run 13).
  Option<bool> unshareEmpties{
      *this, "unshare-empties",
      llvm::cl::desc("give each use of a block's tensor.empty its own "
                     "(nats-gpu-unshare-empties) instead of bufferization's "
                     "copies"),
      llvm::cl::init(true)};
  // On: a block's results computed in the kernel outputs they go to, not
  // in a scratch buffer copied out at its end. Measured on the H100 only
  // together with the UT-form chunk terms and 8-column blocks (48cf378:
  // 0.59-0.93x cb60481's time on M1/M2, run 57); without the exception for
  // values a loop carries, the state pass was 1.46x slower (run 56).
  Option<bool> resultsInPlace{
      *this, "results-in-place",
      llvm::cl::desc("compute a block's results in the outputs they are "
                     "inserted into, except values a loop carries "
                     "(nats-gpu-results-in-place)"),
      llvm::cl::init(true)};
  // On: measured on the H200 (docs/benchmarks.md, runs 23-25), the state
  // pass at 2,4096,8,128 0.337 -> 0.284 ms, 12-28% faster in M1 and 12-15%
  // in M2, the same o within the tests' tolerances.
  Option<bool> prefetch{
      *this, "prefetch",
      llvm::cl::desc("copy the tiles that a block's loop stages from global "
                     "memory one iteration ahead, with cp.async into two "
                     "buffers taken in turn (nats-gpu-prefetch)"),
      llvm::cl::init(true)};
  // On: the routed softmax on 16-bit data 3.5-4.4x faster where chunks are
  // kept (H200, docs/benchmarks.md, run 46: 4x4096x32x64 at rho = 1/4
  // 1.62 -> 0.507 ms, 1x16384x16x128 at rho = 1 22.6 -> 5.16 ms), 2x at
  // rho = 0; the GPU matrix and both layers passed through it.
  Option<bool> warpRows{
      *this, "warp-rows",
      llvm::cl::desc("lower the routed softmax's loop over kept chunks and "
                     "its own chunk's step onto warp-owned rows held in "
                     "registers, with 16-bit MMAs, where its data is bf16 or "
                     "f16 (nats-gpu-warp-rows; with mma)"),
      llvm::cl::init(true)};
  // Off: on an H100 (docs/benchmarks.md, run 48) the routed softmax 4-8%
  // faster at head dim 64 and 15-55% slower at 128, where the second pair
  // of tiles (121 KB a block) leaves one block an SM instead of two.
  Option<bool> warpRowsPrefetch{
      *this, "warp-rows-prefetch",
      llvm::cl::desc("with warp-rows, copy each step's K and V tiles a step "
                     "ahead into a second pair of buffers "
                     "(nats-gpu-warp-rows' prefetch)"),
      llvm::cl::init(false)};
  Option<bool> mma{
      *this, "mma",
      llvm::cl::desc("run the f32 contractions that fit on tensor cores "
                     "(mma.sync, 3xTF32); otherwise one FMA loop per "
                     "output element"),
      llvm::cl::init(true)};
  Option<bool> stageOperands{
      *this, "stage-operands",
      llvm::cl::desc("copy the inputs that tensor-core contractions read "
                     "from global memory into the block's shared memory "
                     "first (with mma)"),
      llvm::cl::init(true)};
  // On: on an H100 (runs 87-91, docs/benchmarks.md) with
  // round-state-operands the state pass took 0.87-0.92x as long at head
  // dim 128 (0.93x at 256) with its maps (the rounded copies of S and U)
  // stored from the accumulators. The chunk terms took 0.94-0.98x as long
  // with their maps unfused while their products stayed in shared memory,
  // 1.26-1.40x with the maps stored from the accumulators straight to
  // global memory (1.04x at head dim 256); with the products kept in
  // registers, the maps' tiles copied out by the threads and U₀ in 16
  // bits, 0.89-0.93x of unfused with U₀ in f32 (run 91).
  Option<bool> resultMaps{
      *this, "result-maps",
      llvm::cl::desc("fuse an elementwise map of a tensor-core "
                     "contraction's result (its rounding to bf16, P, -A) "
                     "into its warp tiles, stored from the accumulators "
                     "(nats-gpu-distribute, with mma)"),
      llvm::cl::init(true)};
  // On: on an H100 (runs 86, 87, docs/benchmarks.md) the chunk terms took
  // 0.93-0.98x as long (their row norms and sums over 4 or 2 lanes a row
  // where one thread summed a row), the op 0.97-0.99x at M1 and M2.
  Option<bool> warpReductions{
      *this, "warp-reductions",
      llvm::cl::desc("share the row reductions of a chunk (norms, maxima, "
                     "sums) out over groups of a warp's lanes and shuffles "
                     "instead of one thread per row (nats-gpu-distribute)"),
      llvm::cl::init(true)};
  // On: measured on the H200, the 340M layer in bf16, 15.4 -> 11.6 ms at
  // T = 4096 and 85.7 -> 72.5 ms at T = 16384, the same error
  // (docs/benchmarks.md, run 4).
  Option<bool> graphMatmuls{
      *this, "graph-matmuls",
      llvm::cl::desc("run the graph's matmuls around the nats ops (a layer's "
                     "projections) as blocks of 64x64 outputs on tensor "
                     "cores (with mma)"),
      llvm::cl::init(true)};
  // auto: measured on the H200 at 2,4096,8,128 in bf16 (docs/benchmarks.md,
  // run 14): tf32 takes the gated-delta kernels 0.947 -> 0.906 ms (state
  // pass 0.343 -> 0.326, outputs 0.138 -> 0.127), o's error 2.28e-3 ->
  // 2.54e-3 against float64 (FLA's 6.3e-3); with f32 inputs 23 of the GPU
  // matrix's 26 tests fail 1e-5 in tf32, hence 3xTF32 there
  // (nats-gpu-mma-precision). bf16 products are no faster (run 38,
  // 2,4096,8,128: 0.651 -> 0.662 ms; the routed softmax at 1,16384,32,64
  // 6.52 -> 7.84) and o's error grows 2.8e-3 -> 6.4e-3: the contractions
  // wait on their shared loads, not on the tensor cores.
  Option<MmaPrecision> mmaPrecision{
      *this, "mma-precision",
      llvm::cl::desc("the products of a tensor-core step: auto (tf32 where "
                     "the attention's data is 16-bit, else 3xtf32), 3xtf32 "
                     "(f32 accuracy), tf32 (one product) or bf16 (one bf16 "
                     "product of twice the depth)"),
      llvm::cl::init(MmaPrecision::Auto),
      llvm::cl::values(
          clEnumValN(MmaPrecision::Auto, "auto",
                     "by the attention's element type "
                     "(nats-gpu-mma-precision)"),
          clEnumValN(MmaPrecision::ThreeTF32, "3xtf32",
                     "three tf32 products a step"),
          clEnumValN(MmaPrecision::TF32, "tf32", "one tf32 product a step"),
          clEnumValN(MmaPrecision::BF16, "bf16",
                     "one bf16 product a 16-deep step"))};
  // On: with unshare-empties, the outputs 0.141 -> 0.138 ms and the chunk
  // terms unchanged (2,4096,8,128 on the H200; docs/benchmarks.md, run 13).
  Option<bool> pairedLoads{
      *this, "paired-loads",
      llvm::cl::desc("read a lane's two k elements of an MMA operand row "
                     "with one 64-bit load where they are contiguous and "
                     "aligned (nats-gpu-mma-sync)"),
      llvm::cl::init(true)};
  // On: with ldmatrix and 16 x 16 warp tiles, the routed softmax 13.2 ->
  // 7.97 ms at 1x16384x32x64 (a quarter of the chunks kept), each
  // gated-delta kernel 10-30% faster (H200, docs/benchmarks.md, run 29).
  Option<bool> mergePhases{
      *this, "merge-phases",
      llvm::cl::desc("run two foralls of a block in a row without a barrier "
                     "between them where their memory accesses do not "
                     "conflict (nats-map-foralls-to-gpu)"),
      llvm::cl::init(true)};
  // Off until measured on the GPU (stop 37 had no device time left): the
  // state pass's snapshot of S in 4-element pieces (36% of its time at head
  // dim 256 went to storing it an element at a time, run 102).
  // On: the state pass 0.83x at head dim 256 and 0.93-0.98x at 128 (its
  // kernel time, run 103 on an H100).
  Option<bool> carryInRegisters{
      *this, "carry-in-registers",
      llvm::cl::desc("a block's loop keeps each thread's own places of "
                     "shared memory in registers: the state pass's S "
                     "(nats-gpu-carry-in-registers)"),
      llvm::cl::init(true)};
  // On: the chunk terms 0.89-0.98x (their kernel time, run 103).
  Option<bool> vectorElementForalls{
      *this, "vector-element-foralls",
      llvm::cl::desc("element-wise thread foralls move pieces of rows, up "
                     "to 16 bytes, where the tiles' rows are so aligned "
                     "(nats-gpu-vectorize-element-foralls)"),
      llvm::cl::init(true)};
  // On: the state pass's step has two barriers where it had four (the start
  // state's store, U's product; U's copy out, the state's update share
  // phases), the chunk terms one fewer at head dim 128; the kernels of M1
  // and M2 0.979-1.001x as long (run 102).
  Option<bool> mergeTiles{
      *this, "merge-tiles",
      llvm::cl::desc("with merge-phases, the warp tiles on tensor cores and "
                     "a block's copies share phases too "
                     "(nats-map-foralls-to-gpu)"),
      llvm::cl::init(true)};
  // On: alone, the routed softmax 13.2 -> 10.3 ms and the state pass 0.280
  // -> 0.242 ms (run 29).
  Option<bool> ldmatrix{
      *this, "ldmatrix",
      llvm::cl::desc("read MMA operands that are k-contiguous in shared "
                     "memory with ldmatrix (nats-gpu-mma-sync)"),
      llvm::cl::init(true)};
  // 32 x 16 since 512 threads a block: against 16 x 16, M1's ops 3-9% and
  // M2's 6-16% faster (the outputs 14-20%, the state pass 4-9%), the layer
  // 4.51 -> 3.96 ms at T = 4096, the routed softmax 6.52 -> 5.66 ms at
  // 1x16384x32x64 (H200, docs/benchmarks.md, runs 38-39). With 1024
  // threads it had made the state pass slower (0.229 -> 0.268 ms, run 29).
  Option<int64_t> warpTileM{
      *this, "warp-tile-m",
      llvm::cl::desc("output rows of a tensor-core warp tile, a multiple of "
                     "16 (nats-gpu-distribute)"),
      llvm::cl::init(32)};
  Option<int64_t> warpTileN{
      *this, "warp-tile-n",
      llvm::cl::desc("output columns of a tensor-core warp tile, a multiple "
                     "of 8 (nats-gpu-distribute)"),
      llvm::cl::init(16)};
  ListOption<std::string> kernelWarpTiles{
      *this, "kernel-warp-tiles",
      llvm::cl::desc("name:MxN entries: the named kernel's tensor-core warp "
                     "tiles instead of warp-tile-m x warp-tile-n "
                     "(nats-gpu-distribute)")};
  Option<std::string> cudaPath{
      *this, "cuda-path",
      llvm::cl::desc("the CUDA toolkit (ptxas, libdevice); by default the "
                     "one nats was built with, else $CUDA_HOME and friends"),
      llvm::cl::init(defaultCudaPath())};
  Option<std::string> format{
      *this, "format",
      llvm::cl::desc("what gpu-module-to-binary embeds: bin (a cubin, needs "
                     "ptxas), isa (PTX, compiled by the driver at load) or "
                     "offload (LLVM IR)"),
      llvm::cl::init("bin")};
};

/// How the nats ops' parallel loops are laid out.
enum class NatsTiling {
  /// One scf.forall over (batch, router head) tiles holding both branches:
  /// each tile's data stays together (the CPU).
  HybridTiles,
  /// The branches split first, each with its own outermost scf.forall:
  /// (batch, head) for the gated delta rule, (batch, softmax head, query
  /// block) for the routed softmax, so a GPU gets a grid per branch.
  BranchLoops,
};

/// The passes of nats-to-linalg (router decomposition, tiling, branch
/// split, gated-delta fusion with `gatedDelta`'s options, routed-softmax
/// compaction, with `fuseElementwise` nats-fuse-elementwise, with
/// `mapBlocks` nats-gpu-map-blocks, cleanup): the nats ops to tiled, fused,
/// compacted linalg/scf/tensor IR. Every target's pipeline starts with them.
void addNatsToLinalgPasses(OpPassManager &pm,
                           const NatsFuseGatedDeltaPassOptions &gatedDelta,
                           int64_t blockSize,
                           NatsTiling tiling = NatsTiling::HybridTiles,
                           bool fuseElementwise = false,
                           bool mapBlocks = false);

/// nats-to-linalg: addNatsToLinalgPasses as a pipeline of its own.
void buildNatsToLinalgPipeline(OpPassManager &pm,
                               const NatsPipelineOptions &options);

/// nats-cpu: nats-to-linalg, then one-shot bufferization (results become
/// out-parameters, buffers are deallocated), loops, and the LLVM dialect.
/// Public functions get a C interface (`_mlir_ciface_<name>`).
void buildNatsCPUPipeline(OpPassManager &pm,
                          const NatsPipelineOptions &options);

/// nats-gpu: nats-to-linalg, tiles onto thread blocks and linalg ops onto
/// threads (nats-gpu-distribute), bufferization, block scratch in a device
/// workspace, gpu.launch, kernel outlining, NVVM, and a binary for `chip`
/// embedded in a host module that calls the mgpu* runtime (runtime/cuda).
/// Arguments and results are device buffers.
void buildNatsGPUPipeline(OpPassManager &pm,
                          const NatsGPUPipelineOptions &options);

/// Registers the pipelines above with the pass registry.
void registerNatsPipelines();

} // namespace nats
} // namespace mlir

#endif // NATS_PIPELINES_PIPELINES_H
