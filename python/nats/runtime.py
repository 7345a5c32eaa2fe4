"""Calling compiled nats code: a shared object with a C ABI, through ctypes.

A function compiled by the `nats-cpu` pipeline is exported as
`_mlir_ciface_<name>(Desc *arg0, Desc *arg1, ...)`, one pointer to a memref
descriptor per argument: the inputs, then the results as out-parameters
(buffer-results-to-out-params). A descriptor of rank r is

    struct { T *allocated; T *aligned; int64_t offset;
             int64_t sizes[r]; int64_t strides[r]; }   // strides in elements

Only ctypes and NumPy are used here, so the package works with any Python
version and needs no MLIR where the compiled objects run. The signatures of
the functions (`Signature`, parsed from the MLIR source by `parse_signatures`)
travel with the shared object as a JSON file beside it, so that `Module.call`
checks every array before the call instead of crashing in compiled code.
"""

from __future__ import annotations

import ctypes
import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

try:  # bf16 has no NumPy dtype of its own; ml_dtypes provides one.
    import ml_dtypes

    BF16 = np.dtype(ml_dtypes.bfloat16)
except ImportError:  # pragma: no cover - depends on the environment
    BF16 = None

__all__ = ["BF16", "Module", "RuntimeError_", "Signature", "TensorType", "dtype_of",
           "mlir_type_of", "parse_signatures"]

# MLIR element types and the NumPy dtypes that hold them. An i1 element takes
# one byte in a memref (LLVM's store size of i1), as a NumPy bool does.
_ELEMENT_TYPES = {
    "f64": np.dtype(np.float64),
    "f32": np.dtype(np.float32),
    "f16": np.dtype(np.float16),
    "i64": np.dtype(np.int64),
    "i32": np.dtype(np.int32),
    "i16": np.dtype(np.int16),
    "i8": np.dtype(np.int8),
    "i1": np.dtype(np.bool_),
}
if BF16 is not None:
    _ELEMENT_TYPES["bf16"] = BF16


class RuntimeError_(RuntimeError):
    """A compiled function could not be loaded or called."""


def dtype_of(element_type: str) -> np.dtype:
    """The NumPy dtype of an MLIR element type name (f32, bf16, i1, ...)."""
    if element_type == "bf16" and BF16 is None:
        raise TypeError("bf16 arrays need the ml_dtypes package (pip install ml_dtypes)")
    try:
        return _ELEMENT_TYPES[element_type]
    except KeyError:
        raise TypeError(f"element type {element_type} is not supported") from None


def mlir_type_of(dtype) -> str:
    """The MLIR element type name of a NumPy dtype (native byte order only)."""
    dtype = np.dtype(dtype)
    for name, known in _ELEMENT_TYPES.items():
        if dtype == known:
            return name
    raise TypeError(f"dtype {dtype} has no MLIR element type here")


# --- Signatures ------------------------------------------------------------


@dataclass(frozen=True)
class TensorType:
    """A ranked tensor or memref type of a function's argument or result;
    `None` in `shape` is a dynamic dim."""

    kind: str  # "tensor" or "memref"
    shape: tuple
    element_type: str

    def __str__(self) -> str:
        dims = "".join(("?" if d is None else str(d)) + "x" for d in self.shape)
        return f"{self.kind}<{dims}{self.element_type}>"

    @property
    def static(self) -> bool:
        return None not in self.shape

    def mismatch(self, array) -> str | None:
        """Why `array` cannot stand for a value of this type, or None."""
        if not isinstance(array, np.ndarray) and not hasattr(array, "device_pointer"):
            return f"expected a NumPy array for {self}, got {type(array).__name__}"
        try:
            dtype = dtype_of(self.element_type)
        except TypeError as error:
            return str(error)
        if (array.dtype != dtype or array.ndim != len(self.shape)
                or any(d is not None and d != s for d, s in zip(self.shape, array.shape))):
            return f"expected {self}, got {array.dtype} array of shape {array.shape}"
        return None


@dataclass(frozen=True)
class Signature:
    """A function's argument and result types. Compiled, it takes the
    arguments, then the results as out-parameters."""

    name: str
    arguments: tuple
    results: tuple

    @property
    def parameters(self) -> tuple:
        return self.arguments + self.results

    def to_json(self):
        def one(t):
            return [t.kind, list(t.shape), t.element_type]
        return {"arguments": [one(t) for t in self.arguments],
                "results": [one(t) for t in self.results]}

    @classmethod
    def from_json(cls, name, data):
        def one(t):
            return TensorType(t[0], tuple(t[1]), t[2])
        return cls(name, tuple(one(t) for t in data["arguments"]),
                   tuple(one(t) for t in data["results"]))


_CLOSE = {"(": ")", "<": ">", "{": "}", "[": "]"}


def _balanced(text: str, start: int) -> int:
    """Index just after the bracket group opening at text[start]."""
    stack = []
    i = start
    while i < len(text):
        c = text[i]
        if c == '"':  # skip string literals (in attributes)
            i = text.index('"', i + 1) if '"' in text[i + 1:] else len(text)
        elif c == "-" and text.startswith("->", i):
            i += 1  # '>' of an arrow closes nothing
        elif c in _CLOSE:
            stack.append(_CLOSE[c])
        elif stack and c == stack[-1]:
            stack.pop()
            if not stack:
                return i + 1
        i += 1
    raise ValueError("unbalanced brackets in a function signature")


def _split_top(text: str) -> list[str]:
    """Splits at commas outside any bracket."""
    parts, depth, current, i = [], 0, [], 0
    while i < len(text):
        c = text[i]
        if c == "-" and text.startswith("->", i):
            current.append("->")
            i += 2
            continue
        if c in _CLOSE:
            depth += 1
        elif c in _CLOSE.values():
            depth -= 1
        if c == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(c)
        i += 1
    if "".join(current).strip():
        parts.append("".join(current))
    return [p.strip() for p in parts]


_SHAPED = re.compile(r"(tensor|memref)<(.*)>$", re.S)
_DIMS = re.compile(r"((?:(?:\d+|\?)x)*)(\w[\w.<>]*)$")


def _parse_type(text: str):
    """A TensorType, or the type's text when it is not a ranked tensor/memref."""
    text = text.strip()
    match = _SHAPED.match(text)
    if not match:
        return text
    kind, body = match.groups()
    parts = _split_top(body)
    if kind == "memref" and len(parts) > 1:
        return text  # a layout or memory space: not passed from NumPy
    shaped = _DIMS.match(parts[0].strip())
    if not shaped:
        return text  # unranked
    dims, element = shaped.groups()
    shape = tuple(None if d == "?" else int(d) for d in dims.split("x")[:-1])
    return TensorType(kind, shape, element)


_FUNC = re.compile(r"func\.func\s+(?:(?:public|private|nested)\s+)?@(\"[^\"]*\"|[\w$.]+)\s*\(")


def parse_signatures(source: str) -> dict[str, Signature]:
    """The signatures of the func.func definitions in MLIR `source` (text in
    the custom form of func.func), by function name. A parameter that is not a
    ranked tensor or memref is kept as its type's text; `Module.call` refuses
    such functions."""
    source = _strip_comments(source)
    signatures = {}
    for match in _FUNC.finditer(source):
        name = match.group(1).strip('"')
        open_paren = match.end() - 1
        close = _balanced(source, open_paren)
        arguments = []
        for arg in _split_top(source[open_paren + 1:close - 1]):
            # `%name: type {attrs}` (definitions) or `type {attrs}` (declarations)
            body = arg.split(":", 1)[1] if arg.startswith("%") else arg
            arguments.append(_parse_type(_strip_attributes(body)))
        results = []
        rest = source[close:].lstrip()
        if rest.startswith("->"):
            rest = rest[2:].lstrip()
            if rest.startswith("("):
                end = _balanced(rest, 0)
                result_texts = _split_top(rest[1:end - 1])
            else:  # one type: up to its closing '>' (tensor, memref) or a space
                shaped = re.match(r"(?:tensor|memref)<", rest)
                end = _balanced(rest, shaped.end() - 1) if shaped else len(rest.split()[0])
                result_texts = [rest[:end]]
            for text in result_texts:
                results.append(_parse_type(_strip_attributes(text)))
        signatures[name] = Signature(name, tuple(arguments), tuple(results))
    return signatures


def _strip_comments(source: str) -> str:
    """Drops `// ...` comments (outside string literals)."""
    lines = []
    for line in source.splitlines():
        quoted = False
        for i, c in enumerate(line):
            if c == '"' and (i == 0 or line[i - 1] != "\\"):
                quoted = not quoted
            elif not quoted and line.startswith("//", i):
                line = line[:i]
                break
        lines.append(line)
    return "\n".join(lines)


def _strip_attributes(text: str) -> str:
    """`type {attr dict}` -> `type`: drops a trailing top-level attribute dict."""
    text = text.strip()
    depth = 0
    for i, c in enumerate(text):
        if c in "<([":
            depth += 1
        elif c in ">)]":
            depth -= 1
        elif depth == 0 and (c == "{" or text.startswith(" loc(", i)):
            return text[:i].strip()
    return text


# --- Descriptors and calls -------------------------------------------------

_descriptor_types: dict[int, type] = {}


def _descriptor_type(rank: int) -> type:
    """The ctypes struct of a ranked memref descriptor:
    {allocated, aligned, offset, sizes[rank], strides[rank]}."""
    if rank not in _descriptor_types:
        fields = [("allocated", ctypes.c_void_p), ("aligned", ctypes.c_void_p),
                  ("offset", ctypes.c_int64)]
        if rank:
            fields += [("sizes", ctypes.c_int64 * rank), ("strides", ctypes.c_int64 * rank)]
        _descriptor_types[rank] = type(f"MemRef{rank}D", (ctypes.Structure,),
                                       {"_fields_": fields})
    return _descriptor_types[rank]


# The alignment of the data of every device array a compiled GPU function
# takes: its arguments promise it (nats-gpu-aligned-arguments' default), so
# that its kernels read 16-bit inputs with wide accesses.
GPU_ALIGNMENT = 16


def misalignment(array) -> str | None:
    """What is wrong with device array `array`'s address for a compiled GPU
    function, or None."""
    pointer = array.device_pointer
    if pointer % GPU_ALIGNMENT == 0:
        return None
    return (f"compiled GPU functions take device arrays whose data is {GPU_ALIGNMENT}-byte "
            f"aligned; this one starts at {pointer:#x} (a view into a larger tensor: "
            f"pass a copy, e.g. tensor.clone())")


def descriptor(array):
    """The memref descriptor of a C-contiguous, aligned NumPy array, or of a
    device array (an object with `device_pointer`, `shape`, `ndim`, always
    C-contiguous, its data GPU_ALIGNMENT-byte aligned); it points into the
    array (keep the array alive while it is used)."""
    if isinstance(array, np.ndarray):
        if not array.flags.c_contiguous:
            raise ValueError("compiled functions take C-contiguous arrays "
                             "(use np.ascontiguousarray)")
        if not array.flags.aligned:
            raise ValueError("compiled functions take aligned arrays")
        pointer = array.ctypes.data
    else:
        pointer = array.device_pointer
        problem = misalignment(array)
        if problem:
            raise ValueError(problem)
    desc = _descriptor_type(array.ndim)()
    desc.allocated = desc.aligned = pointer
    desc.offset = 0
    if array.ndim:
        desc.sizes[:] = array.shape
        desc.strides[:] = _row_major_strides(tuple(array.shape))
    return desc


@functools.lru_cache(maxsize=None)
def _row_major_strides(shape):
    """The strides of a C-contiguous array of `shape`, in elements (NumPy's
    may be arbitrary along dims of size 1, and are in bytes)."""
    strides, stride = [], 1
    for size in reversed(shape):
        strides.append(stride)
        stride *= size
    return tuple(reversed(strides))


def _signatures_path(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def save_signatures(path, signatures: dict, built_with: str = "") -> None:
    """Writes what travels beside a shared object: its functions'
    signatures and `built_with`, the tools that made it."""
    Path(path).write_text(json.dumps({
        "built_with": built_with,
        "functions": {n: s.to_json() for n, s in signatures.items()}}))


def built_with(path) -> str | None:
    """The tools that made the shared object `path` (save_signatures), or
    None if it has no sidecar."""
    sidecar = _signatures_path(Path(path))
    if not sidecar.exists():
        return None
    return json.loads(sidecar.read_text()).get("built_with", "")


class Module:
    """A loaded shared object of compiled nats functions. `signatures` (by
    function name) are read from `<path>.json` when not given; without
    them `call` cannot check the arrays."""

    def __init__(self, path, signatures: dict | None = None):
        self.path = str(path)
        if signatures is None:
            sidecar = _signatures_path(Path(path))
            signatures = {}
            if sidecar.exists():
                data = json.loads(sidecar.read_text())["functions"]
                signatures = {n: Signature.from_json(n, s) for n, s in data.items()}
        self.signatures = signatures
        try:
            self._lib = ctypes.CDLL(self.path)
        except OSError as error:
            raise RuntimeError_(f"cannot load {self.path}: {error}") from None

    def check(self, name: str, arrays) -> None:
        """Raises ValueError/TypeError naming the first array that does not
        fit `name`'s signature (inputs, then outputs)."""
        signature = self.signatures.get(name)
        if signature is None:
            return
        params = signature.parameters
        n_in = len(signature.arguments)
        if len(arrays) != len(params):
            raise ValueError(f"@{name} takes {n_in} inputs and {len(signature.results)} "
                             f"outputs, got {len(arrays)} arrays")
        for i, (param, array) in enumerate(zip(params, arrays)):
            label = f"input {i}" if i < n_in else f"output {i - n_in}"
            if not isinstance(param, TensorType):
                raise TypeError(f"@{name} {label} has type {param}: only ranked tensors "
                                "and memrefs can be passed")
            problem = param.mismatch(array)
            if problem:
                error = ValueError if isinstance(array, np.ndarray) and \
                    array.dtype == _ELEMENT_TYPES.get(param.element_type) else TypeError
                raise error(f"@{name} {label}: {problem}")
            if not isinstance(array, np.ndarray):
                continue  # a device array: contiguous and writable
            if not array.flags.c_contiguous:
                raise ValueError(f"@{name} {label}: compiled functions take C-contiguous "
                                 "arrays (use np.ascontiguousarray)")
            if i >= n_in and not array.flags.writeable:
                raise ValueError(f"@{name} {label}: the output array is read-only")

    def call(self, name: str, arrays, check: bool = True) -> None:
        """Calls `name` with `arrays`: its inputs, then its (pre-allocated)
        outputs, which it writes in place. Checks the arrays against the
        function's signature where it is known, unless `check` is False (a
        caller that made the arrays fit, as nats.hybrid_attention does)."""
        try:
            function = getattr(self._lib, f"_mlir_ciface_{name}")
        except AttributeError:
            raise RuntimeError_(f"{self.path} has no function @{name}") from None
        if check:
            self.check(name, arrays)
        function.restype = None
        descriptors = [descriptor(a) for a in arrays]
        function(*[ctypes.byref(d) for d in descriptors])
