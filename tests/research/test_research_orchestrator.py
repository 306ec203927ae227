"""End to end against the fake services: fan-out, isolation, timeouts, stored sources, augmentation, similar."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from mididrumigen.errors import NotFoundError, UserError, missing_extra
from mididrumigen.profile import QuantitativeParams, StyleProfile
from mididrumigen.research.drummers import find_builtin
from mididrumigen.research.http import HostRateLimiter
from mididrumigen.research.orchestrator import (
    CollectorOutcome,
    ResearchDeps,
    find_similar,
    nothing_found,
    out_of_reach,
    run_research,
)
from mididrumigen.settings import Settings
from mididrumigen.store import Store
from tests.fakes.research_servers import ARTIST, FakeResearchServer, _paper, media_wav_bytes
from tests.research.conftest import FAST_INTERVALS_S, HashingEmbedder

TEXT_COLLECTORS = ["papers", "articles", "midi"]  # audio has its own test (its first analysis is slow)


class RecordingJob:
    """A job context that records every stage update."""

    def __init__(self) -> None:
        self.stages: list[tuple[str, float | None]] = []

    async def set_stage(self, text: str, progress: float | None = None) -> None:
        if progress is not None and not 0 <= progress <= 100:
            raise ValueError("progress must be from 0 to 100")
        self.stages.append((text, progress))


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(tmp_path / "store.sqlite")
    try:
        yield opened
    finally:
        await opened.close()


def fast_deps(
    settings: Settings,
    store: Store,
    session: aiohttp.ClientSession,
    collectors: Sequence[str] = TEXT_COLLECTORS,
) -> ResearchDeps:
    """Research dependencies with the hashing embedder, fast polling and (by default) every collector but audio."""
    return ResearchDeps(
        settings=settings,
        store=store,
        session=session,
        limiter=HostRateLimiter(),
        embedder=HashingEmbedder(),
        collectors=list(collectors),
        intervals_s=FAST_INTERVALS_S,
    )


@pytest.fixture
def deps(research_settings: Settings, store: Store, session: aiohttp.ClientSession) -> ResearchDeps:
    return fast_deps(research_settings, store, session)


async def test_research_an_unknown_drummer_end_to_end(deps: ResearchDeps, store: Store) -> None:
    job = RecordingJob()
    seen: list[tuple[str, float]] = []
    outcome = await run_research(deps, ARTIST, job, on_progress=lambda n, f, t: seen.append((n, f)))
    profile = outcome.profile
    assert [c.status for c in outcome.collectors] == ["ok", "ok", "ok"]
    assert profile.sources_count == {"paper": 3, "article": 2, "audio": 0, "midi": 3}
    assert profile.styles[0] == "funk"
    assert 97.0 <= profile.quantitative_params.tempo_typical <= 103.0
    assert len(profile.midi_templates) == 3
    assert profile.confidence_score >= 0.6
    # stored: the sources with their raw bodies, and the profile with its embedding
    sources = await store.list_research_sources(ARTIST)
    assert len(sources) == 8
    rows = await store.db.fetchall("SELECT raw FROM research_sources")
    assert all(row["raw"] for row in rows)
    stored = await store.get_profile(ARTIST)
    assert stored is not None and stored.confidence_score == profile.confidence_score
    artist = await store.get_artist(ARTIST)
    assert artist is not None and artist.has_embedding and artist.research_status == "cached"
    # progress: never backwards, within 0-100, per collector up to 1.0
    percents = [p for _, p in job.stages if p is not None]
    assert percents == sorted(percents) and percents[-1] <= 100
    assert {name for name, f in seen if f == 1.0} == set(TEXT_COLLECTORS)
    assert json.dumps(outcome.summary())  # JSON-safe


async def test_one_collector_failing_leaves_the_others(
    deps: ResearchDeps, fake_server: FakeResearchServer
) -> None:
    fake_server.script("bitmidi", "malformed")
    outcome = await run_research(deps, ARTIST)
    status = {c.name: c.status for c in outcome.collectors}
    assert status == {"papers": "ok", "articles": "ok", "midi": "failed"}
    assert "malformed json" in next(c.error for c in outcome.collectors if c.name == "midi")
    assert outcome.profile.sources_count["midi"] == 0 and outcome.profile.sources_count["article"] == 2


async def test_a_collector_timeout_is_isolated(
    research_settings: Settings, store: Store, session: aiohttp.ClientSession, fake_server: FakeResearchServer
) -> None:
    research_settings.set("articles_timeout_s", 0.5)
    fake_server.hang_s = 5.0
    fake_server.script("wikipedia", "timeout")
    fake_server.script("site", "timeout")
    deps = fast_deps(research_settings, store, session)
    loop = asyncio.get_running_loop()
    started = loop.time()
    outcome = await run_research(deps, ARTIST)
    status = {c.name: c.status for c in outcome.collectors}
    assert status["articles"] == "timed out" and status["papers"] == "ok" and status["midi"] == "ok"
    assert loop.time() - started < 4.0


@pytest.mark.usefixtures("canned_audio_analysis")
async def test_a_timed_out_audio_collector_keeps_the_recordings_it_finished(
    research_settings: Settings, store: Store, session: aiohttp.ClientSession, fake_server: FakeResearchServer
) -> None:
    # A search whose second recording hangs past the audio collector's limit. The limit leaves room for
    # yt-dlp's import and the first download on a busy machine; the recording is rendered beforehand.
    await asyncio.to_thread(media_wav_bytes)
    research_settings.set("audio_search_template", f"{fake_server.base_url}/media/{{slug}}.rss?then=slow")
    research_settings.set("audio_timeout_s", 6.0)
    fake_server.hang_s = 20.0
    deps = fast_deps(research_settings, store, session, collectors=["audio"])
    outcome = await run_research(deps, ARTIST)
    audio = next(c for c in outcome.collectors if c.name == "audio")
    assert (audio.status, audio.sources, audio.error) == ("timed out", 1, "stopped at its 6 s limit")
    assert outcome.profile.sources_count["audio"] == 1


async def test_nothing_found_is_a_clear_user_error_that_leaves_no_artist(
    deps: ResearchDeps, store: Store
) -> None:
    with pytest.raises(UserError, match="no sources found for 'Nobody Atall'") as nothing:
        await run_research(deps, "Nobody Atall")
    assert nothing.value.code == "no_sources" and "did you mean" not in nothing.value.message
    with pytest.raises(UserError) as typo:
        await run_research(deps, "Danny Careyyy Xq")
    assert typo.value.message.startswith("no sources found for 'Danny Careyyy Xq'; did you mean Danny Carey?")
    assert await store.list_artists() == []  # a name research found nothing for is no artist


class BrokenEmbedder:
    async def embed(self, text: str) -> list[float]:
        raise RuntimeError("the model broke")


async def test_research_that_fails_gives_a_known_artist_its_status_back(
    deps: ResearchDeps, store: Store, fake_server: FakeResearchServer
) -> None:
    fake_server.script("bitmidi", "malformed")  # the first run misses the MIDI files: the second finds them
    await run_research(deps, ARTIST)
    deps.embedder = BrokenEmbedder()
    with pytest.raises(RuntimeError, match="the model broke"):
        await run_research(deps, ARTIST)
    artist = await store.get_artist(ARTIST)
    assert artist is not None and artist.has_profile and artist.research_status == "cached"
    await store.set_research_status("Old Attempt", "failed")  # a row research had left before
    with pytest.raises(UserError):
        await run_research(deps, "Old Attempt")
    artist = await store.get_artist("Old Attempt")
    assert artist is not None and artist.research_status == "failed"


async def test_augmentation_adds_only_new_sources_and_keeps_confidence(
    deps: ResearchDeps, store: Store, fake_server: FakeResearchServer
) -> None:
    fake_server.script("bitmidi", "malformed")  # the first run misses the MIDI files
    first = await run_research(deps, ARTIST)
    assert first.profile.sources_count["midi"] == 0
    second = await run_research(deps, ARTIST)
    assert second.known_sources == 5 and len(second.new_sources) == 3
    assert {r.kind for r in second.new_sources} == {"midi"}
    assert second.profile.sources_count == {"paper": 3, "article": 2, "audio": 0, "midi": 3}
    assert second.profile.confidence_score >= first.profile.confidence_score
    stored = await store.get_profile(ARTIST)
    with pytest.raises(UserError) as nothing_new:  # nothing new: a failure, nothing duplicated, same profile
        await run_research(deps, ARTIST)
    assert nothing_new.value.code == "no_sources"
    assert nothing_new.value.message == f"no new sources found for {ARTIST!r}; its profile is unchanged"
    assert len(await store.list_research_sources(ARTIST)) == 8
    assert await store.get_profile(ARTIST) == stored
    artist = await store.get_artist(ARTIST)
    assert artist is not None and artist.research_status == "cached"


async def test_similar_artists_by_embedding(deps: ResearchDeps, store: Store) -> None:
    embedder = HashingEmbedder()

    def profile(name: str, styles: list[str], text: str) -> StyleProfile:
        return StyleProfile(name, text, QuantitativeParams(), styles, confidence_score=0.8)

    await store.save_builtin_profiles(
        [
            profile(
                "Funk One",
                ["funk"],
                "funk drummer deep pocket ghost notes syncopated kick laid back backbeat",
            ),
            profile("Metal One", ["metal"], "metal drummer blast beats double bass fast aggressive"),
            profile("Jazz One", ["jazz_swing"], "jazz drummer ride cymbal swing brushes bebop"),
        ]
    )
    await run_research(deps, ARTIST)
    found = await find_similar(store, embedder, ARTIST, limit=3)
    assert found[0].name == "Funk One"
    assert len(found) == 3 and ARTIST not in [item.name for item in found]
    for name in ("Funk One", "Metal One"):  # built-ins stored without embeddings got one
        row = await store.get_artist(name)
        assert row is not None and row.has_embedding
    with pytest.raises(NotFoundError):
        await find_similar(store, embedder, "Nobody Atall")
    with pytest.raises(ValueError, match="limit"):
        await find_similar(store, embedder, ARTIST, limit=0)


async def test_builtin_drummer_research_merges_knowledge(
    deps: ResearchDeps, store: Store, fake_server: FakeResearchServer
) -> None:
    fake_server.extra_papers.append(
        _paper(
            "b0n4a11",
            "Heavy grooves: John Bonham's drumming on Led Zeppelin recordings",
            "We measure John Bonham's drumming: a heavy, laid-back hard rock backbeat, triplet kick figures and "
            "powerful fills, mostly around 90 bpm.",
            2018,
        )
    )
    outcome = await run_research(deps, "bonham")
    profile = outcome.profile
    assert profile.artist_name == "John Bonham"
    assert profile.sources_count["builtin"] == 1 and profile.sources_count["paper"] == 1
    assert profile.styles[0] == "hard_rock"
    assert profile.confidence_score >= 0.6
    builtin = find_builtin("John Bonham")
    assert builtin.text_description.strip() in profile.text_description  # the built-in knowledge kept
    stored = await store.get_profile("John Bonham")
    assert stored is not None and stored.text_description == profile.text_description


async def test_builtin_drummer_research_finding_nothing_fails_and_changes_nothing(
    deps: ResearchDeps, store: Store
) -> None:
    await store.save_builtin_profiles([find_builtin("John Bonham")])
    before = await store.get_profile("John Bonham")
    row = await store.get_artist("John Bonham")
    assert before is not None and row is not None
    with pytest.raises(UserError) as nothing:  # the fakes know nothing about him
        await run_research(deps, "bonham")
    assert nothing.value.code == "no_sources"
    assert nothing.value.message == "no new sources found for 'John Bonham'; its profile is unchanged"
    assert await store.get_profile("John Bonham") == before  # the built-in text, not "Based on no research…"
    after = await store.get_artist("John Bonham")
    assert after is not None and (after.origin, after.research_status) == (row.origin, row.research_status)
    assert await store.list_research_sources("John Bonham") == []


def test_deps_from_an_app_keep_limiter_and_embedder_on_it(research_settings: Settings) -> None:
    from mididrumigen.app import App
    from mididrumigen.research.orchestrator import research_deps

    class FakeApp:
        settings = research_settings
        store: Any = object()
        http: Any = object()
        embedder: Any = None
        text_embedder = App.text_embedder  # the App's own accessor: made on first use, then kept

        def library(self) -> None:
            return None

    app = FakeApp()
    first = research_deps(app)
    second = research_deps(app)
    assert first.limiter is second.limiter is app.rate_limiter  # type: ignore[attr-defined]
    assert first.embedder is second.embedder is app.embedder  # type: ignore[attr-defined]


def test_source_kinds_map_to_collectors() -> None:
    from mididrumigen.research.orchestrator import collectors_for_kinds

    assert collectors_for_kinds(["midi", "paper", "midi"]) == ["midi", "papers"]
    assert collectors_for_kinds(None) is None and collectors_for_kinds([]) is None
    with pytest.raises(ValueError, match="unknown source kind 'tweet'"):
        collectors_for_kinds(["tweet"])


async def test_augment_needs_a_known_artist_and_honours_kinds(
    research_settings: Settings, store: Store, session: aiohttp.ClientSession, fake_server: FakeResearchServer
) -> None:
    from mididrumigen.research.orchestrator import augment_artist, research_artist

    class App:
        settings = research_settings
        http = session
        rate_limiter = HostRateLimiter()
        embedder = HashingEmbedder()

        def __init__(self) -> None:
            self.store = store

        def text_embedder(self) -> HashingEmbedder:
            return self.embedder

        def library(self) -> None:
            return None

    app = App()
    with pytest.raises(NotFoundError, match="research it first"):
        await augment_artist(app, ARTIST)
    job = RecordingJob()
    job.params = {"kinds": ["paper"]}  # type: ignore[attr-defined]
    profile = await research_artist(app, ARTIST, job)
    assert profile.sources_count == {"paper": 3, "article": 0, "audio": 0, "midi": 0}
    assert not fake_server.calls("wikipedia") and not fake_server.calls("bitmidi")
    augmented = await augment_artist(app, ARTIST, kinds=["article"])
    assert augmented.sources_count == {"paper": 3, "article": 2, "audio": 0, "midi": 0}
    assert augmented.confidence_score >= profile.confidence_score


async def test_no_service_reachable_is_one_short_reason(
    fake_server: FakeResearchServer, store: Store, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    # Every service on a closed port, as offline: one reason, not a connection error per host and collector.
    def closed(value: Any) -> Any:
        if isinstance(value, list):
            return [closed(v) for v in value]
        return value.replace(fake_server.base_url, "http://127.0.0.1:9") if isinstance(value, str) else value

    settings = Settings(
        {k: closed(v) for k, v in fake_server.settings().items()}
        | {"data_dir": str(tmp_path / "data"), "research_request_timeout_s": 2.0}
    )
    deps = fast_deps(settings, store, session)
    with pytest.raises(UserError) as nothing:
        await run_research(deps, "Danny Careyyy Xq")
    assert nothing.value.message == (
        "no sources found for 'Danny Careyyy Xq'; did you mean Danny Carey? (no research service could be"
        " reached: is this computer offline?)"
    )


def test_offline_on_the_core_install_is_still_one_short_reason() -> None:
    # Offline without the research extra the audio collector fails for want of it, not of the network.
    dns = "crossref: crossref unavailable: cannot reach api.crossref.org (Name or service not known)"
    extra = missing_extra("research", ImportError("no module", name="imageio_ffmpeg")).message
    outcomes = [CollectorOutcome(name, name, "failed", error=dns) for name in ("papers", "articles", "midi")]
    audio = CollectorOutcome("audio", "audio", "failed", error=extra, missing_extra="research")
    assert nothing_found("Zed Zebra", [*outcomes, audio]).message == (
        "no sources found for 'Zed Zebra' (audio: needs the 'research' extra; the others reached no service:"
        " is this computer offline?)"
    )
    answered = CollectorOutcome("papers", "paper", "failed", error="arxiv: arxiv unavailable: http 503")
    detailed = nothing_found("Zed Zebra", [answered, *outcomes[1:], audio]).message
    assert "http 503" in detailed and "offline" not in detailed


async def test_a_collector_missing_its_extra_says_which_extra_in_its_outcome(
    fake_server: FakeResearchServer,
    store: Store,
    session: aiohttp.ClientSession,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The core install offline: the audio collector cannot import its extra's modules, the others reach no
    # service (on a closed port). Without the outcome's missing_extra its failure would read as an answer.
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)
    closed = {
        k: v.replace(fake_server.base_url, "http://127.0.0.1:9") if isinstance(v, str) else v
        for k, v in fake_server.settings().items()
    }
    settings = Settings(closed | {"data_dir": str(tmp_path / "data"), "research_request_timeout_s": 2.0})
    deps = fast_deps(settings, store, session, collectors=["papers", "midi", "audio"])
    with pytest.raises(UserError) as nothing:
        await run_research(deps, "Zed Zebra")
    assert nothing.value.message == (
        "no sources found for 'Zed Zebra' (audio: needs the 'research' extra; the others reached no service:"
        " is this computer offline?)"
    )


def test_out_of_reach_reads_connection_failures_only() -> None:
    dns = "crossref: crossref unavailable: cannot reach api.crossref.org (Name or service not known)"
    ytdlp = (
        'ERROR: query "x drum cam" page 1: Unable to download API page: HTTPSConnection(host=\'www.youtube'
        ".com', port=443): Failed to resolve 'www.youtube.com' ([Errno -2] Name or service not known)"
    )
    assert out_of_reach(dns) and out_of_reach(ytdlp) and out_of_reach(f"{dns}; {dns}")
    assert not out_of_reach(f"{dns}; arxiv: arxiv unavailable: http 503")  # one service did answer
    assert not out_of_reach("") and not out_of_reach("timed out after 5.0 s")
