"""Check and repair an LLM's step-grid answer and turn it into a playable, humanized clip.

Repairs: JSON inside code fences or followed by prose, truncated JSON closed, piece-name
aliases, step strings of the wrong length quantized to the grid, unknown pieces dropped,
impossible hits (three hands, open and closed hat together) dropped, a missing bar rebuilt
from the model's own bars, extra bars dropped. What cannot be repaired raises
InvalidOutputError, and the coordinator fails over to the next provider.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from mididrumigen.generation.prompt import ACCENT, GHOST, HIT, REST, GridSpec, piece_of_any_pitch
from mididrumigen.generation.providers.base import ProviderResponse
from mididrumigen.midi.kit import GM_PITCH_BY_PIECE
from mididrumigen.midi.notes import NOTE_ORDER, Clip, Note
from mididrumigen.profile import QuantitativeParams, StyleProfile

if TYPE_CHECKING:
    from mididrumigen.generation.styles import Style

GLYPH_BY_CHAR: dict[str, str] = {
    **dict.fromkeys(".-_0, ", REST),
    **dict.fromkeys("g", GHOST),
    **dict.fromkeys("xo*1+", HIT),
    **dict.fromkeys("XO#>!", ACCENT),
}
GLYPH_RANK: dict[str, int] = {REST: 0, GHOST: 1, HIT: 2, ACCENT: 3}
PIECE_ALIASES: dict[str, str] = {
    "bd": "kick", "bass_drum": "kick", "bass": "kick", "kick_drum": "kick",
    "sd": "snare", "snare_drum": "snare",
    "hh": "hihat_closed", "hihat": "hihat_closed", "hi_hat": "hihat_closed", "hat": "hihat_closed",
    "closed_hihat": "hihat_closed", "hi_hat_closed": "hihat_closed", "ch": "hihat_closed",
    "oh": "hihat_open", "open_hihat": "hihat_open", "hi_hat_open": "hihat_open",
    "pedal_hihat": "hihat_pedal", "hihat_foot": "hihat_pedal", "hi_hat_pedal": "hihat_pedal",
    "rim": "cross_stick", "rimclick": "cross_stick", "side_stick": "cross_stick", "sidestick": "cross_stick",
    "high_tom": "tom_high", "tom1": "tom_high", "mid_tom": "tom_mid", "tom2": "tom_mid",
    "floor_tom": "tom_floor", "low_tom": "tom_floor", "tom3": "tom_floor",
    "crash_cymbal": "crash", "ride_cymbal": "ride",
}  # fmt: skip
FEET = frozenset({"kick", "hihat_pedal"})
MAX_HANDS = 2
# When more than two hand-played pieces share a step, these win (earlier is kept first).
HAND_PRIORITY: tuple[str, ...] = (
    "snare", "crash", "ride", "hihat_open", "hihat_closed", "cross_stick",
    "tom_high", "tom_mid", "tom_floor",
)  # fmt: skip
# Largest plausible share of a clip's steps one piece fills; beyond it the answer is noise.
MAX_STEP_SHARE: dict[str, float] = {"kick": 0.75, "crash": 0.5, "hihat_pedal": 0.75}
MAX_HITS_PER_STEP_AVG = 3.0
MAX_REPAIR_TRIES = 60


class InvalidOutputError(ValueError):
    """The model's answer cannot be turned into a valid clip."""


@dataclass(slots=True)
class Repairs:
    """What was repaired in one answer, as short phrases for the attempt record."""

    notes: list[str] = field(default_factory=list)

    def add(self, note: str) -> None:
        """Record a repair once."""
        if note not in self.notes:
            self.notes.append(note)


# ---------------------------------------------------------------- JSON

_FENCE = re.compile(r"```[a-zA-Z0-9_-]*\s*\n?(.*?)(?:```|$)", re.DOTALL)


def extract_json(text: str, repairs: Repairs | None = None) -> Any:
    """Parse the JSON in a model's text: bare, in a code fence, followed by prose, or truncated."""
    repairs = repairs if repairs is not None else Repairs()
    stripped = text.strip()
    if not stripped:
        raise InvalidOutputError("empty answer")
    fence = _FENCE.search(stripped)
    if fence and not stripped.startswith(("{", "[")):
        stripped = fence.group(1).strip()
        repairs.add("json taken from a code fence")
    start = min((i for i in (stripped.find("{"), stripped.find("[")) if i >= 0), default=-1)
    if start < 0:
        raise InvalidOutputError("answer contains no json")
    if start > 0:
        repairs.add("prose before the json dropped")
    body = stripped[start:]
    decoder = json.JSONDecoder()
    try:
        value, end = decoder.raw_decode(body)
    except json.JSONDecodeError:
        closed = close_truncated_json(body)
        if closed is None:
            raise InvalidOutputError("answer is not valid json and cannot be closed") from None
        repairs.add("truncated json closed")
        return json.loads(closed)
    if body[end:].strip().strip("`").strip():
        repairs.add("prose after the json dropped")
    return value


def _closers(prefix: str) -> str | None:
    """Brackets (and a quote) that close a JSON prefix, or None if it is unbalanced."""
    stack: list[str] = []
    in_string = escaped = False
    for ch in prefix:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "{[":
            stack.append("}" if ch == "{" else "]")
        elif ch in "}]" and (not stack or stack.pop() != ch):
            return None
    return ('"' if in_string else "") + "".join(reversed(stack))


def close_truncated_json(text: str) -> str | None:
    """Close JSON cut off mid-way: back up to ever earlier token boundaries until it parses; None if hopeless."""
    candidates = [len(text)]
    for index in range(len(text) - 1, -1, -1):
        if len(candidates) > MAX_REPAIR_TRIES:
            break
        if text[index] in ',{["}]':
            # Keep an opening bracket or closing token, drop a separator.
            candidates.append(index if text[index] == "," else index + 1)
    for cut in candidates:
        prefix = text[:cut].rstrip().rstrip(",").rstrip()
        closers = _closers(prefix)
        if closers is None or not prefix:
            continue
        try:
            json.loads(prefix + closers)
        except json.JSONDecodeError:
            continue
        return prefix + closers
    return None


# ---------------------------------------------------------------- grid


def normalize_piece(key: str) -> str | None:
    """Canonical piece for a model's key ('HH', 'bass drum', '36'), or None if unknown."""
    name = re.sub(r"[\s\-]+", "_", str(key).strip().lower())
    if name.isdigit():
        return piece_of_any_pitch(int(name))
    name = PIECE_ALIASES.get(name, name)
    return name if name in GM_PITCH_BY_PIECE else None


def parse_steps(raw: Any, steps: int, repairs: Repairs) -> list[str] | None:
    """Turn one step string into `steps` glyphs, quantizing 8th or 32nd strings; None if unusable."""
    if isinstance(raw, list) and all(isinstance(c, str | int) and len(str(c)) == 1 for c in raw):
        raw = "".join(str(c) for c in raw)
    if not isinstance(raw, str):
        return None
    chars = [c for c in raw if c not in " |\t\n"]
    unknown = [c for c in chars if c not in GLYPH_BY_CHAR]
    if unknown:
        repairs.add("unknown step characters read as rests")
    cells = [GLYPH_BY_CHAR.get(c, REST) for c in chars]
    if len(cells) == steps:
        return cells
    if len(cells) * 2 == steps:
        repairs.add("8th-note strings spread over the 16th grid")
        return [cells[i // 2] if i % 2 == 0 else REST for i in range(steps)]
    if len(cells) == steps * 2:
        repairs.add("32nd-note strings quantized to 16ths")
        return [max(cells[2 * i], cells[2 * i + 1], key=GLYPH_RANK.__getitem__) for i in range(steps)]
    if len(cells) > steps:
        repairs.add("long step strings cut to the bar")
        return cells[:steps]
    repairs.add("short step strings padded with rests")
    return cells + [REST] * (steps - len(cells))


def _bar_list(data: Any) -> list[Any]:
    if isinstance(data, dict):
        bars = data.get("bars")
        if bars is None and len(data) == 1:
            inner = next(iter(data.values()))
            # {"groove": {"bars": [...]}}: a wrapper object around the answer.
            bars = inner.get("bars", inner) if isinstance(inner, dict) and "bars" in inner else inner
        if isinstance(bars, dict):
            bars = [bars[k] for k in sorted(bars, key=lambda k: (len(str(k)), str(k)))]
    else:
        bars = data
    if not isinstance(bars, list):
        raise InvalidOutputError("answer has no 'bars' list")
    return bars


def _parse_bar(raw: Any, spec: GridSpec, repairs: Repairs) -> dict[str, list[str]] | None:
    if isinstance(raw, dict):
        for key in ("pieces", "grid", "tracks", "steps"):
            if isinstance(raw.get(key), dict):
                raw = raw[key]
                break
    if not isinstance(raw, dict):
        return None
    bar: dict[str, list[str]] = {}
    dropped: list[str] = []
    for key, value in raw.items():
        piece = normalize_piece(key)
        if piece is None or piece not in spec.pieces:
            if str(key).lower() not in ("bar", "index", "number", "name"):
                dropped.append(str(key))
            continue
        cells = parse_steps(value, spec.steps_per_bar, repairs)
        if cells is None:
            continue
        if piece in bar:
            repairs.add("duplicate pieces merged")
            cells = [max(a, b, key=GLYPH_RANK.__getitem__) for a, b in zip(bar[piece], cells, strict=True)]
        bar[piece] = cells
    if dropped:
        repairs.add("out-of-map pieces dropped: " + ", ".join(sorted(set(dropped))[:5]))
    return bar or None


def parse_grid(
    data: Any, spec: GridSpec, repairs: Repairs, truncated: bool = False
) -> list[dict[str, list[str]]]:
    """Exactly `spec.bars` bars of glyph rows: extra bars dropped, missing ones rebuilt."""
    raw_bars = _bar_list(data)
    bars = [_parse_bar(raw, spec, repairs) for raw in raw_bars]
    if truncated and len(bars) > 1 and bars[-1] is not None:
        complete = {p for b in bars[:-1] if b for p in b}
        if not complete.issubset(bars[-1]):
            bars[-1] = None
            repairs.add("incomplete last bar of a truncated answer dropped")
    if len(bars) > spec.bars:
        repairs.add(f"{len(bars) - spec.bars} extra bar(s) dropped")
        bars = bars[: spec.bars]
    usable = [b for b in bars if b]
    if not usable:
        raise InvalidOutputError("no usable bars in the answer")
    bars += [None] * (spec.bars - len(bars))
    rebuilt = 0
    for index, bar in enumerate(bars):
        if not bar:
            # Repeat the model's own bars in order, as a drummer repeats a phrase.
            bars[index] = usable[index % len(usable)]
            rebuilt += 1
    if rebuilt:
        repairs.add(f"{rebuilt} missing bar(s) rebuilt from the model's bars")
    return [dict(b) for b in bars if b]


def playable_steps(bar: dict[str, list[str]], steps: int, repairs: Repairs) -> dict[str, list[str]]:
    """Drop hits no drummer can play: open+closed hat together, more than two hands on a step."""
    rows = {piece: list(cells) for piece, cells in bar.items()}
    for step in range(steps):
        open_hat, closed_hat = rows.get("hihat_open"), rows.get("hihat_closed")
        if open_hat and closed_hat and open_hat[step] != REST and closed_hat[step] != REST:
            closed_hat[step] = REST
            repairs.add("closed hi-hat under an open one dropped")
        hands = [p for p, cells in rows.items() if p not in FEET and cells[step] != REST]
        if len(hands) > MAX_HANDS:
            order = {p: i for i, p in enumerate(HAND_PRIORITY)}
            hands.sort(key=lambda p: (-GLYPH_RANK[rows[p][step]], order.get(p, len(order))))
            for piece in hands[MAX_HANDS:]:
                rows[piece][step] = REST
            repairs.add("hits beyond two hands dropped")
    return rows


def glyph_velocities(params: QuantitativeParams) -> dict[str, int]:
    """Velocity for each glyph from the drummer's dynamics; ghosts sit below half the accent level."""
    normal = _clamp_velocity(params.velocity_mean)
    accent = _clamp_velocity(max(normal + 8, params.velocity_mean + 12 + 18 * params.accent_strength))
    ghost = _clamp_velocity(min(0.3 * accent, normal * 0.45))
    return {GHOST: ghost, HIT: normal, ACCENT: accent}


def _clamp_velocity(value: float) -> int:
    return max(1, min(127, round(value)))


def check_density(bars: list[dict[str, list[str]]], spec: GridSpec) -> None:
    """Raise InvalidOutputError for an empty or implausibly dense groove."""
    total_steps = spec.bars * spec.steps_per_bar
    hits_by_piece: dict[str, int] = {}
    for bar in bars:
        for piece, cells in bar.items():
            hits_by_piece[piece] = hits_by_piece.get(piece, 0) + sum(c != REST for c in cells)
    total = sum(hits_by_piece.values())
    if total == 0:
        raise InvalidOutputError("the groove has no notes")
    for piece, limit in MAX_STEP_SHARE.items():
        share = hits_by_piece.get(piece, 0) / total_steps
        if share > limit:
            raise InvalidOutputError(f"implausible density: {piece} on {share:.0%} of steps")
    if total / total_steps > MAX_HITS_PER_STEP_AVG:
        raise InvalidOutputError("implausible density: too many hits per step")


def grid_to_notes(bars: list[dict[str, list[str]]], spec: GridSpec, params: QuantitativeParams) -> list[Note]:
    """Notes at GM pitches on the straight 16th grid."""
    velocity = glyph_velocities(params)
    notes: list[Note] = []
    for bar_index, bar in enumerate(bars):
        for piece, cells in bar.items():
            pitch = GM_PITCH_BY_PIECE[piece]
            for step, glyph in enumerate(cells):
                if glyph != REST:
                    time = bar_index * spec.ticks_per_bar + step * spec.step_ticks
                    notes.append(Note(pitch, velocity[glyph], time, spec.step_ticks))
    return notes


def validate_clip(clip: Clip, spec: GridSpec) -> list[str]:
    """Problems that make a clip invalid (empty list when it is valid)."""
    problems: list[str] = []
    length = spec.bars * spec.ticks_per_bar
    if clip.length_ticks != length:
        problems.append(f"clip is {clip.length_ticks} ticks long, expected {length}")
    allowed = {GM_PITCH_BY_PIECE[p] for p in spec.pieces}
    seen: set[tuple[int, int]] = set()
    for note in clip.notes:
        if note.pitch not in allowed:
            problems.append(f"pitch {note.pitch} is not in the kit")
        if not 0 <= note.time < length:
            problems.append(f"note at tick {note.time} is outside the clip")
        if not 1 <= note.velocity <= 127:
            problems.append(f"velocity {note.velocity} is out of range")
        if (note.pitch, note.time) in seen:
            problems.append(f"duplicate hit at tick {note.time}")
        seen.add((note.pitch, note.time))
    if not clip.notes:
        problems.append("clip has no notes")
    return sorted(set(problems))


def tidy_notes(notes: list[Note], length_ticks: int) -> list[Note]:
    """Clamp notes into the clip and velocities into 1-127, and merge exact duplicates."""
    by_key: dict[tuple[int, int], Note] = {}
    for note in notes:
        time = max(0, min(length_ticks - 1, note.time))
        velocity = max(1, min(127, note.velocity))
        duration = max(1, min(note.duration, length_ticks - time))
        fixed = Note(note.pitch, velocity, time, duration)
        old = by_key.get((fixed.pitch, fixed.time))
        if old is None or old.velocity < fixed.velocity:
            by_key[(fixed.pitch, fixed.time)] = fixed
    return sorted(by_key.values(), key=NOTE_ORDER)


def humanize_clip(
    clip: Clip, profile: StyleProfile | None, style: Style | None, humanize: float, seed: int
) -> Clip:
    """Apply the drummer's swing and feel with the same code the groove engine uses."""
    from mididrumigen.midi.humanize import apply_feel, apply_swing

    if profile is not None:
        params = profile.quantitative_params
    elif style is not None:
        params = QuantitativeParams(swing_percent=style.swing_percent, microtiming_ms=dict(style.timing_ms))
    else:
        params = QuantitativeParams(swing_percent=50.0)
    unit = style.swing_unit if style is not None else 8
    if abs(params.swing_percent - 50.0) > 0.5:
        clip = apply_swing(clip, params.swing_percent, unit)
    if humanize > 0:
        hat_accent = style.hat_accent if style is not None else None
        clip = apply_feel(clip, params, amount=humanize, rng=random.Random(seed), hat_accent=hat_accent)
    return clip


def answer_to_clip(
    response: ProviderResponse,
    spec: GridSpec,
    profile: StyleProfile | None,
    *,
    name: str,
    humanize: float,
    seed: int,
    style: Style | None = None,
) -> tuple[Clip, list[str]]:
    """Parse, check and repair one answer into a humanized clip; returns the clip and its repairs."""
    repairs = Repairs()
    data = response.data
    truncated = response.truncated
    if data is None:
        if not response.text:
            raise InvalidOutputError("empty answer")
        data = extract_json(response.text, repairs)
        truncated = truncated or "truncated json closed" in repairs.notes
    bars = parse_grid(data, spec, repairs, truncated=truncated)
    bars = [playable_steps(bar, spec.steps_per_bar, repairs) for bar in bars]
    check_density(bars, spec)
    params = profile.quantitative_params if profile is not None else QuantitativeParams()
    length = spec.bars * spec.ticks_per_bar
    clip = Clip(
        notes=grid_to_notes(bars, spec, params),
        tempo_bpm=spec.tempo_bpm,
        time_signature=spec.time_signature,
        ticks_per_beat=spec.ticks_per_beat,
        bars=spec.bars,
        name=name,
    )
    clip = humanize_clip(clip, profile, style, humanize, seed)
    clip = replace(clip, notes=tidy_notes(clip.notes, length), bars=spec.bars, name=name)
    problems = validate_clip(clip, spec)
    if problems:
        raise InvalidOutputError("; ".join(problems[:3]))
    return clip, repairs.notes
