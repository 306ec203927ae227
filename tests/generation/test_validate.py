"""Validation and repair of LLM step-grid answers, ending in clips that survive a MIDI round trip."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mididrumigen.generation.prompt import BASE_PIECES, GridSpec
from mididrumigen.generation.providers.base import ProviderResponse
from mididrumigen.generation.validate import (
    InvalidOutputError,
    Repairs,
    answer_to_clip,
    check_density,
    close_truncated_json,
    extract_json,
    glyph_velocities,
    normalize_piece,
    parse_grid,
    parse_steps,
    playable_steps,
    validate_clip,
)
from mididrumigen.midi.kit import GM_PITCH_BY_PIECE
from mididrumigen.midi.notes import Clip, Note
from mididrumigen.midi.smf import clip_to_midi_bytes, read_midi_bytes
from mididrumigen.profile import QuantitativeParams, StyleProfile

SPEC = GridSpec(bars=4, time_signature=(4, 4), tempo_bpm=100.0, pieces=BASE_PIECES)
BAR = {
    "kick": "x.......x.x.....",
    "snare": "....X..g....X...",
    "hihat_closed": "x.x.x.x.x.x.x.x.",
}
FILL = {"kick": "x...............", "snare": "....X...xxxxXXXX", "hihat_closed": "x.x.x.x........."}
PROFILE = StyleProfile(
    "Test Drummer",
    "laid back",
    QuantitativeParams(swing_percent=62.0, velocity_mean=90, accent_strength=0.6),
    styles=["funk"],
)


def answer(data: Any = None, text: str | None = None, truncated: bool = False) -> ProviderResponse:
    return ProviderResponse(
        text=text, data=data, tokens_in=1, tokens_out=1, model="m", latency_ms=1.0, truncated=truncated
    )


def round_trip(clip: Clip) -> Clip:
    return read_midi_bytes(clip_to_midi_bytes(clip))


# ---------------------------------------------------------------- JSON


def test_extract_json_from_code_fence_and_prose() -> None:
    repairs = Repairs()
    text = 'Sure! Here it is:\n```json\n{"bars": [1, 2]}\n```\nHope you like it.'
    assert extract_json(text, repairs) == {"bars": [1, 2]}
    assert "json taken from a code fence" in repairs.notes
    repairs = Repairs()
    assert extract_json('{"bars": []} -- that is a sparse groove', repairs) == {"bars": []}
    assert "prose after the json dropped" in repairs.notes


def test_extract_json_closes_truncated_json() -> None:
    full = json.dumps({"bars": [BAR, BAR, FILL]})
    repairs = Repairs()
    data = extract_json(full[: len(full) - 30], repairs)
    assert "truncated json closed" in repairs.notes
    assert data["bars"][0] == BAR
    assert len(data["bars"]) == 3


@settings(max_examples=60, deadline=None)
@given(cut=st.integers(min_value=12, max_value=400))
def test_every_truncation_after_the_first_value_closes_to_json(cut: int) -> None:
    full = json.dumps({"bars": [BAR, FILL, BAR]})
    closed = close_truncated_json(full[:cut])
    assert closed is not None
    value = json.loads(closed)
    assert isinstance(value, dict)


@pytest.mark.parametrize("text", ["", "no json here at all", "```\n```"])
def test_no_json_is_invalid(text: str) -> None:
    with pytest.raises(InvalidOutputError):
        extract_json(text)


# ---------------------------------------------------------------- grid


@pytest.mark.parametrize(
    ("key", "piece"),
    [
        ("Kick", "kick"),
        ("BD", "kick"),
        ("hi-hat", "hihat_closed"),
        ("Floor Tom", "tom_floor"),
        ("38", "snare"),
    ],
)
def test_piece_names_normalize(key: str, piece: str) -> None:
    assert normalize_piece(key) == piece


@pytest.mark.parametrize("key", ["gong", "99", "laser"])
def test_unknown_pieces_and_pitches_are_none(key: str) -> None:
    assert normalize_piece(key) is None


def test_step_strings_quantize_to_the_grid() -> None:
    repairs = Repairs()
    assert parse_steps("x.x.x.x.x.x.x.x.", 16, repairs) == list("x.x.x.x.x.x.x.x.")
    assert parse_steps("x x x x x x x x", 16, repairs) == list("x.x.x.x.x.x.x.x.")  # 8 cells: 8th notes
    assert parse_steps("X" + "." * 31, 16, repairs) == ["X"] + ["."] * 15  # 32nds folded to 16ths
    assert parse_steps("x...|x...|x...|x...", 16, repairs) == list("x...x...x...x...")
    assert parse_steps("x..", 16, repairs) == ["x", ".", "."] + ["."] * 13
    assert parse_steps(42, 16, repairs) is None
    assert "8th-note strings spread over the 16th grid" in repairs.notes
    assert "32nd-note strings quantized to 16ths" in repairs.notes


def test_missing_bars_are_rebuilt_from_the_models_own_bars() -> None:
    repairs = Repairs()
    bars = parse_grid({"bars": [BAR, FILL]}, SPEC, repairs)
    assert len(bars) == 4
    assert bars[2] == bars[0] and bars[3] == bars[1]
    assert "2 missing bar(s) rebuilt from the model's bars" in repairs.notes


def test_wrapped_and_keyed_bar_lists_are_read() -> None:
    assert len(parse_grid({"groove": {"bars": [BAR, FILL, BAR, FILL]}}, SPEC, Repairs())) == 4
    keyed = {"bars": {"1": BAR, "2": FILL, "3": BAR, "4": FILL}}
    assert parse_grid(keyed, SPEC, Repairs())[1] == parse_grid({"bars": [FILL]}, SPEC, Repairs())[0]


def test_extra_bars_are_dropped() -> None:
    repairs = Repairs()
    bars = parse_grid({"bars": [BAR] * 6}, SPEC, repairs)
    assert len(bars) == 4
    assert "2 extra bar(s) dropped" in repairs.notes


def test_out_of_map_pieces_are_dropped() -> None:
    repairs = Repairs()
    bars = parse_grid({"bars": [{**BAR, "gong": "x" * 16, "99": "x" * 16}]}, SPEC, repairs)
    assert "gong" not in bars[0]
    assert any(note.startswith("out-of-map pieces dropped") for note in repairs.notes)


def test_incomplete_last_bar_of_a_truncated_answer_is_rebuilt() -> None:
    repairs = Repairs()
    bars = parse_grid({"bars": [BAR, BAR, {"kick": "x..."}]}, SPEC, repairs, truncated=True)
    assert len(bars) == 4 and all(set(b) == set(BAR) for b in bars)


def test_no_usable_bars_is_invalid() -> None:
    with pytest.raises(InvalidOutputError):
        parse_grid({"bars": [{"gong": "x"}, "nonsense"]}, SPEC, Repairs())
    with pytest.raises(InvalidOutputError):
        parse_grid({"grooves": 3, "other": 4}, SPEC, Repairs())


def test_impossible_hits_are_dropped() -> None:
    repairs = Repairs()
    bar = {
        "hihat_closed": list("x" * 16),
        "hihat_open": list("x" + "." * 15),
        "snare": list("X" + "." * 15),
        "crash": list("X" + "." * 15),
        "tom_high": list("x" + "." * 15),
        "kick": list("X" + "." * 15),
    }
    rows = playable_steps(bar, 16, repairs)
    hands = [p for p in rows if p not in ("kick", "hihat_pedal") and rows[p][0] != "."]
    assert len(hands) == 2
    assert rows["hihat_closed"][0] == "."
    assert rows["kick"][0] == "X"  # feet are free


def test_implausible_density_is_rejected() -> None:
    full = {"kick": list("x" * 16), "snare": list("." * 16)}
    with pytest.raises(InvalidOutputError, match="density"):
        check_density([full] * 4, SPEC)
    with pytest.raises(InvalidOutputError, match="no notes"):
        check_density([{"kick": list("." * 16)}] * 4, SPEC)


def test_glyph_velocities_keep_ghosts_below_half_the_accent() -> None:
    for strength in (0.0, 0.5, 1.0):
        for mean in (40.0, 96.0, 125.0):
            levels = glyph_velocities(QuantitativeParams(velocity_mean=mean, accent_strength=strength))
            assert 1 <= levels["g"] < levels["x"] < levels["X"] <= 127
            assert levels["g"] < 0.5 * levels["X"]


# ---------------------------------------------------------------- clips


@pytest.mark.parametrize(
    "response",
    [
        answer(data={"bars": [BAR, BAR, BAR, FILL]}),
        answer(text=json.dumps({"bars": [BAR, BAR, BAR, FILL]})),
        answer(text="```json\n" + json.dumps({"bars": [BAR, BAR]}) + "\n```"),
        answer(text=json.dumps({"bars": [BAR, BAR, BAR, FILL]})[:-40], truncated=True),
        answer(text=json.dumps({"bars": [BAR] * 7})),
        answer(text=json.dumps({"bars": [{**BAR, "cowbell_of_doom": "x" * 16}] * 4})),
    ],
)
def test_answers_become_valid_clips_that_survive_a_midi_round_trip(response: ProviderResponse) -> None:
    clip, _ = answer_to_clip(response, SPEC, PROFILE, name="Test - Variation 1", humanize=0.6, seed=3)
    assert validate_clip(clip, SPEC) == []
    assert clip.bars == 4 and clip.length_ticks == 4 * 1920
    assert clip.name == "Test - Variation 1"
    back = round_trip(clip)
    assert back.length_ticks == clip.length_ticks
    assert sorted((n.pitch, n.time, n.velocity) for n in back.notes) == sorted(
        (n.pitch, n.time, n.velocity) for n in clip.notes
    )


def test_profile_swing_moves_offbeat_eighths_late() -> None:
    straight_profile = StyleProfile("S", "", QuantitativeParams(swing_percent=50.0), styles=["rock"])
    data = {"bars": [BAR] * 4}
    straight, _ = answer_to_clip(answer(data=data), SPEC, straight_profile, name="s", humanize=0.0, seed=1)
    swung, _ = answer_to_clip(answer(data=data), SPEC, PROFILE, name="s", humanize=0.0, seed=1)
    hat = GM_PITCH_BY_PIECE["hihat_closed"]
    straight_offbeats = sorted(n.time % 480 for n in straight.notes if n.pitch == hat and n.time % 480)
    swung_offbeats = sorted(n.time % 480 for n in swung.notes if n.pitch == hat and n.time % 480)
    assert set(straight_offbeats) == {240}
    assert all(abs(t - round(480 * 0.62)) <= 2 for t in swung_offbeats)


def test_humanize_is_seeded_and_stays_near_the_grid() -> None:
    data = {"bars": [BAR] * 4}
    one, _ = answer_to_clip(answer(data=data), SPEC, PROFILE, name="h", humanize=1.0, seed=9)
    two, _ = answer_to_clip(answer(data=data), SPEC, PROFILE, name="h", humanize=1.0, seed=9)
    other, _ = answer_to_clip(answer(data=data), SPEC, PROFILE, name="h", humanize=1.0, seed=10)
    assert one.notes == two.notes
    assert one.notes != other.notes


def test_compound_meter_grid() -> None:
    spec = GridSpec(bars=2, time_signature=(12, 8), tempo_bpm=70.0, pieces=BASE_PIECES)
    bar = {"kick": "x" + "." * 23, "snare": "." * 12 + "X" + "." * 11, "ride": "x.x.x.x.x.x.x.x.x.x.x.x."}
    clip, repairs = answer_to_clip(
        answer(data={"bars": [bar, bar]}), spec, None, name="c", humanize=0.0, seed=1
    )
    assert repairs == []
    assert clip.length_ticks == 2 * 2880
    assert validate_clip(clip, spec) == []


def test_validate_clip_reports_problems() -> None:
    spec = GridSpec(bars=1, time_signature=(4, 4), tempo_bpm=100.0, pieces=("kick",))
    bad = Clip(
        notes=[Note(36, 100, 0, 60), Note(36, 90, 0, 60), Note(99, 90, 10, 60), Note(36, 90, 5000, 60)],
        bars=1,
    )
    problems = " | ".join(validate_clip(bad, spec))
    assert "duplicate hit" in problems
    assert "pitch 99" in problems
    assert "outside the clip" in problems
