"""The hand-written SMF serialiser writes exactly the bytes mido itself would."""

from __future__ import annotations

import io

import mido
import pytest

from mididrumigen.generation.groove_engine import generate_grooves
from mididrumigen.generation.request import GenerationRequest
from mididrumigen.midi.smf import clip_to_midi_bytes, read_midi_bytes


def mido_bytes(data: bytes) -> bytes:
    """Parse with mido and let mido serialise it again."""
    midi = mido.MidiFile(file=io.BytesIO(data), charset="utf-8")
    midi.charset = "utf-8"
    out = io.BytesIO()
    midi.save(file=out)
    return out.getvalue()


@pytest.mark.parametrize("meter", [(4, 4), (3, 4), (5, 4), (6, 8), (7, 8), (12, 8)])
@pytest.mark.parametrize("style", ["rock", "jazz_swing", "trap", "songo"])
def test_bytes_equal_mido_serialisation(style: str, meter: tuple[int, int]) -> None:
    clips = generate_grooves(
        GenerationRequest(style=style, time_signature=meter, bars=4, variations=2, seed=5)
    )
    for clip in clips:
        clip.name = "Tony Allen – Variation 1"  # non-latin-1 text must survive
        data = clip_to_midi_bytes(clip)
        assert data == mido_bytes(data)
        back = read_midi_bytes(data)
        assert back.name == clip.name
        assert sorted((n.time, n.pitch) for n in back.notes) == sorted((n.time, n.pitch) for n in clip.notes)


def test_long_delta_times_use_multi_byte_quantities() -> None:
    clip = generate_grooves(GenerationRequest(style="rock", bars=16, variations=1, seed=1, tempo_bpm=40))[0]
    data = clip_to_midi_bytes(clip)
    end = next(m for m in mido.MidiFile(file=io.BytesIO(data)).tracks[0] if m.type == "end_of_track")
    assert end.time == clip.length_ticks > 16383
