"""The groove engine: the offline default generator, grooves from the style library shaped by a profile."""

from __future__ import annotations

import bisect
import itertools
import math
import operator
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from mididrumigen.generation.request import GenerationRequest, seed_or_drawn
from mididrumigen.generation.styles import (
    TICKS_PER_BEAT,
    Fill,
    Hit,
    MeterPatterns,
    Style,
    get_style,
    meter_patterns,
    place_fill,
)
from mididrumigen.midi.humanize import (
    accent_gain,
    apply_feel,
    measured_swing_percent,
    min_gap_ticks,
    plays_eighths_only,
    swing_tick,
)
from mididrumigen.midi.kit import CLASS_BY_PIECE, GM_PITCH_BY_PIECE
from mididrumigen.midi.notes import Clip, Note
from mididrumigen.profile import QuantitativeParams, StyleProfile
from mididrumigen.stats import median, percentile

if TYPE_CHECKING:
    from mididrumigen.generation.library import TemplateLibrary

PHRASE_BARS = 4
LONG_PHRASE_BARS = 8  # where a whole-bar fill belongs
OFFBEAT_OWN_SCATTER = 0.35  # share of an off-beat's own timing scatter kept against its local pulse
SWING_LOCK_ROUNDS = 6  # measure-and-shift passes that bring the measured swing onto the request
SWING_SCAN_STEPS = 12  # shifts tried each side when stepping does not converge
SWING_SCAN_FROM = 1.0  # percent points still off after stepping that call for the scan
SWING_LOCK_TOLERANCE = 0.4  # percent points: close enough to stop shifting
SWING_LOCK_MIN_HITS = 3  # fewer written off-beats than this: nothing to steer
NOTE_TICKS = 60  # drum hits are one-shots: a 32nd-note gate
GHOST_CEILING = 0.44  # ghosts stay below this share of the clip's snare accent level
MAIN_FLOOR = 0.56  # other snare hits stay above it (the analysis splits at 0.5)
SNARE_PIECES = frozenset(p for p, c in CLASS_BY_PIECE.items() if c == "snare")
TOM_PIECES = frozenset(p for p, c in CLASS_BY_PIECE.items() if c.startswith("tom"))
# Relative loudness of the pieces: hands on cymbals play well under the backbeat, as
# in the GMD's human performances (overall velocity spread 25-40 in a 2-bar window).
PIECE_GAIN = {
    "kick": 0.92,
    "hihat_closed": 0.56,
    "hihat_pedal": 0.72,
    "hihat_open": 0.75,
    "ride": 0.64,
    "ride_bell": 0.8,
    "shaker": 0.55,
    "tambourine": 0.6,
    "cowbell": 0.75,
    "cross_stick": 0.85,
    "china": 0.9,
    "tom_high": 0.9,
    "tom_mid": 0.9,
    "tom_low": 0.92,
    "tom_floor": 0.95,
}
# Knobs of each variation, in order: alternative pattern (None = core), timekeeper swap,
# weight of optional hits, chance the hat opens at its spots, extra weight on kick additions.
_PLANS: tuple[tuple[int | None, bool, float, float, float], ...] = (
    (None, False, 0.0, 0.0, 1.0),
    (None, False, 1.0, 0.5, 1.0),
    (0, True, 0.6, 0.0, 1.0),
    (None, False, 1.0, 0.35, 2.0),
    (1, False, 1.0, 0.3, 1.0),
    (2, True, 1.0, 0.0, 1.5),
    (0, False, 1.5, 0.5, 1.0),
    (1, True, 1.5, 0.2, 2.0),
)

# One hit while a variation is built: bar, tick in the bar (straight grid), piece,
# level, swings, roll offset, kind (0 groove, 1 fill, 2 crash downbeat).
_Event = tuple[int, int, str, str, bool, int, int]


@dataclass(frozen=True, slots=True)
class GrooveSettings:
    """Everything a request resolves to before notes are written."""

    style: Style
    meter: tuple[int, int]
    tempo_bpm: float
    bars: int
    swing_percent: float
    ghost_share: float
    crash_after_fill: bool
    params: QuantitativeParams
    humanize: float
    label: str
    seed: int


def resolve_settings(request: GenerationRequest, profile: StyleProfile | None = None) -> GrooveSettings:
    """Resolve style, tempo, meter, swing, ghost share and feel from the request, the profile and the style."""
    if request.style is not None:
        style = get_style(request.style)
    elif profile is not None and profile.styles:
        style = get_style(profile.styles[0])
    else:
        raise ValueError("give a style or a profile with styles")
    meter = request.time_signature or style.meter
    base = (
        profile.quantitative_params
        if profile is not None
        else QuantitativeParams(
            timing_jitter_ms=style.jitter_ms, velocity_std=style.velocity_std, fill_density=style.fill_density
        )
    )
    if request.tempo_bpm is not None:
        tempo = float(request.tempo_bpm)
    elif profile is not None:
        tempo = style.clamp_tempo(base.tempo_typical)
    else:
        tempo = style.tempo_typical
    profile_speaks = profile is not None and (request.style is None or style.key in profile.styles)
    swing = base.swing_percent if profile_speaks else style.swing_percent
    if profile_speaks and style.triplet_feel and swing < 55.0:
        swing = style.swing_percent  # a straight-playing drummer asked for a shuffle still shuffles
    ghost_share = base.ghost_note_prob if profile is not None else style.ghost_share
    params = replace(
        base,
        microtiming_ms={**style.timing_ms, **(base.microtiming_ms if profile is not None else {})},
        swing_percent=swing,
        ghost_note_prob=ghost_share,
    )
    crash = style.crash_after_fill and (base.crash_after_fill if profile is not None else True)
    label = request.artist or (profile.artist_name if profile is not None else style.title)
    seed = seed_or_drawn(request.seed)
    return GrooveSettings(
        style=style,
        meter=meter,
        tempo_bpm=tempo,
        bars=request.bars,
        swing_percent=min(max(swing, 50.0), 74.0),
        ghost_share=min(max(ghost_share, 0.0), 0.9),
        crash_after_fill=crash,
        params=params,
        humanize=request.humanize,
        label=label,
        seed=seed,
    )


def generate_grooves(
    request: GenerationRequest,
    profile: StyleProfile | None = None,
    library: TemplateLibrary | None = None,
) -> list[Clip]:
    """Generate request.variations clips of exactly request.bars bars in the resolved style and feel."""
    settings = resolve_settings(request, profile)
    patterns = meter_patterns(settings.style.key, settings.meter)
    slots = (
        _template_variations(settings, library, profile, request.variations) if library is not None else []
    )
    clips: list[Clip] = []
    seen: list[frozenset[tuple[int, int]]] = []
    for number in range(1, request.variations + 1):
        template = slots[number - 1] if number - 1 < len(slots) else None
        if template is not None:
            seen.append(frozenset((n.time, n.pitch) for n in template.notes))
            clips.append(template)
            continue
        clips.append(_build_variation(settings, patterns, number, seen))
    return clips


# A clip as plain data for another process: flat (pitch, velocity, time, duration) ints, tempo,
# meter, resolution, bars, name, meta. Pickling Note objects costs several times more.
PackedClip = tuple[list[int], float, tuple[int, int], int, int | None, str, dict[str, Any]]


def generate_grooves_packed(
    request: GenerationRequest, profile: StyleProfile | None = None
) -> list[PackedClip]:
    """generate_grooves for a worker process: the clips as plain data (see unpack_clips)."""
    return [
        (
            [v for n in clip.notes for v in (n.pitch, n.velocity, n.time, n.duration)],
            clip.tempo_bpm,
            clip.time_signature,
            clip.ticks_per_beat,
            clip.bars,
            clip.name,
            clip.meta,
        )
        for clip in generate_grooves(request, profile)
    ]


PARENT_POLL_S = 0.25  # how often a worker process checks that the daemon that started it is alive


def exit_with_parent(parent_pid: int, poll_s: float = PARENT_POLL_S) -> None:
    """End this worker process as soon as the daemon that started it is gone (kill -9, a crash).

    The closed pipe ends the worker too (serve_engine_requests); this watch does not depend
    on the pipe, so no worker outlives its daemon whatever else holds the pipe open.
    """
    import os
    import threading
    import time

    def watch() -> None:
        while True:
            if os.getppid() != parent_pid:  # re-parented: the daemon is gone
                os._exit(0)
            time.sleep(poll_s)

    if os.getppid() != parent_pid:
        os._exit(0)
    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


SAME_PROFILE = "same-profile"  # in a worker request: the profile sent with this worker's previous request


def serve_engine_requests(connection: Any, parent_pid: int) -> None:
    """A worker process's main loop: groove-engine requests in, packed clips out, over one pipe.

    Each message in is a pickled (job id, request, profile or SAME_PROFILE); each message out
    is a pickled (job id, True, packed clips) or (job id, False, exception). The loop ends when
    the daemon closes its end of the pipe, or (see exit_with_parent) when the daemon is gone.
    """
    import pickle

    exit_with_parent(parent_pid)
    warm_up()
    profile: StyleProfile | None = None
    while True:
        try:
            message = connection.recv_bytes()
        except (EOFError, OSError):
            return  # the daemon closed the pipe: shut down
        job_id, request, sent_profile = pickle.loads(message)
        if not isinstance(sent_profile, str):
            profile = sent_profile
        try:
            reply: tuple[Any, ...] = (job_id, True, generate_grooves_packed(request, profile))
        except Exception as exc:  # sent back to the waiting request
            reply = (job_id, False, exc)
        try:
            data = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # an error that does not pickle still reaches the daemon, as text
            data = pickle.dumps((job_id, False, RuntimeError(f"groove engine failed: {reply[2]!r}")))
        try:
            connection.send_bytes(data)
        except OSError:
            return


def warm_up() -> None:
    """Run once in a fresh worker process: parse the styles and fill the pattern cache."""
    from mididrumigen.generation.styles import STYLES

    for key in STYLES:
        generate_grooves(GenerationRequest(style=key, bars=1, variations=1, seed=0, humanize=0.0))


def unpack_clips(packed: list[PackedClip]) -> list[Clip]:
    """Clips back from generate_grooves_packed's plain data."""
    clips = []
    for flat, tempo_bpm, time_signature, ticks_per_beat, bars, name, meta in packed:
        values = iter(flat)
        notes = [Note(*hit) for hit in zip(values, values, values, values, strict=True)]
        clips.append(Clip(notes, tempo_bpm, tuple(time_signature), ticks_per_beat, bars, name, meta))  # type: ignore[arg-type]
    return clips


# ------------------------------------------------------------------ one variation


def _build_variation(
    settings: GrooveSettings, patterns: MeterPatterns, number: int, seen: list[frozenset[tuple[int, int]]]
) -> Clip:
    events: list[_Event] = []
    notes: list[Note] = []
    ghosts: list[bool] = []
    for attempt in range(12):
        rng = random.Random(f"{settings.seed}:{number}:{attempt}")
        plan = _PLANS[(number - 1 + attempt * 3) % len(_PLANS)]
        events = _arrange(settings, patterns, plan, rng, turnaround=number % 2 == 0)
        if attempt >= 4:
            events = _breathe(events, settings.style, rng)
        notes, ghosts = _render(settings, patterns, events)
        grid = frozenset((n.time, n.pitch) for n in notes)
        if grid not in seen:
            seen.append(grid)
            break
    rng = random.Random(f"{settings.seed}:{number}:feel")
    clip = _variation_clip(settings, number, notes, "groove-engine")
    # Swing lives on the off-beats: a variation with too few of them written carries no swing
    # a listener (or the analysis) can hear, so its swing is reported as not applicable.
    clip.meta["swing_measurable"] = (
        not patterns.compound and _offbeat_count(notes, settings) >= SWING_LOCK_MIN_HITS
    )
    if settings.humanize > 0:
        clip = apply_feel(clip, settings.params, amount=settings.humanize, rng=rng)
        if not patterns.compound:
            clip.notes = _center_swing(notes, clip.notes, settings)
            clip.notes = _lock_swing(notes, clip.notes, settings)
    clip.notes = _settle_ghosts(clip.notes, ghosts)
    return clip.sorted()


def _center_swing(written: list[Note], played: list[Note], settings: GrooveSettings) -> list[Note]:
    """Move the played off-beats together so their median sits at the requested swing.

    Swing is heard (and analysed) against the beats as played: the median off-beat must sit
    at the swing percent of the pair counted from the median played pair start. Per-limb
    tendencies and drift stay (each hit keeps its distance to the others), but the drift's
    chance wander and a laid-back limb on the off-beats must not change the swing.
    """
    pair, off = _swing_places(settings)
    indices: list[int] = []  # the off-beats
    starts: list[int] = []  # how far each pair start was played from where it was written
    pulse_at: dict[int, list[int]] = {}  # those, by written tick
    for i, n in enumerate(written):
        position = n.time % pair
        if position == off:
            indices.append(i)
        if position == 0:
            delta = played[i].time - n.time
            starts.append(delta)
            pulse_at.setdefault(n.time, []).append(delta)
    if len(indices) < 4:
        return played
    reference = median([float(t) for t in starts]) if len(starts) >= 4 else 0.0
    # A player's off-beats follow the beats around them (the swing stays while the time
    # breathes): each off-beat keeps only part of its own scatter against its local pulse.
    pulse_median = {t: median([float(d) for d in deltas]) for t, deltas in pulse_at.items()}
    wanted: dict[int, float] = {}
    for i in indices:
        start = written[i].time - off
        local = [pulse_median[t] for t in (start, start + pair) if t in pulse_median]
        own = float(played[i].time - written[i].time)
        beat = sum(local) / len(local) if local else own
        wanted[i] = beat + OFFBEAT_OWN_SCATTER * (own - beat)
    shift_f = reference - median(list(wanted.values()))
    gap = min_gap_ticks(settings.tempo_bpm, TICKS_PER_BEAT)
    bar_ticks = meter_patterns(settings.style.key, settings.meter).bar_ticks
    length = bar_ticks * settings.bars
    out = list(played)
    times_by_pitch: dict[int, list[int]] = {}
    for note in played:
        times_by_pitch.setdefault(note.pitch, []).append(note.time)
    for times_of_pitch in times_by_pitch.values():
        times_of_pitch.sort()
    for i in indices:
        note = played[i]
        time = written[i].time + round(wanted[i] + shift_f)
        if time == note.time:
            continue
        bar_end = (written[i].time // bar_ticks + 1) * bar_ticks
        if not 0 <= time < min(bar_end, length):
            continue
        neighbours = times_by_pitch[note.pitch]
        low = bisect.bisect_right(neighbours, time - gap)
        high = bisect.bisect_left(neighbours, time + gap)
        if any(neighbours[k] != note.time for k in range(low, high)):
            continue
        out[i] = Note(note.pitch, note.velocity, time, note.duration)
    return out


def _swing_places(settings: GrooveSettings) -> tuple[int, int]:
    """The style's swing pair in ticks (an 8th pair is a beat) and the tick of its swung off-beat."""
    pair = TICKS_PER_BEAT if settings.style.swing_unit == 8 else TICKS_PER_BEAT // 2
    return pair, round(settings.swing_percent / 100.0 * pair)


def _offbeat_count(written: list[Note], settings: GrooveSettings) -> int:
    """Written hits at the swung off-beat place of the style's swing unit."""
    pair, off = _swing_places(settings)
    return sum(1 for n in written if n.time % pair == off)


def _lock_swing(written: list[Note], played: list[Note], settings: GrooveSettings) -> list[Note]:
    """Shift the played off-beats as a group until the swing measured on the clip's grid is the request.

    The measurement is the analysis's own (median off-beat position from the median played
    pair start), so drift wander, laid-back limbs and hits at other places in the window
    cannot pull the heard swing off the request. The off-beats keep their scatter against
    each other; a hit that would leave its bar or crowd a neighbour of its pitch stays put.
    """
    if settings.meter == (7, 8) and settings.style.swing_unit == 8:
        return played  # 8th pairs do not tile a bar of seven 8ths
    unit_pair, off = _swing_places(settings)
    indices = [i for i, n in enumerate(written) if n.time % unit_pair == off]
    if len(indices) < SWING_LOCK_MIN_HITS:
        return played
    bar_ticks = meter_patterns(settings.style.key, settings.meter).bar_ticks
    length = bar_ticks * settings.bars
    gap = min_gap_ticks(settings.tempo_bpm, TICKS_PER_BEAT)
    base = [played[i].time for i in indices]
    limits = [min((written[i].time // bar_ticks + 1) * bar_ticks, length) - 1 for i in indices]
    moving = set(indices)
    others: dict[int, list[int]] = {}
    for j, note in enumerate(played):
        if j not in moving:
            others.setdefault(note.pitch, []).append(note.time)
    for times_of_pitch in others.values():
        times_of_pitch.sort()
    by_pitch: dict[int, list[int]] = {}
    for k, i in enumerate(indices):
        by_pitch.setdefault(played[i].pitch, []).append(k)
    times = [n.time for n in played]

    def place(step: int) -> None:
        moved = [0] * len(indices)
        for k in range(len(indices)):
            time = base[k] + step
            moved[k] = 0 if time < 0 else limits[k] if time > limits[k] else time
        # A moved hit must not crowd another hit of its pitch, moved or not: such hits stay
        # where they were played, until no two come closer than the flam gap.
        for pitch, ks in by_pitch.items():
            fixed = others.get(pitch, [])
            for k in ks:
                if moved[k] != base[k] and _crowds(fixed, moved[k], gap):
                    moved[k] = base[k]
            for _ in range(len(ks)):
                ordered = sorted(ks, key=moved.__getitem__)
                clash = next(
                    (
                        (a, b)
                        for a, b in itertools.pairwise(ordered)
                        if moved[b] - moved[a] < gap and (moved[a] != base[a] or moved[b] != base[b])
                    ),
                    None,
                )
                if clash is None:
                    break
                for k in clash:
                    moved[k] = base[k]
        for k, i in enumerate(indices):
            times[i] = moved[k]

    # The measurement is not monotonic in the shift (hits cross the window edges and the
    # straight-sixteenth rule), so keep the best shift seen, not the last one.
    shift = 0.0
    best_step, best_error = 0, math.inf
    for round_number in range(SWING_LOCK_ROUNDS):
        step = round(shift)
        if round_number:
            place(step)
        measured = measured_swing_percent(times, unit_pair)
        error = settings.swing_percent - measured
        if abs(error) < best_error:
            best_step, best_error = step, abs(error)
        if abs(error) <= SWING_LOCK_TOLERANCE:
            break
        # A median under the straight place reads as 50: push past it rather than by the shown error.
        shift += (error + (2.0 if measured <= 50.0 else 0.0)) / 100.0 * unit_pair
    else:
        # Rare: other hits in the window outvote the off-beats near the answer. Scan the
        # shifts within a sixth of a pair for the one that measures closest.
        scan = SWING_SCAN_STEPS if best_error > SWING_SCAN_FROM else 0
        for notch in range(-scan, scan + 1 if scan else 0):
            step = round(notch * unit_pair / (6 * SWING_SCAN_STEPS))
            place(step)
            error = abs(settings.swing_percent - measured_swing_percent(times, unit_pair))
            if error < best_error:
                best_step, best_error = step, error
        place(best_step)
    return [
        note if times[i] == note.time else Note(note.pitch, note.velocity, times[i], note.duration)
        for i, note in enumerate(played)
    ]


def _crowds(sorted_times: list[int], time: int, gap: int) -> bool:
    """True when a hit at time would come closer than gap to one of sorted_times."""
    index = bisect.bisect_left(sorted_times, time - gap + 1)
    return index < len(sorted_times) and sorted_times[index] < time + gap


def _variation_clip(settings: GrooveSettings, number: int, notes: list[Note], source: str) -> Clip:
    """A variation's clip: the resolved tempo, meter and length, named "[Artist] - Variation N"."""
    return Clip(
        notes=notes,
        tempo_bpm=settings.tempo_bpm,
        time_signature=settings.meter,
        ticks_per_beat=TICKS_PER_BEAT,
        bars=settings.bars,
        name=f"{settings.label} - Variation {number}",
        meta=_meta(settings, number, source),
    )


def _meta(settings: GrooveSettings, number: int, source: str) -> dict[str, Any]:
    return {
        "seed": settings.seed,
        "style": settings.style.key,
        "variation": number,
        "swing_percent": settings.swing_percent,
        "swing_unit": settings.style.swing_unit,
        "ghost_share_target": settings.ghost_share,
        "source": source,
    }


def _arrange(
    settings: GrooveSettings,
    patterns: MeterPatterns,
    plan: tuple[int | None, bool, float, float, float],
    rng: random.Random,
    *,
    turnaround: bool,
) -> list[_Event]:
    """Lay out bars of groove with variation, fills at phrase ends and crashes after them.

    A clip shorter than a phrase loops before any phrase ends: only a turnaround variation
    (every second one) ends on a fill, so the first variation is a loop that does not fill every time round.
    """
    style = settings.style
    params = settings.params
    alt, swap, adds, open_chance, kick_boost = plan
    base: Sequence[Hit] = patterns.core
    if alt is not None and patterns.alts:
        base = patterns.alts[alt % len(patterns.alts)]
    swap_to = style.swap if swap and style.swap and style.swap != style.timekeeper else ""
    add_chance = style.vary_prob * adds * (0.5 + params.busyness)
    backbeats = [h.tick for h in base if h.piece in SNARE_PIECES and h.level == "accent"]
    bars = settings.bars
    fill_bars = {b for b in range(bars) if (b + 1) % PHRASE_BARS == 0}
    if bars >= PHRASE_BARS or (bars >= 2 and turnaround):
        fill_bars.add(bars - 1)
    events: list[_Event] = []
    for bar in range(bars):
        hits: list[Hit] = list(base)
        for hit in patterns.vary:
            chance = add_chance * (kick_boost if hit.piece == "kick" else 1.0)
            if rng.random() < chance:
                hits.append(hit)
        if open_chance and style.timekeeper == "hihat_closed" and not swap_to:
            for tick in patterns.open_spots:
                if rng.random() < open_chance:
                    hits = [h for h in hits if not (h.piece == "hihat_closed" and h.tick == tick)]
                    hits.append(Hit(tick, "hihat_open", "normal", True))
        if swap_to and style.timekeeper == "hihat_pedal":
            # The hand joins on the ride; the foot keeps its own pattern (a samba's or second
            # line's chick on the '&'s does not move to the snare's accents).
            hits.extend(
                Hit(h.tick, swap_to, h.level, h.swings, h.offset) for h in hits if h.piece == "hihat_pedal"
            )
        elif swap_to:
            hits = [
                Hit(h.tick, swap_to, h.level, h.swings, h.offset) if h.piece == style.timekeeper else h
                for h in hits
            ]
            if swap_to in ("ride", "ride_bell") and not any(h.piece == "hihat_pedal" for h in hits):
                hits.extend(Hit(t, "hihat_pedal", "normal", True) for t in backbeats)
        fill_start = patterns.bar_ticks
        if bar in fill_bars:
            # A whole-bar fill ends a long phrase; in a short clip it would be half the groove.
            phrase_end = (bar + 1) % LONG_PHRASE_BARS == 0 or (bar == bars - 1 and bars >= LONG_PHRASE_BARS)
            fill_hits, fill_start = _choose_fill(
                settings, patterns, rng, phrase_end=phrase_end, allow_whole=bars >= PHRASE_BARS
            )
            hits = [h for h in hits if h.tick < fill_start or h.piece in style.under_fills]
            events.extend((bar, h.tick, h.piece, h.level, h.swings, h.offset, 1) for h in fill_hits)
        crash_here = settings.crash_after_fill and (
            (bar - 1) in fill_bars or (bar == 0 and bars - 1 in fill_bars)
        )
        if crash_here:
            hits = [h for h in hits if not (h.tick == 0 and h.piece in (style.timekeeper, swap_to))]
            events.append((bar, 0, "crash", "accent", True, 0, 2))
            events.append((bar, 0, "kick", "accent", True, 0, 2))
        events.extend((bar, h.tick, h.piece, h.level, h.swings, h.offset, 0) for h in hits)
    events = _dedupe(events)
    return _place_ghosts(events, settings, patterns, rng)


def _choose_fill(
    settings: GrooveSettings,
    patterns: MeterPatterns,
    rng: random.Random,
    *,
    phrase_end: bool,
    allow_whole: bool,
) -> tuple[list[Hit], int]:
    """Pick a fill for the end of a bar: 1 beat, 2 beats or the whole bar, by fill density."""
    groups = patterns.groups
    density = settings.params.fill_density
    whole = len(groups)
    whole_weight = 0.0
    if allow_whole:
        whole_weight = density * 1.2 + 0.3 if phrase_end else density * 0.5
    weights = [(1, 1.1 - density), (2, 0.7)] + ([(whole, whole_weight)] if whole_weight > 0 else [])
    # Without a whole-bar fill the groove keeps at least the bar's first beat (6/8 has only two).
    longest = whole if allow_whole else max(1, whole - 1)
    sizes = [min(size, longest) for size, _ in weights]
    size = rng.choices(sizes, weights=[max(w, 0.01) for _, w in weights])[0]
    region = groups[whole - size :]
    compound = any(length != TICKS_PER_BEAT for _, length in region)
    fills: Sequence[Fill] = settings.style.compound_fills if compound else settings.style.fills
    exact = [f for f in fills if len(f.beats) == size]
    longer = [f for f in fills if len(f.beats) > size]
    fill = rng.choice(exact or longer or list(fills))
    hits = place_fill(fill, region)
    # Sparse fillers stay on the snare: round the toms only as often as their fill density says.
    if rng.random() >= density**1.5:
        hits = [
            Hit(h.tick, "snare", h.level, h.swings, h.offset) if h.piece in TOM_PIECES else h for h in hits
        ]
    return hits, region[0][0]


def _dedupe(events: list[_Event]) -> list[_Event]:
    """One hit per piece and position: fills and crashes win over the groove, louder levels over softer."""
    rank = {"accent": 3, "normal": 2, "soft": 1, "ghost": 0}
    best: dict[tuple[int, int, str, int], _Event] = {}
    for event in events:
        key = (event[0], event[1], event[2], event[5])
        old = best.get(key)
        if old is None or (event[6], rank[event[3]]) > (old[6], rank[old[3]]):
            best[key] = event
    return sorted(best.values(), key=lambda e: (e[0], e[1], e[5], e[2]))


def _place_ghosts(
    events: list[_Event],
    settings: GrooveSettings,
    patterns: MeterPatterns,
    rng: random.Random,
) -> list[_Event]:
    """Add or remove snare ghost notes so their share of snare hits meets the target."""
    share = settings.ghost_share
    snare = [e for e in events if e[2] in SNARE_PIECES]
    main = sum(1 for e in snare if e[3] != "ghost")
    present = [e for e in snare if e[3] == "ghost"]
    if main == 0:
        return events
    wanted = _ghost_count(main, share)
    if len(present) > wanted:
        groove = [e for e in present if e[6] == 0]
        in_fills = [e for e in present if e[6] != 0]
        rng.shuffle(groove)
        rng.shuffle(in_fills)
        drop = set([*groove, *in_fills][: len(present) - wanted])  # the groove's ghosts go first
        return [e for e in events if e not in drop]
    if len(present) == wanted:
        return events
    need = wanted - len(present)
    taken: dict[int, set[int]] = {}
    for e in snare:
        taken.setdefault(e[0], set()).add(e[1])
    fill_start: dict[int, int] = {}
    for e in events:
        if e[6] == 1:
            fill_start[e[0]] = min(fill_start.get(e[0], e[1]), e[1])
    grid = list(patterns.ghost_grid)
    rng.shuffle(grid)
    # Last resort for very ghost-heavy players: chatter on the beats too, and in 6/8 or 12/8 on the 16ths.
    order = list(dict.fromkeys([*patterns.ghost_spots, *grid, *patterns.ghost_last_resort]))
    bars = list(range(settings.bars))
    added: list[_Event] = []
    for tick in order:
        for bar in bars:
            if need == 0:
                break
            if tick >= fill_start.get(bar, patterns.bar_ticks):
                continue
            used = taken.setdefault(bar, set())
            if any(abs(tick - t) < TICKS_PER_BEAT // 4 for t in used):
                continue
            used.add(tick)
            added.append((bar, tick, "snare", "ghost", True, 0, 0))
            need -= 1
        if need == 0:
            break
    out = sorted([*events, *added], key=lambda e: (e[0], e[1], e[5], e[2]))
    if need > 0:
        out = _soften_fills(out, share)
    return out


def _soften_fills(events: list[_Event], share: float) -> list[_Event]:
    """When the groove has no room left for ghosts, play the start of the fills' plain snare strokes as ghosts.

    A fill that grows from soft strokes to its accents is how ghost-heavy players (a train
    beat) play them; the accented strokes stay, so the fill still lands.
    """
    snare = [e for e in events if e[2] in SNARE_PIECES]
    ghosts = sum(1 for e in snare if e[3] == "ghost")
    total = len(snare)
    plain = [i for i, e in enumerate(events) if e[6] == 1 and e[2] in SNARE_PIECES and e[3] == "normal"]
    plain.sort(key=lambda i: (events[i][1], events[i][0]))  # the early strokes of every fill first
    out = list(events)
    for i in plain:
        if abs((ghosts + 1) / total - share) >= abs(ghosts / total - share):
            break
        bar, tick, piece, _level, swings, offset, kind = out[i]
        out[i] = (bar, tick, piece, "ghost", swings, offset, kind)
        ghosts += 1
    return out


def _ghost_count(main: int, share: float) -> int:
    """Number of ghosts g making g / (main + g) closest to the share."""
    if share <= 0:
        return 0
    guess = share * main / (1.0 - share)
    candidates = {max(0, math.floor(guess)), max(0, math.ceil(guess))}
    return min(candidates, key=lambda g: (abs(g / (main + g) - share), g))


def _breathe(events: list[_Event], style: Style, rng: random.Random) -> list[_Event]:
    """Last resort for distinct variations: leave out one time-keeping hit off the downbeat."""
    keepers = [i for i, e in enumerate(events) if e[2] == style.timekeeper and e[1] != 0 and e[6] == 0]
    if not keepers:
        return events
    drop = rng.choice(keepers)
    return [e for i, e in enumerate(events) if i != drop]


def _velocity(level: str, piece: str, params: QuantitativeParams) -> float:
    strength = params.accent_strength
    accent = min(124.0, params.velocity_mean + 10.0 + 18.0 * strength)
    if level == "ghost":
        return accent * (0.42 if piece == "kick" else 0.26)
    if level == "accent":
        value = accent
    elif level == "soft":
        value = params.velocity_mean * (0.68 - 0.1 * strength)
    else:
        value = params.velocity_mean - 8.0 * strength
    return value * PIECE_GAIN.get(piece, 1.0)


def _render(
    settings: GrooveSettings, patterns: MeterPatterns, events: list[_Event]
) -> tuple[list[Note], list[bool]]:
    """Turn events into GM notes: velocity by level and accent cycle, swing, no accidental flams."""
    style = settings.style
    params = settings.params
    swing = settings.swing_percent
    warp = not patterns.compound and abs(swing - 50.0) > 1e-9
    bar_ticks = patterns.bar_ticks
    length = bar_ticks * settings.bars
    # 0.35: at the default accent strength a rock hat in 8ths plays its beats about 18 velocity
    # steps over its '&'s (the GMD's rock drummers: median 21, quartiles 7-36); a strong accenter
    # (Bonham, 0.8) plays its '&'s at about 0.56 of its beats (GMD rock median 0.68, funk 0.57).
    cycle_depth = 0.35 * params.accent_strength
    cache: dict[tuple[str, str], float] = {}
    warped: dict[int, int] = {}
    cycle_gain: dict[int, float] = {}
    keepers = (style.timekeeper, style.swap)
    # A time-keeping part in 8ths accents beat against '&'; one with 16ths (or triplets) has a middle level.
    eighths_only = plays_eighths_only((e[1] for e in events if e[2] in keepers), TICKS_PER_BEAT)
    placed: list[tuple[int, str, float, bool]] = []
    for bar, tick, piece, level, swings, offset, _kind in events:
        key = (level, piece)
        velocity = cache.get(key)
        if velocity is None:
            velocity = cache[key] = _velocity(level, piece, params)
        if level == "normal" and piece in keepers:
            gain = cycle_gain.get(tick)
            if gain is None:
                gain = cycle_gain[tick] = _cycle_gain(tick, patterns, style.hat_accent, eighths_only)
            velocity *= 1.0 + cycle_depth * gain
        position = tick
        if warp and swings:
            swung = warped.get(tick)
            if swung is None:
                swung = warped[tick] = round(swing_tick(tick, TICKS_PER_BEAT, swing, style.swing_unit))
            position = swung
        time = bar * bar_ticks + position + offset
        if time >= length:
            continue
        ghost = level == "ghost" and piece in SNARE_PIECES
        placed.append((time, piece, velocity, ghost))
    placed.sort(key=operator.itemgetter(0, 1))
    gap = min_gap_ticks(settings.tempo_bpm, TICKS_PER_BEAT)
    last_time: dict[str, int] = {}
    notes: list[Note] = []
    ghosts: list[bool] = []
    for time, piece, velocity, ghost in placed:
        previous = last_time.get(piece)
        if previous is not None and time - previous < gap:
            continue  # too close to sound as two hits at this tempo (rolls at extreme tempi)
        last_time[piece] = time
        rounded = round(velocity)
        left = length - time
        notes.append(
            Note(
                GM_PITCH_BY_PIECE[piece],
                1 if rounded < 1 else 127 if rounded > 127 else rounded,
                time,
                left if left < NOTE_TICKS else NOTE_TICKS,
            )
        )
        ghosts.append(ghost)
    return notes, ghosts


def _cycle_gain(tick: int, patterns: MeterPatterns, cycle: str, eighths_only: bool) -> float:
    """Accent cycle of the time-keeping cymbal; compound meters accent each dotted-quarter beat."""
    if patterns.compound:
        if cycle == "none":
            return 0.0
        return 1.0 if tick % (TICKS_PER_BEAT * 3 // 2) == 0 else -0.5
    return accent_gain(tick, TICKS_PER_BEAT, cycle, eighths_only=eighths_only)


def _settle_ghosts(notes: list[Note], ghosts: list[bool]) -> list[Note]:
    """Keep ghosts under, and other snare hits over, half the clip's snare accent level (its 90th percentile)."""
    snare_pitches = {GM_PITCH_BY_PIECE[p] for p in SNARE_PIECES}
    indices = [i for i, n in enumerate(notes) if n.pitch in snare_pitches]
    if not indices:
        return notes
    out = list(notes)
    for _ in range(2):
        accent = percentile([out[i].velocity for i in indices], 90.0)
        ceiling = max(1, math.floor(GHOST_CEILING * accent))
        floor = min(127, math.ceil(MAIN_FLOOR * accent))
        for i in indices:
            note = out[i]
            if ghosts[i] and note.velocity > ceiling:
                out[i] = Note(note.pitch, ceiling, note.time, note.duration)
            elif not ghosts[i] and note.velocity < floor:
                out[i] = Note(note.pitch, floor, note.time, note.duration)
    return out


# ------------------------------------------------------------------ templates


def _template_variations(
    settings: GrooveSettings,
    library: TemplateLibrary,
    profile: StyleProfile | None,
    variations: int,
) -> list[Clip | None]:
    """Slots of variations drawn from real human performances: the last variation, when there are two or more.

    The template (a real GMD-style beat performance) is moved to the requested tempo keeping
    its timing deviations in milliseconds, to the requested meter by dropping or repeating
    beats, and to the requested swing; its snare dynamics are re-levelled to the ghost target.
    """
    if variations < 2 or settings.meter not in _TEMPLATE_METERS:
        return []
    entries = _query_templates(library, settings)
    if not entries:
        return []
    wanted = set(profile.midi_templates) if profile is not None else set()
    preferred = [e for e in entries if {str(getattr(e, a, "")) for a in ("id", "path", "name")} & wanted]
    rng = random.Random(f"{settings.seed}:template")
    entry = rng.choice(preferred or entries)
    try:
        template = library.load_template(entry, settings.bars, seed=settings.seed)
    except (OSError, ValueError):
        return []
    clip = transform_template(template, settings, variations)
    if clip is None:
        return []
    clip.meta["source"] = f"template:{getattr(entry, 'id', getattr(entry, 'path', 'library'))}"
    return [None] * (variations - 1) + [clip]


_TEMPLATE_METERS = ((4, 4), (3, 4), (5, 4), (7, 8))


def _query_templates(library: TemplateLibrary, settings: GrooveSettings) -> list[Any]:
    """Beat templates for the style near the tempo, in the requested meter or else in 4/4."""
    for meter in dict.fromkeys([settings.meter, (4, 4)]):
        try:
            entries = list(
                library.query(
                    style=settings.style.key,
                    tempo_bpm=settings.tempo_bpm,
                    time_signature=meter,
                    kind="beat",
                    limit=8,
                )
            )
        except (OSError, ValueError, LookupError):
            return []
        if entries:
            return entries
    return []


def transform_template(template: Clip, settings: GrooveSettings, number: int) -> Clip | None:
    """Re-time a human template for the settings: tempo (ms deviations kept), meter, swing, ghost share."""
    source_meter = template.time_signature
    if source_meter not in ((4, 4), (3, 4), (5, 4)) or not template.notes:
        return None
    tpb = template.ticks_per_beat
    scale = TICKS_PER_BEAT / tpb
    source_bar = template.ticks_per_bar
    source_beats = source_meter[0]
    own_swing = _template_swing(template, settings.style.swing_unit)
    target_groups = 4 if settings.meter == (7, 8) else settings.meter[0]
    beat_map = _beat_map(source_beats, target_groups)
    bar_ticks = patterns_bar = meter_patterns(settings.style.key, settings.meter).bar_ticks
    length = bar_ticks * settings.bars
    tempo_ratio = settings.tempo_bpm / template.tempo_bpm if template.tempo_bpm > 0 else 1.0
    warp = not meter_patterns(settings.style.key, settings.meter).compound
    placed: list[tuple[int, int, int]] = []
    for note in template.notes:
        bar, inside = divmod(note.time, source_bar)
        if bar >= settings.bars:
            continue
        straight = swing_tick(inside, tpb, 50.0, settings.style.swing_unit, own_swing)
        beat, within = divmod(straight, tpb)
        grid = round(within * 4 / tpb) * tpb / 4  # nearest straight 16th
        deviation = (within - grid) * tempo_ratio * scale  # same milliseconds at the new tempo
        for target_beat, source_beat in enumerate(beat_map):
            if source_beat != beat:
                continue
            tick = target_beat * TICKS_PER_BEAT + grid * scale
            if warp:
                tick = swing_tick(tick, TICKS_PER_BEAT, settings.swing_percent, settings.style.swing_unit)
            time = round(bar * patterns_bar + tick + max(-30.0, min(30.0, deviation)))
            if 0 <= time < min(length, (bar + 1) * bar_ticks):
                placed.append((time, note.pitch, note.velocity))
    if not placed:
        return None
    placed.sort()
    gap = min_gap_ticks(settings.tempo_bpm, TICKS_PER_BEAT)
    last: dict[int, int] = {}
    notes = []
    for time, pitch, velocity in placed:
        if pitch in last and time - last[pitch] < gap:
            continue
        last[pitch] = time
        notes.append(Note(pitch, velocity, time, min(NOTE_TICKS, length - time)))
    snare_pitches = {GM_PITCH_BY_PIECE[p] for p in SNARE_PIECES}
    snare = sorted((n.velocity, i) for i, n in enumerate(notes) if n.pitch in snare_pitches)
    ghosts = [False] * len(notes)
    main = len(snare) - _ghost_count_total(len(snare), settings.ghost_share)
    for _, index in snare[: len(snare) - main]:
        ghosts[index] = True  # the player's softest snare strokes become the ghosts
    notes = _settle_ghosts(notes, ghosts)
    return _variation_clip(settings, number, notes, "template").sorted()


def _beat_map(source_beats: int, target_beats: int) -> list[int]:
    """Which template beat each target beat plays (drop the third beat for 3/4, repeat one for 5/4)."""
    if target_beats <= source_beats:
        return (
            [*range(target_beats - 1), source_beats - 1]
            if target_beats < source_beats
            else list(range(source_beats))
        )
    return [*range(source_beats), *(source_beats - 2 + i % 2 for i in range(target_beats - source_beats))]


def _template_swing(template: Clip, unit: int) -> float:
    """The template's own swing: median position of its off-beat hits in their pair (50 when straight)."""
    pair = template.ticks_per_beat if unit == 8 else template.ticks_per_beat / 2
    positions = []
    for note in template.notes:
        frac = (note.time % pair) / pair
        if 0.42 <= frac <= 0.78:
            positions.append(frac)
    if len(positions) < 4:
        return 50.0
    positions.sort()
    return min(max(100.0 * positions[len(positions) // 2], 50.0), 74.0)


def _ghost_count_total(snare_hits: int, share: float) -> int:
    """Ghosts among a fixed number of snare hits closest to the share."""
    return min(range(snare_hits + 1), key=lambda g: abs(g / snare_hits - share)) if snare_hits else 0
