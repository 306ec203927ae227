"""Prompts: the step-grid schema per meter, the seeds' prompt contents, and grid examples."""

from __future__ import annotations

import json

import pytest

from mididrumigen.generation.prompt import (
    BASE_PIECES,
    GridSpec,
    build_prompt,
    clip_to_step_grid,
    grid_pieces,
    grid_spec_for,
    groove_schema,
    max_output_tokens,
    template_examples,
)
from mididrumigen.generation.request import GenerationRequest
from mididrumigen.generation.validate import grid_to_notes
from mididrumigen.midi.notes import Clip
from mididrumigen.profile import QuantitativeParams, StyleProfile

PROFILE = StyleProfile(
    artist_name="Test Drummer",
    text_description="Deep pocket, busy ghost notes on the snare, open hats on the 'and' of four.",
    quantitative_params=QuantitativeParams(
        tempo_min=85, tempo_max=110, tempo_typical=98, swing_percent=57.0, ghost_note_prob=0.35
    ),
    styles=["funk", "soul_motown"],
    signature_traits=["ghost-note flurries", "displaced kicks"],
    genres=["funk"],
)


@pytest.mark.parametrize(
    ("meter", "steps"), [((4, 4), 16), ((3, 4), 12), ((5, 4), 20), ((6, 8), 12), ((7, 8), 14), ((12, 8), 24)]
)
def test_steps_per_bar_follow_the_meter(meter: tuple[int, int], steps: int) -> None:
    spec = GridSpec(bars=2, time_signature=meter, tempo_bpm=100.0, pieces=BASE_PIECES)
    assert spec.steps_per_bar == steps
    assert spec.step_ticks * steps == spec.ticks_per_bar
    schema = groove_schema(spec)
    bars = schema["properties"]["bars"]
    assert bars["minItems"] == bars["maxItems"] == 2
    assert bars["items"]["required"] == list(BASE_PIECES)
    assert bars["items"]["additionalProperties"] is False
    assert f"{steps} characters" in bars["items"]["properties"]["kick"]["description"]


def test_user_prompt_carries_the_profile_numbers_examples_and_request() -> None:
    request = GenerationRequest(artist="Test Drummer", bars=8, variations=3, tempo_bpm=104)
    examples = template_examples(PROFILE, request, (4, 4), 104.0)
    spec = grid_spec_for(request, PROFILE, examples)
    prompt = build_prompt(PROFILE, request, spec, examples, variation=3, seed=5)
    text = prompt.user
    assert "Test Drummer" in text
    assert PROFILE.text_description in text
    assert "ghost-note flurries" in text
    assert "104 BPM" in text and "85-110" in text
    assert "57.0%" in text
    assert "35% of snare hits" in text
    assert "exactly 8 bar(s)" in text and "Meter 4/4" in text
    assert "variation 3 of 3" in text and "fill" in text
    assert "Example grid (the funk style" in text
    assert "exactly 8 bar(s) of 4/4" in prompt.system
    assert "16 characters" in prompt.system
    assert prompt.seed == 5
    assert prompt.max_output_tokens >= max_output_tokens(GridSpec(8, (4, 4), 104.0, BASE_PIECES))


def test_engine_example_is_a_compact_grid_in_the_requested_meter() -> None:
    request = GenerationRequest(artist="Test Drummer", bars=4, variations=1, time_signature=(6, 8))
    examples = template_examples(PROFILE, request, (6, 8), 98.0)
    assert examples, "the groove engine should give an example for the profile's style"
    bars = examples[0]["bars"]
    assert 1 <= len(bars) <= 2
    for bar in bars:
        assert all(len(row) == 12 for row in bar.values())
        assert set("".join(bar.values())) <= set(".gxX")


def test_style_only_request_uses_the_style_library() -> None:
    request = GenerationRequest(style="jazz_swing", bars=2, variations=1)
    spec = grid_spec_for(request, None, [])
    prompt = build_prompt(None, request, spec, [], variation=1)
    assert "Style: " in prompt.user
    assert "Swing:" in prompt.user
    assert spec.tempo_bpm > 0


def test_grid_pieces_add_example_percussion_and_respect_the_drum_map() -> None:
    example = {"bars": [{"kick": "x...", "cowbell": "x.x."}]}
    assert "cowbell" in grid_pieces([example], "gm")
    assert grid_pieces([], "gm") == BASE_PIECES


def test_grid_render_and_parse_round_trip_positions() -> None:
    spec = GridSpec(bars=2, time_signature=(4, 4), tempo_bpm=100.0, pieces=("kick", "snare", "hihat_closed"))
    grid = [
        {"kick": list("X.....x.x.......") , "snare": list("....X..g....X..g"), "hihat_closed": list("x.x.x.x.x.x.x.x.")},
        {"kick": list("X.........x.....") , "snare": list("....X.......XggX"), "hihat_closed": list("x.x.x.x.x.x.x...")},
    ]  # fmt: skip
    clip = Clip(notes=grid_to_notes(grid, spec, QuantitativeParams()), bars=2)
    rendered = clip_to_step_grid(clip, 16)
    assert len(rendered["bars"]) == 2
    for original, back in zip(grid, rendered["bars"], strict=True):
        for piece, cells in original.items():
            assert [c != "." for c in back[piece]] == [c != "." for c in cells]
    # ghost notes stay ghost notes
    assert rendered["bars"][0]["snare"][7] == "g"
    json.dumps(rendered)  # JSON-safe
