"""StyleProfile: what we know about how one drummer plays."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

USABLE_CONFIDENCE = 0.6  # PRD: a profile below this is not trusted on its own
SOURCE_KINDS: tuple[str, ...] = ("builtin", "paper", "article", "audio", "midi")


@dataclass(slots=True)
class QuantitativeParams:
    """Numbers that drive generation; units are in the names."""

    tempo_min: float = 80.0
    tempo_max: float = 130.0
    tempo_typical: float = 100.0
    swing_percent: float = 50.0  # first 8th's share of a beat pair: 50 straight, 66.7 triplet
    ghost_note_prob: float = 0.1  # share of snare-class hits that are ghost notes (0..1)
    velocity_mean: float = 96.0
    velocity_std: float = 14.0
    accent_strength: float = 0.5  # 0 flat dynamics .. 1 strong accent cycle
    busyness: float = 0.5  # 0 sparse .. 1 dense (extra kick/snare/hat events)
    fill_density: float = 0.5  # 0 sparse fills .. 1 dense, busy fills
    crash_after_fill: bool = True
    # Per-limb timing tendency in ms, negative ahead of the grid, positive laid back.
    microtiming_ms: dict[str, float] = field(default_factory=dict)
    timing_jitter_ms: float = 6.0  # spread of each hit around its tendency

    @property
    def swing_ratio(self) -> float:
        """Swing as long/short 8th: 1.0 straight, 2.0 triplet."""
        return swing_percent_to_ratio(self.swing_percent)


@dataclass(slots=True)
class StyleProfile:
    """A drummer's style: description, numbers, templates, embedding and confidence."""

    artist_name: str
    text_description: str
    quantitative_params: QuantitativeParams
    styles: list[str]  # style-library keys, primary first
    signature_traits: list[str] = field(default_factory=list)
    genres: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)
    midi_templates: list[str] = field(default_factory=list)
    embedding: list[float] | None = None
    confidence_score: float = 0.0
    sources_count: dict[str, int] = field(default_factory=dict)
    time_signatures: list[tuple[int, int]] = field(default_factory=lambda: [(4, 4)])

    def to_json(self, include_embedding: bool = False) -> dict[str, Any]:
        """Return the profile as JSON-safe data (the embedding only on request)."""
        data = asdict(self)
        data["quantitative_params"]["swing_ratio"] = round(self.quantitative_params.swing_ratio, 3)
        data["time_signatures"] = [list(ts) for ts in self.time_signatures]
        if not include_embedding:
            data.pop("embedding")
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StyleProfile:
        """Rebuild a profile from to_json() output."""
        params = dict(data["quantitative_params"])
        params.pop("swing_ratio", None)
        known = set(QuantitativeParams.__dataclass_fields__)
        return cls(
            artist_name=data["artist_name"],
            text_description=data.get("text_description", ""),
            quantitative_params=QuantitativeParams(**{k: v for k, v in params.items() if k in known}),
            styles=list(data.get("styles", [])),
            signature_traits=list(data.get("signature_traits", [])),
            genres=list(data.get("genres", [])),
            aliases=list(data.get("aliases", [])),
            midi_templates=list(data.get("midi_templates", [])),
            embedding=data.get("embedding"),
            confidence_score=float(data.get("confidence_score", 0.0)),
            sources_count=dict(data.get("sources_count", {})),
            time_signatures=[(int(a), int(b)) for a, b in data.get("time_signatures", [[4, 4]])],
        )


def swing_percent_to_ratio(percent: float) -> float:
    """Convert swing percent (50 straight, 66.7 triplet) to a long/short ratio."""
    if not 0 < percent < 100:
        raise ValueError("swing percent must be between 0 and 100")
    return percent / (100.0 - percent)


def swing_ratio_to_percent(ratio: float) -> float:
    """Convert a long/short 8th ratio (1.0 straight, 2.0 triplet) to swing percent."""
    if ratio <= 0:
        raise ValueError("swing ratio must be positive")
    return 100.0 * ratio / (1.0 + ratio)
