#!/usr/bin/env python3
"""nats' times in several bench/gpu_bench.py results files side by side: the
same cases through two builds' products (each its own $NATS_CACHE_DIR) or
through other --pipeline options, measured in one device call.

    python3 bench/compare_runs.py base.json other.json [more.json ...]

Per case (group and shape; routed fraction where there is one): the whole
op's ms in the first file, then in each other file its ms and the ratio to
the first's; then each file's per-kernel ms (kernels above 10 us). A file
that holds a case more than once (several calls' rows) gives its last.
"""
import argparse
import json
from pathlib import Path


def case_key(row):
    rho = row.get("rho")
    shape = "x".join(str(row[d]) for d in ("B", "T", "H", "D"))
    return f"{row['group']} {shape}" + (f" rho={rho:g}" if rho else "")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args()
    runs = [(path.stem, {case_key(r): r for r in json.loads(path.read_text())["rows"]
                         if r.get("nats_ms") is not None})
            for path in args.files]
    base = runs[0][1]
    print(f"{'case':<30}" + "".join(f"{name:>18}" for name, _ in runs))
    for key, row in base.items():
        cells = [f"{row['nats_ms']:.3f}"]
        for _, rows in runs[1:]:
            other = rows.get(key)
            cells.append("" if other is None else
                         f"{other['nats_ms']:.3f} {other['nats_ms'] / row['nats_ms']:.2f}x")
        print(f"{key:<30}" + "".join(f"{cell:>18}" for cell in cells))
    print()
    for key in base:
        for name, rows in runs:
            kernels = rows.get(key, {}).get("nats_kernel_ms", {})
            shown = " ".join(f"{kernel.removeprefix('gated_delta_')}={ms:.3f}"
                             for kernel, ms in kernels.items() if ms > 0.01)
            if shown:
                print(f"{key:<30} {name:<12} {shown}")


if __name__ == "__main__":
    main()
