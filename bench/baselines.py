"""What users run today for the parts of a NAtS-L layer, on the GPU through torch.

Every function takes torch tensors in nats' layouts (per-head tensors (B, T, H, D),
route (B, N, R) bool, 1 = the chunk is kept in softmax memory) and computes what
the matching part of `nats.hybrid_attention` computes, up to two limits of the
libraries, which the benchmark tables say where they apply:

- FLA's `chunk_gated_delta_rule` has no route: every chunk enters its state. It is
  nats' linear branch exactly when every route is 0 (M1, M2).
- FlexAttention takes the routed mask as a block mask (`routed_block_mask`); that
  is the softmax branch exactly (window 0).

The benchmark imports this module on the GPU machine only (torch, triton, FLA).
"""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.nn.attention.flex_attention import create_block_mask, flex_attention

CONV_WIDTH = 4


def fla_gated_delta(q, k, v, g, beta, scale):
    """FLA's chunked gated delta rule with the l2norm in the kernel (nats'
    qk_l2norm): (o, final_state)."""
    from fla.ops.gated_delta_rule import chunk_gated_delta_rule
    return chunk_gated_delta_rule(q, k, v, g, beta, scale=scale, output_final_state=True,
                                  use_qk_l2norm_in_kernel=True)


def routed_block_mask(route, tokens, chunk, heads):
    """The softmax branch's mask (spec §3.3, window 0) as a FlexAttention block
    mask over `heads` heads: query i sees key j <= i in its own chunk or in an
    earlier chunk kept for i's router head."""
    batch, _, routers = route.shape
    group = heads // routers

    def visible(b, h, q_idx, kv_idx):
        kv_chunk = kv_idx // chunk
        own = q_idx // chunk == kv_chunk
        return (kv_idx <= q_idx) & (own | route[b, kv_chunk, h // group])
    # Compiled: evaluated block by block, never as a T×T tensor.
    return create_block_mask(visible, batch, heads, tokens, tokens, device=route.device,
                             _compile=True)


@functools.lru_cache(maxsize=None)
def compiled_flex():
    """flex_attention through torch.compile: its fused Triton kernel (eager
    FlexAttention materialises every score). It compiles once per shape; past
    dynamo's recompile limit (8) it would fall back to eager, so the harness
    keeps to fewer shapes (M3's four and the layer's two)."""
    return torch.compile(flex_attention, dynamic=False)


def heads_first(x):
    """(B, T, H, D) -> contiguous (B, H, T, D), the layout SDPA and FlexAttention take."""
    return x.transpose(1, 2).contiguous()


def flex_routed(qs, ks, vs, block_mask, scale):
    """The routed softmax branch on (B, H, T, D) tensors: os as (B, H, T, D)."""
    return compiled_flex()(qs, ks, vs, block_mask=block_mask, scale=scale)


def sdpa_causal(qs, ks, vs, backend, scale):
    """Dense causal attention on (B, H, T, D) through one SDPA backend."""
    with sdpa_kernel(backend):
        return F.scaled_dot_product_attention(qs, ks, vs, is_causal=True, scale=scale)


SDPA_BACKENDS = {"sdpa_flash": SDPBackend.FLASH_ATTENTION,
                 "sdpa_cudnn": SDPBackend.CUDNN_ATTENTION}


def short_conv_silu(z, taps):
    """SiLU(ShortConv4(z)) for z (B, T, C) and taps (4, C): the causal
    depthwise conv y[t] = sum_w zpad[t + w] taps[w] with zpad three zeros then z
    (conv1d is a cross-correlation, so the taps go in as they are)."""
    channels = z.shape[-1]
    padded = F.pad(z.transpose(1, 2), (CONV_WIDTH - 1, 0))
    y = F.conv1d(padded, taps.t().unsqueeze(1), groups=channels)
    return F.silu(y.transpose(1, 2)).contiguous()


def chunk_means(x, chunk):
    """Mean of x (B, T, D) over each chunk's tokens (a partial last chunk: its own)."""
    batch, tokens, dim = x.shape
    chunks = -(-tokens // chunk)
    padded = F.pad(x, (0, 0, 0, chunks * chunk - tokens)).view(batch, chunks, chunk, dim)
    counts = torch.full((chunks,), chunk, device=x.device, dtype=x.dtype)
    counts[-1] = tokens - (chunks - 1) * chunk
    return padded.sum(2) / counts[:, None]


def torch_layer(x, w, cfg):
    """One NAtS-L layer (spec §4) as a user writes it today: torch for the
    projections, convolutions, gates and norms, FLA's gated delta rule for the
    linear branch (every chunk folded into the state: FLA has no route) and
    compiled FlexAttention with the routed block mask (built from this x's
    route, each call) for the softmax branch. x (B, T, D) and the weights
    (names of nats.layer.WEIGHT_NAMES, shapes of nats.reference) in one dtype."""
    B, T, _ = x.shape
    H, K, V, Hs, Ks, Vs, R, C = (cfg.H, cfg.K, cfg.V, cfg.Hs, cfg.Ks, cfg.Vs, cfg.R,
                                 cfg.chunk_size)
    q = short_conv_silu(x @ w["wq"], w["conv_q"])
    k = short_conv_silu(x @ w["wk"], w["conv_k"])
    v = short_conv_silu(x @ w["wv"], w["conv_v"])
    beta = torch.sigmoid(x @ w["wb"])
    g = -torch.exp(w["a_log"].float()) * F.softplus((x @ w["wa"]).float() + w["dt_bias"].float())
    qs = F.rms_norm(q.view(B, T, Hs, Ks), (Ks,), w["qs_norm"], eps=1e-6)
    ks = F.rms_norm(k.view(B, T, Hs, Ks), (Ks,), w["ks_norm"], eps=1e-6)
    vs = v.view(B, T, Hs, Vs)
    logits = (chunk_means(x.float(), C) @ w["wr"].float()).view(B, -1, R, 2)
    route = logits.argmax(-1) == 0
    o, _ = fla_gated_delta(q.reshape(B, T, H, K), k.reshape(B, T, H, K),
                           v.reshape(B, T, H, V), g, beta, K ** -0.5)
    mask = routed_block_mask(route, T, C, Hs)
    os_ = flex_routed(heads_first(qs), heads_first(ks), heads_first(vs), mask,
                      Ks ** -0.5).transpose(1, 2)
    mix = torch.softmax((q @ w["wm"]).view(B, T, Hs, 2).float(), -1).to(x.dtype)
    gate = F.silu(x @ w["wg"]).view(B, T, Hs, Vs)
    y = gate * (mix[..., 0:1] * F.rms_norm(o.reshape(B, T, Hs, Vs), (Vs,), w["o_norm"], eps=1e-6)
                + mix[..., 1:2] * F.rms_norm(os_, (Vs,), w["os_norm"], eps=1e-6))
    return y.reshape(B, T, H * V) @ w["wo"]
