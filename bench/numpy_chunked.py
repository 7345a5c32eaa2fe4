"""A straightforward chunked NumPy implementation of nats.hybrid_attention.

The CPU baseline of bench/cpu_bench.py: what a user would write with NumPy
today, in float32, vectorised over (batch, head) and chunked over time.

- Linear branch: the chunked WY/UT form of the gated delta rule (docs/algorithms.md
  §1) with one tile per route chunk (needs chunk_size >= 2 and every chunk whole
  but the last); the unit-lower-triangular system is solved with np.linalg.solve.
- Softmax branch: per (batch, head, query chunk), the keys of the kept earlier
  chunks are gathered and attended together with the own chunk (causal), so
  work follows the kept keys. No window (the benchmark uses window 0).
"""

from __future__ import annotations

import numpy as np


def _l2norm(x):
    return x / np.sqrt(np.sum(x * x, axis=-1, keepdims=True) + 1e-6)


def gated_delta(q, k, v, g, beta, route, C, scale):
    """o (B,T,H,V) and the final state (B,H,K,V), zero initial state."""
    B, T, H, K = q.shape
    V = v.shape[-1]
    R = route.shape[-1]
    head_route = np.repeat(route, H // R, axis=2)            # B×N×H
    q = _l2norm(q) * scale
    k = _l2norm(k)
    S = np.zeros((B, H, K, V), np.float32)
    o = np.empty((B, T, H, V), np.float32)
    for n, t0 in enumerate(range(0, T, C)):
        sl = slice(t0, min(t0 + C, T))
        L = sl.stop - sl.start
        # (B,H,L,·) views of the chunk.
        Q, Kc, Vc = (a[:, sl].transpose(0, 2, 1, 3) for a in (q, k, v))
        gc, bc = (a[:, sl].transpose(0, 2, 1) for a in (g, beta))
        gamma = np.cumsum(gc, axis=-1)
        decay = np.exp(gamma[..., :, None] - gamma[..., None, :])
        mask = np.tril(np.ones((L, L), bool))
        M = np.where(mask, decay, 0.0).astype(np.float32)
        A = np.tril(bc[..., :, None] * (Kc @ Kc.swapaxes(-1, -2)) * M, -1)
        X = bc[..., None] * (Vc - (Kc * np.exp(gamma)[..., None]) @ S)
        U = np.linalg.solve(np.eye(L, dtype=np.float32) + A, X)
        o[:, sl] = ((Q * np.exp(gamma)[..., None]) @ S
                    + ((Q @ Kc.swapaxes(-1, -2)) * M) @ U).transpose(0, 2, 1, 3)
        total = gamma[..., -1]
        S_decay = np.exp(total)[..., None, None] * S
        kept = head_route[:, n, :, None, None]
        S_commit = S_decay + (Kc * np.exp(total[..., None] - gamma)[..., None]).swapaxes(-1, -2) @ U
        S = np.where(kept, S_decay, S_commit)
    return o, S


def routed_softmax(qs, ks, vs, route, C, scale):
    """os (B,T,Hs,Vs) with window 0."""
    B, T, Hs, _ = qs.shape
    R = route.shape[-1]
    head_route = np.repeat(route, Hs // R, axis=2)           # B×N×Hs
    os = np.empty(vs.shape, np.float32)
    for b in range(B):
        for s in range(Hs):
            kept = np.flatnonzero(head_route[b, :, s])
            for n, t0 in enumerate(range(0, T, C)):
                t1 = min(t0 + C, T)
                before = kept[kept < n]
                idx = np.concatenate([(before[:, None] * C + np.arange(C)).ravel(),
                                      np.arange(t0, t1)])
                scores = scale * (qs[b, t0:t1, s] @ ks[b, idx, s].T)
                own = scores[:, len(idx) - (t1 - t0):]
                own[np.triu_indices(t1 - t0, 1)] = -np.inf
                scores -= scores.max(axis=-1, keepdims=True)
                p = np.exp(scores)
                os[b, t0:t1, s] = (p @ vs[b, idx, s]) / p.sum(axis=-1, keepdims=True)
    return os


def hybrid_attention(q, k, v, g, beta, qs, ks, vs, route, *, chunk_size=64):
    o, state = gated_delta(q, k, v, g, beta, route, chunk_size, q.shape[-1] ** -0.5)
    os = routed_softmax(qs, ks, vs, route, chunk_size, qs.shape[-1] ** -0.5)
    return o, os, state
