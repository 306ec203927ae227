"""Drum maps: which MIDI note plays which kit piece in a given drum instrument.

Generation works in canonical kit pieces (``mididrumigen.midi.kit``) at General
MIDI pitches; a drum map translates them to what a target instrument expects.
Each built-in map lists only the pieces that instrument's default layout really
has: a kit without a cowbell has no ``cowbell`` entry, and translating a cowbell
to it is an error (or the note is dropped when the caller asks for that), never
a silent substitution with another drum.

Extra "alias" pitches are other notes the same instrument plays for a piece
(edge hits, rimshots of a tom, a second floor tom); they are only used when
reading a file in that map, never when writing one.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from mididrumigen.files import read_limited
from mididrumigen.midi.kit import GM_PITCH_BY_PIECE, kit_class_of_pitch
from mididrumigen.midi.notes import NOTE_ORDER, Clip, Note

MAX_MAP_FILE_BYTES = 256 * 1024
# Where clip_in_gm puts a note its map does not know: no kit piece in General MIDI (nor in the
# GMD's fold), so an analysis still hears the hit's timing, as percussion outside the kit.
UNMAPPED_PITCH = 0
# likely_drum_map: a file looks made for another kit when General MIDI has no kit piece for at
# least this share of its notes, while exactly one built-in map has one for at least the next,
# and the file has this many notes at least. Set so that none of the 1,021 GMD files and none of
# the groove engine's General MIDI files gets a hint.
HINT_GM_MISSES = 0.1
HINT_MAP_EXPLAINS = 0.95
HINT_MIN_NOTES = 8
TIME_CLASSES = ("hihat_closed", "hihat_open", "ride")  # the kit classes a groove keeps time on


@dataclass(frozen=True)
class DrumMap:
    """A named drum layout: canonical kit piece -> MIDI pitch, plus read-only alias pitches."""

    name: str
    description: str
    pitch_by_piece: dict[str, int]
    alias_pitches: dict[int, str] = field(default_factory=dict)
    piece_by_pitch: dict[int, str] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        for piece, pitch in self.pitch_by_piece.items():
            _check_piece(piece, self.name)
            _check_pitch(pitch, f"drum map {self.name!r}: {piece}")
        for pitch, piece in self.alias_pitches.items():
            _check_piece(piece, self.name)
            _check_pitch(pitch, f"drum map {self.name!r}: alias of {piece}")
        # One note, one kit piece: a file written for the map could not say which piece a shared note plays,
        # nor could a file made for it be read back. (No built-in map shares a note; a piece the kit lacks
        # is left out, and its hits move to the closest piece the kit has.)
        by_pitch: dict[int, str] = {}
        for piece, pitch in self.pitch_by_piece.items():
            other = by_pitch.setdefault(pitch, piece)
            if other != piece:
                raise ValueError(
                    f"drum map {self.name!r}: {other} and {piece} are both on note {pitch}; give each kit piece its"
                    " own note (leave out a piece the kit lacks: its hits move to the closest piece it has)"
                )
        for pitch, piece in self.alias_pitches.items():
            other = by_pitch.setdefault(pitch, piece)
            if other != piece:
                raise ValueError(
                    f"drum map {self.name!r}: note {pitch} is {other}'s, so it cannot also be an alias of {piece}"
                )
        object.__setattr__(self, "piece_by_pitch", by_pitch)

    def __hash__(self) -> int:
        return hash((self.name, tuple(sorted(self.pitch_by_piece.items()))))

    def pitch_of(self, piece: str) -> int:
        """Return this map's pitch for a kit piece, or raise ValueError naming the missing piece."""
        pitch = self.pitch_by_piece.get(piece)
        if pitch is None:
            raise ValueError(f"drum map {self.name!r} has no {piece}")
        return pitch


def _check_piece(piece: object, map_name: str) -> None:
    if not isinstance(piece, str) or piece not in GM_PITCH_BY_PIECE:
        known = ", ".join(sorted(GM_PITCH_BY_PIECE))
        raise ValueError(f"drum map {map_name!r}: unknown kit piece {piece!r} (known pieces: {known})")


def _check_pitch(pitch: object, where: str) -> None:
    if not isinstance(pitch, int) or isinstance(pitch, bool) or not 0 <= pitch <= 127:
        raise ValueError(f"{where}: pitch must be an integer from 0 to 127, got {pitch!r}")


# General MIDI Level 1 percussion key map (channel 10), the program's own vocabulary.
# Aliases: the GM notes for a second kick, a sixth tom and a second ride.
GM = DrumMap(
    name="gm",
    description="General MIDI (GM Level 1 percussion key map, channel 10): the default",
    pitch_by_piece=dict(GM_PITCH_BY_PIECE),
    alias_pitches={35: "kick", 48: "tom_high", 41: "tom_floor", 59: "ride"},
)

# Ableton Live Drum Rack: a Drum Rack shows 16 pads, C1 (36) to D#2 (51), and
# Live's Core Library acoustic and electronic kits fill them in General MIDI order
# (kick C1, rim C#1, snare D1, clap D#1, closed hat F#1, pedal hat G#1, open hat
# A#1, toms F1..D2, crash C#2, ride D#2). Source: Sound On Sound, "Hands On:
# Ableton Tips & Techniques", Oct 2015 ("The Drum Rack default view's 16 pads span
# C1 to D#2"), and the GM key map. Ride bell, second crash, china, splash and the
# Latin percussion sit outside those 16 pads, so this map lacks them.
ABLETON = DrumMap(
    name="ableton",
    description="Ableton Live Drum Rack default 16 pads, C1 (36) to D#2 (51), GM order",
    pitch_by_piece={
        "kick": 36,
        "cross_stick": 37,
        "snare": 38,
        "clap": 39,
        "snare_rim": 40,
        "tom_floor": 43,
        "hihat_closed": 42,
        "hihat_pedal": 44,
        "tom_low": 45,
        "hihat_open": 46,
        "tom_mid": 47,
        "crash": 49,
        "tom_high": 50,
        "ride": 51,
    },
    alias_pitches={41: "tom_floor", 48: "tom_high"},
)

# Toontrack's standard (GM-compatible) map, shared by EZdrummer 2/3 and the
# Superior Drummer 3 core library; per-expansion layouts (EZX/SDX) may move
# cymbals. Sources: the EZdrummer 2 MIDI layout charts (Menu > About Sound
# Libraries > MIDI Layout) as transcribed in public remapping projects: 21 hats
# pedal closed, 22 hats closed edge, 23 hats pedal open, 24-26 hats open 1-3,
# 36 kick, 37 sidestick, 38 snare, 40 snare rimshot, 41 floor tom 2, 42 hats
# closed tip, 43 floor tom 1, 44 hats pedal, 45 rack tom 3, 46 hats open 2,
# 47 rack tom 2, 48 rack tom 1, 49 crash 1, 51 ride tip, 52 china, 53 ride bell,
# 55 splash, 56 cowbell, 57 crash 2, 59 ride edge, 60 hats open 5, 62/63 hats
# tight edge/tip. Tambourine and shaker are velocity-split pads on notes outside
# the kit (Toontrack FAQ "How do I trigger the EZdrummer 2 percussion"), so they
# are left out.
_TOONTRACK_PIECES: dict[str, int] = {
    "kick": 36,
    "cross_stick": 37,
    "snare": 38,
    "snare_rim": 40,
    "hihat_closed": 42,
    "hihat_pedal": 44,
    "hihat_open": 46,
    "tom_high": 48,
    "tom_mid": 47,
    "tom_low": 45,
    "tom_floor": 43,
    "crash": 49,
    "crash2": 57,
    "china": 52,
    "splash": 55,
    "ride": 51,
    "ride_bell": 53,
    "cowbell": 56,
}
_TOONTRACK_ALIASES: dict[int, str] = {
    21: "hihat_pedal",
    22: "hihat_closed",
    23: "hihat_open",
    24: "hihat_open",
    25: "hihat_open",
    26: "hihat_open",
    41: "tom_floor",
    50: "tom_high",
    59: "ride",
    60: "hihat_open",
    62: "hihat_closed",
    63: "hihat_closed",
}
EZDRUMMER = DrumMap(
    name="ezdrummer",
    description="Toontrack EZdrummer 2/3 standard MIDI map (GM-compatible core)",
    pitch_by_piece=dict(_TOONTRACK_PIECES),
    alias_pitches=dict(_TOONTRACK_ALIASES),
)
SUPERIOR = DrumMap(
    name="superior",
    description="Toontrack Superior Drummer 3 default MIDI map (same core as EZdrummer)",
    pitch_by_piece=dict(_TOONTRACK_PIECES),
    alias_pitches=dict(_TOONTRACK_ALIASES),
)

# XLN Audio Addictive Drums 2, default keymap ("Addictive Drums 2 Keymap", XLN
# Audio; as transcribed in public projects): 36 kick, 37 snare rimshot, 38 snare
# open hit, 42 sidestick, 48 hi-hat pedal closed, 49 closed 1 tip, 54-57 open
# A-D, 59 pedal open, 60 ride 1 tip, 61 ride 1 bell, 62 ride shaft, 71/69/67/65
# tom 1-4 open hit (72/70/68/66 their rimshots), 77/79/81 cymbal 1-3 (78/80/82
# chokes). Cymbals 3-6 and the Flexi slots change with the kit (china, splash,
# cowbell, tambourine...), so this map has only the two crashes and the ride.
AD2 = DrumMap(
    name="ad2",
    description="XLN Audio Addictive Drums 2 default keymap",
    pitch_by_piece={
        "kick": 36,
        "snare": 38,
        "snare_rim": 37,
        "cross_stick": 42,
        "hihat_closed": 49,
        "hihat_pedal": 48,
        "hihat_open": 56,
        "tom_high": 71,
        "tom_mid": 69,
        "tom_low": 67,
        "tom_floor": 65,
        "crash": 77,
        "crash2": 79,
        "ride": 60,
        "ride_bell": 61,
    },
    alias_pitches={
        39: "snare_rim",
        40: "snare",
        41: "snare_rim",
        43: "snare",
        50: "hihat_closed",
        51: "hihat_closed",
        52: "hihat_closed",
        53: "hihat_closed",
        54: "hihat_open",
        55: "hihat_open",
        57: "hihat_open",
        58: "hihat_open",
        62: "ride",
        66: "tom_floor",
        68: "tom_low",
        70: "tom_mid",
        72: "tom_high",
    },
)

# Logic Pro Drum Kit Designer: "Drum Kit Designer is compatible with the GM
# standard" (Apple, Logic Pro User Guide, "Drum Kit Designer mappings"), with its
# acoustic kits' six toms, hats, two crashes, ride and bell, plus the clap,
# tambourine and cowbell of the GM slots. Its kits have no china or splash.
LOGIC = DrumMap(
    name="logic",
    description="Logic Pro Drum Kit Designer (GM mapping)",
    pitch_by_piece={
        "kick": 36,
        "cross_stick": 37,
        "snare": 38,
        "clap": 39,
        "snare_rim": 40,
        "hihat_closed": 42,
        "hihat_pedal": 44,
        "hihat_open": 46,
        "tom_high": 50,
        "tom_mid": 47,
        "tom_low": 45,
        "tom_floor": 43,
        "crash": 49,
        "crash2": 57,
        "ride": 51,
        "ride_bell": 53,
        "tambourine": 54,
        "cowbell": 56,
    },
    alias_pitches={35: "kick", 41: "tom_floor", 48: "tom_high", 59: "ride"},
)

# Roland V-Drums TD-11, the kit the Groove MIDI Dataset was recorded on (GMD
# README and Gillick et al. 2019, Table "Roland mapping"): 36 kick, 38 snare
# head, 40 snare rim, 37 cross stick, 48/50 tom 1 head/rim, 45/47 tom 2, 43/58
# tom 3 (floor), 46/26 hi-hat open bow/edge, 42/22 closed bow/edge, 44 pedal,
# 49/55 crash 1 bow/edge, 57/52 crash 2 bow/edge, 51/59 ride bow/edge, 53 bell.
# It has three toms (the third is the floor tom), so it lacks tom_low, and no
# china, splash or percussion pads.
ROLAND = DrumMap(
    name="roland",
    description="Roland V-Drums TD-11 default note map (the Groove MIDI Dataset's pitches)",
    pitch_by_piece={
        "kick": 36,
        "snare": 38,
        "snare_rim": 40,
        "cross_stick": 37,
        "hihat_closed": 42,
        "hihat_pedal": 44,
        "hihat_open": 46,
        "tom_high": 48,
        "tom_mid": 45,
        "tom_floor": 43,
        "crash": 49,
        "crash2": 57,
        "ride": 51,
        "ride_bell": 53,
    },
    alias_pitches={
        22: "hihat_closed",
        26: "hihat_open",
        50: "tom_high",
        47: "tom_mid",
        58: "tom_floor",
        55: "crash",
        52: "crash2",
        59: "ride",
    },
)

BUILTIN_MAPS: dict[str, DrumMap] = {m.name: m for m in (GM, ABLETON, EZDRUMMER, SUPERIOR, AD2, LOGIC, ROLAND)}
DRUM_MAP_NAMES: tuple[str, ...] = tuple(BUILTIN_MAPS)

_ALIASES: dict[str, str] = {
    "general-midi": "gm",
    "general_midi": "gm",
    "generalmidi": "gm",
    "ableton-live": "ableton",
    "drum-rack": "ableton",
    "drumrack": "ableton",
    "ezd": "ezdrummer",
    "ezd2": "ezdrummer",
    "ezd3": "ezdrummer",
    "ezdrummer2": "ezdrummer",
    "ezdrummer3": "ezdrummer",
    "toontrack": "ezdrummer",
    "sd3": "superior",
    "superior-drummer": "superior",
    "superiordrummer": "superior",
    "superior-drummer-3": "superior",
    "addictive": "ad2",
    "addictive-drums": "ad2",
    "addictive-drums-2": "ad2",
    "addictivedrums": "ad2",
    "xln": "ad2",
    "logic-pro": "logic",
    "drum-kit-designer": "logic",
    "dkd": "logic",
    "roland-td": "roland",
    "td-11": "roland",
    "td11": "roland",
    "v-drums": "roland",
    "gmd": "roland",
}


def builtin_drum_map(name: str) -> DrumMap | None:
    """The built-in map a name gives, in any case or by alias; None if it names no built-in map."""
    key = name.strip().lower().replace(" ", "-")
    return BUILTIN_MAPS.get(_ALIASES.get(key, key))


def names_a_map_file(text: str) -> bool:
    """Whether text (spaces around it ignored) reads as the path of a user map file, not a map's name."""
    text = text.strip()
    return text.lower().endswith((".toml", ".json")) or "/" in text or "\\" in text


def get_drum_map(name_or_path: str | Path | DrumMap) -> DrumMap:
    """Return a built-in map by name (case-insensitive, with aliases) or load a user map file."""
    if isinstance(name_or_path, DrumMap):
        return name_or_path
    if isinstance(name_or_path, Path):
        return load_drum_map_file(name_or_path)
    text = name_or_path.strip()
    builtin = builtin_drum_map(text)
    if builtin is not None:
        return builtin
    if names_a_map_file(text):
        return load_drum_map_file(Path(text))
    raise ValueError(
        f"unknown drum map {text!r} (known maps: {', '.join(DRUM_MAP_NAMES)}; or a .toml/.json file)"
    )


def load_drum_map_file(path: Path) -> DrumMap:
    """Load a user drum map from TOML or JSON: a name and a table of piece = pitch."""
    raw = read_limited(path, MAX_MAP_FILE_BYTES, "drum map file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"drum map file {path} is not utf-8 text") from None
    data: Any
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(
                f"drum map file {path} is not valid json: {exc.msg} (line {exc.lineno})"
            ) from None
    else:
        import tomllib  # only user map files need it

        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"drum map file {path} is not valid toml: {exc}") from None
    return drum_map_from_data(data, default_name=path.stem)


def drum_map_from_data(data: Any, default_name: str = "custom") -> DrumMap:
    """Build a drum map from parsed TOML/JSON: name, description, pieces and optional aliases."""
    if not isinstance(data, dict):
        raise ValueError("drum map must be a table with a 'pieces' table of piece = pitch")
    name = data.get("name", default_name)
    if not isinstance(name, str) or not name.strip():
        raise ValueError("drum map name must be a non-empty string")
    name = name.strip()
    description = data.get("description", f"user drum map {name}")
    if not isinstance(description, str):
        raise ValueError(f"drum map {name!r}: description must be a string")
    pieces = data.get("pieces")
    if not isinstance(pieces, dict) or not pieces:
        raise ValueError(f"drum map {name!r} needs a non-empty 'pieces' table of piece = pitch")
    aliases_raw = data.get("aliases", {})
    if not isinstance(aliases_raw, dict):
        raise ValueError(f"drum map {name!r}: 'aliases' must be a table of piece = [pitches]")
    alias_pitches: dict[int, str] = {}
    for piece, pitches in aliases_raw.items():
        values = pitches if isinstance(pitches, list) else [pitches]
        for pitch in values:
            _check_piece(piece, name)
            _check_pitch(pitch, f"drum map {name!r}: alias of {piece}")
            other = alias_pitches.setdefault(pitch, piece)
            if other != piece:
                raise ValueError(f"drum map {name!r}: note {pitch} is an alias of both {other} and {piece}")
    return DrumMap(
        name=name, description=description, pitch_by_piece=dict(pieces), alias_pitches=alias_pitches
    )


def piece_of_pitch(drum_map: DrumMap | str, pitch: int) -> str | None:
    """Return the kit piece a pitch plays in this map (aliases included), or None."""
    return get_drum_map(drum_map).piece_by_pitch.get(pitch)


def translate_clip(
    clip: Clip,
    source: DrumMap | str,
    target: DrumMap | str,
    *,
    drop_missing: bool = False,
) -> Clip:
    """Return a copy of the clip with pitches moved from one map to another via kit pieces.

    A pitch the source map does not know, or a piece the target lacks, raises
    ValueError naming it, unless ``drop_missing`` is set: then those notes are left out.
    """
    src = get_drum_map(source)
    dst = get_drum_map(target)
    notes: list[Note] = []
    dropped = 0
    for note in clip.notes:
        piece = src.piece_by_pitch.get(note.pitch)
        if piece is None:
            if drop_missing:
                dropped += 1
                continue
            raise ValueError(f"pitch {note.pitch} is not a kit piece in drum map {src.name!r}")
        pitch = dst.pitch_by_piece.get(piece)
        if pitch is None:
            if drop_missing:
                dropped += 1
                continue
            raise ValueError(f"drum map {dst.name!r} has no {piece}")
        notes.append(note._replace(pitch=pitch))
    meta = dict(clip.meta)
    meta["drum_map"] = dst.name
    if dropped:
        meta["dropped_notes"] = meta.get("dropped_notes", 0) + dropped
    return replace(clip, notes=notes, meta=meta)


def clip_in_gm(clip: Clip, source: DrumMap | str) -> tuple[Clip, Counter[int]]:
    """Read a clip written for a drum map at General MIDI pitches, for analysis.

    Returns the clip and, per pitch the map does not know, how many notes were on it: those
    notes keep their time and velocity on UNMAPPED_PITCH (percussion outside the kit), so they
    still count for the timing but are never taken for a kit piece. A General MIDI map reads
    the clip as it is (the analysis already knows GM and the Roland extras of the GMD).
    """
    src = get_drum_map(source)
    if src is GM:
        return clip, Counter()
    notes: list[Note] = []
    unknown: Counter[int] = Counter()
    for note in clip.notes:
        piece = src.piece_by_pitch.get(note.pitch)
        if piece is None:
            unknown[note.pitch] += 1
        notes.append(note._replace(pitch=UNMAPPED_PITCH if piece is None else GM.pitch_by_piece[piece]))
    notes.sort(key=NOTE_ORDER)  # GM may order the notes at one time otherwise than the map did
    return replace(clip, notes=notes, meta={**clip.meta, "drum_map": GM.name}), unknown


def _kit_classes(pitches: list[int], drum_map: DrumMap) -> list[str | None]:
    """Each note's kit class (None: outside the kit) when the pitches are read in a drum map."""
    if drum_map is GM:
        return [kit_class_of_pitch(p) for p in pitches]
    pieces = [drum_map.piece_by_pitch.get(p) for p in pitches]
    return [kit_class_of_pitch(GM_PITCH_BY_PIECE[piece]) if piece else None for piece in pieces]


def _keeps_time(classes: list[str | None]) -> bool:
    """Whether the piece played most, kick and snare aside, is a hi-hat or the ride, as in a groove."""
    others = Counter(c or "other" for c in classes if c not in ("kick", "snare"))
    return bool(others) and others.most_common(1)[0][0] in TIME_CLASSES


def likely_drum_map(pitches: Iterable[int]) -> DrumMap | None:
    """The one built-in map a drum file that reads oddly as General MIDI seems to be written for, or None.

    Read as General MIDI, HINT_GM_MISSES of the notes must be on no kit piece and the piece played
    most (kick and snare aside) must be no hi-hat or ride; read in exactly one built-in map (maps of
    the same layout count as one), HINT_MAP_EXPLAINS of them must be kit pieces and the piece played
    most a hi-hat or the ride. A plain Addictive Drums 2 beat (kick, snare, hi-hat on the GM crash's
    pitch) cannot be told from a groove ridden on the crash, so it gets no answer.
    """
    notes = list(pitches)
    if len(notes) < HINT_MIN_NOTES:
        return None
    in_gm = _kit_classes(notes, GM)
    if in_gm.count(None) < HINT_GM_MISSES * len(notes) or _keeps_time(in_gm):
        return None
    found: dict[tuple[tuple[int, str], ...], DrumMap] = {}
    for drum_map in BUILTIN_MAPS.values():
        classes = _kit_classes(notes, drum_map)
        if classes == in_gm or classes.count(None) > (1.0 - HINT_MAP_EXPLAINS) * len(notes):
            continue
        if _keeps_time(classes):
            found.setdefault(tuple(sorted(drum_map.piece_by_pitch.items())), drum_map)
    return next(iter(found.values())) if len(found) == 1 else None
