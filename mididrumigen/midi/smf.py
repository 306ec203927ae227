"""Standard MIDI Files with mido: write clips as one drum track, read any drum MIDI file."""

from __future__ import annotations

import io
import math
from collections import defaultdict, deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mido

from mididrumigen.files import read_limited, write_atomic
from mididrumigen.midi.drum_maps import DrumMap, get_drum_map, translate_clip
from mididrumigen.midi.notes import DEFAULT_TICKS_PER_BEAT, NOTE_ORDER, Clip, Note, validate_time_signature

DRUM_CHANNEL = 9  # MIDI channel 10, counted from 0 as mido does
DEFAULT_TEMPO_BPM = 120.0
GM_DRUM_LOW, GM_DRUM_HIGH = 35, 81
# An unmatched note_on (no note_off) lasts a 32nd note: drum hits are one-shots.
DEFAULT_DURATION_BEATS = 0.125
MAX_MIDI_BYTES = 64 * 1024 * 1024
MIN_TEMPO_BPM = 4  # the slowest tempo a set_tempo event can hold (24-bit microseconds per beat)


# ---------------------------------------------------------------- writing


def metronome_clocks(time_signature: tuple[int, int]) -> int:
    """MIDI clocks per metronome click: the felt beat (dotted quarter in 6/8, 9/8, 12/8)."""
    numerator, denominator = time_signature
    clocks_per_unit = 96 // denominator  # 24 clocks per quarter note
    compound = denominator >= 8 and numerator % 3 == 0 and numerator > 3
    return max(1, clocks_per_unit * (3 if compound else 1))


def clip_to_midi_bytes(clip: Clip, drum_map: DrumMap | str | None = None) -> bytes:
    """Render a clip (GM pitches) as a type-1 Standard MIDI File with one drum track on channel 10."""
    if drum_map is not None:
        target = get_drum_map(drum_map)
        if target.name != "gm":
            clip = translate_clip(clip, "gm", target)
    tpb = clip.ticks_per_beat
    if not isinstance(tpb, int) or not 1 <= tpb <= 32767:
        raise ValueError("ticks_per_beat must be an integer from 1 to 32767")
    if not MIN_TEMPO_BPM <= clip.tempo_bpm <= 1000:
        raise ValueError(f"tempo must be between {MIN_TEMPO_BPM} and 1000 bpm")
    numerator, denominator = validate_time_signature(*clip.time_signature, strict=False)
    length = clip.length_ticks
    events = _note_events(clip.notes, length)

    # Serialised by hand: mido's message objects cost ~2 ms a clip, and the daemon's
    # latency budget is a few ms. The reader (mido) checks every byte in the tests.
    conductor = bytearray()
    conductor += _meta_event(0, 0x03, _text_bytes(clip.name or "MidiDrumiGen"))
    tempo_us = round(60_000_000 / clip.tempo_bpm)
    conductor += _meta_event(0, 0x51, tempo_us.to_bytes(3, "big"))
    signature = bytes(
        (numerator, denominator.bit_length() - 1, metronome_clocks((numerator, denominator)), 8)
    )
    conductor += _meta_event(0, 0x58, signature)
    conductor += _meta_event(length, 0x2F, b"")

    drums = bytearray()
    drums += _meta_event(0, 0x03, _text_bytes(clip.name or "Drums"))
    now = 0
    running_status = -1
    note_on, note_off = 0x90 | DRUM_CHANNEL, 0x80 | DRUM_CHANNEL
    put = drums.append
    for tick, order, pitch, velocity in events:  # sorted by tick: deltas are never negative
        delta = tick - now
        if delta < 0x80:
            put(delta)  # a one-byte variable-length quantity, the common case
        else:
            drums += _vlq(delta)
        status = note_on if order else note_off
        # Running status, as mido writes it: a repeated status byte is left out.
        if status != running_status:
            put(status)
            running_status = status
        put(pitch)
        put(velocity)
        now = tick
    drums += _meta_event(length - now, 0x2F, b"")

    header = b"MThd" + (6).to_bytes(4, "big") + (1).to_bytes(2, "big") + (2).to_bytes(2, "big")
    header += tpb.to_bytes(2, "big")
    return b"".join(
        (
            header,
            b"MTrk",
            len(conductor).to_bytes(4, "big"),
            bytes(conductor),
            b"MTrk",
            len(drums).to_bytes(4, "big"),
            bytes(drums),
        )
    )


def _vlq(value: int) -> bytes:
    """Encode a delta time as a MIDI variable-length quantity."""
    if value < 0:
        raise ValueError("delta time must not be negative")
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def _meta_event(delta_ticks: int, kind: int, data: bytes) -> bytes:
    """A meta event: delta time, 0xFF, type, length, data."""
    return _vlq(delta_ticks) + bytes((0xFF, kind)) + _vlq(len(data)) + data


def _text_bytes(text: str) -> bytes:
    """Track names as utf-8 (artist names are not all latin-1); the reader accepts both."""
    return text.encode("utf-8")


def _note_events(notes: list[Note], length: int) -> list[tuple[int, int, int, int]]:
    """Sorted (tick, order, pitch, velocity) events; order 0 = note_off, 1 = note_on.

    Note-offs come before note-ons at the same tick, every note ends by the clip end
    and before the next hit of the same pitch, so re-triggers always sound.
    """
    # Hits by pitch, then time, then velocity (then written order: the last of equals wins below).
    hits = sorted([(n.pitch, n.time, n.velocity, i, n.duration) for i, n in enumerate(notes)])
    pitches_ok = not hits or (hits[0][0] >= 0 and hits[-1][0] <= 127)
    if not pitches_ok or not all(
        1 <= velocity <= 127 and 0 <= time < length for _, time, velocity, _, _ in hits
    ):
        _check_notes(notes, length)  # raises, naming the first bad note as written
    events: list[tuple[int, int, int, int]] = []
    add = events.append
    count = len(hits)
    for index, (pitch, time, velocity, _, duration) in enumerate(hits):
        end = time + (duration if duration > 1 else 1)
        if end > length:
            end = length
        if index + 1 < count:
            following = hits[index + 1]
            if following[0] == pitch:
                if following[1] == time:
                    continue  # two hits of one drum at one tick cannot both sound: keep the louder (last)
                # A re-trigger of the same drum ends the previous hit first, so no note_off
                # of an earlier hit can cut a later one short.
                if following[1] < end:
                    end = following[1]
        add((time, 1, pitch, velocity))
        add((end, 0, pitch, 0))
    events.sort()
    return events


def _check_notes(notes: list[Note], length: int) -> None:
    """Raise ValueError naming the first note a MIDI file cannot hold."""
    for note in notes:
        if not 0 <= note.pitch <= 127:
            raise ValueError(f"note pitch must be from 0 to 127, got {note.pitch}")
        if not 1 <= note.velocity <= 127:
            raise ValueError(f"note velocity must be from 1 to 127, got {note.velocity}")
        if note.time < 0:
            raise ValueError(f"note time must not be negative, got {note.time}")
        if note.time >= length:
            raise ValueError(f"note at tick {note.time} starts at or after the clip end (tick {length})")


def write_clip(path: Path | str, clip: Clip, drum_map: DrumMap | str | None = None) -> None:
    """Write a clip as a .mid file atomically: the file is whole or not there at all."""
    write_atomic(Path(path), clip_to_midi_bytes(clip, drum_map=drum_map))


# ---------------------------------------------------------------- reading


@dataclass(slots=True)
class _RawNote:
    track: int
    channel: int
    pitch: int
    velocity: int
    time: int
    duration: int | None


def read_midi_file(path: Path | str) -> Clip:
    """Read a drum MIDI file from disk into a clip at 480 ticks per beat."""
    file_path = Path(path)
    data = read_limited(file_path, MAX_MIDI_BYTES, "midi file")
    return read_midi_bytes(data, name=str(file_path))


def read_midi_bytes(data: bytes, name: str = "") -> Clip:
    """Parse drum MIDI bytes (type 0/1/2, any resolution) into a clip at 480 ticks per beat."""
    if not data:
        raise ValueError("midi data is empty")
    if not data.startswith(b"MThd"):
        raise ValueError("not a standard midi file: missing MThd header")
    try:
        midi = mido.MidiFile(file=io.BytesIO(data))
    except EOFError:  # mido's word for a file that ends inside a chunk (its message is empty)
        raise ValueError(
            "not a standard midi file: it is cut short (truncated or still being written)"
        ) from None
    except Exception as exc:  # mido raises many types (OSError, KeyError, ValueError...)
        detail = str(exc).strip() or type(exc).__name__
        raise ValueError(f"not a standard midi file: {detail}") from None
    try:
        return _clip_from_midi(midi, name)
    except ValueError:
        raise
    except Exception as exc:  # a malformed message that mido let through
        raise ValueError(f"not a standard midi file: {exc}") from None


def _clip_from_midi(midi: mido.MidiFile, name: str) -> Clip:
    source_tpb = midi.ticks_per_beat
    if not isinstance(source_tpb, int) or source_tpb <= 0:
        raise ValueError("not a standard midi file: smpte time division is not supported")
    tracks = list(midi.tracks)
    if midi.type == 2:
        with_notes = [t for t in tracks if any(m.type == "note_on" for m in t)]
        if len(with_notes) > 1:
            raise ValueError("midi type 2 files with several patterns are not supported")
        tracks = with_notes or tracks[:1]

    raw_notes: list[_RawNote] = []
    tempos: list[tuple[int, int]] = []
    meters: list[tuple[int, int, int]] = []
    track_names: dict[int, str] = {}
    end_tick = 0
    for index, track in enumerate(tracks):
        tick = 0
        open_notes: dict[tuple[int, int], deque[_RawNote]] = defaultdict(deque)
        for msg in track:
            tick += msg.time
            if msg.type == "note_on" and msg.velocity > 0:
                raw = _RawNote(index, msg.channel, msg.note, msg.velocity, tick, None)
                raw_notes.append(raw)
                open_notes[(msg.channel, msg.note)].append(raw)
            elif msg.type == "note_off" or (msg.type == "note_on" and msg.velocity == 0):
                pending = open_notes.get((msg.channel, msg.note))
                if pending:
                    started = pending.popleft()
                    started.duration = tick - started.time
            elif msg.type == "set_tempo":
                tempos.append((tick, msg.tempo))
            elif msg.type == "time_signature":
                meters.append((tick, msg.numerator, msg.denominator))
            elif msg.type == "track_name" and index not in track_names and msg.name.strip():
                track_names[index] = _decode_text(msg.name).strip()
        end_tick = max(end_tick, tick)

    if not raw_notes:
        raise ValueError("midi file has no notes")
    chosen, channel = _drum_notes(raw_notes, source_tpb)

    scale = DEFAULT_TICKS_PER_BEAT / source_tpb
    default_duration = round(DEFAULT_TICKS_PER_BEAT * DEFAULT_DURATION_BEATS)
    notes = [
        Note(
            pitch=raw.pitch,
            velocity=raw.velocity,
            time=round(raw.time * scale),
            duration=max(1, round(raw.duration * scale)) if raw.duration is not None else default_duration,
        )
        for raw in chosen
    ]
    notes.sort(key=NOTE_ORDER)

    tempos.sort()
    tempo_from_file = round(mido.tempo2bpm(tempos[0][1]), 3) if tempos else None
    time_signature, meter_note = _first_meter(meters)
    ticks_bar = time_signature[0] * DEFAULT_TICKS_PER_BEAT * 4 // time_signature[1]
    last_note = max(n.time for n in notes)
    end_scaled = round(end_tick * scale)
    bars = max(math.ceil(end_scaled / ticks_bar), last_note // ticks_bar + 1)

    track_name = track_names.get(chosen[0].track) or next(iter(track_names.values()), "")
    meta: dict[str, Any] = {
        "source": name,
        "ticks_per_beat": source_tpb,
        "midi_type": midi.type,
        "channel": channel + 1,
        "has_tempo": tempo_from_file is not None,
        "tempo_from_file": tempo_from_file,
        "tempo_changes": len({t for _, t in tempos}) - 1 if tempos else 0,
        "time_signature_from_file": meter_note,
        "unmatched_note_ons": sum(1 for raw in chosen if raw.duration is None),
    }
    return Clip(
        notes=notes,
        tempo_bpm=tempo_from_file if tempo_from_file is not None else DEFAULT_TEMPO_BPM,
        time_signature=time_signature,
        ticks_per_beat=DEFAULT_TICKS_PER_BEAT,
        bars=bars,
        name=track_name or (Path(name).stem if name else ""),
        meta=meta,
    )


def _decode_text(text: str) -> str:
    """Meta text as mido reads it (latin-1), re-read as utf-8 when it is valid utf-8."""
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def _first_meter(meters: list[tuple[int, int, int]]) -> tuple[tuple[int, int], bool]:
    """The first time signature in the file, or 4/4 when it has none (or an unusable one)."""
    for _tick, numerator, denominator in sorted(meters):
        try:
            return validate_time_signature(numerator, denominator, strict=False), True
        except ValueError:
            break
    return (4, 4), False


def _drum_notes(raw_notes: list[_RawNote], source_tpb: int) -> tuple[list[_RawNote], int]:
    """Notes on channel 10 if there are any, else the most drum-like track/channel's notes."""
    on_ten = [raw for raw in raw_notes if raw.channel == DRUM_CHANNEL]
    if on_ten:
        return on_ten, DRUM_CHANNEL
    groups: dict[tuple[int, int], list[_RawNote]] = defaultdict(list)
    for raw in raw_notes:
        groups[(raw.track, raw.channel)].append(raw)
    best = max(groups.items(), key=lambda item: (drum_likeness(item[1], source_tpb), len(item[1])))
    return best[1], best[0][1]


def drum_likeness(notes: list[_RawNote], ticks_per_beat: int) -> float:
    """Score 0-3: pitches in the GM drum range, short notes, and few pitches hit many times."""
    count = len(notes)
    in_range = sum(1 for n in notes if GM_DRUM_LOW <= n.pitch <= GM_DRUM_HIGH) / count
    durations = sorted(n.duration for n in notes if n.duration is not None)
    if durations:
        median_beats = durations[len(durations) // 2] / ticks_per_beat
        short = 1.0 if median_beats <= 0.25 else max(0.0, 1.0 - (median_beats - 0.25))
    else:
        short = 1.0  # one-shots with no note_off at all: typical of drum exports
    repeats = 1.0 - len({n.pitch for n in notes}) / count
    return in_range + short + repeats
