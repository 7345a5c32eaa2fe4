#!/usr/bin/env python3
"""The main job: compile the example NAtS-L layer graph with nats, run it on inputs and
weights from a fixed seed, and compare with the float64 reference.

    PYTHONPATH=build/python_packages python3 examples/run_layer.py [--seed N] [--target cuda]
        [--compile-only]

--target cuda runs on the GPU (the layer's every op a kernel); --compile-only only fills
the cache ($NATS_CACHE_DIR) for a machine without the compiler (bench/gpu_prepare.sh).

Prints the route density, the compile and run times and the maximum relative error of
the layer output against `nats.reference.layer` (target: <= 1e-4 at f32).
"""

import argparse
import pathlib
import sys
import time

import numpy as np

import nats
from nats import reference

EXAMPLE = pathlib.Path(__file__).with_name("nats_l_layer.mlir")
# The sizes the example graph is written for (its header says the same).
CONFIG = reference.LayerConfig(D=512, H=4, K=64, V=128, Hs=8, Ks=32, Vs=64, R=4, chunk_size=64)
B, T = 1, 1024
TOLERANCE = 1e-4


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--target", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--compile-only", action="store_true")
    args = parser.parse_args()
    if args.compile_only:
        nats.compile_module(EXAMPLE.read_text(), target=args.target, load=False)
        return 0

    weights = reference.init_layer_weights(CONFIG, seed=args.seed)
    x = np.random.default_rng(args.seed + 1).standard_normal((B, T, CONFIG.D), dtype=np.float32)
    names = ["wq", "wk", "wv", "conv_q", "conv_k", "conv_v", "wb", "wa", "a_log", "dt_bias",
             "qs_norm", "ks_norm", "wr", "wm", "wg", "o_norm", "os_norm", "wo"]

    start = time.perf_counter()
    module = nats.compile_module(EXAMPLE.read_text(), target=args.target)
    compile_s = time.perf_counter() - start

    out = np.full((B, T, CONFIG.D), np.nan, np.float32)
    args_in = [x] + [np.ascontiguousarray(weights[n], dtype=np.float32) for n in names]
    if args.target == "cuda":
        from nats import cuda
        args_in = [cuda.DeviceArray.from_host(a) for a in args_in]
        device_out = cuda.DeviceArray.from_host(out)
        run = lambda: (module.call("nats_l_layer", args_in + [device_out]), cuda.synchronize())
    else:
        run = lambda: module.call("nats_l_layer", args_in + [out])
    run()  # warm-up
    start = time.perf_counter()
    run()
    run_s = time.perf_counter() - start
    if args.target == "cuda":
        out = device_out.to_host()

    ref = reference.layer_intermediates(x, weights, CONFIG)
    error = float(np.abs(out - ref["out"]).max() / np.abs(ref["out"]).max())
    print(f"NAtS-L layer B={B} T={T} D={CONFIG.D} H={CONFIG.H} K={CONFIG.K} V={CONFIG.V} "
          f"Hs={CONFIG.Hs} Ks={CONFIG.Ks} Vs={CONFIG.Vs} R={CONFIG.R} C={CONFIG.chunk_size}, f32, "
          f"on {args.target}")
    print(f"chunks kept in softmax memory: {ref['route'].mean():.2f}")
    print(f"compile: {compile_s:.2f} s   run: {run_s * 1e3:.1f} ms")
    print(f"max relative error vs float64 reference: {error:.2e} (tolerance {TOLERANCE:g})")
    return 0 if error <= TOLERANCE else 1


if __name__ == "__main__":
    sys.exit(main())
