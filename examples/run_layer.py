#!/usr/bin/env python3
"""The main job: compile the example NAtS-L layer graph with nats, run it on inputs and
weights from a fixed seed, and compare with the float64 reference.

    PYTHONPATH=build/python_packages python3 examples/run_layer.py [--seed N] [--target cuda]
        [--sizes example|340m] [--tokens N] [--dtype float32|bfloat16] [--pipeline P]
        [--compile-only]

The graph is `nats.layer.graph` (python/nats/layer.py; the build writes the default one to
build/examples/nats_l_layer.mlir): by default the example sizes at B=1, T=1024 in f32;
--sizes 340m is one layer of the paper's 340M model. --dtype bfloat16 rounds x and the
weights to bf16 and compares with the float64 reference on the rounded values. --target cuda
runs on the GPU (the layer's every op a kernel); --pipeline compiles through the target's
pipeline with other options (e.g. "nats-gpu{block-threads=1024}"); --compile-only only fills the cache
($NATS_CACHE_DIR) for a machine without the compiler (bench/gpu_prepare.sh).

Prints the route density, the compile and run times and the maximum relative error of
the layer output against `nats.reference.layer` (target: <= 1e-4 at f32, 2e-2 at bf16).
"""

import argparse
import sys
import time

import numpy as np

import nats
from nats import layer, reference

B = layer.EXAMPLE_BATCH
# bf16 keeps 8 bits of mantissa: the core op's operands and the result are rounded to it.
TOLERANCE = {"float32": 1e-4, "bfloat16": 2e-2}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--target", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--sizes", choices=layer.SIZES, default="example")
    parser.add_argument("--tokens", type=int, default=layer.EXAMPLE_TOKENS)
    parser.add_argument("--dtype", choices=TOLERANCE, default="float32")
    parser.add_argument("--pipeline", default=None,
                        help="the target's pipeline with options (default: its own)")
    parser.add_argument("--compile-only", action="store_true")
    args = parser.parse_args()
    config, T = layer.SIZES[args.sizes], args.tokens
    source = layer.graph(config, B, T, args.dtype)
    if args.compile_only:
        nats.compile_module(source, pipeline=args.pipeline, target=args.target, load=False)
        return 0

    weights = reference.init_layer_weights(config, seed=args.seed)
    x = np.random.default_rng(args.seed + 1).standard_normal((B, T, config.D), dtype=np.float32)
    inputs = layer.arguments(x, weights, args.dtype)

    start = time.perf_counter()
    module = nats.compile_module(source, pipeline=args.pipeline, target=args.target)
    compile_s = time.perf_counter() - start

    out = np.full((B, T, config.D), np.nan, inputs[0].dtype)
    if args.target == "cuda":
        from nats import cuda
        args_in = [cuda.DeviceArray.from_host(a) for a in inputs]
        device_out = cuda.DeviceArray.from_host(out)
        run = lambda: (module.call("nats_l_layer", args_in + [device_out]), cuda.synchronize())
    else:
        run = lambda: module.call("nats_l_layer", inputs + [out])
    run()  # warm-up
    start = time.perf_counter()
    run()
    run_s = time.perf_counter() - start
    if args.target == "cuda":
        out = device_out.to_host()

    # The reference sees what the graph saw: the inputs rounded to the graph's dtype.
    ref = reference.layer_intermediates(inputs[0], dict(zip(layer.WEIGHT_NAMES, inputs[1:])),
                                        config)
    out = out.astype(np.float64)
    error = float(np.abs(out - ref["out"]).max() / np.abs(ref["out"]).max())
    tolerance = TOLERANCE[args.dtype]
    print(f"NAtS-L layer B={B} T={T} D={config.D} H={config.H} K={config.K} V={config.V} "
          f"Hs={config.Hs} Ks={config.Ks} Vs={config.Vs} R={config.R} C={config.chunk_size}, "
          f"{layer.ELEMENT_TYPES[args.dtype]}, on {args.target}")
    print(f"chunks kept in softmax memory: {ref['route'].mean():.2f}")
    print(f"compile: {compile_s:.2f} s   run: {run_s * 1e3:.1f} ms")
    print(f"max relative error vs float64 reference: {error:.2e} (tolerance {tolerance:g})")
    return 0 if error <= tolerance else 1


if __name__ == "__main__":
    sys.exit(main())
