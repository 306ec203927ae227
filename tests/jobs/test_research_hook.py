"""The research job calls the research engineer's hook with (app, artist, job) and stores the profile."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from mididrumigen import orchestrator
from mididrumigen.app import App
from mididrumigen.jobs import JobContext
from mididrumigen.research import orchestrator as research
from mididrumigen.settings import Settings
from tests.store.test_store import make_profile


@contextlib.asynccontextmanager
async def started_app(tmp_path: Path) -> AsyncIterator[App]:
    """A started app on a data folder under tmp_path, closed afterwards."""
    app = await App.create(Settings({"data_dir": str(tmp_path / "data")}))
    await app.start()
    try:
        yield app
    finally:
        await app.close()


async def test_research_job_calls_the_hook_and_saves_once_in_one_transaction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, str, bool]] = []

    async def fake_research(app: Any, artist: str, job: JobContext) -> Any:
        assert isinstance(app, App)
        await job.set_stage("collecting", 40)
        calls.append(("research", artist, job.cancelled))
        return make_profile("Hook Drummer")

    async def fake_augment(app: Any, artist: str, job: JobContext) -> Any:
        calls.append(("augment", artist, bool(job.params["augment"])))
        return make_profile("Hook Drummer", confidence=0.9)

    monkeypatch.setattr(research, "research_artist", fake_research)
    monkeypatch.setattr(research, "augment_artist", fake_augment)
    async with started_app(tmp_path) as app:
        first = await app.scheduler.wait(
            await app.scheduler.submit("research", {"artist": "hook drummer"}), 10
        )
        assert first["status"] == "succeeded", first
        assert first["result"]["artist"] == "Hook Drummer"
        again = await app.scheduler.submit("research", {"artist": "Hook Drummer", "augment": True})
        assert (await app.scheduler.wait(again, 10))["status"] == "succeeded"
        assert calls == [("research", "hook drummer", False), ("augment", "Hook Drummer", True)]
        row = await app.store.get_artist("HOOK DRUMMER")
        assert row is not None and row.research_status == "cached" and row.confidence == 0.9


async def test_failed_research_leaves_the_artist_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(app: Any, artist: str, job: JobContext) -> Any:
        raise orchestrator.UserError("every source was unreachable")

    monkeypatch.setattr(research, "research_artist", broken)
    monkeypatch.setattr(research, "augment_artist", broken)
    async with started_app(tmp_path) as app:
        await app.store.save_profile(make_profile("Known Drummer"))
        job_id = await app.scheduler.submit("research", {"artist": "Known Drummer", "augment": True})
        job = await app.scheduler.wait(job_id, 10)
        assert job["status"] == "failed" and job["error"] == "every source was unreachable"
        row = await app.store.get_artist("Known Drummer")
        assert row is not None and row.research_status == "cached" and row.has_profile  # as it was
        # a name research found nothing for is no artist: the failed job alone keeps the reason
        job = await app.scheduler.wait(await app.scheduler.submit("research", {"artist": "Lost Cause"}), 10)
        assert job["status"] == "failed" and job["error"] == "every source was unreachable"
        assert await app.store.get_artist("Lost Cause") is None


async def test_failed_research_in_a_job_is_settled_once_by_the_jobs_hook(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The real pipeline (research.run_research) leaves the job's artist to the job's on_stop hook; a built-in
    # drummer the job's name led to is no job's artist, so the pipeline settles that one itself.
    seen: list[str | None] = []
    settled: list[str] = []
    real_settle = research.settle_unfinished_research

    async def nothing_found(deps: Any, artist: str, name: str, *_args: Any) -> Any:
        row = await deps.store.get_artist(name)
        seen.append(row.research_status if row else None)
        raise orchestrator.UserError(f"no sources found for {artist!r}")

    async def counted(store: Any, name: str, **kwargs: Any) -> None:
        settled.append(name)
        await real_settle(store, name, **kwargs)

    monkeypatch.setattr(research, "_research", nothing_found)
    monkeypatch.setattr(research, "settle_unfinished_research", counted)
    async with started_app(tmp_path) as app:
        job = await app.scheduler.wait(await app.scheduler.submit("research", {"artist": "Lost Cause"}), 10)
        assert job["status"] == "failed" and job["error"] == "no sources found for 'Lost Cause'"
        assert seen == ["researching"] and settled == ["Lost Cause"]  # listed while researched; settled once
        assert await app.store.get_artist("Lost Cause") is None

        settled.clear()
        await app.store.save_profile(make_profile("Known Drummer"))
        job_id = await app.scheduler.submit("research", {"artist": "Known Drummer", "augment": True})
        assert (await app.scheduler.wait(job_id, 10))["status"] == "failed"
        row = await app.store.get_artist("Known Drummer")
        assert settled == ["Known Drummer"] and row is not None and row.research_status == "cached"

        # A stored look-alike of a built-in name (researched before that drummer was built in, say).
        settled.clear()
        builtin = await app.store.get_artist("John Bonham")
        assert builtin is not None
        await app.store.save_profile(make_profile("Jon Bonhamm"))
        job_id = await app.scheduler.submit("research", {"artist": "Jon Bonhamm", "augment": True})
        assert (await app.scheduler.wait(job_id, 10))["status"] == "failed"
        assert seen[-1] == "researching" and sorted(settled) == ["John Bonham", "Jon Bonhamm"]
        row = await app.store.get_artist("John Bonham")
        assert row is not None and row.research_status == builtin.research_status  # not left "researching"
        row = await app.store.get_artist("Jon Bonhamm")
        assert row is not None and row.research_status == "cached"

        # The built-in drummer named in another case is the job's own artist (one row): settled once, by the hook.
        settled.clear()
        job_id = await app.scheduler.submit("research", {"artist": "john bonham", "augment": True})
        assert (await app.scheduler.wait(job_id, 10))["status"] == "failed"
        assert settled == ["john bonham"]
        row = await app.store.get_artist("John Bonham")
        assert row is not None and row.research_status == builtin.research_status
