"""The notes JSON contract and meter helpers."""

from __future__ import annotations

import json

import pytest

from mididrumigen.midi.notes import (
    Clip,
    Note,
    ms_to_ticks,
    parse_time_signature,
    seconds_to_ticks,
    ticks_per_bar,
    ticks_to_seconds,
)


def test_notes_json_round_trip() -> None:
    clip = Clip(
        notes=[Note(38, 100, 480, 60), Note(36, 90, 0, 120)],
        tempo_bpm=93.5,
        time_signature=(6, 8),
        bars=2,
        name="John Bonham - Variation 1",
    )
    data = clip.to_json()
    assert data["notes"][0] == {"pitch": 36, "velocity": 90, "time": 0, "duration": 120}
    assert data["ticks_per_beat"] == 480
    assert data["time_signature"] == [6, 8]
    assert data["bars"] == 2
    back = Clip.from_json(data)
    assert sorted(back.notes, key=lambda n: n.time) == sorted(clip.notes, key=lambda n: n.time)
    assert back.tempo_bpm == 93.5
    assert back.length_ticks == 2 * 3 * 480


@pytest.mark.parametrize(
    ("meter", "ticks"),
    [((4, 4), 1920), ((3, 4), 1440), ((5, 4), 2400), ((6, 8), 1440), ((7, 8), 1680), ((12, 8), 2880)],
)
def test_ticks_per_bar(meter: tuple[int, int], ticks: int) -> None:
    assert ticks_per_bar(meter, 480) == ticks


def test_length_without_bars_rounds_up_to_the_bar() -> None:
    clip = Clip(notes=[Note(36, 90, 1921, 10)])
    assert clip.length_ticks == 2 * 1920


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"notes": "x"}, "'notes' list"),
        ({"notes": [{"pitch": 128, "velocity": 1, "time": 0, "duration": 1}]}, "note 0: pitch"),
        ({"notes": [{"pitch": 36, "velocity": 0, "time": 0, "duration": 1}]}, "velocity"),
        ({"notes": [{"pitch": 36, "velocity": 9, "time": -1, "duration": 1}]}, "time"),
        ({"notes": [], "tempo": "fast"}, "tempo"),
        ({"notes": [], "time_signature": [4, 3]}, "4/3"),
        ({"notes": [], "ticks_per_beat": 0}, "ticks_per_beat"),
    ],
)
def test_from_json_rejects_bad_data(data: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Clip.from_json(data)


def test_parse_time_signature() -> None:
    assert parse_time_signature("12/8") == (12, 8)
    with pytest.raises(ValueError, match="not a valid meter"):
        parse_time_signature("4/3")
    with pytest.raises(ValueError, match="not supported"):
        parse_time_signature("9/8")
    with pytest.raises(ValueError, match="look like"):
        parse_time_signature("four")


def test_unit_conversions() -> None:
    assert ticks_to_seconds(480, 120.0, 480) == pytest.approx(0.5)
    assert seconds_to_ticks(0.5, 120.0, 480) == 480
    assert ms_to_ticks(10.0, 120.0, 480) == pytest.approx(9.6)


def test_clip_text_sorts_notes_and_escapes_the_name() -> None:
    clip = Clip(
        [Note(38, 90, 480, 60), Note(36, 100, 0, 60), Note(42, 70, 0, 60)],
        97.12345,
        (3, 4),
        480,
        2,
        'Ünïcode "drummer" \\ - Variation 1',
    )
    assert json.loads(clip.to_json_text()) == clip.to_json()
    assert [n["pitch"] for n in json.loads(clip.to_json_text())["notes"]] == [36, 42, 38]
    empty = Clip([], 120.0, (4, 4), 480, None, "")
    assert json.loads(empty.to_json_text()) == empty.to_json()
