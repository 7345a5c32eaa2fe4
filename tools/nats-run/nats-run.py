#!/usr/bin/env python3
"""nats-run: compile an MLIR file with nats and run one of its functions on .npy files.

    nats-run FILE.mlir --function NAME --inputs a.npy b.npy ... --outputs o.npy ...
             [--pipeline nats-cpu]

The function's tensor arguments are the inputs, its tensor results the
outputs, in order. Each input is checked against the function's signature
(shape and element type) before anything runs; on any error nothing is
written and the exit code is 1.
"""

import argparse
import os
import re
import sys
import time

# The package is staged next to the tools: build/bin/../python_packages.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)),
                                os.pardir, "python_packages"))

import numpy as np  # noqa: E402

import nats  # noqa: E402
from nats import runtime  # noqa: E402

_TENSOR = re.compile(r"tensor<((?:\d+x)*)([a-z0-9]+)>")


def _tensor_types(text):
    """[(shape, element type)] of the tensor types in `text`, in order."""
    types = []
    for dims, element in _TENSOR.findall(text):
        types.append((tuple(int(d) for d in dims.split("x") if d), element))
    return types


def signature(source, name):
    """Argument and result tensor types of func.func @name (static shapes)."""
    match = re.search(r"func\.func\s+@" + re.escape(name) + r"\s*\((.*?)\)\s*(->\s*(\([^{]*\)|[^{]*))?\{",
                      source, re.S)
    if not match:
        raise ValueError(f"no func.func @{name} in the file")
    args = _tensor_types(match.group(1))
    results = _tensor_types(match.group(3) or "")
    if len(args) != match.group(1).count(":"):
        raise ValueError(f"@{name}: every argument must be a statically shaped tensor")
    return args, results


def main(argv=None):
    parser = argparse.ArgumentParser(prog="nats-run", description=__doc__.splitlines()[0])
    parser.add_argument("file")
    parser.add_argument("--function", required=True)
    parser.add_argument("--inputs", nargs="*", default=[])
    parser.add_argument("--outputs", nargs="*", default=[])
    parser.add_argument("--pipeline", default="nats-cpu")
    args = parser.parse_args(argv)
    try:
        with open(args.file) as f:
            source = f.read()
        arg_types, result_types = signature(source, args.function)
        if len(args.inputs) != len(arg_types):
            raise ValueError(f"@{args.function} takes {len(arg_types)} inputs, "
                             f"got {len(args.inputs)} .npy files")
        if len(args.outputs) != len(result_types):
            raise ValueError(f"@{args.function} has {len(result_types)} results, "
                             f"got {len(args.outputs)} output files")
        inputs = []
        for i, (path, (shape, element)) in enumerate(zip(args.inputs, arg_types)):
            array = np.load(path)
            dtype = runtime.dtype_of(element)
            if array.shape != shape or array.dtype != dtype:
                raise ValueError(f"input {i} ({path}): expected {'x'.join(map(str, shape))} "
                                 f"{element}, got shape {array.shape} dtype {array.dtype}")
            inputs.append(np.ascontiguousarray(array))
        outputs = [np.full(shape, np.nan if element.startswith(("f", "bf")) else 0,
                           dtype=runtime.dtype_of(element)) for shape, element in result_types]
        module = nats.compile_module(source, args.pipeline)
        start = time.perf_counter()
        module.call(args.function, inputs + outputs)
        elapsed = time.perf_counter() - start
    except (OSError, ValueError, TypeError, nats.CompileError, runtime.RuntimeError_) as error:
        print(f"nats-run: error: {error}", file=sys.stderr)
        return 1
    for path, array in zip(args.outputs, outputs):
        np.save(path, array)
    print(f"nats-run: @{args.function} ran in {elapsed * 1e3:.2f} ms", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
