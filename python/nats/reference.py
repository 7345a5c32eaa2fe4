"""Float64 reference of the nats semantic contract (spec/nats-l.md, sections 2-4).

Everything here is written straight from the spec, token by token, in float64, with numpy only.
It is the ground truth that the compiled op and the compiled layer are tested against; it favours
being obviously right over being fast.

Core op (spec §3)
-----------------
``hybrid_attention(q, k, v, g, beta, qs, ks, vs, route, initial_state=None, *, chunk_size=64,
window=0, scale=None, softmax_scale=None, qk_l2norm=True) -> (o, os, final_state)``

- Shapes: q, k ``B×T×H×K``; v ``B×T×H×V``; g, beta ``B×T×H``; qs, ks ``B×T×Hs×Ks``;
  vs ``B×T×Hs×Vs``; route ``B×N×R`` bool with ``N = ceil(T / chunk_size)``;
  initial_state ``B×H×K×V`` or None (zero state).
- Router head of linear head ``h`` is ``h // (H // R)``; of softmax head ``s``, ``s // (Hs // R)``.
- Results ``o`` ``B×T×H×V``, ``os`` ``B×T×Hs×Vs``, ``final_state`` ``B×H×K×V``, all float64.

Layer (spec §4), conventions shared with the compiler's example graph
---------------------------------------------------------------------
Weights (dict keys and shapes), for a :class:`LayerConfig` ``(D, H, K, V, Hs, Ks, Vs, R, C)``:

==========================  ===============  ==============================================
key                         shape            use
==========================  ===============  ==============================================
``wq``, ``wk``              ``D×(H·K)``      query / key projection
``wv``                      ``D×(H·V)``      value projection
``conv_q``, ``conv_k``      ``4×(H·K)``      ShortConv4 taps (row 3 = current token)
``conv_v``                  ``4×(H·V)``      ShortConv4 taps
``wb``, ``wa``              ``D×H``          beta and decay projections
``a_log``, ``dt_bias``      ``H``            decay parameters
``qs_norm``, ``ks_norm``    ``Ks``           RMSNorm weights of the softmax queries / keys
``wr``                      ``D×(2R)``       router (column ``r*2 + j``; j = 0 softmax, 1 linear)
``wm``                      ``(H·K)×(2·Hs)`` branch mixing logits (column ``s*2 + j``)
``wg``                      ``D×(H·V)``      output gate
``o_norm``, ``os_norm``     ``Vs``           RMSNorm weights of the two branch outputs
``wo``                      ``(H·V)×D``      output projection
==========================  ===============  ==============================================

- ShortConv4 (causal depthwise, width 4, the layout of ``linalg.depthwise_conv_1d_nwc_wc``):
  ``y[b,t,c] = Σ_{w=0..3} xpad[b,t+w,c] · conv[w,c]``, xpad = x with 3 zeros prepended in time
  (so ``w = 3`` is the current token); then ``SiLU(z) = z·sigmoid(z)``.
  ``q, k, v = SiLU(ShortConv4(x·wq, conv_q))``, etc.
- ``beta = sigmoid(x·wb)``; ``g = -exp(a_log) · softplus(x·wa + dt_bias)``,
  ``softplus(z) = log1p(exp(z))`` evaluated stably.
- ``qs = RMSNorm(q viewed B×T×Hs×Ks) · qs_norm``, ``ks`` likewise with ``ks_norm``,
  ``vs = v viewed B×T×Hs×Vs``; ``RMSNorm(z) = z / sqrt(mean(z²) + 1e-6)`` over the last dim.
- Router: per chunk ``n``, the mean of ``x`` over the chunk's tokens that exist (a partial last
  chunk averages its own tokens only), times ``wr``, viewed ``R×2``;
  ``route[b,n,r] = argmax_j(logits[b,n,r,j]) == 0`` with ties to index 0 (np.argmax).
- Core op with ``chunk_size = C``, ``window = 0``, default scales, ``qk_l2norm = True``.
- Combine: ``w = softmax over j of (q·wm) viewed B×T×Hs×2`` (q is the linear-branch q after
  conv + SiLU, before l2norm, as ``B×T×(H·K)``); ``gate = swish(x·wg)`` viewed ``B×T×Hs×Vs``;
  ``y = gate · (w_0 · RMSNorm(o)·o_norm + w_1 · RMSNorm(os)·os_norm)`` with ``o`` viewed
  ``B×T×Hs×Vs``; ``out = (y viewed B×T×(H·V)) · wo``.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

__all__ = [
    "hybrid_attention",
    "LayerConfig",
    "init_layer_weights",
    "layer",
    "layer_weight_shapes",
    "layer_intermediates",
    "make_inputs",
]

_L2NORM_EPS = 1e-6
_RMSNORM_EPS = 1e-6
_CONV_WIDTH = 4


# --------------------------------------------------------------------------------------------
# Elementwise helpers
# --------------------------------------------------------------------------------------------


def _sigmoid(z):
    # exp(-|z|) never overflows; both branches give the same value where they are exact.
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _silu(z):
    return z * _sigmoid(z)


def _softplus(z):
    # log1p(exp(z)) = max(z, 0) + log1p(exp(-|z|)): no overflow for large z.
    return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))


def _l2norm(x):
    return x / np.sqrt(np.sum(x * x, axis=-1, keepdims=True) + _L2NORM_EPS)


def _rmsnorm(x, weight):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + _RMSNORM_EPS) * weight


def _softmax_last(z):
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


# --------------------------------------------------------------------------------------------
# Core op
# --------------------------------------------------------------------------------------------


def _as_f64(name, x, rank):
    try:
        a = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{name}: cannot be converted to a float array ({e})") from None
    if a.ndim != rank:
        raise ValueError(f"{name}: expected rank {rank}, got shape {a.shape}")
    return a


def _check_shape(name, a, expected):
    if a.shape != tuple(expected):
        raise ValueError(f"{name}: expected shape {tuple(expected)}, got {a.shape}")


def _is_int(x):
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


def _as_route(route):
    r = np.asarray(route)
    if r.ndim != 3:
        raise ValueError(f"route: expected rank 3 (B×N×R), got shape {r.shape}")
    if r.dtype == np.bool_:
        return r
    if not np.issubdtype(r.dtype, np.integer) or not np.isin(r, (0, 1)).all():
        raise ValueError(f"route: expected a bool array (or integers 0/1), got dtype {r.dtype}")
    return r.astype(bool)


def hybrid_attention(q, k, v, g, beta, qs, ks, vs, route, initial_state=None, *,
                     chunk_size=64, window=0, scale=None, softmax_scale=None, qk_l2norm=True):
    """The op ``nats.hybrid_attention`` of spec §3, in float64.

    Returns ``(o, os, final_state)`` with shapes ``B×T×H×V``, ``B×T×Hs×Vs``, ``B×H×K×V``.
    Raises ValueError naming the offending argument for malformed inputs.
    """
    if not _is_int(chunk_size) or chunk_size < 1:
        raise ValueError(f"chunk_size: expected an integer >= 1, got {chunk_size!r}")
    if not _is_int(window) or window < 0:
        raise ValueError(f"window: expected an integer >= 0, got {window!r}")
    C, W = int(chunk_size), int(window)

    q = _as_f64("q", q, 4)
    B, T, H, K = q.shape
    k = _as_f64("k", k, 4)
    _check_shape("k", k, (B, T, H, K))
    v = _as_f64("v", v, 4)
    V = v.shape[3]
    _check_shape("v", v, (B, T, H, V))
    g = _as_f64("g", g, 3)
    _check_shape("g", g, (B, T, H))
    beta = _as_f64("beta", beta, 3)
    _check_shape("beta", beta, (B, T, H))
    qs = _as_f64("qs", qs, 4)
    Hs, Ks = qs.shape[2], qs.shape[3]
    _check_shape("qs", qs, (B, T, Hs, Ks))
    ks = _as_f64("ks", ks, 4)
    _check_shape("ks", ks, (B, T, Hs, Ks))
    vs = _as_f64("vs", vs, 4)
    Vs = vs.shape[3]
    _check_shape("vs", vs, (B, T, Hs, Vs))
    route = _as_route(route)
    N = -(-T // C)
    R = route.shape[2]
    if route.shape[:2] != (B, N):
        raise ValueError(f"route: expected shape (B, N, R) = ({B}, {N}, R) with N = ceil(T/C) = "
                         f"ceil({T}/{C}), got {route.shape}")
    if R < 1 or H % R != 0:
        raise ValueError(f"route: H = {H} linear heads is not a multiple of R = {R} router heads")
    if Hs % R != 0:
        raise ValueError(f"route: Hs = {Hs} softmax heads is not a multiple of R = {R} "
                         "router heads")
    if initial_state is None:
        state0 = np.zeros((B, H, K, V))
    else:
        state0 = _as_f64("initial_state", initial_state, 4)
        _check_shape("initial_state", state0, (B, H, K, V))

    scale = K ** -0.5 if scale is None else float(scale)
    softmax_scale = Ks ** -0.5 if softmax_scale is None else float(softmax_scale)

    o, final_state = _linear_branch(q, k, v, g, beta, route, state0, C, scale, qk_l2norm)
    os_ = _softmax_branch(qs, ks, vs, route, C, W, softmax_scale)
    return o, os_, final_state


def _linear_branch(q, k, v, g, beta, route, state0, C, scale, qk_l2norm):
    """Spec §3.2: the gated delta rule token by token, with the route deciding at each chunk end
    whether the chunk's writes are committed (route 0) or only its decay (route 1).
    Vectorised over batch and heads; the token loop is the recurrence itself."""
    B, T, H, K = q.shape
    R = route.shape[2]
    if qk_l2norm:
        q, k = _l2norm(q), _l2norm(k)
    q = q * scale
    route_h = route[:, :, np.arange(H) // (H // R)]  # B×N×H: the bit governing each linear head

    o = np.zeros(v.shape)
    S_start = state0.copy()  # B×H×K×V, the state at the start of the current chunk
    for n in range(route.shape[1]):
        S = S_start.copy()
        g_sum = np.zeros((B, H))
        for t in range(n * C, min((n + 1) * C, T)):
            S = np.exp(g[:, t])[:, :, None, None] * S
            u = beta[:, t, :, None] * (v[:, t] - np.einsum("bhkv,bhk->bhv", S, k[:, t]))
            S = S + k[:, t, :, :, None] * u[:, :, None, :]
            o[:, t] = np.einsum("bhkv,bhk->bhv", S, q[:, t])
            g_sum += g[:, t]
        kept = route_h[:, n, :, None, None]
        S_start = np.where(kept, np.exp(g_sum)[:, :, None, None] * S_start, S)
    return o, S_start


def _softmax_branch(qs, ks, vs, route, C, W, softmax_scale):
    """Spec §3.3: one query row at a time over the keys j <= i, with the three visibility rules.
    Vectorised over batch and heads."""
    B, T, Hs, _ = qs.shape
    R = route.shape[2]
    chunk = np.arange(T) // C
    # kept[b, j, s]: is token j's chunk kept in softmax memory for softmax head s?
    kept = route[:, chunk][:, :, np.arange(Hs) // (Hs // R)]

    os_ = np.zeros(vs.shape)
    for i in range(T):
        j = np.arange(i + 1)
        same_chunk = (chunk[j] == chunk[i])[None, :, None]
        earlier_kept = (chunk[j] < chunk[i])[None, :, None] & kept[:, : i + 1]
        in_window = (i - j < W)[None, :, None]
        visible = same_chunk | earlier_kept | in_window  # B×(i+1)×Hs; always includes j = i
        logits = softmax_scale * np.einsum("bsd,bjsd->bjs", qs[:, i], ks[:, : i + 1])
        logits = np.where(visible, logits, -np.inf)
        p = np.exp(logits - logits.max(axis=1, keepdims=True))  # exp(-inf) = 0: hidden keys
        p /= p.sum(axis=1, keepdims=True)
        os_[:, i] = np.einsum("bjs,bjsd->bsd", p, vs[:, : i + 1])
    return os_


# --------------------------------------------------------------------------------------------
# Inputs for tests and benchmarks
# --------------------------------------------------------------------------------------------


def make_inputs(B, T, H, K, V, Hs, Ks, Vs, R, chunk_size, seed, density=0.5, dtype=np.float32,
                initial_state=False):
    """Realistic random operands of the core op, as a dict keyed by the op's argument names, so
    that ``hybrid_attention(**make_inputs(...), chunk_size=C)`` works.

    q, k, v, qs, ks, vs ~ N(0, 1); ``g = log_sigmoid(N(0,1) + 3)`` (mostly in [-0.7, -0.003], like
    a trained GDN decay: memory lasts tens of tokens); ``beta = sigmoid(N(0,1))``; route bits
    Bernoulli(density); ``initial_state`` is N(0,1) float32 (the state is f32 on every target)
    when requested, else None.
    """
    rng = np.random.default_rng(seed)
    N = -(-T // chunk_size)
    out = {
        "q": rng.standard_normal((B, T, H, K)),
        "k": rng.standard_normal((B, T, H, K)),
        "v": rng.standard_normal((B, T, H, V)),
        "g": -_softplus(-(rng.standard_normal((B, T, H)) + 3.0)),
        "beta": _sigmoid(rng.standard_normal((B, T, H))),
        "qs": rng.standard_normal((B, T, Hs, Ks)),
        "ks": rng.standard_normal((B, T, Hs, Ks)),
        "vs": rng.standard_normal((B, T, Hs, Vs)),
    }
    out = {name: a.astype(dtype) for name, a in out.items()}
    out["route"] = rng.random((B, N, R)) < density
    out["initial_state"] = (rng.standard_normal((B, H, K, V)).astype(np.float32)
                            if initial_state else None)
    return out


# --------------------------------------------------------------------------------------------
# Layer (spec §4)
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class LayerConfig:
    D: int
    H: int
    K: int
    V: int
    Hs: int
    Ks: int
    Vs: int
    R: int
    chunk_size: int = 64

    def check(self):
        """Raise ValueError unless the softmax heads re-split the linear heads' channels and both
        head counts are multiples of the router heads."""
        if min(dataclasses.astuple(self)) < 1:
            raise ValueError(f"LayerConfig: all sizes must be >= 1, got {self}")
        if self.H * self.K != self.Hs * self.Ks:
            raise ValueError(f"LayerConfig: H*K = {self.H * self.K} != Hs*Ks = {self.Hs * self.Ks}")
        if self.H * self.V != self.Hs * self.Vs:
            raise ValueError(f"LayerConfig: H*V = {self.H * self.V} != Hs*Vs = {self.Hs * self.Vs}")
        if self.H % self.R != 0:
            raise ValueError(f"LayerConfig: H = {self.H} is not a multiple of R = {self.R}")
        if self.Hs % self.R != 0:
            raise ValueError(f"LayerConfig: Hs = {self.Hs} is not a multiple of R = {self.R}")
        return self


def init_layer_weights(cfg: LayerConfig, seed: int, dtype=np.float32) -> dict[str, np.ndarray]:
    """Deterministic weights for one layer (keys and shapes in the module docstring).

    Projections ~ N(0, 1/fan_in); conv taps ~ N(0, 1/4); ``a_log = log U[1, 16]`` and
    ``dt_bias = softplus⁻¹(dt)`` with ``dt`` log-uniform in [1e-3, 1e-1] (the Mamba / GDN init);
    norm weights 1 + N(0, 0.05²). ``wr`` is i.i.d. zero-mean, so the two logits of a router head are
    exchangeable and about half of the chunks of an N(0, 1) input go to softmax memory.
    """
    cfg.check()
    D, H, K, V, Hs, Ks, Vs, R = cfg.D, cfg.H, cfg.K, cfg.V, cfg.Hs, cfg.Ks, cfg.Vs, cfg.R
    rng = np.random.default_rng(seed)

    def proj(fan_in, fan_out):
        return rng.standard_normal((fan_in, fan_out)) / math.sqrt(fan_in)

    def norm_weight(n):
        return 1.0 + 0.05 * rng.standard_normal(n)

    dt = np.exp(rng.uniform(math.log(1e-3), math.log(1e-1), H))
    w = {
        "wq": proj(D, H * K),
        "wk": proj(D, H * K),
        "wv": proj(D, H * V),
        "conv_q": 0.5 * rng.standard_normal((_CONV_WIDTH, H * K)),
        "conv_k": 0.5 * rng.standard_normal((_CONV_WIDTH, H * K)),
        "conv_v": 0.5 * rng.standard_normal((_CONV_WIDTH, H * V)),
        "wb": proj(D, H),
        "wa": proj(D, H),
        "a_log": np.log(rng.uniform(1.0, 16.0, H)),
        "dt_bias": dt + np.log(-np.expm1(-dt)),  # inverse softplus: softplus(dt_bias) = dt
        "qs_norm": norm_weight(Ks),
        "ks_norm": norm_weight(Ks),
        "wr": proj(D, 2 * R),
        "wm": proj(H * K, 2 * Hs),
        "wg": proj(D, H * V),
        "o_norm": norm_weight(Vs),
        "os_norm": norm_weight(Vs),
        "wo": proj(H * V, D),
    }
    return {name: a.astype(dtype) for name, a in w.items()}


def layer_weight_shapes(cfg: LayerConfig) -> dict[str, tuple[int, ...]]:
    """The shape of each layer weight (the table in the module docstring), in argument order."""
    D, H, K, V, Hs, Ks, Vs, R = cfg.D, cfg.H, cfg.K, cfg.V, cfg.Hs, cfg.Ks, cfg.Vs, cfg.R
    return {
        "wq": (D, H * K), "wk": (D, H * K), "wv": (D, H * V),
        "conv_q": (_CONV_WIDTH, H * K), "conv_k": (_CONV_WIDTH, H * K),
        "conv_v": (_CONV_WIDTH, H * V),
        "wb": (D, H), "wa": (D, H), "a_log": (H,), "dt_bias": (H,),
        "qs_norm": (Ks,), "ks_norm": (Ks,), "wr": (D, 2 * R), "wm": (H * K, 2 * Hs),
        "wg": (D, H * V), "o_norm": (Vs,), "os_norm": (Vs,), "wo": (H * V, D),
    }


def _short_conv4(x, conv):
    """Causal depthwise conv: y[b,t,c] = Σ_w xpad[b,t+w,c] · conv[w,c], xpad = 3 zeros then x."""
    T = x.shape[1]
    xpad = np.concatenate([np.zeros((x.shape[0], _CONV_WIDTH - 1, x.shape[2])), x], axis=1)
    return sum(xpad[:, w : w + T] * conv[w] for w in range(_CONV_WIDTH))


def layer_intermediates(x, weights, cfg: LayerConfig) -> dict:
    """Everything one NAtS-L layer computes (spec §4), in float64, keyed by name:
    ``q, k, v`` (core-op views B×T×H×K / B×T×H×V, before l2norm), ``g, beta, qs, ks, vs``,
    ``route_logits`` (B×N×R×2), ``route``, ``o, os, final_state`` (the core op's results),
    ``mix`` (the branch weights w, B×T×Hs×2), ``gate`` (B×T×Hs×Vs), ``y`` (B×T×Hs×Vs), ``out``."""
    cfg.check()
    D, H, K, V, Hs, Ks, Vs, R, C = (cfg.D, cfg.H, cfg.K, cfg.V, cfg.Hs, cfg.Ks, cfg.Vs, cfg.R,
                                    cfg.chunk_size)
    x = _as_f64("x", x, 3)
    if x.shape[2] != D:
        raise ValueError(f"x: expected last dim D = {D}, got shape {x.shape}")
    B, T, _ = x.shape
    w = {}
    for name, shape in layer_weight_shapes(cfg).items():
        if name not in weights:
            raise ValueError(f"weights: missing {name!r}")
        w[name] = _as_f64(f"weights[{name!r}]", weights[name], len(shape))
        _check_shape(f"weights[{name!r}]", w[name], shape)

    # 1. projections, ShortConv4, SiLU
    q = _silu(_short_conv4(x @ w["wq"], w["conv_q"]))  # B×T×(H·K)
    k = _silu(_short_conv4(x @ w["wk"], w["conv_k"]))
    v = _silu(_short_conv4(x @ w["wv"], w["conv_v"]))
    # 2. linear-branch gates
    beta = _sigmoid(x @ w["wb"])
    g = -np.exp(w["a_log"]) * _softplus(x @ w["wa"] + w["dt_bias"])
    # 3. softmax branch: a re-split of the same channels
    qs = _rmsnorm(q.reshape(B, T, Hs, Ks), w["qs_norm"])
    ks = _rmsnorm(k.reshape(B, T, Hs, Ks), w["ks_norm"])
    vs = v.reshape(B, T, Hs, Vs)
    # 4. router: chunk means of x (partial last chunk: its own tokens), projected
    N = -(-T // C)
    means = np.zeros((B, N, D))
    for n in range(N):
        means[:, n] = x[:, n * C : (n + 1) * C].mean(axis=1)
    route_logits = (means @ w["wr"]).reshape(B, N, R, 2)
    route = np.argmax(route_logits, axis=-1) == 0
    # 5. core op, then combine per softmax head
    o, os_, final_state = hybrid_attention(
        q.reshape(B, T, H, K), k.reshape(B, T, H, K), v.reshape(B, T, H, V), g, beta,
        qs, ks, vs, route, chunk_size=C)
    mix = _softmax_last((q @ w["wm"]).reshape(B, T, Hs, 2))
    gate = _silu(x @ w["wg"]).reshape(B, T, Hs, Vs)
    y = gate * (mix[..., 0:1] * _rmsnorm(o.reshape(B, T, Hs, Vs), w["o_norm"])
                + mix[..., 1:2] * _rmsnorm(os_, w["os_norm"]))
    out = y.reshape(B, T, H * V) @ w["wo"]
    return {
        "q": q.reshape(B, T, H, K), "k": k.reshape(B, T, H, K), "v": v.reshape(B, T, H, V),
        "g": g, "beta": beta, "qs": qs, "ks": ks, "vs": vs,
        "route_logits": route_logits, "route": route,
        "o": o, "os": os_, "final_state": final_state,
        "mix": mix, "gate": gate, "y": y, "out": out,
    }


def layer(x, weights, cfg: LayerConfig) -> np.ndarray:
    """One NAtS-L layer (spec §4): ``x`` B×T×D → float64 B×T×D."""
    return layer_intermediates(x, weights, cfg)["out"]
