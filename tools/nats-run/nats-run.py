#!/usr/bin/env python3
"""nats-run: compile an MLIR file with nats and run one of its functions on .npy files.

    nats-run FILE.mlir --function NAME --inputs a.npy b.npy ... --outputs o.npy ...
             [--target cpu|cuda] [--pipeline PIPELINE]

The function's tensor arguments are the inputs, its tensor results the
outputs, in order. Each input is checked against the function's signature
(shape and element type) before anything runs; on any error nothing is
written and the exit code is 1.
"""

import argparse
import os
import sys
import tempfile
import time

# The package is staged next to the tools: build/bin/../python_packages.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)),
                                os.pardir, "python_packages"))

import numpy as np  # noqa: E402

import nats  # noqa: E402
from nats import runtime  # noqa: E402


def signature(source, name):
    """The signature of func.func @name in `source`: statically shaped
    tensor (or memref) arguments and results only."""
    found = runtime.parse_signatures(source).get(name)
    if found is None:
        raise ValueError(f"no func.func @{name} in the file")
    for kind, types in (("argument", found.arguments), ("result", found.results)):
        for i, t in enumerate(types):
            if not isinstance(t, runtime.TensorType) or not t.static:
                raise ValueError(f"@{name} {kind} {i} has type {t}: nats-run takes "
                                 "statically shaped tensors only")
    return found


def load_input(index, path, expected):
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise ValueError(f"input {index} ({path}): cannot read a .npy file: {error}") from None
    if not isinstance(array, np.ndarray):  # an .npz archive
        raise ValueError(f"input {index} ({path}): expected one array (.npy), "
                         "got an archive")
    problem = expected.mismatch(array)
    if problem:
        raise ValueError(f"input {index} ({path}): {problem}")
    return np.ascontiguousarray(array)


def save_all(paths, arrays):
    """Writes every output, or none: each to a temporary file beside its
    destination first, then all renamed into place."""
    temporaries = []
    try:
        for path, array in zip(paths, arrays):
            directory = os.path.dirname(os.path.abspath(path))
            fd, temporary = tempfile.mkstemp(dir=directory, prefix=".nats-run-", suffix=".npy")
            temporaries.append(temporary)
            with os.fdopen(fd, "wb") as f:
                np.save(f, array)
        for path, temporary in zip(paths, temporaries):
            os.replace(temporary, path)
        temporaries = []
    finally:
        for temporary in temporaries:
            if os.path.exists(temporary):
                os.unlink(temporary)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="nats-run", description=__doc__.splitlines()[0])
    parser.add_argument("file")
    parser.add_argument("--function", required=True)
    parser.add_argument("--inputs", nargs="*", default=[])
    parser.add_argument("--outputs", nargs="*", default=[])
    parser.add_argument("--target", choices=["cpu", "cuda"], default="cpu",
                        help="where to run: cuda copies the arrays to the GPU and back")
    parser.add_argument("--pipeline", help="a registered pipeline with options "
                        "(default: the target's, nats-cpu or nats-gpu)")
    args = parser.parse_args(argv)
    try:
        with open(args.file) as f:
            source = f.read()
        found = signature(source, args.function)
        if len(args.inputs) != len(found.arguments):
            raise ValueError(f"@{args.function} takes {len(found.arguments)} inputs, "
                             f"got {len(args.inputs)} .npy files")
        if len(args.outputs) != len(found.results):
            raise ValueError(f"@{args.function} has {len(found.results)} results, "
                             f"got {len(args.outputs)} output files")
        inputs = [load_input(i, path, t)
                  for i, (path, t) in enumerate(zip(args.inputs, found.arguments))]
        # Poisoned outputs: what the compiled code does not write stays NaN.
        outputs = []
        for t in found.results:
            poison = np.nan if t.element_type.startswith(("f", "bf")) else 0
            outputs.append(np.full(t.shape, poison, dtype=runtime.dtype_of(t.element_type)))
        module = nats.compile_module(source, args.pipeline, target=args.target)
        arrays = inputs + outputs
        if args.target == "cuda":
            from nats import cuda
            arrays = [cuda.DeviceArray.from_host(a) for a in arrays]
        start = time.perf_counter()
        module.call(args.function, arrays)
        if args.target == "cuda":
            cuda.synchronize()
            outputs = [a.to_host() for a in arrays[len(inputs):]]
        elapsed = time.perf_counter() - start
        save_all(args.outputs, outputs)
    except (OSError, ValueError, TypeError, nats.CompileError, runtime.RuntimeError_) as error:
        print(f"nats-run: error: {error}", file=sys.stderr)
        return 1
    print(f"nats-run: @{args.function} ran in {elapsed * 1e3:.2f} ms", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
