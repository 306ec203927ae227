"""Artists over HTTP: what DELETE removes, what research leaves behind, merged jobs, one unknown-artist error."""

from __future__ import annotations

import dataclasses

import aiohttp
import pytest

from mididrumigen import orchestrator
from mididrumigen.research.drummers import find_builtin
from tests.api.conftest import Running, assert_error
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


async def test_deleting_a_researched_artist_removes_it(daemon: Running, client: aiohttp.ClientSession) -> None:
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
