"""Standard MIDI File writing and reading, through mido on in-memory bytes and real GMD files."""

from __future__ import annotations

import csv
import io
import random
import struct
from pathlib import Path

import mido
import pytest

from mididrumigen.midi.notes import Clip, Note
from mididrumigen.midi.smf import (
    clip_to_midi_bytes,
    metronome_clocks,
    read_midi_bytes,
    read_midi_file,
    write_clip,
)


def rock_clip(bars: int = 2, tempo_bpm: float = 97.5) -> Clip:
    """Hats in 8ths, snare on 2 and 4, kick on 1, 3 and the and of 3."""
    notes: list[Note] = []
    for bar in range(bars):
        start = bar * 1920
        notes += [Note(42, 110 if i % 2 == 0 else 80, start + i * 240, 60) for i in range(8)]
        notes += [Note(38, 120, start + 480, 90), Note(38, 118, start + 1440, 90)]
        notes += [Note(36, 100, start, 120), Note(36, 96, start + 960, 120), Note(36, 90, start + 1200, 120)]
    return Clip(
        notes, tempo_bpm=tempo_bpm, time_signature=(4, 4), bars=bars, name="John Bonham - Variation 1"
    )


def absolute(track: mido.MidiTrack) -> list[tuple[int, mido.Message | mido.MetaMessage]]:
    """Messages of a track with absolute tick times."""
    now = 0
    out = []
    for msg in track:
        now += msg.time
        out.append((now, msg))
    return out


def sort_notes(notes: list[Note]) -> list[Note]:
    return sorted(notes, key=lambda n: (n.time, n.pitch))


def smf_bytes(tracks: list[bytes], *, midi_type: int = 1, ticks_per_beat: int = 96) -> bytes:
    """Hand-build a Standard MIDI File from raw track bodies (no mido involved)."""
    out = b"MThd" + struct.pack(">IHHH", 6, midi_type, len(tracks), ticks_per_beat)
    for body in tracks:
        out += b"MTrk" + struct.pack(">I", len(body)) + body
    return out


# ---------------------------------------------------------------- writing


def test_round_trip_keeps_notes_tempo_meter_length_and_name() -> None:
    clip = rock_clip()
    data = clip_to_midi_bytes(clip)
    back = read_midi_bytes(data, name="memory")

    assert back.notes == sort_notes(clip.notes)
    assert back.tempo_bpm == 97.5
    assert back.time_signature == (4, 4)
    assert back.bars == 2
    assert back.length_ticks == clip.length_ticks == 3840
    assert back.name == "John Bonham - Variation 1"
    assert back.meta["source"] == "memory"
    assert back.meta["channel"] == 10
    assert back.meta["tempo_from_file"] == 97.5
    assert back.meta["has_tempo"] is True
    assert back.meta["ticks_per_beat"] == 480


def test_written_file_structure_as_mido_sees_it() -> None:
    clip = rock_clip()
    midi = mido.MidiFile(file=io.BytesIO(clip_to_midi_bytes(clip)))
    assert midi.type == 1
    assert midi.ticks_per_beat == 480
    assert len(midi.tracks) == 2

    conductor = absolute(midi.tracks[0])
    at_zero = {msg.type: msg for tick, msg in conductor if tick == 0}
    assert at_zero["track_name"].name == "John Bonham - Variation 1"
    assert at_zero["set_tempo"].tempo == mido.bpm2tempo(97.5)
    assert (at_zero["time_signature"].numerator, at_zero["time_signature"].denominator) == (4, 4)
    assert at_zero["time_signature"].clocks_per_click == 24
    assert at_zero["time_signature"].notated_32nd_notes_per_beat == 8
    assert conductor[-1][1].type == "end_of_track"
    assert conductor[-1][0] == clip.length_ticks

    drums = absolute(midi.tracks[1])
    assert drums[0][1].type == "track_name"
    assert drums[0][1].name == "John Bonham - Variation 1"
    assert drums[-1][1].type == "end_of_track"
    assert drums[-1][0] == clip.length_ticks
    channel_msgs = [msg for _, msg in drums if not msg.is_meta]
    assert {msg.channel for msg in channel_msgs} == {9}
    ons = [msg for msg in channel_msgs if msg.type == "note_on"]
    offs = [msg for msg in channel_msgs if msg.type == "note_off"]
    assert len(ons) == len(offs) == len(clip.notes)
    assert all(msg.velocity > 0 for msg in ons)
    assert max(tick for tick, msg in drums if msg.type == "note_off") <= clip.length_ticks


@pytest.mark.parametrize(
    ("meter", "clocks", "bar_ticks"),
    [
        ((4, 4), 24, 1920),
        ((3, 4), 24, 1440),
        ((5, 4), 24, 2400),
        ((6, 8), 36, 1440),
        ((12, 8), 36, 2880),
        ((7, 8), 12, 1680),
    ],
)
def test_meters_carry_metronome_clocks_and_exact_length(
    meter: tuple[int, int], clocks: int, bar_ticks: int
) -> None:
    clip = Clip([Note(36, 100, 0, 60)], tempo_bpm=70, time_signature=meter, bars=3, name="m")
    midi = mido.MidiFile(file=io.BytesIO(clip_to_midi_bytes(clip)))
    sig = next(msg for msg in midi.tracks[0] if msg.type == "time_signature")
    assert (sig.numerator, sig.denominator, sig.clocks_per_click, sig.notated_32nd_notes_per_beat) == (
        *meter,
        clocks,
        8,
    )
    assert metronome_clocks(meter) == clocks
    assert absolute(midi.tracks[1])[-1][0] == 3 * bar_ticks
    back = read_midi_bytes(clip_to_midi_bytes(clip))
    assert back.time_signature == meter
    assert back.bars == 3


def test_note_running_past_the_end_is_cut_at_the_end() -> None:
    clip = Clip([Note(49, 100, 1900, 960)], bars=1)
    midi = mido.MidiFile(file=io.BytesIO(clip_to_midi_bytes(clip)))
    off = next(tick for tick, msg in absolute(midi.tracks[1]) if msg.type == "note_off")
    assert off == 1920
    assert read_midi_bytes(clip_to_midi_bytes(clip)).notes == [Note(49, 100, 1900, 20)]


def test_retrigger_ends_the_previous_hit_first() -> None:
    clip = Clip([Note(38, 100, 0, 480), Note(38, 60, 240, 480)], bars=1)
    msgs = [
        (tick, msg.type)
        for tick, msg in absolute(mido.MidiFile(file=io.BytesIO(clip_to_midi_bytes(clip))).tracks[1])
    ]
    assert msgs[1:5] == [(0, "note_on"), (240, "note_off"), (240, "note_on"), (720, "note_off")]
    back = read_midi_bytes(clip_to_midi_bytes(clip)).notes
    assert back == [Note(38, 100, 0, 240), Note(38, 60, 240, 480)]


def test_output_is_deterministic_whatever_the_note_order() -> None:
    clip = rock_clip()
    shuffled = Clip(
        list(reversed(clip.notes)), clip.tempo_bpm, clip.time_signature, bars=clip.bars, name=clip.name
    )
    assert clip_to_midi_bytes(clip) == clip_to_midi_bytes(shuffled)


def test_notes_at_or_after_the_clip_end_are_rejected() -> None:
    with pytest.raises(ValueError, match="after the clip end"):
        clip_to_midi_bytes(Clip([Note(36, 100, 1920, 60)], bars=1))


def test_other_resolution_is_written_as_given() -> None:
    clip = Clip([Note(36, 100, 0, 24), Note(38, 90, 96, 24)], ticks_per_beat=96, bars=1)
    midi = mido.MidiFile(file=io.BytesIO(clip_to_midi_bytes(clip)))
    assert midi.ticks_per_beat == 96
    back = read_midi_bytes(clip_to_midi_bytes(clip))
    assert back.notes == [Note(36, 100, 0, 120), Note(38, 90, 480, 120)]
    assert back.meta["ticks_per_beat"] == 96


def test_drum_map_translates_pitches_on_export() -> None:
    clip = rock_clip(bars=1)
    back = read_midi_bytes(clip_to_midi_bytes(clip, drum_map="ad2"))
    assert {n.pitch for n in back.notes} == {36, 38, 49}  # AD2: closed hat tip is 49
    assert [n.time for n in back.notes] == [n.time for n in sort_notes(clip.notes)]


def test_drum_map_missing_piece_names_the_piece() -> None:
    clip = Clip([Note(36, 100, 0, 60), Note(56, 100, 480, 60)], bars=1)
    with pytest.raises(ValueError, match="drum map 'ad2' has no cowbell"):
        clip_to_midi_bytes(clip, drum_map="ad2")


def test_write_clip_is_atomic_and_readable(tmp_path: Path) -> None:
    target = tmp_path / "out" / "groove.mid"
    write_clip(target, rock_clip())
    assert read_midi_file(target).notes == sort_notes(rock_clip().notes)
    bad = tmp_path / "bad.mid"
    with pytest.raises(ValueError, match="has no cowbell"):
        write_clip(bad, Clip([Note(56, 100, 0, 60)], bars=1), drum_map="ad2")
    assert not bad.exists()
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["groove.mid", "out"]


# ---------------------------------------------------------------- reading other files


def test_type_0_file_built_with_mido() -> None:
    midi = mido.MidiFile(type=0, ticks_per_beat=480)
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(140), time=0))
    track.append(mido.MetaMessage("time_signature", numerator=3, denominator=4, time=0))
    track.append(mido.Message("note_on", channel=9, note=36, velocity=100, time=0))
    track.append(mido.Message("note_off", channel=9, note=36, velocity=0, time=120))
    track.append(mido.Message("note_on", channel=9, note=38, velocity=80, time=360))
    track.append(mido.Message("note_off", channel=9, note=38, velocity=0, time=120))
    midi.tracks.append(track)
    buffer = io.BytesIO()
    midi.save(file=buffer)
    clip = read_midi_bytes(buffer.getvalue())
    assert clip.notes == [Note(36, 100, 0, 120), Note(38, 80, 480, 120)]
    assert clip.tempo_bpm == 140
    assert clip.time_signature == (3, 4)
    assert clip.meta["midi_type"] == 0
    assert clip.bars == 1


@pytest.mark.parametrize("resolution", [96, 960, 384])
def test_any_resolution_is_rescaled_to_480(resolution: int) -> None:
    midi = mido.MidiFile(type=1, ticks_per_beat=resolution)
    track = mido.MidiTrack()
    sixteenth = resolution // 4
    now = 0
    for step, pitch in enumerate([36, 42, 38, 42]):
        track.append(mido.Message("note_on", channel=9, note=pitch, velocity=90, time=step * sixteenth - now))
        track.append(mido.Message("note_off", channel=9, note=pitch, velocity=0, time=sixteenth // 2))
        now = step * sixteenth + sixteenth // 2
    midi.tracks.append(track)
    buffer = io.BytesIO()
    midi.save(file=buffer)
    clip = read_midi_bytes(buffer.getvalue())
    assert [n.time for n in clip.notes] == [0, 120, 240, 360]
    assert {n.duration for n in clip.notes} == {60}
    assert clip.ticks_per_beat == 480
    assert clip.meta["ticks_per_beat"] == resolution


def test_hand_built_running_status_and_velocity_zero_note_offs() -> None:
    # One note_on status byte, then running status for three more events; the
    # "offs" are note_ons with velocity 0.
    body = bytes(
        [
            *(0x00, 0x99, 36, 100),  # tick 0: note_on ch10 kick
            *(0x60, 36, 0),  # tick 96 (running status): velocity 0 = off
            *(0x00, 38, 80),  # tick 96: snare on
            *(0x60, 38, 0),  # tick 192: snare off
            *(0x00, 0xFF, 0x2F, 0x00),
        ]
    )
    clip = read_midi_bytes(smf_bytes([body], midi_type=0, ticks_per_beat=96))
    assert clip.notes == [Note(36, 100, 0, 480), Note(38, 80, 480, 480)]
    assert clip.meta["has_tempo"] is False
    assert clip.meta["tempo_from_file"] is None
    assert clip.tempo_bpm == 120.0
    assert clip.time_signature == (4, 4)
    assert clip.meta["time_signature_from_file"] is False


def test_note_ons_without_note_offs_get_a_short_default() -> None:
    body = bytes([0x00, 0x99, 36, 100, 0x81, 0x40, 38, 90, 0x00, 0xFF, 0x2F, 0x00])  # second hit at 192
    clip = read_midi_bytes(smf_bytes([body], midi_type=0, ticks_per_beat=96))
    assert clip.notes == [Note(36, 100, 0, 60), Note(38, 90, 960, 60)]
    assert clip.meta["unmatched_note_ons"] == 2


def test_drums_on_channel_1_next_to_a_piano_are_found() -> None:
    midi = mido.MidiFile(type=1, ticks_per_beat=480)
    piano = mido.MidiTrack()
    for chord in range(4):
        for pitch in (60 + chord, 64 + chord, 67 + chord):
            piano.append(mido.Message("note_on", channel=2, note=pitch, velocity=70, time=0))
        piano.append(mido.Message("note_off", channel=2, note=60 + chord, velocity=0, time=1900))
        piano.append(mido.Message("note_off", channel=2, note=64 + chord, velocity=0, time=0))
        piano.append(mido.Message("note_off", channel=2, note=67 + chord, velocity=0, time=0))
    drums = mido.MidiTrack()
    for step in range(16):
        pitch = 36 if step % 4 == 0 else (38 if step % 4 == 2 else 42)
        drums.append(mido.Message("note_on", channel=0, note=pitch, velocity=90, time=0 if step == 0 else 60))
        drums.append(mido.Message("note_off", channel=0, note=pitch, velocity=0, time=60))
    midi.tracks += [piano, drums]
    buffer = io.BytesIO()
    midi.save(file=buffer)
    clip = read_midi_bytes(buffer.getvalue())
    assert clip.meta["channel"] == 1
    assert len(clip.notes) == 16
    assert {n.pitch for n in clip.notes} == {36, 38, 42}


def test_channel_10_wins_over_other_channels() -> None:
    midi = mido.MidiFile(type=0, ticks_per_beat=480)
    track = mido.MidiTrack()
    track.append(mido.Message("note_on", channel=0, note=36, velocity=90, time=0))
    track.append(mido.Message("note_on", channel=9, note=42, velocity=90, time=0))
    track.append(mido.Message("note_off", channel=0, note=36, velocity=0, time=60))
    track.append(mido.Message("note_off", channel=9, note=42, velocity=0, time=0))
    midi.tracks.append(track)
    buffer = io.BytesIO()
    midi.save(file=buffer)
    assert read_midi_bytes(buffer.getvalue()).notes == [Note(42, 90, 0, 60)]


def test_tempo_changes_keep_the_first_tempo() -> None:
    midi = mido.MidiFile(type=1, ticks_per_beat=480)
    conductor = mido.MidiTrack()
    conductor.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(90), time=0))
    conductor.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(180), time=1920))
    drums = mido.MidiTrack()
    drums.append(mido.Message("note_on", channel=9, note=36, velocity=90, time=0))
    drums.append(mido.Message("note_off", channel=9, note=36, velocity=0, time=3000))
    midi.tracks += [conductor, drums]
    buffer = io.BytesIO()
    midi.save(file=buffer)
    clip = read_midi_bytes(buffer.getvalue())
    assert clip.tempo_bpm == 90
    assert clip.meta["tempo_from_file"] == 90
    assert clip.meta["tempo_changes"] == 1
    assert clip.bars == 2  # the conductor's end at tick 1920 and the note's at 3000


# ---------------------------------------------------------------- real GMD files


def gmd_rows(gmd_dir: Path) -> list[dict[str, str]]:
    with (gmd_dir / "info.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_real_gmd_files_match_mido_note_counts(gmd_dir: Path) -> None:
    rows = gmd_rows(gmd_dir)
    picks = [r for r in rows if r["time_signature"] == "6-8"][:2] + [
        r for r in rows if r["time_signature"] == "3-4"
    ][:2]
    picks += [r for r in rows if r["beat_type"] == "fill"][:2] + rows[:2] + random.Random(7).sample(rows, 4)
    for row in picks:
        path = gmd_dir / row["midi_filename"]
        clip = read_midi_file(path)
        midi = mido.MidiFile(path)
        expected = sum(
            1 for msg in mido.merge_tracks(midi.tracks) if msg.type == "note_on" and msg.velocity > 0
        )
        assert len(clip.notes) == expected, row["midi_filename"]
        assert clip.tempo_bpm == pytest.approx(float(row["bpm"]), abs=0.01)
        assert clip.time_signature == tuple(int(v) for v in row["time_signature"].split("-"))
        assert clip.meta["source"] == str(path)
        assert clip.meta["channel"] == 10
        assert all(n.duration >= 1 for n in clip.notes)
        seconds = clip.length_ticks / 480 * 60 / clip.tempo_bpm
        one_bar = 60 / clip.tempo_bpm * 4
        assert seconds >= float(row["duration"]) - one_bar  # the clip covers the listed length


def test_gmd_file_round_trips_through_our_writer(gmd_dir: Path) -> None:
    path = gmd_dir / "drummer1/session1/1_funk_80_beat_4-4.mid"
    clip = read_midi_file(path)
    again = read_midi_bytes(clip_to_midi_bytes(clip))
    assert len(again.notes) == len(clip.notes)
    assert [(n.pitch, n.velocity, n.time) for n in again.notes] == [
        (n.pitch, n.velocity, n.time) for n in clip.notes
    ]
    assert again.length_ticks == clip.length_ticks


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "midi data is empty"),
        (b"hello, this is a text file\nnot midi at all\n", "not a standard midi file"),
        (bytes(random.Random(1).getrandbits(8) for _ in range(500)), "not a standard midi file"),
        (
            b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01\xe0MTrk\x00\x00\x10\x00\x00\x99",
            "not a standard midi file",
        ),
        (b"MThd\x00\x00", "not a standard midi file"),
    ],
)
def test_bad_bytes_raise_a_clear_value_error(data: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        read_midi_bytes(data)
    assert type(caught.value) is ValueError
    assert caught.value.__cause__ is None
    assert str(caught.value)[:1].islower()


def test_every_truncation_of_a_valid_file_is_a_clip_or_a_value_error() -> None:
    data = clip_to_midi_bytes(rock_clip(bars=1))
    for cut in range(len(data)):
        try:
            read_midi_bytes(data[:cut])
        except ValueError:
            continue


def test_a_truncated_file_says_it_is_cut_short_not_eoferror() -> None:
    data = clip_to_midi_bytes(rock_clip(bars=1))
    with pytest.raises(ValueError, match="cut short") as caught:
        read_midi_bytes(data[: len(data) // 2])
    assert "EOFError" not in str(caught.value)


def test_random_corruption_never_leaks_a_mido_exception() -> None:
    data = bytearray(clip_to_midi_bytes(rock_clip(bars=1)))
    rng = random.Random(3)
    for _ in range(300):
        broken = bytearray(data)
        for _ in range(rng.randint(1, 6)):
            broken[rng.randrange(len(broken))] = rng.getrandbits(8)
        try:
            read_midi_bytes(bytes(broken))
        except ValueError:
            continue


def test_a_file_without_notes_is_rejected() -> None:
    body = bytes([0x00, 0xFF, 0x51, 0x03, 0x07, 0xA1, 0x20, 0x00, 0xFF, 0x2F, 0x00])
    with pytest.raises(ValueError, match="midi file has no notes"):
        read_midi_bytes(smf_bytes([body], midi_type=0))


def test_text_and_missing_files_on_disk(tmp_path: Path) -> None:
    text = tmp_path / "notes.mid"
    text.write_text("kick snare kick snare\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not a standard midi file"):
        read_midi_file(text)
    with pytest.raises(ValueError, match="cannot read"):
        read_midi_file(tmp_path / "missing.mid")
    with pytest.raises(ValueError, match="cannot read"):
        read_midi_file(tmp_path)


def test_type_2_with_one_pattern_reads_and_with_several_is_refused() -> None:
    pattern = bytes([0x00, 0x99, 36, 100, 0x30, 36, 0, 0x00, 0xFF, 0x2F, 0x00])
    clip = read_midi_bytes(smf_bytes([pattern], midi_type=2))
    assert clip.notes == [Note(36, 100, 0, 240)]
    with pytest.raises(ValueError, match="type 2"):
        read_midi_bytes(smf_bytes([pattern, pattern], midi_type=2))


def test_names_outside_latin_1_survive_the_round_trip() -> None:
    clip = Clip([Note(36, 100, 0, 60)], bars=1, name="Tony Allen – Björk 坂本 - Variation 2")
    assert read_midi_bytes(clip_to_midi_bytes(clip)).name == clip.name


def test_latin_1_track_names_from_other_tools_are_kept() -> None:
    name = b"Caf\xe9 drums"  # latin-1, not valid utf-8
    body = bytes(
        [0x00, 0xFF, 0x03, len(name), *name, 0x00, 0x99, 36, 100, 0x30, 36, 0, 0x00, 0xFF, 0x2F, 0x00]
    )
    assert read_midi_bytes(smf_bytes([body], midi_type=0)).name == "Café drums"


def test_tempo_outside_what_smf_can_hold_is_refused() -> None:
    with pytest.raises(ValueError, match="tempo must be between 4 and 1000 bpm"):
        clip_to_midi_bytes(Clip([Note(36, 100, 0, 60)], tempo_bpm=2, bars=1))
