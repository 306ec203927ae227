"""A generation request: the parameters shared by the CLI, the API and every generator."""

from __future__ import annotations

import random
from dataclasses import dataclass

from mididrumigen.files import validate_artist_name
from mididrumigen.midi.notes import validate_time_signature

MIN_BARS, MAX_BARS = 1, 16
MIN_VARIATIONS, MAX_VARIATIONS = 1, 8
MIN_TEMPO_BPM, MAX_TEMPO_BPM = 40.0, 300.0
# A seed drawn for the musician is short enough to read back and type (any seed below 2**63 is accepted).
RANDOM_SEED_LIMIT = 1_000_000
PROVIDERS = ("auto", "anthropic", "google", "openai", "local", "groove-engine")


def seed_or_drawn(seed: int | None) -> int:
    """The seed asked for, or one drawn for the musician below RANDOM_SEED_LIMIT."""
    return seed if seed is not None else random.SystemRandom().randrange(RANDOM_SEED_LIMIT)


@dataclass(frozen=True, slots=True)
class GenerationRequest:
    """What to generate; None means 'let the profile or style decide'."""

    artist: str | None = None
    style: str | None = None
    bars: int = 4
    variations: int = 4
    tempo_bpm: float | None = None
    time_signature: tuple[int, int] | None = None
    drum_map: str = "gm"
    seed: int | None = None
    humanize: float = 0.6
    provider: str = "auto"

    def __post_init__(self) -> None:
        if self.artist is None and self.style is None:
            raise ValueError("give an artist or a style")
        if self.artist is not None:
            object.__setattr__(self, "artist", validate_artist_name(self.artist))
        if not MIN_BARS <= self.bars <= MAX_BARS:
            raise ValueError(f"bars must be from {MIN_BARS} to {MAX_BARS}, got {self.bars}")
        if not MIN_VARIATIONS <= self.variations <= MAX_VARIATIONS:
            raise ValueError(
                f"variations must be from {MIN_VARIATIONS} to {MAX_VARIATIONS}, got {self.variations}"
            )
        if self.tempo_bpm is not None and not MIN_TEMPO_BPM <= self.tempo_bpm <= MAX_TEMPO_BPM:
            raise ValueError(
                f"tempo must be from {MIN_TEMPO_BPM:g} to {MAX_TEMPO_BPM:g} bpm, got {self.tempo_bpm:g}"
            )
        if self.time_signature is not None:
            validate_time_signature(*self.time_signature)
        if not 0.0 <= self.humanize <= 1.0:
            raise ValueError(f"humanize must be from 0 to 1, got {self.humanize:g}")
        if self.seed is not None and not 0 <= self.seed < 2**63:
            raise ValueError("seed must be a non-negative integer below 2**63")
        if self.provider not in PROVIDERS:
            raise ValueError(f"provider must be one of {', '.join(PROVIDERS)}, got {self.provider!r}")
