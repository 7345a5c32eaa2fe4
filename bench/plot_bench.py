"""Plots of a bench/gpu_bench.py results file, for docs/benchmarks.md.

    python3 bench/plot_bench.py docs/bench/run1.json [MORE.json ...] [--out-dir docs/bench]

Writes time_vs_T.png (M2: ms against T, nats and FLA), time_vs_rho.png (M3: ms
against the routed fraction, nats and every baseline) and roofline.png (the
fraction of the measured roofline each case reaches, nats and its baseline).
The two time plots take the rows of the default pipeline only (a file may also
hold a group through other options, as its `pipeline` says); the roofline
names each row's pipeline.
Several results files (one device call per part of the groups) are read as
one: their rows together, the device and ceilings of the first. `--build B`
keeps the rows whose `build` is B (a call that compared builds tags each
row with its own).
Needs matplotlib (pip install matplotlib); runs anywhere, from the JSON alone.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)


def rows_of(results, group, default_only=False):
    """A group's measured rows; with `default_only`, only those of the default
    pipeline (a results file may also hold the group through other options)."""
    return [r for r in results["rows"]
            if r["group"] == group and "error" not in r and "invalid" not in r
            and not (default_only and r.get("pipeline"))]


def roofline(row, ms, ceilings):
    """Fraction of the measured roofline a time reaches on a row's work."""
    floor_ms = max(row["gflop"] / ceilings["bf16_tflops"], row["mbytes"] / ceilings["copy_gbs"])
    return floor_ms / ms


def time_vs_tokens(results, path):
    rows = rows_of(results, "M2", default_only=True)
    fig, ax = plt.subplots(figsize=(6, 4))
    for heads in sorted({r["H"] for r in rows}):
        sel = sorted((r for r in rows if r["H"] == heads), key=lambda r: r["T"])
        T = [r["T"] for r in sel]
        ax.plot(T, [r["nats_ms"] for r in sel], "o-", label=f"nats, H={heads}")
        ax.plot(T, [r["fla_ms"] for r in sel], "s--", label=f"FLA, H={heads}")
    ax.set(xscale="log", yscale="log", xlabel="T (tokens), B = 1, D = 128", ylabel="ms",
           title=f"M2: linear branch (every route 0), {results['device']}")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


M3_SERIES = [("nats_ms", "nats (whole op)", "o-"), ("nats_softmax_ms", "nats routed softmax", "o:"),
             ("flex_ms", "FlexAttention (compiled)", "s--"), ("sdpa_flash_ms", "SDPA flash", "^-."),
             ("sdpa_cudnn_ms", "SDPA cuDNN", "v-."), ("fla_ms", "FLA GDN alone", "d--"),
             ("unfused_ms", "FLA GDN + FlexAttention", "x-")]


def time_vs_rho(results, path):
    rows = rows_of(results, "M3", default_only=True)
    shapes = sorted({(r["T"], r["D"]) for r in rows})
    cols = min(2, len(shapes))
    rows_ = -(-len(shapes) // cols)
    fig, axes = plt.subplots(rows_, cols, figsize=(5.5 * cols, 4 * rows_), squeeze=False)
    for ax, (T, D) in zip(axes.flat, shapes):
        sel = sorted((r for r in rows if (r["T"], r["D"]) == (T, D)), key=lambda r: r["rho"])
        for key, label, style in M3_SERIES:
            points = [(r["rho"], r[key]) for r in sel if r.get(key)]
            if points:
                ax.plot(*zip(*points), style, label=label)
        ax.set(xlabel="routed fraction rho", ylabel="ms", title=f"T={T}, D={D}, B={sel[0]['B']}")
    axes[0][0].legend(fontsize=7)
    fig.suptitle(f"M3: routed fraction sweep, {results['device']}")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def roofline_bars(results, path):
    ceilings = results["ceilings"]
    rows = [r for group in ("M1", "M2", "layer") for r in rows_of(results, group)]
    # A pipeline by its options alone: the labels must fit under the bars.
    labels = [f"{r['group']} {r['B']}x{r['T']}x{r['H']}x{r['D']} "
              f"{(r.get('pipeline') or '').removeprefix('nats-gpu{').removesuffix('}')}"
              for r in rows]
    baseline = [("fla_ms", "FLA"), ("torch_ms", "torch + FLA + Flex")]
    fig, ax = plt.subplots(figsize=(max(6, 0.5 * len(rows)), 5.5))
    x = range(len(rows))
    ax.bar([i - 0.2 for i in x], [roofline(r, r["nats_ms"], ceilings) for r in rows], 0.4,
           label="nats")
    ax.bar([i + 0.2 for i in x],
           [roofline(r, next(r[k] for k, _ in baseline if r.get(k)), ceilings) for r in rows],
           0.4, label="baseline (FLA; the layer: torch + FLA + Flex)")
    ax.set_xticks(list(x), labels, rotation=60, ha="right", fontsize=7)
    ax.set(yscale="log", ylabel="fraction of the measured roofline",
           title=f"copy {ceilings['copy_gbs']:.0f} GB/s, bf16 {ceilings['bf16_tflops']:.0f} TFLOP/s")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+")
    parser.add_argument("--out-dir", default=None, help="default: beside the first results file")
    parser.add_argument("--build", default=None, help="only the rows of this build")
    args = parser.parse_args()
    parts = [json.loads(Path(path).read_text()) for path in args.results]
    results = dict(parts[0], rows=[row for part in parts for row in part["rows"]
                                   if args.build is None or row.get("build") == args.build])
    out = Path(args.out_dir or Path(args.results[0]).parent)
    out.mkdir(parents=True, exist_ok=True)
    for name, plot, group in (("time_vs_T.png", time_vs_tokens, "M2"),
                              ("time_vs_rho.png", time_vs_rho, "M3"),
                              ("roofline.png", roofline_bars, ("M1", "M2", "layer"))):
        if any(rows_of(results, g) for g in ((group,) if isinstance(group, str) else group)):
            plot(results, out / name)
            print(out / name)


if __name__ == "__main__":
    main()
