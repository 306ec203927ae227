"""The POST /generate answer as text equals its dict form, including odd names and every meter."""

from __future__ import annotations

import json
from pathlib import Path

from mididrumigen.generation.groove_engine import generate_grooves
from mididrumigen.generation.request import GenerationRequest
from mididrumigen.orchestrator import Generated, GenerationResult, profile_summary
from mididrumigen.research.drummers import find_builtin


def test_answer_text_is_the_answer_dict() -> None:
    profile = find_builtin("John Bonham")
    for seed, meter in ((1, None), (2, (7, 8)), (3, (12, 8))):
        request = GenerationRequest(
            artist="John Bonham", bars=3, variations=3, seed=seed, time_signature=meter
        )
        clips = generate_grooves(request, profile)
        result = GenerationResult(
            request,
            profile,
            Generated(clips, "groove-engine", [{"provider": "groove-engine", "outcome": "ok"}]),
            [Path(f'/out/Bonham "quoted" é/{n}.mid') for n in range(3)],
            [f"{n:032x}" for n in range(3)],
            2.345,
            profile_json=profile_summary(profile),
        )
        assert json.loads(result.to_json_text()) == result.to_json()
