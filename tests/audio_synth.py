"""A small numpy drum synth: render clips and MIDI files to audio whose rhythm is known exactly.

Used by the audio-analysis tests and benchmark and by the fake media server. Every kit
class has its own deterministic voice (kick = pitched sine sweep, snare = noise + tone,
hats = high-passed noise, toms = pitched sines, cymbals = long bright noise); velocity
sets the gain. Output is mono float32 in -1..1.
"""

from __future__ import annotations

import io
import wave
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import numpy as np

from mididrumigen.midi.kit import kit_class_of_pitch
from mididrumigen.midi.notes import Clip

DEFAULT_SAMPLE_RATE_HZ = 22050
TAIL_S = 0.5  # room left after the last hit so its decay is not cut
VELOCITY_GAIN_EXPONENT = 1.6
PEAK_HEADROOM = 0.89


def _decay(n: int, sample_rate_hz: int, decay_s: float) -> np.ndarray:
    t = np.arange(n) / sample_rate_hz
    return np.exp(-t / decay_s)


def _high_pass(signal: np.ndarray, order: int) -> np.ndarray:
    """Crude high-pass by repeated first differences (no scipy needed)."""
    out = signal
    for _ in range(order):
        out = np.diff(out, prepend=0.0)
    return out / (np.max(np.abs(out)) or 1.0)


def _band_noise(n: int, rng: np.random.Generator, smooth: int) -> np.ndarray:
    """White noise low-passed by a moving average of `smooth` samples."""
    noise = rng.standard_normal(n + smooth)
    kernel = np.ones(smooth) / smooth
    out = np.convolve(noise, kernel, mode="valid")[:n]
    return out / (np.max(np.abs(out)) or 1.0)


def _sweep(n: int, sample_rate_hz: int, start_hz: float, end_hz: float, sweep_s: float) -> np.ndarray:
    t = np.arange(n) / sample_rate_hz
    freq = end_hz + (start_hz - end_hz) * np.exp(-t / sweep_s)
    return np.sin(2 * np.pi * np.cumsum(freq) / sample_rate_hz)


@lru_cache(maxsize=32)
def _voice(kit_class: str, sample_rate_hz: int) -> np.ndarray:
    """The unit-gain waveform of one kit class (cached; deterministic noise)."""
    sr = sample_rate_hz
    rng = np.random.default_rng(sum(kit_class.encode()))  # stable across runs, unlike hash()

    def length(seconds: float) -> int:
        return int(seconds * sr)

    if kit_class == "kick":
        n = length(0.45)
        body = _sweep(n, sr, 160.0, 48.0, 0.03) * _decay(n, sr, 0.12)
        click = _high_pass(rng.standard_normal(n), 1) * _decay(n, sr, 0.004) * 0.3
        out = body + click
    elif kit_class == "snare":
        n = length(0.35)
        tone = np.sin(2 * np.pi * 190.0 * np.arange(n) / sr) * _decay(n, sr, 0.05)
        rattle = _high_pass(rng.standard_normal(n), 1) * _decay(n, sr, 0.09)
        out = 0.6 * tone + 0.7 * rattle
    elif kit_class == "hihat_closed":
        n = length(0.12)
        out = _high_pass(rng.standard_normal(n), 3) * _decay(n, sr, 0.025) * 0.6
    elif kit_class == "hihat_open":
        n = length(0.6)
        out = _high_pass(rng.standard_normal(n), 3) * _decay(n, sr, 0.2) * 0.55
    elif kit_class in ("tom_low", "tom_mid", "tom_high"):
        pitch_hz = {"tom_low": 90.0, "tom_mid": 130.0, "tom_high": 190.0}[kit_class]
        n = length(0.5)
        out = _sweep(n, sr, pitch_hz * 1.4, pitch_hz, 0.04) * _decay(n, sr, 0.16) * 0.9
        out += _band_noise(n, rng, 4) * _decay(n, sr, 0.01) * 0.2
    elif kit_class == "crash":
        n = length(2.0)
        out = _high_pass(rng.standard_normal(n), 2) * _decay(n, sr, 0.7) * 0.5
    elif kit_class == "ride":
        n = length(1.2)
        t = np.arange(n) / sr
        ping = sum(np.sin(2 * np.pi * f * t) for f in (2950.0, 4230.0, 5870.0)) / 3
        wash = _high_pass(rng.standard_normal(n), 2)
        out = (0.5 * ping * _decay(n, sr, 0.25) + 0.4 * wash * _decay(n, sr, 0.4)) * 0.6
    else:
        raise ValueError(f"no voice for kit class {kit_class!r}")
    # A 1 ms fade-in keeps onsets clean without smearing their time.
    fade = min(len(out), max(1, sr // 1000))
    out[:fade] *= np.linspace(0.0, 1.0, fade)
    return out.astype(np.float32)


def velocity_gain(velocity: int) -> float:
    """Gain of a hit from its MIDI velocity (a little steeper than linear, like a real kit)."""
    return float((max(1, min(127, velocity)) / 127.0) ** VELOCITY_GAIN_EXPONENT)


def render_hits(
    hits: Iterable[tuple[float, int, int]],
    *,
    duration_s: float | None = None,
    sample_rate_hz: int = DEFAULT_SAMPLE_RATE_HZ,
) -> np.ndarray:
    """Render (time_s, pitch, velocity) hits to mono float32 audio; unknown pitches are skipped."""
    events = [(t, kit_class_of_pitch(p), v) for t, p, v in hits]
    events = [(t, c, v) for t, c, v in events if c is not None and t >= 0]
    end_s = max((t for t, _, _ in events), default=0.0) + TAIL_S
    total_s = duration_s if duration_s is not None else end_s
    out = np.zeros(round(total_s * sample_rate_hz) + 1, dtype=np.float32)
    for time_s, kit_class, velocity in events:
        assert kit_class is not None
        voice = _voice(kit_class, sample_rate_hz)
        start = round(time_s * sample_rate_hz)
        if start >= len(out):
            continue
        stop = min(len(out), start + len(voice))
        out[start:stop] += voice[: stop - start] * velocity_gain(velocity)
    peak = float(np.max(np.abs(out))) if len(out) else 0.0
    if peak > PEAK_HEADROOM:
        out *= PEAK_HEADROOM / peak
    return out


def clip_hits(clip: Clip) -> list[tuple[float, int, int]]:
    """(time_s, pitch, velocity) of a clip's notes at its constant tempo."""
    seconds_per_tick = 60.0 / (clip.tempo_bpm * clip.ticks_per_beat)
    return [(n.time * seconds_per_tick, n.pitch, n.velocity) for n in clip.notes]


def render_clip(clip: Clip, sample_rate_hz: int = DEFAULT_SAMPLE_RATE_HZ) -> np.ndarray:
    """Render a clip at its tempo to mono float32 audio (clip length plus a decay tail)."""
    length_s = clip.length_ticks * 60.0 / (clip.tempo_bpm * clip.ticks_per_beat)
    hits = clip_hits(clip)
    end_s = max([length_s, *(t for t, _, _ in hits)]) + TAIL_S
    return render_hits(hits, duration_s=end_s, sample_rate_hz=sample_rate_hz)


def midi_file_hits(path: str | Path, *, max_duration_s: float | None = None) -> list[tuple[float, int, int]]:
    """(time_s, pitch, velocity) of a MIDI file's note-ons, timed by the file's own tempo map."""
    import mido

    hits: list[tuple[float, int, int]] = []
    now_s = 0.0
    for message in mido.MidiFile(str(path)):
        now_s += message.time
        if max_duration_s is not None and now_s >= max_duration_s:
            break
        if message.type == "note_on" and message.velocity > 0:
            hits.append((now_s, message.note, message.velocity))
    return hits


def render_midi_file(
    path: str | Path,
    *,
    sample_rate_hz: int = DEFAULT_SAMPLE_RATE_HZ,
    max_duration_s: float | None = None,
) -> np.ndarray:
    """Render a drum MIDI file (its real timing) to mono float32 audio, optionally only its start."""
    hits = midi_file_hits(path, max_duration_s=max_duration_s)
    return render_hits(hits, sample_rate_hz=sample_rate_hz)


def wav_bytes(samples: np.ndarray, sample_rate_hz: int = DEFAULT_SAMPLE_RATE_HZ) -> bytes:
    """Encode mono float samples as 16-bit PCM WAV bytes (stdlib wave)."""
    pcm = (np.clip(np.asarray(samples, dtype=np.float64), -1.0, 1.0) * 32767.0).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(sample_rate_hz)
        handle.writeframes(pcm.tobytes())
    return buffer.getvalue()


def write_wav(path: str | Path, samples: np.ndarray, sample_rate_hz: int = DEFAULT_SAMPLE_RATE_HZ) -> None:
    """Write mono float samples to a 16-bit PCM WAV file."""
    Path(path).write_bytes(wav_bytes(samples, sample_rate_hz))
