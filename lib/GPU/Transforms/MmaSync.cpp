//===- MmaSync.cpp - warp tiles of contractions become mma.sync -----------===//
//
// One warp computes a (16·TM) × (8·TN) tile of C += A · B with m16n8k8
// mma.sync: TM × TN MMA tiles, each k-step loading TM fragments of A and TN
// of B and running TM·TN MMAs, independent chains that each fragment feeds
// TN or TM times. The operands stay in memory as they are (f32, or 16-bit
// floats widened to f32 as they are loaded: exact, and already tf32); each
// is split into two tf32 parts (3xTF32), so that tensor cores do the
// products at f32 accuracy: the lowering makes the same numbers as the FMA
// loops it replaces, to within f32 rounding. With precision tf32, one
// product of the operands rounded to tf32 a step. With precision bf16, a
// step is 16 deep: one m16n8k16 bf16 product of two k8 steps' fragments,
// each pair of f32 elements rounded into one register of two bf16
// (cvt.rn.bf16x2): half the MMAs of tf32 and no rounding arithmetic, from
// the same loads.
//
// Fragment layout (PTX ISA, mma.m16n8k8 .tf32): lane = 4·g + t;
//   A: a0 = A[g][t], a1 = A[g+8][t], a2 = A[g][t+4], a3 = A[g+8][t+4]
//   B: b0 = B[t][g], b1 = B[t+4][g]
//   C: c0 = C[g][2t], c1 = C[g][2t+1], c2 = C[g+8][2t], c3 = C[g+8][2t+1]
// (m16n8k16 .bf16, registers of two elements, the lower k first:
//   A: {A[g][2t..]}, {A[g+8][2t..]}, {A[g][2t+8..]}, {A[g+8][2t+8..]}
//   B: {B[2t..][g]}, {B[2t+8..][g]}; C as above.)
// A bf16 step's k slots 2t, 2t+1, 2t+8, 2t+9 take the k8 slots t and t+4
// of its first half, then of its second, for A and B alike: each register
// packs elements of two k8 fragments as they were loaded.
// With paired-loads, the step's k slots t and t+4 hold columns 2t and 2t+1
// (the same permutation for A and B leaves the sum as it is), so that a
// lane's two elements of a row are adjacent: where k is an operand's
// contiguous dimension and the pair is provably 8-byte aligned, one 64-bit
// load reads both (half the shared-memory instructions).
// Where A and B are of one 16-bit type (tiles the gated delta rule stores
// in 16 bits) and the depth a multiple of 16, a step is one m16n8k16 MMA
// on the operands as they are, whatever the precision: a product of two
// 16-bit floats is exact in f32, as it is in tf32 (half the MMAs and none
// of the rounding; the sums' order differs). Their fragments come from
// ldmatrix.x4 of 16-bit elements where the operand is in shared memory
// with 16-byte aligned rows (.trans where k is not its contiguous
// dimension), else from 32-bit loads of a lane's k pairs.
// Elsewhere 16-bit operands are widened as loaded (exact in tf32: no
// rounding, and no low part for 3xTF32).
// With ldmatrix, where A is k-contiguous in shared memory with 16-byte
// aligned rows, one ldmatrix.x4 reads a lane's whole A fragment: it loads
// four 8 × 4 matrices of 32-bit elements and gives lane 4·g + t element
// (g, t) of each, which is the tf32 layout above with the matrices at
// rows +0/+8 and columns +0/+4. B, where it is k-contiguous too (stored
// n-major, as in Q·Kᵀ), takes one ldmatrix.x4 for two of its n-tiles (x2
// for one). k keeps its order then; paired-loads applies where A cannot.
//
//===----------------------------------------------------------------------===//

#include "nats/GPU/Transforms/Alignment.h"
#include "nats/GPU/Transforms/LaneCode.h"
#include "nats/GPU/Transforms/Mapping.h"
#include "nats/GPU/Transforms/MmaTile.h"
#include "nats/GPU/Transforms/Passes.h"

#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"

#include "llvm/ADT/SetVector.h"

namespace mlir::nats {
#define GEN_PASS_DEF_NATSGPUMMASYNCPASS
#include "nats/GPU/Transforms/Passes.h.inc"
} // namespace mlir::nats

using namespace mlir;
using namespace mlir::nats;

namespace {

/// How a warp tile reads one operand's fragments.
enum class FragmentLoads {
  Elements, // one load an element, k in the fragment's order
  Paired,   // k permuted, a row's two elements by one 64-bit load
  Matrix,   // ldmatrix from shared memory, k in the fragment's order
};

/// Emits one warp's code for the tile `op` in place of it.
class MmaTileBuilder {
public:
  /// `options.precision` is the one for this function (not Auto).
  MmaTileBuilder(RewriterBase &rewriter, linalg::LinalgOp op, MmaLoops loops,
                 const NatsGPUMmaSyncPassOptions &options)
      : b(rewriter), op(op), loops(loops),
        // bf16's k8 steps (a depth that is no multiple of 16) take one
        // tf32 product: no less accurate than bf16 and as cheap.
        tf32x1(options.precision == MmaPrecision::TF32 ||
               options.precision == MmaPrecision::BF16),
        bf16(options.precision == MmaPrecision::BF16),
        pairedLoads(options.pairedLoads), ldmatrix(options.ldmatrix),
        loc(op.getLoc()) {}

  /// `initial`, where given, is every element of C before the tile adds to
  /// it: C is then written, not read. Else `update`, where given (an
  /// elementwise update of C, isElementwiseUpdate), maps each element of C
  /// as it is loaded, with its inputs' elements at C's position (C is not
  /// loaded where the update does not read it). `map`, where given (an
  /// elementwise map of C, isElementwiseMapOf), writes its output from each
  /// element of the result as it is stored.
  void build(Value initial, linalg::GenericOp update, linalg::GenericOp map) {
    b.setInsertionPoint(op);
    Value lane = gpu::LaneIdOp::create(b, loc, /*upperBound=*/nullptr);
    g = arith::DivUIOp::create(b, loc, lane, index(4));
    t = arith::RemUIOp::create(b, loc, lane, index(4));
    g8 = add(g, 8);
    t2 = arith::MulIOp::create(b, loc, t, index(2));

    a = op.getDpsInputOperand(0);
    bOp = op.getDpsInputOperand(1);
    OpOperand *c = op.getDpsInitOperand(0);
    SmallVector<int64_t> sizes = op.getStaticLoopRanges();
    int64_t tilesM = sizes[loops.m] / kMmaM, tilesN = sizes[loops.n] / kMmaN;
    int64_t depth = sizes[loops.k];
    Type aElement = elementType(a);
    native = aElement == elementType(bOp) &&
             aElement.getIntOrFloatBitWidth() == 16 &&
             depth % (2 * kMmaK) == 0;
    chooseLoads(lane);

    // Per MMA tile (i, j), (m, n) of the first of each of its two pairs of
    // accumulator elements (rows g and g + 8, columns n and n + 1), in
    // fragment order.
    auto cRows = [&](int64_t i, int64_t j) {
      Value m = add(g, i * kMmaM), m8 = add(g8, i * kMmaM);
      Value n = add(t2, j * kMmaN);
      return std::array<std::pair<Value, Value>, 2>{{{m, n}, {m8, n}}};
    };
    // n + 1 is the element after n where C's last dimension is n; where its
    // rows are also 8-byte aligned (n is even), one 64-bit access moves a
    // pair: half the instructions of the stores of a tile's results.
    bool cPaired = isContiguous(c, loops.n) &&
                   hasAlignedRows(c->get(), 2, /*inSharedMemory=*/false);
    // A result the block reads nowhere but in the map (isRegisterTile) is
    // never stored.
    bool inRegisters =
        map && isRegisterTile(cast<MemRefType>(c->get().getType()));
    bool readsC =
        !update || !update.getMatchingBlockArgument(update.getDpsInitOperand(0))
                        .use_empty();
    auto accType = VectorType::get({2, 2}, b.getF32Type());
    SmallVector<Value> accs;
    for (int64_t i = 0; i < tilesM; ++i)
      for (int64_t j = 0; j < tilesN; ++j) {
        if (initial) {
          accs.push_back(vector::BroadcastOp::create(b, loc, accType, initial));
          continue;
        }
        SmallVector<Value> cValues;
        for (auto [m, n] : cRows(i, j)) {
          // C's elements (m, n) and (m, n + 1); null where it is not read.
          std::array<Value, 2> pair;
          if (readsC && cPaired)
            std::tie(pair[0], pair[1]) = loadContiguousPair(c, m, n, index(0));
          else if (readsC)
            pair = {load(c, m, n, index(0)), load(c, m, add(n, 1), index(0))};
          for (int64_t e = 0; e < 2; ++e)
            cValues.push_back(
                update ? applyUpdate(update, pair[e],
                                     indices(c, m, add(n, e), index(0)))
                       : pair[e]);
        }
        accs.push_back(
            vector::FromElementsOp::create(b, loc, accType, cValues));
      }

    // A depth that is no multiple of 16 keeps tf32 steps with bf16.
    bool bf16Steps = bf16 && depth % (2 * kMmaK) == 0;
    auto loop = scf::ForOp::create(
        b, loc, index(0), index(depth),
        index(native || bf16Steps ? 2 * kMmaK : kMmaK), accs,
        [&](OpBuilder &, Location, Value k0, ValueRange iterArgs) {
          SmallVector<Value> sums(iterArgs);
          if (native) {
            Fragments step = loadNativeFragments(k0, tilesM, tilesN);
            for (int64_t i = 0; i < tilesM; ++i)
              for (int64_t j = 0; j < tilesN; ++j) {
                Value &sum = sums[i * tilesN + j];
                sum = createMma16x8x16(b, loc, step.a[i], step.b[j], sum);
              }
            scf::YieldOp::create(b, loc, sums);
            return;
          }
          Fragments first = loadFragments(k0, tilesM, tilesN);
          if (bf16Steps) {
            Fragments second = loadFragments(add(k0, kMmaK), tilesM, tilesN);
            SmallVector<Value> aRegs, bRegs;
            for (int64_t i = 0; i < tilesM; ++i)
              aRegs.push_back(packA(first.a[i], second.a[i]));
            for (int64_t j = 0; j < tilesN; ++j)
              bRegs.push_back(packB(first.b[j], second.b[j]));
            for (int64_t i = 0; i < tilesM; ++i)
              for (int64_t j = 0; j < tilesN; ++j) {
                Value &sum = sums[i * tilesN + j];
                sum = createMma16x8x16(b, loc, aRegs[i], bRegs[j], sum);
              }
            scf::YieldOp::create(b, loc, sums);
            return;
          }
          SmallVector<std::pair<Value, Value>> aParts, bParts;
          for (Value fragment : first.a)
            aParts.push_back(split(fragment, isExact(a)));
          for (Value fragment : first.b)
            bParts.push_back(split(fragment, isExact(bOp)));
          for (int64_t i = 0; i < tilesM; ++i)
            for (int64_t j = 0; j < tilesN; ++j) {
              auto [aHi, aLo] = aParts[i];
              auto [bHi, bLo] = bParts[j];
              Value &sum = sums[i * tilesN + j];
              // Small terms first, so that they are not lost to the large
              // one.
              if (aLo)
                sum = mma(aLo, bHi, sum);
              if (bLo)
                sum = mma(aHi, bLo, sum);
              sum = mma(aHi, bHi, sum);
            }
          scf::YieldOp::create(b, loc, sums);
        });
    b.setInsertionPointAfter(loop);
    for (int64_t i = 0; i < tilesM; ++i)
      for (int64_t j = 0; j < tilesN; ++j)
        for (auto [half, mn] : llvm::enumerate(cRows(i, j))) {
          auto [m, n] = mn;
          Value pair = vector::ExtractOp::create(
              b, loc, loop.getResult(i * tilesN + j),
              ArrayRef<int64_t>{static_cast<int64_t>(half)});
          if (map)
            storeMapped(map, pair, cPaired, c, m, n);
          if (inRegisters)
            continue;
          if (cPaired) {
            vector::StoreOp::create(b, loc, pair, c->get(),
                                    indices(c, m, n, index(0)),
                                    /*nontemporal=*/false, llvm::Align(8));
            continue;
          }
          for (int64_t e = 0; e < 2; ++e)
            store(vector::ExtractOp::create(b, loc, pair, ArrayRef<int64_t>{e}),
                  c, m, add(n, e), index(0));
        }
    b.eraseOp(op);
  }

private:
  /// The f32 fragments of a k8 step: A's of each MMA tile row (4 × 1),
  /// B's of each column (2 × 1).
  struct Fragments {
    SmallVector<Value> a, b;
  };
  Fragments loadFragments(Value k0, int64_t tilesM, int64_t tilesN) {
    // Element loads read columns k and k4 (ldmatrix its own; B loads by
    // ldmatrix only where A does).
    auto [k, k4] = bLoads == FragmentLoads::Matrix ? std::pair<Value, Value>()
                                                   : kColumns(k0);
    Fragments fragments;
    for (int64_t i = 0; i < tilesM; ++i)
      fragments.a.push_back(loadA(k0, k, k4, i));
    for (int64_t j = 0; j < tilesN; ++j)
      fragments.b.push_back(loadB(k0, k, k4, j, tilesN));
    return fragments;
  }

  /// The m16n8k16 fragments of the native 16-bit step at k0: A's of each
  /// MMA tile row (4 × 2), B's of each column (2 × 2).
  Fragments loadNativeFragments(Value k0, int64_t tilesM, int64_t tilesN) {
    Fragments fragments;
    for (int64_t i = 0; i < tilesM; ++i)
      fragments.a.push_back(loadNativeA(k0, i));
    for (int64_t j = 0; j < tilesN; ++j)
      fragments.b.push_back(loadNativeB(k0, j, tilesN));
    return fragments;
  }
  /// A's registers {A[g][2t..]}, {A[g+8][2t..]}, {A[g][2t+8..]},
  /// {A[g+8][2t+8..]} of MMA tile row i; by ldmatrix, matrix q at m +8·(q%2)
  /// and k +8·(q/2).
  Value loadNativeA(Value k0, int64_t i) {
    if (aLoads == FragmentLoads::Matrix)
      return loadHalfMatrices(a, aShared, index(i * kMmaM),
                              matrixOffset(false, 8), k0,
                              matrixOffset(true, 8), 4);
    Value m = add(g, i * kMmaM), m8 = add(g8, i * kMmaM);
    Value k = arith::AddIOp::create(b, loc, k0, t2), k8 = add(k, 8);
    return createFragment(b, loc,
                          {loadKPair(a, m, index(0), k),
                           loadKPair(a, m8, index(0), k),
                           loadKPair(a, m, index(0), k8),
                           loadKPair(a, m8, index(0), k8)});
  }
  /// B's registers {B[2t..][g]}, {B[2t+8..][g]} of MMA tile column j; by
  /// ldmatrix.x4, tiles j and j + 1 at once (j even, where there are
  /// `tilesN` > j + 1: matrix q at n +8·(q/2), k +8·(q%2)), the second kept
  /// for the call for j + 1.
  Value loadNativeB(Value k0, int64_t j, int64_t tilesN) {
    if (bLoads == FragmentLoads::Matrix) {
      if (j % 2)
        return nextB;
      bool pair = j + 1 < tilesN;
      Value loaded = loadHalfMatrices(
          bOp, bShared, index(j * kMmaN),
          pair ? matrixOffset(true, 8) : index(0), k0, matrixOffset(false, 8),
          pair ? 4 : 2);
      return pair ? splitTiles(loaded) : loaded;
    }
    Value n = add(g, j * kMmaN);
    Value k = arith::AddIOp::create(b, loc, k0, t2);
    return createFragment(b, loc,
                          {loadKPair(bOp, index(0), n, k),
                           loadKPair(bOp, index(0), n, add(k, 8))});
  }
  /// ldmatrix of `count` 8 × 8 matrices of 16-bit elements of `operand`
  /// (`shared`, its workgroup view): the lane's matrix starts at
  /// (outer0 + outerShift, k0 + kShift), outer being m for A and n for B,
  /// and the lane addresses its row r there, which runs along k where k is
  /// the operand's contiguous dimension, else (transposed) along outer.
  Value loadHalfMatrices(OpOperand *operand, Value shared, Value outer0,
                         Value outerShift, Value k0, Value kShift,
                         int64_t count) {
    bool transpose = !isKContiguous(operand);
    Value outer = arith::AddIOp::create(b, loc, outer0, outerShift);
    Value k = arith::AddIOp::create(b, loc, k0, kShift);
    Value &along = transpose ? k : outer;
    along = arith::AddIOp::create(b, loc, along, row);
    bool isA = operand == a;
    Type half = elementType(operand);
    return nvgpu::LdMatrixOp::create(
        b, loc, VectorType::get({count, 2}, half), shared,
        indices(operand, isA ? outer : index(0), isA ? index(0) : outer, k),
        transpose, count);
  }
  /// The 16-bit elements of `operand` at k and k + 1 (m, n as given), as
  /// they are: one register of a native fragment, by one 32-bit load where
  /// k is contiguous and the pair aligned.
  Value loadKPair(OpOperand *operand, Value m, Value n, Value k) {
    Type half = elementType(operand);
    auto pairType = VectorType::get({2}, half);
    if (isKContiguous(operand) &&
        hasAlignedRows(operand->get(), 2, /*inSharedMemory=*/false))
      return vector::LoadOp::create(b, loc, pairType, operand->get(),
                                    indices(operand, m, n, k),
                                    /*nontemporal=*/false, llvm::Align(4));
    return vector::FromElementsOp::create(
        b, loc, pairType,
        ValueRange{loadElement(operand, m, n, k),
                   loadElement(operand, m, n, add(k, 1))});
  }

  Value mma(Value x, Value y, Value sum) {
    return nvgpu::MmaSyncOp::create(b, loc, x, y, sum,
                                    ArrayRef<int64_t>{kMmaM, kMmaN, kMmaK},
                                    /*tf32Enabled=*/true);
  }

  /// Elements `x` and `y` of a k8 fragment (n × 1) rounded to bf16: one
  /// register of an m16n8k16 fragment, x first.
  Value pack(Value fragment, int64_t x, int64_t y) {
    auto element = [&](int64_t e) -> Value {
      return vector::ExtractOp::create(b, loc, fragment,
                                       ArrayRef<int64_t>{e, 0});
    };
    return packHalves(b, loc, element(x), element(y), b.getBF16Type());
  }
  /// A's m16n8k16 fragment from the k8 fragments of its two halves
  /// (elements g·t, g8·t, g·t4, g8·t4 each).
  Value packA(Value first, Value second) {
    SmallVector<Value> regs;
    for (Value half : {first, second}) {
      regs.push_back(pack(half, 0, 2));
      regs.push_back(pack(half, 1, 3));
    }
    return createFragment(b, loc, regs);
  }
  /// B's m16n8k16 fragment from the k8 fragments of its two halves
  /// (elements t·g, t4·g each).
  Value packB(Value first, Value second) {
    SmallVector<Value> regs;
    for (Value half : {first, second})
      regs.push_back(pack(half, 0, 1));
    return createFragment(b, loc, regs);
  }

  /// Whether loop `dim` is `operand`'s last dimension (and the other its
  /// row).
  bool isContiguous(OpOperand *operand, unsigned dim) {
    AffineMap map = op.getMatchingIndexingMap(operand);
    return map.getNumResults() == 2 &&
           map.getResults().back() == b.getAffineDimExpr(dim);
  }
  bool isKContiguous(OpOperand *operand) {
    return isContiguous(operand, loops.k);
  }
  bool isMatrixLoadable(OpOperand *operand) {
    // ldmatrix gives the tf32 layout from 32-bit elements only.
    return ldmatrix && isKContiguous(operand) &&
           getElementTypeOrSelf(operand->get().getType()).isF32() &&
           hasAlignedRows(operand->get(), 4, /*inSharedMemory=*/true);
  }

  /// How A and B are read. Native 16-bit steps: each by ldmatrix where it
  /// can, else by element pairs. Otherwise ldmatrix for A where it can
  /// (then for B where it can, element loads otherwise: k in order), else
  /// paired loads where asked for, else element loads.
  void chooseLoads(Value lane) {
    auto matrixOr = [](bool matrix) {
      return matrix ? FragmentLoads::Matrix : FragmentLoads::Elements;
    };
    if (native) {
      aLoads = matrixOr(isHalfMatrixLoadable(a, loops.m));
      bLoads = matrixOr(isHalfMatrixLoadable(bOp, loops.n));
    } else if (isMatrixLoadable(a)) {
      aLoads = FragmentLoads::Matrix;
      bLoads = matrixOr(isMatrixLoadable(bOp));
    } else {
      aLoads = bLoads =
          pairedLoads ? FragmentLoads::Paired : FragmentLoads::Elements;
    }
    if (aLoads != FragmentLoads::Matrix && bLoads != FragmentLoads::Matrix)
      return;
    // ldmatrix: lane 8·q + r gives the address of row r of matrix q. It
    // reads shared memory through a workgroup pointer; the operands are
    // generic views of the block's pool (nats-gpu-workspace).
    quarter = arith::DivUIOp::create(b, loc, lane, index(8));
    row = arith::RemUIOp::create(b, loc, lane, index(8));
    if (aLoads == FragmentLoads::Matrix)
      aShared = toWorkgroup(a->get());
    if (bLoads == FragmentLoads::Matrix)
      bShared = toWorkgroup(bOp->get());
  }
  /// Whether ldmatrix reads a 16-bit `operand` of a native step: 8 × 8
  /// matrices of 16-byte rows in shared memory, along k (its last dimension)
  /// or along `outer`, its m or n (transposed).
  bool isHalfMatrixLoadable(OpOperand *operand, unsigned outer) {
    return ldmatrix &&
           (isKContiguous(operand) || isContiguous(operand, outer)) &&
           hasAlignedRows(operand->get(), 8, /*inSharedMemory=*/true);
  }
  Value toWorkgroup(Value memref) {
    auto type = cast<MemRefType>(memref.getType());
    if (gpu::GPUDialect::hasWorkgroupMemoryAddressSpace(type))
      return memref;
    auto workgroup = gpu::AddressSpaceAttr::get(b.getContext(),
                                                gpu::AddressSpace::Workgroup);
    MemRefType sharedType = MemRefType::Builder(type).setMemorySpace(workgroup);
    return memref::MemorySpaceCastOp::create(b, loc, sharedType, memref);
  }

  /// The k columns of the step at k0 that k slots t and t + 4 hold (A and
  /// B permute k alike).
  std::pair<Value, Value> kColumns(Value k0) {
    if (aLoads == FragmentLoads::Paired) {
      Value k = arith::AddIOp::create(b, loc, k0, t2);
      return {k, add(k, 1)};
    }
    Value k = arith::AddIOp::create(b, loc, k0, t);
    return {k, add(k, 4)};
  }

  /// The lane's A fragment of MMA tile row i at the k-step k0 (k slots
  /// at columns k and k4).
  Value loadA(Value k0, Value k, Value k4, int64_t i) {
    auto fragmentType = VectorType::get({4, 1}, b.getF32Type());
    if (aLoads == FragmentLoads::Matrix) {
      // Matrices q = 0..3 at rows +8·(q % 2), columns +4·(q / 2).
      Value rowIndex = arith::AddIOp::create(b, loc, add(row, i * kMmaM),
                                             matrixOffset(false, 8));
      Value column =
          arith::AddIOp::create(b, loc, k0, matrixOffset(true, 4));
      return nvgpu::LdMatrixOp::create(
          b, loc, fragmentType, aShared,
          indices(a, rowIndex, index(0), column), /*transpose=*/false,
          /*numTiles=*/4);
    }
    Value m = add(g, i * kMmaM), m8 = add(g8, i * kMmaM);
    auto [aG, aG4] = loadPair(a, m, index(0), k, k4);
    auto [aG8, aG84] = loadPair(a, m8, index(0), k, k4);
    return vector::FromElementsOp::create(b, loc, fragmentType,
                                          ValueRange{aG, aG8, aG4, aG84});
  }

  /// The lane's B fragment of MMA tile column j at the k-step k0; with
  /// ldmatrix, one load gives tiles j and j + 1 (j even, where there are
  /// `tilesN` > j + 1), the second kept for the call for j + 1.
  Value loadB(Value k0, Value k, Value k4, int64_t j, int64_t tilesN) {
    auto fragmentType = VectorType::get({2, 1}, b.getF32Type());
    if (bLoads == FragmentLoads::Matrix) {
      if (j % 2)
        return nextB;
      // Matrices q = 0..3 at columns +4·(q % 2), n rows +8·(q / 2): tile
      // j's two k halves, then tile j + 1's.
      bool pair = j + 1 < tilesN;
      Value rowIndex = add(row, j * kMmaN);
      if (pair)
        rowIndex =
            arith::AddIOp::create(b, loc, rowIndex, matrixOffset(true, 8));
      Value column =
          arith::AddIOp::create(b, loc, k0, matrixOffset(false, 4));
      Value loaded = nvgpu::LdMatrixOp::create(
          b, loc, VectorType::get({pair ? 4 : 2, 1}, b.getF32Type()), bShared,
          indices(bOp, index(0), rowIndex, column), /*transpose=*/false,
          /*numTiles=*/pair ? 4 : 2);
      return pair ? splitTiles(loaded) : loaded;
    }
    auto [bK, bK4] = loadPair(bOp, index(0), add(g, j * kMmaN), k, k4);
    return vector::FromElementsOp::create(b, loc, fragmentType,
                                          ValueRange{bK, bK4});
  }

  /// The first of the two MMA tiles' B fragments one ldmatrix.x4 loaded
  /// (its rows 0-1, then 2-3), the second kept for the next tile.
  Value splitTiles(Value loaded) {
    auto type = cast<VectorType>(loaded.getType());
    auto half = [&](int64_t offset) -> Value {
      return vector::ExtractStridedSliceOp::create(
          b, loc, loaded, ArrayRef<int64_t>{offset, 0},
          ArrayRef<int64_t>{2, type.getDimSize(1)}, ArrayRef<int64_t>{1, 1});
    };
    nextB = half(2);
    return half(0);
  }

  /// Where lane 8q + r's matrix q of an ldmatrix.x4 starts along one
  /// dimension: (q % 2) · scale, or with `high` (q / 2) · scale.
  Value matrixOffset(bool high, int64_t scale) {
    Value half =
        high ? Value(arith::DivUIOp::create(b, loc, quarter, index(2)))
             : Value(arith::RemUIOp::create(b, loc, quarter, index(2)));
    return arith::MulIOp::create(b, loc, half, index(scale));
  }

  Value index(int64_t value) {
    return arith::ConstantIndexOp::create(b, loc, value);
  }
  Value add(Value value, int64_t offset) {
    if (offset == 0)
      return value;
    return arith::AddIOp::create(b, loc, value, index(offset));
  }

  /// The indices into `operand` at loop position (m, n, k).
  SmallVector<Value> indices(OpOperand *operand, Value m, Value n, Value k) {
    SmallVector<Value> loopValues(op.getNumLoops());
    loopValues[loops.m] = m;
    loopValues[loops.n] = n;
    loopValues[loops.k] = k;
    return getOperandIndices(op, operand, loopValues);
  }
  /// `value` as f32 (an element of a 16-bit operand, widened).
  Value widen(Value value) {
    if (value.getType().isF32())
      return value;
    return arith::ExtFOp::create(b, loc, b.getF32Type(), value);
  }
  Type elementType(OpOperand *operand) {
    return getElementTypeOrSelf(operand->get().getType());
  }
  /// Whether `operand`'s elements are exact in tf32 (16-bit floats).
  bool isExact(OpOperand *operand) {
    return elementType(operand).getIntOrFloatBitWidth() == 16;
  }
  Value loadElement(OpOperand *operand, Value m, Value n, Value k) {
    return memref::LoadOp::create(b, loc, operand->get(),
                                  indices(operand, m, n, k));
  }
  Value load(OpOperand *operand, Value m, Value n, Value k) {
    return widen(loadElement(operand, m, n, k));
  }
  /// The elements of `operand` at k and k4 (m, n as given): one load where
  /// they are a paired step's contiguous, aligned pair, two otherwise.
  std::pair<Value, Value> loadPair(OpOperand *operand, Value m, Value n,
                                   Value k, Value k4) {
    if (operand == a ? aLoads != FragmentLoads::Paired
                     : bLoads != FragmentLoads::Paired)
      return {load(operand, m, n, k), load(operand, m, n, k4)};
    if (!isKContiguous(operand) ||
        !hasAlignedRows(operand->get(), 2, /*inSharedMemory=*/false))
      return {load(operand, m, n, k), load(operand, m, n, k4)};
    return loadContiguousPair(operand, m, n, k);
  }
  /// The element of `operand` at (m, n, k) and the one after it in its last
  /// dimension (as f32), by one load of both (the caller knows that it is
  /// aligned to their size).
  std::pair<Value, Value> loadContiguousPair(OpOperand *operand, Value m,
                                             Value n, Value k) {
    Type element = getElementTypeOrSelf(operand->get().getType());
    auto pairType = VectorType::get({2}, element);
    Value pair = vector::LoadOp::create(
        b, loc, pairType, operand->get(), indices(operand, m, n, k),
        /*nontemporal=*/false,
        llvm::Align(2 * element.getIntOrFloatBitWidth() / 8));
    auto at = [&](int64_t i) {
      return widen(
          vector::ExtractOp::create(b, loc, pair, ArrayRef<int64_t>{i}));
    };
    return {at(0), at(1)};
  }

  void store(Value value, OpOperand *operand, Value m, Value n, Value k) {
    memref::StoreOp::create(b, loc, value, operand->get(),
                            indices(operand, m, n, k));
  }

  /// x rounded to the nearest tf32 (10 mantissa bits), as f32 bits: add
  /// half of the dropped part's range to the magnitude, then drop it.
  Value roundToTF32(Value x) {
    auto floatType = cast<VectorType>(x.getType());
    auto intType = floatType.clone(b.getI32Type());
    auto splat = [&](int32_t value) -> Value {
      return arith::ConstantOp::create(
          b, loc, DenseElementsAttr::get(intType, b.getI32IntegerAttr(value)));
    };
    Value bits = arith::BitcastOp::create(b, loc, intType, x);
    bits = arith::AddIOp::create(b, loc, bits, splat(0x1000));
    bits = arith::AndIOp::create(b, loc, bits, splat(~0x1FFF));
    return arith::BitcastOp::create(b, loc, floatType, bits);
  }
  /// x as hi + lo, both tf32 (lo is null with tf32x1: only hi is used);
  /// `exact` x (widened 16-bit elements) is its own hi, without a lo.
  std::pair<Value, Value> split(Value x, bool exact) {
    if (exact)
      return {x, Value()};
    Value hi = roundToTF32(x);
    if (tf32x1)
      return {hi, Value()};
    Value lo = roundToTF32(arith::SubFOp::create(b, loc, x, hi));
    return {hi, lo};
  }

  /// `map`'s output at C's elements (m, n) and (m, n + 1), from their
  /// values `pair`: C and the output are the map's iteration space, so C's
  /// indices are its position, where its other inputs are loaded; where
  /// C's pair is one access (`paired`), so is the output's.
  void storeMapped(linalg::GenericOp map, Value pair, bool paired,
                   OpOperand *c, Value m, Value n) {
    Value output = map.getDpsInits()[0];
    Type element = getElementTypeOrSelf(output.getType());
    SmallVector<Value> mapped;
    for (int64_t e = 0; e < 2; ++e) {
      IRMapping mapping;
      for (OpOperand *input : map.getDpsInputOperands())
        if (input->get() == c->get())
          mapping.map(
              map.getMatchingBlockArgument(input),
              vector::ExtractOp::create(b, loc, pair, ArrayRef<int64_t>{e}));
      mapped.push_back(
          applyAt(map, mapping, indices(c, m, add(n, e), index(0))));
    }
    int64_t bytes = 2 * element.getIntOrFloatBitWidth() / 8;
    if (paired && hasAlignedRows(output, 2, /*inSharedMemory=*/false)) {
      vector::StoreOp::create(
          b, loc,
          vector::FromElementsOp::create(
              b, loc, VectorType::get({2}, element), mapped),
          output, indices(c, m, n, index(0)), /*nontemporal=*/false,
          llvm::Align(bytes));
      return;
    }
    for (int64_t e = 0; e < 2; ++e)
      memref::StoreOp::create(b, loc, mapped[e], output,
                              indices(c, m, add(n, e), index(0)));
  }

  /// `update`'s body on the element of C at `position`, `value` (null
  /// where the update does not read it), at the insertion point.
  Value applyUpdate(linalg::GenericOp update, Value value,
                    ArrayRef<Value> position) {
    IRMapping mapping;
    if (value)
      mapping.map(update.getMatchingBlockArgument(update.getDpsInitOperand(0)),
                  value);
    return applyAt(update, mapping, position);
  }

  /// `generic`'s body on its element at `position`, at the insertion point:
  /// `mapping` gives the block arguments whose values are known (C's); the
  /// other inputs' elements are loaded there (a scalar input is used as it
  /// is).
  Value applyAt(linalg::GenericOp generic, IRMapping &mapping,
                ArrayRef<Value> position) {
    for (OpOperand *input : generic.getDpsInputOperands()) {
      BlockArgument argument = generic.getMatchingBlockArgument(input);
      if (mapping.contains(argument))
        continue;
      Value element = input->get();
      if (isa<MemRefType>(element.getType()))
        element = memref::LoadOp::create(
            b, loc, element, getOperandIndices(generic, input, position));
      mapping.map(argument, element);
    }
    return cloneBodyAt(b, generic, mapping, position);
  }

  RewriterBase &b;
  linalg::LinalgOp op;
  MmaLoops loops;
  bool tf32x1;
  bool bf16;
  // Set by build: whether the steps are m16n8k16 on the 16-bit operands as
  // they are.
  bool native = false;
  bool pairedLoads;
  bool ldmatrix;
  Location loc;
  // Set by build: the lane's coordinates in the fragment layouts (t2 =
  // 2t) and in ldmatrix's (lane = 8·quarter + row), the operands and how
  // they load.
  Value g, g8, t, t2, quarter, row;
  OpOperand *a = nullptr, *bOp = nullptr;
  FragmentLoads aLoads = FragmentLoads::Elements;
  FragmentLoads bLoads = FragmentLoads::Elements;
  Value aShared, bShared, nextB;
};

LogicalResult rewriteWarpTile(RewriterBase &rewriter, scf::ForallOp forall,
                              const NatsGPUMmaSyncPassOptions &options) {
  if (forall.getNumResults() != 0)
    return forall.emitOpError("must be bufferized before it becomes mma.sync");
  SmallVector<linalg::LinalgOp> ops;
  forall.getBody()->walk([&](linalg::LinalgOp op) { ops.push_back(op); });
  if (ops.empty())
    return success(); // lane code already (nats-gpu-warp-reduce)
  // A fill of the tile first (nats-gpu-distribute fuses it in) is the
  // accumulators' initial value; an elementwise update of it, a map of C's
  // values as they are loaded; an elementwise map of the tile last, a map
  // of them as they are stored (it reads C's buffer: linalg's verifier
  // leaves it no tensor operand).
  linalg::GenericOp map;
  if (ops.size() > 1 && ops[ops.size() - 2].getNumDpsInits() == 1 &&
      isElementwiseMapOf(ops.back(), ops[ops.size() - 2].getDpsInits()[0]))
    map = cast<linalg::GenericOp>(ops.pop_back_val().getOperation());
  linalg::LinalgOp op = ops.back();
  linalg::LinalgOp first = ops.size() == 2 ? ops.front() : nullptr;
  auto fill = first ? dyn_cast<linalg::FillOp>(first.getOperation())
                    : linalg::FillOp();
  auto update = first && isElementwiseUpdate(first)
                    ? cast<linalg::GenericOp>(first.getOperation())
                    : linalg::GenericOp();
  if (ops.size() > 2 || (first && !fill && !update))
    return forall.emitOpError("needs one linalg op, a warp tile, perhaps "
                              "after a fill or an elementwise update of its "
                              "output and before an elementwise map of it, "
                              "got ")
           << ops.size() + (map ? 1 : 0) << " linalg ops";
  if (first && (!first.hasPureBufferSemantics() ||
                first.getDpsInits()[0] != op.getDpsInits()[0]))
    return first->emitOpError("must fill or update the output of the warp "
                              "tile it precedes, on buffers");
  // The map's output view is made after the tile: the tile's code goes
  // where the map is, which only views (no memory access) may separate.
  if (map)
    for (Operation *between = op->getNextNode(); between != map;
         between = between->getNextNode())
      if (!isMemoryEffectFree(between))
        return map->emitOpError("must follow the warp tile it maps with no "
                                "memory access between them");
  std::optional<MmaLoops> loops = getMmaLoops(op);
  if (!op.hasPureBufferSemantics() || !loops)
    return op->emitOpError("is not a warp tile of a contraction into f32 "
                           "(of f32, bf16 or f16) on buffers with multiples "
                           "of 16 x 8 x 8 for its m, n and k, which mma.sync "
                           "computes");
  Value initial = fill ? fill.getDpsInputs()[0] : Value();
  if (map)
    rewriter.moveOpBefore(op, map);
  MmaTileBuilder(rewriter, op, *loops, options).build(initial, update, map);
  if (first)
    rewriter.eraseOp(first);
  if (map)
    rewriter.eraseOp(map);
  return success();
}

/// An m16n8k16 nvgpu.mma.sync on bf16 (this pass's and
/// nats-gpu-warp-rows'; the only bf16 shape they make) as nvvm.mma.sync, on
/// the fragments' 32-bit registers: convert-nvgpu-to-nvvm deduces no PTX
/// type for bf16 in MLIR 22.
void lowerBF16Mma(RewriterBase &b, nvgpu::MmaSyncOp mma) {
  Location loc = mma.getLoc();
  b.setInsertionPoint(mma);
  auto registers = [&](Value fragment) {
    SmallVector<Value> regs;
    int64_t count = cast<VectorType>(fragment.getType()).getDimSize(0);
    for (int64_t i = 0; i < count; ++i) {
      Value pair =
          vector::ExtractOp::create(b, loc, fragment, ArrayRef<int64_t>{i});
      Value bits = vector::BitCastOp::create(
          b, loc, VectorType::get({1}, b.getI32Type()), pair);
      regs.push_back(
          vector::ExtractOp::create(b, loc, bits, ArrayRef<int64_t>{0}));
    }
    return regs;
  };
  Type f32 = b.getF32Type();
  SmallVector<Value> c;
  for (int64_t e = 0; e < 4; ++e)
    c.push_back(vector::ExtractOp::create(b, loc, mma.getMatrixC(),
                                          ArrayRef<int64_t>{e / 2, e % 2}));
  Value result = NVVM::MmaOp::create(
      b, loc,
      LLVM::LLVMStructType::getLiteral(b.getContext(),
                                       SmallVector<Type>(4, f32)),
      registers(mma.getMatrixA()), registers(mma.getMatrixB()), c,
      ArrayRef<int64_t>{16, 8, 16}, std::nullopt, std::nullopt,
      std::array<NVVM::MMATypes, 2>{NVVM::MMATypes::bf16,
                                    NVVM::MMATypes::bf16},
      std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                     NVVM::MMALayout::col});
  SmallVector<Value> d;
  for (int64_t e = 0; e < 4; ++e)
    d.push_back(LLVM::ExtractValueOp::create(b, loc, result, e));
  b.replaceOpWithNewOp<vector::FromElementsOp>(mma, mma.getType(), d);
}

/// Erases the buffers of warp tiles' results kept in registers
/// (isRegisterTile; allocas since nats-gpu-workspace), which the tiles no
/// longer store to, with their views. One that anything else still uses is
/// an error: a private buffer is not a block's memory.
LogicalResult eraseRegisterTiles(RewriterBase &rewriter, Operation *root) {
  SmallVector<memref::AllocaOp> allocs;
  root->walk([&](memref::AllocaOp alloc) {
    if (isRegisterTile(alloc.getType()))
      allocs.push_back(alloc);
  });
  for (memref::AllocaOp alloc : allocs) {
    llvm::SetVector<Operation *> users;
    users.insert(alloc);
    for (size_t i = 0; i < users.size(); ++i)
      for (Operation *user : users[i]->getUsers()) {
        if (!isa<ViewLikeOpInterface>(user))
          return user->emitOpError("uses a warp tile's result that its "
                                   "lanes keep in registers (private "
                                   "memory), which has no memory to read");
        users.insert(user);
      }
    for (Operation *user : llvm::reverse(users))
      rewriter.eraseOp(user);
  }
  return success();
}

struct NatsGPUMmaSyncPass
    : nats::impl::NatsGPUMmaSyncPassBase<NatsGPUMmaSyncPass> {
  using Base::Base;

  void runOnOperation() override {
    FailureOr<MmaPrecision> resolved = getFunctionPrecision();
    if (failed(resolved))
      return signalPassFailure();
    IRRewriter rewriter(&getContext());
    SmallVector<scf::ForallOp> foralls;
    getOperation().walk([&](scf::ForallOp forall) {
      if (isWarpForall(forall))
        foralls.push_back(forall);
    });
    for (scf::ForallOp forall : foralls)
      if (failed(rewriteWarpTile(rewriter, forall,
                                 {*resolved, pairedLoads, ldmatrix})))
        return signalPassFailure();
    if (failed(eraseRegisterTiles(rewriter, getOperation())))
      return signalPassFailure();
    SmallVector<nvgpu::MmaSyncOp> bf16Mmas;
    getOperation().walk([&](nvgpu::MmaSyncOp mma) {
      if (mma.getMatrixA().getType().getElementType().isBF16() &&
          mma.getMmaShapeAsArray() == std::array<int64_t, 3>{16, 8, 16})
        bf16Mmas.push_back(mma);
    });
    for (nvgpu::MmaSyncOp mma : bf16Mmas)
      lowerBF16Mma(rewriter, mma);
  }

  /// This function's precision: the option, or with auto the function's
  /// mark (3xTF32 without one), which this pass consumes (nothing after it
  /// reads it).
  FailureOr<MmaPrecision> getFunctionPrecision() {
    func::FuncOp func = getOperation();
    Attribute mark = func->removeAttr(kMmaPrecisionAttrName);
    if (precision != MmaPrecision::Auto)
      return precision.getValue();
    if (!mark)
      return MmaPrecision::ThreeTF32;
    auto name = dyn_cast<StringAttr>(mark);
    std::optional<MmaPrecision> named =
        name ? parseMmaPrecisionMark(name.getValue()) : std::nullopt;
    if (!named)
      return func.emitOpError()
             << "has " << kMmaPrecisionAttrName << " = " << mark
             << ", expected \"" << getMmaPrecisionMark(MmaPrecision::TF32)
             << "\", \"" << getMmaPrecisionMark(MmaPrecision::ThreeTF32)
             << "\" or \"" << getMmaPrecisionMark(MmaPrecision::BF16)
             << "\"";
    return *named;
  }
};

} // namespace
