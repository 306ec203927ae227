"""Tempo and beat grid from the onsets of a performance (never from a tempo meta event)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

FRAME_S = 0.005  # resolution of the onset train
SMOOTH_S = 0.012  # human timing spread folded into each onset
DEFAULT_PRIOR_BPM = 115.0  # perceptual preference for the beat level
PRIOR_WIDTH_OCTAVES = 0.9
CANDIDATE_STEP = 0.004  # relative step between candidate tempos
OVERLAP_FLOOR = 0.25  # how far the autocorrelation of short clips is trusted at long lags
# Weights of a candidate beat period's multiples and subdivisions in the comb score.
COMB_MULTIPLES: tuple[tuple[float, float], ...] = ((1.0, 1.0), (2.0, 0.5), (4.0, 0.25), (0.5, 0.25))


@dataclass(frozen=True, slots=True)
class BeatGrid:
    """A constant-tempo beat grid: beat k sits at phase_s + k * period_s."""

    period_s: float
    phase_s: float

    @property
    def tempo_bpm(self) -> float:
        """Beats per minute of the grid."""
        return 60.0 / self.period_s

    def beat_position(self, time_s: float | np.ndarray) -> np.ndarray:
        """Position of a time in beats from the grid's beat 0 (fractional)."""
        return (np.asarray(time_s, dtype=float) - self.phase_s) / self.period_s


def _clean_onsets(
    onset_times_s: Sequence[float] | np.ndarray, weights: Sequence[float] | np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    times = np.asarray(onset_times_s, dtype=float)
    if times.ndim != 1:
        raise ValueError("onset times must be a flat sequence of seconds")
    w = np.ones_like(times) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != times.shape:
        raise ValueError("weights must have one value per onset")
    keep = np.isfinite(times) & np.isfinite(w) & (w > 0)
    times, w = times[keep], w[keep]
    order = np.argsort(times, kind="stable")
    return times[order], w[order]


def onset_train(times_s: np.ndarray, weights: np.ndarray, frame_s: float = FRAME_S) -> np.ndarray:
    """Sample weighted onsets into a Gaussian-smoothed train of frames."""
    start = times_s[0]
    frames = np.rint((times_s - start) / frame_s).astype(int)
    length = int(frames[-1]) + 1
    train = np.bincount(frames, weights=weights, minlength=length).astype(float)
    sigma = SMOOTH_S / frame_s
    half = math.ceil(3 * sigma)
    kernel = np.exp(-0.5 * (np.arange(-half, half + 1) / sigma) ** 2)
    return np.convolve(train, kernel, mode="same")


def autocorrelation(signal: np.ndarray, max_lag: int) -> np.ndarray:
    """Unbiased-by-overlap autocorrelation for lags 0..max_lag (FFT based)."""
    n = len(signal)
    size = 1 << math.ceil(math.log2(max(2 * n, 2)))
    spectrum = np.fft.rfft(signal, size)
    ac = np.fft.irfft(spectrum * np.conj(spectrum), size)[: max_lag + 1]
    if len(ac) < max_lag + 1:
        ac = np.pad(ac, (0, max_lag + 1 - len(ac)))
    overlap = np.maximum(n - np.arange(max_lag + 1), n * OVERLAP_FLOOR)
    return ac * (n / overlap)


def log_gaussian_prior(tempo_bpm: np.ndarray, prior_bpm: float, width_octaves: float) -> np.ndarray:
    """Perceptual preference for a tempo: Gaussian in log2 tempo around prior_bpm."""
    return np.exp(-0.5 * (np.log2(tempo_bpm / prior_bpm) / width_octaves) ** 2)


def _peak_near(ac: np.ndarray, lag_frames: np.ndarray, tolerance: float = 0.015) -> np.ndarray:
    """Largest autocorrelation within +-tolerance of each (fractional) lag."""
    result = np.zeros(len(lag_frames))
    for i, lag in enumerate(lag_frames):
        lo = max(math.floor(lag * (1 - tolerance)), 1)
        hi = math.ceil(lag * (1 + tolerance))
        if lo >= len(ac):
            continue
        result[i] = ac[lo : min(hi + 1, len(ac))].max()
    return result


def tempo_scores(
    onset_times_s: Sequence[float] | np.ndarray,
    weights: Sequence[float] | np.ndarray | None = None,
    *,
    min_bpm: float = 40.0,
    max_bpm: float = 300.0,
    prior_bpm: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Candidate tempos and their comb scores times the perceptual prior."""
    times, w = _clean_onsets(onset_times_s, weights)
    candidates = min_bpm * np.exp(np.arange(0.0, math.log(max_bpm / min_bpm) + 1e-9, CANDIDATE_STEP))
    if len(times) < 2 or times[-1] - times[0] < FRAME_S * 4:
        return candidates, np.zeros(len(candidates))
    train = onset_train(times, w)
    periods_frames = 60.0 / candidates / FRAME_S
    max_lag = math.ceil(periods_frames.max() * max(m for m, _ in COMB_MULTIPLES) * 1.05)
    ac = autocorrelation(train, max_lag)
    ac = ac / ac[0] if ac[0] > 0 else ac
    score = np.zeros(len(candidates))
    for multiple, weight in COMB_MULTIPLES:
        score += weight * _peak_near(ac, periods_frames * multiple)
    prior = log_gaussian_prior(candidates, prior_bpm or DEFAULT_PRIOR_BPM, PRIOR_WIDTH_OCTAVES)
    return candidates, score * prior


def refine_tempo_bpm(times_s: np.ndarray, weights: np.ndarray, tempo_bpm: float) -> float:
    """Sharpen a tempo by following its autocorrelation peak out to far multiples of the beat."""
    train = onset_train(times_s, weights)
    period = 60.0 / tempo_bpm / FRAME_S
    ac = autocorrelation(train, len(train) - 1)
    multiple = 1
    while multiple * period < len(train) * 0.6:
        centre = multiple * period
        half = max(3.0, 0.04 * period)
        lo, hi = max(int(centre - half), 1), min(math.ceil(centre + half), len(ac) - 2)
        if hi <= lo:
            break
        peak = lo + int(np.argmax(ac[lo : hi + 1]))
        if lo < peak < hi:
            a, b, c = ac[peak - 1], ac[peak], ac[peak + 1]
            denom = a - 2 * b + c
            shift = 0.5 * (a - c) / denom if denom < 0 else 0.0
            period = (peak + shift) / multiple
        multiple *= 2
    return 60.0 / (period * FRAME_S)


def fit_beat_grid(
    onset_times_s: Sequence[float] | np.ndarray,
    tempo_bpm: float,
    weights: Sequence[float] | np.ndarray | None = None,
    *,
    iterations: int = 4,
) -> BeatGrid:
    """Refine a tempo guess into a beat grid fitted to the onsets near beats."""
    times, w = _clean_onsets(onset_times_s, weights)
    if len(times) == 0:
        raise ValueError("no onsets to fit a beat grid to")
    period = 60.0 / tempo_bpm
    start = times[0]
    # Fit over a window that doubles each round, so a rough tempo cannot drift a whole beat.
    span_beats = 8.0
    while True:
        window = times <= start + span_beats * period
        phase = _weighted_phase_s(times[window], w[window], period)
        for _ in range(iterations):
            position = (times[window] - phase) / period
            index = np.rint(position)
            near = np.abs(position - index) < 0.12
            if near.sum() < 3 or index[near].max() == index[near].min():
                break
            sel_w = w[window][near]
            k = index[near]
            t = times[window][near]
            k_mean = np.average(k, weights=sel_w)
            t_mean = np.average(t, weights=sel_w)
            slope = np.sum(sel_w * (k - k_mean) * (t - t_mean)) / np.sum(sel_w * (k - k_mean) ** 2)
            # A refit may only nudge the tempo, never jump metrical levels.
            if not 0.9 * period < slope < 1.1 * period:
                break
            period = float(slope)
            phase = float(t_mean - k_mean * period)
        if window.all():
            break
        span_beats *= 2
    # Anchor the grid on the median hit near a beat, so a laid-back limb shows as late.
    position = (times - phase) / period
    offsets = position - np.rint(position)
    near = np.abs(offsets) < 0.12
    if near.any():
        phase += float(np.median(offsets[near])) * period
    phase = phase % period
    return BeatGrid(period_s=period, phase_s=phase)


def _weighted_phase_s(times: np.ndarray, weights: np.ndarray, period: float) -> float:
    """Circular weighted mean phase of onsets at a period, in seconds."""
    angle = 2 * np.pi * times / period
    vector = np.sum(weights * np.exp(1j * angle))
    return float((np.angle(vector) % (2 * np.pi)) / (2 * np.pi) * period)


def estimate_beat_grid(
    onset_times_s: Sequence[float] | np.ndarray,
    weights: Sequence[float] | np.ndarray | None = None,
    *,
    min_bpm: float = 40.0,
    max_bpm: float = 300.0,
    prior_bpm: float | None = None,
) -> BeatGrid:
    """Estimate tempo and beat phase from onsets: comb score with a prior, then a grid fit."""
    if not min_bpm > 0 or not max_bpm > min_bpm:
        raise ValueError("tempo range must satisfy 0 < min_bpm < max_bpm")
    times, w = _clean_onsets(onset_times_s, weights)
    if len(times) < 2:
        raise ValueError("at least two onsets are needed to estimate a tempo")
    candidates, score = tempo_scores(times, w, min_bpm=min_bpm, max_bpm=max_bpm, prior_bpm=prior_bpm)
    if not score.any():
        raise ValueError("onsets span too short a time to estimate a tempo")
    best = float(candidates[int(np.argmax(score))])
    best = refine_tempo_bpm(times, w, best)
    grid = fit_beat_grid(times, best, w)
    if not min_bpm <= grid.tempo_bpm <= max_bpm:
        grid = BeatGrid(period_s=60.0 / best, phase_s=grid.phase_s)
    return grid


def estimate_tempo_bpm(
    onset_times_s: Sequence[float] | np.ndarray,
    weights: Sequence[float] | np.ndarray | None = None,
    *,
    min_bpm: float = 40.0,
    max_bpm: float = 300.0,
    prior_bpm: float | None = None,
) -> float:
    """Tempo in bpm of a performance from its onset times in seconds (weights: accent strength)."""
    grid = estimate_beat_grid(onset_times_s, weights, min_bpm=min_bpm, max_bpm=max_bpm, prior_bpm=prior_bpm)
    return grid.tempo_bpm
