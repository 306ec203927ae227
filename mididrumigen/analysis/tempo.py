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
# Precise grid refit: hits within this many beats of a beat count; Huber weights them.
ON_BEAT_TOLERANCE = 0.1
REFIT_ROUNDS = 3
HUBER_ITERATIONS = 8
HUBER_K = 1.345  # the usual 95 %-efficiency tuning constant, in robust standard deviations
HUBER_SCALE_FLOOR_S = 0.002  # quantised files have near-zero residuals; keep the scale finite
REFIT_MAX_CHANGE = 0.05
SEARCH_SPAN_BEATS = 64.0  # the joint period/phase search looks at this many beats at most
SEARCH_RANGE = 0.03  # relative period range searched around the guess
SEARCH_KERNEL_BEATS = 0.04  # how far from a beat a hit still counts, in beats
SEARCH_PHASES = 48
SEARCH_HALF_BEAT_WEIGHT = 0.5  # half beats tell the beat from a strong 16th


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
    times, w, _ = _clean_onsets_pitched(onset_times_s, weights, None)
    return times, w


def _clean_onsets_pitched(
    onset_times_s: Sequence[float] | np.ndarray,
    weights: Sequence[float] | np.ndarray | None,
    pitches: Sequence[int] | np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Onsets, weights and pitches (-1 when unknown): finite, positive weight, time-sorted."""
    times = np.asarray(onset_times_s, dtype=float)
    if times.ndim != 1:
        raise ValueError("onset times must be a flat sequence of seconds")
    w = np.ones_like(times) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != times.shape:
        raise ValueError("weights must have one value per onset")
    pitch = np.full(times.shape, -1, dtype=int) if pitches is None else np.asarray(pitches, dtype=int)
    if pitch.shape != times.shape:
        raise ValueError("pitches must have one value per onset")
    keep = np.isfinite(times) & np.isfinite(w) & (w > 0)
    times, w, pitch = times[keep], w[keep], pitch[keep]
    order = np.argsort(times, kind="stable")
    return times[order], w[order], pitch[order]


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
    return _refine_with_ac(autocorrelation(train, len(train) - 1), len(train), tempo_bpm)


def _refine_with_ac(ac: np.ndarray, length: int, tempo_bpm: float) -> float:
    """Follow a tempo's autocorrelation peak out to far (doubling) multiples of its period."""
    period = 60.0 / tempo_bpm / FRAME_S
    multiple = 1
    while multiple * period < length * 0.6:
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
) -> BeatGrid:
    """Refine a tempo guess into a beat grid fitted to the onsets near beats.

    Period and phase are first searched jointly over the first SEARCH_SPAN_BEATS beats (the
    grid that puts most accent weight on beats and half beats), then a line through the hits
    on beats is fitted robustly over a window that doubles each round, so neither a rough
    guess nor a breathing pulse can drift the grid off its beats.
    """
    times, w = _clean_onsets(onset_times_s, weights)
    if len(times) == 0:
        raise ValueError("no onsets to fit a beat grid to")
    if not tempo_bpm > 0:
        raise ValueError("tempo must be positive")
    guess = 60.0 / tempo_bpm
    start = times[0]
    search = times <= start + SEARCH_SPAN_BEATS * guess
    period, phase = _search_beat_grid(times[search], w[search], guess)
    span_beats = SEARCH_SPAN_BEATS
    while True:
        window = times <= start + span_beats * period
        period, phase = _robust_beat_line(times[window], w[window], period, phase, guess)
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


def _search_beat_grid(times: np.ndarray, weights: np.ndarray, guess_s: float) -> tuple[float, float]:
    """Period and phase, near a period guess, that put the most weight close to beats and half beats."""
    span_beats = max(float(times[-1] - times[0]) / guess_s, 1.0)
    # Fine enough that a step's drift over the span stays inside the kernel.
    step = SEARCH_KERNEL_BEATS / span_beats
    count = min(int(SEARCH_RANGE / step), 400)
    periods = guess_s * (1.0 + np.linspace(-SEARCH_RANGE, SEARCH_RANGE, 2 * count + 1))
    phases = np.arange(SEARCH_PHASES) / SEARCH_PHASES
    best = (-1.0, guess_s, 0.0)
    origin = times[0]
    for period in periods:
        position = (times - origin) / period
        offset = position[:, None] - phases[None, :]
        distance = np.abs(offset - np.rint(offset))
        on_beat = np.exp(-0.5 * (distance / SEARCH_KERNEL_BEATS) ** 2)
        half_beat = np.exp(-0.5 * ((0.5 - distance) / SEARCH_KERNEL_BEATS) ** 2)
        score = weights @ (on_beat + SEARCH_HALF_BEAT_WEIGHT * half_beat)
        i = int(np.argmax(score))
        if score[i] > best[0]:
            best = (float(score[i]), float(period), float(origin + phases[i] * period))
    return best[1], best[2]


def _robust_beat_line(
    times: np.ndarray, weights: np.ndarray, period_s: float, phase_s: float, guess_s: float
) -> tuple[float, float]:
    """Refit period and phase through the hits on beats by Huber-weighted least squares.

    Only hits near a beat count: swing moves the off-beats, never the beats. Each round
    assigns every hit to its nearest beat, then reweights by Huber (robust scale from the
    median absolute residual) so flams, pushes and fills cannot tilt the line.
    """
    period, phase = period_s, phase_s
    for _ in range(REFIT_ROUNDS):
        position = (times - phase) / period
        index = np.rint(position)
        near = np.abs(position - index) < ON_BEAT_TOLERANCE
        k, t, w = index[near], times[near], weights[near]
        if len(k) < 3 or k.max() == k.min():
            break
        slope, intercept = period, phase
        robust = np.ones(len(k))
        for _ in range(HUBER_ITERATIONS):
            fit_w = w * robust
            k_mean = np.average(k, weights=fit_w)
            t_mean = np.average(t, weights=fit_w)
            spread = np.sum(fit_w * (k - k_mean) ** 2)
            if spread <= 0:
                break
            slope = float(np.sum(fit_w * (k - k_mean) * (t - t_mean)) / spread)
            intercept = float(t_mean - k_mean * slope)
            residual = t - (intercept + k * slope)
            scale = max(1.4826 * float(np.median(np.abs(residual))), HUBER_SCALE_FLOOR_S)
            limit = HUBER_K * scale
            robust = np.minimum(1.0, limit / np.maximum(np.abs(residual), 1e-12))
        # A refit may only sharpen the period, never move to another metrical level.
        if not (1 - REFIT_MAX_CHANGE) * guess_s < slope < (1 + REFIT_MAX_CHANGE) * guess_s:
            break
        period, phase = slope, intercept
    return period, phase


def _weighted_phase_s(times: np.ndarray, weights: np.ndarray, period: float) -> float:
    """Circular weighted mean phase of onsets at a period, in seconds."""
    angle = 2 * np.pi * times / period
    vector = np.sum(weights * np.exp(1j * angle))
    return float((np.angle(vector) % (2 * np.pi)) / (2 * np.pi) * period)


# --- Metrical level choice -------------------------------------------------------------
# The comb score finds periodicities well but not which of them the player counts as the
# beat. Candidates are the comb's strongest peaks and their x2, x1/2, x3, x1/3 relatives;
# a linear score over musical cues (LEVEL_FEATURES) picks one. LEVEL_WEIGHTS were fitted
# on the Groove MIDI Dataset beats; tests/benchmarks/midi_tempo.py refits them with each
# drummer held out and reports that held-out accuracy as the headline.
PEAK_COUNT = 5
PEAK_HALF_WIDTH = 0.03  # a comb peak must be the largest within +-3 % of itself
RELATIVES = (1.0, 2.0, 0.5, 3.0, 1.0 / 3.0, 4.0, 0.25)
WINDOW_S = 4.0  # phase statistics are taken per window, so a slightly-off period cannot drift
SNARE_PITCHES = frozenset((37, 38, 39, 40))
KICK_PITCHES = frozenset((35, 36))
PEDAL_HAT_PITCH = 44
ACCENT_SHARE = 0.6  # a snare hit is an accent at >= 60 % of the snare's 90th-percentile velocity (or weight)
ANCHOR_KERNEL_BEATS = 0.05  # how far from an anchored beat a hit still counts, in beats
LEVEL_FEATURES: tuple[str, ...] = (
    "log_tempo",
    "log_tempo_sq",
    "comb",
    "tree_binary",
    "tree_ternary",
    "ac_half",
    "ac_double",
    "ac_bar",
    "backbeat",
    "pedal_two_four",
    "log_onsets_per_beat",
    "snare_accents_per_beat",
    "kicks_per_beat",
    "kick_locking",
    "anchor_beat",
    "anchor_half_beat",
)
# Printed by `python -m tests.benchmarks.midi_tempo --fit` (all 426 GMD beat files), in LEVEL_FEATURES order.
LEVEL_WEIGHTS: tuple[float, ...] = (
    0.0526,
    -2.6791,
    1.9191,
    6.0217,
    0.2616,
    0.3225,
    -0.0122,
    1.1268,
    1.1781,
    0.0942,
    -0.0423,
    -0.6926,
    -0.1433,
    1.5194,
    5.6233,
    0.0474,
)


@dataclass(frozen=True, slots=True)
class TempoCandidates:
    """Candidate beat tempos of one performance and their level features (rows = candidates)."""

    tempo_bpm: np.ndarray
    features: np.ndarray

    def scores(self, weights: Sequence[float] | np.ndarray = LEVEL_WEIGHTS) -> np.ndarray:
        """Linear level score of each candidate."""
        return self.features @ np.asarray(weights, dtype=float)


def _window_resultants(times_s: np.ndarray, period_s: float, start_s: float, windows: int) -> np.ndarray:
    """Sum of unit phasors of the onsets at a period, per WINDOW_S window."""
    if len(times_s) == 0:
        return np.zeros(windows, dtype=complex)
    index = np.minimum(((times_s - start_s) / WINDOW_S).astype(int), windows - 1)
    angle = 2 * np.pi * times_s / period_s
    real = np.bincount(index, np.cos(angle), minlength=windows)
    imag = np.bincount(index, np.sin(angle), minlength=windows)
    return real + 1j * imag


def phase_locking(resultants: np.ndarray, total_weight: float) -> np.ndarray:
    """How consistently weighted onsets sit at one phase of a period (0..1), window by window.

    resultants holds each window's sum of the onsets' weighted unit phasors (rows), for one
    period or one column per period; the answer has one value per column.
    """
    if total_weight <= 0:
        return np.zeros(resultants.shape[1:])
    return np.abs(resultants).sum(axis=0) / total_weight


def antiphase(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """-cos of the phase difference of two onset streams (1 = half a period apart), per column."""
    norm = np.sum(np.abs(a) * np.abs(b), axis=0)
    return np.where(norm > 0, -np.real(np.sum(a * np.conj(b), axis=0)) / np.where(norm > 0, norm, 1.0), 0.0)


def _comb_peaks(candidates: np.ndarray, score: np.ndarray, count: int) -> list[float]:
    """Tempos of the strongest comb peaks, each the maximum within +-PEAK_HALF_WIDTH."""
    half = max(1, round(math.log1p(PEAK_HALF_WIDTH) / CANDIDATE_STEP))
    peaks = []
    for i in np.argsort(-score, kind="stable"):
        lo, hi = max(0, i - half), min(len(score), i + half + 1)
        if score[i] > 0 and score[i] >= score[lo:hi].max():
            peaks.append(float(candidates[i]))
            if len(peaks) == count:
                break
    return peaks


def tempo_candidates(
    onset_times_s: Sequence[float] | np.ndarray,
    weights: Sequence[float] | np.ndarray | None = None,
    *,
    pitches: Sequence[int] | np.ndarray | None = None,
    min_bpm: float = 40.0,
    max_bpm: float = 300.0,
    origin_s: float | None = None,
) -> TempoCandidates:
    """Candidate beat tempos (comb peaks and their octave relatives) with level features.

    origin_s is where the clip starts (a MIDI clip starts on a bar line); without it each
    candidate's grid is anchored at the onsets' own mean phase.
    """
    times, w, pitch = _clean_onsets_pitched(onset_times_s, weights, pitches)
    grid_bpm = min_bpm * np.exp(np.arange(0.0, math.log(max_bpm / min_bpm) + 1e-9, CANDIDATE_STEP))
    if len(times) < 2 or times[-1] - times[0] < FRAME_S * 4:
        return TempoCandidates(np.zeros(0), np.zeros((0, len(LEVEL_FEATURES))))
    train = onset_train(times, w)
    ac = autocorrelation(train, len(train) - 1)
    ac = ac / ac[0] if ac[0] > 0 else ac
    periods = 60.0 / grid_bpm / FRAME_S
    comb = np.zeros(len(grid_bpm))
    for multiple, weight in COMB_MULTIPLES:
        comb += weight * _peak_near(ac, periods * multiple)
    found: list[float] = []
    for peak in _comb_peaks(grid_bpm, comb, PEAK_COUNT):
        sharp = _refine_with_ac(ac, len(train), peak)
        for factor in RELATIVES:
            bpm = sharp * factor
            if min_bpm <= bpm <= max_bpm and all(abs(bpm / f - 1) > 0.02 for f in found):
                found.append(bpm)
    tempo = np.array(found)
    period_s = 60.0 / tempo
    frames = period_s / FRAME_S

    def ac_at(multiple: float) -> np.ndarray:
        return _peak_near(ac, frames * multiple)

    comb_here = sum(weight * ac_at(multiple) for multiple, weight in COMB_MULTIPLES)
    tree_binary = np.mean([ac_at(m) for m in (0.25, 0.5, 1.0, 2.0, 4.0)], axis=0)
    tree_ternary = np.mean([ac_at(m) for m in (1 / 3, 1.0, 2.0, 4.0)], axis=0)

    span_s = float(times[-1] - times[0])
    start = float(times[0])
    windows = int(span_s // WINDOW_S) + 1
    kicks = times[np.isin(pitch, list(KICK_PITCHES))]
    snare_mask = np.isin(pitch, list(SNARE_PITCHES))
    snares = times[snare_mask]
    if len(snares):
        accent_floor = ACCENT_SHARE * np.percentile(w[snare_mask], 90.0)
        snares = snares[w[snare_mask] >= accent_floor]
    pedals = times[pitch == PEDAL_HAT_PITCH]
    distinct = np.count_nonzero(np.diff(times) > 0.03) + 1
    backbeat = np.zeros(len(tempo))
    pedal = np.zeros(len(tempo))
    kick_locking = np.zeros(len(tempo))
    for i, period in enumerate(period_s):
        # Only kicks on this candidate's beats say where beat 1 is; busy off-beat kicks blur it.
        beat_phase = np.angle(_window_resultants(times, period, start, windows))
        kick_window = np.minimum(((kicks - start) / WINDOW_S).astype(int), windows - 1)
        position = kicks / period - beat_phase[kick_window] / (2 * np.pi)
        on_beat = kicks[np.abs(position - np.rint(position)) < 0.12]
        k2 = _window_resultants(on_beat, 2 * period, start, windows)
        s2 = _window_resultants(snares, 2 * period, start, windows)
        backbeat[i] = phase_locking(s2, len(snares)) * antiphase(k2, s2)
        p1 = _window_resultants(pedals, period, start, windows)
        p2 = _window_resultants(pedals, 2 * period, start, windows)
        pedal[i] = phase_locking(p1, len(pedals)) * phase_locking(p2, len(pedals))
        kick_locking[i] = phase_locking(_window_resultants(kicks, period, start, windows), len(kicks))
    anchor = np.zeros(len(tempo))
    anchor_half = np.zeros(len(tempo))
    for i, period in enumerate(period_s):
        # A clip's start is a bar line, so the right beat grid runs through it.
        origin = _weighted_phase_s(times, w, period) if origin_s is None else origin_s
        position = (times - origin) / period
        distance = np.abs(position - np.rint(position))
        anchor[i] = np.sum(w * np.exp(-0.5 * (distance / ANCHOR_KERNEL_BEATS) ** 2)) / w.sum()
        anchor_half[i] = np.sum(w * np.exp(-0.5 * ((0.5 - distance) / ANCHOR_KERNEL_BEATS) ** 2)) / w.sum()
    beats = max(span_s, 1e-3) / period_s
    log_tempo = np.log2(tempo / 100.0)
    features = np.column_stack(
        [
            log_tempo,
            log_tempo**2,
            comb_here / max(float(comb.max()), 1e-9),
            tree_binary,
            tree_ternary,
            ac_at(0.5),
            ac_at(2.0),
            ac_at(4.0),
            backbeat,
            pedal,
            np.log2(distinct / beats),
            np.minimum(len(snares) / beats, 4.0),
            np.minimum(len(kicks) / beats, 4.0),
            kick_locking,
            anchor,
            anchor_half,
        ]
    )
    return TempoCandidates(tempo, features)


def choose_tempo_bpm(
    onset_times_s: Sequence[float] | np.ndarray,
    weights: Sequence[float] | np.ndarray | None = None,
    *,
    pitches: Sequence[int] | np.ndarray | None = None,
    min_bpm: float = 40.0,
    max_bpm: float = 300.0,
    level_weights: Sequence[float] | np.ndarray = LEVEL_WEIGHTS,
    origin_s: float | None = None,
) -> float | None:
    """The best-scoring candidate beat tempo, or None when there is no candidate in range."""
    found = tempo_candidates(
        onset_times_s, weights, pitches=pitches, min_bpm=min_bpm, max_bpm=max_bpm, origin_s=origin_s
    )
    if len(found.tempo_bpm) == 0:
        return None
    return float(found.tempo_bpm[int(np.argmax(found.scores(level_weights)))])


def estimate_beat_grid(
    onset_times_s: Sequence[float] | np.ndarray,
    weights: Sequence[float] | np.ndarray | None = None,
    *,
    pitches: Sequence[int] | np.ndarray | None = None,
    min_bpm: float = 40.0,
    max_bpm: float = 300.0,
    prior_bpm: float | None = None,
    origin_s: float | None = None,
    scores: tuple[np.ndarray, np.ndarray] | None = None,
) -> BeatGrid:
    """Estimate tempo and beat phase from onsets, then fit a beat grid.

    With GM pitches, the metrical level is chosen among comb peaks by the fitted level score;
    without pitches, or with prior_bpm, by the comb score times a log-Gaussian tempo prior.
    scores: tempo_scores of the same onsets, range and prior, when the caller has them already.
    """
    if not min_bpm > 0 or not max_bpm > min_bpm:
        raise ValueError("tempo range must satisfy 0 < min_bpm < max_bpm")
    times, w, pitch = _clean_onsets_pitched(onset_times_s, weights, pitches)
    if len(times) < 2:
        raise ValueError("at least two onsets are needed to estimate a tempo")
    if scores is None:
        scores = tempo_scores(times, w, min_bpm=min_bpm, max_bpm=max_bpm, prior_bpm=prior_bpm)
    candidates, score = scores
    if not score.any():
        raise ValueError("onsets span too short a time to estimate a tempo")
    chosen = None
    # The level score was fitted with kit cues; without pitches the perceptual prior decides.
    if prior_bpm is None and pitches is not None:
        chosen = choose_tempo_bpm(
            times, w, pitches=pitch, min_bpm=min_bpm, max_bpm=max_bpm, origin_s=origin_s
        )
    if chosen is None:
        chosen = refine_tempo_bpm(times, w, float(candidates[int(np.argmax(score))]))
    grid = fit_beat_grid(times, chosen, w)
    if not min_bpm <= grid.tempo_bpm <= max_bpm:
        grid = BeatGrid(period_s=60.0 / chosen, phase_s=grid.phase_s)
    return grid


def estimate_tempo_bpm(
    onset_times_s: Sequence[float] | np.ndarray,
    weights: Sequence[float] | np.ndarray | None = None,
    *,
    pitches: Sequence[int] | np.ndarray | None = None,
    min_bpm: float = 40.0,
    max_bpm: float = 300.0,
    prior_bpm: float | None = None,
    origin_s: float | None = None,
) -> float:
    """Tempo in bpm of a performance from its onset times in seconds (weights: accent strength)."""
    grid = estimate_beat_grid(
        onset_times_s,
        weights,
        pitches=pitches,
        min_bpm=min_bpm,
        max_bpm=max_bpm,
        prior_bpm=prior_bpm,
        origin_s=origin_s,
    )
    return grid.tempo_bpm


# Other metrical levels a listener might count, shown beside the estimate (half time, double
# time, the 3:2 readings of a shuffle or a 6/8): a level counts when its comb score, with the
# perceptual prior, reaches its share of the chosen level's. On the GMD beats these shares put
# the click tempo among the estimate and its alternatives for 91 % of files, with 1.2
# alternatives shown on average (tests/benchmarks/midi_tempo.py prints the figure).
ALTERNATIVE_SHARES: tuple[tuple[float, float], ...] = ((0.5, 0.5), (2.0, 0.5), (2.0 / 3.0, 0.8), (1.5, 0.8))


def alternative_tempos_bpm(
    onset_times_s: Sequence[float] | np.ndarray,
    weights: Sequence[float] | np.ndarray | None,
    tempo_bpm: float,
    *,
    min_bpm: float = 40.0,
    max_bpm: float = 300.0,
    scores: tuple[np.ndarray, np.ndarray] | None = None,
) -> list[float]:
    """Other plausible beat tempos of a performance (half, double, 3:2 of tempo_bpm), best first.

    scores: tempo_scores of the same onsets and range, when the caller has them already.
    """
    if not tempo_bpm > 0:
        raise ValueError("tempo must be positive")
    if scores is None:
        scores = tempo_scores(onset_times_s, weights, min_bpm=min_bpm, max_bpm=max_bpm)
    candidates, score = scores
    if not score.any():
        return []

    def score_near(bpm: float) -> float:
        near = np.abs(np.log(candidates / bpm)) <= 0.03
        return float(score[near].max()) if near.any() else 0.0

    chosen = score_near(tempo_bpm)
    found = []
    for factor, share in ALTERNATIVE_SHARES:
        bpm = tempo_bpm * factor
        if min_bpm <= bpm <= max_bpm and chosen > 0 and (reading := score_near(bpm)) >= share * chosen:
            found.append((reading, bpm))
    return [bpm for _, bpm in sorted(found, reverse=True)]
