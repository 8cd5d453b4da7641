"""Helpers the benchmarks share: where the vectors are, and a best-of-N timer."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VECTORS_DIR = Path(os.environ.get("USERPKG_VECTORS_DIR", REPO / "tests" / "vectors"))


def rate(fn: Callable[[], object], count: int, rounds: int = 5) -> float:
    """Calls per second of `fn`, best of `rounds` runs of `count` calls: the least-disturbed run."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(count):
            fn()
        best = min(best, time.perf_counter() - start)
    return count / best


def paired_rates(
    first: Callable[[], object], second: Callable[[], object], count: int, rounds: int = 7
) -> tuple[float, float]:
    """Calls per second of each, best of `rounds`, the two timed in turn within each round:
    on a shared machine a quiet or busy minute then falls on both, not on one of them."""
    best = [float("inf"), float("inf")]
    for _ in range(rounds):
        for index, fn in enumerate((first, second)):
            start = time.perf_counter()
            for _ in range(count):
                fn()
            best[index] = min(best[index], time.perf_counter() - start)
    return count / best[0], count / best[1]
