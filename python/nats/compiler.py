"""Compiling MLIR through nats to a shared object.

`nats-opt` runs a registered pipeline (by default `nats-cpu`, which ends in
the LLVM dialect), `mlir-translate` makes LLVM IR of it, `opt -O3` optimises
that (the loops that linalg became are vectorised and unrolled here, not by
llc), `llc` turns it into an object file,
and the system C compiler links it into a shared object.

Products are cached on disk by a hash of what they compute (the source, the
pipeline, the target); how one was made (the tools, the flags, the C
compiler) is written beside it. Where
the tools are, a product made by other tools (a rebuilt nats-opt) is made
again; where they are not (the GPU machine, which has no MLIR), any product
of the right hash is used: products compiled here travel there in a cache
directory ($NATS_CACHE_DIR).

The "cpu" target links the MLIR C runner utilities (memrefCopy); the "cuda"
target's products call the nats CUDA runtime (`nats.cuda`), which is loaded
before them.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from . import runtime

__all__ = ["CompileError", "compile_module", "cache_dir", "tool"]

# The environment variables that override each tool.
TOOL_OVERRIDES = {"nats-opt": "NATS_OPT", "mlir-translate": "NATS_MLIR_TRANSLATE",
                  "opt": "NATS_LLVM_OPT", "llc": "NATS_LLC"}

LLVM_BIN = Path("/usr/lib/llvm-22/bin")
LLVM_LIB = Path("/usr/lib/llvm-22/lib")
# How an object is made and linked; part of the cache key. The target is the
# baseline x86-64 (no -mcpu=native), so that products travel between machines.
OPT_FLAGS = ["-O3"]
LLC_FLAGS = ["-O3", "-filetype=obj", "-relocation-model=pic"]
# -Bsymbolic: calls inside the object bind to its own functions, never to a
# global symbol of the same name (a function @select must not call libc's).
LINK_FLAGS = {
    "cpu": ["-shared", "-Wl,-Bsymbolic", f"-L{LLVM_LIB}", "-lmlir_c_runner_utils",
            f"-Wl,-rpath,{LLVM_LIB}"],
    # The mgpu* calls resolve to the runtime, loaded first with RTLD_GLOBAL.
    "cuda": ["-shared", "-Wl,-Bsymbolic"],
}
PIPELINES = {"cpu": "nats-cpu", "cuda": "nats-gpu"}


class CompileError(RuntimeError):
    """A compile step failed; the message holds the tool's diagnostics."""


class ToolNotFound(CompileError):
    """A tool is neither overridden nor installed (a machine without MLIR)."""


def tool(name: str) -> str:
    """Path of a tool: an override from the environment (TOOL_OVERRIDES:
    $NATS_OPT for nats-opt, $NATS_LLVM_OPT for LLVM's opt, ...); nats-opt from
    the build tree the package was staged in (build/python_packages/nats ->
    build/bin); LLVM tools from the LLVM 22 installation; else PATH."""
    variable = TOOL_OVERRIDES.get(name, "NATS_" + name.upper().replace("-", "_"))
    override = os.environ.get(variable)
    if override:
        found = shutil.which(override)
        if not found:
            raise CompileError(f"${variable} = {override} is not an executable")
        return found
    candidates = [Path(__file__).resolve().parents[2] / "bin" / name, LLVM_BIN / name]
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which(name)
    if not found:
        raise ToolNotFound(f"cannot find the tool '{name}' (build nats first: utils/build.sh)")
    return found


def _mark_used(product: Path) -> None:
    """A product used again gets a new modification time, so that a cache can be
    pruned of what nothing asks for any more (bench/gpu_prepare.sh does); a
    read-only cache stays as it is."""
    for path in (product, product.with_name(product.name + ".json")):
        try:
            os.utime(path)
        except OSError:
            pass


def cache_dir() -> Path:
    path = Path(os.environ.get("NATS_CACHE_DIR", Path.home() / ".cache" / "nats"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def _run(args: list[str], stdin: str | None = None) -> str:
    try:
        result = subprocess.run(args, input=stdin, capture_output=True, text=True)
    except OSError as error:
        raise CompileError(f"cannot run {args[0]}: {error}") from None
    if result.returncode != 0:
        raise CompileError(f"{Path(args[0]).name} failed:\n{result.stderr.strip()}")
    return result.stdout


def _fingerprint(*tools: str) -> str:
    """Identifies the tools by path, size and modification time (a rebuilt
    nats-opt changes it; the nats libraries are linked into it statically)."""
    parts = []
    for path in tools:
        stat = os.stat(path)
        parts.append(f"{path}:{stat.st_size}:{stat.st_mtime_ns}")
    return ";".join(parts)


def _tools():
    """The four tools, or None where they are not installed. A bad override
    ($NATS_OPT naming no executable) is an error, not a missing tool."""
    try:
        return [tool(name) for name in ("nats-opt", "mlir-translate", "opt", "llc")]
    except ToolNotFound:
        return None


def compile_module(source: str, pipeline: str | None = None,
                   target: str = "cpu", load: bool = True) -> runtime.Module | None:
    """Compiles MLIR `source` through `pipeline` (a registered pipeline with
    options, e.g. "nats-cpu{tile-size=32}", or a full textual pipeline
    "builtin.module(...)"; by default the target's: nats-cpu or nats-gpu)
    and loads the shared object.

    Public functions are callable with `Module.call(name, inputs + outputs)`;
    for the "cuda" target they take device arrays (`nats.cuda.DeviceArray`).
    Note that one-shot bufferization may reuse a tensor argument's buffer
    unless the argument carries `{bufferization.writable = false}`: without
    it a compiled function may write into its input arrays.

    The product is cached under `cache_dir()`; `Module.compile_times` holds
    the seconds each step took (empty when the product came from the cache).
    With `load=False` it is only compiled (for another machine), and None is
    returned.
    """
    if target not in LINK_FLAGS:
        raise ValueError(f"target: expected one of {sorted(LINK_FLAGS)}, got {target!r}")
    pipeline = pipeline or PIPELINES[target]
    cc = os.environ.get("CC", "cc")
    if not pipeline.startswith("builtin.module("):
        pipeline = f"builtin.module({pipeline})"
    # The key is what the product computes; how it was made (tools, flags,
    # the C compiler) is its fingerprint, checked only where it can be remade.
    key = hashlib.sha256("\0".join([source, pipeline, target]).encode()).hexdigest()[:32]
    product = cache_dir() / f"{key}.so"
    tools = _tools()
    fingerprint = None
    if tools:
        fingerprint = " ".join([_fingerprint(*tools), cc, *OPT_FLAGS, *LLC_FLAGS,
                                *LINK_FLAGS[target]])
    made_with = runtime.built_with(product) if product.exists() else None
    times = {}
    if made_with is None or (tools and made_with != fingerprint):
        if not tools:
            raise CompileError("this function is not in the cache "
                               f"({cache_dir()}) and the tools to compile it are not here: "
                               "compile it where nats is built, with the same $NATS_CACHE_DIR")
        nats_opt, translate, opt, llc = tools
        start = time.perf_counter()
        llvm_dialect = _run([nats_opt, f"--pass-pipeline={pipeline}"], source)
        times["nats-opt"] = time.perf_counter() - start
        signatures = runtime.parse_signatures(source)  # the source parsed: it is well formed
        start = time.perf_counter()
        llvm_ir = _run([translate, "--mlir-to-llvmir"], llvm_dialect)
        times["mlir-translate"] = time.perf_counter() - start
        start = time.perf_counter()
        llvm_ir = _run([opt, *OPT_FLAGS, "-S"], llvm_ir)
        times["opt"] = time.perf_counter() - start
        with tempfile.TemporaryDirectory(dir=cache_dir()) as work:
            obj = Path(work) / "module.o"
            shared = Path(work) / "module.so"
            start = time.perf_counter()
            _run([llc, *LLC_FLAGS, "-o", str(obj)], llvm_ir)
            times["llc"] = time.perf_counter() - start
            start = time.perf_counter()
            _run([cc, str(obj), "-o", str(shared), *LINK_FLAGS[target]])
            times["cc"] = time.perf_counter() - start
            # The signatures first, then the object: once the .so is there,
            # so is everything beside it. Both renames are atomic.
            sidecar = Path(work) / "module.so.json"
            runtime.save_signatures(sidecar, signatures, fingerprint)
            os.replace(sidecar, product.with_name(product.name + ".json"))
            os.replace(shared, product)
    else:
        _mark_used(product)
    if not load:
        return None
    if target == "cuda":
        from . import cuda
        cuda.load()
    module = runtime.Module(product)
    module.compile_times = times
    return module
