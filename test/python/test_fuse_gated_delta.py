"""nats.gated_delta alone, lowered by nats-fuse-gated-delta (the masked WY/UT
tiles of docs/algorithms.md §1) and compiled for the CPU, against the linear
branch of the float64 reference (spec §3.2).

One module is compiled per shape and attribute set and shared by every route
and input it runs: compiling dominates the test's time, running is cheap.
Outputs are poisoned with NaN before each call, so an unwritten element fails.
"""

import functools

import numpy as np
import pytest

from nats import compiler, reference, runtime
from nats.runtime import BF16

F32_TOLERANCE = 1e-5
SCALE = 0.375  # exact in f32, so the reference sees the scale the IR holds
B, H, K, V, R = 2, 4, 8, 12, 2  # K != V; H/R = 2 linear heads per router head


def rel_err(actual, expected):
    """max |actual - expected| / max |expected|; a reference that underflows
    to zero (a state decayed by e^-3940) counts as zero."""
    actual = np.asarray(actual, np.float64)
    return float(np.abs(actual - expected).max() / max(np.abs(expected).max(), 1e-30))


def _tensor(shape, element_type):
    return f"tensor<{'x'.join(map(str, shape))}x{element_type}>"


@functools.lru_cache(maxsize=None)
def compiled(T, C, tile_size=64, has_state=True, qk_l2norm=True, dtype=np.float32,
             value_tile=0, output_tile=128, round_output_terms=False, round_state_terms=False,
             round_chunk_operands=False, round_state_operands=False):
    """The module of one function @gated_delta holding only the op."""
    N = -(-T // C)
    element = runtime.mlir_type_of(dtype)
    inputs = [_tensor((B, T, H, K), element), _tensor((B, T, H, K), element),
              _tensor((B, T, H, V), element), _tensor((B, T, H), element),
              _tensor((B, T, H), element), _tensor((B, N, R), "i1")]
    names = ["q", "k", "v", "g", "beta", "route"]
    if has_state:
        inputs.append(_tensor((B, H, K, V), "f32"))
        names.append("s0")
    outputs = [_tensor((B, T, H, V), element), _tensor((B, H, K, V), "f32")]
    # Read-only arguments: bufferization must not write into the caller's arrays.
    args = ", ".join(f"%{n}: {t} {{bufferization.writable = false}}"
                     for n, t in zip(names, inputs))
    state = " initial_state(%s0)" if has_state else ""
    source = f"""func.func @gated_delta({args}) -> ({", ".join(outputs)}) {{
  %o, %s = nats.gated_delta(%q, %k, %v, %g, %beta) route(%route){state}
      {{chunk_size = {C} : i64, scale = {SCALE} : f32,
        qk_l2norm = {str(qk_l2norm).lower()}}}
      : ({", ".join(inputs)}) -> ({", ".join(outputs)})
  return %o, %s : {", ".join(outputs)}
}}
"""
    # The op is lowered first with the value tile asked for; nats-cpu then
    # finds no gated_delta left and lowers the rest.
    return compiler.compile_module(
        source, f"builtin.module(func.func(nats-fuse-gated-delta{{tile-size={tile_size} "
                f"value-tile={value_tile} output-tile={output_tile} "
                f"round-output-terms={int(round_output_terms)} "
                f"round-state-terms={int(round_state_terms)} "
                f"round-chunk-operands={int(round_chunk_operands)} "
                f"round-state-operands={int(round_state_operands)}}}), "
                f"nats-cpu)")


def run(module, inputs, dtype=np.float32):
    T = inputs["q"].shape[1]
    o = np.full((B, T, H, V), np.nan, dtype)
    state = np.full((B, H, K, V), np.nan, np.float32)
    arrays = [inputs[n] for n in ("q", "k", "v", "g", "beta", "route")]
    if inputs["initial_state"] is not None:
        arrays.append(inputs["initial_state"])
    module.call("gated_delta", arrays + [o, state])
    return o, state


def expected(inputs, C, qk_l2norm=True):
    """(o, final_state) of the reference's linear branch. The softmax branch
    is given one-channel placeholders and its output dropped."""
    T = inputs["q"].shape[1]
    f64 = {n: (None if a is None else np.asarray(a, np.float64) if a.dtype != np.bool_ else a)
           for n, a in inputs.items()}
    placeholder = np.zeros((B, T, R, 1))
    o, _, state = reference.hybrid_attention(
        **f64, qs=placeholder, ks=placeholder, vs=placeholder, chunk_size=C,
        scale=SCALE, qk_l2norm=qk_l2norm)
    return o, state


def make(T, C, seed, has_state=True):
    """Random operands of the op (spec §3.2 ranges): q, k, v ~ N(0, 1),
    g = log_sigmoid(N(0, 1) + 3), beta = sigmoid(N(0, 1))."""
    inputs = reference.make_inputs(B, T, H, K, V, R, 1, 1, R, C, seed=seed,
                                   initial_state=has_state)
    for name in ("qs", "ks", "vs"):
        inputs.pop(name)
    return inputs


def make_rounded(T, C, seed, dtype):
    """make()'s operands in `dtype`: the reference sees the same rounded
    inputs, so only what the lowering rounds counts."""
    inputs = make(T, C, seed=seed)
    for name in ("q", "k", "v", "g", "beta"):
        inputs[name] = inputs[name].astype(dtype)
    return inputs


def route_of(kind, T, C, rng):
    N = -(-T // C)
    if kind == "all0":
        return np.zeros((B, N, R), bool)
    if kind == "all1":
        return np.ones((B, N, R), bool)
    if kind == "last":  # only the last chunk kept: every earlier write is committed
        route = np.zeros((B, N, R), bool)
        route[:, -1] = True
        return route
    assert kind == "p1/2"
    return rng.random((B, N, R)) < 0.5  # differs per batch and router head


def check(measured, module, inputs, C, qk_l2norm=True, o_tolerance=F32_TOLERANCE,
          dtype=np.float32, state_tolerance=F32_TOLERANCE):
    """The state is f32 whatever the element type: only o is rounded (and
    the state where its terms are)."""
    got = run(module, inputs, dtype)
    want = expected(inputs, C, qk_l2norm)
    for name, a, b, tolerance in zip(("o", "final_state"), got, want,
                                     (o_tolerance, state_tolerance)):
        assert not np.isnan(np.asarray(a, np.float64)).any(), f"{name}: unwritten (NaN) elements"
        measured(name, rel_err(a, b), tolerance)


# (T, C, tile-size): T around the chunk size and several chunks plus a
# partial one, for C = 1 (token-level routing), 16 (four chunks per 64-token
# tile) and 64 (one chunk per tile); then several tiles per sequence: tiles of
# one and two chunks, a chunk larger than tile-size, token routing over tiles;
# last tiles whose rows are not a multiple of the inverse's 16-row blocks
# (40 = 16 + 16 + 8, 100, 24 = 16 + 8).
SHAPES = [(1, 1, 64), (2, 1, 64), (8, 1, 64),
          (1, 16, 64), (15, 16, 64), (16, 16, 64), (17, 16, 64), (53, 16, 64),
          (1, 64, 64), (63, 64, 64), (64, 64, 64), (65, 64, 64), (197, 64, 64),
          (53, 16, 16), (53, 16, 32), (197, 64, 32), (70, 1, 64),
          (97, 40, 64), (250, 100, 64), (61, 24, 32)]
ROUTES = ["all0", "all1", "p1/2", "last"]
EXTREMES = ["g=-20", "g=0", "beta=0", "beta=1"]


@pytest.mark.parametrize("has_state", [True, False], ids=["state", "no-state"])
@pytest.mark.parametrize("T, C, tile_size", SHAPES)
def test_shapes_routes_extremes(measured, T, C, tile_size, has_state):
    module = compiled(T, C, tile_size, has_state)
    rng = np.random.default_rng(T * 1000 + C)
    for i, kind in enumerate(ROUTES + EXTREMES):
        inputs = make(T, C, seed=T + C + i, has_state=has_state)
        if kind in ROUTES:
            inputs["route"] = route_of(kind, T, C, rng)
        else:
            inputs["route"] = route_of("p1/2", T, C, rng)
            name, value = kind.split("=")
            inputs[name][:] = float(value)
        check(measured, module, inputs, C)


@pytest.mark.parametrize("has_state", [True, False], ids=["state", "no-state"])
@pytest.mark.parametrize("T, C, tile_size", [(17, 16, 64), (197, 64, 64), (53, 16, 16)])
def test_without_l2norm(measured, T, C, tile_size, has_state):
    module = compiled(T, C, tile_size, has_state, qk_l2norm=False)
    rng = np.random.default_rng(T)
    for i, kind in enumerate(ROUTES):
        inputs = make(T, C, seed=100 + i, has_state=has_state)
        # Keep the unnormalised delta rule stable: |k|² ≈ 1/2, so the
        # write (I - beta k kᵀ) contracts.
        inputs["k"] /= np.sqrt(2 * K, dtype=np.float32)
        inputs["route"] = route_of(kind, T, C, rng)
        check(measured, module, inputs, C, qk_l2norm=False)


@pytest.mark.parametrize("option, columns", [
    ("value_tile", 3), ("value_tile", 4), ("value_tile", 6), ("value_tile", 5),
    ("output_tile", 3), ("output_tile", 4), ("output_tile", 5)])
def test_column_groups(measured, option, columns):
    """The state pass's (value_tile) or the outputs' (output_tile) columns
    in groups of 3, 4 or 6 (V = 12) are separate iterations; 5 does not
    divide V and leaves them whole."""
    T, C = 70, 16
    module = compiled(T, C, 32, **{option: columns})
    rng = np.random.default_rng(columns)
    for i, kind in enumerate(ROUTES):
        inputs = make(T, C, seed=300 + i)
        inputs["route"] = route_of(kind, T, C, rng)
        check(measured, module, inputs, C)


# Twice the rounding of o to the element type (2^-11 for f16, 2^-8 for bf16).
@pytest.mark.parametrize("dtype, tolerance", [(np.float16, 1e-3), (BF16, 8e-3)],
                         ids=["f16", "bf16"])
def test_half_precision(measured, dtype, tolerance):
    if dtype is None:
        pytest.skip("bf16 needs ml_dtypes")
    T, C = 97, 16
    module = compiled(T, C, 32, dtype=dtype)
    inputs = make_rounded(T, C, 5, dtype)
    check(measured, module, inputs, C, o_tolerance=tolerance, dtype=dtype)


# The terms of O (Q_γ, P, U, the start states) rounded to the element type
# as well: the hybrid matrix's 16-bit tolerances (test_hybrid_attention.py);
# with round-state-terms also −W and K_c (as the GPU pipeline stores them),
# and the state then loses what o does; with round-chunk-operands also q̂, k̂,
# T = (I + A)⁻¹ and the right-hand sides of −W and U₀; with
# round-state-operands also S and U where the state pass multiplies them.
@pytest.mark.parametrize("rounded", [1, 2, 3, 4],
                         ids=["output-terms", "state-terms", "chunk-operands",
                              "state-operands"])
@pytest.mark.parametrize("dtype, tolerance", [(np.float16, 2e-3), (BF16, 1.6e-2)],
                         ids=["f16", "bf16"])
def test_round_terms(measured, dtype, tolerance, rounded):
    if dtype is None:
        pytest.skip("bf16 needs ml_dtypes")
    T, C = 197, 64
    state_terms = rounded >= 2
    module = compiled(T, C, 64, dtype=dtype, round_output_terms=True,
                      round_state_terms=state_terms, round_chunk_operands=rounded >= 3,
                      round_state_operands=rounded >= 4)
    rng = np.random.default_rng(10 + rounded)
    for i, kind in enumerate(ROUTES):
        inputs = make_rounded(T, C, 300 + 100 * rounded + i, dtype)
        inputs["route"] = route_of(kind, T, C, rng)
        check(measured, module, inputs, C, o_tolerance=tolerance, dtype=dtype,
              state_tolerance=tolerance if state_terms else F32_TOLERANCE)
