//===- NatsOps.cpp - nats dialect operations ------------------------------===//
//
// Verifiers and helpers of the nats ops. Operand types are AnyType in ODS and
// checked here, so that each diagnostic names the operand, the dimension and
// what was expected (spec §3.1).
//
//===----------------------------------------------------------------------===//

#include "nats/Dialect/Nats/IR/NatsOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/StringMap.h"

#include <cmath>

using namespace mlir;
using namespace mlir::nats;

namespace {

/// Walks the shaped values of an op in order and binds each named dimension
/// (B, T, H, ...) to the first static size it sees, reporting any later value
/// that disagrees together with the value the size came from. Dynamic sizes
/// match anything.
class DimBinder {
public:
  explicit DimBinder(Operation *op) : op(op) {}

  /// Checks that `type`, the type of the value called `name`, is a ranked
  /// tensor with one dim per entry of `dims`, and binds those dims. Returns
  /// the tensor type on success.
  FailureOr<RankedTensorType> bind(StringRef name, Type type,
                                   ArrayRef<StringRef> dims) {
    auto tensor = dyn_cast<RankedTensorType>(type);
    if (!tensor || tensor.getRank() != static_cast<int64_t>(dims.size()))
      return op->emitOpError()
             << "'" << name << "' must be a ranked tensor of rank "
             << dims.size() << " (" << llvm::join(dims, "x") << "), but got "
             << type;
    for (auto [i, dim] : llvm::enumerate(dims)) {
      int64_t size = tensor.getDimSize(i);
      if (ShapedType::isDynamic(size))
        continue;
      auto [it, inserted] = bound.try_emplace(dim, Binding{size, name.str()});
      if (!inserted && it->second.size != size)
        return op->emitOpError()
               << "dim " << i << " (" << dim << ") of '" << name << "' is "
               << size << ", but '" << it->second.origin << "' has " << dim
               << " = " << it->second.size;
    }
    return tensor;
  }

  /// The static size bound to `dim` and the value it came from, if any.
  std::optional<std::pair<int64_t, StringRef>> lookup(StringRef dim) const {
    auto it = bound.find(dim);
    if (it == bound.end())
      return std::nullopt;
    return std::make_pair(it->second.size, StringRef(it->second.origin));
  }

private:
  struct Binding {
    int64_t size;
    std::string origin;
  };
  Operation *op;
  llvm::StringMap<Binding> bound;
};

bool isSupportedFloat(Type type) { return type.isF32() || type.isF16() || type.isBF16(); }

/// Checks `N == ceil(T / C)` where both are static.
LogicalResult verifyChunkCount(Operation *op, const DimBinder &dims,
                               int64_t chunkSize, StringRef routeName) {
  auto t = dims.lookup("T");
  auto n = dims.lookup("N");
  if (!t || !n)
    return success();
  int64_t expected = llvm::divideCeil(t->first, chunkSize);
  if (n->first == expected)
    return success();
  return op->emitOpError()
         << "dim 1 (N) of '" << routeName << "' is " << n->first
         << ", but T = " << t->first << " and chunk_size = " << chunkSize
         << " need N = ceil(T / chunk_size) = " << expected;
}

LogicalResult verifyChunkSize(Operation *op, int64_t chunkSize) {
  if (chunkSize >= 1)
    return success();
  return op->emitOpError() << "'chunk_size' must be at least 1, but is "
                           << chunkSize;
}

/// A value of a nats op with its name in diagnostics and its named dims.
struct NamedValue {
  StringRef name;
  Value value;
  SmallVector<StringRef, 4> dims;
};

/// Checks the float inputs in order: ranks and dims, f32/f16/bf16, and one
/// element type for all. Returns that element type.
FailureOr<Type> verifyFloatInputs(Operation *op, DimBinder &dims,
                                  ArrayRef<NamedValue> inputs) {
  Type elementType;
  StringRef origin;
  for (const NamedValue &input : inputs) {
    FailureOr<RankedTensorType> type =
        dims.bind(input.name, input.value.getType(), input.dims);
    if (failed(type))
      return failure();
    Type inputElementType = type->getElementType();
    if (!isSupportedFloat(inputElementType))
      return op->emitOpError()
             << "'" << input.name
             << "' must have element type f32, f16 or bf16, but has "
             << inputElementType;
    if (!elementType) {
      elementType = inputElementType;
      origin = input.name;
    } else if (inputElementType != elementType) {
      return op->emitOpError()
             << "'" << input.name << "' has element type " << inputElementType
             << ", but '" << origin << "' has " << elementType
             << ": the float operands must share one type";
    }
  }
  return elementType;
}

/// Checks the dims of `value` and that its element type is `expected`.
LogicalResult verifyTypedValue(Operation *op, DimBinder &dims,
                               const NamedValue &value, Type expected,
                               StringRef why) {
  FailureOr<RankedTensorType> type =
      dims.bind(value.name, value.value.getType(), value.dims);
  if (failed(type))
    return failure();
  if (type->getElementType() == expected)
    return success();
  return op->emitOpError() << "'" << value.name << "' must have element type "
                           << expected << " (" << why << "), but has "
                           << type->getElementType();
}

/// Checks `route` (B×N×R, i1), N = ceil(T / chunk_size), and that each head
/// count in `heads` is a multiple of R.
LogicalResult verifyRoute(Operation *op, DimBinder &dims, Value route,
                          int64_t chunkSize, ArrayRef<StringRef> heads) {
  FailureOr<RankedTensorType> type =
      dims.bind("route", route.getType(), {"B", "N", "R"});
  if (failed(type))
    return failure();
  if (!type->getElementType().isInteger(1))
    return op->emitOpError() << "'route' must have element type i1, but has "
                             << type->getElementType();
  if (failed(verifyChunkCount(op, dims, chunkSize, "route")))
    return failure();
  auto r = dims.lookup("R");
  if (!r)
    return success();
  if (r->first == 0)
    return op->emitOpError() << "'route' must have at least one router head";
  for (StringRef head : heads) {
    auto h = dims.lookup(head);
    if (h && h->first % r->first != 0)
      return op->emitOpError()
             << head << " = " << h->first << " (from '" << h->second
             << "') must be a multiple of the R = " << r->first
             << " router heads of 'route'";
  }
  return success();
}

/// The operands and results of the linear branch, shared by
/// nats.hybrid_attention and nats.gated_delta.
LogicalResult verifyLinearBranch(Operation *op, DimBinder &dims, Value q,
                                 Value k, Value v, Value g, Value beta,
                                 Value initialState, Value o,
                                 Value finalState, Type &elementType) {
  FailureOr<Type> type = verifyFloatInputs(
      op, dims,
      {{"q", q, {"B", "T", "H", "K"}},
       {"k", k, {"B", "T", "H", "K"}},
       {"v", v, {"B", "T", "H", "V"}},
       {"g", g, {"B", "T", "H"}},
       {"beta", beta, {"B", "T", "H"}}});
  if (failed(type))
    return failure();
  elementType = *type;
  Type f32 = Float32Type::get(op->getContext());
  if (initialState &&
      failed(verifyTypedValue(op, dims,
                              {"initial_state", initialState,
                               {"B", "H", "K", "V"}},
                              f32, "the state")))
    return failure();
  if (failed(verifyTypedValue(op, dims, {"o", o, {"B", "T", "H", "V"}},
                              elementType, "that of the inputs")))
    return failure();
  return verifyTypedValue(op, dims,
                          {"final_state", finalState, {"B", "H", "K", "V"}},
                          f32, "the state");
}

/// The operands and result of the softmax branch, shared by
/// nats.hybrid_attention and nats.routed_softmax. `elementType`, if set, is
/// the element type the linear branch fixed.
LogicalResult verifySoftmaxBranch(Operation *op, DimBinder &dims, Value qs,
                                  Value ks, Value vs, Value os,
                                  Type elementType) {
  SmallVector<NamedValue> inputs = {{"qs", qs, {"B", "T", "Hs", "Ks"}},
                                    {"ks", ks, {"B", "T", "Hs", "Ks"}},
                                    {"vs", vs, {"B", "T", "Hs", "Vs"}}};
  FailureOr<Type> type = verifyFloatInputs(op, dims, inputs);
  if (failed(type))
    return failure();
  if (elementType && *type != elementType)
    return op->emitOpError()
           << "'qs' has element type " << *type << ", but 'q' has "
           << elementType << ": the float operands must share one type";
  return verifyTypedValue(op, dims, {"os", os, {"B", "T", "Hs", "Vs"}},
                          *type, "that of the inputs");
}

LogicalResult verifyWindow(Operation *op, int64_t window) {
  if (window >= 0)
    return success();
  return op->emitOpError() << "'window' must be non-negative, but is "
                           << window;
}

} // namespace

//===----------------------------------------------------------------------===//
// HybridAttentionOp
//===----------------------------------------------------------------------===//

LogicalResult HybridAttentionOp::verify() {
  if (failed(verifyChunkSize(*this, getChunkSize())) ||
      failed(verifyWindow(*this, getWindow())))
    return failure();
  // Operands first, in the spec's order, so that the first value that
  // disagrees is the one blamed; then the results.
  DimBinder dims(*this);
  FailureOr<Type> elementType = verifyFloatInputs(
      *this, dims,
      {{"q", getQ(), {"B", "T", "H", "K"}},
       {"k", getK(), {"B", "T", "H", "K"}},
       {"v", getV(), {"B", "T", "H", "V"}},
       {"g", getG(), {"B", "T", "H"}},
       {"beta", getBeta(), {"B", "T", "H"}},
       {"qs", getQs(), {"B", "T", "Hs", "Ks"}},
       {"ks", getKs(), {"B", "T", "Hs", "Ks"}},
       {"vs", getVs(), {"B", "T", "Hs", "Vs"}}});
  if (failed(elementType))
    return failure();
  Type linearType = *elementType;
  if (failed(verifyRoute(*this, dims, getRoute(), getChunkSize(),
                         {"H", "Hs"})) ||
      failed(verifyLinearBranch(*this, dims, getQ(), getK(), getV(), getG(),
                                getBeta(), getInitialState(), getO(),
                                getFinalState(), linearType)))
    return failure();
  return verifySoftmaxBranch(*this, dims, getQs(), getKs(), getVs(), getOs(),
                             linearType);
}

//===----------------------------------------------------------------------===//
// GatedDeltaOp
//===----------------------------------------------------------------------===//

LogicalResult GatedDeltaOp::verify() {
  if (failed(verifyChunkSize(*this, getChunkSize())))
    return failure();
  DimBinder dims(*this);
  Type elementType;
  if (failed(verifyLinearBranch(*this, dims, getQ(), getK(), getV(), getG(),
                                getBeta(), getInitialState(), getO(),
                                getFinalState(), elementType)))
    return failure();
  return verifyRoute(*this, dims, getRoute(), getChunkSize(), {"H"});
}

//===----------------------------------------------------------------------===//
// RoutedSoftmaxOp
//===----------------------------------------------------------------------===//

LogicalResult RoutedSoftmaxOp::verify() {
  if (failed(verifyChunkSize(*this, getChunkSize())) ||
      failed(verifyWindow(*this, getWindow())))
    return failure();
  DimBinder dims(*this);
  if (failed(verifySoftmaxBranch(*this, dims, getQs(), getKs(), getVs(),
                                 getOs(), Type())))
    return failure();
  return verifyRoute(*this, dims, getRoute(), getChunkSize(), {"Hs"});
}

/// `attr` if present, else `dim`^-0.5 when `dim` is static.
static std::optional<float> scaleOrDefault(std::optional<float> attr,
                                           int64_t dim) {
  if (attr)
    return attr;
  if (ShapedType::isDynamic(dim) || dim <= 0)
    return std::nullopt;
  return static_cast<float>(1.0 / std::sqrt(static_cast<double>(dim)));
}

std::optional<float> HybridAttentionOp::getEffectiveScale() {
  std::optional<float> attr;
  if (auto scale = getScaleAttr())
    attr = scale.getValueAsDouble();
  return scaleOrDefault(attr,
                        cast<RankedTensorType>(getQ().getType()).getDimSize(3));
}

std::optional<float> HybridAttentionOp::getEffectiveSoftmaxScale() {
  std::optional<float> attr;
  if (auto scale = getSoftmaxScaleAttr())
    attr = scale.getValueAsDouble();
  return scaleOrDefault(
      attr, cast<RankedTensorType>(getQs().getType()).getDimSize(3));
}

//===----------------------------------------------------------------------===//
// ChunkRouteOp
//===----------------------------------------------------------------------===//

LogicalResult ChunkRouteOp::verify() {
  if (failed(verifyChunkSize(*this, getChunkSize())))
    return failure();
  DimBinder dims(*this);
  FailureOr<RankedTensorType> x =
      dims.bind("x", getX().getType(), {"B", "T", "D"});
  if (failed(x))
    return failure();
  if (!isSupportedFloat(x->getElementType()))
    return emitOpError()
           << "'x' must have element type f32, f16 or bf16, but has "
           << x->getElementType();
  FailureOr<RankedTensorType> weight =
      dims.bind("weight", getWeight().getType(), {"D", "2R"});
  if (failed(weight))
    return failure();
  if (weight->getElementType() != x->getElementType())
    return emitOpError() << "'weight' has element type "
                         << weight->getElementType() << ", but 'x' has "
                         << x->getElementType();
  int64_t logits = weight->getDimSize(1);
  if (!ShapedType::isDynamic(logits) && logits % 2 != 0)
    return emitOpError() << "dim 1 of 'weight' is " << logits
                         << ", but must be even: two logits (softmax, "
                            "linear) per router head";
  FailureOr<RankedTensorType> route =
      dims.bind("route", getRoute().getType(), {"B", "N", "R"});
  if (failed(route))
    return failure();
  if (!route->getElementType().isInteger(1))
    return emitOpError() << "'route' must have element type i1, but has "
                         << route->getElementType();
  int64_t routerHeads = route->getDimSize(2);
  if (!ShapedType::isDynamic(logits) && !ShapedType::isDynamic(routerHeads) &&
      logits != 2 * routerHeads)
    return emitOpError() << "dim 2 (R) of 'route' is " << routerHeads
                         << ", but 'weight' has " << logits
                         << " logits, so R = " << logits / 2;
  return verifyChunkCount(*this, dims, getChunkSize(), "route");
}

#define GET_OP_CLASSES
#include "nats/Dialect/Nats/IR/NatsOps.cpp.inc"
