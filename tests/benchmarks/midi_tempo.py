"""MIDI tempo benchmark: tempo (meta ignored) and meter guessed on every GMD beat file.

Run: .venv/bin/python -m tests.benchmarks.midi_tempo [--verbose] [--limit N] [--fit]
Accuracy1: estimate within 4 % of the click bpm in info.csv (the quarter-note tempo).
Accuracy2: also accepting x2, x1/2, x3, x1/3.

The metrical-level choice in mididrumigen.analysis.tempo is a linear score whose weights
(LEVEL_WEIGHTS) were fitted on these same files, so the headline is leave-one-drummer-out:
the weights are refitted without each drummer and that drummer's files are scored with them.
analyze_clip's own figures are printed after it: it does not pass pitches yet, so it still
uses the comb score with a perceptual prior (the level model regressed the fidelity benchmark).
--fit prints weights fitted on all files (what LEVEL_WEIGHTS holds).
"""

from __future__ import annotations

import argparse
import csv
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mididrumigen.analysis.midi_features import analyze_clip, onset_weights
from mididrumigen.analysis.tempo import LEVEL_FEATURES, TempoCandidates, tempo_candidates
from mididrumigen.midi.smf import read_midi_file

GMD_DIR = Path("/work/shared/corpus/gmd")
OCTAVE_FACTORS = (1.0, 2.0, 0.5, 3.0, 1 / 3)
TOLERANCE = 0.04
REGULARISATION = 0.01
TEMPO_BANDS = ((0, 80), (80, 110), (110, 140), (140, 180), (180, 400))


@dataclass
class FileCase:
    """One GMD beat file: its info.csv row, level candidates and shipped analysis."""

    row: dict[str, str]
    truth_bpm: float
    candidates: TempoCandidates
    shipped_bpm: float
    shipped_meter: str
    analyze_ms: float

    @property
    def style(self) -> str:
        """Top-level GMD style (rock, jazz, latin ...)."""
        return self.row["style"].split("/")[0]


def within(ratio: float, factors: tuple[float, ...]) -> bool:
    """Whether a ratio is within TOLERANCE of one of the factors."""
    return any(abs(ratio / f - 1.0) <= TOLERANCE for f in factors)


def load_cases(limit: int | None) -> list[FileCase]:
    """Read every GMD beat file, take its level candidates and run analyze_clip on it."""
    with (GMD_DIR / "info.csv").open(newline="", encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r["beat_type"] == "beat"][:limit]
    cases = []
    for row in rows:
        clip = read_midi_file(GMD_DIR / row["midi_filename"])
        clip.meta.pop("tempo_from_file", None)  # belt and braces: the estimate never sees it
        start = time.perf_counter()
        features = analyze_clip(clip)
        analyze_ms = 1000 * (time.perf_counter() - start)
        notes = sorted(clip.notes, key=lambda n: (n.time, n.pitch))
        seconds = (
            np.array([n.time for n in notes], dtype=float) * 60.0 / (clip.tempo_bpm * clip.ticks_per_beat)
        )
        pitches = np.array([n.pitch for n in notes])
        weights = onset_weights(pitches, np.array([n.velocity for n in notes], dtype=float))
        cases.append(
            FileCase(
                row=row,
                truth_bpm=float(row["bpm"]),
                candidates=tempo_candidates(seconds, weights, pitches=pitches),
                shipped_bpm=features.tempo_bpm,
                shipped_meter="{}-{}".format(*features.time_signature),
                analyze_ms=analyze_ms,
            )
        )
    return cases


def fit_level_weights(cases: list[FileCase]) -> np.ndarray:
    """Softmax-over-candidates (conditional logit) weights: the right candidate scores highest."""
    from scipy.optimize import minimize

    usable = [c for c in cases if len(c.candidates.tempo_bpm)]
    stacked = np.vstack([c.candidates.features for c in usable])
    mean, scale = stacked.mean(axis=0), stacked.std(axis=0) + 1e-9
    data = []
    for case in usable:
        right = np.abs(case.candidates.tempo_bpm / case.truth_bpm - 1.0) <= TOLERANCE
        if right.any():
            data.append(((case.candidates.features - mean) / scale, right))

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        total, grad = 0.0, np.zeros_like(w)
        for z, right in data:
            s = z @ w
            p = np.exp(s - s.max())
            p /= p.sum()
            q = p * right
            mass = q.sum() + 1e-12
            total -= np.log(mass)
            grad -= z.T @ (q / mass) - z.T @ p
        n = len(data)
        return total / n + REGULARISATION * float(w @ w), grad / n + 2 * REGULARISATION * w

    result = minimize(loss, np.zeros(stacked.shape[1]), jac=True, method="L-BFGS-B")
    return np.asarray(result.x / scale)


def held_out_estimates(cases: list[FileCase]) -> list[float]:
    """Each file's tempo chosen with weights fitted on the other drummers' files."""
    estimates = [0.0] * len(cases)
    for drummer in sorted({c.row["drummer"] for c in cases}):
        weights = fit_level_weights([c for c in cases if c.row["drummer"] != drummer])
        for i, case in enumerate(cases):
            if case.row["drummer"] == drummer and len(case.candidates.tempo_bpm):
                estimates[i] = float(
                    case.candidates.tempo_bpm[int(np.argmax(case.candidates.scores(weights)))]
                )
    return estimates


def report(title: str, cases: list[FileCase], estimates: list[float], verbose: bool) -> None:
    """Print Accuracy1/2 overall, per style and per tempo band (and failures if verbose)."""
    ratios = [e / c.truth_bpm for c, e in zip(cases, estimates, strict=True)]
    ok1 = [within(r, (1.0,)) for r in ratios]
    ok2 = [within(r, OCTAVE_FACTORS) for r in ratios]
    n = len(cases)
    print(f"\n== {title}")
    print(f"Accuracy1 (within 4%): {sum(ok1) / n:.1%} ({sum(ok1)}/{n})   target >= 90%")
    print(f"Accuracy2 (x1, x2, x1/2, x3, x1/3): {sum(ok2) / n:.1%} ({sum(ok2)}/{n})   target >= 99%")
    print(f"median relative error: {statistics.median(abs(r - 1) for r in ratios):.4%}")
    groups: dict[str, list[int]] = defaultdict(list)
    for i, case in enumerate(cases):
        groups[f"style {case.style}"].append(i)
        low, high = next(b for b in TEMPO_BANDS if b[0] <= case.truth_bpm < b[1])
        groups[f"bpm {low:3d}-{high:3d}"].append(i)
    for name in sorted(
        groups, key=lambda g: (g.startswith("style"), -len(groups[g]) if g.startswith("style") else g)
    ):
        idx = groups[name]
        a1 = sum(ok1[i] for i in idx) / len(idx)
        a2 = sum(ok2[i] for i in idx) / len(idx)
        print(f"  {name:24s} n={len(idx):3d}  Acc1 {a1:6.1%}  Acc2 {a2:6.1%}")
    if verbose:
        print("failures (file, truth, estimate, ratio):")
        for i in sorted(range(n), key=lambda i: ratios[i]):
            if not ok1[i]:
                print(
                    f"  {cases[i].row['midi_filename']}  {cases[i].truth_bpm:g}  {estimates[i]:.1f}  x{ratios[i]:.3f}"
                )


def main() -> None:
    """Print the held-out headline, the shipped analyze_clip figures, timings and meters."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="list every file missing Accuracy1")
    parser.add_argument("--limit", type=int, default=None, help="only the first N beat files")
    parser.add_argument("--fit", action="store_true", help="print level weights fitted on all files")
    args = parser.parse_args()
    cases = load_cases(args.limit)
    n = len(cases)
    print(f"GMD beat files: {n} (tempo meta ignored), {len({c.row['drummer'] for c in cases})} drummers")
    covered = sum(bool(np.any(np.abs(c.candidates.tempo_bpm / c.truth_bpm - 1) <= TOLERANCE)) for c in cases)
    print(f"files with the true tempo among the candidates: {covered / n:.1%} (ceiling for Accuracy1)")
    report(
        "HEADLINE: level weights refitted with each drummer held out",
        cases,
        held_out_estimates(cases),
        args.verbose,
    )
    report(
        "analyze_clip as shipped (no pitches passed: comb score x perceptual prior)",
        cases,
        [c.shipped_bpm for c in cases],
        args.verbose,
    )
    times = sorted(c.analyze_ms for c in cases)
    print(
        f"\nanalyze_clip time per file: median {statistics.median(times):.1f} ms, "
        f"p90 {times[int(0.9 * (n - 1))]:.1f} ms, max {times[-1]:.1f} ms"
    )
    meter_ok = sum(c.shipped_meter == c.row["time_signature"] for c in cases)
    print(f"meter guessed right: {meter_ok / n:.1%} ({meter_ok}/{n})")
    if args.fit:
        weights = fit_level_weights(cases)
        print("LEVEL_WEIGHTS fitted on all files:")
        for name, value in zip(LEVEL_FEATURES, weights, strict=True):
            print(f"    {value:+.4f},  # {name}")


if __name__ == "__main__":
    main()
