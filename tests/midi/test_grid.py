"""The text drum grid: rows, steps per meter, accents and ghosts, wrapping."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mididrumigen.midi.grid import (
    ACCENT,
    GHOST,
    NORMAL,
    render_grid,
    velocity_class,
    velocity_levels,
)
from mididrumigen.midi.notes import Clip, Note
from mididrumigen.midi.smf import read_midi_file


def rock_beat(bars: int = 1, ghost: bool = False) -> Clip:
    notes: list[Note] = []
    for bar in range(bars):
        start = bar * 1920
        notes += [Note(42, 110 if i % 2 == 0 else 80, start + i * 240, 60) for i in range(8)]
        notes += [Note(38, 120, start + 480, 60), Note(38, 120, start + 1440, 60)]
        notes += [Note(36, 100, start, 60), Note(36, 100, start + 960, 60), Note(36, 100, start + 1200, 60)]
        if ghost:
            notes.append(Note(38, 40, start + 1560, 60))
    return Clip(notes, tempo_bpm=100, time_signature=(4, 4), bars=bars)


def test_basic_rock_beat_exact_text() -> None:
    assert render_grid(rock_beat()) == (
        "Bar 1   |1...2...3...4...|\n"
        "Hi-hat  |X-x-X-x-X-x-X-x-|\n"
        "Snare   |----x-------x---|\n"
        "Kick    |x-------x-x-----|"
    )


def test_ghost_notes_and_two_bars() -> None:
    assert render_grid(rock_beat(bars=2, ghost=True)) == (
        "Bar 1-2 |1...2...3...4...|1...2...3...4...|\n"
        "Hi-hat  |X-x-X-x-X-x-X-x-|X-x-X-x-X-x-X-x-|\n"
        "Snare   |----x-------xg--|----x-------xg--|\n"
        "Kick    |x-------x-x-----|x-------x-x-----|"
    )


def test_velocity_classes_are_relative_to_the_players_own_accent_level() -> None:
    levels = velocity_levels([120, 118, 122, 40, 45, 38, 121, 119])
    assert velocity_class(40, levels) == GHOST
    assert velocity_class(120, levels) == NORMAL
    soft_player = velocity_levels([60, 60, 62, 20, 22, 60, 61, 85])
    assert velocity_class(20, soft_player) == GHOST
    assert velocity_class(60, soft_player) == NORMAL
    assert velocity_class(85, soft_player) == ACCENT
    assert velocity_class(100, velocity_levels([100] * 8)) == NORMAL  # even dynamics: no accents


def test_rows_run_from_cymbals_to_kick() -> None:
    clip = Clip(
        [Note(p, 100, i * 120, 60) for i, p in enumerate([36, 44, 38, 43, 50, 42, 46, 51, 49, 56])],
        bars=1,
    )
    labels = [line.split(" |")[0].strip() for line in render_grid(clip).splitlines()[1:]]
    assert labels == [
        "Cowbell",
        "Crash",
        "Ride",
        "HH open",
        "Hi-hat",
        "Tom 1",
        "Floor tom",
        "Snare",
        "HH pedal",
        "Kick",
    ]


def test_six_eight_uses_eighths_grouped_in_dotted_quarters() -> None:
    notes = [Note(42, 90, i * 240, 60) for i in range(6)] + [Note(36, 100, 0, 60), Note(38, 100, 720, 60)]
    assert render_grid(Clip(notes, time_signature=(6, 8), bars=1)) == (
        "Bar 1   |1..2..|\nHi-hat  |xxxxxx|\nSnare   |---x--|\nKick    |x-----|"
    )


def test_twelve_eight_and_seven_eight_headers() -> None:
    twelve = Clip([Note(36, 100, 0, 60)], time_signature=(12, 8), bars=1)
    assert render_grid(twelve).splitlines()[0] == "Bar 1   |1..2..3..4..|"
    seven = Clip(
        [Note(36, 100, 0, 60), Note(38, 100, 480, 60), Note(42, 90, 120, 60)], time_signature=(7, 8), bars=1
    )
    lines = render_grid(seven).splitlines()
    assert lines[0] == "Bar 1   |1.2.3.4.5.6.7.|"
    assert lines[1] == "Hi-hat  |-x------------|"
    assert lines[2] == "Snare   |----x---------|"


def test_shuffle_is_shown_in_eighth_note_triplets() -> None:
    notes = []
    for beat in range(4):
        notes += [Note(42, 90, beat * 480, 60), Note(42, 70, beat * 480 + 320, 60)]
    lines = render_grid(Clip(notes, bars=1)).splitlines()
    assert lines == ["Bar 1   |1..2..3..4..|", "Hi-hat  |X-xX-xX-xX-x|"]
    forced = render_grid(Clip(notes, bars=1), steps_per_beat=4).splitlines()
    assert forced[1] == "Hi-hat  |X--xX--xX--xX--x|"  # 320 ticks is nearest the 4th 16th


def test_a_clip_that_says_it_swings_is_shown_on_its_grid_even_when_played_loosely() -> None:
    # Swung 8ths played 40 ticks early (0.58 of the beat) are nearer the straight '&' than the third,
    # but the clip says it swings at 64 %: the grid is in triplets. A straight clip stays in 16ths.
    notes = [Note(51, 90, beat * 480, 60) for beat in range(5)] + [
        Note(51, 70, b * 480 + 280, 60) for b in range(5)
    ]
    swung = Clip(notes, bars=1, time_signature=(5, 4), meta={"swing_unit": 8, "swing_percent": 64.0})
    assert render_grid(swung).splitlines()[0] == "Bar 1   |1..2..3..4..5..|"
    straight = Clip(notes, bars=1, time_signature=(5, 4), meta={"swing_unit": 8, "swing_percent": 50.0})
    assert render_grid(straight).splitlines()[0] == "Bar 1   |1...2...3...4...5...|"


def test_hits_off_the_grid_fall_in_the_nearest_step() -> None:
    clip = Clip([Note(38, 100, 125, 60), Note(36, 100, 1915, 60), Note(42, 90, 3000, 60)], bars=2)
    lines = render_grid(clip).splitlines()
    assert lines[1] == "Hi-hat  |----------------|---------x------|"
    assert lines[2] == "Snare   |-x--------------|----------------|"
    assert lines[3] == "Kick    |----------------|x---------------|"


def test_notes_past_the_clip_end_are_not_drawn() -> None:
    clip = Clip([Note(36, 100, 0, 60), Note(38, 100, 2000, 60)], bars=1)
    assert render_grid(clip) == "Bar 1   |1...2...3...4...|\nKick    |x---------------|"


def test_long_clips_wrap_in_blocks_of_two_bars_within_100_chars() -> None:
    text = render_grid(rock_beat(bars=8, ghost=True))
    blocks = text.split("\n\n")
    assert [block.splitlines()[0].split(" |")[0].strip() for block in blocks] == [
        "Bar 1-2",
        "Bar 3-4",
        "Bar 5-6",
        "Bar 7-8",
    ]
    assert all(len(line) <= 100 for line in text.splitlines())
    five = Clip([Note(36, 100, i * 480, 60) for i in range(40)], time_signature=(5, 4), bars=8)
    assert all(len(line) <= 100 for line in render_grid(five).splitlines())


def test_colour_marks_accents_and_ghosts_only() -> None:
    plain = render_grid(rock_beat(ghost=True))
    coloured = render_grid(rock_beat(ghost=True), use_color=True)
    assert "\x1b[" not in plain
    assert "\x1b[" in coloured
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == plain


def test_empty_clip_and_bad_steps() -> None:
    assert render_grid(Clip([], bars=2)) == "(no notes)"
    with pytest.raises(ValueError, match="steps_per_beat"):
        render_grid(rock_beat(), steps_per_beat=0)


def test_other_drum_map_and_unknown_pitches() -> None:
    ad2 = Clip([Note(49, 100, 0, 60), Note(36, 100, 0, 60), Note(100, 90, 480, 60)], bars=1)
    labels = [line.split(" |")[0].strip() for line in render_grid(ad2, drum_map="ad2").splitlines()[1:]]
    assert labels == ["Note 100", "Hi-hat", "Kick"]


def test_real_gmd_file_renders(gmd_dir: Path) -> None:
    clip = read_midi_file(gmd_dir / "drummer1/session1/1_funk_80_beat_4-4.mid")
    text = render_grid(clip)
    assert all(len(line) <= 100 for line in text.splitlines())
    assert text.count("\n\n") == (clip.bars + 1) // 2 - 1
    assert {"Hi-hat", "Snare", "Kick"} <= {line.split(" |")[0].strip() for line in text.splitlines()}
    assert "Note 22" not in text  # Roland edge hats fold into the hi-hat rows
