"""Make a grid clip sound played: swing, per-limb timing, correlated drift, accent-following velocity.

Pure functions on Clips, shared by the groove engine and the LLM path. Randomness
only comes from the `random.Random` passed in, so a seed reproduces the result.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
from collections.abc import Iterable
from dataclasses import replace

from mididrumigen.midi.kit import CLASS_BY_PITCH, GM_PITCH_BY_PIECE
from mididrumigen.midi.notes import Clip, Note, ms_to_ticks
from mididrumigen.profile import QuantitativeParams
from mididrumigen.stats import median

MIN_GAP_MS = 25.0  # two hits of one piece closer than this sound like a flam
DRIFT_COEFFICIENT = 0.7  # AR(1) memory of a limb's timing from one hit to the next
PULSE_DRIFT_COEFFICIENT = 0.75  # AR(1) memory of the whole kit's time from one beat to the next
# A profile's timing_jitter_ms at humanize 1 gives this many times its value of timing spread:
# GMD players sit 10-40 ms around the click within two bars, profiles give 4-12 ms of "jitter".
DRIFT_SCALE = 5.5
# How that spread divides (shares of its variance): the whole kit breathing together against
# the grid (slow, per beat), each limb's own drift (per hit) and a small independent scatter.
# The time-keeping cymbals count as one limb, so the off-beats keep their place against the
# beats around them (the swing a listener hears) while the time itself breathes.
PULSE_SHARE = 0.6
LIMB_SHARE = 0.34
SCATTER_SHARE = 0.06
VELOCITY_DRIFT_COEFFICIENT = 0.5
# A profile's velocity_std at humanize 1 gives this many times its value, in percent of each
# hit's written velocity, of variation: GMD players vary a piece's hits by 20-30 velocity steps.
VELOCITY_SCALE = 1.9
VELOCITY_SCATTER_SHARE = 0.4  # the rest of that variance is each limb's swell (AR(1))
HAT_ACCENT_DEPTH = 0.14  # velocity swing of the accent cycle at accent_strength 1
TIME_KEEPING_CLASSES = frozenset({"hihat_closed", "hihat_open", "ride"})
HAT_ACCENT_CYCLES = ("beat", "offbeat", "none")
# (u1 + u2 - 1) for uniform u1, u2 has a triangular distribution with sd 1/sqrt(6):
# scaled by this it is a cheap unit-variance noise (Random.gauss is 5x slower).
_UNIT_SPREAD = math.sqrt(6.0)

_PIECE_BY_PITCH: dict[int, str] = {}
for _piece, _pitch in GM_PITCH_BY_PIECE.items():
    _PIECE_BY_PITCH.setdefault(_pitch, _piece)
del _piece, _pitch


def is_compound_meter(time_signature: tuple[int, int]) -> bool:
    """True for meters felt in dotted quarters (6/8, 9/8, 12/8), where swing does not apply."""
    numerator, denominator = time_signature
    return denominator == 8 and numerator % 3 == 0 and numerator > 3


def swing_tick(
    tick: float, ticks_per_beat: int, swing_percent: float, unit: int = 8, source_percent: float = 50.0
) -> float:
    """Move a position so the off-beat of each pair sits at swing_percent (it sat at source_percent)."""
    if unit not in (8, 16):
        raise ValueError(f"swing unit must be 8 or 16, got {unit}")
    if not 0 < swing_percent < 100 or not 0 < source_percent < 100:
        raise ValueError("swing percent must be between 0 and 100")
    pair = ticks_per_beat if unit == 8 else ticks_per_beat / 2
    start = math.floor(tick / pair) * pair
    inside = tick - start
    source = pair * source_percent / 100.0
    target = pair * swing_percent / 100.0
    if inside <= source:
        moved = inside * target / source
    else:
        moved = target + (inside - source) * (pair - target) / (pair - source)
    return start + moved


def apply_swing(clip: Clip, swing_percent: float, unit: int = 8, *, source_percent: float = 50.0) -> Clip:
    """Return the clip with its off-beat 8ths (or 16ths) moved to swing_percent; compound meters unchanged."""
    if is_compound_meter(clip.time_signature):
        return replace(clip, notes=list(clip.notes))
    tpb = clip.ticks_per_beat
    last = clip.length_ticks - 1 if clip.length_ticks else None
    notes = []
    for note in clip.notes:
        time = round(swing_tick(note.time, tpb, swing_percent, unit, source_percent))
        if last is not None:
            time = min(time, last)
        notes.append(note._replace(time=max(0, time)))
    return replace(clip, notes=notes)


def beat_place(tick: float, ticks_per_beat: int) -> int:
    """Where a hit sits in its beat for the accent cycle: 1 on the beat, 0 on the straight or swung '&', -1 elsewhere."""
    frac = (tick % ticks_per_beat) / ticks_per_beat
    if frac < 0.08 or frac > 0.95:
        return 1
    return 0 if 0.42 < frac < 0.72 else -1


def plays_eighths_only(ticks: Iterable[float], ticks_per_beat: int) -> bool:
    """True when every hit is on a beat or its '&' (a part in 8ths, straight or swung)."""
    return all(beat_place(t, ticks_per_beat) >= 0 for t in ticks)


def accent_gain(tick: float, ticks_per_beat: int, cycle: str, *, eighths_only: bool = False) -> float:
    """Accent-cycle weight of a position: +1 accented, 0 neutral, -1 unaccented (beat or off-beat cycle).

    In 16ths the cycle has three levels (beat, '&', then 'e' and 'a' weakest); a part played in
    8ths only (eighths_only) has two, its unaccented 8th as weak as a 16th's 'e'.
    """
    if cycle == "none":
        return 0.0
    if cycle not in HAT_ACCENT_CYCLES:
        raise ValueError(f"hat accent cycle must be one of {', '.join(HAT_ACCENT_CYCLES)}")
    place = beat_place(tick, ticks_per_beat)
    if place < 0:
        return -1.0
    accented = place == 1 if cycle == "beat" else place == 0
    return 1.0 if accented else -1.0 if eighths_only else 0.0


def piece_of_gm_pitch(pitch: int) -> str | None:
    """The kit piece a General MIDI pitch plays, if any."""
    return _PIECE_BY_PITCH.get(pitch)


def min_gap_ticks(tempo_bpm: float, ticks_per_beat: int, gap_ms: float = MIN_GAP_MS) -> int:
    """Smallest distance in ticks between two hits of one piece that is not a flam."""
    return math.ceil(ms_to_ticks(gap_ms, tempo_bpm, ticks_per_beat)) + 1


def apply_feel(
    clip: Clip,
    params: QuantitativeParams,
    *,
    amount: float,
    rng: random.Random,
    hat_accent: str | None = None,
) -> Clip:
    """Return the clip played: per-limb timing tendency, AR(1) drift, accent cycle and velocity life.

    amount 0 returns the notes unchanged. Notes keep their order (index i stays note i),
    never move before tick 0, past the clip end or into the next bar, and two hits of one
    pitch never come closer than MIN_GAP_MS unless they were written that close (a flam).
    """
    if not 0.0 <= amount <= 1.0:
        raise ValueError(f"humanize amount must be from 0 to 1, got {amount:g}")
    if hat_accent is not None and hat_accent not in HAT_ACCENT_CYCLES:
        raise ValueError(f"hat accent cycle must be one of {', '.join(HAT_ACCENT_CYCLES)}")
    if amount == 0.0 or not clip.notes:
        return replace(clip, notes=list(clip.notes))
    notes = clip.notes
    tpb = clip.ticks_per_beat
    tempo = clip.tempo_bpm
    bar = clip.ticks_per_bar
    length = clip.length_ticks
    gap = min_gap_ticks(tempo, tpb)
    ticks_per_ms = ms_to_ticks(1.0, tempo, tpb)
    keys = [(n.time, n.pitch) for n in notes]
    order = sorted(range(len(notes)), key=keys.__getitem__)
    early_room, late_room = _flam_room(notes, order, gap)

    spread_ms = params.timing_jitter_ms * amount * DRIFT_SCALE
    drift_sd = spread_ms * math.sqrt(LIMB_SHARE)
    drift_step = drift_sd * math.sqrt(1 - DRIFT_COEFFICIENT**2) * _UNIT_SPREAD
    scatter = spread_ms * math.sqrt(SCATTER_SHARE) * _UNIT_SPREAD
    last_tick = max(length, max(n.time for n in notes) + 1)
    pulse = _pulse_drift_ms(last_tick // tpb + 2, spread_ms * math.sqrt(PULSE_SHARE), rng)
    velocity_sd = min(params.velocity_std * VELOCITY_SCALE, 40.0) * amount / 100.0
    velocity_step = (
        velocity_sd
        * math.sqrt((1 - VELOCITY_SCATTER_SHARE) * (1 - VELOCITY_DRIFT_COEFFICIENT**2))
        * _UNIT_SPREAD
    )
    velocity_scatter = velocity_sd * math.sqrt(VELOCITY_SCATTER_SHARE) * _UNIT_SPREAD
    accent_depth = HAT_ACCENT_DEPTH * params.accent_strength * amount
    eighths_only = hat_accent is not None and plays_eighths_only(
        (n.time for n in notes if CLASS_BY_PITCH.get(n.pitch) in TIME_KEEPING_CLASSES), tpb
    )
    # Per pitch, computed once: its limb (kit class), timing tendency in ticks, accent cycle on/off.
    per_pitch: dict[int, tuple[str, float, bool]] = {}
    for note in notes:
        if note.pitch in per_pitch:
            continue
        kit_class = CLASS_BY_PITCH.get(note.pitch, str(note.pitch))
        # The time-keeping cymbals are one hand: they drift together.
        limb = "cymbal_hand" if kit_class in TIME_KEEPING_CLASSES else kit_class
        piece = _PIECE_BY_PITCH.get(note.pitch, kit_class)
        tendency = params.microtiming_ms.get(piece, params.microtiming_ms.get(kit_class, 0.0))
        per_pitch[note.pitch] = (
            limb,
            tendency * amount * ticks_per_ms,
            hat_accent is not None and kit_class in TIME_KEEPING_CLASSES,
        )
    timing_drift: dict[str, float] = {}
    velocity_drift: dict[str, float] = {}
    random_unit = rng.random
    drift_coefficient = DRIFT_COEFFICIENT
    velocity_coefficient = VELOCITY_DRIFT_COEFFICIENT
    out: list[Note] = list(notes)
    for index in order:
        note = notes[index]
        pitch = note.pitch
        written = note.time
        limb, tendency_ticks, cycled = per_pitch[pitch]
        # AR(1): a limb drifts ahead or behind over several hits instead of jumping at random.
        previous = timing_drift.get(limb)
        if previous is None:
            previous = (random_unit() + random_unit() - 1.0) * drift_sd * _UNIT_SPREAD
        drift = drift_coefficient * previous + (random_unit() + random_unit() - 1.0) * drift_step
        timing_drift[limb] = drift
        beat = written // tpb
        before = pulse[beat]
        breath = before + (pulse[beat + 1] - before) * (written - beat * tpb) / tpb
        jitter = (random_unit() + random_unit() - 1.0) * scatter
        shift = tendency_ticks + (drift + breath + jitter) * ticks_per_ms
        early = -early_room[index]
        if shift < early:
            shift = early
        else:
            late = late_room[index]
            if shift > late:
                shift = late
        time = round(written + shift)
        bar_end = (written // bar + 1) * bar if bar else length
        limit = (bar_end if bar_end < length else length) - 1 if length else bar_end - 1
        if time < 0:
            time = 0
        elif time > limit:
            time = limit
        vdrift = (
            velocity_coefficient * velocity_drift.get(limb, 0.0)
            + (random_unit() + random_unit() - 1.0) * velocity_step
        )
        velocity_drift[limb] = vdrift
        gain = 1.0 + vdrift + (random_unit() + random_unit() - 1.0) * velocity_scatter
        if cycled:
            gain += accent_depth * accent_gain(written, tpb, hat_accent or "none", eighths_only=eighths_only)
        velocity = round(note.velocity * gain)
        out[index] = Note(
            pitch, 1 if velocity < 1 else 127 if velocity > 127 else velocity, time, note.duration
        )
    return replace(clip, notes=out)


def _pulse_drift_ms(beats: int, sd_ms: float, rng: random.Random) -> list[float]:
    """The whole kit's slow wander against the grid, one AR(1) value per beat (stationary sd sd_ms)."""
    step = sd_ms * math.sqrt(1 - PULSE_DRIFT_COEFFICIENT**2) * _UNIT_SPREAD
    value = (rng.random() + rng.random() - 1.0) * sd_ms * _UNIT_SPREAD
    out = []
    for _ in range(beats):
        out.append(value)
        value = PULSE_DRIFT_COEFFICIENT * value + (rng.random() + rng.random() - 1.0) * step
    return out


def _flam_room(notes: list[Note], order: list[int], gap: int) -> tuple[list[int], list[int]]:
    """How far each note may move early and late without coming within gap of a neighbour of its pitch.

    Each side gets half the room beyond the gap, so two neighbours moving towards each
    other still keep the gap; notes written closer than the gap (flams) do not move that way.
    """
    big = 10**9
    room_before = [big] * len(notes)
    room_after = [big] * len(notes)
    last_by_pitch: dict[int, int] = {}
    for index in order:
        note = notes[index]
        previous = last_by_pitch.get(note.pitch)
        if previous is not None:
            room = note.time - notes[previous].time - gap
            half = room // 2 if room > 0 else 0
            room_before[index] = half
            room_after[previous] = half
        last_by_pitch[note.pitch] = index
    return room_before, room_after


# The analysis's swing measurement (mididrumigen.analysis.midi_features.measure_swing_percent),
# replicated in plain Python so the engine can aim at exactly what is measured without importing
# numpy: local pair starts (window re-centred on them), window of off-beat places, straight-sixteenth
# rule, density peak, re-centred median. Its constants are defined here, numpy-free, and the
# analysis imports them.
SWING_WINDOW = (0.45, 0.72)  # where the off-beat of a pair may sit (straight .. hard swing)
# Hits this close to the swing peak count toward the median. Played off-beats scatter around
# their place by 0.05-0.08 of a pair (the engine's humanising; GMD players as much): a window of
# +-0.07 kept under half of them, so its median followed the chance bumps of the scatter and a
# beat grid 0.2 % off read another swing. Set on the fidelity renders (in-sample): 0.085-0.13
# all read more of them right where the tempo is right (95.9 % at 0.07; 97-98 %), 0.11 most.
SWING_HALF_WIDTH = 0.11
LOCAL_PAIRS = 4  # pair starts this many pairs either side of a pair place it (a slow grid drift cancels)
LOCAL_MIN_STARTS = 3  # fewer hits near those pair starts: the clip-wide median start
STRAIGHT_SIXTEENTH_EDGE = 0.70  # above this, with 'e' sixteenths present, hits are 'a' sixteenths
START_WINDOW_ROUNDS = 3  # re-centrings of the pair-start window
# Then rounds of taking as pair starts the hits near each pair's local start (not the clip-wide
# one): a beat grid a few tenths of a percent off the played tempo (a tempo estimate) drifts a
# tenth of a beat from the starts at the clip's ends, out of a clip-wide window. On the fidelity
# renders (in-sample) swing where the tempo is right: 97.9 % with none, 98.4 % one, 99.4 % three.
LOCAL_START_ROUNDS = 3
START_HALF_WIDTH = 0.12  # how near a pair's start, in pairs, a hit counts as that start
_SWING_PROBES = tuple(SWING_WINDOW[0] + (SWING_WINDOW[1] - SWING_WINDOW[0]) * i / 54 for i in range(55))
_DENSITY_REACH = 0.09  # 4.5 bandwidths: farther hits add under 4e-5 each to a probe's density
_SWING_PROBE_REACH = tuple((p, p - _DENSITY_REACH, p + _DENSITY_REACH) for p in _SWING_PROBES)
# Bands of a cheap upper bound of a probe's density: hits within _BAND_INNER add at most their
# weight, the next ones up to _BAND_MIDDLE at most the kernel at _BAND_INNER, the rest the kernel
# at _BAND_MIDDLE. The margin keeps rounding from ruling out a probe that could tie.
_BAND_INNER = 0.02
_BAND_MIDDLE = 0.04
_KERNEL_INNER = math.exp(-2.0 * (25.0 * _BAND_INNER) ** 2)
_KERNEL_MIDDLE = math.exp(-2.0 * (25.0 * _BAND_MIDDLE) ** 2)
_BOUND_MARGIN = 1.0 + 1e-9


def _local_start_offsets(starts_by_pair: dict[int, list[float]], pairs: Iterable[int]) -> dict[int, float]:
    """Per pair, the median of the starts within LOCAL_PAIRS pairs either side (clip-wide under LOCAL_MIN_STARTS)."""
    # The pairs in order, with a sorted window of the starts near the current one that slides
    # along with it (each start goes in and out once), not a sort of the nearby starts per pair.
    pairs_with_starts = sorted(starts_by_pair)
    fallback = median([value for p in pairs_with_starts for value in starts_by_pair[p]])
    insort, find = bisect.insort, bisect.bisect_left
    window: list[float] = []
    offset_of: dict[int, float] = {}
    added = dropped = 0
    count = len(pairs_with_starts)
    for index in sorted(pairs):
        while added < count and pairs_with_starts[added] <= index + 1 + LOCAL_PAIRS:
            for value in starts_by_pair[pairs_with_starts[added]]:
                insort(window, value)
            added += 1
        while dropped < added and pairs_with_starts[dropped] < index - LOCAL_PAIRS:
            for value in starts_by_pair[pairs_with_starts[dropped]]:
                del window[find(window, value)]
            dropped += 1
        size = len(window)
        if size < LOCAL_MIN_STARTS:
            offset_of[index] = fallback
        else:
            middle = size // 2
            offset_of[index] = window[middle] if size % 2 else (window[middle - 1] + window[middle]) / 2
    return offset_of


def measured_swing_percent(times_ticks: list[int] | list[float], pair_ticks: float) -> float:
    """Swing percent of hits as the analysis measures it on the file's grid (pairs of pair_ticks from tick 0).

    Median position of the off-beat hits in their pair, positions counted from the median
    played pair start within LOCAL_PAIRS pairs either side (clip-wide under LOCAL_MIN_STARTS),
    the starts taken again near those local starts LOCAL_START_ROUNDS times;
    50 when no hit sits in the off-beat window.
    """
    if pair_ticks <= 0:
        raise ValueError(f"pair length must be positive, got {pair_ticks:g}")
    floor = math.floor
    pair_index = [floor(t / pair_ticks) for t in times_ticks]
    inside = [(t % pair_ticks) / pair_ticks for t in times_ticks]
    wrapped = [x - 1.0 if x > 0.5 else x for x in inside]
    chosen = [-START_HALF_WIDTH < w < START_HALF_WIDTH for w in wrapped]
    for _ in range(START_WINDOW_ROUNDS):
        picked = list(itertools.compress(wrapped, chosen))
        if len(picked) < 4:
            break
        centre = median(picked)
        centred = [abs(w - centre) < START_HALF_WIDTH for w in wrapped]
        if centred == chosen:
            break
        chosen = centred
    # The pair each hit would start (the next one for a hit in a pair's second half).
    would_start = [index + 1 if x > 0.5 else index for index, x in zip(pair_index, inside, strict=True)]
    starts_by_pair: dict[int, list[float]] = {}
    for start, w in itertools.compress(zip(would_start, wrapped, strict=True), chosen):
        starts_by_pair.setdefault(start, []).append(w)
    if sum(len(v) for v in starts_by_pair.values()) >= 4:
        # Follow the starts along the clip: the hits near the local start of the pair they would
        # start are its starts.
        pairs = set(pair_index).union(would_start)
        offset_of = _local_start_offsets(starts_by_pair, pairs)
        started = set(itertools.compress(range(len(chosen)), chosen))
        for _ in range(LOCAL_START_ROUNDS):
            # Only hits within the window (and a hundredth more, for rounding) of the earliest or
            # latest local start can follow one (local starts so far off that the window wraps
            # past a pair's middle: any hit).
            earliest = min(offset_of.values()) - (START_HALF_WIDTH + 0.01)
            latest = max(offset_of.values()) + (START_HALF_WIDTH + 0.01)
            if earliest <= -0.5 or latest >= 0.5:
                earliest, latest = -math.inf, math.inf
            follows: set[int] = set()
            following: dict[int, list[float]] = {}
            for i, w in enumerate(wrapped):
                if not earliest < w < latest:
                    continue
                x = inside[i]
                local = offset_of[would_start[i]]
                near_local = (x - local + 0.5) % 1.0 - 0.5
                if -START_HALF_WIDTH < near_local < START_HALF_WIDTH:
                    follows.add(i)
                    value = local + near_local
                    following.setdefault(pair_index[i] + round(x - value), []).append(value)
            if len(follows) < 4 or follows == started:
                break
            started = follows
            offset_of = _local_start_offsets(following, pairs)
        inside = [(x - offset_of[index]) % 1.0 for index, x in zip(pair_index, inside, strict=True)]
    low, high = SWING_WINDOW
    near_e = 0
    near_a = 0
    for x in inside:
        if abs(x - 0.25) < 0.05:
            near_e += 1
        elif abs(x - 0.75) < 0.05:
            near_a += 1
    if near_a and near_e >= 0.25 * near_a:
        inside = [x for x in inside if x < STRAIGHT_SIXTEENTH_EDGE]
    candidates = sorted(x for x in inside if low - SWING_HALF_WIDTH <= x <= high + SWING_HALF_WIDTH)
    core = [x for x in candidates if low <= x <= high]
    if not core:
        return 50.0
    exp = math.exp
    find = bisect.bisect_left
    # Hits sit on whole ticks, so many share a position: weigh each distinct position once.
    values = sorted(set(core))
    weights = [0] * len(values)
    for x in core:
        weights[find(values, x)] += 1
    cumulative = [0, *itertools.accumulate(weights)]

    def density_at(probe: float, first: int, last: int) -> float:
        density = 0.0
        for index in range(first, last):
            d = (
                values[index] - probe
            ) * 25.0  # exp(-0.5 ((x - probe) / 0.02)^2) = exp(-2 (25 (x - probe))^2)
            density += weights[index] * exp(-d * d * 2.0)
        return density

    # The peak is the first probe of highest density. Start from the probe nearest the
    # median hit, so that most probes are ruled out by a cheap upper bound of their density
    # (weights within 0.02, 0.04 and the reach, times the kernel at those distances) instead
    # of being summed: the same peak, found with a fraction of the exp calls.
    last_probe = len(_SWING_PROBES) - 1
    step = (_SWING_PROBES[-1] - _SWING_PROBES[0]) / last_probe
    start = min(max(round((core[len(core) // 2] - _SWING_PROBES[0]) / step), 0), last_probe)
    probe, reach_low, reach_high = _SWING_PROBE_REACH[start]
    best = density_at(probe, find(values, reach_low), find(values, reach_high))
    best_index = start
    for index_probe, (probe, reach_low, reach_high) in enumerate(_SWING_PROBE_REACH):
        if index_probe == start:
            continue
        first = find(values, reach_low)
        last = find(values, reach_high)
        reach = cumulative[last] - cumulative[first]
        if reach < best:
            continue
        inner = cumulative[find(values, probe + _BAND_INNER)] - cumulative[find(values, probe - _BAND_INNER)]
        middle = (
            cumulative[find(values, probe + _BAND_MIDDLE)] - cumulative[find(values, probe - _BAND_MIDDLE)]
        )
        bound = inner + _KERNEL_INNER * (middle - inner) + _KERNEL_MIDDLE * (reach - middle)
        if bound * _BOUND_MARGIN < best:
            continue
        density = density_at(probe, first, last)
        if density > best or (density == best and index_probe < best_index):
            best = density
            best_index = index_probe
    peak = _SWING_PROBES[best_index]
    near = [x for x in candidates if abs(x - peak) <= SWING_HALF_WIDTH]
    for _ in range(4):
        centre = median(near)
        wider = [x for x in candidates if abs(x - centre) <= SWING_HALF_WIDTH]
        if not wider:
            break
        if wider == near:
            break  # converged: further rounds would find the same hits
        near = wider
    return min(max(median(near) * 100.0, 50.0), 75.0)
