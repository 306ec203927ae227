"""GenerationRequest validation: the bounds the CLI and the API share."""

from __future__ import annotations

from typing import Any

import pytest

from mididrumigen.generation.request import GenerationRequest


def test_defaults_are_valid() -> None:
    request = GenerationRequest(artist=" John  Bonham ")
    assert request.artist == "John Bonham"
    assert (request.bars, request.variations) == (4, 4)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "artist or a style"),
        ({"artist": "x", "bars": 0}, "bars must be from 1 to 16, got 0"),
        ({"artist": "x", "bars": 1000}, "bars must be from 1 to 16"),
        ({"artist": "x", "variations": 9}, "variations"),
        ({"artist": "x", "tempo_bpm": 10.0}, "tempo must be from 40 to 300 bpm, got 10"),
        ({"artist": "x", "time_signature": (4, 3)}, "4/3"),
        ({"artist": "x", "humanize": 1.5}, "humanize"),
        ({"artist": "x", "seed": -1}, "seed"),
        ({"artist": "x", "provider": "skynet"}, "provider must be one of"),
        ({"artist": "a/b"}, "path separators"),
    ],
)
def test_bad_requests(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        GenerationRequest(**kwargs)
