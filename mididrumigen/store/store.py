"""The profile store: artists, research sources, style profiles + embeddings, generations, files, jobs."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import struct
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mididrumigen.profile import StyleProfile
from mididrumigen.store.db import Database

if TYPE_CHECKING:
    import aiosqlite

EMBEDDING_DIMS = 384
RESEARCH_STATUSES = ("pending", "researching", "cached", "failed")
SOURCE_KINDS = ("paper", "article", "audio", "midi")
JOB_STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")
JOB_FIELDS = (
    "kind",
    "status",
    "stage",
    "progress",
    "error",
    "params",
    "result",
    "artist",
    "started_at",
    "finished_at",
    "attempts",
    "heartbeat_at",
)
JSON_JOB_FIELDS = ("params", "result")
# The queued or running jobs of a kind for an artist (any case); parameters: kind, artist.
ACTIVE_JOBS_SQL = (
    "SELECT * FROM jobs WHERE kind = ? AND artist = ? COLLATE NOCASE AND status IN ('queued', 'running')"
)
# A new queued job; parameters: id, kind, params (JSON text), artist, created_at.
INSERT_JOB_SQL = (
    "INSERT INTO jobs (id, kind, status, params, artist, created_at) VALUES (?, ?, 'queued', ?, ?, ?)"
)
GENERATIONS_PER_STATEMENT = 100  # 9 parameters each: far below SQLite's limit on one statement


def dumps(value: Any) -> str:
    """Compact JSON text for a column."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def same_artist_name(a: str, b: str) -> bool:
    """Whether two names are one artist row: artists.name is COLLATE NOCASE, which folds ASCII letters only
    ("john bonham" is "John Bonham"; "TRÉ COOL" is not "Tré Cool")."""
    return a.encode().lower() == b.encode().lower()  # bytes.lower() folds ASCII bytes only, as NOCASE does


def embedding_blob(embedding: Iterable[float]) -> bytes:
    """Pack a 384-d embedding for sqlite-vec, or raise ValueError."""
    values = [float(v) for v in embedding]
    if len(values) != EMBEDDING_DIMS:
        raise ValueError(f"embedding must have {EMBEDDING_DIMS} values, got {len(values)}")
    return struct.pack(f"{len(values)}f", *values)  # sqlite_vec.serialize_float32, without its numpy import


@dataclass(frozen=True, slots=True)
class ArtistRow:
    """One artist as listed: name, where it came from, research status and confidence."""

    id: int
    name: str
    origin: str
    research_status: str
    confidence: float
    sources_count: int
    has_profile: bool
    has_embedding: bool
    created_at: float
    updated_at: float

    def to_json(self) -> dict[str, Any]:
        """Return JSON-safe data."""
        return {
            "name": self.name,
            "origin": self.origin,
            "research_status": self.research_status,
            "confidence": round(self.confidence, 3),
            "sources_count": self.sources_count,
            "has_profile": self.has_profile,
            "has_embedding": self.has_embedding,
            "updated_at": self.updated_at,
        }


@dataclass(frozen=True, slots=True)
class SimilarArtist:
    """One nearest neighbour: name, cosine distance and similarity (1 - distance)."""

    name: str
    distance: float
    confidence: float

    def to_json(self) -> dict[str, Any]:
        """Return JSON-safe data."""
        return {
            "artist": self.name,
            "similarity": round(1.0 - self.distance, 4),
            "distance": round(self.distance, 4),
            "confidence": round(self.confidence, 3),
        }


@dataclass(frozen=True, slots=True)
class FileRow:
    """A generated file known by id."""

    id: str
    path: Path
    name: str
    artist: str | None
    created_at: float


@dataclass(slots=True)
class _PendingGeneration:
    """A generation record waiting for the writer: its history row (files included) and who waits for it."""

    history: tuple[Any, ...]
    done: asyncio.Future[None]


def job_from_row(row: sqlite3.Row) -> dict[str, Any]:
    """Decode a jobs row into JSON-safe data."""
    data = dict(row)
    for key in JSON_JOB_FIELDS:
        if data.get(key) is not None:
            data[key] = json.loads(data[key])
    return data


class Store:
    """Everything the daemon keeps, over one Database (one writer, one reader)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        # Generations waiting for the next group commit, and the task writing them (see record_generation).
        self._pending_generations: list[_PendingGeneration] = []
        self._generation_writer: asyncio.Task[None] | None = None
        # Bumped by every write that can change what get_profile returns, so the App's
        # in-memory profile cache knows when its copies are stale.
        self.profiles_version = 0

    @classmethod
    async def open(cls, path: Path) -> Store:
        """Open the database at path, applying migrations."""
        return cls(await Database.open(path))

    async def close(self) -> None:
        """Write the generations still pending, then close the database."""
        writer = self._generation_writer
        if writer is not None and not writer.done():
            await asyncio.shield(writer)  # every recorded generation is committed before the file closes
        await self.db.close()

    # -- artists and profiles -------------------------------------------------------------

    async def get_artist(self, name: str) -> ArtistRow | None:
        """Return the artist row for name (case-insensitive), or None."""
        rows = await self._artist_rows("WHERE a.name = ?", (name,))
        return rows[0] if rows else None

    async def list_artists(self) -> list[ArtistRow]:
        """Return every artist, by name."""
        return await self._artist_rows("ORDER BY a.name", ())

    async def _artist_rows(self, where: str, params: tuple[Any, ...]) -> list[ArtistRow]:
        rows = await self.db.fetchall(
            "SELECT a.*, p.artist_id IS NOT NULL AS has_profile,"
            " EXISTS(SELECT 1 FROM profile_embeddings e WHERE e.artist_id = a.id) AS has_embedding"
            f" FROM artists a LEFT JOIN style_profiles p ON p.artist_id = a.id {where}",
            params,
        )
        return [
            ArtistRow(
                id=r["id"],
                name=r["name"],
                origin=r["origin"],
                research_status=r["research_status"],
                confidence=r["confidence"],
                sources_count=r["sources_count"],
                has_profile=bool(r["has_profile"]),
                has_embedding=bool(r["has_embedding"]),
                created_at=r["created_at"],
                updated_at=r["updated_at"],
            )
            for r in rows
        ]

    async def set_research_status(self, name: str, status: str, *, origin: str = "research") -> int:
        """Create the artist if new and set its research status; return the artist id."""
        async with self.db.write() as conn:
            return await self._set_research_status(conn, name, status, origin)

    @staticmethod
    async def _set_research_status(conn: aiosqlite.Connection, name: str, status: str, origin: str) -> int:
        if status not in RESEARCH_STATUSES:
            raise ValueError(f"research status must be one of {', '.join(RESEARCH_STATUSES)}")
        now = time.time()
        await conn.execute(
            "INSERT INTO artists (name, origin, research_status, created_at, updated_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT(name) DO UPDATE SET research_status = excluded.research_status,"
            " updated_at = excluded.updated_at",
            (name, origin, status, now, now),
        )
        rows = await conn.execute_fetchall("SELECT id FROM artists WHERE name = ?", (name,))
        return int(next(iter(rows))[0])

    async def get_profile(self, name: str) -> StyleProfile | None:
        """Return the stored profile for name (case-insensitive, aliases too), or None."""
        row = await self.db.fetchone(
            "SELECT p.profile FROM style_profiles p JOIN artists a ON a.id = p.artist_id WHERE a.name = ?",
            (name,),
        )
        if row is None:
            return None
        return StyleProfile.from_json(json.loads(row["profile"]))

    async def save_profile(self, profile: StyleProfile, *, origin: str = "research") -> int:
        """Write artist, profile and embedding in one transaction (never half-written); return the artist id."""
        blob = embedding_blob(profile.embedding) if profile.embedding is not None else None
        sources = sum(int(v) for v in profile.sources_count.values())
        text = dumps(profile.to_json(include_embedding=False))
        now = time.time()
        async with self.db.write() as conn:
            await conn.execute(
                "INSERT INTO artists (name, origin, research_status, confidence, sources_count, created_at, updated_at)"
                " VALUES (?, ?, 'cached', ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET"
                " research_status = 'cached', confidence = excluded.confidence,"
                " sources_count = excluded.sources_count, updated_at = excluded.updated_at",
                (profile.artist_name, origin, profile.confidence_score, sources, now, now),
            )
            rows = await conn.execute_fetchall(
                "SELECT id FROM artists WHERE name = ?", (profile.artist_name,)
            )
            artist_id = int(next(iter(rows))[0])
            await conn.execute(
                "INSERT INTO style_profiles (artist_id, profile, version, confidence, updated_at)"
                " VALUES (?, ?, 1, ?, ?) ON CONFLICT(artist_id) DO UPDATE SET profile = excluded.profile,"
                " version = style_profiles.version + 1, confidence = excluded.confidence,"
                " updated_at = excluded.updated_at",
                (artist_id, text, profile.confidence_score, now),
            )
            if blob is not None:
                # vec0 has no upsert: replace the row.
                await conn.execute("DELETE FROM profile_embeddings WHERE artist_id = ?", (artist_id,))
                await conn.execute(
                    "INSERT INTO profile_embeddings (artist_id, embedding) VALUES (?, ?)", (artist_id, blob)
                )
        self.profiles_version += 1
        return artist_id

    async def save_builtin_profiles(self, profiles: Iterable[StyleProfile]) -> int:
        """Store built-in profiles that are not in the store yet, in one transaction; return how many."""
        now = time.time()
        added = 0
        async with self.db.write() as conn:
            for profile in profiles:
                added += await self._insert_builtin(conn, profile, now)
        self.profiles_version += 1
        return added

    async def reset_to_builtin(self, profile: StyleProfile, *, unless_researching: bool = False) -> bool:
        """Drop what research stored for a built-in drummer (sources, profile, embedding) and store profile,
        its built-in knowledge, as the daemon seeds it: one transaction, never half-reset. With
        unless_researching, nothing changes (False) while research of the drummer is queued or running."""
        async with self.db.write() as conn:
            if unless_researching and await conn.execute_fetchall(
                ACTIVE_JOBS_SQL, ("research", profile.artist_name)
            ):
                return False
            await self._delete_artist(conn, profile.artist_name)
            await self._insert_builtin(conn, profile, time.time())
        self.profiles_version += 1
        return True

    @staticmethod
    async def _insert_builtin(conn: aiosqlite.Connection, profile: StyleProfile, now: float) -> int:
        """Insert a built-in drummer's artist, profile and embedding unless the artist exists; return 1 if added."""
        cursor = await conn.execute(
            "INSERT INTO artists (name, origin, research_status, confidence, sources_count, created_at,"
            " updated_at) VALUES (?, 'builtin', 'cached', ?, 0, ?, ?) ON CONFLICT(name) DO NOTHING",
            (profile.artist_name, profile.confidence_score, now, now),
        )
        if cursor.rowcount != 1:
            return 0
        artist_id = cursor.lastrowid
        await conn.execute(
            "INSERT INTO style_profiles (artist_id, profile, version, confidence, updated_at) VALUES (?, ?, 1, ?, ?)",
            (artist_id, dumps(profile.to_json()), profile.confidence_score, now),
        )
        if profile.embedding is not None:
            await conn.execute(
                "INSERT INTO profile_embeddings (artist_id, embedding) VALUES (?, ?)",
                (artist_id, embedding_blob(profile.embedding)),
            )
        return 1

    async def set_embedding(
        self, name: str, embedding: Iterable[float], *, only_if_missing: bool = False
    ) -> bool:
        """Store (or replace) the 384-d embedding of a known artist; return whether it was written.

        With only_if_missing, only an artist with a profile and no embedding gets it (one transaction),
        and an artist that is gone is no error: what re-embeds stored profiles in the background never
        overwrites the vector research saved with a newer profile meanwhile.
        """
        blob = embedding_blob(embedding)
        async with self.db.write() as conn:
            rows = list(
                await conn.execute_fetchall(
                    "SELECT a.id, EXISTS(SELECT 1 FROM style_profiles p WHERE p.artist_id = a.id) AS has_profile,"
                    " EXISTS(SELECT 1 FROM profile_embeddings e WHERE e.artist_id = a.id) AS has_embedding"
                    " FROM artists a WHERE a.name = ?",
                    (name,),
                )
            )
            if not rows:
                if only_if_missing:
                    return False
                raise ValueError(f"unknown artist {name!r}")
            artist_id = int(rows[0][0])
            if only_if_missing and (rows[0][2] or not rows[0][1]):
                return False
            await conn.execute("DELETE FROM profile_embeddings WHERE artist_id = ?", (artist_id,))
            await conn.execute(
                "INSERT INTO profile_embeddings (artist_id, embedding) VALUES (?, ?)", (artist_id, blob)
            )
        self.profiles_version += 1
        return True

    async def delete_artist(self, name: str, *, unless_researching: bool = False) -> bool:
        """Remove an artist with its profile, sources and embedding; return whether it was removed (with
        unless_researching, in the same transaction, never while research of it is queued or running)."""
        async with self.db.write() as conn:
            if unless_researching and await conn.execute_fetchall(ACTIVE_JOBS_SQL, ("research", name)):
                return False
            if not await self._delete_artist(conn, name):
                return False
        self.profiles_version += 1
        return True

    async def delete_unprofiled_artist(self, name: str) -> bool:
        """Remove an artist that has no profile (a name research found nothing for), with its sources;
        return whether it was removed (never an artist with a profile)."""
        async with self.db.write() as conn:
            return await self._delete_artist(conn, name, only_without_profile=True)

    @staticmethod
    async def _delete_artist(
        conn: aiosqlite.Connection, name: str, *, only_without_profile: bool = False
    ) -> bool:
        """Delete an artist's row, embedding and (by cascade) profile and sources; return whether it was there."""
        no_profile = " AND NOT EXISTS (SELECT 1 FROM style_profiles p WHERE p.artist_id = a.id)"
        rows = list(
            await conn.execute_fetchall(
                "SELECT a.id FROM artists a WHERE a.name = ?" + (no_profile if only_without_profile else ""),
                (name,),
            )
        )
        if not rows:
            return False
        artist_id = int(rows[0][0])
        await conn.execute("DELETE FROM profile_embeddings WHERE artist_id = ?", (artist_id,))
        await conn.execute("DELETE FROM artists WHERE id = ?", (artist_id,))
        return True

    async def similar(self, name: str, limit: int = 10) -> list[SimilarArtist] | None:
        """Nearest artists by cosine distance of profile embeddings; None if name has no embedding."""
        row = await self.db.fetchone(
            "SELECT e.artist_id, e.embedding FROM profile_embeddings e JOIN artists a ON a.id = e.artist_id"
            " WHERE a.name = ?",
            (name,),
        )
        if row is None:
            return None
        # The query vector is passed as a value: a MATCH on a subquery makes sqlite-vec slower.
        rows = await self.db.fetchall(
            "SELECT a.name, a.confidence, knn.distance FROM"
            " (SELECT artist_id, distance FROM profile_embeddings WHERE embedding MATCH ? AND k = ?) knn"
            " JOIN artists a ON a.id = knn.artist_id WHERE knn.artist_id != ? ORDER BY knn.distance",
            (row["embedding"], limit + 1, row["artist_id"]),
        )
        return [SimilarArtist(r["name"], float(r["distance"]), float(r["confidence"])) for r in rows][:limit]

    # -- research sources -----------------------------------------------------------------

    async def add_research_source(
        self,
        artist: str,
        kind: str,
        *,
        url: str = "",
        title: str = "",
        raw: str = "",
        extracted: dict[str, Any] | None = None,
        confidence: float = 0.0,
    ) -> int:
        """Record one source found for an artist (the artist must exist); return its id."""
        if kind not in SOURCE_KINDS:
            raise ValueError(f"source kind must be one of {', '.join(SOURCE_KINDS)}, got {kind!r}")
        async with self.db.write() as conn:
            rows = list(await conn.execute_fetchall("SELECT id FROM artists WHERE name = ?", (artist,)))
            if not rows:
                raise ValueError(f"unknown artist {artist!r}")
            cursor = await conn.execute(
                "INSERT INTO research_sources (artist_id, kind, url, title, raw, extracted, confidence, fetched_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (rows[0][0], kind, url, title, raw, dumps(extracted or {}), confidence, time.time()),
            )
            return int(cursor.lastrowid or 0)

    async def list_research_sources(self, artist: str) -> list[dict[str, Any]]:
        """Return an artist's sources (without raw payloads), newest first."""
        rows = await self.db.fetchall(
            "SELECT s.id, s.kind, s.url, s.title, s.extracted, s.confidence, s.fetched_at FROM research_sources s"
            " JOIN artists a ON a.id = s.artist_id WHERE a.name = ? ORDER BY s.fetched_at DESC",
            (artist,),
        )
        return [dict(r) | {"extracted": json.loads(r["extracted"])} for r in rows]

    # -- generations and files ------------------------------------------------------------

    async def record_generation(
        self,
        *,
        artist: str | None,
        request: dict[str, Any],
        provider_used: str,
        generation_time_ms: float,
        files: list[tuple[Path, str]],
        attempts: list[dict[str, Any]] | None = None,
        tokens: int = 0,
        cost: float = 0.0,
    ) -> list[str]:
        """Record one generation and its files; return the new file ids, in order, once committed.

        Group commit: generations recorded while a batch is being written wait for the next
        one, which writes them all in one statement, so a busy daemon commits once per batch.
        """
        now = time.time()
        ids = [uuid.uuid4().hex for _ in files]
        file_json = [
            {"id": fid, "path": str(path), "name": name} for fid, (path, name) in zip(ids, files, strict=True)
        ]
        history = (
            artist,
            dumps(request),
            provider_used,
            dumps(attempts or []),
            tokens,
            cost,
            generation_time_ms,
            dumps(file_json),
            now,
        )
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending_generations.append(_PendingGeneration(history, done))
        if self._generation_writer is None or self._generation_writer.done():
            self._generation_writer = asyncio.create_task(self._write_generations(), name="generation-writer")
        await done
        return ids

    async def _write_generations(self) -> None:
        """The one writer of generation records: write what is pending in one statement, until none is.

        The generated_files rows come from the history rows' files JSON (a trigger, migration 002).
        """
        while self._pending_generations:
            batch = self._pending_generations[:GENERATIONS_PER_STATEMENT]
            del self._pending_generations[:GENERATIONS_PER_STATEMENT]
            try:
                await self.db.execute_write(
                    "INSERT INTO generation_history (artist, request, provider_used, attempts, tokens, cost,"
                    " generation_time_ms, files, created_at) VALUES "
                    + ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?)"] * len(batch)),
                    [value for item in batch for value in item.history],
                )
            except Exception as exc:  # the batch's requests fail with the error; the writer goes on
                for item in batch:
                    if not item.done.done():
                        item.done.set_exception(exc)
                continue
            except BaseException:  # cancelled: nobody is left waiting for nothing
                for item in [*batch, *self._pending_generations]:
                    item.done.cancel()
                raise
            for item in batch:
                if not item.done.done():  # its request may have been cancelled: the record stays written
                    item.done.set_result(None)

    async def get_file(self, file_id: str) -> FileRow | None:
        """Return the generated file with this id, or None."""
        row = await self.db.fetchone("SELECT * FROM generated_files WHERE id = ?", (file_id,))
        if row is None:
            return None
        return FileRow(row["id"], Path(row["path"]), row["name"], row["artist"], row["created_at"])

    # -- jobs -----------------------------------------------------------------------------

    async def insert_job(self, job_id: str, kind: str, params: dict[str, Any], artist: str | None) -> None:
        """Create a queued job row."""
        await self.db.execute_write(INSERT_JOB_SQL, (job_id, kind, dumps(params), artist, time.time()))

    async def insert_job_once(
        self,
        job_id: str,
        kind: str,
        params: dict[str, Any],
        artist: str,
        *,
        covered_by: Callable[[dict[str, Any]], bool],
        research_status: str | None = None,
    ) -> tuple[dict[str, Any], bool]:
        """Queue a job for an artist unless a queued or running one of this kind already does its work.

        One transaction, so two requests at once queue one job: the oldest active job of this kind
        for this artist (any case) for which covered_by(job) is true is returned as (job, False);
        otherwise the new job is inserted and returned as (job, True). With research_status, a new
        job also sets the artist's research status, creating the artist if it is new; its params
        then say "new_artist": true, so research that ends without a profile can remove the artist
        it made (crash-safe: it is in the job's row).
        """
        now = time.time()
        async with self.db.write() as conn:
            active = await conn.execute_fetchall(ACTIVE_JOBS_SQL + " ORDER BY created_at", (kind, artist))
            for row in active:
                job = job_from_row(row)
                if covered_by(job):
                    return job, False
            if research_status is not None:
                known = await conn.execute_fetchall("SELECT 1 FROM artists WHERE name = ?", (artist,))
                if not list(known):
                    params = {**params, "new_artist": True}
                await self._set_research_status(conn, artist, research_status, "research")
            await conn.execute(INSERT_JOB_SQL, (job_id, kind, dumps(params), artist, now))
            rows = await conn.execute_fetchall("SELECT * FROM jobs WHERE id = ?", (job_id,))
            return job_from_row(next(iter(rows))), True

    async def update_job(self, job_id: str, **fields: Any) -> None:
        """Set some columns of a job row (JSON columns are encoded; heartbeat_at is refreshed)."""
        unknown = set(fields) - set(JOB_FIELDS)
        if unknown:
            raise ValueError(f"unknown job fields: {', '.join(sorted(unknown))}")
        fields.setdefault("heartbeat_at", time.time())
        values = [dumps(v) if k in JSON_JOB_FIELDS and v is not None else v for k, v in fields.items()]
        assignments = ", ".join(f"{k} = ?" for k in fields)  # keys checked against JOB_FIELDS above
        await self.db.execute_write(f"UPDATE jobs SET {assignments} WHERE id = ?", (*values, job_id))

    async def get_job(self, job_id: str) -> dict[str, Any] | None:
        """Return a job as JSON-safe data, or None."""
        row = await self.db.fetchone("SELECT * FROM jobs WHERE id = ?", (job_id,))
        return job_from_row(row) if row else None

    async def jobs_with_status(self, *statuses: str) -> list[dict[str, Any]]:
        """Return jobs in any of the given statuses, oldest first."""
        marks = ", ".join("?" for _ in statuses)
        rows = await self.db.fetchall(
            f"SELECT * FROM jobs WHERE status IN ({marks}) ORDER BY created_at", statuses
        )
        return [job_from_row(r) for r in rows]

    async def recent_jobs(self, statuses: Iterable[str] = (), limit: int = 50) -> list[dict[str, Any]]:
        """Return the newest jobs first, at most limit, only in the given statuses (any status when none)."""
        wanted = tuple(statuses)
        unknown = set(wanted) - set(JOB_STATUSES)
        if unknown:
            raise ValueError(f"unknown job status {sorted(unknown)[0]!r}; known: {', '.join(JOB_STATUSES)}")
        where = f"WHERE status IN ({', '.join('?' for _ in wanted)})" if wanted else ""
        rows = await self.db.fetchall(
            f"SELECT * FROM jobs {where} ORDER BY created_at DESC, rowid DESC LIMIT ?", (*wanted, int(limit))
        )
        return [job_from_row(r) for r in rows]

    async def active_job_for(
        self, kind: str, artist: str, *, exclude: str | None = None
    ) -> dict[str, Any] | None:
        """Return a queued or running job of this kind for this artist (any case), if any: a running one
        first, then the oldest; never the job with id exclude."""
        row = await self.db.fetchone(
            ACTIVE_JOBS_SQL + " AND id IS NOT ? ORDER BY status = 'running' DESC, created_at LIMIT 1",
            (kind, artist, exclude),
        )
        return job_from_row(row) if row else None

    # -- stats ----------------------------------------------------------------------------

    async def stats(self) -> dict[str, Any]:
        """Counts of what is stored, and generation timing."""
        row = await self.db.fetchone(
            "SELECT (SELECT COUNT(*) FROM artists) AS artists,"
            " (SELECT COUNT(*) FROM style_profiles) AS profiles,"
            " (SELECT COUNT(*) FROM profile_embeddings) AS embeddings,"
            " (SELECT COUNT(*) FROM research_sources) AS research_sources,"
            " (SELECT COUNT(*) FROM generation_history) AS generations,"
            " (SELECT COUNT(*) FROM generated_files) AS files,"
            " (SELECT AVG(generation_time_ms) FROM generation_history) AS mean_generation_time_ms"
        )
        assert row is not None
        jobs = await self.db.fetchall("SELECT status, COUNT(*) AS n FROM jobs GROUP BY status")
        providers = await self.db.fetchall(
            "SELECT provider_used, COUNT(*) AS n FROM generation_history GROUP BY provider_used"
        )
        data = dict(row)
        data["jobs"] = {status: 0 for status in JOB_STATUSES} | {r["status"]: r["n"] for r in jobs}
        data["generations_by_provider"] = {r["provider_used"]: r["n"] for r in providers}
        mean = data["mean_generation_time_ms"]
        data["mean_generation_time_ms"] = round(mean, 2) if mean is not None else None
        return data
