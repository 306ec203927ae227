"""Writing generated clips: whole files only, safe names, kit substitutions."""

from __future__ import annotations

from pathlib import Path

import mido
import pytest

from mididrumigen.errors import UserError
from mididrumigen.generation.output import fit_clip_to_kit, write_clips
from mididrumigen.midi.kit import GM_PITCH_BY_PIECE
from mididrumigen.midi.notes import Clip, Note


def make_clip(*pieces: str) -> Clip:
    notes = [Note(GM_PITCH_BY_PIECE[p], 100, i * 240, 60) for i, p in enumerate(pieces)]
    return Clip(notes=notes, tempo_bpm=100, bars=1, name="Test - Variation 1", meta={"style": "songo"})


def test_write_clips_names_are_safe_and_files_complete(tmp_path: Path) -> None:
    paths = write_clips([make_clip("kick", "snare"), make_clip("kick")], tmp_path, "../../etc/passwd")
    assert [p.parent for p in paths] == [tmp_path.resolve()] * 2
    assert all(p.name.startswith("etc_passwd-songo-100bpm-") for p in paths)
    assert [len([m for m in mido.MidiFile(p).tracks[1] if m.type == "note_on"]) for p in paths] == [2, 1]


def test_a_style_without_an_artist_is_named_once(tmp_path: Path) -> None:
    (path,) = write_clips([make_clip("kick")], tmp_path, "Songo")
    assert path.name.startswith("Songo-100bpm-") and path.name.endswith("-v1.mid")


def test_missing_kit_pieces_fall_back_to_the_closest(tmp_path: Path) -> None:
    clip, subs = fit_clip_to_kit(
        make_clip("cowbell", "kick", "tom_low"), {"kick", "ride", "ride_bell", "tom_mid"}
    )
    assert subs == {"cowbell": "ride_bell", "tom_low": "tom_mid"}
    assert sorted(n.pitch for n in clip.notes) == sorted([53, 36, 47])
    (path,) = write_clips([make_clip("cowbell", "kick")], tmp_path, "x", drum_map="ad2")
    pitches = {m.note for m in mido.MidiFile(path).tracks[1] if m.type == "note_on"}
    assert 36 in pitches
    assert len(pitches) == 2


FOUR_PIECE_MAP = 'name = "my-kit"\n[pieces]\nkick = 36\nsnare = 38\nhihat_closed = 42\nhihat_open = 46\n'


@pytest.mark.parametrize("style", ["hard_rock", "jazz_swing", "songo", "samba", "metal", "second_line"])
def test_the_readmes_four_piece_map_plays_every_groove(tmp_path: Path, style: str) -> None:
    # The README's example map has no cymbals or toms: crashes, rides, bells and tom fills
    # move along the substitutes to what the kit has, never refused.
    from mididrumigen.generation.groove_engine import generate_grooves
    from mididrumigen.generation.request import GenerationRequest

    user_map = tmp_path / "my.toml"
    user_map.write_text(FOUR_PIECE_MAP)
    clips = generate_grooves(GenerationRequest(style=style, bars=8, variations=4, seed=3))
    paths = write_clips(clips, tmp_path / "out", "x", drum_map=str(user_map))
    pitches = {m.note for p in paths for m in mido.MidiFile(p).tracks[1] if m.type == "note_on"}
    assert pitches <= {36, 38, 42, 46}
    assert {36, 38} <= pitches or style == "jazz_swing"


def test_substitutes_are_followed_to_what_the_kit_has() -> None:
    from mididrumigen.generation.output import closest_piece

    assert closest_piece("tom_floor", {"kick", "snare", "hihat_closed"}) == "snare"
    assert closest_piece("tom_floor", {"snare", "tom_high"}) == "tom_high"
    assert closest_piece("china", {"ride", "hihat_open"}) == "ride"
    assert closest_piece("ride", {"crash", "hihat_closed"}) == "hihat_closed"
    assert closest_piece("hihat_closed", {"hihat_open", "ride"}) is None  # a kit needs its hi-hat


def test_a_map_without_a_hi_hat_is_refused_naming_it(tmp_path: Path) -> None:
    user_map = tmp_path / "no_hats.toml"
    user_map.write_text('name = "no-hats"\n[pieces]\nkick = 36\nsnare = 38\ncrash = 49\nride = 51\n')
    with pytest.raises(ValueError, match="'no-hats' has no hihat_closed"):
        write_clips(
            [make_clip("crash", "kick", "hihat_closed")], tmp_path / "out", "x", drum_map=str(user_map)
        )


def test_a_piece_with_no_substitute_is_an_error_and_writes_nothing(tmp_path: Path) -> None:
    user_map = tmp_path / "tiny.json"
    user_map.write_text('{"name": "tiny", "pieces": {"kick": 36}}')
    out = tmp_path / "out"
    with pytest.raises(ValueError, match="tiny"):
        write_clips([make_clip("kick", "hihat_closed")], out, "x", drum_map=str(user_map))
    assert not out.exists()


def test_unwritable_folder_is_a_user_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(UserError, match="output folder"):
        write_clips([make_clip("kick")], blocker / "sub", "x")


def test_written_files_follow_the_umask_and_leave_no_temp_files(tmp_path: Path) -> None:
    import os

    out = tmp_path / "a" / "b"  # made on the way, parents too
    old = os.umask(0o027)
    try:
        paths = write_clips([make_clip("kick"), make_clip("snare")], out, "x")
    finally:
        os.umask(old)
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in paths)  # no .tmp left behind
    assert all((p.stat().st_mode & 0o777) == 0o640 for p in paths)
    again = write_clips([make_clip("kick")], out, "x")  # the folder exists now
    assert again[0].read_bytes() == paths[0].read_bytes()
