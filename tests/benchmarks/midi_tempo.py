"""MIDI tempo benchmark: tempo (meta ignored) and meter guessed on every GMD beat file.

Run: .venv/bin/python -m tests.benchmarks.midi_tempo [LIMIT]
Accuracy1: estimate within 4 % of the click bpm in info.csv (the quarter-note tempo).
Accuracy2: also accepting x2, x1/2, x3, x1/3. Meter accuracy: guessed vs info.csv.
"""

from __future__ import annotations

import csv
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

from mididrumigen.analysis.midi_features import analyze_clip
from mididrumigen.midi.smf import read_midi_file

GMD_DIR = Path("/work/shared/corpus/gmd")
OCTAVE_FACTORS = (1.0, 2.0, 0.5, 3.0, 1 / 3)


def main() -> None:
    """Print Accuracy1/Accuracy2, errors, timings and meter accuracy."""
    limit = int(sys.argv[1]) if len(sys.argv) > 1 else None
    with (GMD_DIR / "info.csv").open(newline="", encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r["beat_type"] == "beat"][:limit]
    acc1 = acc2 = meter_ok = 0
    errors: list[float] = []
    ratios: Counter[str] = Counter()
    meters: Counter[tuple[str, str]] = Counter()
    read_s = analyze_s = 0.0
    for row in rows:
        start = time.perf_counter()
        clip = read_midi_file(GMD_DIR / row["midi_filename"])
        clip.meta.pop("tempo_from_file", None)  # belt and braces: the estimate never sees it
        read_s += time.perf_counter() - start
        start = time.perf_counter()
        features = analyze_clip(clip)
        analyze_s += time.perf_counter() - start
        truth = float(row["bpm"])
        ratio = features.tempo_bpm / truth
        errors.append(abs(ratio - 1.0))
        acc1 += abs(ratio - 1.0) <= 0.04
        acc2 += any(abs(ratio / f - 1.0) <= 0.04 for f in OCTAVE_FACTORS)
        if abs(ratio - 1.0) > 0.04:
            ratios[f"x{ratio:.2f}"] += 1
        guessed = "{}-{}".format(*features.time_signature)
        meter_ok += guessed == row["time_signature"]
        meters[(row["time_signature"], guessed)] += 1
    n = len(rows)
    print(f"GMD beat files: {n} (tempo meta ignored)")
    print(f"Accuracy1 (within 4%): {acc1 / n:.1%} ({acc1}/{n})   target >= 90%")
    print(f"Accuracy2 (x1, x2, x1/2, x3, x1/3): {acc2 / n:.1%} ({acc2}/{n})   target >= 99%")
    print(f"median relative error: {statistics.median(errors):.4%}")
    print(f"wrong-level ratios: {dict(ratios.most_common(8))}")
    print(f"time per file: read {1000 * read_s / n:.1f} ms, analyze {1000 * analyze_s / n:.1f} ms")
    print(f"meter guessed right: {meter_ok / n:.1%} ({meter_ok}/{n})")
    for (truth, guess), count in sorted(meters.items()):
        print(f"  {truth} -> {guess}: {count}")


if __name__ == "__main__":
    main()
