"""The style library: grooves written as data (style_library.toml), parsed once and adapted to any meter."""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType
from typing import Any

from mididrumigen.midi.kit import GM_PITCH_BY_PIECE
from mididrumigen.midi.notes import SUPPORTED_TIME_SIGNATURES, ticks_per_bar

TICKS_PER_BEAT = 480
LEVELS: tuple[str, ...] = ("accent", "normal", "soft", "ghost")
HAT_ACCENTS: tuple[str, ...] = ("beat", "offbeat", "none")
_LEVEL_BY_GLYPH = {"X": "accent", "x": "normal", "o": "soft", "g": "ghost", "r": "normal", "t": "normal"}
_REST_GLYPHS = frozenset(".-")
_FILL_PIECES = {
    "S": "snare",
    "G": "snare",
    "H": "tom_high",
    "M": "tom_mid",
    "L": "tom_low",
    "F": "tom_floor",
    "K": "kick",
    "C": "crash",
    "R": "ride",
    "B": "ride_bell",
    "X": "hihat_closed",
    "O": "hihat_open",
    "P": "hihat_pedal",
    "Q": "cross_stick",
    "A": "clap",
    "W": "cowbell",
    "T": "timbale_high",
    "U": "timbale_low",
}
# Loose names people type for a style -> the library key.
_ALIASES = {
    "hip_hop": "boom_bap",
    "hiphop": "boom_bap",
    "boombap": "boom_bap",
    "dnb": "drum_and_bass",
    "d_and_b": "drum_and_bass",
    "drum_n_bass": "drum_and_bass",
    "drumnbass": "drum_and_bass",
    "jungle": "drum_and_bass",
    "hardrock": "hard_rock",
    "shuffle": "halftime_shuffle",
    "half_time_shuffle": "halftime_shuffle",
    "purdie_shuffle": "halftime_shuffle",
    "motown": "soul_motown",
    "soul": "soul_motown",
    "linear": "linear_funk",
    "jazz": "jazz_swing",
    "swing": "jazz_swing",
    "waltz": "jazz_waltz",
    "bossa": "bossa_nova",
    "bossanova": "bossa_nova",
    "afro_cuban": "songo",
    "afrocuban": "songo",
    "reggae": "reggae_one_drop",
    "one_drop": "reggae_one_drop",
    "afro": "afrobeat",
    "secondline": "second_line",
    "new_orleans": "second_line",
    "neworleans": "second_line",
    "nola": "second_line",
    "country": "country_train",
    "train_beat": "country_train",
    "train": "country_train",
    "blues": "blues_12_8",
    "12_8_blues": "blues_12_8",
    "blues_shuffle": "blues_12_8",
    "techno": "house",
    "edm": "house",
    "dance": "disco",
    "heavy_metal": "metal",
    "rnb": "soul_motown",
}


@dataclass(frozen=True, slots=True)
class Hit:
    """One written hit of a bar: tick in the bar (straight grid), kit piece, level, swing and roll offset."""

    tick: int  # position in the bar before swing, at 480 ticks per quarter note
    piece: str
    level: str  # accent | normal | soft | ghost
    swings: bool  # True: follows the swing warp; False: an exact (triplet) position
    offset: int = 0  # roll strokes: ticks after the swung position of their step


@dataclass(frozen=True, slots=True)
class Fill:
    """A fill written beat by beat: each beat is (steps, ((step, piece, level), ...))."""

    beats: tuple[tuple[int, tuple[tuple[int, str, str], ...]], ...]
    text: str

    @property
    def triplet_only(self) -> bool:
        """True when every beat divides in threes (fits compound beats)."""
        return all(steps % 3 == 0 for steps, _ in self.beats)


@dataclass(frozen=True, slots=True)
class Style:
    """One style of the library: meter, tempo, swing, feel, patterns, variation rules and fills."""

    key: str
    title: str
    meter: tuple[int, int]
    tempo_min: float
    tempo_max: float
    tempo_typical: float
    swing_unit: int
    swing_percent: float
    triplet_feel: bool
    ghost_share: float
    crash_after_fill: bool
    hat_accent: str
    timekeeper: str
    swap: str
    timing_ms: Mapping[str, float]
    fills: tuple[Fill, ...]  # the style's own fill sets
    compound_fills: tuple[
        Fill, ...
    ]  # fills whose beats divide in three, for 6/8 and 12/8 (the triplet set too)
    core: Mapping[str, str]
    alts: tuple[Mapping[str, str], ...]
    vary: Mapping[str, str]
    vary_prob: float
    open_hat: str
    ghosts: str
    jitter_ms: float  # the style's own timing_jitter_ms when no profile speaks
    velocity_std: float  # its velocity_std likewise
    fill_density: float  # its fill_density likewise (few toms where the GMD's players use few)
    under_fills: frozenset[
        str
    ]  # pieces that keep playing under a fill (the hat foot; a four-on-the-floor kick)
    meters: Mapping[tuple[int, int], tuple[Mapping[str, str], tuple[Mapping[str, str], ...]]]

    @property
    def pieces(self) -> tuple[str, ...]:
        """Kit pieces the style's grooves use (without fills)."""
        names: set[str] = set()
        for rows in (self.core, self.vary, *self.alts):
            names.update(piece for piece, text in rows.items() if text)
        if self.swap:
            names.add(self.swap)
        if self.open_hat:
            names.add("hihat_open")
        return tuple(sorted(names))

    def clamp_tempo(self, tempo_bpm: float) -> float:
        """Clamp a tempo into the style's range."""
        return min(max(tempo_bpm, self.tempo_min), self.tempo_max)


@dataclass(frozen=True, slots=True)
class MeterPatterns:
    """A style's patterns adapted to one meter, ready for the engine."""

    meter: tuple[int, int]
    bar_ticks: int
    groups: tuple[tuple[int, int], ...]  # (start tick, length ticks) of each beat group
    compound: bool
    core: tuple[Hit, ...]
    alts: tuple[tuple[Hit, ...], ...]
    vary: tuple[Hit, ...]
    open_spots: tuple[int, ...]  # ticks where the hat may open
    ghost_spots: tuple[int, ...]  # preferred ghost ticks (straight grid), in priority order
    ghost_grid: tuple[int, ...]  # every tick a ghost note may go (straight grid)
    ghost_last_resort: tuple[int, ...]  # where a very ghost-heavy player may go once the grid is full


def meter_groups(meter: tuple[int, int]) -> tuple[tuple[int, int], ...]:
    """The beat groups of a meter: quarters in x/4, dotted quarters in 6/8 and 12/8, 2+2+3 in 7/8."""
    numerator, denominator = meter
    if denominator == 4:
        lengths = [TICKS_PER_BEAT] * numerator
    elif meter == (7, 8):
        lengths = [TICKS_PER_BEAT, TICKS_PER_BEAT, TICKS_PER_BEAT * 3 // 2]
    elif denominator == 8 and numerator % 3 == 0:
        lengths = [TICKS_PER_BEAT * 3 // 2] * (numerator // 3)
    else:
        raise ValueError(f"time signature {numerator}/{denominator} is not supported")
    groups = []
    start = 0
    for length in lengths:
        groups.append((start, length))
        start += length
    return tuple(groups)


def is_compound(meter: tuple[int, int]) -> bool:
    """True for 6/8 and 12/8: beats of three 8ths, no swing."""
    return meter[1] == 8 and meter[0] % 3 == 0


# ------------------------------------------------------------------ parsing


def _segments(text: str, groups: int) -> list[str]:
    clean = text.replace(" ", "")
    if "|" in clean:
        parts = clean.split("|")
        if len(parts) != groups:
            raise ValueError(f"pattern {text!r} has {len(parts)} beats, the meter has {groups}")
        return parts
    if len(clean) % groups:
        raise ValueError(f"pattern {text!r} does not divide into {groups} beats")
    size = len(clean) // groups
    return [clean[i * size : (i + 1) * size] for i in range(groups)]


# Where a straight position (fraction of a beat) lands in a compound beat and back:
# 8ths fall on the triplet 8ths, the 4th 16th on the last 16th of the dotted quarter.
_STRAIGHT = (0.0, 0.25, 0.5, 1.0)
_TRIPLET = (0.0, 1 / 3, 2 / 3, 1.0)


def _piecewise(value: float, xs: tuple[float, ...], ys: tuple[float, ...]) -> float:
    for i in range(len(xs) - 1):
        if value <= xs[i + 1]:
            span = xs[i + 1] - xs[i]
            return ys[i] + (value - xs[i]) / span * (ys[i + 1] - ys[i])
    return ys[-1]


def straight_to_compound(frac: float) -> float:
    """Map a straight position in a beat (0, .25, .5, .75) to its compound-beat place (0, 1/3, 2/3, 5/6)."""
    return _piecewise(frac, _STRAIGHT, _TRIPLET)


def triplet_to_straight(frac: float) -> float:
    """Map a triplet position (0, 1/3, 2/3) to the straight grid the swing warp starts from (0, .25, .5)."""
    return _piecewise(frac, _TRIPLET, _STRAIGHT)


@dataclass(frozen=True, slots=True)
class _RawHit:
    group: int
    frac: float
    piece: str
    level: str
    triplet: bool  # written on a grid of threes
    roll: int  # 1 single stroke, 2 a 32nd double, 3 a triplet roll
    step_frac: float  # one step as a fraction of the beat


def _parse_rows(rows: Mapping[str, str], meter: tuple[int, int]) -> list[_RawHit]:
    """Parse piece rows written for a meter into hits per beat group."""
    groups = len(meter_groups(meter))
    hits: list[_RawHit] = []
    for piece, text in rows.items():
        if piece not in GM_PITCH_BY_PIECE:
            raise ValueError(f"unknown kit piece {piece!r}")
        if not text:
            continue
        for group, segment in enumerate(_segments(text, groups)):
            steps = len(segment)
            for step, glyph in enumerate(segment):
                if glyph in _REST_GLYPHS:
                    continue
                if glyph not in _LEVEL_BY_GLYPH:
                    raise ValueError(f"unknown glyph {glyph!r} in {text!r}")
                roll = 2 if glyph == "r" else 3 if glyph == "t" else 1
                hits.append(
                    _RawHit(
                        group, step / steps, piece, _LEVEL_BY_GLYPH[glyph], steps % 3 == 0, roll, 1 / steps
                    )
                )
    return hits


# How much a hit on a beat carries the groove's backbeat, by piece and level: when a bar is
# shortened, the beats that carry most of it are the ones kept (a one-drop keeps its drop on 3).
_BACKBEAT_PIECES = frozenset({"snare", "cross_stick", "clap", "snare_rim"})
_BACKBEAT_LEVEL_WEIGHT = {"accent": 1.5, "normal": 1.0, "soft": 0.5, "ghost": 0.0}


def _backbeat_weights(raw: list[_RawHit], groups: int) -> list[float] | None:
    """The backbeat carried on each beat group (snare-family hits on the beat, by level); None without one.

    A backbeat is at most a stroke every other beat: a busier snare line (a samba's) is a
    pattern that the plain shortening keeps as well as any.
    """
    strokes = [h for h in raw if h.piece in _BACKBEAT_PIECES and h.level != "ghost"]
    if len(strokes) > groups // 2:
        return None
    weights = [0.0] * groups
    for hit in strokes:
        if hit.frac == 0.0:
            weights[hit.group] += _BACKBEAT_LEVEL_WEIGHT[hit.level]
    return weights


@functools.cache
def _core_backbeat_weights(key: str) -> list[float] | None:
    """_backbeat_weights of a style's core in its own meter, parsed once (every adaptation asks)."""
    style = STYLES[key]
    return _backbeat_weights(_parse_rows(style.core, style.meter), len(meter_groups(style.meter)))


def _group_map(source_groups: int, target_groups: int, weights: list[float] | None = None) -> list[int]:
    """Which source beat each target beat plays: keep the last beat when shortening, repeat the middle when longer.

    With the source beats' backbeat weights, a shortened bar keeps the beats that carry the
    backbeat when the last ones do not (snare on 3 only: the one-drop, trap, half-time).
    """
    if target_groups == source_groups:
        return list(range(source_groups))
    if target_groups < source_groups:
        plain = [*range(target_groups - 1), source_groups - 1]
        if weights is None:
            return plain
        # Beat 1 stays; of the others, the heaviest (the earlier of equals, so the backbeat
        # lands late in the shorter bar, as the drop on 3 of a 3/4 one-drop) in their order.
        ranked = sorted(range(1, source_groups), key=lambda g: (-weights[g], g))
        heaviest = [0, *sorted(ranked[: target_groups - 1])]
        kept = sum(weights[g] for g in heaviest)
        return heaviest if kept > sum(weights[g] for g in plain) else plain
    extra = [
        source_groups - 2 + i % 2 if source_groups >= 2 else 0 for i in range(target_groups - source_groups)
    ]
    return [*range(source_groups), *extra]


def _adapt(
    raw: list[_RawHit], source: tuple[int, int], target: tuple[int, int], style: Style, *, pulse: bool
) -> tuple[Hit, ...]:
    """Move hits written in the source meter into the target meter (see the module notes)."""
    if target == (7, 8):
        # 7/8 plays the 4/4 bar without its last 8th (grouped 2+2+3).
        four = _adapt(raw, source, (4, 4), style, pulse=pulse)
        limit = ticks_per_bar((7, 8), TICKS_PER_BEAT)
        return tuple(h for h in four if h.tick < limit)
    src_compound = is_compound(source)
    dst_compound = is_compound(target)
    groups = meter_groups(target)
    source_groups = len(meter_groups(source))
    # The style's own bar: its core says where the backbeat is.
    weights = _core_backbeat_weights(style.key) if source == style.meter else None
    mapping = _group_map(source_groups, len(groups), weights)
    by_group: dict[int, list[_RawHit]] = {}
    for hit in raw:
        by_group.setdefault(hit.group, []).append(hit)
    out: list[Hit] = []
    for target_group, source_group in enumerate(mapping):
        start, length = groups[target_group]
        members = by_group.get(source_group, [])
        if pulse and dst_compound and not src_compound:
            members = _compound_pulse(members, style.timekeeper)
        for hit in members:
            out.extend(_place(hit, start, length, src_compound, dst_compound, style))
    out.sort(key=lambda h: (h.tick, h.piece))
    return tuple(out)


def _compound_pulse(members: list[_RawHit], timekeeper: str) -> list[_RawHit]:
    """A time-keeping cymbal playing 8ths (or 16ths) keeps that pulse in a compound beat."""
    keeper = [h for h in members if h.piece == timekeeper]
    density = len(keeper)
    if density < 2:
        return members
    steps = 6 if density >= 4 else 3
    first = keeper[0]
    pulse = [
        _RawHit(first.group, i / steps, timekeeper, first.level if i == 0 else "normal", True, 1, 1 / steps)
        for i in range(steps)
    ]
    return [h for h in members if h.piece != timekeeper] + pulse


def _place(
    hit: _RawHit, start: int, length: int, src_compound: bool, dst_compound: bool, style: Style
) -> list[Hit]:
    frac = hit.frac
    if dst_compound:
        if not src_compound and not hit.triplet:
            frac = straight_to_compound(frac)
        swings = False
    elif src_compound or hit.triplet:
        if style.triplet_feel:
            frac = triplet_to_straight(frac)
            swings = True
        else:
            swings = False
    else:
        swings = True
    tick = start + round(frac * length)
    step_ticks = hit.step_frac * length
    hits = [Hit(tick, hit.piece, hit.level, swings)]
    for stroke in range(1, hit.roll):
        hits.append(Hit(tick, hit.piece, "soft", swings, round(stroke * step_ticks / hit.roll)))
    return hits


def parse_fill(text: str) -> Fill:
    """Parse a fill written beat by beat ("SsSs|HhMm") with [..] for simultaneous pieces."""
    beats = []
    for segment in text.replace(" ", "").split("|"):
        steps: list[list[tuple[str, str]]] = []
        i = 0
        while i < len(segment):
            char = segment[i]
            if char == "[":
                end = segment.index("]", i)
                steps.append([_fill_glyph(c, text) for c in segment[i + 1 : end]])
                i = end + 1
                continue
            steps.append([] if char in _REST_GLYPHS else [_fill_glyph(char, text)])
            i += 1
        if not steps:
            raise ValueError(f"fill {text!r} has an empty beat")
        events = tuple((step, piece, level) for step, hits in enumerate(steps) for piece, level in hits)
        beats.append((len(steps), events))
    return Fill(beats=tuple(beats), text=text)


def _fill_glyph(char: str, text: str) -> tuple[str, str]:
    if char == "g":
        return ("snare", "ghost")
    piece = _FILL_PIECES.get(char.upper())
    if piece is None:
        raise ValueError(f"unknown fill glyph {char!r} in {text!r}")
    return (piece, "accent" if char.isupper() else "normal")


def place_fill(fill: Fill, groups: tuple[tuple[int, int], ...]) -> list[Hit]:
    """Place a fill on the last beat groups given; a shorter fill is led in by repeating its first beat."""
    beats = list(fill.beats)
    if len(beats) > len(groups):
        beats = beats[len(beats) - len(groups) :]
    while len(beats) < len(groups):
        beats.insert(0, beats[0])
    hits: list[Hit] = []
    for (start, length), (steps, events) in zip(groups, beats, strict=True):
        compound_group = length != TICKS_PER_BEAT
        triplet = steps % 3 == 0
        for step, piece, level in events:
            frac = step / steps
            if compound_group:
                if not triplet:
                    frac = straight_to_compound(frac)
                swings = False
            else:
                swings = not triplet  # triplet fills stay true triplets in every style
            hits.append(Hit(start + round(frac * length), piece, level, swings))
    return hits


# ------------------------------------------------------------------ loading


def _meter(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d+)/(\d+)", text)
    if not match:
        raise ValueError(f"bad meter {text!r}")
    meter = (int(match[1]), int(match[2]))
    if meter not in SUPPORTED_TIME_SIGNATURES:
        raise ValueError(f"unsupported meter {text!r}")
    return meter


def _rows(data: Any) -> Mapping[str, str]:
    return MappingProxyType({str(k): str(v) for k, v in dict(data).items()})


def _build_style(key: str, data: dict[str, Any], fillsets: dict[str, list[str]]) -> Style:
    tempo = [float(v) for v in data["tempo"]]
    unit, percent = data["swing"]
    fills: list[Fill] = []
    for name in data.get("fills", []):
        fills.extend(parse_fill(text) for text in fillsets[name])
    # Every style can play in 6/8 and 12/8, so each has triplet fills there; in simple meters
    # only the fill sets it names (a bossa nova does not break into a triplet tom roll).
    compound_fills = [f for f in fills if f.triplet_only]
    if "triplet" not in data.get("fills", []):
        compound_fills.extend(parse_fill(text) for text in fillsets["triplet"])
    meters = {}
    for meter_text, section in data.get("meters", {}).items():
        meters[_meter(meter_text)] = (
            _rows(section["core"]),
            tuple(_rows(a) for a in section.get("alts", [])),
        )
    style = Style(
        key=key,
        title=str(data["title"]),
        meter=_meter(data["meter"]),
        tempo_min=tempo[0],
        tempo_max=tempo[1],
        tempo_typical=tempo[2],
        swing_unit=int(unit),
        swing_percent=float(percent),
        triplet_feel=bool(data.get("triplet_feel", False)),
        ghost_share=float(data["ghost_share"]),
        crash_after_fill=bool(data["crash_after_fill"]),
        hat_accent=str(data["hat_accent"]),
        timekeeper=str(data["timekeeper"]),
        swap=str(data.get("swap", "")),
        timing_ms=MappingProxyType({str(k): float(v) for k, v in data.get("timing", {}).items()}),
        fills=tuple(fills),
        compound_fills=tuple(compound_fills),
        core=_rows(data["core"]),
        alts=tuple(_rows(a) for a in data.get("alts", [])),
        vary=_rows(data.get("vary", {})),
        vary_prob=float(data.get("vary_prob", 0.0)),
        open_hat=str(data.get("open_hat", "")),
        ghosts=str(data.get("ghosts", "")),
        jitter_ms=float(data.get("jitter_ms", 6.0)),
        velocity_std=float(data.get("velocity_std", 14.0)),
        fill_density=float(data.get("fill_density", 0.5)),
        under_fills=frozenset(str(piece) for piece in data.get("under_fills", ["hihat_pedal"])),
        meters=MappingProxyType(meters),
    )
    _check_style(style)
    return style


def _check_style(style: Style) -> None:
    if style.swing_unit not in (8, 16) or not 50 <= style.swing_percent < 75:
        raise ValueError(f"style {style.key}: bad swing")
    if style.hat_accent not in HAT_ACCENTS:
        raise ValueError(f"style {style.key}: bad hat_accent")
    if not 0.0 <= style.fill_density <= 1.0 or style.jitter_ms < 0 or style.velocity_std < 0:
        raise ValueError(f"style {style.key}: bad feel (jitter_ms, velocity_std or fill_density)")
    if not style.tempo_min <= style.tempo_typical <= style.tempo_max:
        raise ValueError(f"style {style.key}: typical tempo outside its range")
    for piece in (style.timekeeper, style.swap or style.timekeeper, *style.timing_ms, *style.under_fills):
        if piece not in GM_PITCH_BY_PIECE:
            raise ValueError(f"style {style.key}: unknown kit piece {piece!r}")


@functools.cache
def load_styles() -> Mapping[str, Style]:
    """Parse style_library.toml once into immutable styles keyed by style key."""
    text = resources.files("mididrumigen.generation").joinpath("style_library.toml").read_text("utf-8")
    data = tomllib.loads(text)
    fillsets = data["fillsets"]
    return MappingProxyType({key: _build_style(key, body, fillsets) for key, body in data["styles"].items()})


STYLES: Mapping[str, Style] = load_styles()
STYLE_KEYS: tuple[str, ...] = tuple(STYLES)


def normalize_style_name(name: str) -> str:
    """Fold a typed style name ('Hip Hop', 'boom-bap', 'D&B') to the library's key form."""
    text = name.strip().lower().replace("&", "_and_").replace("'n'", "_n_")
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


def get_style(name: str) -> Style:
    """Return a style by key or alias, or raise ValueError listing the known styles."""
    key = normalize_style_name(name)
    key = _ALIASES.get(key, key)
    style = STYLES.get(key)
    if style is None:
        raise ValueError(f"unknown style {name!r} (known styles: {', '.join(STYLE_KEYS)})")
    return style


@functools.cache
def meter_patterns(key: str, meter: tuple[int, int]) -> MeterPatterns:
    """A style's core, alternatives and variation rules adapted to a meter (cached)."""
    style = STYLES[key]
    source = style.meter
    if meter in style.meters:
        core_rows, alt_rows = style.meters[meter]
        core = _adapt(_parse_rows(core_rows, meter), meter, meter, style, pulse=False)
        alts = tuple(
            _adapt(_parse_rows({**core_rows, **alt}, meter), meter, meter, style, pulse=False)
            for alt in alt_rows
        )
    else:
        core = _adapt(_parse_rows(style.core, source), source, meter, style, pulse=True)
        alts = tuple(
            _adapt(_parse_rows({**style.core, **alt}, source), source, meter, style, pulse=True)
            for alt in style.alts
        )
    vary = _adapt(_parse_rows(style.vary, source), source, meter, style, pulse=False)
    open_spots = tuple(
        h.tick
        for h in _adapt(
            _parse_rows({"hihat_open": style.open_hat}, source), source, meter, style, pulse=False
        )
    )
    ghost_hits = _adapt(_parse_rows({"snare": style.ghosts}, source), source, meter, style, pulse=False)
    groups = meter_groups(meter)
    return MeterPatterns(
        meter=meter,
        bar_ticks=ticks_per_bar(meter, TICKS_PER_BEAT),
        groups=groups,
        compound=is_compound(meter),
        core=core,
        alts=alts,
        vary=vary,
        open_spots=open_spots,
        ghost_spots=tuple(h.tick for h in ghost_hits),
        ghost_grid=_ghost_grid(groups, is_compound(meter), style.triplet_feel),
        ghost_last_resort=_ghost_last_resort(groups, is_compound(meter), style.triplet_feel),
    )


def _ghost_last_resort(
    groups: tuple[tuple[int, int], ...], compound: bool, triplet_feel: bool
) -> tuple[int, ...]:
    """The beats (never the downbeat) and, in 6/8 or 12/8, the 16ths between the 8ths.

    Not in a triplet feel, whose 8ths are the finest.
    """
    beats = [start for start, _ in groups[1:]]
    if not compound or triplet_feel:
        return tuple(beats)
    step = TICKS_PER_BEAT // 2
    return (
        *beats,
        *(start + tick for start, length in groups for tick in range(TICKS_PER_BEAT // 4, length, step)),
    )


def _ghost_grid(groups: tuple[tuple[int, int], ...], compound: bool, triplet_feel: bool) -> tuple[int, ...]:
    """Ticks a ghost note may use: off-beat 16ths (straight), triplet partials (shuffle), 8ths (compound)."""
    ticks: list[int] = []
    for start, length in groups:
        if compound or length != TICKS_PER_BEAT:
            fracs: tuple[float, ...] = (1 / 3, 2 / 3)
        elif triplet_feel:
            fracs = (0.25, 0.5)  # the straight images of the 2nd and 3rd triplet
        else:
            fracs = (0.25, 0.75, 0.5)
        ticks.extend(start + round(f * length) for f in fracs)
    return tuple(ticks)
