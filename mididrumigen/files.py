"""Safe file writing: atomic replace, and file names that never come raw from user text."""

from __future__ import annotations

import os
import random
import re
import unicodedata
from pathlib import Path

MAX_NAME_CHARS = 200
TEMP_NAME_TRIES = 8


def write_atomic(
    path: Path, data: bytes, mode: int | None = 0o644, *, durable: bool = True, make_parents: bool = True
) -> None:
    """Write bytes to path via a temp file and rename, so no reader sees half a file.

    durable=False skips fsync: still never half-written for readers, but a power cut
    right after may lose the file. Used for generated clips, which can be made again.
    mode=None leaves the permissions to the umask (0o644 before it), saving a chmod;
    make_parents=False is for callers that made the folder already (one mkdir per batch).
    """
    if make_parents:
        path.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for attempt in range(TEMP_NAME_TRIES):
        # O_EXCL on a random name: no other writer can share the temp file. Names come from
        # `random` (no system call each, unlike secrets); a clash just tries another name.
        tmp_path = path.with_name(f".{path.name}.{random.getrandbits(48):012x}.tmp")
        try:
            fd = os.open(tmp_path, flags, 0o644 if mode is None else mode)
        except FileExistsError:
            if attempt + 1 == TEMP_NAME_TRIES:
                raise
            continue
        break
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        if mode is not None and os.name == "posix":
            os.chmod(tmp_path, mode)  # the umask may have narrowed it
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def read_limited(path: Path, max_bytes: int, what: str) -> bytes:
    """Read a whole file no larger than max_bytes; ValueError naming what it is otherwise."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise ValueError(f"{what} {path} is too large ({size} bytes)")
        return path.read_bytes()
    except OSError as exc:
        raise ValueError(f"cannot read {what} {path}: {exc.strerror or exc}") from None


def safe_slug(text: str, fallback: str = "untitled", max_chars: int = 60) -> str:
    """Turn user text into a file-name part: ascii letters, digits, '-' and '_' only."""
    normal = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^A-Za-z0-9]+", "_", normal).strip("_")[:max_chars].strip("_")
    return slug or fallback


def validate_artist_name(name: str) -> str:
    """Return the artist name trimmed, or raise ValueError for names no drummer has."""
    cleaned = " ".join(name.split())
    if not cleaned:
        raise ValueError("artist name is empty")
    if len(cleaned) > MAX_NAME_CHARS:
        raise ValueError(f"artist name is longer than {MAX_NAME_CHARS} characters")
    # After the whitespace is folded to single spaces, "not printable" is exactly "has a
    # character in a C* (control, format, unassigned ...) category", checked in C.
    if not cleaned.isprintable():
        raise ValueError("artist name contains control characters")
    if "/" in cleaned or "\\" in cleaned:
        raise ValueError("artist name must not contain path separators")
    return cleaned
