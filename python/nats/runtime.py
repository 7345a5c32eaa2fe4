"""Calling compiled nats code: a shared object with a C ABI, through ctypes.

A function compiled by the `nats-cpu` pipeline is exported as
`_mlir_ciface_<name>(Desc *arg0, Desc *arg1, ...)`, one pointer to a memref
descriptor per argument: the inputs, then the results as out-parameters.
Only ctypes and NumPy are used here, so the package works with any Python
version and needs no MLIR where the compiled objects run.
"""

from __future__ import annotations

import ctypes

import numpy as np

try:  # bf16 has no NumPy dtype of its own; ml_dtypes provides one.
    import ml_dtypes

    BF16 = np.dtype(ml_dtypes.bfloat16)
except ImportError:  # pragma: no cover - depends on the environment
    BF16 = None

__all__ = ["Module", "RuntimeError_", "dtype_of", "mlir_type_of"]

# MLIR element types and the NumPy dtypes that hold them. i1 is one byte per
# element in a memref, as a NumPy bool is.
_ELEMENT_TYPES = {
    "f64": np.dtype(np.float64),
    "f32": np.dtype(np.float32),
    "f16": np.dtype(np.float16),
    "i64": np.dtype(np.int64),
    "i32": np.dtype(np.int32),
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


def mlir_type_of(dtype: np.dtype) -> str:
    """The MLIR element type name of a NumPy dtype."""
    for name, known in _ELEMENT_TYPES.items():
        if np.dtype(dtype) == known:
            return name
    raise TypeError(f"dtype {np.dtype(dtype)} has no MLIR element type here")


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


def _descriptor(array: np.ndarray):
    if not array.flags.c_contiguous:
        raise ValueError("compiled functions take C-contiguous arrays")
    desc = _descriptor_type(array.ndim)()
    desc.allocated = desc.aligned = array.ctypes.data
    desc.offset = 0
    if array.ndim:
        desc.sizes[:] = array.shape
        desc.strides[:] = [s // array.itemsize for s in array.strides]
    return desc


class Module:
    """A loaded shared object of compiled nats functions."""

    def __init__(self, path: str):
        self.path = str(path)
        try:
            self._lib = ctypes.CDLL(self.path)
        except OSError as error:
            raise RuntimeError_(f"cannot load {self.path}: {error}") from None

    def call(self, name: str, arrays: list[np.ndarray]) -> None:
        """Calls `name` with `arrays`: its inputs, then its (pre-allocated)
        outputs, which it writes in place. The caller checks shapes."""
        try:
            function = getattr(self._lib, f"_mlir_ciface_{name}")
        except AttributeError:
            raise RuntimeError_(f"{self.path} has no function @{name}") from None
        function.restype = None
        descriptors = [_descriptor(a) for a in arrays]
        function(*[ctypes.byref(d) for d in descriptors])
