"""Prompts for LLM generation: per-bar step grids per kit piece, the JSON schema, and examples.

Models write rhythm badly as raw ticks but well as fixed-width step strings, one character
per 16th note, so we ask for `{"bars": [{"kick": "x.......x.x.....", "snare": "....X.......X...", ...}]}`
with velocity glyphs (`.` rest, `g` ghost, `x` hit, `X` accent) and convert that to notes.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mididrumigen.generation.providers.base import PromptSpec
from mididrumigen.generation.request import GenerationRequest
from mididrumigen.midi.kit import CLASS_BY_PITCH, GM_PITCH_BY_PIECE
from mididrumigen.midi.notes import DEFAULT_TICKS_PER_BEAT, Clip, ticks_per_bar
from mididrumigen.profile import StyleProfile

if TYPE_CHECKING:
    from mididrumigen.generation.styles import Style

log = logging.getLogger(__name__)

REST, GHOST, HIT, ACCENT = ".", "g", "x", "X"
GLYPH_LEGEND = f"'{REST}' rest, '{GHOST}' ghost note (soft), '{HIT}' normal hit, '{ACCENT}' accent"
# The kit every request offers; style examples may add percussion (cowbell, clave, ...).
BASE_PIECES: tuple[str, ...] = (
    "kick",
    "snare",
    "cross_stick",
    "hihat_closed",
    "hihat_open",
    "hihat_pedal",
    "ride",
    "crash",
    "tom_high",
    "tom_mid",
    "tom_floor",
)
PIECE_HELP: dict[str, str] = {
    "kick": "bass drum",
    "snare": "snare drum (ghost notes here)",
    "cross_stick": "cross-stick / rim click",
    "hihat_closed": "closed hi-hat",
    "hihat_open": "open hi-hat",
    "hihat_pedal": "hi-hat foot chick",
    "ride": "ride cymbal",
    "crash": "crash cymbal",
    "tom_high": "high rack tom",
    "tom_mid": "mid rack tom",
    "tom_floor": "floor tom",
}
# GMD kit classes -> the piece we write them as (class "tom_low" is the floor tom).
PIECE_BY_CLASS: dict[str, str] = {"tom_low": "tom_floor"}
EXAMPLE_BARS = 2
MAX_EXAMPLES = 2
VARIATION_HINTS: tuple[str, ...] = (
    "the main groove, the way this drummer would play the verse",
    "a busier take of the groove, more ghost notes and kick syncopation",
    "the groove with a short fill in the last bar leading back to beat one",
    "a sparser, laid-back take (fewer notes, space is part of the style)",
    "a chorus groove with more energy, cymbal accents on the downbeats",
    "a variation that moves the time-keeping to the ride or another voice",
    "a groove with a signature fill of this drummer in the last bar",
    "a breakdown feel: half the density, then build back in the last bar",
)


@dataclass(frozen=True, slots=True)
class GridSpec:
    """The step grid one LLM answer must fill: bars, steps per bar and the kit pieces."""

    bars: int
    time_signature: tuple[int, int]
    tempo_bpm: float
    pieces: tuple[str, ...]
    ticks_per_beat: int = DEFAULT_TICKS_PER_BEAT

    @property
    def steps_per_bar(self) -> int:
        """16th-note steps in one bar: 16 in 4/4, 12 in 3/4 and 6/8, 14 in 7/8, 24 in 12/8."""
        numerator, denominator = self.time_signature
        return numerator * 16 // denominator

    @property
    def ticks_per_bar(self) -> int:
        """Ticks in one bar."""
        return ticks_per_bar(self.time_signature, self.ticks_per_beat)

    @property
    def step_ticks(self) -> int:
        """Ticks per 16th-note step."""
        return self.ticks_per_bar // self.steps_per_bar


def style_of(request: GenerationRequest, profile: StyleProfile | None) -> Style | None:
    """The request's style, else the profile's primary style, from the style library (None if unknown)."""
    from mididrumigen.generation.styles import get_style

    name = request.style or (profile.styles[0] if profile is not None and profile.styles else None)
    if name is None:
        return None
    try:
        return get_style(name)
    except ValueError:
        return None


def resolve_tempo_bpm(request: GenerationRequest, profile: StyleProfile | None) -> float:
    """The request's tempo, else the drummer's typical tempo, else the style's, else 100 bpm."""
    if request.tempo_bpm is not None:
        return float(request.tempo_bpm)
    if profile is not None:
        return float(profile.quantitative_params.tempo_typical)
    style = style_of(request, profile)
    return float(style.tempo_typical) if style is not None else 100.0


def resolve_time_signature(request: GenerationRequest, profile: StyleProfile | None) -> tuple[int, int]:
    """The request's meter, else the drummer's first meter, else the style's, else 4/4."""
    if request.time_signature is not None:
        return request.time_signature
    if profile is not None and profile.time_signatures:
        numerator, denominator = profile.time_signatures[0]
        return (int(numerator), int(denominator))
    style = style_of(request, profile)
    return style.meter if style is not None else (4, 4)


def piece_of_any_pitch(pitch: int) -> str | None:
    """Kit piece of a GM pitch, else of the GMD kit class the pitch folds to."""
    from mididrumigen.midi.drum_maps import get_drum_map

    piece = get_drum_map("gm").piece_by_pitch.get(pitch)
    if piece is not None:
        return piece
    kit_class = CLASS_BY_PITCH.get(pitch)
    return PIECE_BY_CLASS.get(kit_class, kit_class) if kit_class else None


def grid_pieces(examples: list[dict[str, Any]], drum_map: str = "gm") -> tuple[str, ...]:
    """Pieces to offer: the base kit plus pieces the examples use, limited to the target drum map."""
    from mididrumigen.midi.drum_maps import get_drum_map

    try:
        available = set(get_drum_map(drum_map).pitch_by_piece)
    except ValueError:
        available = set(GM_PITCH_BY_PIECE)
    pieces = list(BASE_PIECES)
    for example in examples:
        for bar in example.get("bars", []):
            pieces.extend(p for p in bar if p not in pieces and p in GM_PITCH_BY_PIECE)
    kept = tuple(p for p in pieces if p in available)
    return kept or tuple(p for p in BASE_PIECES if p in GM_PITCH_BY_PIECE)


def groove_schema(spec: GridSpec) -> dict[str, Any]:
    """JSON schema of one answer: exactly `bars` bars, each a step string per kit piece."""
    steps = spec.steps_per_bar
    piece_schema = {
        piece: {
            "type": "string",
            "description": f"{steps} characters, one per 16th step: {GLYPH_LEGEND}",
        }
        for piece in spec.pieces
    }
    return {
        "type": "object",
        "properties": {
            "bars": {
                "type": "array",
                "description": f"exactly {spec.bars} bars in order",
                "minItems": spec.bars,
                "maxItems": spec.bars,
                "items": {
                    "type": "object",
                    "properties": piece_schema,
                    "required": list(spec.pieces),
                    "additionalProperties": False,
                },
            }
        },
        "required": ["bars"],
        "additionalProperties": False,
    }


def clip_to_step_grid(clip: Clip, steps_per_bar: int, max_bars: int | None = None) -> dict[str, Any]:
    """Render a clip as `{"bars": [{piece: steps}]}`: notes snap to 16ths, velocities become glyphs."""
    from mididrumigen.midi.grid import ACCENT as ACCENT_LEVEL
    from mididrumigen.midi.grid import GHOST as GHOST_LEVEL
    from mididrumigen.midi.grid import velocity_class, velocity_levels

    bar_ticks = clip.ticks_per_bar
    step_ticks = bar_ticks / steps_per_bar
    bar_count = max(1, clip.length_ticks // bar_ticks) if bar_ticks else 1
    if max_bars is not None:
        bar_count = min(bar_count, max_bars)
    by_piece: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for note in clip.notes:
        piece = piece_of_any_pitch(note.pitch)
        if piece is None:
            continue
        step = round(note.time / step_ticks)
        if step < bar_count * steps_per_bar:
            by_piece[piece].append((step, note.velocity))
    bars: list[dict[str, str]] = [{} for _ in range(bar_count)]
    for piece, hits in by_piece.items():
        levels = velocity_levels([v for _, v in hits])
        rows = [[REST] * steps_per_bar for _ in range(bar_count)]
        for step, velocity in hits:
            level = velocity_class(velocity, levels)
            glyph = ACCENT if level == ACCENT_LEVEL else GHOST if level == GHOST_LEVEL else HIT
            bar, position = divmod(step, steps_per_bar)
            # Where two hits round to one step, the stronger glyph wins.
            if _glyph_rank(glyph) > _glyph_rank(rows[bar][position]):
                rows[bar][position] = glyph
        for bar_index, row in enumerate(rows):
            bars[bar_index][piece] = "".join(row)
    order = {p: i for i, p in enumerate(BASE_PIECES)}
    return {"bars": [dict(sorted(b.items(), key=lambda kv: (order.get(kv[0], 99), kv[0]))) for b in bars]}


def _glyph_rank(glyph: str) -> int:
    return {REST: 0, GHOST: 1, HIT: 2, ACCENT: 3}.get(glyph, 0)


def template_examples(
    profile: StyleProfile | None,
    request: GenerationRequest,
    time_signature: tuple[int, int],
    tempo_bpm: float,
    library: Any = None,
) -> list[dict[str, Any]]:
    """Up to two compact grid examples: the profile's first MIDI template and a groove-engine clip."""
    steps = time_signature[0] * 16 // time_signature[1]
    examples: list[dict[str, Any]] = []
    if profile is not None:
        for path in profile.midi_templates[:3]:
            clip = _read_template(path)
            if clip is not None and clip.time_signature == time_signature and clip.notes:
                examples.append(
                    {"source": "a recorded template", **clip_to_step_grid(clip, steps, EXAMPLE_BARS)}
                )
                break
    style = request.style or (profile.styles[0] if profile is not None and profile.styles else None)
    if style is not None and len(examples) < MAX_EXAMPLES:
        clip = _engine_example(profile, style, time_signature, tempo_bpm, library)
        if clip is not None and clip.notes:
            examples.append({"source": f"the {style} style", **clip_to_step_grid(clip, steps, EXAMPLE_BARS)})
    return examples


def _read_template(path: str) -> Clip | None:
    from mididrumigen.midi.smf import read_midi_file

    try:
        return read_midi_file(path)
    except (OSError, ValueError) as exc:
        log.debug("template %s skipped: %s", path, exc)
        return None


def _engine_example(
    profile: StyleProfile | None,
    style: str,
    time_signature: tuple[int, int],
    tempo_bpm: float,
    library: Any,
) -> Clip | None:
    try:
        from mididrumigen.generation.groove_engine import generate_grooves

        example_request = GenerationRequest(
            artist=profile.artist_name if profile is not None else None,
            style=style,
            bars=EXAMPLE_BARS,
            variations=1,
            tempo_bpm=tempo_bpm,
            time_signature=time_signature,
            seed=1,
            humanize=0.0,
            provider="groove-engine",
        )
        clips = generate_grooves(example_request, profile, library)
    except Exception as exc:  # an example is optional: the prompt stays useful without it
        log.warning("no groove-engine example for %s: %s", style, exc)
        return None
    return clips[0] if clips else None


def max_output_tokens(spec: GridSpec) -> int:
    """A generous output limit for one answer (about 3 characters per token, plus slack)."""
    chars = spec.bars * sum(len(p) + spec.steps_per_bar + 8 for p in spec.pieces) + 200
    return min(16384, max(1024, int(chars / 3 * 1.5)))


def system_prompt(spec: GridSpec) -> str:
    """The system prompt: role, the grid format and its rules."""
    steps = spec.steps_per_bar
    numerator, denominator = spec.time_signature
    beat_steps = 16 // denominator
    if denominator == 8 and numerator % 3 == 0:
        beat_steps = 6
    beats = ", ".join(str(i + 1) for i in range(0, steps, beat_steps))
    pieces = "\n".join(f"- {p}: {PIECE_HELP.get(p, p.replace('_', ' '))}" for p in spec.pieces)
    return f"""You are an expert session drummer who writes drum parts as step grids.

Answer with JSON only, in this shape:
{{"bars": [{{"kick": "x.......x.x.....", "snare": "....X.......X...", "hihat_closed": "x.x.x.x.x.x.x.x.", ...}}, ...]}}

Rules:
- "bars" holds exactly {spec.bars} bar(s) of {numerator}/{denominator}.
- Each bar has one string per kit piece below, each exactly {steps} characters, one per 16th-note step.
- Characters: {GLYPH_LEGEND}. Nothing else.
- Beats start at steps {beats} (1-based). Write on the straight grid: swing and human timing are applied afterwards.
- A drummer has two hands and two feet: at most two hand-played pieces per step; no open and closed hi-hat on the same step.
- Use '.' for pieces that do not play in a bar.

Kit pieces:
{pieces}"""


def user_prompt(
    profile: StyleProfile | None,
    request: GenerationRequest,
    spec: GridSpec,
    examples: list[dict[str, Any]],
    variation: int,
) -> str:
    """The user prompt, after the seeds: who, style text, numbers, examples, and what to write."""
    who = profile.artist_name if profile is not None else (request.artist or f"a {request.style} drummer")
    numerator, denominator = spec.time_signature
    lines = [f"Write {spec.bars} bar(s) of drums in the style of {who}."]
    if profile is not None:
        q = profile.quantitative_params
        lines += ["", "Style characteristics:", profile.text_description.strip() or "(no description)"]
        if profile.signature_traits:
            lines.append("Signature traits: " + "; ".join(profile.signature_traits))
        if profile.genres:
            lines.append("Genres: " + ", ".join(profile.genres))
        if profile.styles:
            lines.append("Closest styles: " + ", ".join(profile.styles))
        lines += [
            "",
            "Quantitative parameters:",
            f"- Tempo: {spec.tempo_bpm:g} BPM (typical range {q.tempo_min:g}-{q.tempo_max:g})",
            f"- Swing: {q.swing_percent:.1f}% (50 straight, 66.7 triplet; applied for you afterwards)",
            f"- Ghost notes: about {q.ghost_note_prob * 100:.0f}% of snare hits are ghost notes",
            f"- Dynamics: mean velocity {q.velocity_mean:.0f}, spread {q.velocity_std:.0f}, "
            f"accent strength {q.accent_strength:.2f} (0 flat, 1 strong)",
            f"- Busyness: {q.busyness:.2f} (0 sparse, 1 dense); fill density {q.fill_density:.2f}",
            f"- Crash after a fill: {'yes' if q.crash_after_fill else 'no'}",
        ]
    else:
        style = style_of(request, profile)
        lines += [
            "",
            f"Style: {style.title if style is not None else request.style}",
            f"- Tempo: {spec.tempo_bpm:g} BPM",
        ]
        if style is not None:
            lines += [
                f"- Typical tempo range {style.tempo_min:g}-{style.tempo_max:g} BPM",
                f"- Swing: {style.swing_percent:.1f}% (applied for you afterwards)",
                f"- Ghost notes: about {style.ghost_share * 100:.0f}% of snare hits",
            ]
    for example in examples:
        lines += [
            "",
            f"Example grid ({example['source']}, {numerator}/{denominator}, for feel, do not copy):",
        ]
        lines.append(json.dumps({"bars": example["bars"]}, separators=(",", ":")))
    hint = VARIATION_HINTS[(variation - 1) % len(VARIATION_HINTS)]
    lines += [
        "",
        f"Meter {numerator}/{denominator}, {spec.steps_per_bar} steps per bar, exactly {spec.bars} bar(s).",
        f"This is variation {variation} of {request.variations}: {hint}.",
        "Output the JSON only.",
    ]
    return "\n".join(lines)


def build_prompt(
    profile: StyleProfile | None,
    request: GenerationRequest,
    spec: GridSpec,
    examples: list[dict[str, Any]],
    variation: int,
    seed: int | None = None,
) -> PromptSpec:
    """The full prompt for one variation."""
    return PromptSpec(
        system=system_prompt(spec),
        user=user_prompt(profile, request, spec, examples, variation),
        max_output_tokens=max_output_tokens(spec),
        temperature=0.9,
        seed=seed,
    )


def grid_spec_for(
    request: GenerationRequest, profile: StyleProfile | None, examples: list[dict[str, Any]]
) -> GridSpec:
    """The grid every variation of this request fills."""
    return GridSpec(
        bars=request.bars,
        time_signature=resolve_time_signature(request, profile),
        tempo_bpm=resolve_tempo_bpm(request, profile),
        pieces=grid_pieces(examples, request.drum_map),
    )
