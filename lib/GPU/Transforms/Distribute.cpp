//===- Distribute.cpp - mark block foralls, tile linalg ops onto threads --===//
//
// The tiles of nats-to-linalg are independent (one per batch and router
// head): each becomes a thread block. Inside a tile, the work is a sequence
// of linalg ops on small static tensors (chunk × head dim); each is tiled
// into single-element tiles over its parallel dimensions, whose iterations
// the block's threads share. This is the simplest mapping that is correct
// for every op the lowering makes. With `mma`, the contractions that fit
// the tensor cores (MmaTile.h) are tiled onto warps instead.
//
//===----------------------------------------------------------------------===//

#include "nats/GPU/Transforms/InPlace.h"
#include "nats/GPU/Transforms/Mapping.h"
#include "nats/GPU/Transforms/MmaTile.h"
#include "nats/GPU/Transforms/Passes.h"
#include "nats/GPU/Transforms/WarpReduction.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/IR/Dominance.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SubsetOpInterface.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include "llvm/ADT/StringMap.h"

namespace mlir::nats {
#define GEN_PASS_DEF_NATSGPUDISTRIBUTEPASS
#include "nats/GPU/Transforms/Passes.h.inc"
} // namespace mlir::nats

using namespace mlir;
using namespace mlir::nats;

namespace {

/// What tileOnto fuses into the tiles of the output that `op` accumulates
/// into (or whose elements it overwrites): the linalg.fill that makes it,
/// and for tensor-core tiles also an elementwise update of it
/// (isElementwiseUpdate) that nothing else reads. Each tile then fills or
/// updates its own part first, where the producer alone would be a phase of
/// the whole block, with a barrier after it.
enum class FuseProducers { None, Fills, FillsAndUpdates };

/// Tiles `op` by `tileSizes` (0: the loop stays whole in each tile) into an
/// scf.forall with `mapping`; returns the tile's op, in the forall. A
/// producer fused in is erased where nothing else reads it.
FailureOr<Operation *> tileOnto(RewriterBase &rewriter, linalg::LinalgOp op,
                                ArrayRef<OpFoldResult> tileSizes,
                                ArrayRef<Attribute> mapping,
                                FuseProducers fuse = FuseProducers::None) {
  scf::SCFTileAndFuseOptions options;
  options.tilingOptions.setLoopType(scf::SCFTilingOptions::LoopType::ForallOp)
      .setTileSizes(tileSizes)
      .setMapping(mapping);
  // An update read by `op` alone (asked before tiling adds its uses).
  llvm::SmallPtrSet<Operation *, 1> updates;
  if (fuse == FuseProducers::FillsAndUpdates)
    for (Value init : op.getDpsInits()) {
      auto update = init.getDefiningOp<linalg::LinalgOp>();
      if (update && isElementwiseUpdate(update) && init.hasOneUse())
        updates.insert(update);
    }
  options.setFusionControlFn(
      [&](tensor::ExtractSliceOp, OpResult producer, bool isDestination)
          -> std::optional<scf::SCFTileAndFuseOptions::ControlFnResult> {
        Operation *owner = producer.getOwner();
        if (fuse == FuseProducers::None || !isDestination ||
            !(isa<linalg::FillOp>(owner) || updates.contains(owner)))
          return std::nullopt;
        return scf::SCFTileAndFuseOptions::ControlFnResult{};
      });
  rewriter.setInsertionPoint(op);
  FailureOr<scf::SCFTileAndFuseResult> tiled =
      scf::tileConsumerAndFuseProducersUsingSCF(
          rewriter, cast<TilingInterface>(op.getOperation()), options);
  if (failed(tiled))
    return op->emitOpError("could not be distributed over GPU threads");
  for (OpResult result : op->getResults())
    rewriter.replaceAllUsesWith(result, tiled->replacements.lookup(result));
  rewriter.eraseOp(op);
  for (Operation *producer : tiled->fusedProducers)
    if (producer->use_empty())
      rewriter.eraseOp(producer);
  // Iterations numbered from 0 by 1, as nats-map-foralls-to-gpu numbers
  // threads and warps: a tile's offset becomes iv × tile size.
  auto forall = cast<scf::ForallOp>(tiled->loops.front().getOperation());
  if (!forall.isNormalized() && failed(normalizeForallOp(rewriter, forall)))
    return forall.emitOpError("could not number its GPU tiles from 0");
  return tiled->tiledAndFusedOps.front();
}

/// Tiles `op` into single-element tiles over its parallel dims, as a
/// #gpu.thread forall; a fill it accumulates into goes into the tiles.
LogicalResult distributeOverThreads(RewriterBase &rewriter,
                                    linalg::LinalgOp op) {
  SmallVector<OpFoldResult> tileSizes;
  int64_t parallel = 0;
  for (utils::IteratorType type : op.getIteratorTypesArray()) {
    bool isParallel = type == utils::IteratorType::parallel;
    parallel += isParallel;
    tileSizes.push_back(rewriter.getIndexAttr(isParallel ? 1 : 0));
  }
  if (parallel == 0)
    return success(); // a full reduction stays whole: one thread runs it
  return tileOnto(rewriter, op, tileSizes,
                  linearMapping<gpu::GPUThreadMappingAttr>(op->getContext(),
                                                           parallel),
                  FuseProducers::Fills);
}

/// The largest multiple of `unit` that divides `size` and is at most
/// `wanted` (`size` is a multiple of `unit`).
int64_t fitTile(int64_t size, int64_t wanted, int64_t unit) {
  int64_t tile = std::max(wanted - wanted % unit, unit);
  while (size % tile)
    tile -= unit;
  return tile;
}

/// Where the block reads the warp tiles' own result nowhere but in the map
/// fused into them (`forall`'s first result is unused) and it starts from
/// an empty, the result needs no memory: the lanes' accumulators hold it
/// until the map's values are stored. Its tensor becomes a private
/// allocation, which nats-gpu-workspace gives no slot and
/// nats-gpu-mma-sync stores nothing to and erases: no shared memory for a
/// tile the block never reads.
void keepResultInRegisters(RewriterBase &rewriter, scf::ForallOp forall) {
  OpOperand &init = forall.getOutputsMutable()[0];
  if (!forall.getResult(0).use_empty() ||
      !init.get().getDefiningOp<tensor::EmptyOp>())
    return;
  rewriter.setInsertionPoint(forall);
  auto alloc = bufferization::AllocTensorOp::create(
      rewriter, forall.getLoc(), init.get().getType(), ValueRange{},
      /*copy=*/Value(), /*size_hint=*/Value(),
      gpu::AddressSpaceAttr::get(rewriter.getContext(),
                                 gpu::AddressSpace::Private));
  rewriter.modifyOpInPlace(forall, [&] { init.set(alloc); });
}

/// Where the block only records the map's result `mapped` in an output, a
/// copy of it that the threads make right after the tiles (a linalg.copy,
/// distributed later in this pass) takes its place, which
/// nats-gpu-results-in-place computes in the output: a warp storing its
/// accumulators there would store 16 bytes to each of eight rows, the
/// threads store whole rows (on an H100 the chunk terms took 1.26-1.40x as
/// long, 1.04x at head dim 256, with −W, P and U₀ stored from the
/// accumulators into global memory, run 90), and the mapped tile's buffer
/// dies after the copy, not at the block's end.
void copyOutRecorded(RewriterBase &rewriter, Value mapped) {
  if (!mapped.hasOneUse())
    return;
  auto insert =
      dyn_cast<SubsetInsertionOpInterface>(*mapped.getUsers().begin());
  if (!insert || insert.getSourceOperand().get() != mapped)
    return;
  rewriter.setInsertionPointAfterValue(mapped);
  auto type = cast<RankedTensorType>(mapped.getType());
  Value empty = tensor::EmptyOp::create(rewriter, mapped.getLoc(),
                                        type.getShape(), type.getElementType());
  Value copy = linalg::CopyOp::create(rewriter, mapped.getLoc(), mapped, empty)
                   .getResult(0);
  rewriter.modifyOpInPlace(insert,
                           [&] { insert.getSourceOperand().set(copy); });
}

/// Fuses into the warp tiles `forall` an elementwise map of their result
/// (isElementwiseMapOf) that follows it in its block, the first there is
/// whose other inputs are defined before `forall`: each tile then maps its
/// own part. The map's output (an empty, or a value that a loop carries in
/// place) must be defined before `forall` too; an empty after it is moved
/// there.
LogicalResult fuseResultMap(RewriterBase &rewriter, scf::ForallOp forall) {
  Value result = forall.getResult(0);
  DominanceInfo dominance(forall->getParentOp());
  linalg::LinalgOp map;
  for (Operation *user : result.getUsers()) {
    auto candidate = dyn_cast<linalg::LinalgOp>(user);
    if (!candidate || candidate->getBlock() != forall->getBlock() ||
        !candidate.hasPureTensorSemantics() ||
        !isElementwiseMapOf(candidate, result) ||
        (map && map->isBeforeInBlock(candidate)))
      continue;
    if (llvm::all_of(candidate.getDpsInputs(), [&](Value input) {
          return input == result || dominance.properlyDominates(input, forall);
        }))
      map = candidate;
  }
  if (!map)
    return success();
  Value output = map.getDpsInits()[0];
  if (Operation *owner = output.getDefiningOp();
      owner && owner->getBlock() == forall->getBlock() &&
      forall->isBeforeInBlock(owner)) {
    if (!isa<tensor::EmptyOp>(owner) || owner->getNumOperands() != 0)
      return success();
    rewriter.moveOpBefore(owner, forall);
  }
  SmallVector<LoopLikeOpInterface> loops = {
      cast<LoopLikeOpInterface>(forall.getOperation())};
  if (failed(scf::tileAndFuseConsumer(rewriter, map, loops)))
    return map->emitOpError("could not be fused into the warp tiles of the "
                            "contraction it maps");
  // Its uses now read the tiles' new result.
  rewriter.eraseOp(map);
  auto fused = cast<scf::ForallOp>(loops.front());
  keepResultInRegisters(rewriter, fused);
  copyOutRecorded(rewriter, fused->getResults().back());
  return success();
}

/// Tiles a contraction into warp tiles of its output, `warpTile` (m, n) or
/// the largest multiples of kMmaM × kMmaN below it that divide the output,
/// the whole reduction in each, as a #gpu.warp forall: nats-gpu-mma-sync
/// makes each tile a warp's mma.sync, a fill fused in the accumulators'
/// initial value (no load of C), an elementwise update fused in a map of
/// C's values as they are loaded, an elementwise map of the result fused in
/// a map of the accumulators as they are stored (with `resultMaps`).
LogicalResult distributeOverWarps(RewriterBase &rewriter, linalg::LinalgOp op,
                                  MmaLoops loops,
                                  std::pair<int64_t, int64_t> warpTile,
                                  bool resultMaps) {
  SmallVector<int64_t> sizes = op.getStaticLoopRanges();
  SmallVector<OpFoldResult> tileSizes(op.getNumLoops(),
                                      rewriter.getIndexAttr(0));
  tileSizes[loops.m] =
      rewriter.getIndexAttr(fitTile(sizes[loops.m], warpTile.first, kMmaM));
  tileSizes[loops.n] =
      rewriter.getIndexAttr(fitTile(sizes[loops.n], warpTile.second, kMmaN));
  FailureOr<Operation *> tile = tileOnto(
      rewriter, op, tileSizes,
      linearMapping<gpu::GPUWarpMappingAttr>(op->getContext(), 2),
      FuseProducers::FillsAndUpdates);
  if (failed(tile))
    return failure();
  if (!resultMaps)
    return success();
  return fuseResultMap(rewriter, (*tile)->getParentOfType<scf::ForallOp>());
}

/// How a warp tile of a reduction shares it out: `rows` outputs along
/// `rowLoop` (the op's last parallel loop), each folded by 32 / rows lanes.
struct LaneGroups {
  unsigned reductionLoop;
  unsigned rowLoop;
  int64_t rows;
};

/// Iterations a lane folds before the shuffles, where the reduction is long
/// enough: a warp tile gives each output as many lanes as leave each lane
/// this many (one thread would fold them all), and its other lanes further
/// outputs. At a chunk's row norms (64 rows of 128) that is 4 lanes a row,
/// 8 rows a warp: 8 warps take the 64 rows at once, each lane folding 32
/// squares before two shuffles, where 64 of 256 threads folded 128 each.
constexpr int64_t kLaneIterations = 32;

/// The lane groups of `op` where they beat a thread per output element: a
/// reduction with a parallel loop that a warp can share out, of at least
/// 2 * kLaneIterations iterations (shorter ones are a thread's).
std::optional<LaneGroups> getProfitableWarpReduction(linalg::LinalgOp op) {
  std::optional<WarpReduction> reduction = getWarpReduction(op);
  if (!reduction || op.getNumParallelLoops() == 0)
    return std::nullopt;
  SmallVector<int64_t> sizes = op.getStaticLoopRanges();
  int64_t lanes = llvm::bit_floor(static_cast<uint64_t>(std::min<int64_t>(
      kWarpSize, sizes[reduction->loop] / kLaneIterations)));
  if (lanes < 2)
    return std::nullopt;
  unsigned rowLoop = op.getNumLoops() - 1;
  if (rowLoop == reduction->loop)
    --rowLoop;
  // The warp's other lanes take further outputs: fewer where the row loop
  // has fewer (each output's lanes then fold fewer iterations each).
  int64_t rows = kWarpSize / lanes;
  while (sizes[rowLoop] % rows)
    rows /= 2;
  return LaneGroups{reduction->loop, rowLoop, rows};
}

/// Tiles the reduction `op` into warp tiles of `groups.rows` outputs along
/// its row loop (one along the others), the whole reduction in each, as a
/// #gpu.warp forall: nats-gpu-warp-reduce makes each tile a warp's lane
/// groups and shuffles. A fill of the output goes into the tiles, whose
/// lanes start from its value.
LogicalResult distributeReductionOverWarps(RewriterBase &rewriter,
                                           linalg::LinalgOp op,
                                           LaneGroups groups) {
  SmallVector<OpFoldResult> tileSizes(op.getNumLoops(),
                                      rewriter.getIndexAttr(1));
  tileSizes[groups.reductionLoop] = rewriter.getIndexAttr(0);
  tileSizes[groups.rowLoop] = rewriter.getIndexAttr(groups.rows);
  return tileOnto(rewriter, op, tileSizes,
                  linearMapping<gpu::GPUWarpMappingAttr>(
                      op->getContext(), op.getNumLoops() - 1),
                  FuseProducers::Fills);
}

/// The side of a graph matmul's block tile (m and n) and of its k-steps.
constexpr int64_t kGraphTile = 64;

/// A row-major `linalg.matmul` of the graph around the nats ops (outside any
/// forall) whose m, n and k are multiples of kGraphTile: as a grid of one
/// output element per thread it would walk k from global memory in every
/// thread. Instead: one block per kGraphTile² output tile, the reduction in
/// steps of kGraphTile (an scf.for carrying the tile in place), each step's
/// operand tiles converted to f32 into the block's own tensors (shared
/// memory) and one f32 matmul on them, which the warps then run on tensor
/// cores like any contraction in a block.
LogicalResult tileGraphMatmul(RewriterBase &rewriter, linalg::MatmulOp op) {
  MLIRContext *ctx = op->getContext();
  Location loc = NameLoc::get(StringAttr::get(ctx, "graph_matmul"), op.getLoc());
  auto tile = [&](int64_t size) { return rewriter.getIndexAttr(size); };

  FailureOr<Operation *> outer =
      tileOnto(rewriter, op, {tile(kGraphTile), tile(kGraphTile), tile(0)},
               linearMapping<gpu::GPUBlockMappingAttr>(ctx, 2));
  if (failed(outer))
    return failure();
  auto blockTile = cast<linalg::MatmulOp>(*outer);
  blockTile->getParentOfType<scf::ForallOp>()->setLoc(loc);

  scf::SCFTilingOptions steps;
  steps.setLoopType(scf::SCFTilingOptions::LoopType::ForOp)
      .setTileSizes({tile(0), tile(0), tile(kGraphTile)});
  rewriter.setInsertionPoint(blockTile);
  FailureOr<scf::SCFTilingResult> inner = scf::tileUsingSCF(
      rewriter, cast<TilingInterface>(blockTile.getOperation()), steps);
  if (failed(inner))
    return op->emitOpError("could not be tiled into steps of its reduction");
  rewriter.replaceOp(blockTile, inner->replacements);

  auto step = cast<linalg::MatmulOp>(inner->tiledOps.front());
  rewriter.setInsertionPoint(step);
  SmallVector<Value> operands;
  for (Value input : step.getDpsInputs()) {
    auto type = cast<RankedTensorType>(input.getType());
    Value empty = tensor::EmptyOp::create(rewriter, loc, type.getShape(),
                                          rewriter.getF32Type());
    auto identity = rewriter.getMultiDimIdentityMap(type.getRank());
    auto convert = linalg::GenericOp::create(
        rewriter, loc, empty.getType(), input, empty,
        ArrayRef<AffineMap>{identity, identity},
        SmallVector<utils::IteratorType>(type.getRank(),
                                         utils::IteratorType::parallel),
        [&](OpBuilder &b, Location nested, ValueRange args) {
          Value value = args[0];
          if (value.getType() != b.getF32Type())
            value = arith::ExtFOp::create(b, nested, b.getF32Type(), value);
          linalg::YieldOp::create(b, nested, value);
        });
    operands.push_back(convert.getResult(0));
  }
  rewriter.replaceOpWithNewOp<linalg::MatmulOp>(step, operands,
                                                step.getDpsInits());
  return success();
}

/// Whether `op` is a graph matmul that tileGraphMatmul takes.
bool isGraphMatmul(linalg::MatmulOp op) {
  if (op->getParentOfType<scf::ForallOp>() || !op.hasPureTensorSemantics() ||
      op.hasUserDefinedMaps() ||
      !getElementTypeOrSelf(op.getDpsInits()[0].getType()).isF32())
    return false;
  for (int64_t size : cast<linalg::LinalgOp>(op.getOperation())
                          .getStaticLoopRanges())
    if (ShapedType::isDynamic(size) || size % kGraphTile != 0)
      return false;
  return true;
}

/// Whether `value` (seen through extract_slice views) is defined outside
/// `block`'s body or is one of its shared outputs: once bufferized it is in
/// global memory, where everything computed inside the block is its own
/// scratch (its shared memory, where nats-gpu-workspace finds room).
bool isReadFromOutside(Value value, scf::ForallOp block) {
  while (auto slice = value.getDefiningOp<tensor::ExtractSliceOp>())
    value = slice.getSource();
  Operation *owner = value.getDefiningOp();
  if (!owner) {
    owner = cast<BlockArgument>(value).getOwner()->getParentOp();
    if (owner == block)
      return true;
  }
  return !block->isProperAncestor(owner);
}

/// Copies each input of the contraction `op` in `block` that is read from
/// global memory into a tensor of the block's own, the copy distributed
/// over the block's threads. A warp tile reads its operands element by
/// element at every k-step; from global memory each step waits on its
/// loads, while the copy is one pass of all the threads over consecutive
/// elements, after which the k-steps read shared memory. `staged` maps the
/// values copied so far to their copies: one that dominates `op` is read
/// again.
LogicalResult stageOperands(RewriterBase &rewriter, linalg::LinalgOp op,
                            scf::ForallOp block,
                            DenseMap<Value, Value> &staged) {
  for (OpOperand *input : op.getDpsInputOperands()) {
    Value source = input->get();
    auto type = dyn_cast<RankedTensorType>(source.getType());
    if (!type || !type.hasStaticShape() || !isReadFromOutside(source, block))
      continue;
    Value copy = staged.lookup(source);
    if (copy && DominanceInfo(block).properlyDominates(copy, op)) {
      rewriter.modifyOpInPlace(op, [&] { input->set(copy); });
      continue;
    }
    rewriter.setInsertionPoint(op);
    Value empty = tensor::EmptyOp::create(rewriter, op.getLoc(),
                                          type.getShape(),
                                          type.getElementType());
    auto copyOp = linalg::CopyOp::create(rewriter, op.getLoc(), source, empty);
    rewriter.modifyOpInPlace(op, [&] { input->set(copyOp.getResult(0)); });
    if (failed(distributeOverThreads(
            rewriter, cast<linalg::LinalgOp>(copyOp.getOperation()))))
      return failure();
    // The distributed copy's result, which replaced the copy in `op`.
    staged[source] = input->get();
  }
  return success();
}

/// Makes each value that `loop` carries to its next iteration, unless it is
/// the iteration argument updated in place already, a `linalg.copy` into
/// the iteration argument, so that one-shot bufferization gives it the
/// argument's buffer: a loop-carried value then never needs a fresh buffer
/// per iteration (nats-gpu-workspace gives each allocation one slot,
/// reused by every iteration). A copy where none is needed would cost two:
/// the in-place update could no longer be in place.
void carryInPlace(RewriterBase &rewriter, scf::ForOp loop) {
  auto yield = cast<scf::YieldOp>(loop.getBody()->getTerminator());
  rewriter.setInsertionPoint(yield);
  for (auto [operand, iterArg] :
       llvm::zip(yield->getOpOperands(), loop.getRegionIterArgs())) {
    if (!isa<RankedTensorType>(operand.get().getType()) ||
        getInPlaceSource(operand.get()) == iterArg)
      continue;
    auto copy = linalg::CopyOp::create(rewriter, yield.getLoc(), operand.get(),
                                       iterArg);
    rewriter.modifyOpInPlace(yield,
                             [&] { operand.set(copy.getResult(0)); });
  }
}

/// Every linalg op of `func` not yet in a thread's or a warp's tile.
/// Collected first: tiling creates the ops a walk would otherwise visit
/// again.
SmallVector<linalg::LinalgOp> collectUndistributed(func::FuncOp func) {
  SmallVector<linalg::LinalgOp> ops;
  func.walk([&](linalg::LinalgOp op) {
    for (auto forall = op->getParentOfType<scf::ForallOp>(); forall;
         forall = forall->getParentOfType<scf::ForallOp>())
      if (isThreadForall(forall) || isWarpForall(forall))
        return;
    ops.push_back(op);
  });
  return ops;
}

struct NatsGPUDistributePass
    : nats::impl::NatsGPUDistributePassBase<NatsGPUDistributePass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    MLIRContext *ctx = &getContext();
    IRRewriter rewriter(ctx);

    // A pad would bufferize to a fill and a copy outside any loop; as a
    // linalg.fill and an insert_slice, the fill is distributed below and the
    // copy becomes a kernel (nats-map-foralls-to-gpu).
    RewritePatternSet patterns(ctx);
    linalg::populateDecomposePadPatterns(patterns);
    if (failed(applyPatternsGreedily(func, std::move(patterns))))
      return signalPassFailure();

    auto isWarpTile = [](int64_t m, int64_t n) {
      return m >= kMmaM && m % kMmaM == 0 && n >= kMmaN && n % kMmaN == 0;
    };
    if (!isWarpTile(warpTileM, warpTileN)) {
      func.emitOpError("nats-gpu-distribute: warp-tile-m must be a positive "
                       "multiple of ")
          << kMmaM << " and warp-tile-n of " << kMmaN << ", got "
          << warpTileM.getValue() << " and " << warpTileN.getValue();
      return signalPassFailure();
    }
    llvm::StringMap<std::pair<int64_t, int64_t>> tileOfKernel;
    for (const std::string &entry : kernelWarpTiles) {
      auto [name, tile] = StringRef(entry).rsplit(':');
      auto [rows, columns] = tile.split('x');
      int64_t m = 0, n = 0;
      if (name.empty() || rows.getAsInteger(10, m) ||
          columns.getAsInteger(10, n) || !isWarpTile(m, n)) {
        func.emitOpError("nats-gpu-distribute: kernel-warp-tiles: expected "
                         "name:MxN with M a positive multiple of ")
            << kMmaM << " and N of " << kMmaN << ", got '" << entry << "'";
        return signalPassFailure();
      }
      tileOfKernel[name] = {m, n};
    }
    if (graphMatmuls) {
      if (!mma) {
        func.emitOpError("nats-gpu-distribute: graph-matmuls needs mma");
        return signalPassFailure();
      }
      SmallVector<linalg::MatmulOp> matmuls;
      func.walk([&](linalg::MatmulOp op) {
        if (isGraphMatmul(op))
          matmuls.push_back(op);
      });
      for (linalg::MatmulOp op : matmuls)
        if (failed(tileGraphMatmul(rewriter, op)))
          return signalPassFailure();
    }

    // Outermost foralls are the independent tiles: one block each (nats-gpu
    // maps them earlier, in nats-gpu-map-blocks; this maps any still
    // unmapped).
    if (failed(mapOutermostForallsToBlocks(func)))
      return signalPassFailure();

    // A forall in a block whose iterations are scalar code (no linalg op:
    // the column-wise triangular solve) runs one iteration per thread.
    func.walk([&](scf::ForallOp forall) {
      if (forall.getMapping() || !getEnclosingBlockForall(forall))
        return;
      WalkResult nested = forall.getBody()->walk([](Operation *op) {
        return isa<linalg::LinalgOp, scf::ForallOp>(op)
                   ? WalkResult::interrupt()
                   : WalkResult::advance();
      });
      if (!nested.wasInterrupted())
        forall.setMappingAttr(ArrayAttr::get(
            ctx, linearMapping<gpu::GPUThreadMappingAttr>(ctx,
                                                          forall.getRank())));
    });

    func.walk([&](scf::ForOp loop) {
      if (getEnclosingBlockForall(loop))
        carryInPlace(rewriter, loop);
    });

    // The tensor-core contractions first: they take in the fills they
    // accumulate into, which must not be spread over threads before.
    if (mma) {
      DenseMap<Value, Value> staged;
      // Collected first: the fills they take in are erased.
      SmallVector<std::pair<linalg::LinalgOp, MmaLoops>> contractions;
      for (linalg::LinalgOp op : collectUndistributed(func))
        if (getEnclosingBlockForall(op) && op.hasPureTensorSemantics())
          if (std::optional<MmaLoops> loops = getMmaLoops(op))
            contractions.push_back({op, *loops});
      for (auto [op, loops] : contractions) {
        scf::ForallOp block = getEnclosingBlockForall(op);
        std::pair<int64_t, int64_t> tile = {warpTileM, warpTileN};
        if (StringAttr kernel = getKernelName(block))
          if (auto named = tileOfKernel.find(kernel.getValue());
              named != tileOfKernel.end())
            tile = named->second;
        if ((stageOperandsInSharedMemory &&
             failed(stageOperands(rewriter, op, block, staged))) ||
            failed(distributeOverWarps(rewriter, op, loops, tile,
                                       resultMaps)))
          return signalPassFailure();
      }
    }
    // Then every other op, the fills last: those that are still read
    // outside the tiles that took them in.
    for (bool fills : {false, true}) {
      SmallVector<linalg::LinalgOp> ops = llvm::filter_to_vector(
          collectUndistributed(func), [&](linalg::LinalgOp op) {
            return op.hasPureTensorSemantics() &&
                   isa<linalg::FillOp>(op) == fills;
          });
      for (linalg::LinalgOp op : ops) {
        std::optional<LaneGroups> groups;
        if (warpReductions && getEnclosingBlockForall(op))
          groups = getProfitableWarpReduction(op);
        LogicalResult distributed =
            groups ? distributeReductionOverWarps(rewriter, op, *groups)
                   : distributeOverThreads(rewriter, op);
        if (failed(distributed))
          return signalPassFailure();
      }
    }
  }
};

} // namespace
