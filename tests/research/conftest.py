"""Research test fixtures: the fake research services, an HTTP client, settings, a store, a fake embedder."""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from mididrumigen.research.collectors.base import CollectorContext
from mididrumigen.research.http import HostRateLimiter, HttpClient
from mididrumigen.settings import Settings
from tests.fakes.research_servers import FakeResearchServer

# Fast politeness for tests: the real intervals are exercised in test_research_http and the benchmark.
FAST_INTERVALS_S = {
    "arxiv": 0.05,
    "semantic_scholar": 0.01,
    "crossref": 0.01,
    "wikipedia": 0.01,
    "bitmidi": 0.01,
    "article_site": 0.01,
    "midi_site": 0.01,
}


class HashingEmbedder:
    """A deterministic bag-of-words embedder (384-d, unit length) standing in for MiniLM in fast tests."""

    def __init__(self) -> None:
        self.calls = 0

    async def embed(self, text: str) -> list[float]:
        """Hash each word into one of 384 buckets."""
        self.calls += 1
        vector = [0.0] * 384
        for word in re.findall(r"[a-z]+", text.lower()):
            vector[int(hashlib.sha1(word.encode()).hexdigest(), 16) % 384] += 1.0
        norm = math.sqrt(sum(v * v for v in vector)) or 1.0
        return [v / norm for v in vector]


@pytest.fixture
async def fake_server() -> AsyncIterator[FakeResearchServer]:
    """The fake research services on 127.0.0.1."""
    server = FakeResearchServer()
    await server.start()
    try:
        yield server
    finally:
        await server.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """One shared aiohttp session."""
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
def research_settings(fake_server: FakeResearchServer, tmp_path: Path) -> Settings:
    """Settings pointing every research URL at the fake server, data in tmp_path."""
    return Settings(
        fake_server.settings() | {"data_dir": str(tmp_path / "data"), "research_request_timeout_s": 2.0}
    )


@pytest.fixture
def http(session: aiohttp.ClientSession) -> HttpClient:
    """A polite client with fast test intervals and short backoff."""
    return HttpClient(
        session,
        HostRateLimiter(),
        contact="tests@example.org",
        intervals_s=FAST_INTERVALS_S,
        backoff_base_s=0.05,
        request_timeout_s=2.0,
        seed=1,
    )


@pytest.fixture
def ctx(research_settings: Settings, http: HttpClient) -> CollectorContext:
    """A collector context with progress recorded in ctx.progress_log."""
    log: list[tuple[str, float, str]] = []
    context = CollectorContext(
        settings=research_settings,
        http=http,
        data_dir=research_settings.data_dir,
        on_progress=lambda n, f, t: log.append((n, f, t)),
    )
    context.progress_log = log  # type: ignore[attr-defined]
    return context


def facts_of(records: list[Any], key: str) -> list[Any]:
    """Every value of one extracted key across records."""
    return [r.extracted[key] for r in records if key in r.extracted]


class CannedAudioFeatures:
    """What the audio analysis answers in tests that exercise downloading, not analysis."""

    duration_s = 24.0

    def to_json(self) -> dict[str, object]:
        """A groove at 100.5 BPM, nearly straight."""
        return {"tempo_bpm": 100.5, "swing_percent": 51.0, "confidence": 0.8}


@pytest.fixture
def canned_audio_analysis(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every downloaded recording 'analysed' at once as CannedAudioFeatures."""
    from mididrumigen.analysis import audio_features

    monkeypatch.setattr(audio_features, "analyze_audio_file", lambda path, **kwargs: CannedAudioFeatures())
