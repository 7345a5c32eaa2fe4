"""What the benchmarks measure, the same way in each: errors and median times."""

from __future__ import annotations

import statistics
import time

import numpy as np


def rel_err(actual, expected) -> float:
    """max |actual - expected| / max |expected|, in float64 (a reference of
    all zeros counts as 1e-30)."""
    actual = np.asarray(actual, np.float64)
    return float(np.abs(actual - expected).max() / max(np.abs(expected).max(), 1e-30))


def median_seconds(run, repeat, sync=lambda: None) -> float:
    """The median of `repeat` timed calls of `run` after one warm-up (and,
    for nats, compilation); `sync` waits for the device around each."""
    run()
    sync()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
