"""Artists over HTTP: what DELETE removes, what research leaves behind, merged jobs, one unknown-artist error."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from mididrumigen import orchestrator
from mididrumigen.app import App
from mididrumigen.errors import UserError
from mididrumigen.jobs import JobContext
from mididrumigen.profile import StyleProfile
from mididrumigen.research.drummers import find_builtin
from tests.api.conftest import Running, assert_error, start_daemon, stop_daemon
from tests.store.test_store import make_profile

TYPO = "Danny Careyyy Xq"  # no built-in knowledge; close to Danny Carey
TYPO_URL = "Danny%20Careyyy%20Xq"


async def artist_names(client: aiohttp.ClientSession) -> dict[str, dict[str, object]]:
    """GET /artists as {name: row}."""
    async with client.get("/api/v1/artists") as resp:
        assert resp.status == 200
        return {row["name"]: row for row in (await resp.json())["artists"]}


# -- DELETE /artists/{artist} ---------------------------------------------------------------------


async def test_deleting_a_builtin_drummer_with_nothing_researched_is_refused(
    daemon: Running, client: aiohttp.ClientSession
) -> None:
    before = await artist_names(client)
    assert before["John Bonham"]["origin"] == "builtin"
    for name in ("John%20Bonham", "john%20bonham"):
        async with client.delete(f"/api/v1/artists/{name}") as resp:
            assert resp.status == 409
            error = assert_error(await resp.json(), "builtin_artist")
        assert error["message"].startswith("built-in knowledge cannot be removed")
        assert "John Bonham" in error["message"] and "\n" not in error["message"]
    assert (await artist_names(client))["John Bonham"] == before["John Bonham"]


async def test_deleting_a_researched_builtin_drummer_removes_the_research_and_says_so(
    daemon: Running, client: aiohttp.ClientSession
) -> None:
    store = daemon.app.store
    builtin = find_builtin("John Bonham")
    researched = dataclasses.replace(builtin, styles=["funk"], sources_count={"builtin": 1, "audio": 2})
    await store.save_profile(researched, origin="research")
    await store.add_research_source("John Bonham", "audio", url="http://127.0.0.1:9/a", title="a live take")
    served = await orchestrator.resolve_profile(daemon.app, "John Bonham")
    assert served is not None and served.styles == ["funk"]
    async with client.delete("/api/v1/artists/John%20Bonham") as resp:
        assert resp.status == 200
        assert await resp.json() == {"deleted": "John Bonham", "reset_to": "built-in"}
    assert await store.list_research_sources("John Bonham") == []
    stored = await store.get_profile("John Bonham")
    assert stored is not None and stored.sources_count == builtin.sources_count
    served = await orchestrator.resolve_profile(daemon.app, "John Bonham")
    assert served is not None and served.styles == builtin.styles
    row = (await artist_names(client))["John Bonham"]
    assert row["origin"] == "builtin" and row["research_status"] == "cached" and row["has_embedding"]
    async with client.get("/api/v1/similar/John%20Bonham?limit=1") as resp:
        assert resp.status == 200
    async with client.delete("/api/v1/artists/John%20Bonham") as resp:  # nothing researched is left
        assert resp.status == 409
        assert_error(await resp.json(), "builtin_artist")


async def test_deleting_a_researched_artist_removes_it(
    daemon: Running, client: aiohttp.ClientSession
) -> None:
    await daemon.app.store.save_profile(make_profile("Delete Me"))
    async with client.delete("/api/v1/artists/delete%20me") as resp:
        assert resp.status == 200
        assert await resp.json() == {"deleted": "Delete Me", "reset_to": None}
    assert "Delete Me" not in await artist_names(client)


async def test_delete_is_documented_with_its_409(client: aiohttp.ClientSession) -> None:
    async with client.get("/api/v1/openapi.json") as resp:
        doc = await resp.json()
    answers = doc["paths"]["/api/v1/artists/{artist}"]["delete"]["responses"]
    assert {"200", "400", "404", "409"} <= set(answers)
    deleted = doc["components"]["schemas"]["Deleted"]
    assert {"deleted", "reset_to"} <= set(deleted["properties"])
    assert "research_running" in doc["paths"]["/api/v1/artists/{artist}"]["delete"]["summary"]
    assert "task_id" in doc["components"]["schemas"]["ErrorDetail"]["properties"]


# -- one error for an unknown artist --------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/research/{}"),
        ("POST", "/augment/{}"),
        ("GET", "/similar/{}"),
        ("DELETE", "/artists/{}"),
    ],
)
async def test_every_route_answers_an_unknown_artist_alike(
    client: aiohttp.ClientSession, method: str, path: str
) -> None:
    async with client.request(method, "/api/v1" + path.format(TYPO_URL)) as resp:
        assert resp.status == 404
        error = assert_error(await resp.json(), "unknown_artist")
    assert error["message"] == f"unknown artist {TYPO!r}; did you mean Danny Carey?"
    assert error["suggestions"] == ["Danny Carey"] and error["artist"] == TYPO


# -- what research leaves behind ------------------------------------------------------------------


class GatedResearch:
    """A stand-in for run_research that waits for `gate`, counts its runs, then finds a profile or nothing."""

    def __init__(self, found: bool) -> None:
        self.gate = asyncio.Event()
        self.found = found
        self.runs: list[str] = []

    async def __call__(self, app: App, artist: str, job: JobContext) -> StyleProfile:
        self.runs.append(artist)
        await job.set_stage("reading sources", 30)
        await self.gate.wait()
        if not self.found:
            return await orchestrator.local_research(app, artist, job)  # no built-in knowledge: fails
        return dataclasses.replace(find_builtin("Clyde Stubblefield"), artist_name=artist, aliases=[])


@pytest.fixture
def research(monkeypatch: pytest.MonkeyPatch) -> GatedResearch:
    """Research that waits for its gate, then finds a profile: patched in as orchestrator.run_research."""
    gated = GatedResearch(found=True)
    monkeypatch.setattr(orchestrator, "run_research", gated)
    return gated


async def research_jobs(daemon: Running, artist: str) -> list[dict[str, Any]]:
    """Every research job ever queued for artist."""
    jobs = await daemon.app.store.jobs_with_status("queued", "running", "succeeded", "failed", "cancelled")
    return [
        job for job in jobs if job["kind"] == "research" and job["artist"].casefold() == artist.casefold()
    ]


async def wait_running(daemon: Running, task_id: str) -> None:
    """Wait until a research task is in GatedResearch, waiting for its gate."""
    for _ in range(500):
        if (await daemon.app.scheduler.get(task_id))["stage"] == "reading sources":
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"task {task_id} never started reading sources")


@pytest.mark.parametrize("route", ["research", "generate"])
async def test_a_typo_is_listed_while_researched_then_leaves_no_artist_behind(
    daemon: Running, client: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch, route: str
) -> None:
    research = GatedResearch(found=False)
    monkeypatch.setattr(orchestrator, "run_research", research)
    async with client.post(f"/api/v1/{route}", json={"artist": TYPO}) as resp:
        assert resp.status == 202
        accepted = await resp.json()
    [job] = await research_jobs(daemon, TYPO)
    await wait_running(daemon, job["id"])
    assert (await artist_names(client))[TYPO]["research_status"] == "researching"  # the device shows progress
    async with client.get(f"/api/v1/research/{TYPO_URL}") as resp:
        assert resp.status == 200
        assert (await resp.json())["task_id"] == job["id"]
    research.gate.set()
    task = await daemon.app.scheduler.wait(accepted["task_id"], 10)
    assert task["status"] == "failed" and TYPO in task["error"]
    assert TYPO not in await artist_names(client)
    async with client.get(f"/api/v1/research/{TYPO_URL}") as resp:
        assert resp.status == 404
        assert assert_error(await resp.json(), "unknown_artist")["suggestions"] == ["Danny Carey"]
    async with client.get(accepted["status_url"]) as resp:  # the task still explains what happened
        assert resp.status == 200
        kept = await resp.json()
    assert kept["status"] == "failed" and TYPO in kept["error"]


async def test_a_cancelled_research_of_a_new_name_leaves_no_artist_behind(
    daemon: Running, client: aiohttp.ClientSession, research: GatedResearch
) -> None:
    async with client.post("/api/v1/research", json={"artist": TYPO}) as resp:
        accepted = await resp.json()
    await wait_running(daemon, accepted["task_id"])
    async with client.delete(accepted["status_url"]) as resp:
        assert resp.status == 200 and (await resp.json())["status"] == "cancelled"
    assert TYPO not in await artist_names(client)


async def test_a_failed_augment_leaves_the_artist_intact(
    daemon: Running, client: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def unreachable(app: App, artist: str, job: JobContext) -> StyleProfile:
        raise UserError("every source was unreachable")

    monkeypatch.setattr(orchestrator, "run_research", unreachable)
    await daemon.app.store.save_profile(make_profile("Known One"))
    async with client.post("/api/v1/augment/Known%20One") as resp:
        accepted = await resp.json()
    assert (await daemon.app.scheduler.wait(accepted["task_id"], 10))["status"] == "failed"
    row = (await artist_names(client))["Known One"]
    assert row["has_profile"] and row["research_status"] == "cached"  # as before: the task keeps the reason
    async with client.get("/api/v1/research/Known%20One") as resp:
        assert resp.status == 200 and (await resp.json())["profile"]["artist_name"] == "Known One"


async def test_a_failed_research_leaves_a_row_that_was_there_before(
    daemon: Running, client: aiohttp.ClientSession
) -> None:
    await daemon.app.store.set_research_status("Old Attempt", "failed")
    async with client.post("/api/v1/research", json={"artist": "Old Attempt"}) as resp:
        accepted = await resp.json()
    assert (await daemon.app.scheduler.wait(accepted["task_id"], 10))["status"] == "failed"
    assert (await artist_names(client))["Old Attempt"]["research_status"] == "failed"


# -- one job for the same work --------------------------------------------------------------------


async def test_a_second_augment_joins_the_one_queued(
    daemon: Running, client: aiohttp.ClientSession, research: GatedResearch
) -> None:
    await daemon.app.store.save_profile(make_profile("Known One"))

    async def augment(body: dict[str, Any] | None = None) -> dict[str, Any]:
        async with client.post("/api/v1/augment/Known%20One", json=body) as resp:
            assert resp.status == 202
            return dict(await resp.json())

    first, second = await asyncio.gather(augment(), augment())  # a double click
    assert first["task_id"] == second["task_id"]
    assert sorted([first["status"], second["status"]]) == ["already_queued", "queued"]
    third = await augment({"kinds": ["audio"]})  # all kinds are being collected already
    assert third["task_id"] == first["task_id"] and third["status"] == "already_queued"
    assert third["status_url"] == first["status_url"]
    async with client.post("/api/v1/research", json={"artist": "known one"}) as resp:
        assert (await resp.json())["status"] == "cached"  # a profile is there: no research at all
    assert len(await research_jobs(daemon, "Known One")) == 1
    research.gate.set()
    assert (await daemon.app.scheduler.wait(first["task_id"], 10))["status"] == "succeeded"
    assert research.runs == ["Known One"]
    fresh = await augment()  # nothing active any more: new work
    assert fresh["status"] == "queued" and fresh["task_id"] != first["task_id"]


async def test_an_augment_of_other_source_kinds_is_its_own_job(
    daemon: Running, client: aiohttp.ClientSession, research: GatedResearch
) -> None:
    await daemon.app.store.save_profile(make_profile("Known One"))
    answers = []
    for kinds in (["article"], ["article"], ["audio"], None):
        async with client.post("/api/v1/augment/Known%20One", json={"kinds": kinds}) as resp:
            answers.append(await resp.json())
    assert [a["status"] for a in answers] == ["queued", "already_queued", "queued", "queued"]
    assert len({a["task_id"] for a in answers}) == 3
    research.gate.set()


async def test_generating_for_an_unknown_artist_twice_researches_once(
    daemon: Running, client: aiohttp.ClientSession, research: GatedResearch
) -> None:
    tasks = []
    for seed in (1, 2):
        async with client.post(
            "/api/v1/generate", json={"artist": "Newly Found", "variations": 1, "seed": seed}
        ) as resp:
            assert resp.status == 202
            tasks.append((await resp.json())["task_id"])
    async with client.post("/api/v1/research", json={"artist": "newly found"}) as resp:
        assert resp.status == 202
        joined = await resp.json()
    [job] = await research_jobs(daemon, "Newly Found")
    assert joined["task_id"] == job["id"] and joined["status"] == "already_queued"
    assert len(set(tasks)) == 2 and job["id"] not in tasks
    research.gate.set()
    for task_id in tasks:
        done = await daemon.app.scheduler.wait(task_id, 20)
        assert done["status"] == "succeeded", done
        assert done["result"]["artist"] == "Newly Found" and len(done["result"]["files"]) == 1
    assert research.runs == ["Newly Found"]
    assert len(await research_jobs(daemon, "Newly Found")) == 1


async def test_a_generation_waiting_for_research_resumes_after_a_restart(
    tmp_path: Path, research: GatedResearch
) -> None:
    first = await start_daemon(tmp_path)
    try:
        async with first.client() as session:
            async with session.post(
                "/api/v1/generate", json={"artist": "Newly Found", "variations": 1}
            ) as resp:
                task_id = (await resp.json())["task_id"]
            [job] = await research_jobs(first, "Newly Found")
            await wait_running(first, job["id"])
    finally:
        await stop_daemon(first)  # research and generation are interrupted, to resume
    research.gate.set()
    second = await start_daemon(tmp_path)
    try:
        done = await second.app.scheduler.wait(task_id, 20)
        assert done["status"] == "succeeded", done
        assert done["result"]["artist"] == "Newly Found"
        assert research.runs == ["Newly Found", "Newly Found"]  # the one research, run again once
        assert [j["id"] for j in await research_jobs(second, "Newly Found")] == [job["id"]]
    finally:
        await stop_daemon(second)


async def test_a_request_joining_queued_work_is_not_counted_by_the_rate_limit(
    tmp_path: Path, research: GatedResearch
) -> None:
    running = await start_daemon(tmp_path, rate_limit_per_hour=2)
    try:
        await running.app.store.save_profile(make_profile("Known One"))
        async with running.client() as session:
            statuses = []
            for _ in range(4):
                async with session.post("/api/v1/augment/Known%20One") as resp:
                    assert resp.status == 202
                    statuses.append((await resp.json())["status"])
            assert statuses == ["queued", "already_queued", "already_queued", "already_queued"]
            async with session.post("/api/v1/generate", json={"style": "funk", "variations": 1}) as resp:
                assert resp.status == 200  # the second request that started work
            async with session.post("/api/v1/generate", json={"style": "funk", "variations": 1}) as resp:
                assert resp.status == 429
        research.gate.set()
    finally:
        await stop_daemon(running)


# -- the artist's status after research that saved nothing ------------------------------------------


@pytest.mark.parametrize("artist", ["Known One", "John Bonham"])
async def test_a_cancelled_augment_gives_the_artist_its_status_back(
    daemon: Running, client: aiohttp.ClientSession, research: GatedResearch, artist: str
) -> None:
    await daemon.app.store.save_profile(make_profile("Known One"))
    url = f"/api/v1/augment/{artist.replace(' ', '%20')}"
    async with client.post(url, json={"kinds": ["article"]}) as resp:
        running = await resp.json()
    await wait_running(daemon, running["task_id"])
    async with client.post(url, json={"kinds": ["audio"]}) as resp:
        waiting = await resp.json()  # its own job, queued behind the first (one research at a time)
    assert waiting["status"] == "queued" and waiting["task_id"] != running["task_id"]
    assert (await artist_names(client))[artist]["research_status"] == "researching"
    async with client.delete(waiting["status_url"]) as resp:
        assert (await resp.json())["status"] == "cancelled"
    assert (await artist_names(client))[artist][
        "research_status"
    ] == "researching"  # the first one still runs
    async with client.delete(running["status_url"]) as resp:
        assert (await resp.json())["status"] == "cancelled"
    row = (await artist_names(client))[artist]
    assert row["research_status"] == "cached" and row["has_profile"]
    async with client.get(f"/api/v1/research/{artist.replace(' ', '%20')}") as resp:
        state = await resp.json()
    assert state["status"] == "cached" and state["task_id"] is None and state["profile"] is not None


async def test_research_found_running_after_a_crash_resumes_or_fails_and_the_artist_follows(
    tmp_path: Path, research: GatedResearch
) -> None:
    from mididrumigen.app import DATABASE_FILE
    from mididrumigen.jobs.scheduler import MAX_ATTEMPTS
    from mididrumigen.store import Store

    store = await Store.open(tmp_path / "data" / DATABASE_FILE)
    try:  # what a daemon killed mid-research leaves: jobs 'running', their artists 'researching'

        async def crashed(artist: str, attempts: int, *, augment: bool = False) -> str:
            job, created = await store.insert_job_once(
                f"{artist[:1]}{attempts}".ljust(32, "0"),
                "research",
                {"artist": artist, "augment": augment},
                artist,
                covered_by=lambda _job: False,
                research_status=None if augment else "pending",
            )
            assert created
            await store.update_job(job["id"], status="running", stage="reading sources", attempts=attempts)
            await store.set_research_status(artist, "researching")
            return str(job["id"])

        await store.save_profile(make_profile("Known One"))
        gave_up_augment = await crashed("Known One", MAX_ATTEMPTS, augment=True)
        gave_up_typo = await crashed(TYPO, MAX_ATTEMPTS)
        resumed_first = await crashed("Fresh One", 1)
        resumed_second = await crashed("Second Fresh", 1)
    finally:
        await store.close()
    running = await start_daemon(tmp_path)
    try:
        async with running.client() as session:
            for task_id in (gave_up_augment, gave_up_typo):
                failed = await running.app.scheduler.get(task_id)
                assert failed["status"] == "failed"
                assert failed["error"] == f"interrupted by restart (gave up after {MAX_ATTEMPTS} attempts)"
            rows = await artist_names(session)
            assert rows["Known One"]["research_status"] == "cached" and rows["Known One"]["has_profile"]
            assert TYPO not in rows  # it was new: nothing was found for it
            await wait_running(running, resumed_first)
            rows = await artist_names(session)
            assert rows["Fresh One"]["research_status"] == "researching"
            assert rows["Second Fresh"]["research_status"] == "pending"  # resumed, waiting for its turn
            research.gate.set()
            for task_id in (resumed_first, resumed_second):
                done = await running.app.scheduler.wait(task_id, 10)
                assert done["status"] == "succeeded" and done["attempts"] == 2
            rows = await artist_names(session)
            assert rows["Fresh One"]["research_status"] == rows["Second Fresh"]["research_status"] == "cached"
    finally:
        await stop_daemon(running)


# -- DELETE while research runs ---------------------------------------------------------------------


async def test_deleting_an_artist_while_it_is_researched_is_refused_with_the_task(
    daemon: Running, client: aiohttp.ClientSession, research: GatedResearch
) -> None:
    await daemon.app.store.save_profile(make_profile("Known One"))
    async with client.post("/api/v1/augment/Known%20One") as resp:
        augment = await resp.json()
    await wait_running(daemon, augment["task_id"])
    async with client.post("/api/v1/research", json={"artist": TYPO}) as resp:
        queued = await resp.json()  # waits for the augment: one research at a time
    for name, task, state in (("known%20one", augment, "running"), (TYPO_URL, queued, "queued")):
        async with client.delete(f"/api/v1/artists/{name}") as resp:
            assert resp.status == 409
            error = assert_error(await resp.json(), "research_running")
        assert error["task_id"] == task["task_id"] and error["artist"] in ("Known One", TYPO)
        assert f"is {state} as task {task['task_id']}" in error["message"] and "cancel" in error["message"]
        assert "\n" not in error["message"] and error["message"][0].islower()
    listed = await artist_names(client)
    assert listed["Known One"]["has_profile"] and TYPO in listed
    for task in (queued, augment):
        async with client.delete(task["status_url"]) as resp:
            assert (await resp.json())["status"] == "cancelled"
    async with client.delete("/api/v1/artists/known%20one") as resp:
        assert resp.status == 200 and (await resp.json())["deleted"] == "Known One"
    async with client.delete(
        f"/api/v1/artists/{TYPO_URL}"
    ) as resp:  # cancelled research of a new name left nothing
        assert resp.status == 404


async def test_research_queued_between_the_check_and_the_delete_keeps_its_artist(
    daemon: Running, research: GatedResearch, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mididrumigen.errors import ResearchRunningError

    store = daemon.app.store
    await store.save_profile(make_profile("Known One"))
    task_id, _ = await orchestrator.queue_research(daemon.app, "Known One", augment=True)
    real_active_job_for = store.active_job_for
    calls = 0

    async def first_check_sees_nothing(
        kind: str, artist: str, *, exclude: str | None = None
    ) -> dict[str, Any] | None:
        # The first look happens before the research is queued, as in a request that races it.
        nonlocal calls
        calls += 1
        return None if calls == 1 else await real_active_job_for(kind, artist, exclude=exclude)

    monkeypatch.setattr(store, "active_job_for", first_check_sees_nothing)
    with pytest.raises(ResearchRunningError) as refused:
        await orchestrator.forget_artist(store, "Known One")
    assert refused.value.task_id == task_id
    assert (await store.get_profile("Known One")) is not None
    await daemon.app.scheduler.cancel(task_id)


async def test_research_that_ends_as_the_delete_is_refused_lets_the_delete_through(
    daemon: Running, research: GatedResearch, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Refused because research was active, which then ended before the refusal was looked
    # into: the artist is there to delete, not unknown.
    store = daemon.app.store
    await store.save_profile(make_profile("Known One"))
    real_delete = store.delete_artist
    refusals = 0

    async def refused_once_as_research_ends(name: str, *, unless_researching: bool = False) -> bool:
        nonlocal refusals
        if refusals == 0:
            refusals += 1
            return False  # as if research had been queued, and ended right after
        return await real_delete(name, unless_researching=unless_researching)

    monkeypatch.setattr(store, "delete_artist", refused_once_as_research_ends)
    assert await orchestrator.forget_artist(store, "Known One") == {"deleted": "Known One", "reset_to": None}
    assert await store.get_artist("Known One") is None


async def test_the_client_gives_the_cli_a_research_running_error_as_in_process(
    daemon: Running, research: GatedResearch
) -> None:
    from mididrumigen.client import DaemonClient
    from mididrumigen.errors import ResearchRunningError
    from tests.api.conftest import TOKEN

    await daemon.app.store.save_profile(make_profile("Known One"))
    task_id, _ = await orchestrator.queue_research(daemon.app, "Known One", augment=True)
    await wait_running(daemon, task_id)
    client = DaemonClient(daemon.url, TOKEN)
    with pytest.raises(ResearchRunningError) as over_http:
        await asyncio.to_thread(client.delete_artist, "Known One")
    with pytest.raises(ResearchRunningError) as in_process:
        await orchestrator.forget_artist(daemon.app.store, "known one")
    assert over_http.value.task_id == in_process.value.task_id == task_id
    assert over_http.value.message == in_process.value.message
    assert over_http.value.status == 409 and over_http.value.code == "research_running"
    await daemon.app.scheduler.cancel(task_id)
