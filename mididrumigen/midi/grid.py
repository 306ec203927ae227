"""A compact text drum grid: kit pieces as rows, steps as columns, accents and ghosts told apart."""

from __future__ import annotations

import math
from collections import defaultdict

from mididrumigen.midi.drum_maps import DrumMap, get_drum_map
from mididrumigen.midi.kit import CLASS_BY_PIECE
from mididrumigen.midi.notes import Clip
from mididrumigen.stats import percentile

MAX_LINE_CHARS = 100
ACCENT, NORMAL, GHOST = 3, 2, 1
GLYPHS = {ACCENT: "X", NORMAL: "x", GHOST: "g", 0: "-"}
_ANSI = {ACCENT: "\x1b[1;33m", NORMAL: "", GHOST: "\x1b[2m"}
_ANSI_RESET = "\x1b[0m"
# A hit counts as an accent only if it also stands this far above the piece's usual level,
# so a beat played at one even velocity shows plain hits, not all accents.
ACCENT_MIN_RISE = 10

# Top to bottom as in a drum score / drum machine: percussion, cymbals, hats, toms,
# snare family, then the feet (hi-hat pedal and kick) at the bottom.
ROW_ORDER: tuple[str, ...] = (
    "tambourine",
    "cowbell",
    "clave",
    "shaker",
    "conga_high",
    "conga_low",
    "timbale_high",
    "timbale_low",
    "crash",
    "crash2",
    "china",
    "splash",
    "ride",
    "ride_bell",
    "hihat_open",
    "hihat_closed",
    "tom_high",
    "tom_mid",
    "tom_low",
    "tom_floor",
    "snare_rim",
    "snare",
    "cross_stick",
    "clap",
    "hihat_pedal",
    "kick",
)
ROW_LABELS: dict[str, str] = {
    "tambourine": "Tambourine",
    "cowbell": "Cowbell",
    "clave": "Clave",
    "shaker": "Shaker",
    "conga_high": "Conga hi",
    "conga_low": "Conga lo",
    "timbale_high": "Timbale hi",
    "timbale_low": "Timbale lo",
    "crash": "Crash",
    "crash2": "Crash 2",
    "china": "China",
    "splash": "Splash",
    "ride": "Ride",
    "ride_bell": "Ride bell",
    "hihat_open": "HH open",
    "hihat_closed": "Hi-hat",
    "tom_high": "Tom 1",
    "tom_mid": "Tom 2",
    "tom_low": "Tom 3",
    "tom_floor": "Floor tom",
    "snare_rim": "Rimshot",
    "snare": "Snare",
    "cross_stick": "X-stick",
    "clap": "Clap",
    "hihat_pedal": "HH pedal",
    "kick": "Kick",
}


def grid_beats(time_signature: tuple[int, int], ticks_per_beat: int) -> tuple[float, int]:
    """Return (ticks per counted beat, beats per bar): dotted quarters in 6/8, 9/8 and 12/8."""
    numerator, denominator = time_signature
    unit_ticks = ticks_per_beat * 4 / denominator
    if denominator >= 8 and numerator % 3 == 0 and numerator > 3:
        return unit_ticks * 3, numerator // 3
    return unit_ticks, numerator


# Swung 8ths from this percent up read best on a triplet grid (a shuffle is 66.7, a jazz ride 60-67).
TRIPLET_GRID_SWING_PERCENT = 58.0


def default_steps_per_beat(clip: Clip) -> int:
    """Steps per counted beat: 16ths in x/4, 8ths in 6/8-12/8 and x/8, 8th triplets for triplet feels."""
    numerator, denominator = clip.time_signature
    if denominator >= 8 and numerator % 3 == 0 and numerator > 3:
        return 3
    if denominator >= 8:
        return 2 if denominator == 8 else 1
    straight = 16 // denominator
    # A clip that says how it swings (the groove engine's) needs no guess: played jitter can hide the thirds.
    unit, percent = clip.meta.get("swing_unit"), clip.meta.get("swing_percent")
    if unit == 8 and isinstance(percent, (int, float)):
        return straight * 3 // 4 if percent >= TRIPLET_GRID_SWING_PERCENT else straight
    beat_ticks, _ = grid_beats(clip.time_signature, clip.ticks_per_beat)
    if _looks_like_triplets(clip, beat_ticks):
        return straight * 3 // 4
    return straight


def _looks_like_triplets(clip: Clip, beat_ticks: float) -> bool:
    """True when off-beat hits sit on beat thirds (swung 8ths, shuffles) more than on 16ths."""
    tolerance = 1 / 24
    thirds = sixteenths = 0
    for note in clip.notes:
        fraction = (note.time % beat_ticks) / beat_ticks
        if min(abs(fraction - 1 / 3), abs(fraction - 2 / 3)) < tolerance:
            thirds += 1
        elif min(abs(fraction - 0.25), abs(fraction - 0.5), abs(fraction - 0.75)) < tolerance:
            sixteenths += 1
    return thirds >= 2 and thirds > sixteenths


def velocity_levels(velocities: list[int]) -> tuple[float, float]:
    """Return (ghost_below, accent_from) for one kit class, relative to its own accent level (p90)."""
    accent_level = percentile(velocities, 90)
    ghost_below = 0.5 * accent_level
    normal = [v for v in velocities if v >= ghost_below] or velocities
    usual = percentile(normal, 50)
    return ghost_below, max(0.9 * accent_level, usual + ACCENT_MIN_RISE)


def velocity_class(velocity: int, levels: tuple[float, float]) -> int:
    """Classify a velocity as GHOST, NORMAL or ACCENT."""
    ghost_below, accent_from = levels
    if velocity < ghost_below:
        return GHOST
    if velocity >= accent_from:
        return ACCENT
    return NORMAL


def render_grid(
    clip: Clip,
    *,
    steps_per_beat: int | None = None,
    use_color: bool = False,
    drum_map: DrumMap | str | None = None,
) -> str:
    """Render a clip as a drum grid musicians read: X accent, x hit, g ghost, - rest, | bar line."""
    if steps_per_beat is None:
        steps_per_beat = default_steps_per_beat(clip)
    if not isinstance(steps_per_beat, int) or not 1 <= steps_per_beat <= 16:
        raise ValueError("steps_per_beat must be an integer from 1 to 16")
    if not clip.notes or not clip.ticks_per_bar:
        return "(no notes)"
    # GM unless told otherwise: clip.meta may name the map a clip is *meant* for, not its pitches.
    kit = get_drum_map(drum_map if drum_map is not None else "gm")

    beat_ticks, beats_per_bar = grid_beats(clip.time_signature, clip.ticks_per_beat)
    step_ticks = beat_ticks / steps_per_beat
    steps_per_bar = beats_per_bar * steps_per_beat
    bars = max(1, math.ceil(clip.length_ticks / clip.ticks_per_bar))
    total_steps = bars * steps_per_bar

    # Notes past the clip's last bar are not part of the clip; a hit just before the end
    # that rounds up onto the next downbeat stays on the last step.
    notes = [n for n in clip.notes if n.time < bars * clip.ticks_per_bar]
    # Pitches the map does not know fall back to the Roland TD layout (edge hats, tom rims),
    # the other layout drum files commonly use; anything else gets its own "Note N" row.
    fallback = get_drum_map("roland").piece_by_pitch if kit.name == "gm" else {}
    row_of: dict[int, str] = {}
    velocities_by_class: dict[str, list[int]] = defaultdict(list)
    for note in notes:
        row = kit.piece_by_pitch.get(note.pitch) or fallback.get(note.pitch) or f"note_{note.pitch}"
        row_of[note.pitch] = row
        velocities_by_class[CLASS_BY_PIECE.get(row, row)].append(note.velocity)
    levels = {cls: velocity_levels(vels) for cls, vels in velocities_by_class.items()}

    cells: dict[str, list[int]] = {}
    for note in notes:
        row = row_of[note.pitch]
        step = min(max(0, round(note.time / step_ticks)), total_steps - 1)
        level = velocity_class(note.velocity, levels[CLASS_BY_PIECE.get(row, row)])
        line = cells.setdefault(row, [0] * total_steps)
        line[step] = max(line[step], level)

    rows = sorted(cells, key=_row_sort_key)
    labels = {row: ROW_LABELS.get(row, row.replace("note_", "Note ")) for row in rows}
    label_width = max(len(label) for label in labels.values())
    label_width = max(label_width, len(f"Bar {bars}-{bars}"))
    fit = (MAX_LINE_CHARS - label_width - 2) // (steps_per_bar + 1)
    bars_per_block = max(1, min(fit, 4 if steps_per_bar <= 12 else 2))

    header_bar = "".join(
        str((step // steps_per_beat + 1) % 10) if step % steps_per_beat == 0 else "."
        for step in range(steps_per_bar)
    )
    blocks: list[str] = []
    for first in range(0, bars, bars_per_block):
        last = min(first + bars_per_block, bars)
        title = f"Bar {first + 1}" if last - first == 1 else f"Bar {first + 1}-{last}"
        lines = [f"{title:<{label_width}} |" + "|".join([header_bar] * (last - first)) + "|"]
        for row in rows:
            parts = []
            for bar in range(first, last):
                bar_cells = cells[row][bar * steps_per_bar : (bar + 1) * steps_per_bar]
                parts.append("".join(_glyph(level, use_color) for level in bar_cells))
            lines.append(f"{labels[row]:<{label_width}} |" + "|".join(parts) + "|")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _row_sort_key(row: str) -> tuple[int, int]:
    if row in ROW_ORDER:
        return (1, ROW_ORDER.index(row))
    return (0, int(row.removeprefix("note_")) if row.startswith("note_") else 0)


def _glyph(level: int, use_color: bool) -> str:
    glyph = GLYPHS[level]
    if use_color and level and _ANSI[level]:
        return f"{_ANSI[level]}{glyph}{_ANSI_RESET}"
    return glyph
