"""Benchmark: audio tempo, swing and speed on GMD beat performances rendered by tests/audio_synth.py.

The truth is known: tempo = info.csv bpm (the click), swing = the same swing definition
applied to the MIDI onsets of the same excerpt. Targets: tempo Accuracy1 (within 4 %)
>= 90 %, Accuracy2 (x2, x1/2, x3, x1/3 also accepted) >= 98 %, swing ratio within 0.1 of
the MIDI truth, analysis <= 0.02 x real time. Also prints plain `librosa.feature.tempo`
(defaults) and, when installed, madmom's RNN tempo on the same renders.

TEMPO_FEATURE_WEIGHTS were fitted on these same files (tests/benchmarks/audio_tempo_fit.py),
so the headline is leave-one-drummer-out: a first pass featurises every file (and a loop of
its first two bars, as the fit does), the weights are refitted without each drummer, and
the second pass analyses that drummer's files with them. In-sample (shipped weights) tempo
figures are printed after it.

Run from /work/main (about 8 minutes on 2 cores for all 426 files; --limit for a subset):

    .venv/bin/python -m tests.benchmarks.audio_tempo [--limit N] [--madmom] [--excerpt-s 60] [--verbose]
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from dataclasses import dataclass

import numpy as np

from mididrumigen.analysis import audio_features as af
from tests.audio_synth import midi_file_hits, render_hits
from tests.benchmarks.audio_tempo_fit import GMD_DIR, beat_rows, candidate_features, held_out_weights

SAMPLE_RATE_HZ = 22050
MIN_DURATION_S = 10.0  # the headline set: performances of at least a few bars
MERGE_S = 0.025  # MIDI notes this close sound as one onset


@dataclass
class Result:
    """One file's measurements."""

    name: str
    split: str
    duration_s: float
    truth_bpm: float
    ours_bpm: float
    in_sample_bpm: float
    librosa_bpm: float
    madmom_bpm: float | None
    swing_truth: float
    swing_ours: float
    swing_16th_ours: float
    analysis_s: float


def within(estimate: float, truth: float, factors: tuple[float, ...] = (1.0,)) -> bool:
    """Whether an estimate is within 4 % of truth times one of the factors."""
    return any(abs(estimate / (truth * f) - 1.0) < 0.04 for f in factors)


ACC2_FACTORS = (1.0, 2.0, 0.5, 3.0, 1.0 / 3.0)


def midi_swing_ratio(hits: list[tuple[float, int, int]], tempo_bpm: float) -> float:
    """Swing ratio of MIDI onsets on the click grid (info.csv bpm, anchored like the audio path)."""
    times = np.array(sorted(t for t, _, _ in hits))
    keep = np.concatenate([[True], np.diff(times) > MERGE_S]) if len(times) else np.zeros(0, bool)
    positions = times[keep] * tempo_bpm / 60.0
    near = np.abs(positions - np.rint(positions)) < af.ON_BEAT_WINDOW
    if near.sum() >= 3:
        positions = positions - float(np.median((positions - np.rint(positions))[near]))
    return af.swing_ratio_of_percent(af.swing_percent_from_positions(positions, "8th"))


def measure(row: dict[str, str], excerpt_s: float, use_madmom: bool, weights: np.ndarray | None) -> Result:
    """Render one performance's excerpt and measure it every way (weights: held-out tempo weights)."""
    import librosa

    hits = midi_file_hits(GMD_DIR / row["midi_filename"], max_duration_s=excerpt_s)
    audio = render_hits(hits, sample_rate_hz=SAMPLE_RATE_HZ)
    truth = float(row["bpm"])
    started = time.perf_counter()
    try:
        ours_bpm, ours_swing, ours_swing_16th = _ours(audio, weights)
    except ValueError as exc:  # too short or no rhythm: counts as a miss
        print(f"  {row['midi_filename']}: {exc}")
        ours_bpm, ours_swing, ours_swing_16th = math.nan, math.nan, math.nan
    analysis_s = time.perf_counter() - started
    try:
        in_sample_bpm = _ours(audio, None)[0] if weights is not None else ours_bpm
    except ValueError:
        in_sample_bpm = math.nan
    plain = float(librosa.feature.tempo(y=audio, sr=SAMPLE_RATE_HZ)[0])
    madmom_bpm = None
    if use_madmom:
        tempo, _ = af._madmom_tempo_and_beats(audio, SAMPLE_RATE_HZ)
        madmom_bpm = tempo.tempo_bpm
    return Result(
        name=row["midi_filename"],
        split=row["split"],
        duration_s=len(audio) / SAMPLE_RATE_HZ,
        truth_bpm=truth,
        ours_bpm=ours_bpm,
        in_sample_bpm=in_sample_bpm,
        librosa_bpm=plain,
        madmom_bpm=madmom_bpm,
        swing_truth=midi_swing_ratio(hits, truth),
        swing_ours=ours_swing,
        swing_16th_ours=ours_swing_16th,
        analysis_s=analysis_s,
    )


def _ours(audio: np.ndarray, weights: np.ndarray | None) -> tuple[float, float, float]:
    if weights is None:
        features = af.analyze_audio(audio, SAMPLE_RATE_HZ, backend="librosa")
    else:
        features = af.analyze_audio(audio, SAMPLE_RATE_HZ, backend="librosa", tempo_feature_weights=weights)
    return features.tempo_bpm, features.swing_ratio, af.swing_ratio_of_percent(features.swing_percent_16th)


def swing_at_truth_8ths(result: Result) -> float | None:
    """Our swing at the level that is the truth's 8ths, as a profile takes it once its sources agree
    on the octave (research/profile_builder.measured_swing_figures): our 16ths when we read half
    tempo; None when that level was not measured (read at double or further, or off by no octave).
    """
    octaves = math.log2(result.truth_bpm / result.ours_bpm) if result.ours_bpm > 0 else math.nan
    if not abs(octaves - round(octaves)) <= 0.06:
        return None
    return {0: result.swing_ours, 1: result.swing_16th_ours}.get(round(octaves))


def accuracy_line(label: str, results: list[Result], pick: str) -> str:
    """'label: n files, Acc1 x %, Acc2 y %' for one estimator."""
    pairs = [(getattr(r, pick), r.truth_bpm) for r in results if getattr(r, pick) is not None]
    if not pairs:
        return f"  {label:<28} (not measured)"
    acc1 = sum(within(e, t) for e, t in pairs) / len(pairs)
    acc2 = sum(within(e, t, ACC2_FACTORS) for e, t in pairs) / len(pairs)
    return f"  {label:<28} n={len(pairs):3d}  Accuracy1 {acc1:6.1%}  Accuracy2 {acc2:6.1%}"


def report(results: list[Result], jit_s: float, verbose: bool = False) -> None:
    """Print every figure (verbose: also every headline file the held-out tempo misses)."""
    long = [r for r in results if r.duration_s >= MIN_DURATION_S]
    if verbose:
        print("headline files outside Accuracy1 (file, truth, held-out, in-sample, ratio):")
        for r in long:
            if not within(r.ours_bpm, r.truth_bpm):
                ratio = r.ours_bpm / r.truth_bpm
                print(f"  {r.name}  {r.truth_bpm:.0f}  {r.ours_bpm:.1f}  {r.in_sample_bpm:.1f}  x{ratio:.3f}")
    print(f"\nfiles: {len(results)} beat performances ({len(long)} of them >= {MIN_DURATION_S:.0f} s)")
    for name, subset in (
        (f"all >= {MIN_DURATION_S:.0f} s (headline)", long),
        ("all files", results),
        (f"validation split >= {MIN_DURATION_S:.0f} s", [r for r in long if r.split == "validation"]),
        (f"train split >= {MIN_DURATION_S:.0f} s", [r for r in long if r.split == "train"]),
    ):
        print(f"tempo, {name}:")
        print(accuracy_line("ours, held-out drummer", subset, "ours_bpm"))
        print(accuracy_line("ours, in-sample weights", subset, "in_sample_bpm"))
        print(accuracy_line("librosa.feature.tempo", subset, "librosa_bpm"))
        print(accuracy_line("madmom RNN", subset, "madmom_bpm"))
    print("swing (held-out tempo weights):")
    for name, subset in (
        ("all files", results),
        ("all >= 10 s", long),
        ("tempo correct, >= 10 s", [r for r in long if within(r.ours_bpm, r.truth_bpm)]),
    ):
        errors = [abs(r.swing_ours - r.swing_truth) for r in subset if not math.isnan(r.swing_ours)]
        if errors:
            share = sum(e <= 0.1 for e in errors) / len(errors)
            print(
                f"swing ratio, {name}: n={len(errors)} within 0.1 of MIDI truth {share:.1%}, "
                f"median |error| {statistics.median(errors):.3f}, mean |error| {statistics.fmean(errors):.3f}"
            )
    for name, swung in (
        ("swung files (truth >= 1.3), >= 10 s", [r for r in long if r.swing_truth >= 1.3]),
        (
            "swung files, tempo correct",
            [r for r in long if r.swing_truth >= 1.3 and within(r.ours_bpm, r.truth_bpm)],
        ),
    ):
        if swung:
            share = sum(abs(r.swing_ours - r.swing_truth) <= 0.1 for r in swung) / len(swung)
            print(f"swing ratio, {name}: n={len(swung)} within 0.1 {share:.1%}")
    # What a research profile takes from a recording once the other sources set the octave.
    for name, subset in (
        ("all >= 10 s", long),
        ("swung files (truth >= 1.3), >= 10 s", [r for r in long if r.swing_truth >= 1.3]),
    ):
        pairs = [(swing_at_truth_8ths(r), r.swing_truth) for r in subset]
        measured = [(s, t) for s, t in pairs if s is not None and not math.isnan(s)]
        share = sum(abs(s - t) <= 0.1 for s, t in measured) / max(len(measured), 1)
        print(
            f"swing ratio at the truth's 8ths (a profile's octave), {name}: measured on {len(measured)} of "
            f"{len(subset)}, within 0.1 {share:.1%}"
        )
    audio_s = sum(r.duration_s for r in results)
    analysis_s = sum(r.analysis_s for r in results)
    sixty = [r.analysis_s for r in results if r.duration_s >= 55]
    print(
        f"speed: {analysis_s:.1f} s analysis for {audio_s:.0f} s audio = {analysis_s / audio_s:.4f} x real time"
    )
    if sixty:
        print(
            f"speed: 60 s excerpts median {statistics.median(sixty):.3f} s, max {max(sixty):.3f} s (target <= 1.2 s)"
        )
    print(f"speed: first call (numba JIT and imports), excluded above: {jit_s:.2f} s")


def main() -> None:
    """Parse options, measure, report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--limit", type=int, default=0, help="deterministic subset: every k-th file to about N"
    )
    parser.add_argument("--excerpt-s", type=float, default=60.0)
    parser.add_argument("--madmom", action="store_true", help="also measure madmom's RNN tempo (slow)")
    parser.add_argument(
        "--verbose", action="store_true", help="also list the headline files whose tempo is missed"
    )
    args = parser.parse_args()
    rows = beat_rows()
    if args.limit and args.limit < len(rows):
        step = len(rows) / args.limit
        rows = [rows[int(i * step)] for i in range(args.limit)]
    use_madmom = False
    if args.madmom:
        from mididrumigen.analysis.madmom_shim import madmom_available

        use_madmom = madmom_available()
        print(f"madmom installed: {use_madmom}")
    warm = render_hits(
        [(i * 0.25, 36 if i % 2 == 0 else 38, 100) for i in range(40)], sample_rate_hz=SAMPLE_RATE_HZ
    )
    started = time.perf_counter()
    af.analyze_audio(warm, SAMPLE_RATE_HZ, backend="librosa")
    jit_s = time.perf_counter() - started
    started = time.perf_counter()
    # Pass 1: featurise every file and its loop, refit the tempo weights without each drummer.
    performances = [candidate_features(r) for r in rows]
    loops = [candidate_features(r, looped=True) for r in rows]
    held_out = held_out_weights(rows, performances, loops)
    print(f"pass 1 (featurise and refit per held-out drummer): {time.perf_counter() - started:.0f} s")
    results = []
    started = time.perf_counter()
    for i, row in enumerate(rows, 1):
        # A drummer with no others to fit on (a tiny --limit) is measured with the shipped weights.
        results.append(measure(row, args.excerpt_s, use_madmom, held_out.get(row["drummer"])))
        if i % 50 == 0:
            print(f"  {i}/{len(rows)} files, {time.perf_counter() - started:.0f} s")
    report(results, jit_s, verbose=args.verbose)


if __name__ == "__main__":
    main()
