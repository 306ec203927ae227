"""Atomic writes, safe file names and artist-name checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from mididrumigen.files import safe_slug, validate_artist_name, write_atomic


def test_write_atomic_replaces_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b.mid"
    write_atomic(path, b"one")
    write_atomic(path, b"two")
    assert path.read_bytes() == b"two"
    assert [p.name for p in path.parent.iterdir()] == ["b.mid"]


def test_write_atomic_leaves_nothing_on_failure(tmp_path: Path) -> None:
    path = tmp_path / "x.mid"


    with pytest.raises(TypeError):
        write_atomic(path, "not bytes")  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("text", "slug"),
    [("John Bonham", "John_Bonham"), ("../../etc/passwd", "etc_passwd"), ("Björk", "Bjork"), ("???", "untitled")],
)
def test_safe_slug(text: str, slug: str) -> None:
    assert safe_slug(text) == slug


@pytest.mark.parametrize(
    ("name", "message"),
    [("", "empty"), ("a/b", "path separators"), ("a\\b", "path separators"), ("a\x00b", "control"), ("x" * 10_000, "longer")],
)
def test_bad_artist_names(name: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_artist_name(name)


def test_artist_name_whitespace_is_folded() -> None:
    assert validate_artist_name("  John   Bonham ") == "John Bonham"
