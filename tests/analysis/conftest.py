"""Shared fixtures for the analysis tests: GMD paths and a MIDI reader."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest

from mididrumigen.midi.notes import Clip

GMD_DIR = Path("/work/shared/corpus/gmd")


def read_clip(path: Path) -> Clip:
    """Read a drum MIDI file with the MIDI layer's reader."""
    from mididrumigen.midi.smf import read_midi_file

    return read_midi_file(path)


@pytest.fixture
def gmd_rows() -> list[dict[str, str]]:
    """The GMD's info.csv rows (skips when the corpus is not on this machine)."""
    info = GMD_DIR / "info.csv"
    if not info.exists():
        pytest.skip("the Groove MIDI Dataset is not at /work/shared/corpus/gmd")
    with info.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def gmd_clip() -> Callable[[str], Clip]:
    """Return a reader of GMD files by their info.csv midi_filename."""

    def load(midi_filename: str) -> Clip:
        return read_clip(GMD_DIR / midi_filename)

    return load
