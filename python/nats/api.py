"""`nats.hybrid_attention`: the core op, compiled by nats, on NumPy arrays (spec §7)."""

from __future__ import annotations

import functools
import math
import struct

import numpy as np

from . import compiler, runtime

__all__ = ["hybrid_attention", "precompile"]

_FLOAT_OPERANDS = ("q", "k", "v", "g", "beta", "qs", "ks", "vs")
# Named dims of each operand (spec §3.1).
_DIMS = {
    "q": "BTHK", "k": "BTHK", "v": "BTHV", "g": "BTH", "beta": "BTH",
    "qs": "BTSJ", "ks": "BTSJ", "vs": "BTSW", "route": "BNR", "initial_state": "BHKV",
}
_DIM_NAMES = {"S": "Hs", "J": "Ks", "W": "Vs"}


def _on_device(value):
    """Whether `value` is a nats.cuda.DeviceArray (without loading CUDA)."""
    return hasattr(value, "device_pointer")


def _check_array(name, value):
    if not isinstance(value, np.ndarray) and not _on_device(value):
        raise TypeError(f"{name}: expected a NumPy array or a nats.cuda.DeviceArray, "
                        f"got {type(value).__name__}")
    if isinstance(value, np.ndarray) and not value.flags.c_contiguous:
        raise ValueError(f"{name}: the array must be C-contiguous "
                         f"(use np.ascontiguousarray({name}))")
    if value.ndim != len(_DIMS[name]):
        raise ValueError(f"{name}: expected rank {len(_DIMS[name])} "
                         f"({'x'.join(_DIM_NAMES.get(d, d) for d in _DIMS[name])}), "
                         f"got shape {value.shape}")


def _check_aligned(name, array):
    """Refuses device array `array` (the argument `name`) where its data is
    not aligned as compiled GPU functions need."""
    problem = runtime.misalignment(array)
    if problem:
        raise ValueError(f"{name}: {problem}")


def _is_integer(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _validate(arrays, chunk_size, window, scale, softmax_scale, qk_l2norm):
    if not _is_integer(chunk_size) or chunk_size < 1:
        raise ValueError(f"chunk_size: expected an integer >= 1, got {chunk_size!r}")
    if not _is_integer(window) or window < 0:
        raise ValueError(f"window: expected an integer >= 0, got {window!r}")
    for name, value in (("scale", scale), ("softmax_scale", softmax_scale)):
        if value is None:
            continue
        if not isinstance(value, (int, float, np.integer, np.floating)) or \
                isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{name}: expected a number or None, got {type(value).__name__}")
        if not math.isfinite(value) or abs(float(value)) > float(np.finfo(np.float32).max):
            raise ValueError(f"{name}: expected a finite f32 number, got {value!r}")
    if not isinstance(qk_l2norm, (bool, np.bool_)):
        raise TypeError(f"qk_l2norm: expected a bool, got {type(qk_l2norm).__name__}")
    for name, value in arrays.items():
        _check_array(name, value)
    dtype = arrays["q"].dtype
    if dtype not in (np.float32, np.float16) and dtype != runtime.BF16:
        raise TypeError(f"q: expected float32, float16 or bfloat16, got {dtype}")
    for name in _FLOAT_OPERANDS:
        if arrays[name].dtype != dtype:
            raise TypeError(f"{name}: expected {dtype} like q, got {arrays[name].dtype}")
    if arrays["route"].dtype != np.bool_:
        raise TypeError(f"route: expected bool, got {arrays['route'].dtype}")
    if "initial_state" in arrays and arrays["initial_state"].dtype != np.float32:
        raise TypeError(f"initial_state: expected float32, got {arrays['initial_state'].dtype}")
    for name, value in arrays.items():
        if 0 in value.shape:
            raise ValueError(f"{name}: every dimension must be at least 1, "
                             f"got shape {value.shape}")
    sizes, origin = {}, {}
    for name, value in arrays.items():
        for dim, size in zip(_DIMS[name], value.shape):
            if dim in sizes and sizes[dim] != size:
                label = _DIM_NAMES.get(dim, dim)
                raise ValueError(f"{name}: {label} = {size}, but {origin[dim]} has "
                                 f"{label} = {sizes[dim]}")
            sizes.setdefault(dim, size)
            origin.setdefault(dim, name)
    n_expected = -(-sizes["T"] // chunk_size)
    if sizes["N"] != n_expected:
        raise ValueError(f"route: has N = {sizes['N']} chunks, but T = {sizes['T']} and "
                         f"chunk_size = {chunk_size} need N = ceil(T / C) = {n_expected}")
    for heads in ("H", "S"):
        if sizes["R"] == 0 or sizes[heads] % sizes["R"]:
            raise ValueError(f"route: R = {sizes['R']} router heads must divide "
                             f"{_DIM_NAMES.get(heads, heads)} = {sizes[heads]}")
    return sizes


def _check_pipeline(pipeline, target):
    """A pipeline must be the target's own (with options): another would make
    code for the wrong device."""
    if pipeline is None:
        return
    if not isinstance(pipeline, str):
        raise TypeError(f"pipeline: expected a str or None, got {type(pipeline).__name__}")
    own = compiler.PIPELINES[target]
    if pipeline.split("{", 1)[0].strip() != own:
        raise ValueError(f"pipeline: target={target!r} compiles through {own} "
                         f"(with options: {own}{{...}}), got {pipeline!r}")


def _tensor(shape, element_type):
    return f"tensor<{'x'.join(map(str, shape))}x{element_type}>"


def _f32(value):
    """An exact f32 attribute: the bits of float32(value) in hexadecimal."""
    bits = struct.unpack("<I", struct.pack("<f", float(value)))[0]
    return f"0x{bits:08X} : f32"


@functools.lru_cache(maxsize=None)
def _compiled(signature, attributes, has_state, target, pipeline, load=True):
    """Compiles one hybrid_attention function; cached per shapes, types, attributes
    and pipeline."""
    inputs, outputs = signature
    names = ["q", "k", "v", "g", "beta", "qs", "ks", "vs", "route"]
    if has_state:
        names.append("initial_state")
    # Read-only arguments: bufferization must not reuse the caller's arrays.
    args = ", ".join(f"%{n}: {t} {{bufferization.writable = false}}"
                     for n, t in zip(names, inputs))
    operands = [f"%{n}" for n in names]
    state = " initial_state(%initial_state)" if has_state else ""
    source = f"""func.func @hybrid_attention({args}) -> ({", ".join(outputs)}) {{
  %o, %os, %state = nats.hybrid_attention linear({", ".join(operands[:5])})
      softmax({", ".join(operands[5:8])}) route(%route){state} {{{attributes}}}
      : ({", ".join(inputs)}) -> ({", ".join(outputs)})
  return %o, %os, %state : {", ".join(outputs)}
}}
"""
    return compiler.compile_module(source, pipeline=pipeline, target=target, load=load)


def _run_cuda(module, inputs, shapes):
    """Runs on the GPU: inputs copied over, outputs poisoned there, copied back
    (after the call's work, also on a caller's stream that it did not wait
    for: a failure there raises from the copies)."""
    from . import cuda
    device_inputs = [cuda.DeviceArray.from_host(a) for a in inputs]
    device_results = [cuda.DeviceArray.from_host(np.full(s, np.nan, dtype=d)) for s, d in shapes]
    module.call("hybrid_attention", device_inputs + device_results, check=False)
    cuda.check()
    return tuple(r.to_host() for r in device_results)


def _run_on_device(module, inputs, shapes, out):
    """Runs on the GPU on device arrays, writing into `out` or new arrays."""
    from . import cuda
    if out is None:
        out = tuple(cuda.DeviceArray(s, d) for s, d in shapes)
    elif not isinstance(out, (tuple, list)) or len(out) != 3 or \
            not all(_on_device(a) for a in out):
        raise TypeError("out: expected three nats.cuda.DeviceArray (o, os, final_state)")
    for name, array, (shape, dtype) in zip(("o", "os", "final_state"), out, shapes):
        if array.shape != tuple(shape) or array.dtype != dtype:
            raise ValueError(f"out: {name} must have shape {tuple(shape)} and dtype "
                             f"{np.dtype(dtype)}, got {array.shape} {array.dtype}")
        _check_aligned(f"out: {name}", array)
    module.call("hybrid_attention", list(inputs) + list(out), check=False)
    cuda.check()
    return tuple(out)


def hybrid_attention(q, k, v, g, beta, qs, ks, vs, route, *, initial_state=None,
                     chunk_size=64, window=0, scale=None, softmax_scale=None,
                     qk_l2norm=True, target="cpu", out=None, pipeline=None):
    """NAtS-L attention (spec §3) compiled by nats: returns (o, os, final_state).

    Takes NumPy arrays (route as bool); compiles once per shapes, dtypes and
    attributes. Bad arguments raise TypeError/ValueError naming the argument,
    before anything runs. `target="cuda"` runs on the GPU (copying the
    arrays there and back); a CUDA failure raises `nats.cuda.CudaError`.

    With `target="cuda"` the arrays may instead all be `nats.cuda.DeviceArray`
    (`nats.cuda.from_torch` views a torch tensor): nothing is copied, the
    results are DeviceArrays, written into `out` (three DeviceArrays) where
    given, and the call runs on the stream of `nats.cuda.set_stream` (and
    returns once its work is enqueued there).

    `pipeline` compiles through the target's pipeline with other options
    (`"nats-gpu{value-tile=32 stage-operands=false}"`; `nats-opt --help` lists
    them); by default the target's pipeline as registered.
    """
    named = dict(q=q, k=k, v=v, g=g, beta=beta, qs=qs, ks=ks, vs=vs, route=route,
                 initial_state=initial_state)
    # Every call (what _prepare checks once a shape): a device array's
    # address is the caller's.
    for name, value in named.items():
        if _on_device(value):
            _check_aligned(name, value)
    module, arrays, shapes = _prepare(
        named, chunk_size, window, scale, softmax_scale, qk_l2norm, target, pipeline)
    if _on_device(arrays[0]):
        return _run_on_device(module, arrays, shapes, out)
    if out is not None:
        raise TypeError("out: only for device arrays (target='cuda')")
    # Poisoned outputs: anything the compiled code fails to write shows as NaN.
    if target == "cuda":
        return _run_cuda(module, arrays, shapes)
    results = [np.full(s, np.nan, dtype=d) for s, d in shapes]
    module.call("hybrid_attention", arrays + results, check=False)
    return tuple(results)


def precompile(q, k, v, g, beta, qs, ks, vs, route, *, initial_state=None,
               chunk_size=64, window=0, scale=None, softmax_scale=None,
               qk_l2norm=True, target="cpu", pipeline=None):
    """Compiles what `hybrid_attention` would run for these arguments (only
    their shapes, dtypes and attributes matter) without running it: fills
    the cache that travels to a machine without the compiler."""
    _prepare(dict(q=q, k=k, v=v, g=g, beta=beta, qs=qs, ks=ks, vs=vs, route=route,
                  initial_state=initial_state),
             chunk_size, window, scale, softmax_scale, qk_l2norm, target, pipeline,
             load=False)


# (module, output shapes and dtypes) by everything _compile reads of a call
# that it accepted: a call like an earlier one skips the checks and the
# compiled module's lookup (tens of microseconds a call). Beneath it,
# _compiled compiles each function once, however its calls were spelled.
_PREPARED: dict = {}


def _forget_compiled():
    """Empties both in-process caches (tests that replace the compiler)."""
    _PREPARED.clear()
    _compiled.cache_clear()


def _call_key(arrays, *attributes):
    """What _compile reads of a call: each array's kind, shape, dtype (and
    C-contiguity on the host), each attribute with its type; None where
    something cannot key a dict (then _compile says what is wrong)."""
    parts = [(type(value), value) for value in attributes]
    for name, value in arrays.items():
        if value is None:
            parts.append((name, None))
        elif isinstance(value, np.ndarray):
            parts.append((name, "host", value.shape, value.dtype, value.flags.c_contiguous))
        elif _on_device(value):
            parts.append((name, "device", value.shape, value.dtype))
        else:
            return None
    key = tuple(parts)
    try:
        hash(key)
    except TypeError:
        return None
    return key


def _prepare(arrays, chunk_size, window, scale, softmax_scale, qk_l2norm, target,
             pipeline=None, load=True):
    """Validates and compiles: (module, input arrays, output shapes and dtypes).
    The arrays, with outputs of those shapes and dtypes, fit the module's
    function: its callers here skip Module.call's check of them."""
    attributes = (chunk_size, window, scale, softmax_scale, qk_l2norm, target, pipeline, load)
    key = _call_key(arrays, *attributes)
    prepared = _PREPARED.get(key) if key is not None else None
    if prepared is None:
        prepared = _compile(dict(arrays), *attributes)
        if key is not None:
            _PREPARED[key] = prepared
    module, shapes = prepared
    if arrays["initial_state"] is None:
        del arrays["initial_state"]
    if not _on_device(arrays["q"]):
        # i1 is one byte holding 0 or 1; a bool array may hold other bytes
        # (views). A device array's bools are the caller's to keep 0 or 1.
        arrays["route"] = arrays["route"].view(np.uint8) != 0
    return module, list(arrays.values()), shapes


def _compile(arrays, chunk_size, window, scale, softmax_scale, qk_l2norm, target,
             pipeline, load):
    """Validates a call and compiles its function: (module, output shapes and
    dtypes)."""
    initial_state = arrays.pop("initial_state")
    if target not in ("cpu", "cuda"):
        raise ValueError(f"target: expected 'cpu' or 'cuda', got {target!r}")
    _check_pipeline(pipeline, target)
    if initial_state is not None:
        arrays["initial_state"] = initial_state
    device = [_on_device(a) for a in arrays.values()]
    if any(device) and (not all(device) or target != "cuda"):
        raise TypeError("device arrays need target='cuda' and every array on the device")
    sizes = _validate(arrays, chunk_size, window, scale, softmax_scale, qk_l2norm)
    inputs = tuple(_tensor(a.shape, runtime.mlir_type_of(a.dtype)) for a in arrays.values())
    B, T, H, K, V = (sizes[d] for d in "BTHKV")
    Hs, Vs = sizes["S"], sizes["W"]
    dtype = arrays["q"].dtype
    shapes = [((B, T, H, V), dtype), ((B, T, Hs, Vs), dtype), ((B, H, K, V), np.float32)]
    outputs = tuple(_tensor(s, runtime.mlir_type_of(d)) for s, d in shapes)
    attributes = [f"chunk_size = {int(chunk_size)} : i64", f"window = {int(window)} : i64",
                  f"qk_l2norm = {'true' if qk_l2norm else 'false'}"]
    if scale is not None:
        attributes.append(f"scale = {_f32(scale)}")
    if softmax_scale is not None:
        attributes.append(f"softmax_scale = {_f32(softmax_scale)}")
    module = _compiled((inputs, outputs), ", ".join(attributes), initial_state is not None,
                       target, pipeline, load)
    return module, shapes
