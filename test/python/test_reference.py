"""Tests of nats.reference (spec/nats-l.md §3-4) against independent formulations.

Every numerical test compares the token-by-token reference with a formulation written here
differently: the chunked WY/UT form of the gated delta rule (design/algorithms.md §1), dense T×T
masked attention, prefix-sum routers, np.convolve for the short convolution. Exact
re-formulations must agree to a relative max error of 1e-10 in float64.
"""

import dataclasses
import math

import numpy as np
import pytest

from nats import reference as ref

TOL = 1e-10


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def rel_err(got, want):
    """max |got - want| / max |want| (absolute when want is all zero)."""
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    assert got.shape == want.shape, (got.shape, want.shape)
    denom = np.max(np.abs(want), initial=0.0)
    err = np.max(np.abs(got - want), initial=0.0)
    return err / denom if denom > 0 else err


def assert_close(got, want, what, tol=TOL):
    err = rel_err(got, want)
    assert err <= tol, f"{what}: relative max error {err:.3e} > {tol:.0e}"


def sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def l2norm(x):
    return x / np.sqrt(np.einsum("...k,...k->...", x, x)[..., None] + 1e-6)


def rmsnorm(z, w):
    return z * (np.mean(z**2, axis=-1, keepdims=True) + 1e-6) ** -0.5 * w


def op_inputs(seed, *, B=2, T=65, H=4, K=8, V=6, Hs=4, Ks=4, Vs=5, R=2, C=16, density=0.5,
              init=False, qk_l2norm=True):
    """Op operands in float64 with hard cases mixed in: g exactly 0, near 0 (-1e-7) and -20
    (near-total forgetting); beta exactly 0 (no write) and exactly 1 (full overwrite)."""
    x = ref.make_inputs(B, T, H, K, V, Hs, Ks, Vs, R, C, seed, density=density,
                        dtype=np.float64, initial_state=init)
    rng = np.random.default_rng(seed + 10_000)
    pick = rng.random(x["g"].shape)
    x["g"] = np.select([pick < 0.05, pick < 0.1, pick > 0.93], [0.0, -1e-7, -20.0], x["g"])
    pick = rng.random(x["beta"].shape)
    x["beta"] = np.select([pick < 0.1, pick > 0.9], [0.0, 1.0], x["beta"])
    if not qk_l2norm:
        # Raw keys enter the delta rule unnormalised. With |k|² around 1/2 the transition
        # exp(g)(I - β k kᵀ) stays contractive, so the comparison stays well conditioned.
        x["k"] = x["k"] / math.sqrt(2 * K)
    return x


def linear_args(x):
    return x["q"], x["k"], x["v"], x["g"], x["beta"], x["route"], x["initial_state"]


def token_route(route, T, C, heads):
    """route B×N×R → B×T×heads, per token and head (head h has router head h // (heads/R))."""
    return np.repeat(np.repeat(route, C, axis=1)[:, :T], heads // route.shape[2], axis=2)


# --------------------------------------------------------------------------------------------
# Independent formulations
# --------------------------------------------------------------------------------------------


def solve_unit_lower(strict_lower, rhs):
    """X with (I + strict_lower) X = rhs, by forward substitution over the last two axes."""
    x = rhs.copy()
    for i in range(1, rhs.shape[-2]):
        x[..., i, :] -= np.einsum("...j,...jv->...v", strict_lower[..., i, :i], x[..., :i, :])
    return x


def gdn_chunked_wy(q, k, v, g, beta, route, initial_state, *, C, L, scale=None, qk_l2norm=True):
    """The masked WY/UT form of algorithms.md §1 over tiles of L tokens (partial last tile).

    Returns (o B×T×H×V, final_state B×H×K×V). Kept rows are masked out of what later tokens of
    the tile see and dropped from the state update; this needs tiles aligned to chunks
    (L a multiple of C) unless no chunk is kept.
    """
    B, T, H, K = q.shape
    assert L % C == 0 or not route.any()
    if qk_l2norm:
        q, k = l2norm(q), l2norm(k)
    q = q * (K**-0.5 if scale is None else scale)
    # head-major layout: B×H×T×…
    Q, Kt, Vt = (a.transpose(0, 2, 1, 3) for a in (q, k, v))
    G, Beta = g.transpose(0, 2, 1), beta.transpose(0, 2, 1)
    kept = token_route(route, T, C, H).transpose(0, 2, 1)  # B×H×T, 1 = softmax memory
    chunk = np.arange(T) // C

    S = np.zeros((B, H, K, v.shape[3])) if initial_state is None else initial_state.copy()
    O = np.zeros(Vt.shape)
    for s in range(0, T, L):
        e = min(s + L, T)
        Qb, Kb, Vb = Q[:, :, s:e], Kt[:, :, s:e], Vt[:, :, s:e]
        bb, m = Beta[:, :, s:e], kept[:, :, s:e]
        gam = np.cumsum(G[:, :, s:e], axis=-1)
        causal = np.tril(np.ones((e - s, e - s), dtype=bool))
        Gam = np.exp(np.where(causal, gam[..., :, None] - gam[..., None, :], -np.inf))
        vis = (chunk[s:e, None] == chunk[None, s:e]) | ~m[..., None, :]
        M = Gam * vis
        strict = np.tril(bb[..., :, None] * (Kb @ Kb.swapaxes(-1, -2)) * M, -1)
        U = solve_unit_lower(strict, bb[..., None] * (Vb - (Kb * np.exp(gam)[..., None]) @ S))
        O[:, :, s:e] = (Qb * np.exp(gam)[..., None]) @ S + ((Qb @ Kb.swapaxes(-1, -2)) * M) @ U
        to_end = np.exp(gam[..., -1:] - gam) * ~m  # kept rows do not enter the state
        S = (np.exp(gam[..., -1])[..., None, None] * S
             + (Kb * to_end[..., None]).swapaxes(-1, -2) @ U)
    return O.transpose(0, 2, 1, 3), S


def visibility_mask(route, T, C, W, Hs):
    """Spec §3.3 as a dense boolean B×Hs×T×T mask, all three rules by broadcasting."""
    i, j = np.arange(T)[:, None], np.arange(T)[None, :]
    kept_j = token_route(route, T, C, Hs).transpose(0, 2, 1)[:, :, None, :]  # B×Hs×1×T
    return (j <= i) & ((i // C == j // C) | ((j // C < i // C) & kept_j) | (i - j < W))


def dense_attention(qs, ks, vs, visible, scale):
    """Masked softmax attention with a dense B×Hs×T×T (or broadcastable) mask."""
    logits = scale * np.einsum("bisd,bjsd->bsij", qs, ks)
    logits = np.where(visible, logits, -np.inf)
    p = np.exp(logits - logits.max(axis=-1, keepdims=True))
    p = p / p.sum(axis=-1, keepdims=True)
    return np.einsum("bsij,bjsd->bisd", p, vs)


def router_prefix_sums(x, wr, C, R):
    """Route logits by linearity: chunk means of x·wr from prefix sums over time, and the route
    by a direct comparison (ties to softmax)."""
    B, T, _ = x.shape
    prefix = np.concatenate([np.zeros((B, 1, wr.shape[1])), np.cumsum(x @ wr, axis=1)], axis=1)
    starts = np.arange(0, T, C)
    ends = np.minimum(starts + C, T)
    logits = ((prefix[:, ends] - prefix[:, starts]) / (ends - starts)[None, :, None])
    logits = logits.reshape(B, len(starts), R, 2)
    return logits, logits[..., 0] >= logits[..., 1]


def layer_independent(x, weights, cfg, L):
    """Spec §4 assembled from independent pieces: ShortConv4 by np.convolve per channel, the
    chunked WY/UT GDN with tiles of L, dense-mask softmax attention, prefix-sum router."""
    w = {name: np.asarray(a, np.float64) for name, a in weights.items()}
    x = np.asarray(x, np.float64)
    B, T, _ = x.shape
    H, K, V, Hs, Ks, Vs, R, C = cfg.H, cfg.K, cfg.V, cfg.Hs, cfg.Ks, cfg.Vs, cfg.R, cfg.chunk_size

    def conv_silu(z, taps):
        # y[t] = Σ_d z[t-d] taps[3-d]: a causal full convolution with the taps reversed.
        y = np.empty_like(z)
        for b in range(B):
            for c in range(z.shape[2]):
                y[b, :, c] = np.convolve(z[b, :, c], taps[::-1, c])[:T]
        return y * sigmoid(y)

    q = conv_silu(x @ w["wq"], w["conv_q"])
    k = conv_silu(x @ w["wk"], w["conv_k"])
    v = conv_silu(x @ w["wv"], w["conv_v"])
    beta = sigmoid(x @ w["wb"])
    g = -np.exp(w["a_log"]) * np.logaddexp(0.0, x @ w["wa"] + w["dt_bias"])
    qs = rmsnorm(q.reshape(B, T, Hs, Ks), w["qs_norm"])
    ks = rmsnorm(k.reshape(B, T, Hs, Ks), w["ks_norm"])
    vs = v.reshape(B, T, Hs, Vs)
    _, route = router_prefix_sums(x, w["wr"], C, R)

    o, final_state = gdn_chunked_wy(q.reshape(B, T, H, K), k.reshape(B, T, H, K),
                                    v.reshape(B, T, H, V), g, beta, route, None, C=C, L=L)
    os_ = dense_attention(qs, ks, vs, visibility_mask(route, T, C, 0, Hs), Ks**-0.5)

    mix_logits = (q @ w["wm"]).reshape(B, T, Hs, 2)
    w0 = sigmoid(mix_logits[..., 0:1] - mix_logits[..., 1:2])  # softmax over two = sigmoid
    gate = (x @ w["wg"]) * sigmoid(x @ w["wg"])
    y = gate.reshape(B, T, Hs, Vs) * (w0 * rmsnorm(o.reshape(B, T, Hs, Vs), w["o_norm"])
                                      + (1.0 - w0) * rmsnorm(os_, w["os_norm"]))
    out = y.reshape(B, T, H * V) @ w["wo"]
    return {"q": q, "k": k, "v": v, "g": g, "beta": beta, "qs": qs, "ks": ks, "route": route,
            "o": o, "os": os_, "final_state": final_state, "y": y, "out": out}


# --------------------------------------------------------------------------------------------
# (a) Linear branch vs the chunked WY/UT form
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "T, L, C, init, qk_l2norm, scale",
    [
        (1, 64, 64, False, True, None),
        (7, 4, 3, True, True, None),  # C does not divide L: irrelevant when no chunk is kept
        (64, 64, 64, True, True, None),
        (65, 64, 64, False, True, 0.5),
        (150, 64, 5, True, True, None),
        (150, 16, 16, True, False, None),
        (65, 64, 1, False, False, 0.7),
    ],
)
def test_linear_all_routes_zero_matches_chunked_gdn(T, L, C, init, qk_l2norm, scale):
    x = op_inputs(T, T=T, C=C, density=0.0, init=init, qk_l2norm=qk_l2norm)
    o, _, final_state = ref.hybrid_attention(**x, chunk_size=C, scale=scale, qk_l2norm=qk_l2norm)
    o_wy, s_wy = gdn_chunked_wy(*linear_args(x), C=C, L=L, scale=scale, qk_l2norm=qk_l2norm)
    assert_close(o, o_wy, "o")
    assert_close(final_state, s_wy, "final_state")


@pytest.mark.parametrize(
    "T, C, L, R, init, qk_l2norm",
    [
        (150, 64, 64, 2, True, True),  # C = L (the paper)
        (65, 16, 16, 4, False, True),
        (150, 16, 64, 2, True, True),  # C divides L: kept chunks masked inside a tile
        (150, 16, 64, 1, False, False),
        (65, 8, 64, 2, True, True),
        (65, 1, 16, 2, True, True),  # token-level routing
        (150, 1, 64, 4, False, True),
        (7, 1, 16, 2, True, False),
        (7, 64, 64, 2, True, True),  # one partial chunk covering the sequence
    ],
)
def test_linear_routed_matches_masked_chunked_gdn(T, C, L, R, init, qk_l2norm):
    x = op_inputs(100 + T + C, T=T, C=C, R=R, init=init, qk_l2norm=qk_l2norm)
    o, _, final_state = ref.hybrid_attention(**x, chunk_size=C, qk_l2norm=qk_l2norm)
    o_wy, s_wy = gdn_chunked_wy(*linear_args(x), C=C, L=L, qk_l2norm=qk_l2norm)
    assert_close(o, o_wy, "o")
    assert_close(final_state, s_wy, "final_state")


# --------------------------------------------------------------------------------------------
# (b) All routes 1, one chunk: plain causal attention; the state only decays
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "T, C, window, softmax_scale",
    [(1, 1, 0, None), (7, 7, 0, None), (7, 64, 3, 0.3), (64, 64, 0, None), (65, 100, 10, 1.7)],
)
def test_softmax_all_kept_single_chunk_is_causal_attention(T, C, window, softmax_scale):
    x = op_inputs(200 + T, T=T, C=C, density=1.0, init=True)
    _, os_, final_state = ref.hybrid_attention(**x, chunk_size=C, window=window,
                                               softmax_scale=softmax_scale)
    Ks = x["qs"].shape[3]
    causal = np.tril(np.ones((T, T), dtype=bool))
    want = dense_attention(x["qs"], x["ks"], x["vs"], causal,
                           Ks**-0.5 if softmax_scale is None else softmax_scale)
    assert_close(os_, want, "os")
    # the only chunk is kept: nothing is folded in, the initial state decays by Σ g
    decay = np.exp(x["g"].sum(axis=1))[:, :, None, None]
    assert_close(final_state, decay * x["initial_state"], "final_state")


# --------------------------------------------------------------------------------------------
# (c) Softmax branch vs a dense brute-force visibility mask
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "T, C, W, density, R",
    [
        (1, 1, 0, 0.5, 2),
        (7, 1, 1, 0.5, 2),  # W = 1: itself plus kept tokens
        (65, 1, 4, 0.5, 2),
        (150, 1, 16, 0.3, 4),
        (150, 16, 0, 0.5, 2),
        (150, 16, 5, 0.5, 2),
        (65, 8, 20, 0.5, 1),
        (65, 8, 3, 0.5, 4),
        (65, 8, 0, 0.0, 2),  # nothing kept: own chunk only
        (65, 8, 0, 1.0, 2),  # everything kept: causal
    ],
)
def test_softmax_routed_matches_dense_mask(T, C, W, density, R):
    x = op_inputs(300 + T + C + W, T=T, C=C, R=R, density=density)
    _, os_, _ = ref.hybrid_attention(**x, chunk_size=C, window=W)
    Hs, Ks = x["qs"].shape[2:]
    want = dense_attention(x["qs"], x["ks"], x["vs"], visibility_mask(x["route"], T, C, W, Hs),
                           Ks**-0.5)
    assert_close(os_, want, "os")


# --------------------------------------------------------------------------------------------
# (d) Layer
# --------------------------------------------------------------------------------------------

SMALL = ref.LayerConfig(D=32, H=2, K=8, V=16, Hs=4, Ks=4, Vs=8, R=2, chunk_size=8)


@pytest.mark.parametrize("T, C", [(37, 8), (40, 8), (5, 8), (37, 1)])
def test_router_matches_prefix_sums(T, C):
    cfg = dataclasses.replace(SMALL, chunk_size=C)
    w = ref.init_layer_weights(cfg, seed=T)
    x = np.random.default_rng(T + C).standard_normal((2, T, cfg.D))
    got = ref.layer_intermediates(x, w, cfg)
    logits, route = router_prefix_sums(x, w["wr"].astype(np.float64), C, cfg.R)
    assert_close(got["route_logits"], logits, "route_logits")
    np.testing.assert_array_equal(got["route"], route)


def test_router_ties_go_to_softmax():
    w = ref.init_layer_weights(SMALL, seed=1)
    w["wr"] = np.zeros_like(w["wr"])  # both logits exactly 0 everywhere
    x = np.random.default_rng(1).standard_normal((2, 37, SMALL.D))
    assert ref.layer_intermediates(x, w, SMALL)["route"].all()


@pytest.mark.parametrize("T, C, L", [(37, 8, 16), (16, 8, 8), (5, 8, 8), (37, 1, 16)])
def test_layer_matches_independent_assembly(T, C, L):
    cfg = dataclasses.replace(SMALL, chunk_size=C)
    w = ref.init_layer_weights(cfg, seed=7 + T)
    x = np.random.default_rng(11 + T).standard_normal((2, T, cfg.D))
    got = ref.layer_intermediates(x, w, cfg)
    want = layer_independent(x, w, cfg, L)
    np.testing.assert_array_equal(got["route"], want["route"])
    assert 0 < want["route"].mean() < 1 or want["route"].size < 4  # both branches exercised
    B = x.shape[0]
    for name in ("q", "k", "v"):
        assert_close(got[name].reshape(B, T, -1), want[name], name)
    for name in ("g", "beta", "qs", "ks", "o", "os", "final_state", "y", "out"):
        assert_close(got[name], want[name], name)
    assert_close(ref.layer(x, w, cfg), want["out"], "layer()")


def test_init_layer_weights_conventions():
    w = ref.init_layer_weights(SMALL, seed=3)
    D, H, K, V, Hs, Ks, Vs, R = 32, 2, 8, 16, 4, 4, 8, 2
    shapes = {
        "wq": (D, H * K), "wk": (D, H * K), "wv": (D, H * V), "conv_q": (4, H * K),
        "conv_k": (4, H * K), "conv_v": (4, H * V), "wb": (D, H), "wa": (D, H), "a_log": (H,),
        "dt_bias": (H,), "qs_norm": (Ks,), "ks_norm": (Ks,), "wr": (D, 2 * R),
        "wm": (H * K, 2 * Hs), "wg": (D, H * V), "o_norm": (Vs,), "os_norm": (Vs,),
        "wo": (H * V, D),
    }
    assert {name: a.shape for name, a in w.items()} == shapes
    assert all(a.dtype == np.float32 for a in w.values())
    # deterministic in the seed
    again = ref.init_layer_weights(SMALL, seed=3)
    assert all(np.array_equal(w[n], again[n]) for n in w)
    assert not np.array_equal(w["wq"], ref.init_layer_weights(SMALL, seed=4)["wq"])
    # GDN decay init: A = exp(a_log) in [1, 16], dt = softplus(dt_bias) in [1e-3, 1e-1]
    assert np.all((np.exp(w["a_log"]) >= 1 - 1e-5) & (np.exp(w["a_log"]) <= 16 + 1e-4))
    dt = np.logaddexp(0.0, w["dt_bias"].astype(np.float64))
    assert np.all((dt >= 1e-3 * (1 - 1e-5)) & (dt <= 1e-1 * (1 + 1e-5)))


def test_init_router_sends_about_half_to_softmax():
    cfg = dataclasses.replace(SMALL, chunk_size=4)
    w = ref.init_layer_weights(cfg, seed=5)
    x = np.random.default_rng(5).standard_normal((16, 256, cfg.D))
    _, route = router_prefix_sums(x, w["wr"].astype(np.float64), cfg.chunk_size, cfg.R)
    assert route.size == 2048 and 0.4 < route.mean() < 0.6


def test_make_inputs():
    x = ref.make_inputs(2, 65, 4, 8, 6, 4, 4, 5, 2, 16, seed=1, initial_state=True)
    assert x["route"].shape == (2, 5, 2) and x["route"].dtype == np.bool_
    assert x["initial_state"].shape == (2, 4, 8, 6) and x["initial_state"].dtype == np.float32
    assert all(x[n].dtype == np.float32 for n in ("q", "k", "v", "g", "beta", "qs", "ks", "vs"))
    assert np.all(x["g"] < 0) and np.all((x["beta"] > 0) & (x["beta"] < 1))
    again = ref.make_inputs(2, 65, 4, 8, 6, 4, 4, 5, 2, 16, seed=1, initial_state=True)
    assert all(np.array_equal(x[n], again[n]) for n in x)
    assert ref.make_inputs(1, 3, 1, 2, 2, 1, 2, 2, 1, 4, seed=0)["initial_state"] is None


# --------------------------------------------------------------------------------------------
# (e) Input validation
# --------------------------------------------------------------------------------------------


def _drop_last(a):
    return a[..., :-1]


@pytest.mark.parametrize(
    "arg, change",
    [
        ("q", lambda x: {"q": x["q"][0]}),
        ("k", lambda x: {"k": _drop_last(x["k"])}),
        ("v", lambda x: {"v": x["v"][:, :-1]}),
        ("g", lambda x: {"g": x["g"][..., None]}),
        ("beta", lambda x: {"beta": _drop_last(x["beta"])}),
        ("qs", lambda x: {"qs": x["qs"][0]}),
        ("ks", lambda x: {"ks": _drop_last(x["ks"])}),
        ("vs", lambda x: {"vs": x["vs"][:, :-1]}),
        ("route", lambda x: {"route": x["route"][:, :-1]}),  # N != ceil(T/C)
        ("route", lambda x: {"route": x["route"][0]}),
        ("route", lambda x: {"route": x["route"].astype(np.int32) * 2}),
        ("route", lambda x: {"route": np.zeros((2, 5, 3), bool)}),  # H = 4 not a multiple of 3
        ("route", lambda x: {"route": np.zeros((2, 5, 4), bool), "qs": x["qs"][:, :, :2],
                             "ks": x["ks"][:, :, :2], "vs": x["vs"][:, :, :2]}),  # Hs = 2, R = 4
        ("initial_state", lambda x: {"initial_state": np.zeros((2, 4, 8, 7))}),
        ("chunk_size", lambda x: {"chunk_size": 0}),
        ("chunk_size", lambda x: {"chunk_size": 2.5}),
        ("window", lambda x: {"window": -1}),
    ],
)
def test_hybrid_attention_rejects_bad_inputs(arg, change):
    x = op_inputs(0, T=65, C=16)  # route B×N×R = 2×5×2, H = Hs = 4
    kwargs = {**x, "chunk_size": 16, **change(x)}
    with pytest.raises(ValueError, match=rf"^{arg}:"):
        ref.hybrid_attention(**kwargs)


def test_hybrid_attention_accepts_integer_route():
    x = op_inputs(1, T=20, C=4)
    o_bool = ref.hybrid_attention(**x, chunk_size=4)
    o_int = ref.hybrid_attention(**{**x, "route": x["route"].astype(np.int8)}, chunk_size=4)
    assert all(np.array_equal(a, b) for a, b in zip(o_bool, o_int))


@pytest.mark.parametrize(
    "fields",
    [{"Hs": 3}, {"Vs": 16}, {"R": 3}, {"Hs": 8, "Ks": 2, "Vs": 4, "R": 8}, {"chunk_size": 0}],
)
def test_layer_config_check(fields):
    with pytest.raises(ValueError, match="LayerConfig"):
        dataclasses.replace(SMALL, **fields).check()


def test_layer_rejects_bad_inputs():
    w = ref.init_layer_weights(SMALL, seed=0)
    x = np.zeros((1, 9, SMALL.D))
    with pytest.raises(ValueError, match="^x:"):
        ref.layer(x[..., 1:], w, SMALL)
    with pytest.raises(ValueError, match="^weights:.*wo"):
        ref.layer(x, {n: a for n, a in w.items() if n != "wo"}, SMALL)
    with pytest.raises(ValueError, match=r"^weights\['wr'\]"):
        ref.layer(x, {**w, "wr": w["wr"][:, :-1]}, SMALL)
