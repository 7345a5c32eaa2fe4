"""Compiling MLIR through nats to a shared object.

`nats-opt` runs a registered pipeline (by default `nats-cpu`, which ends in
the LLVM dialect), `mlir-translate` and `llc` turn that into an object file,
and the system C compiler links it into a shared object. Products are cached
on disk by a hash of the source, the pipeline and the tools, so a shape is
compiled once per machine; the objects can travel to a machine without MLIR.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from . import runtime

__all__ = ["CompileError", "compile_module", "cache_dir", "tool"]

LLVM_BIN = Path("/usr/lib/llvm-22/bin")
LLVM_LIB = Path("/usr/lib/llvm-22/lib")


class CompileError(RuntimeError):
    """A compile step failed; the message holds the tool's diagnostics."""


def tool(name: str) -> str:
    """Path of a tool: $NATS_<NAME> if set; nats-opt from the build tree the
    package was staged in (build/python_packages/nats -> build/bin); LLVM
    tools from the LLVM 22 installation; else PATH."""
    override = os.environ.get("NATS_" + name.upper().replace("-", "_"))
    if override:
        return override
    candidates = [Path(__file__).resolve().parents[2] / "bin" / name, LLVM_BIN / name]
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which(name)
    if not found:
        raise CompileError(f"cannot find the tool '{name}' (build nats first: utils/build.sh)")
    return found


def cache_dir() -> Path:
    path = Path(os.environ.get("NATS_CACHE_DIR", Path.home() / ".cache" / "nats"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def _run(args: list[str], stdin: str | None = None) -> str:
    result = subprocess.run(args, input=stdin, capture_output=True, text=True)
    if result.returncode != 0:
        raise CompileError(f"{Path(args[0]).name} failed:\n{result.stderr.strip()}")
    return result.stdout


def _fingerprint(*tools: str) -> str:
    """Identifies the tools by path, size and modification time."""
    parts = []
    for path in tools:
        stat = os.stat(path)
        parts.append(f"{path}:{stat.st_size}:{stat.st_mtime_ns}")
    return ";".join(parts)


def compile_module(source: str, pipeline: str = "nats-cpu") -> runtime.Module:
    """Compiles MLIR `source` through `pipeline` (a registered pipeline with
    options, e.g. "nats-cpu{tile-size=32}") and loads the shared object."""
    opt, translate, llc = tool("nats-opt"), tool("mlir-translate"), tool("llc")
    key = hashlib.sha256("\0".join(
        [source, pipeline, _fingerprint(opt, translate, llc)]).encode()).hexdigest()[:32]
    product = cache_dir() / f"{key}.so"
    if not product.exists():
        llvm_dialect = _run([opt, f"--pass-pipeline=builtin.module({pipeline})"], source)
        llvm_ir = _run([translate, "--mlir-to-llvmir"], llvm_dialect)
        with tempfile.TemporaryDirectory(dir=cache_dir()) as work:
            obj = Path(work) / "module.o"
            shared = Path(work) / "module.so"
            _run([llc, "-O3", "-filetype=obj", "-relocation-model=pic", "-o", str(obj)], llvm_ir)
            _run([os.environ.get("CC", "cc"), "-shared", "-o", str(shared), str(obj),
                  f"-L{LLVM_LIB}", "-lmlir_c_runner_utils", f"-Wl,-rpath,{LLVM_LIB}"])
            os.replace(shared, product)  # atomic: a concurrent reader sees all or nothing
    return runtime.Module(product)
