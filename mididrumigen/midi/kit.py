"""Kit pieces: the one vocabulary for drums inside the program, with General MIDI pitches."""

from __future__ import annotations

# Canonical kit piece -> General MIDI (channel 10) pitch. Generation works in
# these names; drum maps translate them to a target kit's pitches on export.
GM_PITCH_BY_PIECE: dict[str, int] = {
    "kick": 36,
    "snare": 38,
    "snare_rim": 40,
    "cross_stick": 37,
    "clap": 39,
    "hihat_closed": 42,
    "hihat_pedal": 44,
    "hihat_open": 46,
    "tom_high": 50,
    "tom_mid": 47,
    "tom_low": 45,
    "tom_floor": 43,
    "crash": 49,
    "crash2": 57,
    "china": 52,
    "splash": 55,
    "ride": 51,
    "ride_bell": 53,
    "tambourine": 54,
    "cowbell": 56,
    "clave": 75,
    "shaker": 70,
    "conga_high": 63,
    "conga_low": 64,
    "timbale_high": 65,
    "timbale_low": 66,
}

# The nine kit classes the Groove MIDI Dataset folds to; analysis reports per class.
KIT_CLASSES: tuple[str, ...] = (
    "kick",
    "snare",
    "hihat_closed",
    "hihat_open",
    "tom_low",
    "tom_mid",
    "tom_high",
    "crash",
    "ride",
)

CLASS_BY_PIECE: dict[str, str] = {
    "kick": "kick",
    "snare": "snare",
    "snare_rim": "snare",
    "cross_stick": "snare",
    "clap": "snare",
    "hihat_closed": "hihat_closed",
    "hihat_pedal": "hihat_closed",
    "hihat_open": "hihat_open",
    "tom_high": "tom_high",
    "tom_mid": "tom_mid",
    "tom_low": "tom_mid",
    "tom_floor": "tom_low",
    "crash": "crash",
    "crash2": "crash",
    "china": "crash",
    "splash": "crash",
    "ride": "ride",
    "ride_bell": "ride",
    "tambourine": "hihat_closed",
    "cowbell": "ride",
    "clave": "snare",
    "shaker": "hihat_closed",
    "conga_high": "tom_high",
    "conga_low": "tom_low",
    "timbale_high": "tom_high",
    "timbale_low": "tom_mid",
}

# Pitch -> kit class for any drum file (General MIDI plus the Roland TD-11 extras
# the GMD uses), following the GMD's published fold.
CLASS_BY_PITCH: dict[int, str] = {
    35: "kick", 36: "kick",
    37: "snare", 38: "snare", 39: "snare", 40: "snare",
    22: "hihat_closed", 42: "hihat_closed", 44: "hihat_closed",
    26: "hihat_open", 46: "hihat_open",
    41: "tom_low", 43: "tom_low", 58: "tom_low",
    45: "tom_mid", 47: "tom_mid",
    48: "tom_high", 50: "tom_high",
    49: "crash", 52: "crash", 55: "crash", 57: "crash",
    51: "ride", 53: "ride", 59: "ride",
}  # fmt: skip


def kit_class_of_pitch(pitch: int) -> str | None:
    """Return the kit class a pitch folds to, or None for percussion outside the kit."""
    return CLASS_BY_PITCH.get(pitch)
