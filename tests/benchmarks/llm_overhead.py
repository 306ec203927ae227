"""Benchmark: overhead of the LLM path beyond the provider's own latency, and the cost of failover.

Targets: overhead <= 50 ms per request (prompt, HTTP through the real SDK to a local fake,
validation, repair, humanize); failover from an overloaded primary to a healthy secondary
adds <= 1 s beyond the secondary's own latency. The fake servers run in their own processes
so their work is not counted as ours.

Run: .venv/bin/python -m tests.benchmarks.llm_overhead
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from mididrumigen.generation.coordinator import ProviderPool, generate
from mididrumigen.generation.request import GenerationRequest
from mididrumigen.profile import QuantitativeParams, StyleProfile
from mididrumigen.settings import Settings
from tests.fakes.llm_servers import API_KEYS

RUNS = 15
PROVIDER_LATENCY_S = 0.25
OVERHEAD_TARGET_MS = 50.0
FAILOVER_TARGET_MS = 1000.0
PROFILE = StyleProfile(
    "Bench Drummer",
    "Tight funk pocket with ghost notes.",
    QuantitativeParams(tempo_typical=98, swing_percent=56.0, ghost_note_prob=0.3),
    styles=["funk"],
)
KEY_ENV = {
    "ANTHROPIC_API_KEY": API_KEYS["anthropic"],
    "GEMINI_API_KEY": API_KEYS["google"],
    "OPENAI_API_KEY": API_KEYS["openai"],
}


@contextmanager
def fake_server(*defaults: str) -> Iterator[dict[str, str]]:
    """Run tests.fakes.llm_servers in a child process; yield settings pointing at it."""
    command = [sys.executable, "-m", "tests.fakes.llm_servers", "--latency", str(PROVIDER_LATENCY_S)]
    for default in defaults:
        command += ["--default", default]
    child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        root = f"http://127.0.0.1:{int(child.stdout.readline())}"
        yield {"anthropic_base_url": root, "google_base_url": root, "openai_base_url": f"{root}/v1"}
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=10)


async def timed_runs(urls: dict[str, str], variations: int, expected: str) -> list[float]:
    """Wall milliseconds of RUNS requests after one warm-up, through one pool (as in the daemon)."""
    pool = ProviderPool(Settings({**urls, "llm_timeout_s": 10.0}), environ=KEY_ENV)
    request = GenerationRequest(artist="Bench Drummer", bars=4, variations=variations, seed=1, humanize=0.6)
    samples: list[float] = []
    try:
        for run in range(RUNS + 1):
            started = time.perf_counter()
            result = await generate(pool, PROFILE, request)
            elapsed_ms = (time.perf_counter() - started) * 1000.0
            if result.provider_used != expected:
                attempts = [a.to_json() for a in result.attempts]
                raise SystemExit(f"unexpected provider {result.provider_used!r}: {attempts}")
            if run:
                samples.append(elapsed_ms)
    finally:
        await pool.aclose()
    return samples


def report(label: str, samples: list[float], own_ms: float, target_ms: float) -> bool:
    """Print median/p90 of the time beyond the provider's own latency; True when within target."""
    beyond = sorted(s - own_ms for s in samples)
    median = statistics.median(beyond)
    p90 = beyond[int(0.9 * (len(beyond) - 1))]
    ok = median <= target_ms
    print(
        f"{label:<44} wall median {statistics.median(samples):6.1f} ms | beyond provider latency: "
        f"median {median:6.1f} ms, p90 {p90:6.1f} ms | target <= {target_ms:.0f} ms "
        f"({median / target_ms:.2f} of target) {'OK' if ok else 'OVER'}"
    )
    return ok


async def main() -> None:
    """Run the figures against fake servers through the real SDKs."""
    own_ms = PROVIDER_LATENCY_S * 1000.0
    results = []
    print(f"fake provider latency {own_ms:.0f} ms per call, {RUNS} runs each after a warm-up")
    with fake_server() as urls:
        for variations in (1, 4):
            samples = await timed_runs(urls, variations, "anthropic")
            label = f"LLM path, {variations} variation(s) in parallel"
            results.append(report(label, samples, own_ms, OVERHEAD_TARGET_MS))
    # The overloaded primary answers its 529 after the same latency: that wait counts as failover cost.
    with fake_server("anthropic=overloaded") as urls:
        for variations in (1, 4):
            samples = await timed_runs(urls, variations, "google")
            label = f"failover 529 -> gemini, {variations} variation(s)"
            results.append(report(label, samples, own_ms, FAILOVER_TARGET_MS))
    print("all within target" if all(results) else "SOME FIGURES OVER TARGET")


if __name__ == "__main__":
    asyncio.run(main())
