"""The notes model: drum hits in ticks, and the notes JSON contract."""

from __future__ import annotations

import json
import math
import operator
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

DEFAULT_TICKS_PER_BEAT = 480
SUPPORTED_TIME_SIGNATURES: tuple[tuple[int, int], ...] = (
    (4, 4),
    (3, 4),
    (5, 4),
    (6, 8),
    (7, 8),
    (12, 8),
)
NOTE_JSON_TEXT = '{"pitch":%d,"velocity":%d,"time":%d,"duration":%d}'


class Note(NamedTuple):
    """One drum hit: pitch, velocity 1-127, start and length in ticks."""

    # A NamedTuple, not a frozen dataclass: as immutable, and made twice as fast (the engine
    # makes several thousand per request, and a frozen dataclass sets each field with a call).

    pitch: int
    velocity: int
    time: int
    duration: int

    def to_json(self) -> dict[str, int]:
        """Return the notes-JSON object for this hit."""
        return {
            "pitch": self.pitch,
            "velocity": self.velocity,
            "time": self.time,
            "duration": self.duration,
        }


# The order of notes everywhere they are listed: by time, then pitch.
NOTE_ORDER = operator.attrgetter("time", "pitch")


@dataclass(slots=True)
class Clip:
    """A drum clip: notes plus tempo, meter, resolution and exact length."""

    notes: list[Note]
    tempo_bpm: float = 120.0
    time_signature: tuple[int, int] = (4, 4)
    ticks_per_beat: int = DEFAULT_TICKS_PER_BEAT
    bars: int | None = None
    name: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def ticks_per_bar(self) -> int:
        """Ticks in one bar (a beat is the quarter note, as in SMF)."""
        return ticks_per_bar(self.time_signature, self.ticks_per_beat)

    @property
    def length_ticks(self) -> int:
        """Exact clip length: bars x bar length, or the end of the last bar touched."""
        if self.bars is not None:
            return self.bars * self.ticks_per_bar
        if not self.notes:
            return 0
        last = max(n.time for n in self.notes)
        return (last // self.ticks_per_bar + 1) * self.ticks_per_bar

    def sorted(self) -> Clip:
        """Return a copy with notes ordered by time then pitch."""
        return replace(self, notes=sorted(self.notes, key=NOTE_ORDER))

    def to_json(self) -> dict[str, Any]:
        """Return the notes JSON of ../shared/DESIGN.md."""
        return {"notes": [n.to_json() for n in sorted(self.notes, key=NOTE_ORDER)], **self._fields_json()}

    def to_json_text(self, extra: Mapping[str, Any] | None = None) -> str:
        """to_json() (with extra fields after its own) as compact JSON text; the notes are formatted directly."""
        notes = ",".join(
            [
                NOTE_JSON_TEXT % (n.pitch, n.velocity, n.time, n.duration)
                for n in sorted(self.notes, key=NOTE_ORDER)
            ]
        )
        fields = json.dumps({**self._fields_json(), **(extra or {})}, separators=(",", ":"))
        return f'{{"notes":[{notes}],{fields[1:]}'

    def _fields_json(self) -> dict[str, Any]:
        """Everything in the notes JSON but the notes."""
        return {
            "tempo": round(self.tempo_bpm, 3),
            "time_signature": list(self.time_signature),
            "ticks_per_beat": self.ticks_per_beat,
            "bars": self.length_ticks // self.ticks_per_bar if self.ticks_per_bar else 0,
            "name": self.name,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Clip:
        """Build a clip from notes JSON, checking every field."""
        if not isinstance(data, dict):
            raise ValueError("notes json must be an object")
        raw_notes = data.get("notes")
        if not isinstance(raw_notes, list):
            raise ValueError("notes json needs a 'notes' list")
        tpb = _int_field(data, "ticks_per_beat", DEFAULT_TICKS_PER_BEAT, 1, 32767)
        tempo = data.get("tempo", 120)
        if not isinstance(tempo, int | float) or isinstance(tempo, bool) or not 1 <= tempo <= 1000:
            raise ValueError("tempo must be a number of bpm between 1 and 1000")
        ts = data.get("time_signature", [4, 4])
        if (
            not isinstance(ts, list | tuple)
            or len(ts) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in ts)
        ):
            raise ValueError("time_signature must be a pair of integers like [4, 4]")
        time_sig = validate_time_signature(int(ts[0]), int(ts[1]), strict=False)
        notes = [_note_from_json(i, raw) for i, raw in enumerate(raw_notes)]
        bars = data.get("bars")
        if bars is not None and (not isinstance(bars, int) or isinstance(bars, bool) or bars < 0):
            raise ValueError("bars must be a non-negative integer")
        name = data.get("name", "")
        return cls(
            notes=notes,
            tempo_bpm=float(tempo),
            time_signature=time_sig,
            ticks_per_beat=tpb,
            bars=bars,
            name=str(name) if name else "",
        )


def _int_field(data: dict[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = data.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValueError(f"{key} must be an integer from {low} to {high}")
    return value


def _note_from_json(index: int, raw: Any) -> Note:
    if not isinstance(raw, dict):
        raise ValueError(f"note {index} must be an object")
    values = {}
    for key, low, high in (
        ("pitch", 0, 127),
        ("velocity", 1, 127),
        ("time", 0, 2**31 - 1),
        ("duration", 1, 2**31 - 1),
    ):
        value = raw.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise ValueError(f"note {index}: {key} must be an integer from {low} to {high}")
        values[key] = value
    return Note(**values)


def ticks_per_bar(time_signature: tuple[int, int], ticks_per_beat: int) -> int:
    """Ticks in one bar of the meter, the beat being a quarter note."""
    numerator, denominator = time_signature
    return numerator * ticks_per_beat * 4 // denominator


def validate_time_signature(numerator: int, denominator: int, strict: bool = True) -> tuple[int, int]:
    """Return the meter as a tuple, or raise ValueError for one we cannot play."""
    if denominator not in (1, 2, 4, 8, 16, 32) or not 1 <= numerator <= 32:
        raise ValueError(f"time signature {numerator}/{denominator} is not a valid meter")
    if strict and (numerator, denominator) not in SUPPORTED_TIME_SIGNATURES:
        supported = ", ".join(f"{n}/{d}" for n, d in SUPPORTED_TIME_SIGNATURES)
        raise ValueError(
            f"time signature {numerator}/{denominator} is not supported (use one of {supported})"
        )
    return (numerator, denominator)


def parse_time_signature(text: str, strict: bool = True) -> tuple[int, int]:
    """Parse '6/8' into (6, 8), raising ValueError with a clear message."""
    parts = text.strip().split("/")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise ValueError(f"time signature must look like 4/4, got {text!r}")
    return validate_time_signature(int(parts[0]), int(parts[1]), strict=strict)


def ticks_to_seconds(ticks: float, tempo_bpm: float, ticks_per_beat: int) -> float:
    """Convert ticks to seconds at a constant tempo."""
    return ticks * 60.0 / (tempo_bpm * ticks_per_beat)


def seconds_to_ticks(seconds: float, tempo_bpm: float, ticks_per_beat: int) -> int:
    """Convert seconds to whole ticks at a constant tempo."""
    return math.floor(seconds * tempo_bpm * ticks_per_beat / 60.0 + 0.5)


def ms_to_ticks(ms: float, tempo_bpm: float, ticks_per_beat: int) -> float:
    """Convert milliseconds to (fractional) ticks at a constant tempo."""
    return ms * tempo_bpm * ticks_per_beat / 60000.0
