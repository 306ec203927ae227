"""Fit the audio tempo estimator's feature weights on the GMD beat files (prints the weights).

Renders every beat performance with tests/audio_synth.py (first 60 s, and a 30 s loop of
its first two bars), computes `_tempo_feature_matrix` for every candidate tempo and trains
an averaged structured perceptron: the candidate with the highest score must lie within 2 %
of info.csv's bpm. The weights are fitted on all files (what TEMPO_FEATURE_WEIGHTS holds), so
the accuracy that counts is leave-one-drummer-out (`held_out_weights`), which this script
and tests/benchmarks/audio_tempo.py print. Paste the printed tuple into TEMPO_FEATURE_WEIGHTS.
Run from /work/main:

    .venv/bin/python -m tests.benchmarks.audio_tempo_fit
"""

from __future__ import annotations

import csv
import time
from pathlib import Path

import numpy as np

from mididrumigen.analysis import audio_features as af
from tests.audio_synth import midi_file_hits, render_hits

GMD_DIR = Path("/work/shared/corpus/gmd")
EXCERPT_S = 60.0
EPOCHS = 15
LEARNING_RATE = 0.1
SEED = 0
LOOP_BEATS = 8  # two 4/4 bars of quarter-note beats
LOOP_S = 30.0


def beat_rows(split: str | None = None) -> list[dict[str, str]]:
    """The GMD's beat performances (optionally of one split), in info.csv order."""
    with (GMD_DIR / "info.csv").open(newline="", encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r["beat_type"] == "beat"]
    return [r for r in rows if split is None or r["split"] == split]


def looped_hits(hits: list[tuple[float, int, int]], tempo_bpm: float) -> list[tuple[float, int, int]]:
    """The performance's first two bars repeated for LOOP_S: a perfectly periodic groove, like a produced loop."""
    loop_s = LOOP_BEATS * 60.0 / tempo_bpm
    first = [(t, p, v) for t, p, v in hits if t < loop_s]
    repeats = max(2, int(LOOP_S / loop_s))
    return [(t + k * loop_s, p, v) for k in range(repeats) for t, p, v in first]


def candidate_features(row: dict[str, str], looped: bool = False) -> np.ndarray:
    """Feature matrix of one rendered performance (or of a loop of its first two bars)."""
    hits = midi_file_hits(GMD_DIR / row["midi_filename"], max_duration_s=EXCERPT_S)
    if looped:
        hits = looped_hits(hits, float(row["bpm"]))
    audio = render_hits(hits)
    envelopes = af.onset_envelopes(audio, af.ANALYSIS_SAMPLE_RATE_HZ)
    onsets = af.detect_onsets(envelopes)
    features, _ = af._tempo_feature_matrix(envelopes, onsets, af.tempo_candidates_bpm())
    return features


def fit(features: list[np.ndarray], truth_bpm: np.ndarray) -> np.ndarray:
    """Averaged structured perceptron over standardised features; returns raw-feature weights."""
    candidates = af.tempo_candidates_bpm()
    stacked = np.concatenate(features)
    mean, spread = stacked.mean(axis=0), stacked.std(axis=0) + 1e-9
    scaled = [(f - mean) / spread for f in features]
    weights = np.zeros(stacked.shape[1])
    weights[0] = 1.0  # start from the perceptual prior alone
    total, count = np.zeros_like(weights), 0
    rng = np.random.default_rng(SEED)
    for _ in range(EPOCHS):
        for i in rng.permutation(len(scaled)):
            score = scaled[i] @ weights
            predicted = int(np.argmax(score))
            good = np.abs(candidates / truth_bpm[i] - 1) < 0.02
            if good.any() and not good[predicted]:
                target = int(np.flatnonzero(good)[np.argmax(score[good])])
                weights += LEARNING_RATE * (scaled[i][target] - scaled[i][predicted])
            total += weights
            count += 1
    return (total / count) / spread


def held_out_weights(
    rows: list[dict[str, str]], performances: list[np.ndarray], loops: list[np.ndarray]
) -> dict[str, np.ndarray]:
    """Weights fitted without each drummer (on the others' performances and loops), by drummer."""
    weights = {}
    for drummer in sorted({r["drummer"] for r in rows}):
        keep = [i for i, r in enumerate(rows) if r["drummer"] != drummer]
        if not keep:
            continue
        truth = np.array([float(rows[i]["bpm"]) for i in keep] * 2)
        weights[drummer] = fit([performances[i] for i in keep] + [loops[i] for i in keep], truth)
    return weights


def chosen_accuracy(features: list[np.ndarray], truth_bpm: list[float], weights: list[np.ndarray]) -> float:
    """Share of files whose best-scoring candidate (before period refinement) is within 4 % of the truth."""
    candidates = af.tempo_candidates_bpm()
    hits = [
        abs(candidates[int(np.argmax(f @ w))] / t - 1) < 0.04
        for f, t, w in zip(features, truth_bpm, weights, strict=True)
    ]
    return sum(hits) / len(hits)


def main() -> None:
    """Render every beat file, fit, print in-sample and held-out accuracy and the weights."""
    rows = beat_rows()
    started = time.perf_counter()
    # Train on the performances and on loops of their first two bars, so that an exactly
    # repeating groove (a produced loop) does not pull the choice to half tempo.
    performances = [candidate_features(r) for r in rows]
    loops = [candidate_features(r, looped=True) for r in rows]
    truth = [float(r["bpm"]) for r in rows]
    print(
        f"rendered and featurised {len(rows)} beat performances and loops in {time.perf_counter() - started:.0f} s"
    )
    weights = fit(performances + loops, np.array(truth * 2))
    held_out = held_out_weights(rows, performances, loops)
    print(
        f"in-sample Accuracy1 before refinement: {chosen_accuracy(performances, truth, [weights] * len(rows)):.3f}"
    )
    held = [held_out[r["drummer"]] for r in rows]
    print(
        f"leave-one-drummer-out Accuracy1 before refinement: {chosen_accuracy(performances, truth, held):.3f}"
    )
    print("TEMPO_FEATURE_WEIGHTS = (")
    print("    " + ", ".join(f"{w:.4f}" for w in weights) + ",")
    print(")")


if __name__ == "__main__":
    main()
