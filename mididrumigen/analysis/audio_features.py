"""Rhythm features of a drum recording: tempo, beat grid, swing, syncopation, dynamics, microtiming.

The pipeline: decode to mono float32 (soundfile, or the ffmpeg shipped by imageio-ffmpeg
for compressed formats) -> a log-mel spectrogram -> onset-strength envelopes in three
bands (low ~ kick, mid ~ snare and toms, high ~ hats and cymbals) -> discrete onsets ->
tempo from comb-filtered autocorrelations across metrical levels with a perceptual prior
and a backbeat cue -> a beat grid (librosa's dynamic-programming tracker, smoothed) ->
features measured from the onsets' positions between the beats.

librosa and numpy are imported inside functions so `mididrumigen.analysis` stays light.
"""

from __future__ import annotations

import json
import math
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

ANALYSIS_SAMPLE_RATE_HZ = 22050
HOP_LENGTH = 128  # 5.8 ms frames at 22.05 kHz: fine enough for swing and microtiming
N_FFT = 1024
N_MELS = 96
LOG_COMPRESSION = 1e4  # ~ -40 dB knee relative to the loudest mel bin
LOW_BAND_HZ = (20.0, 160.0)
MID_BAND_HZ = (160.0, 2500.0)
HIGH_BAND_HZ = (4000.0, 11025.0)
BANDS: tuple[str, ...] = ("low", "mid", "high")
KIT_CLASS_BY_BAND: dict[str, str] = {"low": "kick", "mid": "snare", "high": "hihat_closed"}
MIN_BPM = 40.0
MAX_BPM = 300.0
MIN_DURATION_S = 1.0
SILENCE_RMS = 1e-4  # below this the recording carries no rhythm to analyse
SOUNDFILE_SUFFIXES = frozenset({".wav", ".flac", ".ogg", ".aiff", ".aif", ".au"})
BACKENDS: tuple[str, ...] = ("auto", "librosa", "madmom")
FFMPEG_TIMEOUT_S = 300.0
# Swing windows: an off-beat hit counts when it sits in this part of its pair.
SWING_WINDOW = (0.42, 0.72)
ON_BEAT_WINDOW = 0.12  # |position - nearest beat| in beats for a hit to anchor the grid
GHOST_RATIO = 0.5


@dataclass(frozen=True, slots=True)
class AudioFeatures:
    """Rhythm features measured from a drum recording (times in seconds, timing in ms)."""

    duration_s: float
    tempo_bpm: float
    tempo_confidence: float
    beat_times_s: tuple[float, ...]
    onset_count: int
    swing_ratio: float
    swing_percent: float
    swing_percent_16th: float
    syncopation: float
    onset_strength_mean: float
    onset_strength_std: float
    ghost_note_share: float
    rms_mean: float
    rms_std: float
    hits_per_beat: float
    microtiming_ms: dict[str, float] = field(default_factory=dict)
    microtiming_std_ms: dict[str, float] = field(default_factory=dict)
    timing_jitter_ms: float = 0.0
    confidence: float = 0.0
    backend: str = "librosa"
    analysis_time_s: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready dict of the features."""
        data = asdict(self)
        data["beat_times_s"] = [round(t, 4) for t in self.beat_times_s]
        return data

    def to_json_text(self) -> str:
        """Return the features as compact JSON text."""
        return json.dumps(self.to_json(), separators=(",", ":"))


# ---------------------------------------------------------------- decoding


def decode_audio_file(path: str | Path, sample_rate_hz: int = ANALYSIS_SAMPLE_RATE_HZ) -> np.ndarray:
    """Decode any audio file to mono float32 at sample_rate_hz (ValueError when it is not audio)."""
    import numpy as np

    file_path = Path(path)
    if not file_path.is_file():
        raise ValueError(f"audio file not found: {file_path}")
    if file_path.suffix.lower() in SOUNDFILE_SUFFIXES:
        try:
            samples, source_rate = _decode_with_soundfile(file_path)
        except ValueError:
            samples, source_rate = _decode_with_ffmpeg(file_path, sample_rate_hz), sample_rate_hz
    else:
        samples, source_rate = _decode_with_ffmpeg(file_path, sample_rate_hz), sample_rate_hz
    if source_rate != sample_rate_hz:
        import librosa

        samples = librosa.resample(samples, orig_sr=source_rate, target_sr=sample_rate_hz)
    return np.ascontiguousarray(samples, dtype=np.float32)


def _decode_with_soundfile(path: Path) -> tuple[np.ndarray, int]:
    import soundfile

    try:
        data, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except (RuntimeError, soundfile.LibsndfileError) as exc:
        raise ValueError(f"not a readable audio file: {path.name}") from exc
    return data.mean(axis=1), int(rate)


def _decode_with_ffmpeg(path: Path, sample_rate_hz: int) -> np.ndarray:
    """Decode with the ffmpeg binary shipped in imageio-ffmpeg to mono float32 PCM."""
    import imageio_ffmpeg
    import numpy as np

    command = [
        imageio_ffmpeg.get_ffmpeg_exe(),
        "-nostdin",
        "-v",
        "error",
        "-i",
        str(path),
        "-vn",
        "-ac",
        "1",
        "-ar",
        str(sample_rate_hz),
        "-f",
        "f32le",
        "-",
    ]
    try:
        result = subprocess.run(command, capture_output=True, timeout=FFMPEG_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as exc:
        raise ValueError(f"decoding {path.name} took longer than {FFMPEG_TIMEOUT_S:.0f} s") from exc
    if result.returncode != 0 or not result.stdout:
        detail = result.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = detail[-1] if detail else "no audio stream"
        raise ValueError(f"not a decodable audio file: {path.name} ({reason})")
    usable = len(result.stdout) // 4 * 4
    return np.frombuffer(result.stdout[:usable], dtype="<f4").copy()


# ---------------------------------------------------------------- onset envelopes


@dataclass(frozen=True, slots=True)
class OnsetEnvelopes:
    """Per-band onset-strength envelopes on one frame grid."""

    frame_rate_hz: float
    full: np.ndarray
    bands: dict[str, np.ndarray]
    rms: np.ndarray


def onset_envelopes(samples: np.ndarray, sample_rate_hz: int) -> OnsetEnvelopes:
    """Log-mel spectral flux in the low, mid and high bands plus their sum and frame RMS."""
    import librosa
    import numpy as np

    mel = librosa.feature.melspectrogram(
        y=samples,
        sr=sample_rate_hz,
        n_fft=N_FFT,
        hop_length=HOP_LENGTH,
        n_mels=N_MELS,
        fmin=20.0,
        fmax=sample_rate_hz / 2,
        power=2.0,
    )
    # log(1 + gamma x) compression: loud attacks dominate, decaying tails near the floor stay quiet.
    peak = float(mel.max())
    if peak <= 0:
        raise ValueError("the audio is silent")
    log_mel = np.log1p(LOG_COMPRESSION * mel / peak)
    mel_hz = librosa.mel_frequencies(n_mels=N_MELS, fmin=20.0, fmax=sample_rate_hz / 2)
    channels = []
    for low_hz, high_hz in (LOW_BAND_HZ, MID_BAND_HZ, HIGH_BAND_HZ):
        index = np.flatnonzero((mel_hz >= low_hz) & (mel_hz < high_hz))
        channels.append(slice(int(index[0]), int(index[-1]) + 1))
    flux = librosa.onset.onset_strength_multi(
        S=log_mel, sr=sample_rate_hz, hop_length=HOP_LENGTH, lag=1, max_size=1, channels=channels
    )
    bands = {name: flux[i].astype(np.float64) for i, name in enumerate(BANDS)}
    full = librosa.onset.onset_strength(S=log_mel, sr=sample_rate_hz, hop_length=HOP_LENGTH).astype(np.float64)
    rms = librosa.feature.rms(y=samples, frame_length=N_FFT, hop_length=HOP_LENGTH)[0].astype(np.float64)
    length = min(len(full), len(rms), *(len(b) for b in bands.values()))
    return OnsetEnvelopes(
        frame_rate_hz=sample_rate_hz / HOP_LENGTH,
        full=full[:length],
        bands={k: v[:length] for k, v in bands.items()},
        rms=rms[:length],
    )
