"""Atomic writes, safe file names and artist-name checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from mididrumigen.files import read_limited, safe_slug, validate_artist_name, write_atomic


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
    [
        ("John Bonham", "John_Bonham"),
        ("../../etc/passwd", "etc_passwd"),
        ("Björk", "Bjork"),
        ("???", "untitled"),
    ],
)
def test_safe_slug(text: str, slug: str) -> None:
    assert safe_slug(text) == slug


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "empty"),
        ("a/b", "path separators"),
        ("a\\b", "path separators"),
        ("a\x00b", "control"),
        ("Ringo\u202eStarr", "control"),  # a right-to-left override (format, Cf) could disguise a name
        ("Ringo\u200bStarr", "control"),  # a zero-width space is not whitespace
        ("Ringo\U000e0001", "control"),
        ("x" * 10_000, "longer"),
    ],
)
def test_bad_artist_names(name: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_artist_name(name)


def test_artist_name_whitespace_is_folded() -> None:
    assert validate_artist_name("  John   Bonham ") == "John Bonham"


def test_read_limited(tmp_path: Path) -> None:
    path = tmp_path / "map.toml"
    path.write_bytes(b"x" * 10)
    assert read_limited(path, 10, "drum map file") == b"x" * 10
    with pytest.raises(ValueError, match=r"drum map file .* is too large \(10 bytes\)"):
        read_limited(path, 9, "drum map file")
    with pytest.raises(ValueError, match="cannot read midi file"):
        read_limited(tmp_path / "missing.mid", 10, "midi file")
