"""Shared pytest fixtures: `measured` collects the errors the numeric tests
measure, and the session ends with a table of them (the issue's "report the
measured value")."""

import pytest

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
