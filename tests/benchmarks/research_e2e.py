"""Benchmark: research one artist end to end against the fake services with realistic latencies.

Every call waits 200-800 ms, the real per-host politeness intervals apply (arXiv 1 request / 3 s,
Semantic Scholar 1/s, ...), all four collectors run (audio: yt-dlp download + analysis; MIDI:
downloads + analysis), the real all-MiniLM-L6-v2 embedding is computed and the profile stored.
Target: <= 60 s.

    .venv/bin/python -m tests.benchmarks.research_e2e
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

import aiohttp

from mididrumigen.research.embeddings import MiniLMEmbedder
from mididrumigen.research.http import HostRateLimiter
from mididrumigen.research.orchestrator import ResearchDeps, run_research
from mididrumigen.settings import Settings
from mididrumigen.store import Store
from tests.fakes.research_servers import ARTIST, TRUE_TEMPO_BPM, FakeResearchServer

TARGET_S = 60.0


async def main() -> None:
    """Run one research and print the figures."""
    server = FakeResearchServer(latency_s=(0.2, 0.8))
    await server.start()
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        settings = Settings(server.settings() | {"data_dir": str(data_dir)})
        store = await Store.open(data_dir / "bench.sqlite")
        try:
            async with aiohttp.ClientSession() as session:
                deps = ResearchDeps(settings, store, session, HostRateLimiter(), MiniLMEmbedder())
                started = time.perf_counter()
                outcome = await run_research(deps, ARTIST)
                elapsed = time.perf_counter() - started
        finally:
            await store.close()
            await server.close()
    profile = outcome.profile
    print(
        f"research of {ARTIST!r} end to end: {elapsed:.1f} s (target <= {TARGET_S:.0f} s, "
        f"ratio {elapsed / TARGET_S:.2f})"
    )
    for item in outcome.collectors:
        print(
            f"  {item.name:<9} {item.status:<9} {item.sources:>2} sources  {item.seconds:5.1f} s  {item.error[:60]}"
        )
    arxiv_calls = server.calls("arxiv")
    print(f"  requests: {len(server.received)} (arXiv {len(arxiv_calls)}), latency 200-800 ms each")
    q = profile.quantitative_params
    print(
        f"  profile: styles {profile.styles[:3]}, tempo {q.tempo_typical:g} BPM (truth {TRUE_TEMPO_BPM:g}), "
        f"swing {q.swing_percent:g}%, ghost {q.ghost_note_prob:.2f}, confidence {profile.confidence_score:.2f}"
    )
    print(f"  sources: {profile.sources_count}")
    print(f"  embedding + store included; {'PASS' if elapsed <= TARGET_S else 'FAIL'}")


if __name__ == "__main__":
    asyncio.run(main())
