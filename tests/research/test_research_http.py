"""Politeness: User-Agent, per-host rate limits, retries with backoff, Retry-After, budgets, outage logging."""

from __future__ import annotations

import asyncio
import email.utils
import itertools
import logging
import random
import time

import aiohttp
import pytest

from mididrumigen.research.http import (
    HostRateLimiter,
    HttpClient,
    SourceUnavailableError,
    backoff_delay_s,
    retry_after_s,
    user_agent,
)
from tests.fakes.offline_resolver import NoNameResolves
from tests.fakes.research_servers import FakeResearchServer


def s2_url(server: FakeResearchServer) -> str:
    return f"{server.base_url}/s2/graph/v1/paper/search"


def test_user_agent_names_program_version_and_contact() -> None:
    assert user_agent("me@example.org") == "MidiDrumiGen/0.1.0 (+me@example.org)"
    assert user_agent("").startswith("MidiDrumiGen/0.1.0 (")


def test_retry_after_parses_seconds_and_http_dates() -> None:
    assert retry_after_s("7") == 7.0
    now = 1_700_000_000.0
    assert retry_after_s(email.utils.formatdate(now + 30, usegmt=True), now_s=now) == pytest.approx(30.0)
    assert retry_after_s(email.utils.formatdate(now - 30, usegmt=True), now_s=now) == 0.0
    assert retry_after_s("soon") is None
    assert retry_after_s(None) is None


def test_backoff_grows_exponentially_with_a_cap() -> None:
    rng = random.Random(3)
    delays = [backoff_delay_s(n, 0.5, 4.0, rng) for n in range(6)]
    assert 0.25 <= delays[0] <= 0.5
    assert 2.0 <= delays[3] <= 4.0
    assert all(d <= 4.0 for d in delays)


async def test_sends_the_user_agent_and_returns_the_raw_body(
    http: HttpClient, fake_server: FakeResearchServer
) -> None:
    response = await http.get(s2_url(fake_server), service="semantic_scholar", params={"query": "x"})
    assert response.ok
    assert response.json()["data"][0]["paperId"] == "a1b2c3d4e5"
    assert (
        fake_server.calls("semantic_scholar")[0].headers["User-Agent"]
        == "MidiDrumiGen/0.1.0 (+tests@example.org)"
    )


@pytest.mark.parametrize("faults", [("503",), ("429",), ("503", "429", "503"), ("timeout",)])
async def test_retries_transient_failures_then_succeeds(
    http: HttpClient, fake_server: FakeResearchServer, faults: tuple[str, ...]
) -> None:
    fake_server.hang_s = 3.0
    http.request_timeout_s = 0.3
    fake_server.script("semantic_scholar", *faults)
    response = await http.get(s2_url(fake_server), service="semantic_scholar")
    assert response.ok
    assert len(fake_server.calls("semantic_scholar")) == len(faults) + 1


@pytest.mark.parametrize("fault", ["429_retry_after", "429_http_date"])
async def test_retry_after_is_honoured(http: HttpClient, fake_server: FakeResearchServer, fault: str) -> None:
    fake_server.script("semantic_scholar", fault)
    started = time.monotonic()
    response = await http.get(s2_url(fake_server), service="semantic_scholar")
    calls = fake_server.calls("semantic_scholar")
    assert response.ok and len(calls) == 2
    # Retry-After says 1 s (the HTTP-date form says now + 2 s, truncated to whole seconds).
    assert calls[1].at - calls[0].at >= 0.9
    assert time.monotonic() - started < 4.0


async def test_retry_after_beyond_the_budget_gives_up_at_once(
    http: HttpClient, fake_server: FakeResearchServer
) -> None:
    fake_server.retry_after_s = 60
    fake_server.script("semantic_scholar", "429_retry_after")
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(SourceUnavailableError, match="time budget"):
        await http.get(s2_url(fake_server), service="semantic_scholar", deadline=loop.time() + 5.0)
    assert loop.time() - started < 1.0
    assert len(fake_server.calls("semantic_scholar")) == 1


async def test_gives_up_after_max_attempts(http: HttpClient, fake_server: FakeResearchServer) -> None:
    fake_server.script("semantic_scholar", "503", "503", "503", "503", "503")
    with pytest.raises(SourceUnavailableError, match="http 503"):
        await http.get(s2_url(fake_server), service="semantic_scholar")
    assert len(fake_server.calls("semantic_scholar")) == http.max_attempts


async def test_client_errors_are_returned_not_retried(
    http: HttpClient, fake_server: FakeResearchServer
) -> None:
    fake_server.script("semantic_scholar", "404")
    response = await http.get(s2_url(fake_server), service="semantic_scholar")
    assert response.status == 404 and not response.ok
    assert len(fake_server.calls("semantic_scholar")) == 1


async def test_malformed_json_is_a_clear_value_error(
    http: HttpClient, fake_server: FakeResearchServer
) -> None:
    fake_server.script("semantic_scholar", "malformed")
    response = await http.get(s2_url(fake_server), service="semantic_scholar")
    with pytest.raises(ValueError, match="malformed json"):
        response.json()


async def test_per_host_rate_limit_spaces_requests(fake_server: FakeResearchServer) -> None:
    # Timed where the limiter acts, as each request leaves the client: arrival at the fake
    # server adds transit jitter that a loaded machine makes uneven.
    started: dict[str, list[float]] = {"arxiv": [], "crossref": []}

    async def on_request_start(
        _session: object, _context: object, params: aiohttp.TraceRequestStartParams
    ) -> None:
        started["arxiv" if "/arxiv/" in params.url.path else "crossref"].append(time.monotonic())

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_request_start)
    async with aiohttp.ClientSession(trace_configs=[trace]) as session:
        client = HttpClient(session, HostRateLimiter(), intervals_s={"arxiv": 0.4, "crossref": 0.0})
        arxiv = f"{fake_server.base_url}/arxiv/api/query"
        crossref = f"{fake_server.base_url}/crossref/works"
        await asyncio.gather(
            *(client.get(arxiv, service="arxiv") for _ in range(3)),
            *(client.get(crossref, service="crossref") for _ in range(3)),
        )
    assert len(fake_server.calls("arxiv")) == 3 and len(fake_server.calls("crossref")) == 3
    gaps = [b - a for a, b in itertools.pairwise(sorted(started["arxiv"]))]
    assert len(gaps) == 2 and all(gap >= 0.38 for gap in gaps), gaps
    crossref_times = sorted(started["crossref"])
    assert crossref_times[-1] - crossref_times[0] < 0.3  # another service is not held back by arXiv's limit


async def test_arxiv_default_interval_is_three_seconds(session: aiohttp.ClientSession) -> None:
    client = HttpClient(session, HostRateLimiter())
    assert client.intervals_s["arxiv"] == 3.0
    assert client.intervals_s["musicbrainz"] == 1.0
    assert client.intervals_s["semantic_scholar"] == 1.0


async def test_outage_logged_once_and_recovery_once(
    http: HttpClient, fake_server: FakeResearchServer, caplog: pytest.LogCaptureFixture
) -> None:
    http.max_attempts = 1
    fake_server.script("semantic_scholar", "503", "503", "503")
    caplog.set_level(logging.WARNING, logger="mididrumigen.research.http")
    for _ in range(3):
        with pytest.raises(SourceUnavailableError):
            await http.get(s2_url(fake_server), service="semantic_scholar")
    await http.get(s2_url(fake_server), service="semantic_scholar")
    await http.get(s2_url(fake_server), service="semantic_scholar")
    messages = [r.getMessage() for r in caplog.records]
    assert sum("is unavailable" in m for m in messages) == 1
    assert sum("reachable again" in m for m in messages) == 1


async def test_the_outage_state_lives_on_the_shared_limiter(
    session: aiohttp.ClientSession, fake_server: FakeResearchServer, caplog: pytest.LogCaptureFixture
) -> None:
    limiter = HostRateLimiter()
    caplog.set_level(logging.WARNING, logger="mididrumigen.research.http")
    fake_server.script("semantic_scholar", "503", "503")
    for _ in range(2):  # two research runs, each with its own client over the App's limiter
        client = HttpClient(session, limiter, max_attempts=1, intervals_s={"semantic_scholar": 0.0})
        with pytest.raises(SourceUnavailableError):
            await client.get(s2_url(fake_server), service="semantic_scholar")
    assert sum("is unavailable" in r.getMessage() for r in caplog.records) == 1


async def test_oversized_bodies_are_refused(http: HttpClient, fake_server: FakeResearchServer) -> None:
    with pytest.raises(ValueError, match="larger than"):
        await http.get(s2_url(fake_server), service="semantic_scholar", max_bytes=100)


async def test_a_host_name_that_does_not_resolve_is_not_retried() -> None:
    resolver = NoNameResolves()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(resolver=resolver)) as session:
        http = HttpClient(session, HostRateLimiter(), backoff_base_s=1.0, request_timeout_s=2.0, seed=1)
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(SourceUnavailableError, match=r"cannot reach api\.example\.org") as failed:
            await http.get("https://api.example.org/search", service="crossref")
    assert "name resolution" in str(failed.value)
    assert resolver.lookups == 1 and http.request_count == 1  # no backoff: it will not resolve in 2 s either
    assert loop.time() - started < 0.5
