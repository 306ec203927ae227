"""Benchmark: generated 2-bar windows against the GMD's human performances of the same style (target >= 90 %).

For each style the GMD has, the 5th-95th percentile range of every feature over human
2-bar windows of its beat performances: hits per bar per kit class, velocity spread,
microtiming spread and swing. A generated window passes when every feature is in range.

Run: .venv/bin/python -m tests.benchmarks.realism
"""

from __future__ import annotations

import csv
import statistics
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Any

from mididrumigen.analysis.midi_features import analyze_clip
from mididrumigen.generation.groove_engine import generate_grooves
from mididrumigen.generation.request import GenerationRequest
from mididrumigen.midi.kit import KIT_CLASSES
from mididrumigen.midi.notes import Clip
from mididrumigen.midi.smf import read_midi_file

GMD_DIR = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "gmd"
# GMD style labels -> style-library keys (labels not listed are not compared).
GMD_STYLE_MAP = {
    "rock": "rock",
    "funk": "funk",
    "hiphop": "boom_bap",
    "jazz": "jazz_swing",
    "jazz/swing": "jazz_swing",
    "afrobeat": "afrobeat",
    "pop": "pop",
    "punk": "punk",
    "soul": "soul_motown",
    "soul/motown": "soul_motown",
    "dance/disco": "disco",
    "latin/brazilian-songo": "songo",
    "latin/brazilian-samba": "samba",
    "latin/brazilian-bossa": "bossa_nova",
    "neworleans/secondline": "second_line",
    "blues/shuffle": "blues_12_8",
    "reggae": "reggae_one_drop",
    "rock/halftime": "rock",
}
WINDOW_BARS = 2
MAX_WINDOWS_PER_FILE = 12
MAX_FILES_PER_STYLE = 60
SEEDS = range(6)
MIN_HUMAN_WINDOWS = 12


def _std(values: list[float]) -> float:
    return statistics.pstdev(values) if len(values) > 1 else 0.0


def _spread(value: Any) -> float | None:
    """The std of a per-class microtiming entry, whatever shape the analysis gives it."""
    if value is None:
        return None
    if isinstance(value, dict):
        return value.get("std", value.get("std_ms"))
    return getattr(value, "std", getattr(value, "std_ms", None))


def window_features(window: Clip) -> dict[str, float]:
    """Features of one 2-bar window (tempo trusted: the grid is the clip's)."""
    features = analyze_clip(window, trust_tempo=True)
    out = {f"hits/{name}": float(features.hits_per_bar.get(name, 0.0)) for name in KIT_CLASSES}
    out["velocity_std"] = _std([n.velocity for n in window.notes])
    spreads = []
    for name, value in features.microtiming_ms.items():
        std = _spread(value)
        count = features.hits_per_bar.get(name, 0.0) * WINDOW_BARS
        if std is not None and count >= 3:
            spreads.append((float(std), count))
    total = sum(c for _, c in spreads)
    out["microtiming_std"] = sum(s * c for s, c in spreads) / total if total else 0.0
    out["swing_percent"] = float(features.swing_percent)
    return out


def windows(clip: Clip, limit: int | None = None) -> list[Clip]:
    """Cut a clip into 2-bar windows starting at bar lines (windows with fewer than 8 hits dropped)."""
    bar = clip.ticks_per_bar
    count = clip.length_ticks // (bar * WINDOW_BARS)
    starts = list(range(count))
    if limit is not None and len(starts) > limit:
        step = len(starts) / limit
        starts = [starts[int(i * step)] for i in range(limit)]
    out = []
    for index in starts:
        low, high = index * bar * WINDOW_BARS, (index + 1) * bar * WINDOW_BARS
        notes = [replace(n, time=n.time - low) for n in clip.notes if low <= n.time < high]
        if len(notes) >= 8:
            out.append(replace(clip, notes=notes, bars=WINDOW_BARS, meta={}))
    return out


def human_windows() -> tuple[dict[str, list[dict[str, float]]], dict[str, list[float]]]:
    """Feature rows of the GMD's 4/4 performances (beats and fills) per style key, and their click tempos."""
    rows: dict[str, list[dict[str, float]]] = defaultdict(list)
    tempos: dict[str, list[float]] = defaultdict(list)
    files: dict[str, int] = defaultdict(int)
    with (GMD_DIR / "info.csv").open(newline="") as handle:
        for entry in csv.DictReader(handle):
            key = GMD_STYLE_MAP.get(entry["style"])
            if key is None or entry["time_signature"] != "4-4":
                continue
            # Fill files are human performances of the style too: the generated clips have
            # fills at their phrase ends, so the reference covers grooves and fills.
            if entry["beat_type"] == "beat":
                if files[key] >= MAX_FILES_PER_STYLE:
                    continue
                files[key] += 1
                tempos[key].append(float(entry["bpm"]))
            clip = read_midi_file(GMD_DIR / entry["midi_filename"])
            rows[key].extend(window_features(w) for w in windows(clip, MAX_WINDOWS_PER_FILE))
    return rows, tempos


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def main() -> None:
    """Print per style the share of generated windows inside the human ranges, and where they fall out."""
    human, tempos = human_windows()
    total_in = total = 0
    print(f"realism: generated 2-bar windows inside the GMD's 5th-95th percentile ranges (GMD at {GMD_DIR})")
    for key in sorted(human):
        rows = human[key]
        if len(rows) < MIN_HUMAN_WINDOWS or not tempos[key]:
            print(f"  {key:16s} skipped: {len(rows)} human windows")
            continue
        names = list(rows[0])
        ranges = {
            n: (percentile([r[n] for r in rows], 5), percentile([r[n] for r in rows], 95)) for n in names
        }
        misses: dict[str, int] = defaultdict(int)
        inside = count = 0
        bpms = sorted(tempos[key])
        picks = sorted({bpms[0], statistics.median(bpms), bpms[-1]})
        for tempo in picks:
            for seed in SEEDS:
                request = GenerationRequest(
                    style=key, bars=4, variations=4, tempo_bpm=tempo, time_signature=(4, 4), seed=seed
                )
                for clip in generate_grooves(request):
                    for window in windows(clip):
                        feats = window_features(window)
                        out = [n for n in names if not ranges[n][0] - 1e-9 <= feats[n] <= ranges[n][1] + 1e-9]
                        for n in out:
                            misses[n] += 1
                        inside += not out
                        count += 1
        total_in += inside
        total += count
        worst = ", ".join(
            f"{n} {misses[n]}/{count} (human {ranges[n][0]:.1f}-{ranges[n][1]:.1f})"
            for n in sorted(misses, key=misses.__getitem__, reverse=True)[:3]
        )
        print(
            f"  {key:16s} {inside:4d}/{count:<4d} {inside / count * 100:6.1f} %  "
            f"({len(rows)} human windows)  {worst}"
        )
    share = total_in / max(1, total)
    print(
        f"overall {share * 100:.1f} % of {total} generated windows (target >= 90 %: "
        f"{'PASS' if share >= 0.9 else 'FAIL'})"
    )


if __name__ == "__main__":
    main()
