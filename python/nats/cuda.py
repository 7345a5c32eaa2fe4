"""Device buffers and the nats CUDA runtime (runtime/cuda), through its C ABI.

GPU products call the runtime's mgpu* functions; it is loaded once, with
RTLD_GLOBAL, before any product, so that their calls resolve to it. It is
found at $NATS_CUDA_RUNTIME, else in the build tree beside the staged
package (build/lib/libnats_cuda_runtime.so).
"""

from __future__ import annotations

import ctypes
import functools
import os
from pathlib import Path

import numpy as np

from . import runtime

__all__ = ["DeviceArray", "CudaError", "check", "device_name", "from_torch",
           "max_memory_allocated", "reset_peak_memory_stats", "runtime_library",
           "set_stream", "synchronize"]


class CudaError(runtime.RuntimeError_):
    """A CUDA call failed; the message says which and why."""


def runtime_library() -> Path:
    override = os.environ.get("NATS_CUDA_RUNTIME")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / "lib" / "libnats_cuda_runtime.so"


@functools.lru_cache(maxsize=None)
def _lib():
    path = runtime_library()
    try:
        lib = ctypes.CDLL(str(path), mode=ctypes.RTLD_GLOBAL)
    except OSError as error:
        hint = "" if path.exists() else \
            " (build nats with a CUDA toolkit, or set $NATS_CUDA_RUNTIME)"
        raise CudaError(f"cannot load the nats CUDA runtime {path}: {error}{hint}") from None
    lib.natsCudaAlloc.restype = ctypes.c_void_p
    lib.natsCudaAlloc.argtypes = [ctypes.c_uint64]
    lib.natsCudaFree.argtypes = [ctypes.c_void_p]
    for name in ("natsCudaCopyToDevice", "natsCudaCopyToHost"):
        getattr(lib, name).argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint64]
    lib.natsCudaTakeError.restype = ctypes.c_bool
    lib.natsCudaTakeError.argtypes = [ctypes.c_char_p, ctypes.c_int32]
    lib.natsCudaDeviceName.argtypes = [ctypes.c_char_p, ctypes.c_int32]
    lib.natsCudaSetStream.argtypes = [ctypes.c_void_p]
    lib.natsCudaPeakMemory.restype = ctypes.c_uint64
    return lib


def load() -> None:
    """Loads the runtime (idempotent); GPU products need it loaded first."""
    _lib()


def check() -> None:
    """Raises CudaError with the first CUDA failure since the last check."""
    message = ctypes.create_string_buffer(1024)
    if _lib().natsCudaTakeError(message, len(message)):
        raise CudaError(message.value.decode(errors="replace"))


def synchronize() -> None:
    _lib().natsCudaSynchronize()
    check()


# CUDA's handle of the legacy default stream (CU_STREAM_LEGACY): what torch's
# default stream, whose handle is 0, is.
_LEGACY_STREAM = 0x1


def set_stream(stream: int | None) -> None:
    """Runs the compiled functions that this thread calls on `stream` (a
    CUDA stream handle of the device's primary context, e.g.
    `torch.cuda.current_stream().cuda_stream`; 0 is the legacy default
    stream, torch's default), ordered with the other work there and timed
    by events recorded on it. A call then returns once its work is enqueued
    on that stream, as a torch op does: a failure of its kernels shows at
    the next synchronisation (DeviceArray's copies to and from the host, and
    its frees, wait for the stream first). None: a stream of their own per
    call, ordered after the work on the legacy default stream, which each
    call waits for before it returns."""
    _lib().natsCudaSetStream(None if stream is None else stream or _LEGACY_STREAM)


def max_memory_allocated() -> int:
    """The most device memory, in bytes, that compiled functions' intermediates
    (workspaces, per-tile terms) held at once since the last
    `reset_peak_memory_stats()`; DeviceArrays are not counted."""
    peak = _lib().natsCudaPeakMemory()
    check()
    return peak


def reset_peak_memory_stats() -> None:
    """Restarts `max_memory_allocated()` from the memory in use now."""
    _lib().natsCudaResetPeakMemory()
    check()


def device_name() -> str:
    name = ctypes.create_string_buffer(256)
    _lib().natsCudaDeviceName(name, len(name))
    check()
    return name.value.decode()


class DeviceArray:
    """A C-contiguous array in device memory: owned (allocated here, freed
    with the object), or a view of memory someone else owns (`wrap`)."""

    def __init__(self, shape, dtype):
        self._describe(shape, dtype)
        self._owned = True
        self.device_pointer = _lib().natsCudaAlloc(self.nbytes)
        check()

    def _describe(self, shape, dtype):
        self.shape = tuple(int(d) for d in shape)
        self.dtype = np.dtype(dtype)
        self.ndim = len(self.shape)
        self.nbytes = int(np.prod(self.shape, dtype=np.int64)) * self.dtype.itemsize

    @classmethod
    def wrap(cls, pointer: int, shape, dtype, owner=None) -> "DeviceArray":
        """A view of `shape` and `dtype` at device address `pointer`, which
        must stay valid as long as the view: `owner` (kept referenced) owns
        it. The memory must be C-contiguous and of the primary context."""
        array = cls.__new__(cls)
        array._describe(shape, dtype)
        array._owned, array._owner = False, owner
        array.device_pointer = int(pointer)
        return array

    @classmethod
    def from_host(cls, array: np.ndarray) -> "DeviceArray":
        array = np.ascontiguousarray(array)
        device = cls(array.shape, array.dtype)
        _lib().natsCudaCopyToDevice(device.device_pointer, array.ctypes.data, array.nbytes)
        check()
        return device

    def to_host(self) -> np.ndarray:
        array = np.empty(self.shape, self.dtype)
        _lib().natsCudaCopyToHost(array.ctypes.data, self.device_pointer, self.nbytes)
        check()
        return array

    def __del__(self):
        if getattr(self, "device_pointer", None) and getattr(self, "_owned", False):
            _lib().natsCudaFree(self.device_pointer)


# torch dtypes by name: nats does not import torch.
_TORCH_DTYPES = {"torch.float32": np.float32, "torch.float16": np.float16,
                 "torch.bfloat16": runtime.BF16, "torch.bool": np.bool_}


def from_torch(tensor) -> DeviceArray:
    """A DeviceArray view of a contiguous CUDA `torch.Tensor` (no copy; the
    tensor is kept alive by the view)."""
    if not getattr(tensor, "is_cuda", False):
        raise ValueError("from_torch: expected a CUDA tensor")
    if not tensor.is_contiguous():
        raise ValueError("from_torch: the tensor must be contiguous "
                         "(use tensor.contiguous())")
    dtype = _TORCH_DTYPES.get(str(tensor.dtype))
    if dtype is None:
        raise TypeError(f"from_torch: unsupported dtype {tensor.dtype}")
    return DeviceArray.wrap(tensor.data_ptr(), tuple(tensor.shape), dtype, owner=tensor)
