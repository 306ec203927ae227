"""SQLite connections that can load sqlite-vec: one writer behind a lock, one reader, numbered migrations."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import re
import sqlite3
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

MIGRATION_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")
BUSY_TIMEOUT_MS = 5000
MMAP_SIZE_BYTES = 256 * 1024 * 1024  # an upper bound: only the file's own size is mapped


def sqlite_vec_path() -> str:
    """Path of sqlite-vec's loadable extension (what sqlite_vec.loadable_path() returns).

    Found without importing the sqlite_vec package, whose __init__ imports numpy (~0.2 s of daemon start).
    """
    spec = importlib.util.find_spec("sqlite_vec")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the sqlite-vec package is not installed")
    return os.path.join(next(iter(spec.submodule_search_locations)), "vec0")


def open_sqlite(path: Path | str, *, read_only: bool = False) -> sqlite3.Connection:
    """Open a sqlean connection with sqlite-vec loaded, WAL on and autocommit (we BEGIN ourselves)."""
    import sqlean

    conn: sqlite3.Connection = sqlean.connect(str(path), isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlean.Row
    conn.enable_load_extension(True)
    conn.load_extension(sqlite_vec_path())  # = sqlite_vec.load(conn)
    conn.enable_load_extension(False)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    if not read_only:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    if read_only:
        # sqlite-vec's brute-force KNN reads every vector chunk per query; mapping the file saves
        # copying each page into SQLite's cache (10,000 profiles: 12 ms -> 7 ms per /similar).
        # Only the reader maps it, so the writer's inserts do not grow the daemon's RSS.
        conn.execute(f"PRAGMA mmap_size = {MMAP_SIZE_BYTES}")
    return conn


def migration_files() -> list[tuple[int, str, str]]:
    """Return (version, name, sql) for every bundled migration, in order."""
    folder = resources.files("mididrumigen.store") / "migrations"
    found = []
    for entry in folder.iterdir():
        match = MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [v for v, _, _ in found]
    if versions != list(range(1, len(versions) + 1)):
        raise RuntimeError(f"migrations must be numbered 001, 002, ... without gaps, found {versions}")
    return found


class Database:
    """The SQLite file: writes go through one connection and one lock, reads use a second connection."""

    def __init__(self, path: Path, writer: aiosqlite.Connection, reader: aiosqlite.Connection) -> None:
        self.path = path
        self._writer = writer
        self._reader = reader
        self._write_lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path) -> Database:
        """Open (creating if needed) the database file and apply pending migrations."""
        path.parent.mkdir(parents=True, exist_ok=True)
        writer = await aiosqlite.Connection(lambda: open_sqlite(path), iter_chunk_size=64)
        try:
            db = cls(path, writer, writer)
            await db.migrate()
            db._reader = await aiosqlite.Connection(
                lambda: open_sqlite(path, read_only=True), iter_chunk_size=64
            )
        except BaseException:
            await writer.close()
            raise
        return db

    async def migrate(self) -> int:
        """Apply every migration newer than schema_version, each in its own transaction; return the version."""
        async with self._write_lock:
            await self._writer.execute(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)"
            )
            rows = await self._writer.execute_fetchall("SELECT COALESCE(MAX(version), 0) FROM schema_version")
            current = int(next(iter(rows))[0])
            for version, name, sql in migration_files():
                if version <= current:
                    continue
                script = (
                    f"BEGIN IMMEDIATE;\n{sql}\n"
                    f"INSERT INTO schema_version (version, name, applied_at) VALUES ({version}, '{name}', {time.time()});\n"
                    "COMMIT;"
                )
                try:
                    await self._writer.executescript(script)
                except BaseException:
                    if self._writer.in_transaction:
                        await self._writer.execute("ROLLBACK")
                    raise
                current = version
            return current

    async def schema_version(self) -> int:
        """Return the newest applied migration number."""
        row = await self.fetchone("SELECT COALESCE(MAX(version), 0) AS v FROM schema_version")
        return int(row["v"]) if row else 0

    @asynccontextmanager
    async def write(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction (BEGIN IMMEDIATE ... COMMIT, ROLLBACK on any error or cancellation)."""
        async with self._write_lock:
            try:
                await self._writer.execute("BEGIN IMMEDIATE")
                yield self._writer
            except BaseException:
                # Statements run in FIFO order on the writer thread, so this ROLLBACK lands after a
                # BEGIN whose await was cancelled, and before the next writer's BEGIN.
                with contextlib.suppress(sqlite3.OperationalError):
                    await asyncio.shield(self._writer.execute("ROLLBACK"))
                raise
            await asyncio.shield(self._writer.execute("COMMIT"))

    async def execute_write(self, sql: str, params: Iterable[Any] = ()) -> int:
        """Run one write statement (atomic on its own, triggers included); return the row count.

        In autocommit mode a single statement is its own transaction: one trip to the
        writer's thread instead of three (BEGIN, the statement, COMMIT).
        """
        async with self._write_lock:
            cursor = await self._writer.execute(sql, tuple(params))
            return cursor.rowcount

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        """Run a read query on the reader connection."""
        return list(await self._reader.execute_fetchall(sql, tuple(params)))

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Row | None:
        """Run a read query and return its first row, or None."""
        rows = await self._reader.execute_fetchall(sql, tuple(params))
        return next(iter(rows), None)

    async def integrity_check(self) -> str:
        """Return SQLite's integrity_check verdict ('ok' when healthy)."""
        row = await self.fetchone("PRAGMA integrity_check")
        return str(row[0]) if row else "no answer"

    async def close(self) -> None:
        """Checkpoint the WAL and close both connections."""
        async with self._write_lock:
            with contextlib.suppress(sqlite3.Error):  # a busy checkpoint is harmless: the WAL replays on open
                await self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            if self._reader is not self._writer:
                await self._reader.close()
            await self._writer.close()
