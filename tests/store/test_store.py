"""The store against a real SQLite file with sqlite-vec loaded."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mididrumigen.profile import QuantitativeParams, StyleProfile
from mididrumigen.store import EMBEDDING_DIMS, Store
from mididrumigen.store.db import migration_files
from mididrumigen.store.store import same_artist_name


def make_profile(name: str, embedding: list[float] | None = None, confidence: float = 0.7) -> StyleProfile:
    """A small profile for tests."""
    return StyleProfile(
        artist_name=name,
        text_description=f"{name} plays test grooves",
        quantitative_params=QuantitativeParams(tempo_typical=97.0, swing_percent=58.0),
        styles=["funk"],
        embedding=embedding,
        confidence_score=confidence,
        sources_count={"article": 2, "midi": 1},
    )


def unit(rng: random.Random) -> list[float]:
    """A random 384-d vector."""
    return [rng.gauss(0.0, 1.0) for _ in range(EMBEDDING_DIMS)]


@pytest.fixture
async def store(tmp_path: Path) -> Store:
    """A fresh store."""
    opened = await Store.open(tmp_path / "db.sqlite")
    yield opened  # type: ignore[misc]
    await opened.close()


async def test_migrations_from_empty_reach_the_newest_version(tmp_path: Path) -> None:
    newest = migration_files()[-1][0]
    store = await Store.open(tmp_path / "new.sqlite")
    try:
        assert await store.db.schema_version() == newest
        names = {r["name"] for r in await store.db.fetchall("SELECT name FROM sqlite_master")}
        for table in (
            "artists",
            "research_sources",
            "style_profiles",
            "profile_embeddings",
            "generation_history",
            "generated_files",
            "jobs",
            "schema_version",
        ):
            assert table in names
        mode = await store.db.fetchone("PRAGMA journal_mode")
        assert mode is not None and mode[0] == "wal"
    finally:
        await store.close()
    again = await Store.open(tmp_path / "new.sqlite")  # re-opening applies nothing twice
    try:
        rows = await again.db.fetchall("SELECT version FROM schema_version")
        assert [r["version"] for r in rows] == list(range(1, newest + 1))
        assert await again.db.integrity_check() == "ok"
    finally:
        await again.close()


async def test_profile_round_trip_is_case_insensitive_and_versioned(store: Store) -> None:
    await store.save_profile(make_profile("Clyde Stubblefield"))
    got = await store.get_profile("clyde STUBBLEFIELD")
    assert got is not None and got.artist_name == "Clyde Stubblefield"
    assert got.quantitative_params.swing_percent == 58.0
    await store.save_profile(make_profile("Clyde Stubblefield", confidence=0.9))
    row = await store.db.fetchone("SELECT version, confidence FROM style_profiles")
    assert row is not None and row["version"] == 2 and row["confidence"] == 0.9
    artists = await store.list_artists()
    assert [(a.name, a.research_status, a.sources_count) for a in artists] == [
        ("Clyde Stubblefield", "cached", 3)
    ]


async def test_knn_matches_brute_force_cosine(store: Store) -> None:
    rng = random.Random(7)
    vectors = {f"Drummer {i}": unit(rng) for i in range(40)}
    for name, vec in vectors.items():
        await store.save_profile(make_profile(name, vec))
    found = await store.similar("Drummer 0", limit=5)
    assert found is not None and len(found) == 5
    query = np.array(vectors["Drummer 0"])
    expected = sorted(
        (1 - float(np.dot(query, v) / (np.linalg.norm(query) * np.linalg.norm(v))), n)
        for n, v in ((n, np.array(v)) for n, v in vectors.items())
        if n != "Drummer 0"
    )[:5]
    assert [s.name for s in found] == [n for _, n in expected]
    for got, (dist, _) in zip(found, expected, strict=True):
        assert got.distance == pytest.approx(dist, abs=1e-4)


async def test_similar_without_embedding_is_none_and_embedding_can_be_set(store: Store) -> None:
    rng = random.Random(1)
    await store.save_profile(make_profile("A"))
    await store.save_profile(make_profile("B", unit(rng)))
    assert await store.similar("A") is None
    await store.set_embedding("a", unit(rng))
    found = await store.similar("A")
    assert found is not None and [s.name for s in found] == ["B"]
    with pytest.raises(ValueError, match="384"):
        await store.set_embedding("A", [1.0, 2.0])


async def test_delete_artist_removes_profile_sources_and_embedding(store: Store) -> None:
    await store.save_profile(make_profile("Gone", unit(random.Random(2))))
    await store.add_research_source("Gone", "article", url="http://x", title="t", extracted={"tempo": 90})
    assert len(await store.list_research_sources("gone")) == 1
    assert await store.delete_artist("GONE")
    for table in ("artists", "style_profiles", "research_sources", "profile_embeddings"):
        row = await store.db.fetchone(f"SELECT COUNT(*) AS n FROM {table}")
        assert row is not None and row["n"] == 0, table
    assert not await store.delete_artist("Gone")


async def test_same_artist_name_is_one_row_exactly_as_the_store_finds_it(store: Store) -> None:
    await store.set_research_status("Tré Cool", "cached")
    for other in ("Tré Cool", "tré cool", "TRé COOL", "TRÉ COOL", "Tre Cool"):
        assert same_artist_name("Tré Cool", other) == (await store.get_artist(other) is not None), other


async def test_an_artist_under_research_is_neither_deleted_nor_reset_in_the_same_transaction(
    store: Store,
) -> None:
    # The check and the delete are one write: research queued between a caller's own check
    # and its delete still keeps its artist.
    from mididrumigen.research.drummers import find_builtin

    await store.save_profile(make_profile("Busy", unit(random.Random(4))))
    await store.insert_job("job-1", "research", {}, "busy")
    assert not await store.delete_artist("Busy", unless_researching=True)
    assert await store.get_artist("Busy") is not None
    bonham = find_builtin("John Bonham")
    await store.insert_job("job-2", "research", {}, "John Bonham")
    assert not await store.reset_to_builtin(bonham, unless_researching=True)
    await store.db.execute_write("UPDATE jobs SET status = 'failed'")
    assert await store.delete_artist("Busy", unless_researching=True)
    assert await store.reset_to_builtin(bonham, unless_researching=True)
    assert await store.get_profile("John Bonham") is not None


async def test_only_an_artist_without_a_profile_is_removed_as_unprofiled(store: Store) -> None:
    await store.save_profile(make_profile("Kept", unit(random.Random(3))))
    assert not await store.delete_unprofiled_artist("kept")
    assert (await store.get_artist("Kept")) is not None
    await store.set_research_status("Typo Name", "failed")
    await store.add_research_source("Typo Name", "article", url="http://x")
    assert await store.delete_unprofiled_artist("typo name")
    assert await store.get_artist("Typo Name") is None
    row = await store.db.fetchone("SELECT COUNT(*) AS n FROM research_sources")
    assert row is not None and row["n"] == 0
    assert not await store.delete_unprofiled_artist("Typo Name")


async def test_a_job_is_queued_once_per_artist_while_one_covers_it(store: Store) -> None:
    def articles(job: dict[str, Any]) -> bool:
        return job["params"].get("kinds") == ["article"]

    first, created = await store.insert_job_once(
        "a" * 32,
        "research",
        {"kinds": ["article"]},
        "New Name",
        covered_by=articles,
        research_status="pending",
    )
    assert created and first["params"] == {"kinds": ["article"], "new_artist": True}
    row = await store.get_artist("New Name")
    assert row is not None and row.research_status == "pending"
    again, created = await store.insert_job_once("b" * 32, "research", {}, "NEW NAME", covered_by=articles)
    assert not created and again["id"] == first["id"]
    other, created = await store.insert_job_once(
        "c" * 32, "research", {}, "new name", covered_by=lambda job: False, research_status="pending"
    )
    assert created and other["params"] == {}  # the artist is there now
    await store.update_job(first["id"], status="failed")
    await store.update_job(other["id"], status="succeeded")
    fresh, created = await store.insert_job_once("d" * 32, "research", {}, "New Name", covered_by=articles)
    assert created and fresh["id"] == "d" * 32


async def test_research_source_kind_is_checked(store: Store) -> None:
    await store.set_research_status("Someone", "researching")
    with pytest.raises(ValueError, match="source kind"):
        await store.add_research_source("Someone", "tweet")
    with pytest.raises(ValueError, match="unknown artist"):
        await store.add_research_source("Nobody", "paper")


async def test_failed_transaction_leaves_nothing_half_written(store: Store) -> None:
    async def crash_between_statements() -> None:
        async with store.db.write() as conn:
            await conn.execute("INSERT INTO artists (name, created_at, updated_at) VALUES ('Half', 0, 0)")
            raise RuntimeError("crash between statements")

    with pytest.raises(RuntimeError):
        await crash_between_statements()
    assert await store.get_artist("Half") is None
    # A cancelled writer also rolls back, and the next writer is not blocked.
    started = asyncio.Event()

    async def slow_writer() -> None:
        async with store.db.write() as conn:
            await conn.execute("INSERT INTO artists (name, created_at, updated_at) VALUES ('Cut', 0, 0)")
            started.set()
            await asyncio.sleep(10)

    task = asyncio.create_task(slow_writer())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await store.get_artist("Cut") is None
    await store.save_profile(make_profile("After"))
    assert await store.get_profile("After") is not None


async def test_generation_and_files_are_recorded_together(store: Store, tmp_path: Path) -> None:
    paths = [(tmp_path / f"v{i}.mid", f"[X] - Variation {i}") for i in (1, 2)]
    ids = await store.record_generation(
        artist="X", request={"bars": 4}, provider_used="groove-engine", generation_time_ms=3.5, files=paths
    )
    assert len(ids) == 2 and all(len(i) == 32 for i in ids)
    got = await store.get_file(ids[1])
    assert got is not None and got.path == paths[1][0] and got.name == "[X] - Variation 2"
    assert await store.get_file("0" * 32) is None
    stats = await store.stats()
    assert stats["generations"] == 1 and stats["files"] == 2
    assert stats["generations_by_provider"] == {"groove-engine": 1}


async def test_concurrent_generations_are_group_committed(store: Store, tmp_path: Path) -> None:
    """Many generations recorded at once: fewer statements than records, every file linked to its own."""
    commits = 0
    execute_write = store.db.execute_write

    async def counting_execute_write(sql: str, params: Any = ()) -> int:
        nonlocal commits
        commits += 1
        return await execute_write(sql, params)

    store.db.execute_write = counting_execute_write  # type: ignore[method-assign]

    async def one(n: int) -> list[str]:
        files = [(tmp_path / f"g{n}-v{i}.mid", f"[G{n}] - Variation {i}") for i in (1, 2)]
        return await store.record_generation(
            artist=f"G{n}",
            request={"n": n},
            provider_used="groove-engine",
            generation_time_ms=1.0,
            files=files,
        )

    results = await asyncio.gather(*(one(n) for n in range(20)))
    assert 1 <= commits < 20
    for n, ids in enumerate(results):
        for i, file_id in zip((1, 2), ids, strict=True):
            row = await store.get_file(file_id)
            assert row is not None and row.name == f"[G{n}] - Variation {i}" and row.artist == f"G{n}"
    links = await store.db.fetchall(
        "SELECT h.request, f.name FROM generated_files f JOIN generation_history h ON h.id = f.generation_id"
    )
    assert len(links) == 40
    assert all(f"[G{r['request'][5:-1]}]" in r["name"] for r in links)  # request {"n":N} -> file of G N
    assert (await store.stats())["generations"] == 20


async def test_pending_generations_are_written_on_close(tmp_path: Path) -> None:
    """Close right after recording (without awaiting it): the records are in the file afterwards."""
    opened = await Store.open(tmp_path / "db.sqlite")
    tasks = [
        asyncio.create_task(
            opened.record_generation(
                artist="X",
                request={},
                provider_used="groove-engine",
                generation_time_ms=1.0,
                files=[(tmp_path / f"c{n}.mid", f"c{n}")],
            )
        )
        for n in range(5)
    ]
    await asyncio.sleep(0)  # the records are queued; none committed yet
    await opened.close()
    assert all(len(ids) == 1 for ids in await asyncio.gather(*tasks))
    reopened = await Store.open(tmp_path / "db.sqlite")
    try:
        assert (await reopened.stats())["files"] == 5
    finally:
        await reopened.close()


async def test_builtin_seed_adds_only_missing(store: Store) -> None:
    assert await store.save_builtin_profiles([make_profile("One"), make_profile("Two")]) == 2
    assert await store.save_builtin_profiles([make_profile("one"), make_profile("Three")]) == 1
    origins = {a.name: a.origin for a in await store.list_artists()}
    assert origins == {"One": "builtin", "Two": "builtin", "Three": "builtin"}


async def test_vectors_of_the_first_embedding_scheme_are_dropped_on_upgrade(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A store made by a release whose vectors embedded one text (migrations 001-002): the new vectors mix
    # three embeddings, and one KNN over both kinds would rank by which scheme made a vector.
    from mididrumigen.store import db

    newest = db.migration_files()
    monkeypatch.setattr(db, "migration_files", lambda: newest[:2])
    old = await Store.open(tmp_path / "db.sqlite")
    rng = random.Random(5)
    await old.save_profile(make_profile("Old Researched", unit(rng)))
    await old.save_builtin_profiles([make_profile("Old Builtin", unit(rng))])
    await old.close()
    monkeypatch.undo()
    upgraded = await Store.open(tmp_path / "db.sqlite")
    try:
        rows = await upgraded.list_artists()
        assert [(r.name, r.has_profile, r.has_embedding) for r in rows] == [
            ("Old Builtin", True, False),
            ("Old Researched", True, False),
        ]
        assert await upgraded.similar("Old Researched") is None
        await upgraded.set_embedding("Old Researched", unit(rng))  # vectors of the new scheme are kept
    finally:
        await upgraded.close()
    again = await Store.open(tmp_path / "db.sqlite")
    try:
        assert (await again.get_artist("Old Researched")).has_embedding  # type: ignore[union-attr]
    finally:
        await again.close()


async def test_an_embedding_can_be_added_only_where_none_is(store: Store) -> None:
    rng = random.Random(6)
    first, second = unit(rng), unit(rng)
    await store.save_profile(make_profile("A"))
    assert await store.set_embedding("A", first, only_if_missing=True)
    # e.g. research saved a fresh profile and vector while the old profile was being re-embedded
    assert not await store.set_embedding("a", second, only_if_missing=True)
    row = await store.db.fetchone("SELECT embedding FROM profile_embeddings")
    assert row is not None and np.frombuffer(row["embedding"], dtype=np.float32) == pytest.approx(first)
    assert await store.set_embedding("A", second)
    row = await store.db.fetchone("SELECT embedding FROM profile_embeddings")
    assert row is not None and np.frombuffer(row["embedding"], dtype=np.float32) == pytest.approx(second)
