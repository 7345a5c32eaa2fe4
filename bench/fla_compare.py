"""nats against flash-linear-attention's chunk_gated_delta_rule, every route 0.

    python3 bench/fla_compare.py --prepare     (build machine: compile nats' functions)
    python3 bench/fla_compare.py               (GPU machine, with FLA, torch and triton)

Same bf16 inputs for both (q, k, v, g, beta drawn as nats.reference.make_inputs does, then
rounded to bf16; every chunk routed to linear memory, so nats' linear output is the gated
delta rule alone); both compared with the float64 reference on those rounded inputs: max
|x - ref| / max |ref| of the output o and the final state. FLA runs with
use_qk_l2norm_in_kernel=True and the same scale (K^-0.5), nats with qk_l2norm (the default).
Fresh inputs every run (--seed to repeat one). Also times both (median of repeated runs
after a warm-up, the device synchronised around each; nats' time includes what its host
code does per call: a stream, the blocks' workspace, the launch). Prints tables last.
"""

from __future__ import annotations

import argparse
import random

import numpy as np

import nats
from nats import reference
from nats.runtime import BF16
from measure import median_seconds, rel_err

# (B, T, H, K, V): the shape and a partial last chunk. The softmax
# branch is there but small (a 16-dim head per router head); R = H so that
# each (batch, head) is a block of its own.
SHAPES = [(2, 4096, 8, 128, 128), (2, 4000, 8, 128, 128)]
SOFTMAX_DIM = 16
CHUNK = 64
REPEAT = 10


def inputs(B, T, H, K, V, seed):
    x = reference.make_inputs(B, T, H, K, V, H, SOFTMAX_DIM, SOFTMAX_DIM, H, CHUNK,
                              seed=seed, density=0.0)
    x.pop("initial_state")
    x["route"][:] = False
    for name in ("q", "k", "v", "g", "beta", "qs", "ks", "vs"):
        x[name] = x[name].astype(BF16)
    return x


def run_fla(x, scale):
    """FLA's outputs, and its time in ms."""
    import torch
    from fla.ops.gated_delta_rule import chunk_gated_delta_rule
    dev = torch.device("cuda")

    def t(name, dtype):
        return torch.from_numpy(np.asarray(x[name], np.float32)).to(dev, dtype)
    args = (t("q", torch.bfloat16), t("k", torch.bfloat16), t("v", torch.bfloat16),
            t("g", torch.float32), t("beta", torch.bfloat16))

    def run():
        return chunk_gated_delta_rule(*args, scale=scale, output_final_state=True,
                                      use_qk_l2norm_in_kernel=True)
    o, state = run()
    ms = median_seconds(run, REPEAT, torch.cuda.synchronize) * 1e3
    return o.float().cpu().numpy(), state.float().cpu().numpy(), ms


def time_nats(x, outputs, scale):
    """nats' time in ms on device arrays (no copies to or from the host);
    `outputs` are the host results, for their shapes and dtypes."""
    from nats import cuda
    device = {n: cuda.DeviceArray.from_host(a) for n, a in x.items()}
    out = tuple(cuda.DeviceArray(a.shape, a.dtype) for a in outputs)
    return median_seconds(lambda: nats.hybrid_attention(**device, chunk_size=CHUNK, scale=scale,
                                                        target="cuda", out=out),
                          REPEAT, cuda.synchronize) * 1e3


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prepare", action="store_true",
                        help="only compile nats' functions into $NATS_CACHE_DIR")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    seed = random.randrange(1 << 30) if args.seed is None else args.seed

    rows = []
    for B, T, H, K, V in SHAPES:
        x = inputs(B, T, H, K, V, seed)
        scale = K ** -0.5
        if args.prepare:
            nats.api.precompile(**x, chunk_size=CHUNK, scale=scale, target="cuda")
            continue
        want = reference.hybrid_attention(
            **{n: (a if a.dtype == np.bool_ else a.astype(np.float64)) for n, a in x.items()},
            chunk_size=CHUNK, scale=scale)
        results = nats.hybrid_attention(**x, chunk_size=CHUNK, scale=scale, target="cuda")
        o, _, state = results
        fla_o, fla_state, fla_ms = run_fla(x, scale)
        assert not np.isnan(np.asarray(o, np.float32)).any(), "nats: unwritten output"
        rows.append((f"{B}x{T}x{H}x{K}x{V}",
                     rel_err(o, want[0]), rel_err(fla_o, want[0]),
                     rel_err(state, want[2]), rel_err(fla_state, want[2]),
                     time_nats(x, results, scale), fla_ms))
    if args.prepare:
        return
    print(f"\nbf16 inputs, every route 0, seed {seed}: max relative error vs float64")
    print("| B x T x H x K x V | nats o | FLA o | nats state | FLA state |")
    print("|---|---|---|---|---|")
    for shape, *errors, _, _ in rows:
        print(f"| {shape} | " + " | ".join(f"{e:.2e}" for e in errors) + " |")
    print(f"\nms, median of {REPEAT} (nats also runs its softmax branch: 16-dim heads, own chunk only)")
    print("| B x T x H x K x V | nats | FLA |")
    print("|---|---|---|")
    for shape, *_, nats_ms, fla_ms in rows:
        print(f"| {shape} | {nats_ms:.2f} | {fla_ms:.3f} |")


if __name__ == "__main__":
    main()
