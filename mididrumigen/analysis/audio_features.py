"""Rhythm features of a drum recording: tempo, beat grid, swing, syncopation, dynamics, microtiming.

The pipeline: decode to mono float32 (soundfile, or the ffmpeg shipped by imageio-ffmpeg
for compressed formats) -> a log-mel spectrogram -> onset-strength envelopes in three
bands (low ~ kick, mid ~ snare and toms, high ~ hats and cymbals) -> discrete onsets (picked
per band, timed to their attacks on a short-window flux) ->
tempo from comb-filtered autocorrelations across metrical levels with a perceptual prior,
band backbeat cues and onset phase cues (snare accents against kicks, kick and beat
locking), slowed when the MIDI analyzer's counting cues (a snare on 2 and 4) on the
onsets read as kit hits say the beat is slower -> a beat grid (librosa's
dynamic-programming tracker, smoothed) -> features measured from the onsets' positions
between the beats.

librosa and numpy are imported inside functions so `mididrumigen.analysis` stays light.
"""

from __future__ import annotations

import json
import math
import subprocess
import time
from collections.abc import Sequence
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
ONSET_THRESHOLD = (
    0.06  # how far (in units of the band's 99th percentile) a peak must rise above its local mean
)
LOCAL_MEAN_S = 0.15
MERGE_S = 0.018  # peaks in different bands this close are one hit (a 25 ms late snare is its own)


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
    rms_mean_db: float
    rms_std_db: float
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
        S=log_mel, sr=sample_rate_hz, n_fft=N_FFT, hop_length=HOP_LENGTH, lag=1, max_size=1, channels=channels
    )
    bands = {name: flux[i].astype(np.float64) for i, name in enumerate(BANDS)}
    # n_fft must be the spectrogram's own: librosa's centring pad assumes 2048 otherwise (23 ms late).
    full = librosa.onset.onset_strength(S=log_mel, sr=sample_rate_hz, n_fft=N_FFT, hop_length=HOP_LENGTH)
    full = full.astype(np.float64)
    rms = librosa.feature.rms(y=samples, frame_length=N_FFT, hop_length=HOP_LENGTH)[0].astype(np.float64)
    length = min(len(full), len(rms), *(len(b) for b in bands.values()))
    return OnsetEnvelopes(
        frame_rate_hz=sample_rate_hz / HOP_LENGTH,
        full=full[:length],
        bands={k: v[:length] for k, v in bands.items()},
        rms=rms[:length],
    )


# ---------------------------------------------------------------- onsets


@dataclass(frozen=True, slots=True)
class Onsets:
    """Detected onsets: times, full-band strength, the band each one is loudest in, per-band strength."""

    times_s: np.ndarray
    strength: np.ndarray
    band: np.ndarray  # index into BANDS
    band_strength: np.ndarray | None = None  # (onsets, bands): each band's flux over its own 99th percentile

    def __len__(self) -> int:
        return len(self.times_s)


def _band_peak_frames(env: np.ndarray, frame_rate_hz: float) -> np.ndarray:
    """Frames where one band's normalised flux peaks above its local mean by ONSET_THRESHOLD."""
    import numpy as np
    from scipy.ndimage import maximum_filter1d, uniform_filter1d

    local_max = maximum_filter1d(env, 7)
    threshold = uniform_filter1d(env, max(1, int(frame_rate_hz * LOCAL_MEAN_S))) + ONSET_THRESHOLD
    frames = np.flatnonzero((env == local_max) & (env > threshold))
    return frames[(frames > 0) & (frames < len(env) - 1)]


def detect_onsets(envelopes: OnsetEnvelopes) -> Onsets:
    """Peaks picked in each band on its own scale, merged across bands, with sub-frame times.

    Per-band picking finds a quiet hat or ghost snare under a loud kick's flux; each band's
    threshold follows its own local mean, so ghost notes between accents still count.
    """
    import numpy as np

    # A band's scale is its accent level; a sparse band (one hit) is scaled by its peak instead,
    # so decay ripples are not magnified into hits.
    scale = np.array(
        [max(np.percentile(envelopes.bands[name], 99), 0.2 * envelopes.bands[name].max()) for name in BANDS]
    )
    if len(envelopes.full) < 3 or not np.all(scale > 0):
        return Onsets(np.zeros(0), np.zeros(0), np.zeros(0, dtype=int), np.zeros((0, len(BANDS))))
    normalised = [envelopes.bands[name] / scale[i] for i, name in enumerate(BANDS)]
    peaks = np.sort(np.concatenate([_band_peak_frames(env, envelopes.frame_rate_hz) for env in normalised]))
    merge_frames = MERGE_S * envelopes.frame_rate_hz
    kept: list[int] = []
    for frame in peaks.tolist():
        if not kept or frame - kept[-1] >= merge_frames:
            kept.append(frame)
    frames = np.asarray(kept, dtype=int)
    if len(frames) == 0:
        return Onsets(np.zeros(0), np.zeros(0), np.zeros(0, dtype=int), np.zeros((0, len(BANDS))))
    # Per-band strength near each onset (bands peak a frame or two apart), and its time
    # by parabolic interpolation of the bands' sum.
    env = sum(normalised)
    window = np.clip(frames[:, None] + np.arange(-1, 3)[None, :], 0, len(env) - 1)
    band_strength = np.stack([band[window].max(axis=1) for band in normalised], axis=1)
    left, centre, right = env[frames - 1], env[frames], env[frames + 1]
    denominator = left - 2 * centre + right
    shift = np.where(
        np.abs(denominator) > 1e-12, 0.5 * (left - right) / np.where(denominator == 0, 1, denominator), 0
    )
    times = (frames + np.clip(shift, -0.5, 0.5)) / envelopes.frame_rate_hz
    strength = envelopes.full[window].max(axis=1)
    # The loudest band at the peak frame itself names the hit (the window's max favours long hat tails).
    band = np.argmax(np.stack([band[frames] for band in normalised], axis=1), axis=1)
    return Onsets(times_s=times, strength=strength, band=band, band_strength=band_strength)


FINE_N_FFT = 256  # 11.6 ms window: sharp attack times, too noisy for picking the onsets themselves
FINE_HOP_LENGTH = 32
REFINE_WINDOW_S = (0.045, 0.02)  # search before and after a coarse onset for its attack


def fine_flux(samples: np.ndarray, sample_rate_hz: int) -> np.ndarray:
    """Log-power spectral flux on a short-window STFT (frame k compares k with k-1)."""
    import librosa
    import numpy as np

    power = np.abs(librosa.stft(samples, n_fft=FINE_N_FFT, hop_length=FINE_HOP_LENGTH, center=True)) ** 2
    peak = float(power.max())
    if peak <= 0:
        return np.zeros(power.shape[1])
    log_power = np.log1p(LOG_COMPRESSION * power / peak)
    return np.concatenate([[0.0], np.maximum(np.diff(log_power, axis=1), 0.0).sum(axis=0)])


def refine_onset_times_s(times_s: np.ndarray, samples: np.ndarray, sample_rate_hz: int) -> np.ndarray:
    """Move each onset to the strongest short-window attack near it (about 1 ms accurate).

    The 46 ms mel window blurs attack times by 10-20 ms, differently per band (hats read
    later than kicks), which biases swing and microtiming; the short window does not.
    """
    import numpy as np

    flux = fine_flux(samples, sample_rate_hz)
    rate = sample_rate_hz / FINE_HOP_LENGTH
    refined = np.empty(len(times_s))
    previous_frame = -1
    for i, t in enumerate(times_s):
        low = max(0, int((t - REFINE_WINDOW_S[0]) * rate), previous_frame + 1)
        high = min(len(flux), int((t + REFINE_WINDOW_S[1]) * rate) + 1)
        if high <= low:
            refined[i] = t
            continue
        previous_frame = low + int(np.argmax(flux[low:high]))
        refined[i] = previous_frame / rate
    return refined


# ---------------------------------------------------------------- tempo

TEMPO_STEP = 0.005  # log spacing of candidate tempos
PEAK_TOLERANCE = 0.02  # relative lag window when reading an autocorrelation at a period
TEMPO_MULTIPLES: tuple[float, ...] = (0.25, 1 / 3, 0.5, 2 / 3, 1.0, 1.5, 2.0, 3.0, 4.0)
PRIOR_CENTRE_BPM = 115.0
HITS_PER_BEAT_CENTRE_LOG2 = 1.3
# Linear weights of the tempo features (order of `_tempo_feature_matrix`), already divided by
# each feature's spread. Fitted by an averaged structured perceptron on all GMD beat
# performances rendered by tests/audio_synth.py and 30 s loops of their first two bars
# (tests/benchmarks/audio_tempo_fit.py); tests/benchmarks/audio_tempo.py refits them with
# each drummer held out and reports that held-out accuracy as its headline.
TEMPO_FEATURE_WEIGHTS: tuple[float, ...] = (
    6.3425, -0.6054, 2.0777, 0.4263, 8.7502, 4.2789, 4.3849, 2.6099, 7.4849, 2.3189, 7.1334, 1.9272,
    0.7302, 0.2099, 2.9013, -5.0880, 2.1467, 1.0738, 0.6524, 0.7805, 2.1781, 2.4666, -3.3187,
    -3.6139, 2.3175, 2.3977, 5.4569, 3.0629,
)  # fmt: skip


def _normalised_envelope(env: np.ndarray, frame_rate_hz: float) -> np.ndarray:
    """Remove the slow trend, keep rises, and z-score (so correlations measure contrast)."""
    import numpy as np

    width = max(1, int(frame_rate_hz * 0.5))
    out = np.maximum(env - np.convolve(env, np.ones(width) / width, mode="same"), 0.0)
    out = out - out.mean()
    spread = out.std()
    return out / spread if spread > 0 else out


def _correlation(x: np.ndarray, y: np.ndarray, max_lag: int) -> np.ndarray:
    """Overlap-compensated cross-correlation of x then y at lags 0..max_lag (FFT based)."""
    import numpy as np

    n = len(x)
    size = 1 << math.ceil(math.log2(n + max_lag + 1))
    spectrum = np.conj(np.fft.rfft(x, size)) * np.fft.rfft(y, size)
    corr = np.fft.irfft(spectrum, size)[: max_lag + 1]
    overlap = np.maximum(n - np.arange(max_lag + 1), n * 0.25)
    norm = math.sqrt(float(np.dot(x, x)) * float(np.dot(y, y))) or 1.0
    return corr * (n / overlap) / norm


def _windowed_max(values: np.ndarray, lags: np.ndarray) -> np.ndarray:
    """Largest value within +-PEAK_TOLERANCE of each (fractional) lag."""
    import numpy as np

    last = len(values) - 1
    low = np.clip(np.floor(lags * (1 - PEAK_TOLERANCE)).astype(int), 1, last)
    high = np.clip(np.ceil(lags * (1 + PEAK_TOLERANCE)).astype(int) + 1, 2, len(values))
    high = np.maximum(high, low + 1)
    index = np.empty(2 * len(low), dtype=int)
    index[0::2] = low
    index[1::2] = np.minimum(high, last)
    return np.maximum.reduceat(values, index)[0::2]


def tempo_candidates_bpm() -> np.ndarray:
    """The log-spaced candidate tempos, MIN_BPM..MAX_BPM."""
    import numpy as np

    return MIN_BPM * np.exp(np.arange(0.0, math.log(MAX_BPM / MIN_BPM), TEMPO_STEP))


def _swung_half(autocorrelation: np.ndarray, periods: np.ndarray) -> np.ndarray:
    """Largest autocorrelation between half and 0.72 of each period: the off-beat, straight or swung."""
    import numpy as np

    values = [_windowed_max(autocorrelation, periods * f) for f in np.arange(0.5, 0.73, 0.03)]
    return np.max(values, axis=0)


PHASE_WINDOW_S = 4.0  # phase statistics per window, so a slightly-off period cannot drift


def _window_phasors(index: np.ndarray, phasors: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted sum of the onsets' unit phasors per window (windows x periods)."""
    import numpy as np

    windows = int(index.max()) + 1 if len(index) else 1
    membership = np.zeros((windows, len(index)), dtype=np.complex64)
    membership[index, np.arange(len(index))] = weights
    return membership @ phasors


def onset_band_classes(onsets: Onsets) -> np.ndarray:
    """Band index (kick = low, snare = mid, hats = high) of each onset from its band strengths.

    Hats and cymbals have no mid-band flux; a kick's low band outweighs its mid band, a
    snare's does not (the high band cannot tell them apart: hats often sound with both).
    """
    import numpy as np

    if onsets.band_strength is None:
        return onsets.band
    low, mid, high = (onsets.band_strength[:, i] for i in range(3))
    loudest = np.maximum(np.maximum(low, mid), high)
    return np.where(mid < 0.25 * loudest, 2, np.where(low > 1.1 * mid, 0, 1))


def kit_roles(onsets: Onsets) -> tuple[np.ndarray, np.ndarray]:
    """Soft kick and snare evidence (0..) of each onset from its band strengths.

    A kick is low band without much high band; a snare accent shows in the mid and high
    bands at once (hats alone have no mid, kicks no high).
    """
    import numpy as np

    if onsets.band_strength is None or len(onsets) == 0:
        return np.zeros(len(onsets)), np.zeros(len(onsets))
    low, mid, high = (onsets.band_strength[:, i] for i in range(3))
    kick = np.clip(low - high, 0.0, None)
    snare = np.sqrt(np.clip(mid, 0.0, None) * np.clip(high, 0.0, None))
    return kick, snare


def _kit_phase_features(onsets: Onsets, periods_s: np.ndarray) -> list[np.ndarray]:
    """Backbeat (snare accents half a bar-pair from kicks), kick locking and beat locking per period."""
    import numpy as np

    from mididrumigen.analysis.tempo import antiphase, phase_locking

    times = onsets.times_s
    kick, snare = kit_roles(onsets)
    accent = snare * (snare >= 0.5 * (np.percentile(snare, 90) if len(snare) else 0.0))
    index = ((times - times.min()) / PHASE_WINDOW_S).astype(int) if len(times) else np.zeros(0, dtype=int)
    # One complex exponential: phasors at P and P/2 are powers of those at 2P.
    at_two = np.exp(1j * np.pi * times[:, None] / periods_s[None, :]).astype(np.complex64)
    at_one = at_two * at_two
    at_half = at_one * at_one
    total = onsets.strength
    snare2 = _window_phasors(index, at_two, accent)
    backbeat = phase_locking(snare2, float(accent.sum())) * antiphase(
        _window_phasors(index, at_two, kick), snare2
    )
    kick_locking = phase_locking(_window_phasors(index, at_one, kick), float(kick.sum()))
    beat_locking = phase_locking(_window_phasors(index, at_one, total), float(total.sum()))
    half_locking = phase_locking(_window_phasors(index, at_half, total), float(total.sum()))
    return [backbeat, kick_locking, beat_locking, half_locking]


def _tempo_feature_matrix(
    envelopes: OnsetEnvelopes, onsets: Onsets, candidates_bpm: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Features of every candidate tempo (rows) and the full-band autocorrelation."""
    import numpy as np

    rate = envelopes.frame_rate_hz
    bands = {name: _normalised_envelope(envelopes.bands[name], rate) for name in BANDS}
    combined = bands["low"] + bands["mid"] + bands["high"]
    periods = rate * 60.0 / candidates_bpm
    max_lag = int(periods.max() * 4.3)

    def at_multiples(corr: np.ndarray) -> dict[float, np.ndarray]:
        return {m: _windowed_max(corr, periods * m) for m in TEMPO_MULTIPLES}

    full_ac = _correlation(combined, combined, max_lag)
    full = at_multiples(full_ac)
    low = at_multiples(_correlation(bands["low"], bands["low"], max_lag))
    mid = at_multiples(_correlation(bands["mid"], bands["mid"], max_lag))
    high = at_multiples(_correlation(bands["high"], bands["high"], max_lag))
    backbeat = at_multiples(
        _correlation(bands["low"], bands["mid"], max_lag) + _correlation(bands["mid"], bands["low"], max_lag)
    )
    octaves = np.log2(candidates_bpm / PRIOR_CENTRE_BPM)
    onsets_per_s = len(onsets) / (len(combined) / rate)
    hits_per_beat = np.log2(np.maximum(onsets_per_s * 60.0 / candidates_bpm, 0.1))
    columns = [
        -(octaves**2),
        octaves,
        -((hits_per_beat - HITS_PER_BEAT_CENTRE_LOG2) ** 2),
        hits_per_beat,
        *(full[m] for m in TEMPO_MULTIPLES),
        low[1.0],
        low[2.0],
        mid[1.0],
        mid[2.0],
        high[0.5],
        high[1.0],
        high[2.0],
        backbeat[0.5],
        backbeat[1.0],
        backbeat[2.0],
        _swung_half(full_ac, periods),
        *_kit_phase_features(onsets, 60.0 / candidates_bpm),
    ]
    return np.stack(columns, axis=1), full_ac


def _refine_period_frames(autocorrelation: np.ndarray, period: float, length: int) -> float:
    """Sharpen a period by maximising the mean autocorrelation over its first multiples."""
    import numpy as np

    best_value, best_period = -math.inf, period
    axis = np.arange(len(autocorrelation))
    for trial in period * np.exp(np.linspace(-0.025, 0.025, 51)):
        multiples = np.arange(1, 9)
        multiples = multiples[multiples * trial < min(0.75 * length, len(autocorrelation) - 1)]
        if len(multiples) == 0:
            multiples = np.array([1])
        value = float(np.mean(np.interp(multiples * trial, axis, autocorrelation)))
        if value > best_value:
            best_value, best_period = value, float(trial)
    return best_period


@dataclass(frozen=True, slots=True)
class TempoEstimate:
    """A tempo with a 0-1 confidence (margin over the best rival outside the same metrical level)."""

    tempo_bpm: float
    confidence: float


def estimate_audio_tempo(
    envelopes: OnsetEnvelopes, onsets: Onsets, weights: Sequence[float] | np.ndarray = TEMPO_FEATURE_WEIGHTS
) -> TempoEstimate:
    """Tempo from band envelopes and onsets: scored metrical-level features (weights: TEMPO_FEATURE_WEIGHTS)."""
    import numpy as np

    candidates = tempo_candidates_bpm()
    features, full_ac = _tempo_feature_matrix(envelopes, onsets, candidates)
    if len(weights) != features.shape[1]:
        raise ValueError(f"tempo feature weights must have {features.shape[1]} values")
    score = features @ np.asarray(weights, dtype=float)
    best = int(np.argmax(score))
    period = _refine_period_frames(
        full_ac, envelopes.frame_rate_hz * 60.0 / candidates[best], len(envelopes.full)
    )
    tempo = float(np.clip(envelopes.frame_rate_hz * 60.0 / period, MIN_BPM, MAX_BPM))
    rivals = np.abs(np.log(candidates / candidates[best])) > 0.04
    margin = float(score[best] - score[rivals].max()) if rivals.any() else 0.0
    confidence = float(1.0 - math.exp(-max(margin, 0.0) / 2.0))
    # The cues only ever slow the reading down (the bands' 16th hats pull it to double time):
    # read faster, a lone snare on 3 is also what a 60 bpm backbeat looks like at 120 when the
    # kick on 1 sounds with a hat and reads as a snare.
    counted = counted_audio_tempo_bpm(onsets, tempo)
    if counted is not None and counted < (1.0 - CUE_SLOWER) * tempo:
        tempo = float(np.clip(counted, MIN_BPM, MAX_BPM))
    return TempoEstimate(tempo_bpm=tempo, confidence=confidence)


# The counting cues of the MIDI analyzer on the onsets read as kit hits. A hit is a snare
# when its snare evidence (kit_roles) reaches CUE_SNARE_SHARE of the 90th percentile's and
# its high band at least CUE_SNARE_HIGH_OVER_LOW of its low band (a kick under a closed hat
# has mid and high band too, but little high against its low). Set by looking at the GMD
# renders (0.3 and 0.5 give the same held-out Accuracy1 within a file or two) and at
# synthetic grooves of tests/audio_synth.py (the high-over-low rule).
CUE_SNARE_SHARE = 0.3
CUE_SNARE_HIGH_OVER_LOW = 0.5
CUE_SLOWER = 0.04  # a counted tempo this much below the reading replaces it
CUE_PITCHES = (36, 38, 42)  # kick, snare, closed hi-hat, by band class
CUE_ON_BEAT_BEATS = (
    0.12  # the first bar line: the grid's beat at or before the first onset, or this close after it
)


def onsets_as_kit_hits(onsets: Onsets) -> tuple[np.ndarray, np.ndarray]:
    """GM pitch (36 kick, 38 snare, 42 hi-hat) and velocity 1..127 of each onset, for the MIDI cues.

    Snares are the hits with strong snare evidence (mid and high band at once) and a high
    band not far under their low band: the band class alone reads many snare accents as
    kicks. A snare's velocity scales its snare evidence, any other hit's its full-band
    strength, each by its 99th percentile.
    """
    import numpy as np

    if onsets.band_strength is None or len(onsets) == 0:
        raise ValueError("onsets without band strengths cannot be read as kit hits")
    classes = onset_band_classes(onsets)
    kick, snare = kit_roles(onsets)
    low, high = onsets.band_strength[:, 0], onsets.band_strength[:, 2]
    is_snare = (snare >= CUE_SNARE_SHARE * np.percentile(snare, 90)) & (high >= CUE_SNARE_HIGH_OVER_LOW * low)
    classes = np.where(is_snare, 1, np.where(classes == 1, np.where(kick > 0, 0, 2), classes))
    pitches = np.asarray(CUE_PITCHES)[classes]

    def scaled(values: np.ndarray) -> np.ndarray:
        top = float(np.percentile(values, 99)) or 1.0
        return np.clip(np.rint(127.0 * values / top), 1, 127)

    velocities = np.where(is_snare, scaled(snare), scaled(onsets.strength))
    return pitches, velocities


def counted_audio_tempo_bpm(onsets: Onsets, tempo_bpm: float) -> float | None:
    """The beat a drummer would count from the onsets read as kit hits, when a cue says so; else None.

    Two of the MIDI analyzer's counting cues (midi_features.backbeat_level_bpm): an accented
    snare on 2 and 4 every bar, or on 3 alone with the other beats free of it (a half-time
    feel), looked for at half, two thirds, the same, three halves and double tempo_bpm; a
    cue decides when exactly one level in its range shows it. Its other cues need more than
    the bands tell (the hi-hat pedal) or misfire on band-read snares (the snare on 2 alone,
    hats in 32nds). The grid is fitted to the onsets at tempo_bpm and bars are counted in
    4/4 from its beat at the first onset: a recording, like a MIDI clip, opens on a bar line.
    """
    import numpy as np

    from mididrumigen.analysis import midi_features as mf
    from mididrumigen.analysis.tempo import fit_beat_grid

    if len(onsets) < 4 or onsets.band_strength is None:
        return None
    pitches, velocities = onsets_as_kit_hits(onsets)
    times = onsets.times_s
    grid = fit_beat_grid(times, tempo_bpm, mf.onset_weights(pitches, velocities))
    start_beats = np.floor((times[0] - grid.phase_s) / grid.period_s + CUE_ON_BEAT_BEATS)
    origin_s = grid.phase_s + start_beats * grid.period_s
    keep = times >= origin_s - CUE_ON_BEAT_BEATS * grid.period_s
    classes = ["snare" if pitch == CUE_PITCHES[1] else "other" for pitch in pitches[keep]]
    if classes.count("snare") < 4:
        return None
    accent = mf.accented_snare(velocities[keep], classes)
    # A hit played just ahead of the first bar line sits on it (midi_features counts from 0).
    beat = np.maximum((times[keep][accent] - origin_s) / grid.period_s, 0.0)
    return mf.backbeat_level_bpm(beat, grid.tempo_bpm, 4)


# ---------------------------------------------------------------- beat grid


def track_beats_s(envelopes: OnsetEnvelopes, tempo_bpm: float) -> np.ndarray:
    """Beat times: librosa's dynamic-programming tracker at our tempo, smoothed by local line fits."""
    import librosa
    import numpy as np

    _, beats = librosa.beat.beat_track(
        onset_envelope=envelopes.full,
        sr=round(envelopes.frame_rate_hz * HOP_LENGTH),
        hop_length=HOP_LENGTH,
        bpm=tempo_bpm,
        tightness=400,
        trim=False,
        units="time",
    )
    return smooth_beats_s(np.asarray(beats, dtype=float), 60.0 / tempo_bpm)


def smooth_beats_s(beats_s: np.ndarray, period_s: float, half_window: int = 4) -> np.ndarray:
    """Replace each beat by a line fit through its neighbours (removes frame jitter, keeps drift)."""
    import numpy as np

    if len(beats_s) < 3:
        return beats_s
    # Repair gaps the tracker left (a missing beat would double one beat's length).
    filled = [float(beats_s[0])]
    for t in beats_s[1:]:
        steps = max(1, round((t - filled[-1]) / period_s))
        filled.extend(filled[-1] + (t - filled[-1]) * k / steps for k in range(1, steps + 1))
    beats = np.asarray(filled)
    index = np.arange(len(beats), dtype=float)
    out = np.empty_like(beats)
    for k in range(len(beats)):
        lo, hi = max(0, k - half_window), min(len(beats), k + half_window + 1)
        slope, intercept = np.polyfit(index[lo:hi], beats[lo:hi], 1)
        out[k] = slope * k + intercept
    return out


# Phase re-tracking of the beat grid (rephase_beats_s). Chosen on the GMD renders of
# tests/benchmarks/audio_tempo.py (in-sample: a small grid of values, every one of which beat
# the unrephased grid on swung and straight files alike; these sit mid-plateau).
REPHASE_STEPS = 25  # candidate offsets of each tracked beat, -0.5 .. +0.5 beat
REPHASE_SIGMA_BEATS = 0.05  # width of an onset's pull on a beat
REPHASE_MOVE_COST = 20.0  # per beat, times the squared change of offset (beats) between beats
REPHASE_OFFSET_COST = 1.0  # per beat, times |offset|: the tracker's own beat is the prior


def rephase_beats_s(beats_s: np.ndarray, times_s: np.ndarray, strength: np.ndarray) -> np.ndarray:
    """Shift each tracked beat by a smoothly varying offset (Viterbi) onto the onsets' weight.

    On swung grooves librosa's tracker slides, over a few bars, onto the swing's off-beat
    (about a third of a beat early) and the line-fit smoothing spreads the slide; swing then
    reads against the wrong grid. Here each beat may move by -0.5 .. +0.5 beat: a move earns
    the strength of the onsets near the moved beat (per beat, on the scale of the best
    offset), pays a little per unit of offset, and consecutive offsets may change only
    smoothly (quadratic cost), so a section keeps one phase and slides follow the hits.
    Small moves follow single hits too (a laid-back snare pulls its beat), so this grid is
    for the swing only (smoothing the offsets over a bar instead loses the gain, in-sample).
    """
    import numpy as np

    n = len(beats_s)
    if n < 3 or len(times_s) == 0:
        return beats_s
    weights = strength / (float(np.percentile(strength, 90)) or 1.0)
    positions = beat_positions(times_s, beats_s)
    offsets = np.linspace(-0.5, 0.5, REPHASE_STEPS)
    emission = np.zeros((n, len(offsets)))
    for j, offset in enumerate(offsets):
        relative = positions - offset
        beat = np.rint(relative).astype(int)
        inside = (beat >= 0) & (beat < n)
        distance = relative[inside] - beat[inside]
        pull = weights[inside] * np.exp(-0.5 * (distance / REPHASE_SIGMA_BEATS) ** 2)
        np.add.at(emission[:, j], beat[inside], pull)
    emission = emission / (float(np.mean(emission.max(axis=1))) or 1.0)
    emission -= REPHASE_OFFSET_COST * np.abs(offsets)[None, :]
    move_cost = REPHASE_MOVE_COST * (offsets[:, None] - offsets[None, :]) ** 2
    score = emission[0].copy()
    back = np.zeros((n, len(offsets)), dtype=int)
    columns = np.arange(len(offsets))
    for k in range(1, n):
        candidates = score[:, None] - move_cost
        back[k] = np.argmax(candidates, axis=0)
        score = candidates[back[k], columns] + emission[k]
    path = np.zeros(n, dtype=int)
    path[-1] = int(np.argmax(score))
    for k in range(n - 1, 0, -1):
        path[k - 1] = back[k, path[k]]
    return beats_s + offsets[path] * np.gradient(beats_s)


def beat_positions(times_s: np.ndarray, beats_s: np.ndarray) -> np.ndarray:
    """Fractional beat index of each time against a beat grid (extrapolated at the ends)."""
    import numpy as np

    if len(beats_s) < 2:
        return np.full(len(times_s), np.nan)
    index = np.arange(len(beats_s), dtype=float)
    first_period = beats_s[1] - beats_s[0]
    last_period = beats_s[-1] - beats_s[-2]
    inside = np.interp(times_s, beats_s, index)
    before = (times_s - beats_s[0]) / first_period
    after = len(beats_s) - 1 + (times_s - beats_s[-1]) / last_period
    return np.where(times_s < beats_s[0], before, np.where(times_s > beats_s[-1], after, inside))


# ---------------------------------------------------------------- features from positions


def swing_percent_from_positions(positions_beats: np.ndarray, level: str = "8th") -> float:
    """Median position (percent) of off-beat hits in their pair: 50 straight, 66.7 triplet swing.

    Shared definition: at the 8th level the pair is one beat; at the 16th level it is half a
    beat. Only hits in the off-beat half of their pair (SWING_WINDOW) count; 50 when fewer than 4.
    """
    import numpy as np

    positions = np.asarray(positions_beats, dtype=float)
    positions = positions[np.isfinite(positions)]
    if level == "8th":
        in_pair = positions % 1.0
    elif level == "16th":
        in_pair = (positions * 2.0) % 1.0
    else:
        raise ValueError("swing level must be '8th' or '16th'")
    offbeats = in_pair[(in_pair >= SWING_WINDOW[0]) & (in_pair <= SWING_WINDOW[1])]
    if len(offbeats) < 4:
        return 50.0
    return float(np.median(offbeats) * 100.0)


def swing_ratio_of_percent(percent: float) -> float:
    """Long/short ratio of a swing percent (p / (100 - p))."""
    return percent / (100.0 - percent)


def grid_deviation_beats(positions_beats: np.ndarray, swing_8th: float, swing_16th: float) -> np.ndarray:
    """Signed distance in beats of each position from its nearest swung 16th-grid point."""
    import numpy as np

    p8, p16 = swing_8th / 100.0, swing_16th / 100.0
    grid = np.array([0.0, 0.5 * p16, p8, p8 + (1.0 - p8) * p16, 1.0])
    within = positions_beats % 1.0
    deltas = within[:, None] - grid[None, :]
    nearest = np.argmin(np.abs(deltas), axis=1)
    return deltas[np.arange(len(within)), nearest]


def syncopation_share(positions_beats: np.ndarray, strength: np.ndarray) -> float:
    """Share of onset strength on off-beats that anticipate an empty following beat (0-1)."""
    import numpy as np

    if len(positions_beats) == 0 or strength.sum() <= 0:
        return 0.0
    nearest_beat = np.rint(positions_beats)
    on_beat = np.abs(positions_beats - nearest_beat) < ON_BEAT_WINDOW
    occupied = set(nearest_beat[on_beat].astype(int).tolist())
    off_beat = ~on_beat
    next_beat = np.ceil(positions_beats).astype(int)
    anticipates = np.array([nb not in occupied for nb in next_beat.tolist()], dtype=bool)
    return float(strength[off_beat & anticipates].sum() / strength.sum())


def ghost_share(strength: np.ndarray) -> float:
    """Share of hits below GHOST_RATIO x the accent level (90th percentile of the same hits)."""
    import numpy as np

    if len(strength) < 4:
        return 0.0
    accent = float(np.percentile(strength, 90))
    return float(np.mean(strength < GHOST_RATIO * accent)) if accent > 0 else 0.0


# ---------------------------------------------------------------- entry points


def analyze_audio_file(
    path: str | Path, *, backend: str = "auto", max_duration_s: float | None = None
) -> AudioFeatures:
    """Decode an audio file (any format ffmpeg reads) and measure its rhythm features."""
    samples = decode_audio_file(path, ANALYSIS_SAMPLE_RATE_HZ)
    return analyze_audio(samples, ANALYSIS_SAMPLE_RATE_HZ, backend=backend, max_duration_s=max_duration_s)


def resolve_backend(backend: str) -> str:
    """The backend `auto` stands for, or the named one (ValueError if unknown or not installed)."""
    from mididrumigen.analysis.madmom_shim import madmom_available

    if backend not in BACKENDS:
        raise ValueError(f"unknown audio backend {backend!r} (use one of {', '.join(BACKENDS)})")
    if backend == "auto":
        return AUTO_BACKEND if AUTO_BACKEND == "librosa" or madmom_available() else "librosa"
    if backend == "madmom" and not madmom_available():
        raise ValueError("the madmom backend needs the optional extra: pip install 'mididrumigen[madmom]'")
    return backend


# Measured by tests/benchmarks/audio_tempo.py: the librosa path beats madmom's RNN on rendered GMD.
AUTO_BACKEND = "librosa"


def analyze_audio(
    samples: np.ndarray,
    sample_rate_hz: int,
    *,
    backend: str = "auto",
    max_duration_s: float | None = None,
    tempo_feature_weights: Sequence[float] | np.ndarray = TEMPO_FEATURE_WEIGHTS,
) -> AudioFeatures:
    """Measure tempo, beat grid, swing, syncopation, dynamics and microtiming of drum audio.

    tempo_feature_weights replaces the fitted metrical-level weights (the benchmark passes
    weights fitted without the performer, to measure held out).
    """
    import numpy as np

    started = time.perf_counter()
    chosen = resolve_backend(backend)
    audio = _prepare_samples(samples, sample_rate_hz, max_duration_s)
    duration_s = len(audio) / ANALYSIS_SAMPLE_RATE_HZ
    envelopes = onset_envelopes(audio, ANALYSIS_SAMPLE_RATE_HZ)
    onsets = detect_onsets(envelopes)
    if len(onsets) < 4:
        raise ValueError(f"no rhythm found: only {len(onsets)} onsets in {duration_s:.1f} s of audio")
    if chosen == "madmom":
        tempo, beats = _madmom_tempo_and_beats(audio, ANALYSIS_SAMPLE_RATE_HZ)
    else:
        tempo = estimate_audio_tempo(envelopes, onsets, tempo_feature_weights)
        beats = track_beats_s(envelopes, tempo.tempo_bpm)
    if len(beats) < 2:
        period = 60.0 / tempo.tempo_bpm
        beats = np.arange(float(onsets.times_s[0]), duration_s + period, period)
    onsets = Onsets(
        times_s=refine_onset_times_s(onsets.times_s, audio, ANALYSIS_SAMPLE_RATE_HZ),
        strength=onsets.strength,
        band=onsets.band,
        band_strength=onsets.band_strength,
    )
    # The swing reads against the rephased grid; microtiming, syncopation and the reported
    # beats against the tracker's smooth one (the rephased grid absorbs a laid-back snare).
    swing_beats = rephase_beats_s(beats, onsets.times_s, onsets.strength) if chosen == "librosa" else beats
    swing_positions = _anchored_positions(onsets.times_s, swing_beats)[1]
    beats, positions = _anchored_positions(onsets.times_s, beats)
    swing_8th = swing_percent_from_positions(swing_positions, "8th")
    swing_16th = swing_percent_from_positions(swing_positions, "16th")
    period_ms = 60000.0 / tempo.tempo_bpm
    deviation_ms = grid_deviation_beats(positions, swing_8th, swing_16th) * period_ms
    on_grid = np.abs(deviation_ms) < 0.08 * period_ms
    microtiming: dict[str, float] = {}
    microtiming_std: dict[str, float] = {}
    classes = onset_band_classes(onsets)
    for index, band in enumerate(BANDS):
        chosen_hits = on_grid & (classes == index)
        if chosen_hits.sum() >= 3:
            microtiming[KIT_CLASS_BY_BAND[band]] = round(float(np.mean(deviation_ms[chosen_hits])), 2)
            microtiming_std[KIT_CLASS_BY_BAND[band]] = round(float(np.std(deviation_ms[chosen_hits])), 2)
    strength = onsets.strength / (float(np.percentile(onsets.strength, 90)) or 1.0)
    snare_like = onsets.strength[classes == BANDS.index("mid")]
    rms_db = 20.0 * np.log10(np.maximum(envelopes.rms, 1e-6))
    loud = rms_db > rms_db.max() - 60.0
    grid_share = float(on_grid.mean())
    duration_factor = min(1.0, duration_s / 20.0)
    confidence = 0.45 * tempo.confidence + 0.35 * grid_share + 0.2 * duration_factor
    beats_inside = beats[(beats >= 0) & (beats <= duration_s)]
    return AudioFeatures(
        duration_s=round(duration_s, 3),
        tempo_bpm=round(tempo.tempo_bpm, 2),
        tempo_confidence=round(tempo.confidence, 3),
        beat_times_s=tuple(float(t) for t in beats_inside),
        onset_count=len(onsets),
        swing_ratio=round(swing_ratio_of_percent(swing_8th), 3),
        swing_percent=round(swing_8th, 2),
        swing_percent_16th=round(swing_16th, 2),
        syncopation=round(syncopation_share(positions, onsets.strength), 3),
        onset_strength_mean=round(float(np.mean(strength)), 3),
        onset_strength_std=round(float(np.std(strength)), 3),
        ghost_note_share=round(ghost_share(snare_like), 3),
        rms_mean_db=round(float(np.mean(rms_db[loud])), 2),
        rms_std_db=round(float(np.std(rms_db[loud])), 2),
        hits_per_beat=round(len(onsets) / max(duration_s * tempo.tempo_bpm / 60.0, 1e-9), 3),
        microtiming_ms=microtiming,
        microtiming_std_ms=microtiming_std,
        timing_jitter_ms=round(float(np.std(deviation_ms[on_grid])) if on_grid.any() else 0.0, 2),
        confidence=round(float(np.clip(confidence, 0.0, 1.0)), 3),
        backend=chosen,
        analysis_time_s=round(time.perf_counter() - started, 4),
    )


def _anchored_positions(times_s: np.ndarray, beats_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The beats shifted onto the hits near them, and each time's position against them.

    The tracker's envelope lags the attacks, and deviations should read against the band's
    own pulse: the shift is the median offset of the hits within ON_BEAT_WINDOW of a beat.
    """
    import numpy as np

    positions = beat_positions(times_s, beats_s)
    near_beat = np.abs(positions - np.rint(positions)) < ON_BEAT_WINDOW
    if near_beat.sum() >= 3 and len(beats_s) >= 2:
        shift_beats = float(np.median((positions - np.rint(positions))[near_beat]))
        beats_s = beats_s + shift_beats * np.gradient(beats_s)
        positions = beat_positions(times_s, beats_s)
    return beats_s, positions


def _prepare_samples(samples: np.ndarray, sample_rate_hz: int, max_duration_s: float | None) -> np.ndarray:
    """Mono float32 at the analysis rate, checked for length, finiteness and silence."""
    import numpy as np

    if not isinstance(sample_rate_hz, int) or sample_rate_hz <= 0:
        raise ValueError("sample rate must be a positive integer of hz")
    audio = np.asarray(samples, dtype=np.float32)
    if audio.ndim == 2:
        # Accept (frames, channels) or (channels, frames): average the short axis.
        audio = audio.mean(axis=1 if audio.shape[1] <= audio.shape[0] else 0)
    if audio.ndim != 1:
        raise ValueError("audio samples must be a 1-d (mono) or 2-d (multichannel) array")
    if not np.all(np.isfinite(audio)):
        raise ValueError("audio samples contain nan or infinity")
    if max_duration_s is not None:
        audio = audio[: int(max_duration_s * sample_rate_hz)]
    if len(audio) < MIN_DURATION_S * sample_rate_hz:
        raise ValueError(f"audio is too short to analyse: under {MIN_DURATION_S:.0f} s")
    if float(np.sqrt(np.mean(np.square(audio, dtype=np.float64)))) < SILENCE_RMS:
        raise ValueError("the audio is silent: no rhythm to analyse")
    if sample_rate_hz != ANALYSIS_SAMPLE_RATE_HZ:
        import librosa

        audio = librosa.resample(audio, orig_sr=sample_rate_hz, target_sr=ANALYSIS_SAMPLE_RATE_HZ)
    return np.ascontiguousarray(audio, dtype=np.float32)


MADMOM_SAMPLE_RATE_HZ = 44100
MADMOM_FPS = 100


def _madmom_tempo_and_beats(audio: np.ndarray, sample_rate_hz: int) -> tuple[TempoEstimate, np.ndarray]:
    """Tempo and beats from madmom's RNN beat activation (tempo histogram + DBN tracker)."""
    import librosa
    import numpy as np

    from mididrumigen.analysis.madmom_shim import import_madmom

    madmom = import_madmom()
    from madmom.features.beats import DBNBeatTrackingProcessor, RNNBeatProcessor
    from madmom.features.tempo import TempoEstimationProcessor

    resampled = librosa.resample(audio, orig_sr=sample_rate_hz, target_sr=MADMOM_SAMPLE_RATE_HZ)
    signal = madmom.audio.signal.Signal(resampled, sample_rate=MADMOM_SAMPLE_RATE_HZ, num_channels=1)
    activation = RNNBeatProcessor()(signal)
    histogram = TempoEstimationProcessor(fps=MADMOM_FPS, min_bpm=MIN_BPM, max_bpm=MAX_BPM)(activation)
    tempo_bpm, strength = float(histogram[0][0]), float(histogram[0][1])
    beats = np.asarray(DBNBeatTrackingProcessor(fps=MADMOM_FPS, min_bpm=MIN_BPM, max_bpm=MAX_BPM)(activation))
    return TempoEstimate(tempo_bpm=tempo_bpm, confidence=strength), beats
