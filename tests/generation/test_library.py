"""The MIDI template library on a temporary copy of ~20 GMD files with an info.csv subset."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from mididrumigen.generation.library import (
    IndexEntry,
    TemplateLibrary,
    groove_offsets,
    style_from_words,
    tempo_distance,
    tempo_from_name,
)
from mididrumigen.midi.kit import GM_PITCH_BY_PIECE
from mididrumigen.midi.notes import Clip, Note
from mididrumigen.midi.smf import clip_to_midi_bytes

GMD_DIR = Path("/work/shared/corpus/gmd")
PICK_STYLES = ("funk", "rock", "jazz", "hiphop", "reggae", "soul/motown")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A GMD-shaped folder: short beat files of a few styles, some fills, and their info.csv rows."""
    if not (GMD_DIR / "info.csv").exists():
        pytest.skip("the Groove MIDI Dataset is not at /work/shared/corpus/gmd")
    with (GMD_DIR / "info.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    picked: list[dict[str, str]] = []
    for style in PICK_STYLES:
        beats = [
            r
            for r in rows
            if r["style"] == style and r["beat_type"] == "beat" and 8 < float(r["duration"]) < 40
        ]
        picked += beats[:3]
    picked += [r for r in rows if r["beat_type"] == "fill" and r["style"] == "funk"][:2]
    folder = tmp_path_factory.mktemp("gmd")
    for row in picked:
        target = folder / row["midi_filename"]
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(GMD_DIR / row["midi_filename"], target)
    with (folder / "info.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(picked)
    return folder


@pytest.fixture
def library(corpus: Path, tmp_path: Path) -> TemplateLibrary:
    lib = TemplateLibrary.open(tmp_path / "library.json")
    lib.add_folder(corpus)
    return lib


def test_add_folder_indexes_by_style_and_persists(corpus: Path, tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    lib = TemplateLibrary.open(tmp_path / "library.json")
    added = lib.add_folder(corpus, progress=lambda done, total: calls.append((done, total)))
    files = list(corpus.rglob("*.mid"))
    assert added == len(files) >= 15
    assert calls[-1] == (len(files), len(files))
    styles = lib.styles()
    assert styles["funk"] == 3 and styles["jazz_swing"] >= 1 and styles["boom_bap"] == 3
    assert lib.styles(kind="fill") == {"funk": 2}
    reopened = TemplateLibrary.open(tmp_path / "library.json")
    assert reopened.entries == lib.entries
    data = json.loads((tmp_path / "library.json").read_text())
    assert {"path", "style", "tempo_bpm", "time_signature", "bars", "kind", "drummer"} <= set(
        data["entries"][0]
    )
    assert lib.add_folder(corpus) == added and len(TemplateLibrary.open(tmp_path / "library.json")) == len(
        files
    )


def test_query_orders_by_tempo_distance(library: TemplateLibrary) -> None:
    entries = library.query("funk", tempo_bpm=100)
    assert entries and all(e.style == "funk" and e.kind == "beat" for e in entries)
    distances = [tempo_distance(e.tempo_bpm, 100) for e in entries]
    assert distances == sorted(distances)
    assert library.query("funk", kind="fill")
    assert library.query("funk", time_signature=(7, 8)) == []
    assert library.query("metal") == []
    assert len(library.query("funk", limit=1)) == 1
    with pytest.raises(ValueError, match="limit"):
        library.query("funk", limit=0)


def test_tempo_distance_is_ratio_aware() -> None:
    assert tempo_distance(100, 100) == 0
    assert tempo_distance(60, 120) < tempo_distance(80, 120)  # half time beats a third off
    assert tempo_distance(118, 120) < tempo_distance(60, 120)


def test_load_template_is_a_real_excerpt_on_gm_pitches(library: TemplateLibrary) -> None:
    entry = library.query("funk", tempo_bpm=100)[0]
    clip = library.load_template(entry, bars=2, seed=3)
    assert clip.bars == 2 and clip.time_signature == (4, 4)
    assert clip.tempo_bpm == pytest.approx(entry.tempo_bpm, rel=0.04)
    assert {n.pitch for n in clip.notes} <= set(GM_PITCH_BY_PIECE.values())
    assert all(0 <= n.time < clip.length_ticks for n in clip.notes)
    assert len(clip.notes) >= 8
    kicks = [n for n in clip.notes if n.pitch == 36]
    assert kicks, "a funk beat has kicks"
    assert clip.notes == library.load_template(entry, bars=2, seed=3).notes  # a seed reproduces
    other = library.load_template(entry, bars=2, offset_bars=1)
    assert other.notes != library.load_template(entry, bars=2, offset_bars=0).notes
    with pytest.raises(ValueError, match="offset_bars"):
        library.load_template(entry, bars=2, offset_bars=10_000)


def test_an_excerpt_is_groove_with_toms_only_in_its_last_bar_and_no_empty_bar() -> None:
    # Bars 0-5 of a performance: a tom fill in bar 2, a near-empty break in bar 4.
    counts = [12, 12, 12, 12, 3, 12]
    bar_of_note = np.repeat(np.arange(6), counts)
    classes = ["kick"] * len(bar_of_note)
    classes[int(sum(counts[:2]))] = "tom_low"
    assert groove_offsets(bar_of_note, classes, bars=2, available=5) == [0, 1]  # bar 2's toms end the excerpt
    assert groove_offsets(bar_of_note, classes, bars=3, available=4) == [0]
    assert groove_offsets(bar_of_note, classes, bars=1, available=6) == [
        0,
        1,
        3,
        5,
    ]  # a one-bar loop has no fill
    assert groove_offsets(bar_of_note, ["tom_low"] * len(bar_of_note), bars=2, available=5) == [0, 1, 2, 3, 4]


def test_downbeat_is_found_on_a_known_groove(tmp_path: Path) -> None:
    notes = []
    for bar in range(8):
        start = 480 * 4 * bar + 480  # the groove starts one beat into the file
        for beat in range(4):
            notes.append(Note(42, 80, start + beat * 480, 60))
            notes.append(Note(36 if beat in (0, 2) else 38, 110, start + beat * 480, 60))
        notes.append(Note(49, 110, start, 60))
    folder = tmp_path / "midi" / "rock"
    folder.mkdir(parents=True)
    (folder / "straight_96bpm.mid").write_bytes(clip_to_midi_bytes(Clip(notes=notes, tempo_bpm=96.0)))
    lib = TemplateLibrary.open(tmp_path / "library.json")
    assert lib.add_folder(tmp_path / "midi") == 1
    entry = lib.query("rock", tempo_bpm=96)[0]
    assert entry.tempo_bpm == 96.0 and entry.tempo_source == "name" and entry.kind == "beat"
    clip = lib.load_template(entry, bars=1, offset_bars=0)
    first = sorted(n.pitch for n in clip.notes if n.time < 40)
    assert first == [36, 42, 49]  # kick, hat and crash on the downbeat


def test_names_give_styles_and_tempos() -> None:
    assert tempo_from_name("groove_120bpm.mid") == 120
    assert tempo_from_name("1_funk_80_beat_4-4.mid") == 80
    assert tempo_from_name("take3.mid") is None
    assert style_from_words("Purdie Shuffle") == "halftime_shuffle"
    assert style_from_words("boom-bap loop") == "boom_bap"
    assert style_from_words("take3") is None


def test_bad_input_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no such folder"):
        TemplateLibrary.open(tmp_path / "x.json").add_folder(tmp_path / "missing")
    bad = tmp_path / "library.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="unreadable"):
        TemplateLibrary.open(bad)
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "not_midi.mid").write_bytes(b"hello")
    lib = TemplateLibrary.open(tmp_path / "ok.json")
    assert lib.add_folder(tmp_path / "junk") == 0
    entry = IndexEntry(str(tmp_path / "gone.mid"), "rock", 120.0, (4, 4), 4, "beat")
    with pytest.raises(ValueError, match="cannot read"):
        lib.load_template(entry)
