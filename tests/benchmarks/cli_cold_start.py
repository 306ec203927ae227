"""Benchmark: CLI cold start to files written (target <= 1 s), and which heavy modules load.

Run: .venv/bin/python -m tests.benchmarks.cli_cold_start
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = 10
HEAVY = (
    "torch",
    "librosa",
    "sentence_transformers",
    "pystray",
    "yt_dlp",
    "anthropic",
    "openai",
    "google.genai",
    "numba",
    "scipy",
)


def main() -> None:
    """Time `mididrumigen generate` in fresh interpreters and list heavy imports on its path."""
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, MIDIDRUMIGEN_CONFIG_DIR=f"{tmp}/cfg", MIDIDRUMIGEN_DATA_DIR=f"{tmp}/data")
        command = [
            sys.executable,
            "-m",
            "mididrumigen",
            "generate",
            "John Bonham",
            "--json",
            "--out",
            f"{tmp}/out",
        ]
        subprocess.run(command, env=env, capture_output=True, check=True)  # warm the OS file cache
        times_s = []
        for _ in range(RUNS):
            started = time.perf_counter()
            subprocess.run(command, env=env, capture_output=True, check=True)
            times_s.append(time.perf_counter() - started)
        files = list(Path(tmp, "out").glob("*.mid"))
        probe = (
            "import sys, runpy; sys.argv=['mididrumigen','generate','John Bonham','--json','--out',"
            f"'{tmp}/out2']\ntry:\n    runpy.run_module('mididrumigen', run_name='__main__')\nexcept SystemExit:\n    pass\n"
            f"print('HEAVY:' + ','.join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)"
        )
        probe_run = subprocess.run(
            [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
        )
    heavy = probe_run.stderr.strip().rpartition("HEAVY:")[2] or "none"
    median_s = statistics.median(times_s)
    print(
        f"cli cold start to {len(files) // (RUNS + 1)} files written: median {median_s * 1000:.0f} ms, "
        f"max {max(times_s) * 1000:.0f} ms over {RUNS} runs (target <= 1000 ms, ratio {median_s / 1.0:.2f})"
    )
    print(f"heavy modules imported on this path: {heavy}")


if __name__ == "__main__":
    main()
