"""Drum maps: built-in layouts, user map files, lookups and translation between maps."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from mididrumigen.midi.drum_maps import (
    BUILTIN_MAPS,
    DRUM_MAP_NAMES,
    UNMAPPED_PITCH,
    DrumMap,
    clip_in_gm,
    get_drum_map,
    likely_drum_map,
    piece_of_pitch,
    translate_clip,
)
from mididrumigen.midi.kit import GM_PITCH_BY_PIECE, kit_class_of_pitch
from mididrumigen.midi.notes import Clip, Note


def clip_of(pitches: list[int]) -> Clip:
    return Clip(
        [Note(p, 90, i * 120, 60) for i, p in enumerate(pitches)], bars=4, name="t", meta={"style": "rock"}
    )


def test_builtin_names() -> None:
    assert DRUM_MAP_NAMES == ("gm", "ableton", "ezdrummer", "superior", "ad2", "logic", "roland")


@pytest.mark.parametrize("name", DRUM_MAP_NAMES)
def test_builtin_maps_are_consistent(name: str) -> None:
    drum_map = get_drum_map(name)
    assert drum_map.name == name
    assert drum_map.description
    assert set(drum_map.pitch_by_piece) <= set(GM_PITCH_BY_PIECE)
    assert {"kick", "snare", "hihat_closed", "hihat_open", "crash", "ride"} <= set(drum_map.pitch_by_piece)
    pitches = list(drum_map.pitch_by_piece.values())
    assert len(set(pitches)) == len(pitches), "two pieces share a pitch"
    assert all(0 <= p <= 127 for p in pitches)
    for pitch, piece in drum_map.alias_pitches.items():
        assert pitch not in pitches, f"alias {pitch} of {piece} hides a main pitch"
    for piece, pitch in drum_map.pitch_by_piece.items():
        assert drum_map.piece_by_pitch[pitch] == piece


def test_gm_is_the_kit_vocabulary() -> None:
    assert get_drum_map("gm").pitch_by_piece == GM_PITCH_BY_PIECE


def test_vendor_spot_checks() -> None:
    ad2 = get_drum_map("ad2").pitch_by_piece
    assert (ad2["kick"], ad2["snare"], ad2["cross_stick"], ad2["hihat_closed"], ad2["hihat_pedal"]) == (
        36,
        38,
        42,
        49,
        48,
    )
    assert (ad2["tom_high"], ad2["tom_mid"], ad2["tom_low"], ad2["tom_floor"]) == (71, 69, 67, 65)
    assert (ad2["ride"], ad2["ride_bell"], ad2["crash"]) == (60, 61, 77)
    roland = get_drum_map("roland")
    assert (
        roland.pitch_by_piece["snare_rim"],
        roland.pitch_by_piece["tom_high"],
        roland.pitch_by_piece["tom_mid"],
    ) == (40, 48, 45)
    assert "tom_low" not in roland.pitch_by_piece  # the TD-11 has three toms
    assert [roland.piece_by_pitch[p] for p in (22, 26, 58, 59, 55, 52)] == [
        "hihat_closed",
        "hihat_open",
        "tom_floor",
        "ride",
        "crash",
        "crash2",
    ]
    ableton = get_drum_map("ableton").pitch_by_piece
    assert all(36 <= p <= 51 for p in ableton.values())  # the 16 default pads
    assert (ableton["kick"], ableton["cross_stick"], ableton["snare"], ableton["clap"]) == (36, 37, 38, 39)
    ezd = get_drum_map("ezdrummer")
    assert ezd.piece_by_pitch[22] == "hihat_closed"
    assert (ezd.pitch_by_piece["tom_high"], ezd.pitch_by_piece["tom_floor"]) == (48, 43)
    assert "tambourine" not in ezd.pitch_by_piece
    assert get_drum_map("logic").pitch_by_piece["cowbell"] == 56


@pytest.mark.parametrize(
    ("alias", "name"),
    [
        ("GM", "gm"),
        ("General-MIDI", "gm"),
        ("general midi", "gm"),
        ("SD3", "superior"),
        ("Addictive", "ad2"),
        ("EZD2", "ezdrummer"),
        ("Roland", "roland"),
        ("td-11", "roland"),
        (" Ableton ", "ableton"),
    ],
)
def test_names_are_case_insensitive_with_aliases(alias: str, name: str) -> None:
    assert get_drum_map(alias).name == name


def test_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown drum map 'bfd3' \(known maps: gm, ableton, ezdrummer"):
        get_drum_map("bfd3")


def test_drum_map_passes_through() -> None:
    ad2 = get_drum_map("ad2")
    assert get_drum_map(ad2) is ad2
    assert hash(ad2) == hash(get_drum_map("addictive"))


def test_user_map_from_toml(tmp_path: Path) -> None:
    path = tmp_path / "my kit.toml"
    path.write_text(
        'name = "studio"\ndescription = "my sampler"\n[pieces]\nkick = 24\nsnare = 26\nhihat_closed = 30\n'
        "[aliases]\nsnare = [27, 28]\n",
        encoding="utf-8",
    )
    drum_map = get_drum_map(str(path))
    assert drum_map.name == "studio"
    assert drum_map.pitch_by_piece == {"kick": 24, "snare": 26, "hihat_closed": 30}
    assert piece_of_pitch(drum_map, 28) == "snare"
    assert get_drum_map(path) == drum_map
    translated = translate_clip(clip_of([36, 38, 42]), "gm", drum_map)
    assert [n.pitch for n in translated.notes] == [24, 26, 30]


def test_user_map_from_json_uses_the_file_name_when_unnamed(tmp_path: Path) -> None:
    path = tmp_path / "pads.json"
    path.write_text(json.dumps({"pieces": {"kick": 60, "snare": 62}}), encoding="utf-8")
    drum_map = get_drum_map(str(path))
    assert drum_map.name == "pads"
    assert drum_map.pitch_by_piece == {"kick": 60, "snare": 62}


@pytest.mark.parametrize(
    ("content", "suffix", "message"),
    [
        ('name = "x"\n[pieces]\nkick = 128\n', ".toml", "pitch must be an integer from 0 to 127"),
        ('name = "x"\n[pieces]\nkick = -1\n', ".toml", "pitch must be an integer from 0 to 127"),
        ('name = "x"\n[pieces]\nkick = "C1"\n', ".toml", "pitch must be an integer"),
        ('name = "x"\n[pieces]\ncowbel = 56\n', ".toml", "unknown kit piece 'cowbel'"),
        ('name = "x"\n', ".toml", "needs a non-empty 'pieces' table"),
        ("name = = x", ".toml", "not valid toml"),
        ('{"pieces": [36, 38]}', ".json", "needs a non-empty 'pieces' table"),
        ("[1, 2]", ".json", "must be a table"),
        ("{nope", ".json", "not valid json"),
        ('{"name": "", "pieces": {"kick": 36}}', ".json", "name must be a non-empty string"),
        ('{"pieces": {"kick": 36}, "aliases": {"snare": [300]}}', ".json", "alias of snare: pitch must be"),
    ],
)
def test_bad_user_maps_raise_clear_errors(tmp_path: Path, content: str, suffix: str, message: str) -> None:
    path = tmp_path / f"map{suffix}"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        get_drum_map(str(path))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            'name = "x"\n[pieces]\nkick = 36\nsnare = 36\n',
            "drum map 'x': kick and snare are both on note 36; give",
        ),
        (
            'name = "x"\n[pieces]\nhihat_closed = 42\nhihat_pedal = 42\n',
            "hihat_closed and hihat_pedal are both",
        ),
        (
            'name = "x"\n[pieces]\nkick = 36\nsnare = 38\n[aliases]\nsnare = [36]\n',
            "note 36 is kick's, so it cannot also be an alias of snare",
        ),
        (
            'name = "x"\n[pieces]\nkick = 36\n[aliases]\nkick = [35]\nsnare = [35]\n',
            "note 35 is an alias of both kick and snare",
        ),
    ],
)
def test_a_user_map_with_two_pieces_on_one_note_is_refused_naming_both(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "shared.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=re.escape(message)):
        get_drum_map(str(path))


def test_no_built_in_map_puts_two_pieces_on_one_note() -> None:
    for drum_map in BUILTIN_MAPS.values():
        assert len(set(drum_map.pitch_by_piece.values())) == len(drum_map.pitch_by_piece), drum_map.name
        assert not set(drum_map.alias_pitches) & set(drum_map.pitch_by_piece.values()), drum_map.name


def test_missing_user_map_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot read drum map file"):
        get_drum_map(str(tmp_path / "nope.toml"))


def test_piece_of_pitch() -> None:
    assert piece_of_pitch("gm", 56) == "cowbell"
    assert piece_of_pitch("gm", 35) == "kick"
    assert piece_of_pitch("gm", 99) is None
    assert piece_of_pitch("roland", 26) == "hihat_open"
    assert piece_of_pitch("ad2", 49) == "hihat_closed"
    assert piece_of_pitch("ad2", 72) == "tom_high"


@pytest.mark.parametrize("name", DRUM_MAP_NAMES)
def test_translation_round_trips_for_every_piece_a_map_has(name: str) -> None:
    target = get_drum_map(name)
    pieces = list(target.pitch_by_piece)
    clip = clip_of([GM_PITCH_BY_PIECE[p] for p in pieces])
    there = translate_clip(clip, "gm", name)
    assert [n.pitch for n in there.notes] == [target.pitch_by_piece[p] for p in pieces]
    assert [(n.time, n.velocity, n.duration) for n in there.notes] == [
        (n.time, n.velocity, n.duration) for n in clip.notes
    ]
    assert there.meta["drum_map"] == name
    assert there.meta["style"] == "rock"
    back = translate_clip(there, name, "gm")
    assert back.notes == clip.notes
    assert clip.meta == {"style": "rock"}  # the input is not changed


def test_gmd_pitches_fold_to_gm_via_roland() -> None:
    clip = clip_of([22, 26, 58, 50, 47, 40, 59, 55])
    assert [n.pitch for n in translate_clip(clip, "roland", "gm").notes] == [42, 46, 43, 50, 47, 40, 51, 49]


def test_missing_piece_is_an_error_naming_it_or_dropped_on_request() -> None:
    clip = clip_of([36, 56, 38])
    with pytest.raises(ValueError, match="drum map 'ad2' has no cowbell"):
        translate_clip(clip, "gm", "ad2")
    dropped = translate_clip(clip, "gm", "ad2", drop_missing=True)
    assert [n.pitch for n in dropped.notes] == [36, 38]
    assert dropped.meta["dropped_notes"] == 1


def test_no_invented_fallbacks_between_different_drums() -> None:
    with pytest.raises(ValueError, match="drum map 'roland' has no tom_low"):
        translate_clip(clip_of([45]), "gm", "roland")
    with pytest.raises(ValueError, match="drum map 'ableton' has no ride_bell"):
        translate_clip(clip_of([53]), "gm", "ableton")


def test_unknown_source_pitch_is_an_error() -> None:
    with pytest.raises(ValueError, match="pitch 99 is not a kit piece in drum map 'gm'"):
        translate_clip(clip_of([99]), "gm", "ad2")


def test_drum_map_validates_itself() -> None:
    with pytest.raises(ValueError, match="unknown kit piece 'gong'"):
        DrumMap("x", "d", {"gong": 30})
    with pytest.raises(ValueError, match="pitch must be an integer"):
        DrumMap("x", "d", {"kick": True})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="drum map 'x' has no snare"):
        DrumMap("x", "d", {"kick": 36}).pitch_of("snare")


def ad2_groove(bars: int = 2) -> list[int]:
    """The pitches of an Addictive Drums 2 groove: open hats (56) keep time, a tom fill on 71..65."""
    pitches: list[int] = []
    for _ in range(bars):
        for step in range(8):
            pitches += [56, 36 if step % 4 == 0 else 38 if step % 4 == 2 else 48]
    return [*pitches, 71, 69, 67, 65, 77]


def test_a_clip_in_a_map_is_read_at_gm_pitches_and_unknown_notes_are_counted() -> None:
    clip = clip_of([36, 49, 56, 71, 44, 60, 44, 100])
    in_gm, unknown = clip_in_gm(clip, "ad2")
    assert [n.pitch for n in in_gm.notes] == [
        36,
        42,
        46,
        50,
        UNMAPPED_PITCH,
        51,
        UNMAPPED_PITCH,
        UNMAPPED_PITCH,
    ]
    assert [n[1:] for n in in_gm.notes] == [n[1:] for n in clip.notes]  # every hit still there, as played
    assert unknown == {44: 2, 100: 1}
    assert kit_class_of_pitch(UNMAPPED_PITCH) is None
    assert clip_in_gm(clip, "gm") == (clip, {})  # GM (and the GMD's extras) is what analysis reads anyway


def test_a_clip_read_at_gm_pitches_is_in_note_order() -> None:
    # Sorted as the map's pitches, not as GM's: in AD2, 60 is the ride (GM 51) and 71 the high tom (GM 50).
    clip = Clip(
        [
            Note(36, 100, 0, 60),
            Note(60, 90, 0, 60),
            Note(71, 80, 0, 60),
            Note(100, 70, 0, 60),
            Note(38, 60, 240, 60),
            Note(36, 50, 120, 60),
        ],
        meta={"style": "rock"},
    )
    in_gm, unknown = clip_in_gm(clip, "ad2")
    assert in_gm.notes == [
        Note(UNMAPPED_PITCH, 70, 0, 60),
        Note(36, 100, 0, 60),
        Note(50, 80, 0, 60),
        Note(51, 90, 0, 60),
        Note(36, 50, 120, 60),
        Note(38, 60, 240, 60),
    ]
    assert in_gm.meta == {"style": "rock", "drum_map": "gm"} and unknown == {100: 1}


def test_a_file_for_another_kit_is_told_from_its_pitches() -> None:
    assert likely_drum_map(ad2_groove()) is get_drum_map("ad2")
    # a GM groove, a GM fill on toms, a few notes, a groove any of two maps could be (ride on 60)
    gm_groove = [p for _ in range(16) for p in (42, 36, 42, 38)]
    assert likely_drum_map(gm_groove) is None
    assert likely_drum_map([50, 50, 48, 48, 47, 47, 45, 45, 43, 43, 36, 49]) is None
    assert likely_drum_map(ad2_groove()[:7]) is None
    assert (
        likely_drum_map([p for _ in range(16) for p in (60, 36, 60, 38)]) is None
    )  # ad2 ride, or EZD's open hat 5
    # Superior Drummer files name one layout with EZdrummer's: one answer, not two
    toontrack = [p for _ in range(16) for p in (62, 36, 63, 38, 24)]
    assert likely_drum_map(toontrack) is get_drum_map("ezdrummer")
