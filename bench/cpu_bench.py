"""CPU benchmark: the compiled nats.hybrid_attention against a chunked NumPy baseline.

    PYTHONPATH=build/python_packages:bench python3 bench/cpu_bench.py [--quick]

Shape (B, T, H, K=V, Hs, Ks=Vs, R, C) = (1, T, 4, 64, 4, 64, 4, 64), f32, window 0.
Route: a fixed fraction rho of the chunks (of every router head) kept in softmax memory,
spread evenly. Each case is checked against the float64 reference at a small T first
(both implementations), then timed: median of repeated runs after a warm-up, compile
time excluded (the compiled function is cached per shape). Prints four tables:
the main shape at rho in {0, 1/4, 1}; time against T at fixed rho and at a fixed number of
kept chunks; time against rho.
"""

from __future__ import annotations

import argparse

import numpy as np

import nats
from nats import reference
import numpy_chunked
from measure import median_seconds, rel_err

B, H, K, R, C = 1, 4, 64, 4, 64


def inputs(T, rho, seed=0, kept_chunks=None):
    """Inputs with round(rho * N) kept chunks, or exactly `kept_chunks` of them."""
    x = reference.make_inputs(B, T, H, K, K, H, K, K, R, C, seed=seed, density=0.0)
    x.pop("initial_state", None)
    N = -(-T // C)
    kept = np.zeros(N, bool)
    count = int(round(rho * N)) if kept_chunks is None else kept_chunks
    if count:
        kept[np.linspace(0, N - 1, count).round().astype(int)] = True
    x["route"] = np.broadcast_to(kept[None, :, None], (B, N, R)).copy()
    return x


def check(rho):
    x = inputs(300, rho, seed=1)
    ref = reference.hybrid_attention(**x, chunk_size=C)
    ours = nats.hybrid_attention(**x, chunk_size=C, target="cpu")
    base = numpy_chunked.hybrid_attention(**x, chunk_size=C)
    return max(rel_err(a, r) for a, r in zip(ours[:2], ref[:2])), \
        max(rel_err(a, r) for a, r in zip(base[:2], ref[:2]))


def time_case(T, rho, repeat, kept_chunks=None):
    x = inputs(T, rho, kept_chunks=kept_chunks)
    t_nats = median_seconds(lambda: nats.hybrid_attention(**x, chunk_size=C, target="cpu"), repeat)
    t_np = median_seconds(lambda: numpy_chunked.hybrid_attention(**x, chunk_size=C), repeat)
    return t_nats, t_np


def table(title, header, rows):
    print(f"\n{title}")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer sizes and repeats")
    args = parser.parse_args()
    repeat = 3 if args.quick else 7

    rows = []
    for rho in (0.0, 0.25, 1.0):
        err_nats, err_np = check(rho)
        t_nats, t_np = time_case(4096, rho, repeat)
        rows.append([f"{rho:g}", f"{t_nats * 1e3:.1f}", f"{t_np * 1e3:.1f}",
                     f"{t_np / t_nats:.2f}", f"{err_nats:.1e}", f"{err_np:.1e}"])
    table(f"B=1 T=4096 H=4 K=V=64 C=64, f32 (ms, median of {repeat})",
          ["rho", "nats", "numpy chunked", "speed-up", "nats err", "numpy err"], rows)

    rows = []
    for T in ((1024, 4096) if args.quick else (1024, 2048, 4096, 8192)):
        t_nats, t_np = time_case(T, 0.25, repeat)
        rows.append([str(T), f"{t_nats * 1e3:.1f}", f"{t_nats / T * 1e6:.2f}",
                     f"{t_np * 1e3:.1f}"])
    table("time vs T at rho = 1/4 (softmax work grows as rho T^2)",
          ["T", "nats ms", "nats us/token", "numpy ms"], rows)

    rows = []
    for T in ((1024, 4096) if args.quick else (1024, 2048, 4096, 8192)):
        t_nats, t_np = time_case(T, 0.0, repeat, kept_chunks=16)
        rows.append([str(T), f"{t_nats * 1e3:.1f}", f"{t_nats / T * 1e6:.2f}",
                     f"{t_np * 1e3:.1f}"])
    table("time vs T at a fixed 16 kept chunks (rho T = 1024 tokens): linear in T",
          ["T", "nats ms", "nats us/token", "numpy ms"], rows)

    rows = []
    for rho in ((0.0, 1.0) if args.quick else (0.0, 0.125, 0.25, 0.5, 1.0)):
        t_nats, t_np = time_case(4096, rho, repeat)
        rows.append([f"{rho:g}", f"{t_nats * 1e3:.1f}", f"{t_np * 1e3:.1f}"])
    table("time vs rho at T = 4096", ["rho", "nats ms", "numpy ms"], rows)


if __name__ == "__main__":
    main()
