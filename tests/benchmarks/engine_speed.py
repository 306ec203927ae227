"""Benchmark: the groove engine in-process, 4 variations x 4 bars (target <= 5 ms median).

Run: .venv/bin/python -m tests.benchmarks.engine_speed
"""

from __future__ import annotations

import statistics
import time

from mididrumigen.generation.groove_engine import generate_grooves
from mididrumigen.generation.request import GenerationRequest
from mididrumigen.generation.styles import STYLES
from tests.benchmarks.yardstick import yardstick_ms

RUNS_PER_STYLE = 40
TARGET_MS = 5.0


def main() -> None:
    """Time generate_grooves for every style (parsed styles cached, as in the daemon) and print the figures."""
    for key in STYLES:  # warm the per-meter pattern cache once, as a running daemon has it
        generate_grooves(GenerationRequest(style=key, bars=4, variations=4, seed=0))
    times_ms: list[float] = []
    per_style: dict[str, float] = {}
    for key in STYLES:
        style_times = []
        for seed in range(RUNS_PER_STYLE):
            request = GenerationRequest(style=key, bars=4, variations=4, seed=seed)
            started = time.perf_counter()
            generate_grooves(request)
            style_times.append((time.perf_counter() - started) * 1000)
        per_style[key] = statistics.median(style_times)
        times_ms.extend(style_times)
    times_ms.sort()
    median = statistics.median(times_ms)
    p95 = times_ms[int(0.95 * (len(times_ms) - 1))]
    slowest = max(per_style, key=per_style.__getitem__)
    print(f"groove engine, 4 variations x 4 bars, {len(times_ms)} runs over {len(STYLES)} styles")
    print(
        f"median {median:.2f} ms, p95 {p95:.2f} ms (target median <= {TARGET_MS:g} ms: "
        f"{'PASS' if median <= TARGET_MS else 'FAIL'}, ratio {median / TARGET_MS:.2f})"
    )
    print(f"slowest style: {slowest} median {per_style[slowest]:.2f} ms")
    print(f"machine yardstick: 1M-iteration Python loop {yardstick_ms():.0f} ms")


if __name__ == "__main__":
    main()
