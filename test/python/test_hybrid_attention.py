"""nats.hybrid_attention compiled for the CPU against the float64 reference
(spec §3): shapes, routes, extremes, element types. Every case draws fresh
inputs; outputs are poisoned with NaN before the call (nats.api does that),
so anything unwritten fails."""

import numpy as np
import pytest

import nats
from nats import reference
from nats.runtime import BF16

from conftest import OPTIONS

F32_TOLERANCE = 1e-5


def rel_err(actual, expected):
    """max |actual - expected| / max |expected|, where a reference below what
    f32 can hold (a state decayed by e^-320, say) counts as zero."""
    actual = np.asarray(actual, np.float64)
    return float(np.abs(actual - expected).max() / max(np.abs(expected).max(), 1e-30))


def routes(kind, B, N, R, rng):
    if kind == "all0":
        return np.zeros((B, N, R), bool)
    if kind == "all1":
        return np.ones((B, N, R), bool)
    if kind == "alternating":
        return np.broadcast_to((np.arange(N) % 2 == 1)[None, :, None], (B, N, R)).copy()
    if kind == "last":
        r = np.zeros((B, N, R), bool)
        r[:, -1] = True
        return r
    density = {"p1/8": 0.125, "p1/2": 0.5}[kind]
    return rng.random((B, N, R)) < density   # differs per batch and router head


def check(measured, inputs, tolerance=F32_TOLERANCE, **attrs):
    """Runs on --target (or only compiles, with --compile-only) and compares
    all three outputs with the float64 reference."""
    if OPTIONS.compile_only:
        nats.api.precompile(**inputs, **attrs, target=OPTIONS.target,
                            pipeline=OPTIONS.pipeline)
        return
    got = nats.hybrid_attention(**inputs, **attrs, target=OPTIONS.target,
                                pipeline=OPTIONS.pipeline)
    ref_inputs = {k: (v.astype(np.float64) if v is not None and v.dtype != np.bool_ else v)
                  for k, v in inputs.items()}
    want = reference.hybrid_attention(**ref_inputs, **attrs)
    for name, a, b in zip(("o", "os", "final_state"), got, want):
        assert not np.isnan(np.asarray(a, np.float64)).any(), f"{name}: unwritten (NaN) elements"
        measured(name, rel_err(a, b), tolerance)


def make(B, T, H, K, V, Hs, Ks, Vs, R, C, seed, initial_state=False):
    inputs = reference.make_inputs(B, T, H, K, V, Hs, Ks, Vs, R, C, seed=seed + OPTIONS.seed,
                                   initial_state=initial_state)
    if not initial_state:
        inputs.pop("initial_state")
    return inputs


# (T, C, W): T around the chunk size, several chunks plus a partial one,
# token-level routing with a window; tiles of 40 tokens (not a multiple of
# the chunk terms' 16-row blocks).
SHAPES = [(1, 16, 0), (15, 16, 0), (16, 16, 0), (17, 16, 0), (53, 16, 0),
          (1, 64, 0), (63, 64, 0), (64, 64, 0), (65, 64, 0), (197, 64, 0),
          (1, 1, 4), (23, 1, 4), (50, 1, 16), (90, 16, 20), (100, 40, 0)]
ROUTES = ["all0", "all1", "p1/8", "p1/2", "alternating", "last"]


@pytest.mark.parametrize("T, C, W", SHAPES)
def test_shapes_and_routes(measured, T, C, W):
    # H != Hs, K != V, B > 1 with different routes per batch.
    B, H, K, V, Hs, Ks, Vs, R = 2, 4, 8, 12, 2, 6, 10, 2
    rng = np.random.default_rng(T * 100 + C + OPTIONS.seed)
    N = -(-T // C)
    for i, kind in enumerate(ROUTES):
        inputs = make(B, T, H, K, V, Hs, Ks, Vs, R, C, seed=T + C + i)
        inputs["route"] = routes(kind, B, N, R, rng)
        check(measured, inputs, chunk_size=C, window=W)


@pytest.mark.parametrize("qk_l2norm", [True, False])
@pytest.mark.parametrize("initial_state", [True, False])
def test_initial_state_and_l2norm(measured, qk_l2norm, initial_state):
    inputs = make(2, 70, 2, 16, 8, 4, 4, 4, 2, 16, seed=7, initial_state=initial_state)
    if not qk_l2norm:  # keep the unnormalised delta rule stable: |k|² ≈ 1/2
        inputs["k"] /= np.sqrt(2 * 16, dtype=np.float32)
    check(measured, inputs, chunk_size=16, qk_l2norm=qk_l2norm, scale=0.3, softmax_scale=0.7)


@pytest.mark.parametrize("case", ["g=-20", "g=0", "beta=0", "beta=1", "large q/k"])
def test_extremes(measured, case):
    inputs = make(1, 100, 2, 8, 8, 2, 8, 8, 1, 16, seed=11, initial_state=True)
    inputs["route"] = np.random.default_rng(3 + OPTIONS.seed).random(inputs["route"].shape) < 0.5
    if case == "g=-20":
        inputs["g"][:] = -20
    elif case == "g=0":
        inputs["g"][:] = 0
    elif case == "beta=0":
        inputs["beta"][:] = 0
    elif case == "beta=1":
        inputs["beta"][:] = 1
    else:
        # The linear branch normalises q and k; the softmax logits grow
        # with |qs|·|ks|, so x4 there keeps f32 softmax well conditioned.
        inputs["q"] *= 1000
        inputs["k"] *= 1000
        inputs["qs"] *= 4
        inputs["ks"] *= 4
    check(measured, inputs, chunk_size=16, window=3)


@pytest.mark.parametrize("dtype, tolerance", [(np.float16, 2e-3), (BF16, 1.6e-2)])
def test_half_precision(measured, dtype, tolerance):
    if dtype is None:
        pytest.skip("bf16 needs ml_dtypes")
    inputs = make(2, 97, 4, 16, 16, 4, 8, 8, 2, 16, seed=5, initial_state=True)
    for name in ("q", "k", "v", "g", "beta", "qs", "ks", "vs"):
        inputs[name] = inputs[name].astype(dtype)
    # The reference sees the same (rounded) inputs; the tolerance covers the
    # half-precision rounding of the outputs and the f32 accumulation.
    check(measured, inputs, tolerance=tolerance, chunk_size=16)


@pytest.mark.parametrize("heads", [8, 16, 32])
def test_half_precision_state_columns(measured, heads):
    """Head dim 128 in bf16 with B·H = 8, 16 and 32: on the GPU each block
    of the state pass keeps 8, 16 or 32 of the state's columns (the widths
    M2 runs), and its 512 threads start 1024 or more elements of it, two
    or more each. LLVM once deleted that start's store at 8 columns
    (nats-gpu-extern-dynamic-shared-memory), leaving the first chunk's
    outputs to whatever the SM's shared memory held: two calls, each
    against float64."""
    if BF16 is None:
        pytest.skip("bf16 needs ml_dtypes")
    inputs = make(1, 256, heads, 128, 128, 1, 16, 16, 1, 64, seed=13)
    for name in ("q", "k", "v", "g", "beta", "qs", "ks", "vs"):
        inputs[name] = inputs[name].astype(BF16)
    for _ in range(2):
        check(measured, inputs, tolerance=1.6e-2, chunk_size=64)


@pytest.mark.parametrize("dtype, tolerance", [(np.float16, 2e-3), (BF16, 1.6e-2)])
@pytest.mark.parametrize("window", [0, 5])
def test_half_precision_tensor_core_tiles(measured, dtype, tolerance, window):
    """Sizes whose routed softmax and gated-delta outputs the GPU runs on
    16-bit tensor-core tiles (head dims multiples of 16, chunks of 64, K × V
    and 64 × V tiles that 128 threads copy in whole 16-byte chunks;
    nats-gpu-warp-rows): kept chunks at random, the last query block
    partial, Ks != Vs."""
    if dtype is None:
        pytest.skip("bf16 needs ml_dtypes")
    inputs = make(1, 300, 2, 32, 32, 4, 64, 32, 2, 64, seed=7)
    inputs["route"] = routes("p1/2", 1, 5, 2, np.random.default_rng(OPTIONS.seed + 7))
    for name in ("q", "k", "v", "g", "beta", "qs", "ks", "vs"):
        inputs[name] = inputs[name].astype(dtype)
    check(measured, inputs, tolerance=tolerance, chunk_size=64, window=window)


def test_compiled_once_per_shape():
    inputs = make(1, 20, 2, 4, 4, 2, 4, 4, 1, 8, seed=0)
    if OPTIONS.compile_only:
        return nats.api.precompile(**inputs, chunk_size=8, target=OPTIONS.target)
    nats.hybrid_attention(**inputs, chunk_size=8, target=OPTIONS.target)
    before = nats.api._compiled.cache_info().misses
    inputs["route"] = ~inputs["route"]
    nats.hybrid_attention(**inputs, chunk_size=8, target=OPTIONS.target)
    assert nats.api._compiled.cache_info().misses == before


def test_on_a_caller_stream(measured):
    """On a caller's stream (torch's, non-blocking) a call returns once its
    work is enqueued there; the copies of its results back to the host wait
    for it (else they could read the poisoned outputs)."""
    if OPTIONS.target != "cuda":
        pytest.skip("the caller's stream is the GPU's")
    inputs = make(1, 1024, 4, 32, 32, 2, 16, 16, 2, 64, seed=11)
    if OPTIONS.compile_only:
        return check(measured, inputs, chunk_size=64)
    torch = pytest.importorskip("torch")
    nats.cuda.set_stream(torch.cuda.Stream().cuda_stream)
    try:
        check(measured, inputs, chunk_size=64)
    finally:
        nats.cuda.set_stream(None)
