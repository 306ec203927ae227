"""Safe file writing: atomic replace, and file names that never come raw from user text."""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from pathlib import Path

MAX_NAME_CHARS = 200


def write_atomic(path: Path, data: bytes, mode: int = 0o644, *, durable: bool = True) -> None:
    """Write bytes to path via a temp file and rename, so no reader sees half a file.

    durable=False skips fsync: still never half-written for readers, but a power cut
    right after may lose the file. Used for generated clips, which can be made again.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.chmod(tmp_name, mode)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


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
    if any(unicodedata.category(ch).startswith("C") for ch in cleaned):
        raise ValueError("artist name contains control characters")
    if "/" in cleaned or "\\" in cleaned:
        raise ValueError("artist name must not contain path separators")
    return cleaned
