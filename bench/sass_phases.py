#!/usr/bin/env python3
"""Where a nats kernel spends its time, phase by phase: reads the SASS with
sampled warp stalls that `SASS_OUT=DIR bench/gpu_profile.sh` writes (Nsight
Compute's source page as CSV) and splits it at the block barriers
(BAR.SYNC): the threads of a block meet there after every linalg op that
nats-map-foralls-to-gpu gave them, so a phase is one op or a few. Prints,
per phase, its share of the samples, its top stall reasons, the warp
instructions it executed and what they were (tensor-core MMAs, shared and
global loads and stores, FP32 arithmetic, shuffles).

    python3 bench/sass_phases.py DIR/sass.csv [--kernel routed_softmax] [--top 12]
"""
import argparse
import csv
import re
import sys

KINDS = {  # SASS opcode prefix -> column
    "HMMA": "mma", "LDS": "lds", "STS": "sts", "LDG": "ldg", "STG": "stg",
    "LDL": "local", "STL": "local", "FFMA": "fp32", "FADD": "fp32", "FMUL": "fp32",
    "FMNMX": "fp32", "MUFU": "mufu", "SHFL": "shfl",
}


def read(path):
    """Kernel name -> its SASS rows as dicts, from a source-page CSV (the first
    launch of each kernel: a second one would count its samples twice)."""
    with open(path, newline="") as f:
        lines = [line for line in f if not line.startswith("==")]
    kernels, kernel, header = {}, None, None
    for row in csv.reader(lines):
        if row and row[0] == "Kernel Name":
            kernel = row[1] if row[1] not in kernels else None
            if kernel:
                kernels[kernel] = []
        elif row and row[0] == "Address":
            header = row
        elif kernel and header and len(row) == len(header):
            kernels[kernel].append(dict(zip(header, row)))
    kernels = {name: rows for name, rows in kernels.items() if rows}
    if not kernels:
        sys.exit(f"sass_phases: no SASS rows in {path}")
    return kernels


def number(text):
    return int(text) if text and text.lstrip("-").isdigit() else 0


def phases(rows):
    """Runs of instructions ending at each BAR.SYNC (and the tail)."""
    run = []
    for row in rows:
        run.append(row)
        if re.search(r"\bBAR\.SYNC", row["Source"]):
            yield run
            run = []
    if run:
        yield run


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv")
    parser.add_argument("--kernel", help="one kernel of the file (default: each)")
    parser.add_argument("--top", type=int, default=12, help="phases to print, most samples first")
    args = parser.parse_args()
    kernels = read(args.csv)
    if args.kernel and args.kernel not in kernels:
        sys.exit(f"sass_phases: no kernel {args.kernel} in {args.csv} (it has: {', '.join(kernels)})")
    for kernel, rows in kernels.items():
        if args.kernel in (None, kernel):
            report(kernel, rows, args.top)


def report(kernel, rows, top_phases):
    """The phases of one kernel with most samples, most first."""
    stalls = [c for c in rows[0] if c.startswith("stall_") and "Not Issued" not in c]
    total = sum(number(r["Warp Stall Sampling (All Samples)"]) for r in rows) or 1
    table = []
    for index, run in enumerate(phases(rows)):
        samples = sum(number(r["Warp Stall Sampling (All Samples)"]) for r in run)
        by_stall = {s: sum(number(r[s]) for r in run) for s in stalls}
        top = sorted(by_stall.items(), key=lambda kv: -kv[1])[:3]
        kinds = {}
        for r in run:
            opcode = r["Source"].split()[0] if r["Source"].split() else ""
            if opcode.startswith("@"):  # a predicate
                opcode = r["Source"].split()[1]
            for prefix, kind in KINDS.items():
                if opcode.startswith(prefix):
                    kinds[kind] = kinds.get(kind, 0) + number(r["Instructions Executed"])
        executed = sum(number(r["Instructions Executed"]) for r in run)
        table.append((samples, index, run[0]["Address"], len(run), executed, top, kinds))
    print(f"{kernel}: {len(table)} phases, {len(rows)} SASS instructions, {total} samples")
    print("phase  first address      SASS  samples  warp instr  top stalls (samples)"
          "                          instructions executed by kind")
    for samples, index, address, size, executed, top, kinds in sorted(table, reverse=True)[:top_phases]:
        stall_text = ", ".join(f"{s[6:]} {n}" for s, n in top if n)
        kind_text = " ".join(f"{k}={v}" for k, v in sorted(kinds.items(), key=lambda kv: -kv[1]))
        print(f"{index:5d}  {address:17s} {size:5d}  {100 * samples / total:6.1f}%  {executed:10d}"
              f"  {stall_text:44s}  {kind_text}")


if __name__ == "__main__":
    main()
