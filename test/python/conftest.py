"""Shared pytest fixtures: `measured` collects the errors the numeric tests
measure, and the session ends with a table of them (the issue's "report the
measured value").

Options (for the numeric tests of nats.hybrid_attention): --target=cuda runs
them on the GPU; --compile-only compiles what they would run and runs
nothing (to fill $NATS_CACHE_DIR for the GPU machine, which cannot
compile); --seed=N changes every test's random inputs; --pipeline compiles
them through the target's pipeline with other options (e.g.
"nats-gpu{warp-reductions=0}").
"""

from types import SimpleNamespace

import pytest

OPTIONS = SimpleNamespace(target="cpu", compile_only=False, seed=0, pipeline=None)


def pytest_addoption(parser):
    parser.addoption("--target", choices=["cpu", "cuda"], default="cpu",
                     help="where nats.hybrid_attention runs in the numeric tests")
    parser.addoption("--compile-only", action="store_true",
                     help="compile what the numeric tests would run; run nothing")
    parser.addoption("--seed", type=int, default=0, help="offset of every input seed")
    parser.addoption("--pipeline", default=None,
                     help="the target's pipeline with options (default: its own)")


def pytest_configure(config):
    OPTIONS.target = config.getoption("--target")
    OPTIONS.compile_only = config.getoption("--compile-only")
    OPTIONS.seed = config.getoption("--seed")
    OPTIONS.pipeline = config.getoption("--pipeline")

_MEASURED: list[tuple[str, str, float, float]] = []


@pytest.fixture
def measured(request):
    """Call measured(quantity, error, tolerance) to record and assert."""
    def record(quantity, error, tolerance):
        _MEASURED.append((request.node.name, quantity, error, tolerance))
        assert error <= tolerance, f"{quantity}: error {error:.3e} > {tolerance:.1e}"
    return record


def pytest_terminal_summary(terminalreporter):
    if not _MEASURED:
        return
    worst: dict[tuple[str, float], float] = {}
    for name, quantity, error, tolerance in _MEASURED:
        group = (name.split("[")[0] + " " + quantity, tolerance)
        worst[group] = max(worst.get(group, 0.0), error)
    terminalreporter.section("measured max relative errors (worst per test and output)")
    for (group, tolerance), error in sorted(worst.items()):
        terminalreporter.write_line(f"{group:<60} {error:.2e}  (tolerance {tolerance:.1e})")
