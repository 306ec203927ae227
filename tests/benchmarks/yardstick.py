"""A yardstick of this machine's speed right now, printed beside timed figures.

These machines share their cores with others: the same code runs two or three times slower
at busy moments, and the yardstick shows which moment a figure was taken in.
"""

from __future__ import annotations

import time


def yardstick_ms() -> float:
    """Milliseconds a 1M-iteration pure-Python loop takes now (about 38 ms on a quiet machine here)."""
    started = time.perf_counter()
    total = 0
    for i in range(1_000_000):
        total += i
    return (time.perf_counter() - started) * 1000.0
