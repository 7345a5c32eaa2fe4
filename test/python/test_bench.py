"""The GPU benchmark's bookkeeping (bench/gpu_bench.py), which runs only on a GPU
machine: its cases are the issue's, its work counts are right, its tables and
target checks read its rows. Nothing here needs torch or a GPU."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import gpu_bench  # noqa: E402


def test_cases_are_the_issues():
    groups = {}
    for c in gpu_bench.cases(gpu_bench.GROUPS):
        groups.setdefault(c.group, []).append(c)
    assert [len(groups[g]) for g in gpu_bench.GROUPS] == \
        [6, 8, 24, 2 * len(gpu_bench.LAYER_PIPELINES),
         len(gpu_bench.VARIANT_SHAPES) * len(gpu_bench.VARIANTS)]
    assert groups["variants"][0].pipeline is None  # the default first: the others compare to it
    for c in groups["M3"]:
        assert (c.B * c.T, c.H * c.D, c.Hs, c.R) == (16384, 2048, c.H, c.H)
    assert {c.rho for c in groups["M3"]} == set(gpu_bench.M3_RHO)
    assert all(c.rho == 0 for g in ("M1", "M2") for c in groups[g])


def test_groups_run_in_the_order_given():
    """A device call cut off at its limit keeps the groups named first."""
    order = [c.group for c in gpu_bench.cases(["variants", "M1"])]
    assert order == ["variants"] * len(gpu_bench.VARIANT_SHAPES) * len(gpu_bench.VARIANTS) + \
        ["M1"] * len(gpu_bench.M1)


def test_shapes_pick_cases():
    """--shapes: a call measures the shapes an earlier one did not reach."""
    assert gpu_bench.shape_set("8x2048x32x256,1x16384x32x64") == \
        {(8, 2048, 32, 256), (1, 16384, 32, 64)}
    for bad in ("8x1024", "8x1024x8x64,", "8xax8x64"):
        with pytest.raises(argparse.ArgumentTypeError, match="expected BxTxHxD"):
            gpu_bench.shape_set(bad)
    picked = list(gpu_bench.cases(["M1", "M3"], shapes={(8, 2048, 32, 256), (1, 16384, 32, 64)}))
    assert [(c.group, c.B, c.T, c.H, c.D) for c in picked] == \
        [("M1", 8, 2048, 32, 256)] + [("M3", 1, 16384, 32, 64)] * len(gpu_bench.M3_RHO)


@pytest.mark.parametrize("T", [1, 64, 200, 256])
def test_visited_pairs_counts_the_routed_mask(T):
    """Against the mask of spec §3.3 (window 0), pair by pair."""
    rng = np.random.default_rng(T)
    B, R, heads, C = 2, 2, 4, gpu_bench.CHUNK
    route = rng.random((B, -(-T // C), R)) < 0.4
    i, j = np.tril_indices(T)
    expected = sum(int(((i // C == j // C) | route[b, j // C, h // (heads // R)]).sum())
                   for b in range(B) for h in range(heads))
    assert gpu_bench.visited_pairs(T, route, heads) == expected


def test_every_route_kept_is_dense_causal():
    T, heads, dim = 300, 3, 16
    route = np.ones((1, -(-T // gpu_bench.CHUNK), 1), bool)
    assert gpu_bench.softmax_flops(T, route, heads, dim) == \
        gpu_bench.dense_causal_flops(1, T, heads, dim)


def rows():
    """One M1 row and the M3 rows of one shape, with made-up times."""
    m1 = dict(group="M1", B=1, T=8192, H=8, D=128, rho=0.0, nats_ms=2.0, fla_ms=1.0)
    m3 = [dict(group="M3", B=1, T=16384, H=16, D=128, rho=rho, nats_ms=2.0 + rho,
               nats_linear_ms=1.9, nats_softmax_tflops=100.0, sdpa_flash_tflops=400.0,
               unfused_ms=3.0) for rho in gpu_bench.M3_RHO]
    return [m1] + m3


def test_tables_show_ratios():
    lines = gpu_bench.table(rows(), "M1").splitlines()
    assert len(lines) == 3
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    cells = [c.strip() for c in lines[2].strip("|").split("|")]
    assert cells[header.index("fla/nats")] == "0.5"
    assert cells[header.index("o_diff_vs_fla")] == "-"


def test_targets_say_met_or_not():
    values = [(value, met) for _, value, met in gpu_bench.targets(rows())]
    assert len(values) == 4
    assert values[0] == (0.5, False)                     # FLA/nats
    assert values[1] == (0.25, False)                    # softmax share of SDPA flash
    assert values[2] == (pytest.approx(2.0 / 1.9), False)  # rho = 0 over the linear branch
    assert values[3] == (pytest.approx(3.0 / 2.25), True)  # unfused/nats, rho <= 1/4


def test_compare_runs_puts_builds_side_by_side(tmp_path, capsys, monkeypatch):
    """compare_runs: each case's ms in the first file, then the others' with
    their ratios to it; a file's last row of a case counts."""
    import compare_runs

    def row(ms, **kernels):
        return dict(group="M1", B=1, T=8192, H=96, D=128, rho=0.0, nats_ms=ms,
                    nats_kernel_ms=kernels)

    base, new = tmp_path / "base.json", tmp_path / "new.json"
    base.write_text(json.dumps({"rows": [row(9.0), row(2.0, gated_delta_state_pass=1.0)]}))
    new.write_text(json.dumps({"rows": [row(1.5, gated_delta_state_pass=0.5)]}))
    monkeypatch.setattr(sys, "argv", ["compare_runs.py", str(base), str(new)])
    compare_runs.main()
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split() == ["M1", "1x8192x96x128", "2.000", "1.500", "0.75x"]
    assert any("state_pass=0.500" in line and "new" in line for line in lines)
