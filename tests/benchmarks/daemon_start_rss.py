"""Benchmark: daemon start to /health ready (target <= 1.5 s) and idle RSS (target <= 150 MB), with its engine worker.

Run: .venv/bin/python -m tests.benchmarks.daemon_start_rss
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from tests.benchmarks.daemon_common import family_rss_mb, rss_mb, start_daemon

RUNS = 5
SETTLE_S = 3.0  # the engine worker imports and warms up after /health answers


def main() -> None:
    """Start the daemon RUNS times (first run creates the database), print start time and idle RSS."""
    starts_s, rss, family = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(RUNS):
            daemon = start_daemon(Path(tmp))  # same home: run 0 is a first start (migrations, built-ins)
            time.sleep(SETTLE_S)
            rss.append(rss_mb(daemon.proc.pid))
            family.append(family_rss_mb(daemon.proc.pid))
            starts_s.append(daemon.started_to_ready_s)
            daemon.stop()
            print(
                f"run {run}: start to /health {daemon.started_to_ready_s * 1000:.0f} ms, idle RSS {rss[-1]:.1f} MB"
                f" ({family[-1]:.1f} MB with the engine worker)"
            )
    print(
        f"first start {starts_s[0] * 1000:.0f} ms; later starts median {statistics.median(starts_s[1:]) * 1000:.0f} ms"
        f" (target <= 1500 ms); idle RSS median {statistics.median(rss):.1f} MB, with the engine worker"
        f" {statistics.median(family):.1f} MB (target <= 150 MB)"
    )


if __name__ == "__main__":
    main()
