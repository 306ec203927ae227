"""Build a StyleProfile from research sources: weighted by confidence, conflicts resolved, honest confidence.

Confidence = coverage x agreement factor. Coverage is 1 - prod(1 - w_i) over every source's weight
(kind weight x source confidence; a built-in profile counts with its own confidence), so more evidence
never lowers it. Agreement is the weight share of the winning tempo cluster and of the primary style's
voters; adding a source that agrees with the consensus raises both shares, so confidence never drops.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from mididrumigen.midi.notes import SUPPORTED_TIME_SIGNATURES
from mididrumigen.profile import USABLE_CONFIDENCE, QuantitativeParams, StyleProfile
from mididrumigen.research.collectors.base import SOURCE_RECORD_KINDS, SourceRecord

# How much one source of each kind can say about a drummer (x its own confidence).
KIND_WEIGHT: dict[str, float] = {"audio": 0.35, "midi": 0.3, "article": 0.3, "paper": 0.2}
# How much a source's tempo figure counts: measured beats mentioned ones.
TEMPO_WEIGHT: dict[str, float] = {"audio": 1.0, "midi": 0.8, "article": 0.35, "paper": 0.25, "builtin": 1.0}
NUMBER_WEIGHT: dict[str, float] = {"audio": 1.0, "midi": 0.8, "article": 0.3, "paper": 0.3, "builtin": 1.0}
CLUSTER_GAP_OCTAVES = 0.05  # ~3.5 %: tempos closer than this (after octave folding) agree
MIN_VALUES_FOR_OUTLIERS = 3
MAD_CUTOFF = 3.0  # values further than this many robust sigmas from the median are outliers
MIN_RANGE_SHARE = 0.1  # the tempo range is at least typical +-10 %
TIMING_CLASSES = frozenset({"kick", "snare", "hihat_closed", "hihat_open", "ride"})
MAX_TIMING_MS = 25.0
AGREEMENT_FLOOR = 0.6  # confidence factor when sources disagree completely
TEMPO_LIMITS_BPM = (40.0, 300.0)
SOURCE_NOUNS: dict[str, tuple[str, str]] = {
    "paper": ("paper", "papers"),
    "article": ("article", "articles"),
    "audio": ("recording", "recordings"),
    "midi": ("MIDI file", "MIDI files"),
}


@dataclass(frozen=True, slots=True)
class Evidence:
    """One source reduced to what aggregation needs (a SourceRecord or the built-in profile)."""

    kind: str  # paper | article | audio | midi | builtin
    weight: float  # 0..1, the source's say in the coverage
    facts: dict[str, Any]


@dataclass(frozen=True, slots=True)
class TempoConsensus:
    """The agreed tempo: the heaviest cluster of octave-folded figures."""

    typical_bpm: float
    members_bpm: tuple[float, ...]  # winning-cluster figures folded to the reported octave
    agreement: float  # weight share of the winning cluster, 0..1
    outliers_bpm: tuple[float, ...]


@dataclass(slots=True)
class BuildReport:
    """How a profile was built, for the research summary."""

    coverage: float = 0.0
    tempo_agreement: float | None = None
    style_agreement: float | None = None
    tempo_outliers_bpm: list[float] = field(default_factory=list)
    dropped_values: dict[str, list[float]] = field(default_factory=dict)


def evidence_from_records(records: Iterable[SourceRecord]) -> list[Evidence]:
    """Turn source records into weighted evidence."""
    return [Evidence(r.kind, KIND_WEIGHT[r.kind] * r.confidence, r.extracted) for r in records]


def evidence_from_builtin(profile: StyleProfile) -> Evidence:
    """Built-in knowledge as one weighted source (its own confidence is its weight)."""
    params = profile.quantitative_params
    facts: dict[str, Any] = {
        "tempo_measured_bpm": params.tempo_typical,
        "tempo_range_bpm": [[params.tempo_min, params.tempo_max]],
        "swing_percent": params.swing_percent,
        "ghost_note_share": params.ghost_note_prob,
        "velocity_mean": params.velocity_mean,
        "velocity_std": params.velocity_std,
        "timing_jitter_ms": params.timing_jitter_ms,
        "microtiming_ms": dict(params.microtiming_ms),
        "style_votes": {key: len(profile.styles) - rank for rank, key in enumerate(profile.styles)},
        "genres": list(profile.genres),
        "techniques": list(profile.signature_traits),
        "time_signatures": [list(ts) for ts in profile.time_signatures],
    }
    return Evidence("builtin", min(1.0, max(0.0, profile.confidence_score)), facts)


def coverage(weights: Iterable[float]) -> float:
    """1 - prod(1 - w): how well the sources cover the drummer; never drops when one is added."""
    remaining = 1.0
    for weight in weights:
        remaining *= 1.0 - min(1.0, max(0.0, weight))
    return 1.0 - remaining


def octave_class(tempo_bpm: float) -> float:
    """Position of a tempo within its octave, 0..1 (half and double tempo share it)."""
    return math.log2(tempo_bpm) % 1.0


def tempo_consensus(values: Sequence[tuple[float, float]]) -> TempoConsensus | None:
    """Cluster (tempo_bpm, weight) figures by octave class; the heaviest cluster wins.

    Half/double figures fold together; figures outside the winning cluster are outliers.
    """
    points = sorted(((octave_class(t), t, w) for t, w in values if t > 0 and w > 0), key=lambda p: p[0])
    if not points:
        return None
    clusters: list[list[tuple[float, float, float]]] = [[points[0]]]
    for point in points[1:]:
        if point[0] - clusters[-1][-1][0] <= CLUSTER_GAP_OCTAVES:
            clusters[-1].append(point)
        else:
            clusters.append([point])
    if len(clusters) > 1 and points[0][0] + 1.0 - points[-1][0] <= CLUSTER_GAP_OCTAVES:
        clusters[0] = clusters.pop() + clusters[0]  # the circle closes: last and first clusters meet
    total = sum(w for _, _, w in points)
    winner = max(clusters, key=lambda c: (sum(w for _, _, w in c), len(c), -min(t for _, t, _ in c)))
    # Fold every member to the octave of its heaviest figure, then report the octave most weight sits in.
    anchor = max(winner, key=lambda p: p[2])[1]
    folded = [(t * 2.0 ** round(math.log2(anchor / t)), t, w) for _, t, w in winner]
    shift_votes: defaultdict[int, float] = defaultdict(float)
    for f, t, w in folded:
        shift_votes[round(math.log2(t / f))] += w
    shift = max(shift_votes, key=lambda s: (shift_votes[s], -abs(s)))
    members = [f * 2.0**shift for f, _, _ in folded]
    weights = [w for _, _, w in folded]
    typical = sum(m * w for m, w in zip(members, weights, strict=True)) / sum(weights)
    outliers = tuple(t for c in clusters if c is not winner for _, t, _ in c)
    return TempoConsensus(
        typical_bpm=typical,
        members_bpm=tuple(sorted(members)),
        agreement=sum(weights) / total,
        outliers_bpm=tuple(sorted(outliers)),
    )


def robust_mean(values: Sequence[tuple[float, float]]) -> tuple[float, list[float]] | None:
    """Weighted mean of (value, weight) after dropping median/MAD outliers; returns (mean, dropped)."""
    pairs = [(v, w) for v, w in values if w > 0 and math.isfinite(v)]
    if not pairs:
        return None
    if len(pairs) < MIN_VALUES_FOR_OUTLIERS:
        kept = pairs  # two sources that differ: no way to tell which one is off
    else:
        median = weighted_median(pairs)
        mad = weighted_median([(abs(v - median), w) for v, w in pairs])
        scale = max(1.4826 * mad, 0.1 * abs(median), 1e-9)
        kept = [(v, w) for v, w in pairs if abs(v - median) <= MAD_CUTOFF * scale]
    dropped = [v for v, w in pairs if (v, w) not in kept]
    total = sum(w for _, w in kept)
    return sum(v * w for v, w in kept) / total, dropped


def weighted_median(pairs: Sequence[tuple[float, float]]) -> float:
    """The value where half the weight lies on each side."""
    ordered = sorted(pairs)
    half = sum(w for _, w in ordered) / 2.0
    running = 0.0
    for value, weight in ordered:
        running += weight
        if running >= half:
            return value
    return ordered[-1][0]


def _numbers(evidence: Sequence[Evidence], key: str) -> list[tuple[float, float]]:
    found = []
    for item in evidence:
        value = item.facts.get(key)
        values = value if isinstance(value, list) else [value]
        numeric = [float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
        for v in numeric:
            found.append((v, item.weight * NUMBER_WEIGHT.get(item.kind, 0.3) / len(numeric)))
    return found


def _tempo_figures(evidence: Sequence[Evidence]) -> list[tuple[float, float]]:
    figures = []
    low, high = TEMPO_LIMITS_BPM
    for item in evidence:
        measured = item.facts.get("tempo_measured_bpm")
        mentioned = [t for t in item.facts.get("tempo_bpm", []) if isinstance(t, int | float)]
        values = [float(measured)] if isinstance(measured, int | float) else [float(t) for t in mentioned]
        values = [v for v in values if low <= v <= high]
        for value in values:
            figures.append((value, item.weight * TEMPO_WEIGHT.get(item.kind, 0.3) / len(values)))
    return figures


def style_ranking(evidence: Sequence[Evidence]) -> tuple[list[str], float | None]:
    """Style keys by weighted votes (primary first) and the primary's voter share (None without votes)."""
    from mididrumigen.generation.styles import STYLE_KEYS

    totals: Counter[str] = Counter()
    voters: list[tuple[float, set[str]]] = []
    for item in evidence:
        votes = {k: v for k, v in (item.facts.get("style_votes") or {}).items() if k in STYLE_KEYS and v > 0}
        if not votes:
            continue
        count = sum(votes.values())
        for key, n in votes.items():
            totals[key] += item.weight * n / count
        voters.append((item.weight, set(votes)))
    if not totals:
        return [], None
    ranked = sorted(totals, key=lambda k: (-totals[k], k))
    primary = ranked[0]
    voting_weight = sum(w for w, _ in voters)
    agreement = sum(w for w, keys in voters if primary in keys) / voting_weight if voting_weight else None
    return ranked, agreement


def _ranked_strings(evidence: Sequence[Evidence], key: str, limit: int) -> list[str]:
    scores: defaultdict[str, float] = defaultdict(float)
    shown: dict[str, str] = {}
    for item in evidence:
        for rank, text in enumerate(item.facts.get(key) or []):
            if not isinstance(text, str) or not text.strip():
                continue
            norm = text.strip().lower()
            shown.setdefault(norm, text.strip())
            scores[norm] += item.weight / (1 + 0.2 * rank)
    ordered = sorted(scores, key=lambda k: (-scores[k], k))
    return [shown[k] for k in ordered[:limit]]


def _time_signatures(evidence: Sequence[Evidence]) -> list[tuple[int, int]]:
    scores: defaultdict[tuple[int, int], float] = defaultdict(float)
    for item in evidence:
        for sig in item.facts.get("time_signatures") or []:
            try:
                meter = (int(sig[0]), int(sig[1]))
            except (TypeError, ValueError, IndexError):
                continue
            if meter in SUPPORTED_TIME_SIGNATURES:
                scores[meter] += item.weight
    scores[(4, 4)] += 1e-9  # 4/4 is the default when nobody says
    return sorted(scores, key=lambda m: (-scores[m], m))[:3]


def _swing_unit(primary_style: str | None) -> int:
    """The profile's swing unit, 8 or 16: the primary style's."""
    if primary_style is None:
        return 8
    from mididrumigen.generation.styles import get_style

    return 16 if get_style(primary_style).swing_unit == 16 else 8


SWING_KEY_BY_UNIT = {8: "swing_percent", 16: "swing_percent_16th"}
OCTAVE_SLACK = 0.06  # log2 units: a measured tempo within about 4 % of the others' times 2**k


def octaves_below(item: Evidence, measured_bpm: float | None) -> int:
    """Whole octaves a source's measured tempo lies below what the measuring sources agree on (else 0)."""
    # Only a clean octave counts as the same groove read at half or double; another tempo is another
    # song, measured on its own grid.
    tempo = item.facts.get("tempo_measured_bpm")
    if measured_bpm is None or not isinstance(tempo, int | float) or tempo <= 0:
        return 0
    octaves = math.log2(measured_bpm / float(tempo))
    return round(octaves) if abs(octaves - round(octaves)) <= OCTAVE_SLACK else 0


def measured_swing_figures(
    evidence: Sequence[Evidence], unit: int, measured_bpm: float | None
) -> list[tuple[float, float]]:
    """(swing %, weight) of each measuring source at the profile's unit.

    A recording read at half the tempo the other measurements agree on (fast jazz heard in half
    time) measured the profile's 8ths as its 16ths, and one read at double measured the profile's
    16ths as its 8ths: each source's swing is taken at the level that is the profile's unit.
    """
    figures = []
    for item in evidence:
        if item.kind == "builtin":
            continue
        key = SWING_KEY_BY_UNIT.get(unit * 2 ** octaves_below(item, measured_bpm))
        value = item.facts.get(key) if key else None
        if isinstance(value, int | float) and not isinstance(value, bool):
            figures.append((float(value), item.weight * NUMBER_WEIGHT.get(item.kind, 0.3)))
    return figures


def _measured_tempo_bpm(evidence: Sequence[Evidence]) -> float | None:
    """The tempo the measuring sources (recordings, MIDI files) agree on, in their heaviest octave."""
    measured = [e for e in evidence if isinstance(e.facts.get("tempo_measured_bpm"), int | float)]
    consensus = tempo_consensus(_tempo_figures(measured))
    return consensus.typical_bpm if consensus is not None else None


def build_profile(
    artist: str,
    records: Sequence[SourceRecord],
    builtin: StyleProfile | None = None,
    report: BuildReport | None = None,
) -> StyleProfile:
    """Aggregate source records (and built-in knowledge if any) into one StyleProfile."""
    report = report if report is not None else BuildReport()
    evidence = evidence_from_records(records)
    if builtin is not None:
        evidence.append(evidence_from_builtin(builtin))
    base = builtin.quantitative_params if builtin is not None else QuantitativeParams()

    styles, style_agreement = style_ranking(evidence)
    styles_guessed = not styles
    if styles_guessed:
        styles = ["rock"]  # nobody named a style: the engine needs one; the description says it's a guess
    from mididrumigen.generation.styles import get_style

    primary = get_style(styles[0])

    consensus = tempo_consensus(_tempo_figures(evidence))
    if consensus is not None:
        typical = min(max(consensus.typical_bpm, TEMPO_LIMITS_BPM[0]), TEMPO_LIMITS_BPM[1])
        report.tempo_outliers_bpm = list(consensus.outliers_bpm)
        low = min(consensus.members_bpm)
        high = max(consensus.members_bpm)
    else:
        typical = base.tempo_typical if builtin is not None else primary.tempo_typical
        low, high = (
            (base.tempo_min, base.tempo_max)
            if builtin is not None
            else (primary.tempo_min, primary.tempo_max)
        )
    for item in evidence:
        if item.kind in ("builtin", "article"):
            for span in item.facts.get("tempo_range_bpm") or []:
                if typical / 2 <= span[0] and span[1] <= typical * 2:
                    low, high = min(low, span[0]), max(high, span[1])
    low = max(TEMPO_LIMITS_BPM[0], min(low, typical * (1 - MIN_RANGE_SHARE)))
    high = min(TEMPO_LIMITS_BPM[1], max(high, typical * (1 + MIN_RANGE_SHARE)))

    def number(key: str, default: float, lo: float, hi: float, source_key: str | None = None) -> float:
        found = robust_mean(_numbers(evidence, source_key or key))
        if found is None:
            return default
        value, dropped = found
        if dropped:
            report.dropped_values[key] = dropped
        return min(hi, max(lo, value))

    swing_default = base.swing_percent if builtin is not None else primary.swing_percent
    swing_values = measured_swing_figures(evidence, _swing_unit(styles[0]), _measured_tempo_bpm(evidence))
    swing_values += _numbers([e for e in evidence if e.kind == "builtin"], "swing_percent")
    mentions = [
        (v, w)
        for e in evidence
        for v in e.facts.get("swing_percent_mentions", [])
        for w in [e.weight * NUMBER_WEIGHT.get(e.kind, 0.3)]
    ]
    swing_found = robust_mean(swing_values + mentions)
    swing = min(75.0, max(50.0, swing_found[0])) if swing_found else swing_default

    ghost_default = base.ghost_note_prob if builtin is not None else primary.ghost_share
    techniques = _ranked_strings(evidence, "techniques", 12)
    if builtin is None and any("ghost" in t.lower() for t in techniques):
        ghost_default = max(ghost_default, 0.18)  # named as a trait, but nobody measured it
    params = QuantitativeParams(
        tempo_min=round(low, 1),
        tempo_max=round(high, 1),
        tempo_typical=round(typical, 1),
        swing_percent=round(swing, 1),
        ghost_note_prob=round(number("ghost_note_prob", ghost_default, 0.0, 0.6, "ghost_note_share"), 3),
        velocity_mean=round(number("velocity_mean", base.velocity_mean, 30.0, 127.0), 1),
        velocity_std=round(number("velocity_std", base.velocity_std, 2.0, 40.0), 1),
        accent_strength=base.accent_strength,
        busyness=base.busyness,
        fill_density=base.fill_density,
        crash_after_fill=base.crash_after_fill if builtin is not None else primary.crash_after_fill,
        microtiming_ms=_microtiming(
            evidence, dict(base.microtiming_ms) if builtin else dict(primary.timing_ms)
        ),
        timing_jitter_ms=round(number("timing_jitter_ms", base.timing_jitter_ms, 0.0, 40.0), 1),
    )

    report.coverage = coverage(e.weight for e in evidence)
    report.tempo_agreement = consensus.agreement if consensus is not None else None
    report.style_agreement = style_agreement
    shares = [s for s in (report.tempo_agreement, report.style_agreement) if s is not None]
    agreement = sum(shares) / len(shares) if shares else 1.0
    confidence = report.coverage * (AGREEMENT_FLOOR + (1.0 - AGREEMENT_FLOOR) * agreement)

    counts = {kind: sum(1 for r in records if r.kind == kind) for kind in SOURCE_RECORD_KINDS}
    if builtin is not None:
        counts["builtin"] = 1
    traits = list(builtin.signature_traits) if builtin is not None else []
    traits += [t for t in techniques if t.lower() not in {x.lower() for x in traits}]
    genres = _ranked_strings(evidence, "genres", 6)
    templates = list(builtin.midi_templates) if builtin is not None else []
    templates += [
        str(r.extracted["template_path"])
        for r in records
        if r.kind == "midi" and r.extracted.get("template_path")
    ]
    profile = StyleProfile(
        artist_name=builtin.artist_name if builtin is not None else artist,
        text_description="",
        quantitative_params=params,
        styles=styles[:5],
        signature_traits=traits[:10],
        genres=genres,
        aliases=list(builtin.aliases) if builtin is not None else [],
        midi_templates=list(dict.fromkeys(templates)),
        embedding=None,
        confidence_score=round(min(1.0, confidence), 4),
        sources_count=counts,
        time_signatures=_time_signatures(evidence),
    )
    bands = _ranked_strings(evidence, "bands", 5)
    songs = _ranked_strings(evidence, "songs", 6)
    equipment = _ranked_strings(evidence, "equipment", 5)
    profile.text_description = describe(profile, builtin, bands, songs, equipment, styles_guessed)
    return profile


def _microtiming(evidence: Sequence[Evidence], default: dict[str, float]) -> dict[str, float]:
    per_class: defaultdict[str, list[tuple[float, float]]] = defaultdict(list)
    for item in evidence:
        timing = item.facts.get("microtiming_ms")
        if isinstance(timing, dict):
            for kit_class, value in timing.items():
                if isinstance(value, int | float):
                    per_class[kit_class].append(
                        (float(value), item.weight * NUMBER_WEIGHT.get(item.kind, 0.3))
                    )
    result = dict(default)
    for kit_class, values in per_class.items():
        if kit_class not in TIMING_CLASSES:
            continue  # toms and crashes are hit too rarely for a stable tendency
        found = robust_mean(values)
        if found is not None:
            result[kit_class] = round(min(MAX_TIMING_MS, max(-MAX_TIMING_MS, found[0])), 1)
    return result


def describe(
    profile: StyleProfile,
    builtin: StyleProfile | None,
    bands: list[str],
    songs: list[str],
    equipment: list[str],
    styles_guessed: bool = False,
) -> str:
    """The text description used in prompts: who, feel, numbers, and what it rests on."""
    params = profile.quantitative_params
    parts: list[str] = []
    if builtin is not None and builtin.text_description:
        parts.append(builtin.text_description.strip())
    style_names = ", ".join(s.replace("_", " ") for s in profile.styles[:3])
    who = f"{profile.artist_name} plays {style_names}"
    if styles_guessed:
        who += " (a guess: no source named a style)"
    if profile.genres:
        who += f"; genres: {', '.join(profile.genres[:4])}"
    if bands:
        who += f"; bands: {', '.join(bands[:3])}"
    parts.append(who + ".")
    feel = [
        f"Tempo {params.tempo_min:.0f}-{params.tempo_max:.0f} BPM, typically about {params.tempo_typical:.0f}"
    ]
    feel.append("straight 8ths" if params.swing_percent < 53 else f"swing {params.swing_percent:.0f}%")
    feel.append(f"ghost notes on about {params.ghost_note_prob * 100:.0f}% of snare hits")
    laid_back = {k: v for k, v in params.microtiming_ms.items() if abs(v) >= 4}
    if laid_back:
        feel.append(
            ", ".join(
                f"{k.replace('_', ' ')} {'behind' if v > 0 else 'ahead of'} the beat by {abs(v):.0f} ms"
                for k, v in laid_back.items()
            )
        )
    parts.append("; ".join(feel) + ".")
    research_traits = [
        t for t in profile.signature_traits if builtin is None or t not in builtin.signature_traits
    ]
    if research_traits:
        parts.append(f"Sources mention: {', '.join(research_traits[:6])}.")
    if songs:
        parts.append(f"Songs: {', '.join(songs[:4])}.")
    if equipment:
        parts.append(f"Equipment: {', '.join(equipment[:4])}.")
    counted = [
        f"{n} {SOURCE_NOUNS[kind][n != 1]}"
        for kind, n in profile.sources_count.items()
        if n and kind in SOURCE_NOUNS
    ]
    basis = ", ".join(counted) if counted else "no research sources"
    if builtin is not None:
        basis += " plus built-in knowledge"
    usable = "usable" if profile.confidence_score >= USABLE_CONFIDENCE else "below the usable threshold"
    parts.append(f"Based on {basis} (confidence {profile.confidence_score:.2f}, {usable}).")
    return " ".join(parts)


def merge_records(existing: Sequence[SourceRecord], new: Sequence[SourceRecord]) -> list[SourceRecord]:
    """Existing records plus the new ones not already known (same kind and URL)."""
    seen = {(r.kind, r.url) for r in existing if r.url}
    merged = list(existing)
    for record in new:
        key = (record.kind, record.url)
        if record.url and key in seen:
            continue
        seen.add(key)
        merged.append(record)
    return merged
