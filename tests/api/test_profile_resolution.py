"""How the daemon resolves an artist's profile: built-in vs stored copies, and the in-memory cache."""

from __future__ import annotations

import dataclasses

import aiohttp

from mididrumigen import orchestrator
from mididrumigen.research.drummers import find_builtin
from tests.api.conftest import Running


async def test_a_stale_stored_copy_of_a_builtin_is_not_served(daemon: Running) -> None:
    # What an older release seeded: a plain copy (no research sources added) that differs from today's built-in.
    builtin = find_builtin("John Bonham")
    old = dataclasses.replace(builtin, styles=["disco"], text_description="an older release's text")
    await daemon.app.store.save_profile(old, origin="builtin")
    assert (await daemon.app.store.get_profile("John Bonham")).styles == ["disco"]  # type: ignore[union-attr]
    profile = await orchestrator.resolve_profile(daemon.app, "bonham")
    assert profile is not None and profile.styles == builtin.styles
    assert profile.text_description == builtin.text_description


async def test_a_researched_profile_of_a_builtin_drummer_is_preferred(
    daemon: Running, client: aiohttp.ClientSession
) -> None:
    builtin = find_builtin("John Bonham")
    researched = dataclasses.replace(builtin, styles=["funk"], sources_count={"builtin": 1, "audio": 2})
    await daemon.app.store.save_profile(researched)
    async with client.post("/api/v1/generate", json={"artist": "bonham", "variations": 1, "seed": 3}) as resp:
        assert resp.status == 200
        result = await resp.json()
    assert result["style"] == "funk"
    assert result["profile"]["sources_count"] == {"builtin": 1, "audio": 2}


async def test_a_researched_artist_is_served_from_the_store(daemon: Running) -> None:
    other = dataclasses.replace(find_builtin("John Bonham"), artist_name="Jane Groover", aliases=[])
    await daemon.app.store.save_profile(other, origin="research")
    profile = await orchestrator.resolve_profile(daemon.app, "jane groover")
    assert profile is not None and profile.artist_name == "Jane Groover"


async def test_cached_profiles_are_dropped_when_a_profile_is_written(daemon: Running) -> None:
    first = await orchestrator.resolve_profile(daemon.app, "John Bonham")
    assert first is not None
    assert await orchestrator.resolve_profile(daemon.app, "john bonham") is first  # served from memory
    researched = dataclasses.replace(first, styles=["funk"], sources_count={"builtin": 1, "article": 1})
    await daemon.app.store.save_profile(researched)
    again = await orchestrator.resolve_profile(daemon.app, "John Bonham")
    assert again is not None and again.styles == ["funk"]
    assert await daemon.app.store.delete_artist("John Bonham")
    after_delete = await orchestrator.resolve_profile(daemon.app, "John Bonham")
    assert after_delete is not None and after_delete.styles == first.styles  # the built-in again
