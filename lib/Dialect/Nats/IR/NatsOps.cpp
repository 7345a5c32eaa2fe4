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

} // namespace

//===----------------------------------------------------------------------===//
// HybridAttentionOp
//===----------------------------------------------------------------------===//

LogicalResult HybridAttentionOp::verify() {
  if (failed(verifyChunkSize(*this, getChunkSize())))
    return failure();
  if (getWindow() < 0)
    return emitOpError() << "'window' must be non-negative, but is "
                         << getWindow();

  DimBinder dims(*this);
  // The float inputs first, in operand order: they define B, T and the head
  // dims that everything else is checked against.
  struct Shaped {
    StringRef name;
    Value value;
    SmallVector<StringRef, 4> dims;
  };
  SmallVector<Shaped> floatInputs = {
      {"q", getQ(), {"B", "T", "H", "K"}},
      {"k", getK(), {"B", "T", "H", "K"}},
      {"v", getV(), {"B", "T", "H", "V"}},
      {"g", getG(), {"B", "T", "H"}},
      {"beta", getBeta(), {"B", "T", "H"}},
      {"qs", getQs(), {"B", "T", "Hs", "Ks"}},
      {"ks", getKs(), {"B", "T", "Hs", "Ks"}},
      {"vs", getVs(), {"B", "T", "Hs", "Vs"}},
  };
  Type elementType;
  StringRef elementTypeOrigin;
  for (const Shaped &input : floatInputs) {
    FailureOr<RankedTensorType> type =
        dims.bind(input.name, input.value.getType(), input.dims);
    if (failed(type))
      return failure();
    Type inputElementType = type->getElementType();
    if (!isSupportedFloat(inputElementType))
      return emitOpError() << "'" << input.name
                           << "' must have element type f32, f16 or bf16, "
                              "but has "
                           << inputElementType;
    if (!elementType) {
      elementType = inputElementType;
      elementTypeOrigin = input.name;
    } else if (inputElementType != elementType) {
      return emitOpError() << "'" << input.name << "' has element type "
                           << inputElementType << ", but '"
                           << elementTypeOrigin << "' has " << elementType
                           << ": the float operands must share one type";
    }
  }

  FailureOr<RankedTensorType> route =
      dims.bind("route", getRoute().getType(), {"B", "N", "R"});
  if (failed(route))
    return failure();
  if (!route->getElementType().isInteger(1))
    return emitOpError() << "'route' must have element type i1, but has "
                         << route->getElementType();

  // The f32 state, and the results.
  auto checkElementType = [&](StringRef name, RankedTensorType type,
                              Type expected,
                              StringRef why) -> LogicalResult {
    if (type.getElementType() == expected)
      return success();
    return emitOpError() << "'" << name << "' must have element type "
                         << expected << " (" << why << "), but has "
                         << type.getElementType();
  };
  Type f32 = Float32Type::get(getContext());
  if (Value init = getInitialState()) {
    FailureOr<RankedTensorType> type =
        dims.bind("initial_state", init.getType(), {"B", "H", "K", "V"});
    if (failed(type) ||
        failed(checkElementType("initial_state", *type, f32, "the state")))
      return failure();
  }
  FailureOr<RankedTensorType> o =
      dims.bind("o", getO().getType(), {"B", "T", "H", "V"});
  if (failed(o) ||
      failed(checkElementType("o", *o, elementType, "that of the inputs")))
    return failure();
  FailureOr<RankedTensorType> os =
      dims.bind("os", getOs().getType(), {"B", "T", "Hs", "Vs"});
  if (failed(os) ||
      failed(checkElementType("os", *os, elementType, "that of the inputs")))
    return failure();
  FailureOr<RankedTensorType> finalState = dims.bind(
      "final_state", getFinalState().getType(), {"B", "H", "K", "V"});
  if (failed(finalState) ||
      failed(checkElementType("final_state", *finalState, f32, "the state")))
    return failure();

  if (failed(verifyChunkCount(*this, dims, getChunkSize(), "route")))
    return failure();
  if (auto r = dims.lookup("R")) {
    if (r->first == 0)
      return emitOpError() << "'route' must have at least one router head";
    for (StringRef heads : {"H", "Hs"}) {
      auto h = dims.lookup(heads);
      if (h && h->first % r->first != 0)
        return emitOpError()
               << heads << " = " << h->first << " (from '" << h->second
               << "') must be a multiple of the R = " << r->first
               << " router heads of 'route'";
    }
  }
  return success();
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
