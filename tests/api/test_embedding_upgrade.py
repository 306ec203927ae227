"""A store made by the release whose vectors embedded one text: the daemon starts with vectors of the current scheme."""

from __future__ import annotations

import asyncio
import dataclasses
import random
import struct
from pathlib import Path

import pytest

from mididrumigen.app import DATABASE_FILE, App
from mididrumigen.profile import QuantitativeParams, StyleProfile
from mididrumigen.research.builtin_vectors import shipped_embedding
from mididrumigen.research.drummers import find_builtin
from mididrumigen.research.embeddings import embed_profile
from mididrumigen.settings import Settings
from mididrumigen.store import EMBEDDING_DIMS, Store
from tests.research.conftest import HashingEmbedder


class GatedEmbedder(HashingEmbedder):
    """The fake embedder, held until released (the real one loads a model for seconds)."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()

    async def embed(self, text: str) -> list[float]:
        await self.gate.wait()
        return await super().embed(text)


def old_vector(rng: random.Random) -> list[float]:
    return [rng.gauss(0.0, 1.0) for _ in range(EMBEDDING_DIMS)]


async def stored_vector(store: Store, name: str) -> list[float] | None:
    row = await store.db.fetchone(
        "SELECT e.embedding FROM profile_embeddings e JOIN artists a ON a.id = e.artist_id WHERE a.name = ?",
        (name,),
    )
    return None if row is None else list(struct.unpack(f"{EMBEDDING_DIMS}f", row["embedding"]))


async def test_old_vectors_are_replaced_builtins_at_start_and_researched_ones_in_the_background(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mididrumigen.store import db

    newest = db.migration_files()
    monkeypatch.setattr(db, "migration_files", lambda: newest[:2])  # the previous release's schema
    data = tmp_path / "data"
    rng = random.Random(4)
    old = await Store.open(data / DATABASE_FILE)
    # A plain copy of a built-in seeded by an older release (text since improved), a current copy, a researched artist.
    stale_copy = dataclasses.replace(
        find_builtin("John Bonham"), text_description="an older release's text", embedding=old_vector(rng)
    )
    current_copy = dataclasses.replace(find_builtin("Elvin Jones"), embedding=old_vector(rng))
    await old.save_builtin_profiles([stale_copy, current_copy])
    researched = StyleProfile(
        "Jane Groover",
        "Funky session drummer.",
        QuantitativeParams(),
        ["funk"],
        genres=["funk", "soul"],
        confidence_score=0.7,
        sources_count={"article": 2},
        embedding=old_vector(rng),
    )
    await old.save_profile(researched)
    await old.close()
    monkeypatch.undo()

    app = await App.create(Settings({"data_dir": str(data)}))
    embedder = GatedEmbedder()
    app.embedder = embedder
    try:
        await app.start()  # does not wait for the model
        for name in ("John Bonham", "Elvin Jones"):  # from the shipped file: no model
            expected = shipped_embedding(find_builtin(name))
            assert expected is not None
            assert await stored_vector(app.store, name) == pytest.approx(expected, abs=1e-6)
        assert await stored_vector(app.store, "Jane Groover") is None  # no old-scheme vector in any KNN
        assert await app.store.similar("Jane Groover") is None
        (task,) = [t for t in asyncio.all_tasks() if t.get_name() == "embed-stored-profiles"]
        embedder.gate.set()
        async with asyncio.timeout(10):
            await task
        expected = await embed_profile(HashingEmbedder(), researched)
        assert await stored_vector(app.store, "Jane Groover") == pytest.approx(expected, abs=1e-6)
        found = await app.store.similar("Jane Groover", 3)
        assert found is not None and len(found) == 3
    finally:
        await app.close()


async def test_closing_while_stored_profiles_are_embedded_stops_that_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mididrumigen.store import db

    newest = db.migration_files()
    monkeypatch.setattr(db, "migration_files", lambda: newest[:2])
    old = await Store.open(tmp_path / "data" / DATABASE_FILE)
    await old.save_profile(
        StyleProfile(
            "Jane Groover", "Funky.", QuantitativeParams(), ["funk"], embedding=old_vector(random.Random(2))
        )
    )
    await old.close()
    monkeypatch.undo()
    app = await App.create(Settings({"data_dir": str(tmp_path / "data")}))
    app.embedder = GatedEmbedder()  # never released: the model is still loading when the daemon stops
    await app.start()
    (task,) = [t for t in asyncio.all_tasks() if t.get_name() == "embed-stored-profiles"]
    async with asyncio.timeout(10):
        await app.close()
    assert task.cancelled()


async def test_a_store_with_current_vectors_starts_no_model(tmp_path: Path) -> None:
    app = await App.create(Settings({"data_dir": str(tmp_path / "data")}))
    embedder = HashingEmbedder()
    app.embedder = embedder
    try:
        await app.start()
        researched = StyleProfile(
            "Jane Groover", "Funky.", QuantitativeParams(), ["funk"], embedding=old_vector(random.Random(1))
        )
        await app.store.save_profile(researched)
        await app.close()
        app = await App.create(Settings({"data_dir": str(tmp_path / "data")}))
        app.embedder = embedder
        await app.start()
        await asyncio.sleep(0.05)
        assert embedder.calls == 0
        assert all(row.has_embedding for row in await app.store.list_artists())
    finally:
        await app.close()
