"""nats.routed_softmax alone, lowered by nats-compact-routed-softmax (kept-chunk
compaction and an online softmax over query blocks, docs/algorithms.md §2)
and compiled for the CPU, against the softmax branch of the float64 reference
(spec §3.3).

The route is a runtime input, so one module is compiled per shape and
attribute set and runs every route and input scale: compiling dominates the
test's time. Outputs are poisoned with NaN before each call, so an unwritten
element fails.
"""

import functools

import numpy as np
import pytest

from nats import compiler, reference, runtime
from nats.runtime import BF16

F32_TOLERANCE = 1e-5
SCALE = 0.375  # exact in f32, so the reference sees the scale the IR holds
B, HS, KS, VS, R = 2, 4, 8, 12, 2  # Ks != Vs; Hs/R = 2 softmax heads per router head


def rel_err(actual, expected):
    """max |actual - expected| / max |expected|."""
    actual = np.asarray(actual, np.float64)
    return float(np.abs(actual - expected).max() / np.abs(expected).max())


def _tensor(shape, element_type):
    return f"tensor<{'x'.join(map(str, shape))}x{element_type}>"


@functools.lru_cache(maxsize=None)
def compiled(T, C, W, block_size=64, dtype=np.float32):
    """The module of one function @routed_softmax holding only the op."""
    N = -(-T // C)
    element = runtime.mlir_type_of(dtype)
    inputs = [_tensor((B, T, HS, KS), element), _tensor((B, T, HS, KS), element),
              _tensor((B, T, HS, VS), element), _tensor((B, N, R), "i1")]
    output = _tensor((B, T, HS, VS), element)
    # Read-only arguments: bufferization must not write into the caller's arrays.
    args = ", ".join(f"%{n}: {t} {{bufferization.writable = false}}"
                     for n, t in zip(("qs", "ks", "vs", "route"), inputs))
    source = f"""func.func @routed_softmax({args}) -> {output} {{
  %os = nats.routed_softmax(%qs, %ks, %vs) route(%route)
      {{chunk_size = {C} : i64, window = {W} : i64, scale = {SCALE} : f32}}
      : ({", ".join(inputs)}) -> {output}
  return %os : {output}
}}
"""
    return compiler.compile_module(source, f"nats-cpu{{block-size={block_size}}}")


def run(module, qs, ks, vs, route):
    os_ = np.full(vs.shape, np.nan, vs.dtype)
    module.call("routed_softmax", [qs, ks, vs, route, os_])
    return os_


def expected(qs, ks, vs, route, C, W):
    """os of the reference; the linear branch gets one-channel zeros."""
    T = qs.shape[1]
    zeros = np.zeros((B, T, R, 1))
    _, os_, _ = reference.hybrid_attention(
        zeros, zeros, zeros, np.zeros((B, T, R)), np.zeros((B, T, R)),
        np.asarray(qs, np.float64), np.asarray(ks, np.float64),
        np.asarray(vs, np.float64), route, chunk_size=C, window=W,
        softmax_scale=SCALE)
    return os_


def route_of(kind, N, rng):
    """Route bits B×N×R. The random and alternating patterns differ per batch
    and router head, so a mix-up of (b, r) shows."""
    if kind == "all0":
        return np.zeros((B, N, R), bool)
    if kind == "all1":
        return np.ones((B, N, R), bool)
    if kind == "last":  # only the last chunk: it is never read through the list
        route = np.zeros((B, N, R), bool)
        route[:, -1] = True
        return route
    if kind == "alternating":
        n = np.arange(N)[None, :, None]
        b = np.arange(B)[:, None, None]
        r = np.arange(R)[None, None, :]
        return (n + b + r) % 2 == 0
    density = {"p1/8": 1 / 8, "p1/2": 1 / 2}[kind]
    return rng.random((B, N, R)) < density


ROUTES = ["all0", "all1", "p1/8", "p1/2", "alternating", "last"]


def sensitivity(qs, ks, vs, route, C, W, want, rng, tries=3):
    """How far the float64 answer moves when qs and ks move by half an f32
    ulp (relative 2^-24, random signs; the worst of a few draws): about the
    error that computing the logits in f32 causes, in any f32
    implementation. Negligible for unit inputs; at x30 (logits near 1e3) it
    is 1e-5 to 1e-4, as is the error of NumPy's own f32 matmul there."""
    def nudge(x):
        return x * (1 + rng.choice([-1.0, 1.0], x.shape) * 2.0 ** -24)
    qs, ks = np.asarray(qs, np.float64), np.asarray(ks, np.float64)
    return max(rel_err(expected(nudge(qs), nudge(ks), vs, route, C, W), want)
               for _ in range(tries))


def check_all_routes(measured, module, T, C, W, seed, dtype=np.float32,
                     tolerance=F32_TOLERANCE, magnitudes=(1, 30)):
    """Every route kind, with q and k as drawn and scaled by 30 (logits in the
    thousands: the online softmax must rescale without overflow). At f32 the
    tolerance is 1e-5, or 4x the problem's own sensitivity to rounding the
    logits where that is larger (x30)."""
    rng = np.random.default_rng(seed)
    N = -(-T // C)
    for kind in ROUTES:
        route = route_of(kind, N, rng)
        for magnitude in magnitudes:
            qs, ks, vs = (rng.standard_normal((B, T, HS, d)).astype(np.float32)
                          for d in (KS, KS, VS))
            qs, ks, vs = ((x * m).astype(dtype) for x, m in
                          ((qs, magnitude), (ks, magnitude), (vs, 1)))
            got = run(module, qs, ks, vs, route)
            assert not np.isnan(np.asarray(got, np.float64)).any(), \
                f"{kind} x{magnitude}: unwritten (NaN) elements"
            # The reference sees the same (rounded) inputs.
            want = expected(qs, ks, vs, route, C, W)
            error = rel_err(got, want)
            if magnitude == 1:
                measured(f"os {kind}", error, tolerance)
            else:  # recorded against its own bound, which varies per case
                bound = max(tolerance, 4 * sensitivity(qs, ks, vs, route, C, W, want, rng))
                measured(f"os {kind} x{magnitude}: error / bound", error / bound, 1.0)


# (T, C, W): T = 1, C - 1, C, C + 1, 3C + 5 for every chunk size; C = 1 is
# token-level routing with a window (and 150 tokens: kept tokens gathered
# 64 at a time, whole groups and a partial one); C = 128 is larger than the
# 64-token block, so blocks start inside chunks.
SHAPES = ([(T, 1, W) for W in (4, 16) for T in (1, 2, 8, 150)]
          + [(T, C, W) for C in (16, 64, 128) for W in (0, 5, 100)
             for T in (1, C - 1, C, C + 1, 3 * C + 5)])


@pytest.mark.parametrize("T, C, W", SHAPES)
def test_shapes_routes(measured, T, C, W):
    check_all_routes(measured, compiled(T, C, W), T, C, W, seed=T * 1000 + C + W)


# (T, C, W, block-size): blocks of several chunks gathered two (32 / 16) or
# twelve (60 / 5) at a time; a chunk that is not a multiple of the block
# (96 / 64: blocks straddle chunk boundaries); blocks smaller than the
# window.
BLOCKINGS = [(53, 16, 5, 32), (131, 5, 7, 64), (300, 96, 0, 64), (300, 96, 70, 64),
             (77, 4, 40, 8)]


@pytest.mark.parametrize("T, C, W, block_size", BLOCKINGS)
def test_block_sizes(measured, T, C, W, block_size):
    check_all_routes(measured, compiled(T, C, W, block_size), T, C, W, seed=T + C)


# Twice the rounding of os to the element type (2^-11 for f16, 2^-8 for bf16).
@pytest.mark.parametrize("dtype, tolerance", [(np.float16, 1e-3), (BF16, 8e-3)],
                         ids=["f16", "bf16"])
def test_half_precision(measured, dtype, tolerance):
    if dtype is None:
        pytest.skip("bf16 needs ml_dtypes")
    T, C, W = 97, 16, 5
    check_all_routes(measured, compiled(T, C, W, dtype=dtype), T, C, W, seed=7,
                     dtype=dtype, tolerance=tolerance, magnitudes=(1,))
