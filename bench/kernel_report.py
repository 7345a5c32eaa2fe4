#!/usr/bin/env python3
"""The compiler's resource report for the kernels nats-gpu makes of a module:
per kernel, the registers a thread, the bytes spilled, the static shared
memory (ptxas -v), the threads and dynamic shared memory its launch asks
for, and so how many of its blocks an sm_90 SM holds at once (by registers,
shared memory and threads; the least is the limit). Runs here (no GPU): what
limits occupancy shows before a device call.

    PYTHONPATH=build/python_packages python3 bench/kernel_report.py in.mlir \
        [--pipeline 'nats-gpu{block-threads=1024}']

`in.mlir` holds nats ops (e.g. what nats.compiler.compile_module is given);
`--keep DIR` leaves each kernel's PTX there.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from nats import compiler

# gpu.binary @name [#gpu.object<#nvvm.target<... chip = "sm_90a" ...>, ..., assembly = "...">]
BINARY = re.compile(r'gpu\.binary @(\w+)\s.*?chip = "(\w+)".*?assembly = "((?:[^"\\]|\\.)*)"')
LAUNCH = re.compile(r"gpu\.launch_func .*?@(\w+)::@\w+ .*?dynamic_shared_memory_size (%\w+)")
THREADS = re.compile(r"gpu\.launch_func .*?@(\w+)::@\w+ .*?threads in \((%\w+), (%\w+), (%\w+)\)")
CONSTANT = re.compile(r"(%\w+) = llvm\.mlir\.constant\((-?\d+) : (?:i\d+|index)\) : i\d+")
PTXAS_USED = re.compile(r"Used (\d+) registers")
PTXAS_SPILL = re.compile(r"(\d+) bytes spill stores, (\d+) bytes spill loads")
PTXAS_SMEM = re.compile(r"(\d+) bytes smem")


def mlir_string(text):
    """The bytes of an MLIR string literal's body (\\XX hex escapes, \\\\, \\")."""
    return re.sub(rb"\\([0-9A-Fa-f]{2}|.)",
                  lambda m: bytes.fromhex(m[1].decode()) if len(m[1]) == 2 else m[1],
                  text.encode())


def ptxas():
    """ptxas of $CUDA_HOME (/usr/local/cuda), else from PATH."""
    candidate = Path(os.environ.get("CUDA_HOME", "/usr/local/cuda")) / "bin" / "ptxas"
    found = str(candidate) if candidate.is_file() else shutil.which("ptxas")
    if not found:
        sys.exit("kernel_report: ptxas not found (set CUDA_HOME)")
    return found


def dynamic_shared_bytes(host):
    """Kernel -> the dynamic shared memory its launch asks for, where a
    constant (it is: the workspace pass sizes it statically)."""
    constants = dict(CONSTANT.findall(host))
    return {kernel: int(constants[value]) for kernel, value in LAUNCH.findall(host)
            if value in constants}


def block_threads(host):
    """Kernel -> the threads of a block its launch asks for, where constants."""
    constants = dict(CONSTANT.findall(host))
    threads = {}
    for kernel, *dims in THREADS.findall(host):
        if all(dim in constants for dim in dims):
            threads[kernel] = int(constants[dims[0]]) * int(constants[dims[1]]) * int(constants[dims[2]])
    return threads


# An sm_90 SM: 65,536 registers (a warp's taken in units of 256), 228 KiB of
# shared memory (1 KiB of it reserved per block), 2048 threads, 32 blocks.
SM_REGISTERS, SM_SHARED, BLOCK_RESERVE, SM_THREADS, SM_BLOCKS = 65536, 228 << 10, 1 << 10, 2048, 32


def blocks_per_sm(registers, shared, threads):
    """The blocks of a kernel an SM holds at once, or None where unknown."""
    if threads is None or shared is None:
        return None
    warps = -(-threads // 32)
    warp_registers = -(-registers * 32 // 256) * 256
    by_registers = SM_REGISTERS // (warp_registers * warps) if registers else SM_BLOCKS
    return min(by_registers, SM_SHARED // (shared + BLOCK_RESERVE), SM_THREADS // threads, SM_BLOCKS)


def report(mlir_path, pipeline, keep):
    opt = compiler.tool("nats-opt")
    options = pipeline.split("{", 1)[1].rstrip("}") if "{" in pipeline else ""
    run = subprocess.run(
        [opt, str(mlir_path),
         f"--pass-pipeline=builtin.module(nats-gpu{{format=isa {options}}})"],
        capture_output=True, text=True)
    if run.returncode:
        sys.exit(f"kernel_report: nats-opt failed:\n{run.stderr}")
    lowered = run.stdout
    dynamic = dynamic_shared_bytes(lowered)
    threads = block_threads(lowered)
    ptxas_path = ptxas()
    rows = []
    for kernel, chip, assembly in BINARY.findall(lowered):
        ptx = Path(keep) / f"{kernel}.ptx"
        ptx.write_bytes(mlir_string(assembly))
        log = subprocess.run([ptxas_path, "-v", f"-arch={chip}", str(ptx), "-o", os.devnull],
                             check=True, capture_output=True, text=True).stderr
        spills = PTXAS_SPILL.search(log)
        registers = int(PTXAS_USED.search(log)[1])
        static = int(PTXAS_SMEM.search(log)[1]) if PTXAS_SMEM.search(log) else 0
        shared = static + dynamic[kernel] if kernel in dynamic else None
        fit = blocks_per_sm(registers, shared, threads.get(kernel))
        rows.append((kernel, str(registers), f"{spills[1]}/{spills[2]}", str(static),
                     str(dynamic.get(kernel, "?")), str(threads.get(kernel, "?")),
                     "?" if fit is None else str(fit)))
    header = ("kernel", "registers", "spill st/ld B", "static smem B", "dynamic smem B",
              "threads", "blocks/SM")
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
    for row in [header] + rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input", help="a module of nats ops")
    parser.add_argument("--pipeline", default="nats-gpu", help="nats-gpu{options}")
    parser.add_argument("--keep", help="a folder for the kernels' PTX")
    args = parser.parse_args()
    if args.pipeline.split("{", 1)[0].strip() != "nats-gpu":
        sys.exit(f"kernel_report: --pipeline must be nats-gpu{{...}}, got {args.pipeline!r}")
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
        report(args.input, args.pipeline, args.keep)
    else:
        with tempfile.TemporaryDirectory() as folder:
            report(args.input, args.pipeline, folder)


if __name__ == "__main__":
    main()
