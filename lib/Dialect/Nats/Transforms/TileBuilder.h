//===- TileBuilder.h - building tile-sized linalg on tensors ----*- C++ -*-===//
//
// The lowerings of the nats branch ops build many small computations on
// tile-sized f32 tensors: broadcasts and elementwise maps, row reductions and
// matrix products. TileBuilder says each of them in one line as a
// linalg.generic, so that the lowering reads like the algorithm it lowers
// (docs/algorithms.md) and stays structured for later tiling and mapping.
//
//===----------------------------------------------------------------------===//

#ifndef LIB_DIALECT_NATS_TRANSFORMS_TILEBUILDER_H
#define LIB_DIALECT_NATS_TRANSFORMS_TILEBUILDER_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tensor/Utils/Utils.h"
#include "llvm/Support/MathExtras.h"

#include <limits>

namespace mlir::nats {

class TileBuilder {
public:
  /// The body of a map: the input elements and the iteration indices.
  using MapBody = function_ref<Value(OpBuilder &, Location, ValueRange args,
                                     ValueRange indices)>;

  TileBuilder(OpBuilder &b, Location loc) : b(b), loc(loc) {}

  OpBuilder &builder() { return b; }
  Location location() { return loc; }
  Type f32() { return b.getF32Type(); }

  Value f32Constant(double value) {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(value));
  }
  Value index(int64_t value) {
    return arith::ConstantIndexOp::create(b, loc, value);
  }

  /// A tensor of `shape` and `elementType` filled with `value`.
  Value filled(ArrayRef<int64_t> shape, Value value) {
    Value empty = tensor::EmptyOp::create(b, loc, shape, value.getType());
    return linalg::FillOp::create(b, loc, value, empty).getResult(0);
  }
  Value zeros(ArrayRef<int64_t> shape) {
    return filled(shape, f32Constant(0.0));
  }

  /// A tensor of `shape` (element type `elementType`, f32 by default) whose
  /// element at index `i` is `body(inputs[j][maps[j](i)]..., i)`. A map
  /// that drops dims broadcasts its input.
  Value map(ArrayRef<int64_t> shape, ValueRange inputs,
            ArrayRef<AffineMap> maps, MapBody body, Type elementType = {},
            Value into = {}) {
    if (!elementType)
      elementType = f32();
    Value init =
        into ? into : tensor::EmptyOp::create(b, loc, shape, elementType);
    SmallVector<AffineMap> allMaps(maps);
    allMaps.push_back(b.getMultiDimIdentityMap(shape.size()));
    SmallVector<utils::IteratorType> iterators(shape.size(),
                                               utils::IteratorType::parallel);
    return linalg::GenericOp::create(
               b, loc, init.getType(), inputs, init, allMaps, iterators,
               [&](OpBuilder &nb, Location nloc, ValueRange args) {
                 SmallVector<Value> indices;
                 for (int64_t d = 0, e = shape.size(); d < e; ++d)
                   indices.push_back(linalg::IndexOp::create(nb, nloc, d));
                 Value result = body(nb, nloc, args.drop_back(), indices);
                 linalg::YieldOp::create(nb, nloc, result);
               })
        .getResult(0);
  }

  /// Elementwise map of same-shaped inputs (identity maps).
  Value map(ValueRange inputs, MapBody body, Type elementType = {},
            Value into = {}) {
    ArrayRef<int64_t> shape =
        cast<RankedTensorType>(inputs.front().getType()).getShape();
    SmallVector<AffineMap> maps(inputs.size(),
                                b.getMultiDimIdentityMap(shape.size()));
    return map(shape, inputs, maps, body, elementType, into);
  }

  /// `out[i] = Σ_j body(in[i, j], i, j)` for a 2-D `in`, in f32.
  Value rowSum(Value in, MapBody body) {
    return rowReduce(in, 0.0, body, [](OpBuilder &b, Location l, Value x,
                                       Value y) -> Value {
      return arith::AddFOp::create(b, l, x, y);
    });
  }

  /// `out[i] = max_j in[i, j]` for a 2-D f32 `in` (-inf for no columns).
  Value rowMax(Value in) {
    return rowReduce(
        in, -std::numeric_limits<double>::infinity(),
        [](OpBuilder &, Location, ValueRange a, ValueRange) { return a[0]; },
        [](OpBuilder &b, Location l, Value x, Value y) -> Value {
          return arith::MaximumFOp::create(b, l, x, y);
        });
  }

  /// `out[i] = combine(body(in[i, j], i, j), ...)` over j from `init`.
  Value rowReduce(Value in, double init, MapBody body,
                  function_ref<Value(OpBuilder &, Location, Value, Value)>
                      combine) {
    auto type = cast<RankedTensorType>(in.getType());
    Value acc = filled({type.getDimSize(0)}, f32Constant(init));
    MLIRContext *ctx = b.getContext();
    AffineExpr i, j;
    bindDims(ctx, i, j);
    return linalg::GenericOp::create(
               b, loc, acc.getType(), in, acc,
               {AffineMap::get(2, 0, {i, j}, ctx),
                AffineMap::get(2, 0, {i}, ctx)},
               {utils::IteratorType::parallel, utils::IteratorType::reduction},
               [&](OpBuilder &nb, Location nloc, ValueRange args) {
                 Value indices[] = {linalg::IndexOp::create(nb, nloc, 0),
                                    linalg::IndexOp::create(nb, nloc, 1)};
                 Value term = body(nb, nloc, args.take_front(), indices);
                 linalg::YieldOp::create(nb, nloc,
                                         combine(nb, nloc, term, args[1]));
               })
        .getResult(0);
  }

  /// `tensor` with each element x replaced by body(x), as the output of
  /// the op that computes it: it can be updated in place.
  Value update(Value tensor,
               function_ref<Value(OpBuilder &, Location, Value)> body) {
    auto type = cast<RankedTensorType>(tensor.getType());
    SmallVector<utils::IteratorType> iterators(type.getRank(),
                                               utils::IteratorType::parallel);
    return linalg::GenericOp::create(
               b, loc, type, ValueRange{}, tensor,
               {b.getMultiDimIdentityMap(type.getRank())}, iterators,
               [&](OpBuilder &nb, Location nloc, ValueRange args) {
                 linalg::YieldOp::create(nb, nloc, body(nb, nloc, args[0]));
               })
        .getResult(0);
  }

  /// `tensor` with its elements converted to `elementType` (f32 to or from
  /// f16 or bf16), or `tensor` itself where they already are; computed
  /// into `into` where given (a tensor of that type that a loop carries:
  /// the result takes its buffer).
  Value convert(Value tensor, Type elementType, Value into = {}) {
    Type from = cast<RankedTensorType>(tensor.getType()).getElementType();
    if (from == elementType)
      return tensor;
    return map(
        tensor,
        [&](OpBuilder &nb, Location l, ValueRange x, ValueRange) {
          return elementType.isF32() ? toF32(nb, l, x[0])
                                     : fromF32(nb, l, x[0], elementType);
        },
        elementType, into);
  }

  /// A copy of `tensor` in a tensor of its own.
  Value copy(Value tensor) {
    auto type = cast<RankedTensorType>(tensor.getType());
    Value empty = tensor::EmptyOp::create(b, loc, type.getShape(),
                                          type.getElementType());
    return linalg::CopyOp::create(b, loc, tensor, empty).getResult(0);
  }

  /// The matrix product `op(A) · op(B)` in f32 as a contraction over
  /// (m, n, k); `transposeA` reads A as k×m, `transposeB` reads B as n×k.
  Value matmul(Value a, Value bMatrix, bool transposeA = false,
               bool transposeB = false) {
    auto aType = cast<RankedTensorType>(a.getType());
    auto bType = cast<RankedTensorType>(bMatrix.getType());
    int64_t m = aType.getDimSize(transposeA ? 1 : 0);
    int64_t n = bType.getDimSize(transposeB ? 0 : 1);
    return matmulAdd(a, bMatrix, zeros({m, n}), transposeA, transposeB);
  }

  /// `C + op(A) · op(B)`, accumulated onto `init` (C, m×n f32), which is
  /// the contraction's output: it can be updated in place. A and B may be
  /// narrower floats, widened in the body (tiles of the terms stored in 16
  /// bits: a GPU block then keeps them so in shared memory).
  Value matmulAdd(Value a, Value bMatrix, Value init, bool transposeA = false,
                  bool transposeB = false) {
    MLIRContext *ctx = b.getContext();
    AffineExpr dm, dn, dk;
    bindDims(ctx, dm, dn, dk);
    return linalg::GenericOp::create(
               b, loc, init.getType(), ValueRange{a, bMatrix}, init,
               {AffineMap::get(3, 0,
                               transposeA ? ArrayRef<AffineExpr>{dk, dm}
                                          : ArrayRef<AffineExpr>{dm, dk},
                               ctx),
                AffineMap::get(3, 0,
                               transposeB ? ArrayRef<AffineExpr>{dn, dk}
                                          : ArrayRef<AffineExpr>{dk, dn},
                               ctx),
                AffineMap::get(3, 0, {dm, dn}, ctx)},
               {utils::IteratorType::parallel, utils::IteratorType::parallel,
                utils::IteratorType::reduction},
               [&](OpBuilder &nb, Location nloc, ValueRange args) {
                 Value product = arith::MulFOp::create(
                     nb, nloc, toF32(nb, nloc, args[0]),
                     toF32(nb, nloc, args[1]));
                 Value sum = arith::AddFOp::create(nb, nloc, product, args[2]);
                 linalg::YieldOp::create(nb, nloc, sum);
               })
        .getResult(0);
  }

  /// Tokens per tile (or query block): the largest multiple of `chunk` not
  /// above `target`, or the chunk itself when it is larger, so that chunks
  /// never straddle a tile and a tile starts where a chunk starts.
  static int64_t tileTokens(int64_t chunk, int64_t target) {
    return chunk >= target ? chunk : (target / chunk) * chunk;
  }

  /// Zero-pads the token dim (1) of `value` to `tokens`.
  static Value padTokens(OpBuilder &b, Location loc, Value value, int64_t tokens) {
    auto type = cast<RankedTensorType>(value.getType());
    if (type.getDimSize(1) == tokens)
      return value;
    SmallVector<int64_t> shape(type.getShape());
    shape[1] = tokens;
    Value zero = arith::ConstantOp::create(
        b, loc, b.getZeroAttr(type.getElementType()));
    return tensor::createPadHighOp(
        RankedTensorType::get(shape, type.getElementType()), value, zero,
        /*nofold=*/false, loc, b);
  }

  /// The rank-reduced slice value[b, t0 : t0+L, h, :] (or [b, t0 : t0+L, h]).
  static Value tokenSlice(OpBuilder &b, Location loc, Value value, Value batch,
                   Value t0, Value head, int64_t tile) {
    auto type = cast<RankedTensorType>(value.getType());
    SmallVector<OpFoldResult> offsets = {batch, t0, head};
    SmallVector<OpFoldResult> sizes = {b.getIndexAttr(1), b.getIndexAttr(tile),
                                       b.getIndexAttr(1)};
    SmallVector<int64_t> shape = {tile};
    if (type.getRank() == 4) {
      offsets.push_back(b.getIndexAttr(0));
      sizes.push_back(b.getIndexAttr(type.getDimSize(3)));
      shape.push_back(type.getDimSize(3));
    }
    SmallVector<OpFoldResult> strides(sizes.size(), b.getIndexAttr(1));
    return tensor::ExtractSliceOp::create(
        b, loc, RankedTensorType::get(shape, type.getElementType()), value,
        offsets, sizes, strides);
  }

  /// `value` widened to f32 (f16, bf16) or as it is (f32).
  static Value toF32(OpBuilder &b, Location loc, Value value) {
    if (value.getType().isF32())
      return value;
    return arith::ExtFOp::create(b, loc, b.getF32Type(), value);
  }

  /// exp(x) (f32), as 2^(x·log2 e): one `ex2` on a GPU, where `math.exp`
  /// is libdevice's routine of eleven instructions. log2 e multiplies the
  /// exponent as a whole (s - m, γ_i - γ_j), not its terms, so that it is
  /// rounded once more only relative to itself: folded into a score or a
  /// γ, it would be rounded relative to that, which logits in the
  /// thousands feel.
  static Value exp(OpBuilder &b, Location loc, Value x) {
    return math::Exp2Op::create(
        b, loc,
        arith::MulFOp::create(
            b, loc, x,
            arith::ConstantOp::create(
                b, loc, b.getF32FloatAttr(llvm::numbers::log2e))));
  }

  /// `value` (f32) narrowed to `type`.
  static Value fromF32(OpBuilder &b, Location loc, Value value, Type type) {
    if (type.isF32())
      return value;
    return arith::TruncFOp::create(b, loc, type, value);
  }

private:
  OpBuilder &b;
  Location loc;
};

} // namespace mlir::nats

#endif // LIB_DIALECT_NATS_TRANSFORMS_TILEBUILDER_H
