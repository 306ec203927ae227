"""The scheduler: job rows, lifecycle, limits, cancel, events, restart recovery, shutdown."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from mididrumigen.app import App
from mididrumigen.errors import UserError
from mididrumigen.jobs import JobContext
from mididrumigen.jobs.scheduler import MAX_ATTEMPTS
from mididrumigen.settings import Settings


async def make_app(tmp_path: Path, **overrides: Any) -> App:
    """An App over a database in tmp_path (not started)."""
    return await App.create(Settings({"data_dir": str(tmp_path / "data"), **overrides}))


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[App]:
    """A started App."""
    made = await make_app(tmp_path)
    await made.start()
    yield made
    await made.close()


async def test_job_runs_through_stages_to_success(app: App) -> None:
    async def handler(_app: App, job: JobContext) -> dict[str, Any]:
        await job.set_stage("one", 30)
        await job.set_stage("two", 60)
        return {"echo": job.params["x"]}

    app.scheduler.register("echo", handler)
    job_id = await app.scheduler.submit("echo", {"x": 5})
    events = app.scheduler.subscribe(job_id)
    job = await app.scheduler.wait(job_id, 5)
    assert job["status"] == "succeeded" and job["result"] == {"echo": 5}
    assert job["progress"] == 100 and job["attempts"] == 1
    assert job["started_at"] >= job["created_at"] and job["finished_at"] >= job["started_at"]
    seen = []
    while not events.empty():
        seen.append(events.get_nowait())
    assert [(e["status"], e["stage"]) for e in seen] == [
        ("running", "started"),
        ("running", "one"),
        ("running", "two"),
        ("succeeded", "done"),
    ]
    assert [e["progress"] for e in seen] == sorted(e["progress"] for e in seen)


async def test_errors_become_failed_jobs_with_a_reason(app: App) -> None:
    async def bad_input(_app: App, _job: JobContext) -> None:
        raise ValueError("bars must be from 1 to 16")

    async def bug(_app: App, _job: JobContext) -> None:
        raise RuntimeError("secret internals")

    app.scheduler.register("bad", bad_input)
    app.scheduler.register("bug", bug)
    first = await app.scheduler.wait(await app.scheduler.submit("bad", {}), 5)
    second = await app.scheduler.wait(await app.scheduler.submit("bug", {}), 5)
    assert first["status"] == "failed" and first["error"] == "bars must be from 1 to 16"
    assert second["status"] == "failed" and second["error"].startswith("internal error (RuntimeError)")
    assert "secret" not in second["error"]


async def test_timeout_fails_the_job(app: App) -> None:
    async def sleepy(_app: App, _job: JobContext) -> None:
        await asyncio.sleep(10)

    app.scheduler.register("sleepy", sleepy, timeout_s=0.05)
    job = await app.scheduler.wait(await app.scheduler.submit("sleepy", {}), 5)
    assert job["status"] == "failed" and "timed out" in job["error"]


async def test_cancel_running_and_queued_jobs(app: App) -> None:
    started = asyncio.Event()
    seen_cancel: list[bool] = []

    async def blocker(_app: App, job: JobContext) -> None:
        started.set()
        try:
            await asyncio.sleep(30)
        finally:
            seen_cancel.append(job.cancelled)

    app.scheduler.register("block", blocker, limit_group="one_at_a_time")
    running = await app.scheduler.submit("block", {})
    queued = await app.scheduler.submit("block", {})
    await started.wait()
    assert (await app.scheduler.get(queued))["status"] == "queued"
    cancelled = await app.scheduler.cancel(queued)
    assert cancelled["status"] == "cancelled"
    cancelled = await app.scheduler.cancel(running)
    assert cancelled["status"] == "cancelled" and cancelled["finished_at"] is not None
    assert seen_cancel == [True]
    with pytest.raises(UserError) as info:
        await app.scheduler.cancel(running)
    assert info.value.status == 409


async def test_concurrency_limit_per_group(tmp_path: Path) -> None:
    app = await make_app(tmp_path, generation_concurrency=2)
    await app.start()
    try:
        active = 0
        peak = 0

        async def work(_app: App, _job: JobContext) -> None:
            nonlocal active, peak
            active += 1
            peak = max(peak, active)
            await asyncio.sleep(0.05)
            active -= 1

        app.scheduler.register("gen_test", work, limit_group="generate")
        ids = [await app.scheduler.submit("gen_test", {}) for _ in range(5)]
        for job_id in ids:
            assert (await app.scheduler.wait(job_id, 5))["status"] == "succeeded"
        assert peak == 2
    finally:
        await app.close()


async def test_progress_is_checked(app: App) -> None:
    async def bad_progress(_app: App, job: JobContext) -> None:
        await job.set_stage("x", 150)

    app.scheduler.register("bad_progress", bad_progress)
    job = await app.scheduler.wait(await app.scheduler.submit("bad_progress", {}), 5)
    assert job["status"] == "failed" and "progress" in job["error"]


async def _insert_running(app: App, kind: str, attempts: int = 1) -> str:
    job_id = f"{kind}{int(time.time() * 1e6)}".ljust(32, "0")[:32]
    await app.store.insert_job(job_id, kind, {"n": 1}, None)
    await app.store.update_job(
        job_id, status="running", stage="half way", attempts=attempts, started_at=time.time()
    )
    return job_id


async def test_restart_recovery_resumes_or_fails_with_reason(tmp_path: Path) -> None:
    first = await make_app(tmp_path)
    stuck_plain = await _insert_running(first, "plain")
    stuck_resumable = await _insert_running(first, "again")
    stuck_too_often = await _insert_running(first, "again", attempts=MAX_ATTEMPTS)
    stuck_unknown = await _insert_running(first, "gone")
    await first.close()  # as if the process died with these rows 'running'

    second = await make_app(tmp_path)

    async def quick(_app: App, job: JobContext) -> dict[str, Any]:
        return {"attempt": job.attempt}

    second.scheduler.register("plain", quick)
    second.scheduler.register("again", quick, resumable=True)
    await second.start()
    try:
        plain = await second.scheduler.get(stuck_plain)
        assert plain["status"] == "failed" and plain["error"] == "interrupted by restart"
        resumed = await second.scheduler.wait(stuck_resumable, 5)
        assert resumed["status"] == "succeeded" and resumed["result"] == {"attempt": 2}
        gave_up = await second.scheduler.get(stuck_too_often)
        assert gave_up["status"] == "failed" and "gave up" in gave_up["error"]
        unknown = await second.scheduler.get(stuck_unknown)
        assert unknown["status"] == "failed"
        assert not await second.store.jobs_with_status("running")
    finally:
        await second.close()


async def test_close_records_running_jobs_as_interrupted(tmp_path: Path) -> None:
    app = await make_app(tmp_path)
    await app.start()
    started = asyncio.Event()

    async def forever(_app: App, _job: JobContext) -> None:
        started.set()
        await asyncio.sleep(60)

    app.scheduler.register("plain", forever)
    app.scheduler.register("again", forever, resumable=True, limit_group="other")
    plain = await app.scheduler.submit("plain", {})
    again = await app.scheduler.submit("again", {})
    await started.wait()
    await asyncio.sleep(0.05)
    await app.close()
    reopened = await make_app(tmp_path)
    try:
        plain_row = await reopened.store.get_job(plain)
        again_row = await reopened.store.get_job(again)
        assert plain_row is not None and plain_row["status"] == "failed"
        assert plain_row["error"] == "interrupted by shutdown"
        assert again_row is not None and again_row["status"] == "queued"
    finally:
        await reopened.close()
