//===- Passes.td - passes that map nats' loops onto a GPU ---*- tablegen -*-===//
//
// The GPU path starts from the same tiled, fused and compacted IR as the CPU
// path (nats-to-linalg) and maps it: the tiles' scf.forall onto thread
// blocks, the linalg ops inside a tile onto the block's threads.
//
//===----------------------------------------------------------------------===//

#ifndef NATS_GPU_TRANSFORMS_PASSES_TD
#define NATS_GPU_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def NatsGPUMapBlocksPass : Pass<"nats-gpu-map-blocks", "::mlir::func::FuncOp"> {
  let summary = "Map the outermost loops of nats-to-linalg onto thread blocks";
  let description = [{
    Every outermost `scf.forall` (a tile of a nats op's lowering: (batch,
    head) of the gated delta rule, (batch, router head) of the routed
    softmax's kept-chunk lists, ...) gets a `#gpu.block` mapping: one
    thread block per iteration, a kernel per forall. `nats-gpu` runs it
    inside `nats-to-linalg`, before its canonicalization: a forall of one
    iteration (a batch of one with one router head) has no mapping to keep
    it otherwise, and would be folded into its body, whose ops would then
    each become a grid of their own. `nats-gpu-distribute` maps any
    outermost forall still unmapped the same way. A forall without static
    bounds is an error.
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect"];
}

def NatsGPUWarpRowsPass : Pass<"nats-gpu-warp-rows", "::mlir::func::FuncOp"> {
  let summary = "Lower a block's online-softmax loop (or a loop-free block's 16-bit contractions) and what follows onto warp-owned rows, in registers";
  let description = [{
    Works on tensors, before `nats-gpu-distribute`. A loop directly in a
    `#gpu.block` forall whose iteration arguments are f32 tensors of R or
    R × N elements (R a multiple of 16: the routed softmax's running
    maxima, sums and output rows) and whose body is made of contractions
    with a 16-bit B tile of memory widened in the step (K, V) and an A that
    is either such a tile widened (and optionally scaled) outside the loop
    (Q) or an R × K tensor of the step (P), row reductions, elementwise
    ops, fills, slices and scalar code becomes, with the ops after it that
    read what it computed and are of the same kinds (the own chunk's masked
    step, the product by the sums' reciprocals, the output's rounding), one
    `#gpu.warp` forall of R / 16 warps holding lane code: warp w owns rows
    16w .. 16w + 15 and its lanes carry their elements of the tensors in
    registers, in the m16n8 accumulator layout (of R × N) or rows g, g + 8
    (of R); contractions run as m16n8k16 MMAs on bf16 or f16
    (`nvgpu.mma.sync`, f32 accumulation) with B read by `ldmatrix`
    (`.trans` where its rows are the reduction) from a shared-memory copy
    that the block's threads make with cp.async (each step, or once for
    tiles outside the loops; rows padded by 16 bytes), and A from
    registers (an accumulator pair of two n-tiles is a 16-deep A fragment,
    rounded to 16 bits) or loaded once first (a scale of its widening is
    applied to the product); a product that one elementwise op adds to a
    value of its own accumulates onto it (O = α·O + P·V); row reductions
    fold a lane's elements, then the row's four lanes by shuffles. Ops in
    between that read nothing of the region move before it. What the ops
    after the region read is stored to buffers that they read as tensors
    (`bufferization.to_tensor`), a matrix's rows padded by 8 columns. The
    warp forall holds block barriers: `nats-map-foralls-to-gpu` gives the
    block one warp per iteration.
    A block without loops whose every contraction has such 16-bit tiles
    widened from memory as A and B, all of R rows (the gated delta rule's
    outputs, O = r ⊙ (q·S) + P·U, with `round-output-terms`), starts the
    region at its first contraction instead, and copies each tile in
    pieces of 64 rows (whole where the block's threads do not divide a
    piece), one cp.async group each, in the order of its contractions: a
    contraction whose tile's rows are its depth (S, U) takes its depth
    steps in order, all n-tiles of a step together, and waits for a piece
    (and a block barrier) only before the first step that reads it, so
    that q·S starts on S's first rows while the rest land; one that reads
    a tile's rows as n waits for all of them first. Other blocks are left
    as they are.

    Where a causal mask (an elementwise select(visible, x, constant) whose
    condition is a conjunction with column <= row or <, both indices offset
    alike by a non-negative value: the own chunk's step) hides columns from
    all of a warp's rows, the warp skips them, each behind a warp-uniform
    `scf.if`: the pairs of n-tiles of a product that only the mask reads
    (S), and the depth steps of a product whose A is 0 wherever the mask
    hides (P = select(s == hidden, 0, ...)).

    With `prefetch`, a loop's tiles have two buffers each: the first
    step's are copied before the loop, and each step starts the copies of
    the next step's tiles (into the buffers the step before read) before it
    waits for its own, so that they land while it computes.
  }];
  let options = [
    Option<"prefetch", "prefetch", "bool", "false",
           "copy a loop's tiles a step ahead, into two buffers each">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::gpu::GPUDialect",
    "::mlir::LLVM::LLVMDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::NVVM::NVVMDialect",
    "::mlir::nvgpu::NVGPUDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::vector::VectorDialect",
  ];
}

def NatsGPUDistributePass : Pass<"nats-gpu-distribute", "::mlir::func::FuncOp"> {
  let summary = "Say which loops run on thread blocks and which on threads";
  let description = [{
    Works on tensors, after `nats-to-linalg`. Every outermost `scf.forall`
    (a tile of `nats.hybrid_attention`, one per (batch, router head)) gets a
    `#gpu.block` mapping, as `nats-gpu-map-blocks` gives it: one thread
    block per iteration. Every linalg op is
    then tiled through its `TilingInterface` into an `scf.forall` of
    single-element tiles over its parallel dimensions, mapped to
    `#gpu.thread`: inside a block forall its iterations are shared out over
    the block's threads; outside one (an op of the surrounding graph) over a
    grid of its own. Reduction dimensions stay in each iteration.

    Loops that are neither (the chunk loop that carries the state, the
    sequential walk over query blocks) run on every thread of the block in
    step; `nats-map-foralls-to-gpu` keeps their memory writes consistent.

    With `mma`, a contraction inside a block that fits the tensor cores
    (C(m, n) += A(m, k) · B(k, n) on f32, operands in any layout, m a
    multiple of 16, n and k of 8) is tiled instead into `warp-tile-m` ×
    `warp-tile-n` tiles of its output (16 × 8 by default: one mma.sync
    tile; where that does not divide the output, the largest multiples of
    16 and 8 below it that do), each with the whole reduction, as an
    `scf.forall` mapped to `#gpu.warp`: `nats-gpu-mma-sync` makes each tile
    a warp's `mma.sync`. A larger warp tile has fewer warps load more
    operand fragments each, and reuse each of them for several MMAs.
    `kernel-warp-tiles` entries `name:MxN` give the contractions of the
    blocks whose kernel is so named (their forall's location,
    `nats-map-foralls-to-gpu`'s kernel name) warp tiles of M × N instead: a
    small contraction (the state pass's 64 × 16 U) runs on more warps.
    A `linalg.fill` that such a contraction accumulates into is fused into
    its tiles (each warp fills its own tile first; the fill outside goes
    where nothing else reads it), which `nats-gpu-mma-sync` folds into the
    accumulators: no block-wide phase of stores before the contraction. So
    is an elementwise update of its accumulator in place that nothing else
    reads (a `linalg.generic` writing each element from that element and
    from other tiles' elements at the same position: the state pass's
    decay d · S before K_cᵀ U accumulates onto it, U₀ widened from bf16
    into the tile U accumulates in), which `nats-gpu-mma-sync` applies to
    C's elements as it loads them: no phase of the block's threads, and
    its barrier, between the two. An elementwise map of the
    contraction's result that follows it (a `linalg.generic` that reads the
    result through the identity map into an output of its shape, its other
    inputs, defined before the contraction, through broadcasts, its
    position through `linalg.index`: the rounding of S, U, −W and U₀ to
    the bf16 they are multiplied or stored in, P = (Q Kᵀ) ⊙ M, −A's
    masked scaling of K Kᵀ) is
    fused into the tiles after it (with `result-maps`;
    `scf::tileAndFuseConsumer`: a second result of the warp forall), which
    `nats-gpu-mma-sync` applies to the accumulators as it stores them: the
    rounded tile comes from the lanes' registers, not from a phase of the
    threads that read the result back after a barrier. Where the block
    reads the result nowhere else and it starts from an empty, the result
    becomes a `bufferization.alloc_tensor` in private memory: the
    accumulators hold it and no shared memory does. A map whose result the
    block only records in an output (−W, P and U₀) gets a `linalg.copy` of
    its tile by the threads right after the warp tiles, which
    `nats-gpu-results-in-place` computes in the output: the threads store
    whole rows where a warp's accumulators would store 16 bytes to each of
    eight, and the tile's buffer dies after the copy.
    With `stage-operands` as well, each input of such a contraction that the
    block reads from outside itself (a slice of a function argument, of an
    earlier loop's result or of the block's shared outputs: global memory)
    is first copied by a `linalg.copy`, distributed over the threads like
    any op, into a tensor of the block's own, which `nats-gpu-workspace`
    places in shared memory where it fits: the warp tiles' k-steps then
    read shared memory instead of each waiting on global loads.

    With `warp-reductions`, a reduction inside a block that lanes share out
    faster than one thread runs it (f32, a parallel loop, one reduction
    loop of a multiple of 32 and at least 64 iterations, a combiner among
    addf, mulf, maximumf, maxnumf, minimumf, minnumf: the row norms, maxima
    and sums of a chunk) is tiled into warp tiles of r outputs along its
    last parallel loop, each with the whole reduction, mapped to
    `#gpu.warp`: each output gets g = 32 / r lanes, as many as leave each
    lane 32 iterations (at most 32 lanes; r fewer where the loop has fewer
    outputs), and `nats-gpu-warp-reduce` makes each tile a warp's lane
    groups and shuffles. A chunk's row norms (64 × 128) become 8 tiles of 8
    rows, 4 lanes a row.

    With `graph-matmuls` (and `mma`), a row-major `linalg.matmul` of the
    graph around the nats ops (outside any forall: a layer's projections)
    with f32 results and m, n, k multiples of 64 becomes a `#gpu.block`
    forall of 64 × 64 output tiles (its location named `graph_matmul`, the
    kernel's name), each walking k in steps of 64 (an `scf.for` carrying the
    tile in place) that convert the step's operand tiles to f32 into the
    block's own tensors and multiply them with one f32 `linalg.matmul`,
    which the warps run on tensor cores. Without it such a matmul is a grid
    of one output element per thread, each reading its whole row and column
    from global memory.
  }];
  let options = [
    Option<"mma", "mma", "bool", "false",
           "tile the contractions that fit the tensor cores onto warps">,
    Option<"stageOperandsInSharedMemory", "stage-operands", "bool", "false",
           "copy the global inputs of warp-tiled contractions into the "
           "block's own buffers first (with mma)">,
    Option<"warpReductions", "warp-reductions", "bool", "false",
           "share the reductions that fit a warp out over its lanes">,
    Option<"graphMatmuls", "graph-matmuls", "bool", "false",
           "tile the graph's matmuls outside the nats ops into blocks of "
           "64 x 64 outputs on tensor cores (with mma)">,
    Option<"warpTileM", "warp-tile-m", "int64_t", "16",
           "output rows of a warp tile (a multiple of 16; less where the "
           "contraction's rows are not a multiple of it)">,
    Option<"warpTileN", "warp-tile-n", "int64_t", "8",
           "output columns of a warp tile (a multiple of 8; less where the "
           "contraction's columns are not a multiple of it)">,
    ListOption<"kernelWarpTiles", "kernel-warp-tiles", "std::string",
               "name:MxN entries: the warp tile of the named kernel's "
               "contractions instead of warp-tile-m x warp-tile-n">,
    Option<"resultMaps", "result-maps", "bool", "false",
           "fuse an elementwise map of a warp-tiled contraction's result "
           "into its tiles (with mma)">,
  ];
  let dependentDialects = [
    "::mlir::affine::AffineDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::gpu::GPUDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

def NatsGPUUnshareEmptiesPass : Pass<"nats-gpu-unshare-empties", "::mlir::func::FuncOp"> {
  let summary = "One tensor.empty, and one fill of it, per use inside a thread block";
  let description = [{
    Works on tensors, before bufferization. CSE merges identical
    `tensor.empty` ops, and a zero `linalg.fill` of one often starts several
    accumulators (or one inside a loop); one-shot bufferization then keeps
    the first value alive by giving each later writer a new buffer and a
    copy (`memref.alloc` + `memref.copy`): a block phase spent copying, and
    a buffer of the unpadded type that `nats-gpu-pad-rows` never saw.
    Inside a `#gpu.block` forall, this pass gives each block-level user
    that writes into such a fill (its destination, or a loop's initial
    value) a fill of its own right before it (the work of the copy it
    replaces; readers keep sharing the original), and each use of a shared
    empty an empty of its own (an empty has no contents: nothing changes).
    A `tensor.insert_slice` that writes back a slice of the same value,
    computed in place from it (a block of rows solved into its place),
    stays with that slice: apart, the write-back would be a copy. Each then
    bufferizes in place into a buffer of its own, and
    `nats-gpu-workspace` lets buffers that are never live at once share
    memory.
  }];
  let dependentDialects = [
    "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

def NatsGPUResultsInPlacePass : Pass<"nats-gpu-results-in-place", "::mlir::func::FuncOp"> {
  let summary = "Compute a block's results in the outputs they are inserted into";
  let description = [{
    Works on tensors, before bufferization (after `nats-gpu-unshare-empties`,
    which gives each use its own empty, and before `nats-gpu-pad-rows`,
    which would make those empties slices of padded ones). A result that a
    block inserts into a kernel output (`tensor.parallel_insert_slice`), or
    that a loop records in one (`tensor.insert_slice`), starts from a
    `tensor.empty` on its chain of ops written in place; upstream's empty
    tensor elimination makes that empty the destination's slice, so the
    result is computed in the output (global memory) instead of in shared
    memory and copied there at the block's end: a phase less and a buffer
    less. Not where the inserted value is one that a sequential loop
    carries (`scf.for`, `scf.while`): it stays in the block's scratch memory,
    which the loop reads and writes every iteration, and is copied out once.
    Nor where the block reads the inserted value again (it has other uses:
    the state pass's rounded U is an operand of the next product): from
    global memory each of its reads would wait on a load.
  }];
  let dependentDialects = [
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

def NatsGPUPadRowsPass : Pass<"nats-gpu-pad-rows", "::mlir::func::FuncOp"> {
  let summary = "Pad the rows of a block's scratch tensors against bank conflicts";
  let description = [{
    Works on tensors, after `nats-gpu-distribute`. Shared memory has 32 banks
    of 4 bytes: in a matrix whose rows are a multiple of 128 bytes long, the
    elements of one column lie in one bank, and where they are a multiple of
    64 bytes, in two (every other row in the same), so the lanes of a warp
    that read a column (tensor-core fragments read 8 rows at a time,
    ldmatrix 8 rows of 16 bytes, a reduction one row per thread) wait for
    each other. Every `tensor.empty` of a block
    (not of a thread's or a warp's own tile) with such rows becomes a slice
    of a tensor whose rows are `pad-bytes` longer: after bufferization, a
    strided view whose rows start in different banks. The values do not
    change.
  }];
  let options = [
    Option<"padBytes", "pad-bytes", "int64_t", "16",
           "bytes added to each row (0: none)">,
  ];
  let dependentDialects = ["::mlir::tensor::TensorDialect"];
}

def NatsGPUPrefetchPass : Pass<"nats-gpu-prefetch", "::mlir::func::FuncOp"> {
  let summary = "Copy the tiles a block's loop stages one iteration ahead, with cp.async";
  let description = [{
    Works on buffers, after bufferization and before `nats-gpu-workspace`.
    In a sequential loop of a thread block (not inside a thread's or a
    warp's tile), a thread forall that copies a tile of global memory into
    a buffer allocated in the loop's body (`nats-gpu-distribute`'s staged
    operands) makes every thread wait for its loads at the start of each
    iteration. Where the copied memory is not written in the loop, the
    buffer is touched only from the copy on, and what the tile's place is
    computed from can be recomputed (side-effect-free ops, loads of memory
    the loop does not write), the buffer becomes two in workgroup memory,
    taken in turn by the iterations: before the loop the first iteration's
    tile is copied into one; at the start of iteration i the copy of
    iteration i + 1's tile into the other starts as
    `nvgpu.device_async_copy` (cp.async: 16 bytes a copy where both
    tiles' rows are so aligned and divide into 16-byte pieces, else 4, one
    32-bit element or two 16-bit ones; tiles of other elements are not
    staged), committed as a group of its own, and it is waited for
    (`nvgpu.device_async_wait`, then a barrier) at the end of the
    iteration. The tile's loads then overlap the iteration's work.

    A block's copies outside its loops (a tile copied once, as the chunk
    terms copy q and k) that meet the same conditions become cp.async into
    a workgroup buffer in place of theirs, 16 bytes a copy where the rows
    allow it (each thread had loaded and stored an element at a time),
    issued right after the last op of the block that their tile and target
    views are computed from, each as a group of its own, and waited for
    where they were (`numGroups`: the groups issued after it and before
    the wait, which may run on): k's tile loads while q's is normalized.

    A loop's copy gets two buffers only while all the block's buffers fit
    in `shared-memory-bytes` with each prefetched one counted twice and none
    sharing memory with another: `nats-gpu-workspace` places buffers in
    workgroup memory first and must find them room. A loop's copy that does
    not fit twice (the state pass's tiles at head dim 256) is staged in
    place, one buffer, as the copies outside loops are, but issued at the
    start of the iteration, after the loop's copies before it, its tile
    and target views computed there again: the tiles load in the order the
    iteration needs them, while it works on what it has. Copies staged in
    place are taken while the workgroup buffers, the prefetched ones
    counted twice, fit in `shared-memory-bytes`.
  }];
  let options = [
    Option<"sharedMemoryBytes", "shared-memory-bytes", "int64_t", "0",
           "shared memory a block may use for its scratch (0: none, so no "
           "prefetch)">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::gpu::GPUDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::nvgpu::NVGPUDialect",
    "::mlir::scf::SCFDialect",
  ];
}

def NatsGPUWorkspacePass : Pass<"nats-gpu-workspace", "::mlir::func::FuncOp"> {
  let summary = "Give each thread block its scratch buffers in one workspace";
  let description = [{
    Works on buffers, after bufferization. A buffer allocated inside a
    `#gpu.block` forall is the block's scratch: this pass gives every such
    `memref.alloc` (static shape) a fixed, 256-byte aligned slot, allocates
    one workspace of (slots × iterations) bytes before the forall and
    replaces each allocation by a `memref.view` of the block's part, so the
    type and layout the users see do not change. Runs before the
    deallocation pipeline, which then frees the workspace like any buffer.

    Slots go to the block's shared memory first, smallest buffer first
    while they fit in `shared-memory-bytes`: there the allocation becomes a view
    of one `memref.alloca` in `#gpu.address_space<workgroup>` at the start
    of the block (`nats-map-foralls-to-gpu` makes it the launch's dynamic
    shared memory), cast back to the default memory space. The rest get
    slots in the global workspace. A buffer allocated in
    `#gpu.address_space<workgroup>` (`nats-gpu-prefetch`'s, which cp.async
    fills) is placed before all others and must fit: it becomes the view
    itself, uncast. Buffers that are never live at the same
    time (from the allocation to the end of the last op of its block that
    uses the buffer or an alias of it) share memory, in shared memory and in
    the workspace alike: every phase of a block ends at a barrier, so a
    buffer's last reads are done before the next one's first writes.

    A slot is reused by every iteration of the loops around the allocation,
    so a buffer must not live from one iteration into the next: bufferize
    without `allow-return-allocs-from-loops`.

    A buffer in `#gpu.address_space<private>` (a warp tile's result that
    its lanes keep in registers, `nats-gpu-distribute`) gets no slot: it
    becomes a `memref.alloca`, which the deallocation pipeline leaves
    alone, until `nats-gpu-mma-sync` erases it.
  }];
  let options = [
    Option<"sharedMemoryBytes", "shared-memory-bytes", "int64_t", "0",
           "shared memory a block may use for its scratch (0: none)">,
  ];
  let dependentDialects = [
    "::mlir::affine::AffineDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::gpu::GPUDialect",
    "::mlir::memref::MemRefDialect",
  ];
}

def NatsGPUWarpReducePass : Pass<"nats-gpu-warp-reduce", "::mlir::func::FuncOp"> {
  let summary = "Warp tiles of reductions become lane loops and shuffles";
  let description = [{
    Works on buffers, after bufferization and before `nats-gpu-mma-sync`
    and `nats-map-foralls-to-gpu`. The body of a `#gpu.warp` forall that
    `nats-gpu-distribute{warp-reductions}` made of a reduction is the
    reduction of r output elements along one loop (r a power of two of at
    most 32); this pass replaces it by the code one warp runs, a group of
    g = 32 / r lanes an output: lane l of output l / g folds iterations
    l % g, l % g + g, ... of the op's body into a partial that starts at
    the combiner's identity, log2(g) `gpu.shuffle xor` steps within the
    group fold its partials (each of its lanes gets the total), and every
    lane of the group stores the output folded with the total (the same
    value). A group takes n / g + log2(g) dependent steps where one thread
    takes n; the sum is reassociated. Warp foralls of tensor-core tiles are
    left to `nats-gpu-mma-sync`.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::gpu::GPUDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
  ];
}

def NatsGPUMmaPrecisionPass : Pass<"nats-gpu-mma-precision", "::mlir::func::FuncOp"> {
  let summary = "Mark each function's tensor-core precision from its attention's element type";
  let description = [{
    Works on nats IR, before `nats-to-linalg` (the nats ops say what the
    data is; the contractions they become work on f32 intermediates). Sets
    `nats.mma_precision` on each function with nats ops: `"tf32"` where the
    first operand of every one of them (`q`, `qs`, a router's `x`) has a
    16-bit float element type, `"3xtf32"` otherwise. A function already
    marked keeps its mark (a user's choice), one without nats ops gets
    none. `nats-gpu-mma-sync{precision=auto}` follows the mark.

    Why 16-bit data may take one tf32 product a step: bf16 and f16 values
    are exact in tf32 (8 and 11 significant bits against 11), so only the
    f32 intermediates (the solve's W and U, the state carried over the
    tiles, P) are rounded, to 11 bits where FLA rounds them to bf16's 8.
    Measured on an H200 (2×4096×8×128, bf16): o's error against float64
    2.54e-3 instead of 2.28e-3 with 3xTF32 (FLA's 6.3e-3), the final
    state's 6.0e-4 instead of 1.1e-6 (FLA's 4.7e-3), the gated-delta
    kernels 4% faster (docs/benchmarks.md, run 14). With f32 data one tf32
    product cannot keep f32's accuracy (23 of the 26 f32 tests of
    the GPU matrix over their 1e-5), hence 3xTF32 there.
  }];
}

def NatsGPUAlignedArgumentsPass
    : Pass<"nats-gpu-aligned-arguments", "::mlir::func::FuncOp"> {
  let summary = "The GPU path's calling convention: a public function's "
                "memref arguments are aligned";
  let description = [{
    Works on buffers. Every use of a public function's memref argument
    reads it through `memref.assume_alignment` of `bytes`: its callers pass
    data aligned to that many bytes (nats' runtime checks each device array
    it passes; its own allocations, like `cudaMalloc`'s, are 256-byte
    aligned). The passes that prove alignment (`nats-gpu-prefetch`,
    `nats-gpu-mma-sync`, `nats-gpu-align-vector-accesses`) then read 16-bit
    inputs such as q with wide accesses where they had read them an element
    at a time.
  }];
  let options = [
    Option<"bytes", "bytes", "int64_t", "16",
           "the alignment callers promise, a power of two">,
  ];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

def NatsGPUVectorizeElementForallsPass
    : Pass<"nats-gpu-vectorize-element-foralls", "::mlir::func::FuncOp"> {
  let summary = "Element-wise thread foralls move pieces of rows, not elements";
  let description = [{
    Works on buffers, before `nats-gpu-align-vector-accesses`. A
    `#gpu.thread` forall whose body is one element-wise linalg op (a fill, a
    copy, or a generic of parallel loops whose body ops are element-wise
    mappable and whose maps are identities, or for an input a row's value:
    all loops but the last) on element views of tiles (`memref.subview`
    at the induction variables, sizes 1; a row's value at all of them but
    the last) moves one element an iteration.
    Where every tile's rows are aligned to pieces of W elements (W a power
    of two, at most 16 bytes of any tile's elements; `Alignment.h`) and W
    divides the forall's last bound, the forall becomes one over pieces: W
    times fewer iterations, each a `vector.load` of every input piece (and
    of an output the body reads; a row's value is loaded once and
    broadcast), the body on vectors (scalars from outside broadcast), a
    `vector.store` of every output piece. The state pass's snapshot of S
    (f32 in shared memory to bf16 in global memory) then takes 4-element
    pieces. Other foralls are left as they are.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::vector::VectorDialect",
  ];
}

def NatsGPUAlignVectorAccessesPass
    : Pass<"nats-gpu-align-vector-accesses", "::mlir::func::FuncOp"> {
  let summary = "Vector loads and stores aligned to their size where the "
                "address provably is";
  let description = [{
    Works on buffers. A `vector.load` or `vector.store` without an
    alignment lowers to an LLVM access aligned to one element, which the
    NVPTX backend splits into an access an element (a lane's register of
    two bf16 that `nats-gpu-warp-rows` reads from memory was two 16-bit
    loads). This pass sets the alignment of each 1-D vector access of at
    most 16 bytes (a power of two) to its size where that is proven: the
    memref's rows are so aligned (unit stride last, other strides and every
    offset down to an aligned allocation or the block's shared-memory pool
    multiples of the vector's length, or a `memref.assume_alignment` as
    `nats-gpu-aligned-arguments` makes of function arguments) and the last
    index is a multiple of the vector's length. Anything else (a function
    argument without one, whose address is the caller's) keeps its
    alignment.
  }];
  let dependentDialects = ["::mlir::vector::VectorDialect"];
}

def NatsGPUMmaSyncPass : Pass<"nats-gpu-mma-sync", "::mlir::func::FuncOp"> {
  let summary = "Warp tiles of f32 contractions become tensor-core mma.sync";
  let description = [{
    Works on buffers, after bufferization and before
    `nats-map-foralls-to-gpu`. The body of each `#gpu.warp` forall that
    `nats-gpu-distribute` made is one contraction of an output tile of
    multiples of 16 × 8 (each 16 × 8 of it one MMA tile),
    optionally after a `linalg.fill` of that tile or an elementwise update
    of it in place, and optionally before an elementwise map of it into a
    tile of another output; this pass replaces it by
    the code one warp runs: every lane loads its part of the accumulator
    (the m16n8 fragment layout of PTX; with a fill, it starts at the fill's
    value instead and C is only written; with an update, the update's body
    maps each element as it is loaded, its inputs loaded at the element's
    position, C not loaded where the body does not read it), walks the
    reduction in steps of 8 loading its parts of A and B, and stores the
    accumulator back (with a map, also the map's body of each element into
    the map's output, at the same indices, its other inputs loaded there: a
    pair of adjacent elements by one access where C's is one and the
    output's rows are aligned). A C in private memory (the lanes'
    registers: `nats-gpu-distribute` gives that type to a result that the
    block reads nowhere but in the map) is not stored, and its buffer
    (an alloca since `nats-gpu-workspace`) is erased after the tiles;
    anything else that uses it is an error. Each step is three `nvgpu.mma.sync` of shape m16n8k8
    on tf32 (3xTF32): each f32 operand x is split into hi = tf32(x) and
    lo = tf32(x - hi), and the step adds lo·hi' + hi·lo' + hi·hi'. The
    dropped lo·lo' is below f32's rounding, so the result keeps f32
    accuracy (f32 inputs stay within their 1e-5) while the products run on
    tensor cores.

    With `precision=tf32`, each step is one `mma.sync` on hi·hi' alone
    (operands rounded to tf32's 10 mantissa bits, f32 accumulation): a
    third of the tensor-core work and none of the splitting. With
    `precision=auto` (the default), a function marked
    `nats.mma_precision = "tf32"` (`nats-gpu-mma-precision`: 16-bit
    attention data) gets tf32, one marked `"bf16"` bf16, any other
    3xTF32; a mark other than `"tf32"`, `"3xtf32"` or `"bf16"` is an
    error.

    With `precision=bf16`, a step is 16 deep: the lane loads the
    fragments of two k8 steps as above, rounds each pair of its f32
    elements into one register of two bf16 (`arith.truncf`, one
    `cvt.rn.bf16x2.f32`) and runs one `nvvm.mma.sync` of shape m16n8k16
    on bf16 with f32 accumulation (nvgpu's has no bf16 lowering in MLIR
    22): half the MMAs of tf32 and none of its rounding arithmetic, for
    the same shared loads, at bf16's 8 significant bits where tf32 keeps
    11 (what FLA's kernels round their intermediates to). The k slots 2t,
    2t + 1, 2t + 8, 2t + 9 of the step take the k8 slots t, t + 4 of its
    first half and then of its second, for A and B alike. A contraction
    whose depth is no multiple of 16 keeps tf32 steps (one product each).
    Measured on an H200 (docs/benchmarks.md, run 38): no faster than tf32
    (the gated-delta kernels at 2×4096×8×128 0.651 → 0.662 ms, the routed
    softmax at 1×16384×32×64 6.52 → 7.84 ms) and o's error against
    float64 2.8e-3 → 6.4e-3: the contractions wait on their shared loads,
    which this leaves as they are; bf16 tiles in shared memory would halve
    those.

    With `paired-loads`, each step's k slots t and t + 4 take the columns
    2t and 2t + 1 instead of t and t + 4, for A and B alike (a permutation
    of the terms of the sum): a lane's two elements of a row of an operand
    whose last dimension is k are then adjacent, and where they are
    provably 8-byte aligned (even strides and offsets down to an aligned
    allocation or the block's shared-memory pool) one 64-bit
    `vector.load` reads both. That halves the shared loads of A (and of B
    when it is stored n-major, as in K Kᵀ), the instructions the MIO queue
    stalled on in the hottest phases of the chunk terms and the routed
    softmax (docs/benchmarks.md).

    With `ldmatrix`, an A that is k-contiguous in the block's shared
    memory with 16-byte aligned rows (row strides and offsets multiples of
    4 elements: the pool's padded scratch) is read by one `ldmatrix.x4` a
    fragment instead of two to four loads, and such a B (stored n-major,
    as K in Q·Kᵀ) by one `ldmatrix.x4` for two MMA tiles' fragments (x2
    for one): its four 8 × 4 matrices of 32-bit elements give lane 4g + t
    element (g, t) of each, the tf32 fragment layout. k then keeps its
    order: paired-loads applies to the tiles whose A cannot.

    A and B may be bf16 or f16 (tiles of terms stored in 16 bits). Where
    both are of one 16-bit type and the depth is a multiple of 16, each
    step is one m16n8k16 MMA on them as they are, whatever the precision
    (a product of two 16-bit floats is exact in f32, as in tf32: half the
    MMAs of tf32 and no rounding); with `ldmatrix`, an operand in shared
    memory with 16-byte aligned rows is read by `ldmatrix` of 16-bit
    elements (`.trans` where k is not its contiguous dimension), one x4 a
    fragment of A and one for two MMA tiles of B, else by a lane's k pairs
    (one 32-bit load where aligned). Elsewhere each 16-bit element is
    widened to f32 as it is loaded (exact in tf32: no rounding, and no low
    part at 3xTF32), and ldmatrix, which then gives the layout of 32-bit
    elements, is not used for it. Measured on an H100 (run 74, with T in
    16 bits): the chunk terms 0.89-0.93× the time, the state pass
    0.93-0.95×. A lane's two accumulator elements of a row (columns 2t and
    2t + 1) are read and written by one 64-bit access where C's last
    dimension is n and its rows are provably 8-byte aligned (the results
    a block stores in place in global memory: half the store instructions).

    A warp tile of TM × TN MMA tiles (`nats-gpu-distribute`'s
    `warp-tile-m` and `warp-tile-n`) loads its TM fragments of A and TN of
    B once a k-step and runs TM · TN independent chains of MMAs on them:
    fewer shared loads per MMA than one tile a warp, and more MMAs in
    flight for each warp.
  }];
  let options = [
    Option<"precision", "precision", "::mlir::nats::MmaPrecision",
           "::mlir::nats::MmaPrecision::Auto",
           "the products of a step: 3xtf32 (three tf32 products, f32 "
           "accuracy), tf32 (one), bf16 (one bf16 product a 16-deep step), "
           "auto (the function's nats.mma_precision mark, 3xtf32 without one)",
           [{::llvm::cl::values(
             clEnumValN(::mlir::nats::MmaPrecision::Auto, "auto",
                        "the function's nats.mma_precision mark"),
             clEnumValN(::mlir::nats::MmaPrecision::ThreeTF32, "3xtf32",
                        "three tf32 products a step (f32 accuracy)"),
             clEnumValN(::mlir::nats::MmaPrecision::TF32, "tf32",
                        "one tf32 product a step"),
             clEnumValN(::mlir::nats::MmaPrecision::BF16, "bf16",
                        "one bf16 m16n8k16 product a 16-deep step"))}]>,
    Option<"pairedLoads", "paired-loads", "bool", "false",
           "read a lane's two k elements of a row with one 64-bit load where "
           "k is contiguous and the pair aligned (k permuted in each step)">,
    Option<"ldmatrix", "ldmatrix", "bool", "false",
           "read the fragments of operands that are k-contiguous in shared "
           "memory with 16-byte aligned rows with ldmatrix">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::gpu::GPUDialect",
    "::mlir::LLVM::LLVMDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::NVVM::NVVMDialect",
    "::mlir::nvgpu::NVGPUDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect",
  ];
}

def NatsMapForallsToGPUPass : Pass<"nats-map-foralls-to-gpu", "::mlir::func::FuncOp"> {
  let summary = "Turn the mapped foralls into gpu.launch, threads and barriers";
  let description = [{
    Works on buffers. A `#gpu.block` forall becomes a `gpu.launch` of one
    block per iteration (its indices delinearised from the block id) and
    `block-threads` threads; its pool of shared memory from
    `nats-gpu-workspace` becomes the launch's dynamic shared memory. Inside
    it, each `#gpu.thread` forall becomes a loop over ceil(iterations /
    block-threads) rounds, iteration tid + round * block-threads (guarded
    where the block size does not divide the count), between barriers: a
    constant trip count, which LLVM unrolls. A `#gpu.warp` forall likewise,
    over the warps; a `memref.copy` of the block's sequential code likewise,
    over its elements, or over pieces of its rows (up to 16 bytes, one
    `vector.load` and `vector.store` each) where both sides' rows are so
    aligned (`Alignment.h`).
    Every other write to a buffer in the block (a scalar store, an op left
    untiled) runs on thread 0 alone, between barriers: the threads
    run the sequential code in step, and a write by all of them would race
    with a faster thread's next use. Barriers and waits for async copies
    (which order memory but write no buffer) stay every thread's.
    A barrier that orders nothing another one does not goes: one that every
    thread reaches right after another (also first in an `scf.if` that one
    precedes, or first in a loop's body that one precedes and one ends);
    one right before a commit or wait of async copies that a barrier
    follows; and one right after a loop, or an if that one precedes, that
    only starts async copies (they complete at a wait, which a barrier
    follows). A staged loop's step (`nats-gpu-prefetch`) then meets at the
    barrier after its wait alone.
    With `merge-phases`, two thread or warp foralls in a row (nothing but
    side-effect-free ops between them) share a phase, no barrier between,
    where the second conflicts with none of the foralls since the last
    barrier: no memory that one writes and another accesses may overlap
    (buffers followed back through views: after `nats-gpu-workspace` views
    of the block's pool at constant shifts overlap only where their bytes
    do), unless both are thread foralls over the same iterations that
    access it at the same slices of their induction variables, so that one
    thread runs both accesses of each element, in order. A scalar
    `memref.load` in the block's sequential code (every thread's) joins the
    phase before it where it reads nothing that phase writes, with no
    barrier on either side (the state pass's decay between the start state's
    store and U's product). Without `merge-tiles` a warp tile on tensor
    cores always starts a phase (nvvm.mma.sync declares no memory effects,
    nvgpu.ldmatrix a read of no memref: its effects count as unknown) and a
    `memref.copy` in the block's sequential code is none. With it, the lane
    code's effects are known (the MMA touches no memory, ldmatrix reads its
    source) and such a copy (a tile that bufferization copies out, e.g. the
    state pass's U, shared out over the threads) is a phase too: the state
    pass's step then has two barriers where it had four.
    A `#gpu.thread` forall outside any block forall, and a `memref.copy`,
    outside any block forall become a launch of their own over
    ceil(iterations / block-threads) blocks, one iteration (an element, or
    a copy's piece of a row) per thread.
    `kernel-threads` entries `name:threads` give the launch of the block
    forall named `name` (the kernel name its location gives, e.g.
    `gated_delta_outputs`) that many threads instead of `block-threads`:
    kernels differ in how many warps their phases keep busy. Names that no
    block forall has are ignored (a pipeline's kernels vary with the op).
  }];
  let options = [
    Option<"blockThreads", "block-threads", "int64_t", "128",
           "threads per block">,
    ListOption<"kernelThreads", "kernel-threads", "std::string",
               "name:threads entries: the threads of the block forall "
               "named name, instead of block-threads">,
    Option<"mergePhases", "merge-phases", "bool", "false",
           "no barrier between two foralls in a row that touch no memory "
           "in conflict">,
    Option<"mergeTiles", "merge-tiles", "bool", "false",
           "with merge-phases, the warp tiles on tensor cores and a block's "
           "copies share phases too">,
  ];
  let dependentDialects = [
    "::mlir::affine::AffineDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::gpu::GPUDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect",
  ];
}

def NatsGPUCarryInRegistersPass
    : Pass<"nats-gpu-carry-in-registers", "::mlir::func::FuncOp"> {
  let summary = "A block's loop keeps each thread's own places of shared "
                "memory in registers";
  let description = [{
    Works on the kernels of `nats-map-foralls-to-gpu`, whose thread loops
    it unrolls. In a loop of a `gpu.launch` body (not nested in another op)
    with constant bounds, at least one iteration and a barrier in its body
    (every thread runs it), a `vector.load` of shared memory followed, in
    the same block and phase, by a `vector.store` of the same place
    (indices equal up to constants) is loaded once before the loop, carried
    as an iteration argument, and stored once after it, with a barrier on
    each side where there is none. That needs: nothing else in the loop
    touching memory the place may share, and no cp.async into it in flight
    when the loop starts; other such pairs of its block at places provably
    apart (pieces of a row apart, or another row where integer range
    analysis bounds the indices inside it); the pairs in the loop's body or
    that of a thread loop in it (`nats.thread_loop`, 1 to 4 iterations:
    one with a pair is unrolled, its iterations' places apart as a forall's
    are), or in the body of a guard there (an `scf.if` without results or
    else: loaded and stored under its condition); and the place computable
    before the loop. The state pass's accumulators of S then stay in
    registers for the whole chunk loop, its f32 copy in shared memory read
    once and written once.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::gpu::GPUDialect",
    "::mlir::vector::VectorDialect",
  ];
}

def NatsGPUHostMemoryPass : Pass<"nats-gpu-host-memory", "::mlir::func::FuncOp"> {
  let summary = "Host-side buffers become device memory";
  let description = [{
    After `nats-map-foralls-to-gpu` the host code only allocates and frees
    the buffers that kernels use, and its arguments are device pointers:
    `memref.alloc`/`memref.dealloc` outside `gpu.launch` become
    `gpu.alloc`/`gpu.dealloc`. Any other host op that reads or writes a
    buffer would dereference a device pointer on the CPU: an error at it.
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect"];
}

def NatsGPUExternDynamicSharedMemoryPass
    : Pass<"nats-gpu-extern-dynamic-shared-memory", "::mlir::gpu::GPUModuleOp"> {
  let summary = "Declare the dynamic shared memory external, as CUDA C++ does";
  let description = [{
    After `convert-gpu-to-nvvm`, which lowers `gpu.dynamic_shared_memory`
    to an `internal` global of zero bytes in the shared address space: to
    LLVM that is an object it knows to be empty, and its alias analysis may
    then take two accesses of the same bytes of it for different memory.
    On the H100 that deleted the state pass's zero store of its start state
    where the next statement (no barrier between: merge-phases) read it
    back, so that the first chunk's outputs came from whatever the SM's
    shared memory held (M2 at H = 8: o 0.11-0.19 off float64, different in
    every call; docs/benchmarks.md, runs 93-97). The global becomes an
    `external` declaration, what `extern __shared__ char pool[];` is in
    CUDA C++: an object of unknown size. The same bug and fix elsewhere:
    NVIDIA/numba-cuda-mlir#178, llvm/llvm-project#161940 (flang).
  }];
}

def NatsGPUBlocksPerSMPass : Pass<"nats-gpu-blocks-per-sm", "::mlir::ModuleOp"> {
  let summary = "Occupancy and register budgets for the outlined kernels";
  let description = [{
    After `gpu-kernel-outlining`, before `convert-gpu-to-nvvm`. With
    `blocks` > 1, every kernel gets `nvvm.minctasm = blocks` (PTX
    `.minnctapersm`), so that ptxas keeps its registers within 65536 /
    (blocks * block threads) and that many blocks of it share an SM. Blocks
    that share an SM hide each other's barriers and memory latency; their
    shared memory must fit too, which the pipeline's `blocks-per-sm` sees to
    by dividing the workspace's shared memory among them.

    A kernel that can never have more than `blocks` blocks on an SM at once
    gets `nvvm.maxnreg` = 65536 / (blocks * block threads), at most 255 (PTX
    `.maxnreg`) and a multiple of 8 (an SM gives a warp its registers 256 at
    a time): registers up to that budget cost no occupancy. The blocks
    an SM can hold are bounded by the kernel's known block size (2048
    threads an SM), by the dynamic shared memory of each of its launches
    (`shared-memory-bytes` an SM; each block also takes 1 KiB for the
    system) and by its known grid size (a grid of at most `sm-count` blocks
    puts one on each SM).
    ptxas itself knows only the block size: told nothing, it may keep a
    kernel at 32 registers for two blocks of 1024 threads that the shared
    memory never lets share an SM, and spill (the chunk terms at head dim
    256: 32 registers and 824 bytes of spills, 64 registers with the
    budget). Where more blocks could fit, ptxas's own choice stays: it may
    trade registers for a second block (the outputs at head dim 64: 32
    registers and two blocks an SM, 0.233 ms, against 59 registers and one,
    0.311; docs/benchmarks.md run 33). A kernel without a known block size,
    or one launched with a shared-memory size or grid that is not a
    constant, gets no budget.

    `kernel-blocks` entries `name:blocks` ask for that many blocks of the
    named kernel an SM instead, as many of them as its shared memory, grid
    and threads let an SM hold (`nvvm.minctasm` where more than one), and
    give it those blocks' register budget in any case: ptxas may take more
    registers than the blocks its shared memory admits can have (the chunk
    terms at 2x16384x16x128: 124 registers, where 71 KB of shared memory
    let three blocks of 256 threads share an SM, whose budget is 80). They
    also get no more: where a launch's shared memory, grid and threads
    would let more share an SM, it asks for the dynamic shared memory that
    keeps the others out (a register budget is only a ceiling: the state
    pass at 1x8192x96x128 took 60 registers, and two blocks an SM were
    slower than one).
  }];
  let options = [
    Option<"blocks", "blocks", "int64_t", "1",
           "thread blocks each SM should hold at once (at least 1)">,
    ListOption<"kernelBlocks", "kernel-blocks", "std::string",
               "name:blocks entries: the blocks of the named kernel an SM "
               "should hold at once, instead of blocks">,
    Option<"smCount", "sm-count", "int64_t", "132",
           "streaming multiprocessors of the device (H100 SXM, H200: 132)">,
    Option<"sharedMemoryBytes", "shared-memory-bytes", "int64_t", "233472",
           "shared memory of one SM (sm_90: 228 KiB)">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::NVVM::NVVMDialect"];
}

#endif // NATS_GPU_TRANSFORMS_PASSES_TD
