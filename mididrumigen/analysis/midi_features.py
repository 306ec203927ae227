"""Rhythm features of a drum clip: tempo, meter, swing, ghost notes, dynamics, microtiming, fills."""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from mididrumigen.analysis.tempo import (
    ACCENT_SHARE,
    PEDAL_HAT_PITCH,
    BeatGrid,
    alternative_tempos_bpm,
    estimate_beat_grid,
    fit_beat_grid,
    tempo_scores,
)
from mididrumigen.midi.humanize import (
    LOCAL_MIN_STARTS,
    LOCAL_PAIRS,
    LOCAL_START_ROUNDS,
    START_HALF_WIDTH,
    START_WINDOW_ROUNDS,
    STRAIGHT_SIXTEENTH_EDGE,
    SWING_HALF_WIDTH,
    SWING_WINDOW,
)
from mididrumigen.midi.kit import KIT_CLASSES, kit_class_of_pitch
from mididrumigen.midi.notes import NOTE_ORDER, Clip

# How much each kit class says about the pulse (the backbeat limbs weigh most).
CLASS_WEIGHT: dict[str, float] = {
    "kick": 1.0,
    "snare": 1.0,
    "hihat_closed": 0.5,
    "hihat_open": 0.6,
    "ride": 0.5,
    "crash": 0.8,
    "tom_low": 0.7,
    "tom_mid": 0.7,
    "tom_high": 0.7,
}
OTHER_WEIGHT = 0.3  # percussion outside the nine kit classes
GHOST_FACTOR = 0.5  # a ghost note is below half the player's accent level
ACCENT_PERCENTILE = 90.0
# The swing measure's constants (SWING_WINDOW, SWING_HALF_WIDTH, LOCAL_PAIRS, the start windows
# and rounds) are defined with the groove engine's numpy-free copy of measure_swing_percent
# (mididrumigen.midi.humanize) and imported from there, so the two cannot drift apart.
COMPOUND_METERS = ((6, 8), (12, 8))
TOMS = ("tom_low", "tom_mid", "tom_high")
EARLY_BEATS = 0.125  # how far ahead of a bar line a hit still counts as on it
SUBDIVISION_KERNEL_BEATS = 0.04  # how far from a third or a half of a beat a hit still counts there
# Counting cues (see counted_level_bpm). The beats other than 1 that a backbeat, or a jazz
# hi-hat pedal, falls on, per beats in a bar of the file's x/4 meter.
OFF_DOWNBEAT_SLOTS: dict[int, tuple[int, ...]] = {4: (1, 3), 3: (1, 2)}
# The levels tried, as tempo factors of the beat heard: the comb may hear three beats as two.
BACKBEAT_LEVELS = (0.5, 2.0 / 3.0, 1.0, 1.5, 2.0)
# The same in 6/8 and 12/8, counted in dotted quarters: the backbeat on the second (and fourth).
COMPOUND_OFF_DOWNBEAT_SLOTS: dict[tuple[int, int], tuple[int, ...]] = {(6, 8): (1,), (12, 8): (1, 3)}
# Levels tried there, as dotted quarters per heard beat: the comb may hear the 8ths, a
# dotted quarter's pair of 8ths, the quarters, the dotted quarters themselves or a bar of 6/8.
COMPOUND_LEVELS = (1 / 6, 1 / 3, 1 / 2, 2 / 3, 1.0, 2.0)
CUE_TOLERANCE_BEATS = 0.12  # how far from a beat a hit still counts as on it
CUE_EVERY_BAR = 0.6  # a beat is 'played every bar' when at least this share of bars have it
CUE_ON_BEATS = 0.6  # and, in the median bar, at least this share of the cue's hits must sit on beats
BACKBEAT_MIN = 0.7  # the least share of bars with the backbeat for it to decide
PEDAL_MIN = 0.8  # the same for the jazz pedal (Latin and Afro pedals on the off-beats look alike)
BACKBEAT_RANGE_BPM = (56.0, 230.0)  # slower: the backbeat is more likely a half-time feel at double
# In dotted quarters: a 6/8 ballad's backbeat is felt at 35-50 (quarters at 52-75).
COMPOUND_BACKBEAT_RANGE_BPM = (35.0, 160.0)
COMPOUND_MIN_BACKBEATS = 3
# In a file's 3/4 or 7/8 (see thirds_of_found_beats): how much more alike neighbouring bars' snare
# accents must be counted in 16ths than in 8ths for the thirds of the beats found to be 16ths. Set
# on the fidelity renders (in-sample): their second lines and sambas in 3/4 and 7/8 differ by
# 0.41-0.79, a trap groove (3/4 at 170) by -0.25 and a drum and bass (7/8 at 180) by -0.04.
THIRDS_MARGIN = 0.2
# In a file's 6/8 or 12/8 (see found_beats_are_eighths) the same margin tells its 8ths, heard as
# the beat, from quarters; and bars sharing under this share of their kick and snare accents do
# not repeat. Set on the fidelity renders (in-sample): the 8ths of a one-drop and two second lines
# read as quarters share 0.03-0.12 (and as 8ths 0.46-0.74), the quarters of a second line whose
# bars pair into a two-bar phrase 0.40.
UNLIKE_BARS = 0.25
# 7/8 (see counted_eighths_bpm): the levels tried, in 8ths per heard beat, and the 8ths' rate
# (quarters at 50-280).
SEVEN_EIGHT_LEVELS = (0.5, 1.0, 1.5, 2.0, 3.0, 3.5, 4.0)
SEVEN_EIGHT_RANGE_BPM = (100.0, 560.0)
PEDAL_RANGE_BPM = (60.0, 300.0)
HALF_TIME_RANGE_BPM = (56.0, 120.0)
END_SLACK_BARS = 0.05  # a clip end this close past a bar line (an estimated grid's rounding) adds no bar
HAT_CLASSES = ("hihat_closed", "hihat_open")
# A hi-hat in 32nds (or faster) of the counted beat (see hats_in_thirty_seconds_bpm): the gap
# between two hits as played, the share of the hat's gaps that must be such, and the fewest hats
# to judge. Set on the GMD beats: with 32nds only, two files (a breakbeat at 170, a pop groove at
# 142) reach 0.3, the next 0.22; counting faster rolls (trap's 32nds read at half) adds a hip-hop
# groove at 75 with 32nd-triplet hat rolls (0.40), which is then read at 150.
THIRTY_SECOND_GAP_BEATS = (0.04, 0.155)
THIRTY_SECOND_SHARE = 0.3
THIRTY_SECOND_MIN_HATS = 8
THIRTY_SECOND_MAX_BPM = 240.0
# A fast swing's ride read at half (see ride_quarters_in_eighths_bpm): how near a beat or half
# beat a hit counts, where in the fast beat (half the beat heard) its swung skip note sits and
# where a medium swing's skip note (two thirds into the beat heard) would, and the shares required.
# Two bars of a fast ride hold a dozen hits: 16 left two-bar clips of 'ding ding-a ding' (a
# drummer's 5/4 at 172 has 11-14, looked at by hand: in-sample) to the comb's half tempo.
RIDE_MIN_HITS = 10
RIDE_MAX_BPM = 320.0
RIDE_NEAR_BEATS = 0.08
RIDE_SWUNG_SKIP = (0.54, 0.8)  # in the fast beat: a swung 8th at 54-80 %
RIDE_MEDIUM_SKIP = (0.2, 0.46)  # in the fast beat: a medium swing's skip note at 2/3 of the beat heard
RIDE_ON_MIN = 0.65
RIDE_HALF_MIN = 0.8
RIDE_SKIP_MIN = 0.15
RIDE_MEDIUM_MAX = 0.05
CLIP_START_HIT_BEATS = 0.1  # a hit this close to the clip's first tick marks its first bar line
HALF_BEAT_SLACK = 0.15  # a grid putting that hit this close to a half beat is half a beat off
# A grid putting that hit further than this from its nearest beat is off by where it puts it (a
# played hit sits a few hundredths of a beat off; a songo's 16th anticipations pull a grid a sixth
# of a dotted quarter early). Set on the fidelity renders (in-sample): 0.1 also moves one second
# line in 6/8 whose first hit the humanising put 0.1-0.15 beat off, which then reads wrong.
OFF_BEAT_SLACK = 0.15
FILE_BEAT_TOLERANCE = (
    0.08  # beats this close to the file's tempo are its beats (a clip's meter from the file)
)


@dataclass(frozen=True, slots=True)
class RhythmFeatures:
    """What a drum performance does, measured; units are in the names."""

    tempo_bpm: float
    tempo_source: str  # "estimated" or "file"
    time_signature: tuple[int, int]
    meter_source: str  # "guessed" or "file"
    swing_percent: float  # 8th level: off-beat 8th position in its pair, 50 straight, 66.7 triplet
    swing_ratio: float  # long/short = p / (100 - p)
    swing_percent_16th: float
    ghost_note_share: float
    velocity: dict[str, dict[str, float]]  # kit class -> {"mean", "std"}
    microtiming_ms: dict[str, dict[str, float]]  # kit class -> {"mean", "std"}, + = late
    syncopation: float  # Longuet-Higgins & Lee, kick+snare on the 16th grid, mean per bar
    hits_per_bar: dict[str, float]
    bars: int
    fill_bars: list[int]
    density_per_bar: list[int]
    notes: int
    # Other tempos a listener might count (half or double time, 3:2), best first; [] if read from the file.
    tempo_alternatives_bpm: list[float] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Return JSON-safe data (floats rounded for people)."""
        data = asdict(self)
        data["time_signature"] = list(self.time_signature)
        return _rounded(data)


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 3)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def swing_ratio_of_percent(percent: float) -> float:
    """Swing ratio long/short from the off-beat's position in percent of the pair."""
    return percent / (100.0 - percent)


def onset_weights(pitches: np.ndarray, velocities: np.ndarray) -> np.ndarray:
    """Accent weight of each hit: kit-class weight times velocity."""
    classes = [kit_class_of_pitch(int(p)) for p in pitches]
    base = np.array([CLASS_WEIGHT.get(c, OTHER_WEIGHT) if c else OTHER_WEIGHT for c in classes])
    return base * velocities / 127.0


def analyze_clip(clip: Clip, *, trust_tempo: bool = False) -> RhythmFeatures:
    """Measure a drum clip; the tempo is estimated from the hits unless trust_tempo."""
    if not clip.notes:
        raise ValueError("clip has no notes to analyze")
    notes = sorted(clip.notes, key=NOTE_ORDER)
    ticks = np.array([n.time for n in notes], dtype=float)
    pitches = np.array([n.pitch for n in notes])
    velocities = np.array([n.velocity for n in notes], dtype=float)
    classes = [kit_class_of_pitch(int(p)) or "other" for p in pitches]
    if all(c == "other" for c in classes):
        raise ValueError(
            "no drum-kit notes (kick, snare, hi-hat, toms, cymbals) to analyze: is this a drum track?"
        )
    # Ticks become the performance's real time through the clip's own tempo (the first one).
    seconds_per_tick = 60.0 / (clip.tempo_bpm * clip.ticks_per_beat)
    times_s = ticks * seconds_per_tick
    weights = onset_weights(pitches, velocities)

    file_tempo = float(clip.meta.get("tempo_from_file") or clip.tempo_bpm)
    grid: BeatGrid | None = None
    if not trust_tempo:
        try:
            # One comb over the candidate tempos, for the grid and for the alternative readings.
            scores = tempo_scores(times_s, weights)
            grid = estimate_beat_grid(times_s, weights, scores=scores)
        except ValueError:
            grid = None
    if grid is None:
        # The file's grid: beats at multiples of a beat's ticks, bar 1 at tick 0.
        tempo_source, meter_source = "file", "file"
        meter = clip.time_signature
        pulse_per_quarter = _pulse_per_quarter(meter)
        grid = BeatGrid(period_s=60.0 / clip.tempo_bpm * pulse_per_quarter, phase_s=0.0)
        tempo_bpm = file_tempo
        beats_per_bar = _pulses_per_bar(meter)
        downbeat = 0
        bar_start = 0.0
        positions = grid.beat_position(times_s)
        alternatives = []
    else:
        tempo_source, meter_source = "estimated", "guessed"
        file_meter = clip.time_signature if clip.meta.get("time_signature_from_file") else None
        eighths = counted_eighths_bpm(times_s, velocities, classes, grid) if file_meter == (7, 8) else None
        if eighths is not None:
            # The file's 7/8, counted in the 8ths its snare keeps its places on.
            grid = beats_through_clip_start(fit_beat_grid(times_s, eighths, weights), times_s)
            positions = grid.beat_position(times_s)
            takes_files_meter = True
        else:
            counted = counted_level_bpm(times_s, pitches, velocities, classes, grid, clip.time_signature)
            counted = hats_in_thirty_seconds_bpm(times_s, classes, counted or grid.tempo_bpm) or counted
            if counted is not None:
                grid = fit_beat_grid(times_s, counted, weights)
            # Only where no counting cue spoke: a backbeat under swung 16ths on the ride is no fast swing.
            doubled = ride_quarters_in_eighths_bpm(times_s, classes, grid) if counted is None else None
            if doubled is not None:
                grid = fit_beat_grid(times_s, doubled, weights)
            grid = beats_through_clip_start(grid, times_s, compound=file_meter in COMPOUND_METERS)
            positions = grid.beat_position(times_s)
            meter, beats_per_bar, downbeat = guess_meter(positions, classes, weights)
            # Where the file's meter explains what was heard better than the guess, it is taken.
            takes_files_meter = True
            if (
                file_meter in COMPOUND_METERS
                and meter not in COMPOUND_METERS
                and beats_split_in_three(positions, weights)
            ):
                # The file says 6/8 or 12/8 and the found beats divide in three: they are its dotted quarters.
                pass
            elif (
                file_meter in COMPOUND_METERS
                and meter not in COMPOUND_METERS
                and found_beats_are_eighths(times_s, velocities, classes, grid, file_meter)
            ):
                # The file says 6/8 or 12/8 and the found beats are its 8ths (a one-drop's hi-hat
                # heard as the beat): three of them are its dotted quarter, through the clip's start.
                grid = beats_through_clip_start(
                    BeatGrid(period_s=3.0 * grid.period_s, phase_s=grid.phase_s), times_s
                )
                positions = grid.beat_position(times_s)
            elif (
                file_meter in ((3, 4), (7, 8))
                and meter != file_meter
                and straight_eighths_in_threes(positions, weights)
            ):
                # The file says 3/4 or 7/8 and the found beats hold three straight 8ths each: they
                # are dotted quarters (a 6/8 hearing of the bar); the file's pulse is its own.
                # Or three 16ths each (dotted 8ths: a second line's 3-3-2), when only so counted
                # do the snare's accents keep their places bar after bar.
                thirds = thirds_of_found_beats(times_s, velocities, classes, grid, file_meter)
                quarters_per_beat = 0.75 if thirds == 16 else 1.5
                # Its beats run through the clip's start as the found beats did (not through
                # whichever found beat the grid's phase names).
                grid = beats_through_clip_start(
                    BeatGrid(
                        period_s=grid.period_s * _pulse_per_quarter(file_meter) / quarters_per_beat,
                        phase_s=grid.phase_s,
                    ),
                    times_s,
                )
                positions = grid.beat_position(times_s)
            elif file_meter is not None and file_meter[1] == 4 and meter in COMPOUND_METERS:
                # The file says x/4 and the beats found split in three: a shuffle or a triplet
                # feel, counted in the file's quarters rather than as 12/8's dotted quarters.
                pass
            else:
                # Under two bars nothing repeats to tell the meter by, and the beats heard may be the
                # file's own: its meter, rather than the 4/4 (or 12/8) default.
                takes_files_meter = (
                    file_meter is not None
                    and meter != file_meter
                    and _too_short_for_a_meter(positions, beats_per_bar)
                    and _beats_are_the_files(grid, meter, file_meter, file_tempo)
                )
        if takes_files_meter and file_meter is not None:
            meter, meter_source = file_meter, "file"
            beats_per_bar = _pulses_per_bar(meter)
            downbeat = downbeat_pulse(positions, classes, weights, round(beats_per_bar))
        bar_start = float(downbeat)  # where a bar begins, in the grid's beats (bar_of counts from it)
        if opens_on_its_first_tick(times_s, grid):
            # A bar line (as for the counting cues): bars count from that tick, not from where
            # the accents suggest bar 1 is, even when an estimated grid puts it between two beats.
            bar_start = float(grid.beat_position(0.0))
            downbeat = round(bar_start)
        tempo_bpm = grid.tempo_bpm * _pulse_per_quarter(meter)
        alternatives = [
            bpm * _pulse_per_quarter(meter)
            for bpm in alternative_tempos_bpm(times_s, weights, grid.tempo_bpm, scores=scores)
        ]

    compound = meter in COMPOUND_METERS
    phases = positions - np.floor(positions)
    if compound:
        swing8 = swing16 = 50.0
    else:
        # Unwrapped positions: each pair is measured from its own start as played nearby.
        swing8 = measure_swing_percent(positions, 1.0)
        swing16 = measure_swing_percent(positions, 0.5)
    grid_points = _grid_points(swing8, swing16, compound)
    offsets_beats = _offsets_from_grid(phases, grid_points)
    offsets_ms = offsets_beats * grid.period_s * 1000.0

    # A hit played just ahead of a bar line belongs to the bar it anticipates.
    bar_of = np.floor((positions - bar_start + EARLY_BEATS) / beats_per_bar).astype(int)
    if clip.length_ticks:
        # ... but no bar starts at or after the clip's end: a last hit played late belongs to the last bar.
        # Bars heard as long as the file's (within FILE_BEAT_TOLERANCE) are the file's: the clip's
        # length is counted in them, so an estimate a few % fast does not find a bar more at its end.
        bar_s = beats_per_bar * grid.period_s
        file_bar_s = clip.ticks_per_bar * seconds_per_tick
        if abs(bar_s / file_bar_s - 1.0) <= FILE_BEAT_TOLERANCE:
            bar_s = file_bar_s
        first_bar_line_s = grid.phase_s + bar_start * grid.period_s
        length_bars = (clip.length_ticks * seconds_per_tick - first_bar_line_s) / bar_s
        bar_of = np.minimum(bar_of, int(np.ceil(length_bars - END_SLACK_BARS)) - 1)
    first_bar = int(bar_of.min())
    bar_index = bar_of - first_bar
    if tempo_source == "file":
        bars = max(clip.length_ticks // clip.ticks_per_bar, int(bar_index.max()) + 1)
    else:
        bars = int(bar_index.max()) + 1
    density = np.bincount(bar_index, minlength=bars).tolist()

    per_class: dict[str, list[int]] = {}
    for i, name in enumerate(classes):
        per_class.setdefault(name, []).append(i)
    velocity: dict[str, dict[str, float]] = {}
    microtiming: dict[str, dict[str, float]] = {}
    hits_per_bar: dict[str, float] = {}
    for name in KIT_CLASSES:
        idx = per_class.get(name)
        if not idx:
            continue
        velocity[name] = {"mean": float(velocities[idx].mean()), "std": float(velocities[idx].std())}
        microtiming[name] = {"mean": float(offsets_ms[idx].mean()), "std": float(offsets_ms[idx].std())}
        hits_per_bar[name] = len(idx) / bars

    bar_positions = positions - downbeat - (bar_of * beats_per_bar)
    return RhythmFeatures(
        tempo_bpm=float(tempo_bpm),
        tempo_source=tempo_source,
        time_signature=meter,
        meter_source=meter_source,
        swing_percent=swing8,
        swing_ratio=swing_ratio_of_percent(swing8),
        swing_percent_16th=swing16,
        ghost_note_share=ghost_note_share(
            [v for v, c in zip(velocities, classes, strict=True) if c == "snare"]
        ),
        velocity=velocity,
        microtiming_ms=microtiming,
        syncopation=float(syncopation(bar_index, bar_positions, classes, beats_per_bar, compound)),
        hits_per_bar=hits_per_bar,
        bars=bars,
        fill_bars=detect_fill_bars(bar_index, pitches, classes, bars),
        density_per_bar=[int(d) for d in density],
        notes=len(notes),
        tempo_alternatives_bpm=[float(bpm) for bpm in alternatives],
    )


def _pulse_span(positions: np.ndarray) -> int:
    """How many pulses of the grid the hits span, first to last (guess_meter's bar candidates look within them)."""
    return int(np.floor(positions.max())) - int(np.floor(positions.min())) + 1


def _too_short_for_a_meter(positions: np.ndarray, beats_per_bar: float) -> bool:
    """True when the hits span under two bars: guess_meter then answers its default, not what it heard."""
    return _pulse_span(positions) < 2 * beats_per_bar


def _beats_are_the_files(
    grid: BeatGrid, heard: tuple[int, int], file_meter: tuple[int, int], file_tempo_bpm: float
) -> bool:
    """Whether the grid's beats are the file meter's own: quarters in x/4, dotted quarters in 6/8 and
    12/8, of the kind heard (simple or compound) and within FILE_BEAT_TOLERANCE of the file's tempo."""
    compound = file_meter in COMPOUND_METERS
    if compound != (heard in COMPOUND_METERS) or not (compound or file_meter[1] == 4):
        return False
    return abs(grid.tempo_bpm * _pulse_per_quarter(file_meter) / file_tempo_bpm - 1.0) <= FILE_BEAT_TOLERANCE


def counted_level_bpm(
    times_s: np.ndarray,
    pitches: np.ndarray,
    velocities: np.ndarray,
    classes: list[str],
    grid: BeatGrid,
    meter: tuple[int, int],
) -> float | None:
    """The beat tempo a drummer would count, when a backbeat or a jazz pedal says so; else None.

    The comb and its prior hear periodicities, not which of two related levels is the beat.
    Two conventions tell: an accented snare on 2 and 4 (on 2 and 3 in 3/4) every bar, and
    the hi-hat pedal on those beats while the ride keeps time. Each is looked for at half, two
    thirds, the same, three halves and double the estimated tempo (the comb may hear three
    beats as two), bars counted from the clip's start (a bar line) in
    the file's meter; a cue decides only when exactly one level shows it. Thresholds were set
    on the GMD beats and the fidelity benchmark's renders. In a file's 6/8 or 12/8 the beat is
    the dotted quarter and the cue an accented snare on the second (and fourth) of them every
    bar, looked for at COMPOUND_LEVELS.
    """
    # Counted from the clip's start, a bar line: the grid's own phase may sit on any beat.
    beat = times_s / grid.period_s
    snare = np.array([c == "snare" for c in classes])
    accent = accented_snare(velocities, classes)
    compound_slots = COMPOUND_OFF_DOWNBEAT_SLOTS.get(meter)
    if compound_slots is not None:
        # One backbeat a bar: a four-bar clip ending in a fill has three.
        if np.count_nonzero(accent) < COMPOUND_MIN_BACKBEATS:
            return None
        # In dotted quarters: the caller's grid then hears the 8ths split the beat in three.
        found = _levels_with_cue(beat[accent], COMPOUND_LEVELS, meter[0] // 3, compound_slots, BACKBEAT_MIN)
        return _single_in_range(found, grid.tempo_bpm, COMPOUND_BACKBEAT_RANGE_BPM)
    slots = OFF_DOWNBEAT_SLOTS.get(meter[0]) if meter[1] == 4 else None
    if slots is None:
        return None
    if np.count_nonzero(snare) >= 4:
        chosen = backbeat_level_bpm(beat[accent], grid.tempo_bpm, meter[0])
        if chosen is not None:
            return chosen
    rides = sum(c == "ride" for c in classes)
    hats = sum(c in HAT_CLASSES for c in classes)
    pedal = pitches == PEDAL_HAT_PITCH
    if rides > hats and np.count_nonzero(pedal) >= 4:
        found = _levels_with_cue(beat[pedal], BACKBEAT_LEVELS, meter[0], slots, PEDAL_MIN)
        return _single_in_range(found, grid.tempo_bpm, PEDAL_RANGE_BPM)
    return None


def backbeat_level_bpm(accent_beats: np.ndarray, tempo_bpm: float, beats_per_bar: int) -> float | None:
    """The tempo a drummer counts from snare accents in 3/4 or 4/4, or None: the one level (of
    BACKBEAT_LEVELS times tempo_bpm) where they fall on 2 and 4 (2 and 3) in most bars, else the
    one where they fall on 3 alone (a half-time feel, a one-drop).

    accent_beats are the accents' places in beats of tempo_bpm, counted from a bar line.
    """
    slots = OFF_DOWNBEAT_SLOTS[beats_per_bar]
    found = _levels_with_cue(accent_beats, BACKBEAT_LEVELS, beats_per_bar, slots, BACKBEAT_MIN)
    chosen = _single_in_range(found, tempo_bpm, BACKBEAT_RANGE_BPM)
    if chosen is not None:
        return chosen
    quiet = tuple(slot for slot in range(beats_per_bar) if slot != 2)
    found = _levels_with_cue(accent_beats, BACKBEAT_LEVELS, beats_per_bar, (2,), BACKBEAT_MIN, quiet=quiet)
    return _single_in_range(found, tempo_bpm, HALF_TIME_RANGE_BPM)


def accented_snare(velocities: np.ndarray, classes: list[str]) -> np.ndarray:
    """Which hits are snare accents: at least ACCENT_SHARE of the snare's loud (90th percentile) level."""
    snare = np.array([c == "snare" for c in classes], dtype=bool)
    if np.count_nonzero(snare) >= 4:
        snare &= velocities >= ACCENT_SHARE * np.percentile(velocities[snare], ACCENT_PERCENTILE)
    return snare


def thirds_of_found_beats(
    times_s: np.ndarray, velocities: np.ndarray, classes: list[str], grid: BeatGrid, meter: tuple[int, int]
) -> int:
    """Whether the three parts the grid's beats split into are 8ths (8) or 16ths (16), in a file's 3/4 or 7/8.

    Counted in the file's bars from the clip's start (a bar line), a groove's snare accents
    return to the same 16ths bar after bar. Read as 8ths, 16ths in threes (a second line's
    3-3-2 heard in dotted 8ths) make bars half as long as played, whose two halves differ
    (accents on 16ths 0, 3 | 6, 10 of a 3/4 bar); read as 16ths, 8ths in threes make bars
    twice as long, as alike as the bars played. So 16ths only when the bars counted in them are
    clearly more alike (THIRDS_MARGIN) than counted in 8ths. A groove in 8ths whose accents
    alternate between two kinds of bar looks the same, and is read in 16ths (half its tempo).
    """
    accent = accented_snare(velocities, classes)
    if np.count_nonzero(accent) < 4:
        return 8
    at_eighths = _bar_likeness(times_s[accent], grid.period_s, 6, meter)
    at_sixteenths = _bar_likeness(times_s[accent], grid.period_s, 3, meter)
    return 16 if at_sixteenths - at_eighths >= THIRDS_MARGIN else 8


def found_beats_are_eighths(
    times_s: np.ndarray, velocities: np.ndarray, classes: list[str], grid: BeatGrid, meter: tuple[int, int]
) -> bool:
    """Whether the grid's beats, which do not split in three, are the 8ths of a file's 6/8 or 12/8.

    Counted in the file's bars from the clip's start (a bar line), the kick and the snare's
    accents return to the same places bar after bar when the bars are counted in the beats
    actually played. Read as 8ths, the found beats make bars of six (or twelve) of them; read
    as quarters (what a 4/4 guess does), bars of three, which then have next to nothing in
    common (under UNLIKE_BARS) when the beats are 8ths. So 8ths when bars of them are clearly
    (THIRDS_MARGIN) more alike than counted as quarters or as dotted quarters, and bars of
    quarters are unlike (a groove in quarters with a two-bar phrase has its bars of quarters
    alike in part).
    """
    marks = accented_snare(velocities, classes) | np.array([c == "kick" for c in classes], dtype=bool)
    if np.count_nonzero(marks) < 4:
        return False
    as_eighths = _bar_likeness(times_s[marks], grid.period_s, 2, meter)
    as_quarters = _bar_likeness(times_s[marks], grid.period_s, 4, meter)
    as_dotted_quarters = _bar_likeness(times_s[marks], grid.period_s, 6, meter)
    clearly = as_eighths - max(as_quarters, as_dotted_quarters) >= THIRDS_MARGIN
    return clearly and as_quarters < UNLIKE_BARS


def _bar_likeness(
    accent_s: np.ndarray, beat_s: float, sixteenths_per_beat: int, meter: tuple[int, int]
) -> float:
    """How alike consecutive bars of the meter are when a beat of beat_s is read as this many 16ths,
    counted from the clip's start: the mean over pairs of neighbouring bars of the share of their
    accented 16ths they have in common (0 when no two neighbouring bars have accents)."""
    sixteenths_per_bar = meter[0] * 16 // meter[1]
    slot = np.rint(accent_s / (beat_s / sixteenths_per_beat)).astype(int)
    bar, place = slot // sixteenths_per_bar, slot % sixteenths_per_bar
    accented = [set(place[bar == b].tolist()) for b in range(int(bar.max()) + 1)]
    common = [len(a & b) / len(a | b) for a, b in itertools.pairwise(accented) if a | b]
    return float(np.mean(common)) if common else 0.0


def counted_eighths_bpm(
    times_s: np.ndarray, velocities: np.ndarray, classes: list[str], grid: BeatGrid
) -> float | None:
    """The 8th-note rate of a file in 7/8, when its snare accents keep their places bar after bar; else None.

    A 7/8 bar has no half to repeat in: its snare returns to the same 8th of every bar only
    when bars are counted in the 8ths actually played (from the clip's start, a bar line).
    Counted in 8ths twice as long, half its bars put the snare between two beats; in
    shorter ones, the bars drift through the pattern. Tried at the levels the comb may
    hear as the beat: 16ths, the 8ths, dotted 8ths, quarters, dotted quarters, half bars, halves.
    """
    accent = accented_snare(velocities, classes)
    if np.count_nonzero(accent) < 4:
        return None
    found = _levels_with_cue(times_s[accent] / grid.period_s, SEVEN_EIGHT_LEVELS, 7, None, BACKBEAT_MIN)
    return _single_in_range(found, grid.tempo_bpm, SEVEN_EIGHT_RANGE_BPM)


def hats_in_thirty_seconds_bpm(times_s: np.ndarray, classes: list[str], tempo_bpm: float) -> float | None:
    """Twice tempo_bpm when the hi-hat runs in 32nds (or rolls faster) of that beat; else None.

    Drummers do not keep time in 32nd notes for long: a hi-hat that does (a breakbeat, a
    double-time pop groove read at half) is playing 16ths of a beat twice as fast, and one
    rolling in 64ths (trap's 32nd rolls over 8th hats, read at half) 32nds of it.
    """
    hats = np.sort(times_s[np.array([c in HAT_CLASSES for c in classes], dtype=bool)])
    if len(hats) < THIRTY_SECOND_MIN_HATS or 2.0 * tempo_bpm > THIRTY_SECOND_MAX_BPM:
        return None
    gaps_beats = np.diff(hats) * tempo_bpm / 60.0
    low, high = THIRTY_SECOND_GAP_BEATS
    share = float(np.mean((gaps_beats > low) & (gaps_beats < high)))
    return 2.0 * tempo_bpm if share >= THIRTY_SECOND_SHARE else None


def ride_quarters_in_eighths_bpm(times_s: np.ndarray, classes: list[str], grid: BeatGrid) -> float | None:
    """Twice the grid's tempo when its ride plays a fast swing's quarters and skip notes at half; else None.

    Read at half, a fast 'ding ding-a ding' puts the ride on every beat and every half beat,
    and its skip notes on the swung 8th of the fast beat: late in a half beat (after 1 and 3,
    or after 2 and 4, wherever the grid sits), where a medium swing read right has none (its
    skip notes sit two thirds into the beat) and a straight ride's 16ths are not either.
    Thresholds were set on the GMD's ride-led beats (in-sample): four fast jazz files read at
    half show it (skip share 0.18-0.33) and are now right; a rock groove at 90 whose ride plays
    swung 16ths, with no backbeat for the counting cues, shows it too (0.37) and is now read
    at 180; rock grooves with a backbeat are named by the counting cues before this is asked.
    """
    ride = np.array([c == "ride" for c in classes], dtype=bool)
    hats = sum(c in HAT_CLASSES for c in classes)
    if np.count_nonzero(ride) <= max(hats, RIDE_MIN_HITS) or 2.0 * grid.tempo_bpm > RIDE_MAX_BPM:
        return None
    positions = grid.beat_position(times_s[ride])
    phase = positions - np.floor(positions)
    # A hit just ahead of a beat is on that beat (not on the one before, which floor would name).
    beat = np.floor(positions + RIDE_NEAR_BEATS).astype(int)
    beats = int(beat.max() - beat.min()) + 1

    def beats_with(mask: np.ndarray) -> float:
        return len(set(beat[mask].tolist())) / beats

    on = beats_with((phase < RIDE_NEAR_BEATS) | (phase > 1.0 - RIDE_NEAR_BEATS))
    half = beats_with(np.abs(phase - 0.5) < RIDE_NEAR_BEATS)
    # Which fast beats the grid puts on its beats and which on its half beats depends on where
    # it sits (in an odd meter, 3/4 or 5/4, they change places every bar): the two ask the same
    # of the ride, so which of them is the one played every time does not matter.
    on, half = min(on, half), max(on, half)
    in_half = (phase % 0.5) / 0.5  # where a hit sits in the fast beat
    swung = float(np.mean((in_half > RIDE_SWUNG_SKIP[0]) & (in_half < RIDE_SWUNG_SKIP[1])))
    medium = float(np.mean((in_half > RIDE_MEDIUM_SKIP[0]) & (in_half < RIDE_MEDIUM_SKIP[1])))
    fast_swing = (
        on >= RIDE_ON_MIN and half >= RIDE_HALF_MIN and swung >= RIDE_SKIP_MIN and medium <= RIDE_MEDIUM_MAX
    )
    return 2.0 * grid.tempo_bpm if fast_swing else None


def opens_on_its_first_tick(times_s: np.ndarray, grid: BeatGrid) -> bool:
    """True when the clip's first hit is at its first tick (within CLIP_START_HIT_BEATS), marking bar 1."""
    return len(times_s) > 0 and bool(times_s[0] <= CLIP_START_HIT_BEATS * grid.period_s)


def beats_through_clip_start(grid: BeatGrid, times_s: np.ndarray, *, compound: bool = False) -> BeatGrid:
    """The grid moved so a beat runs through the clip's start, a played bar line, when it puts it off a beat.

    A grid fitted to the hits alone can lock onto strong off-beats (a samba's surdo and
    pandeiro: half a beat off) or onto accented anticipations (a songo's kick and snare a
    16th before each dotted quarter in 6/8: a sixth of a beat off); a clip that opens with a
    hit at its first tick still says where a beat is. Near a half beat the grid moves by half
    a beat; further than OFF_BEAT_SLACK from a beat otherwise, by what puts that hit on one.
    """
    if not opens_on_its_first_tick(times_s, grid):
        return grid
    phase = float(grid.beat_position(times_s[0]) % 1.0)
    # In a file's 6/8 or 12/8 (compound) whose found beats split in three (its 8ths three to the
    # dotted quarter), a first hit nearer a third of the beat than its half is on a third: the
    # grid moves by that third, not by half a beat (which would put it between two 8ths).
    on_a_third = (
        compound
        and min(abs(phase - 1 / 3), abs(phase - 2 / 3)) < abs(phase - 0.5)
        and beats_split_in_three(grid.beat_position(times_s), np.ones(len(times_s)))
    )
    if abs(phase - 0.5) < HALF_BEAT_SLACK and not on_a_third:
        return BeatGrid(period_s=grid.period_s, phase_s=grid.phase_s + 0.5 * grid.period_s)
    off = phase - 1.0 if phase > 0.5 else phase  # signed distance to the nearest beat
    if abs(off) > OFF_BEAT_SLACK:
        return BeatGrid(period_s=grid.period_s, phase_s=grid.phase_s + off * grid.period_s)
    return grid


def _levels_with_cue(
    beat: np.ndarray,
    levels: tuple[float, ...],
    beats_per_bar: int,
    slots: tuple[int, ...] | None,
    least: float,
    quiet: tuple[int, ...] = (0,),
) -> list[float]:
    """The levels (tempo factors) at which these hits fall on the slot beats (None: on any one beat
    other than 1) in most bars, and not on the quiet ones (beat 1)."""
    found: list[float] = []
    if len(beat) == 0:
        return found
    for factor in levels:
        position = beat * factor
        index = np.rint(position).astype(int)
        on = np.abs(position - index) < CUE_TOLERANCE_BEATS
        # Per bar, so one fill of off-beat snares does not hide the backbeat of the others.
        bar_of_hit = np.floor(position / beats_per_bar).astype(int)
        if np.median([on[bar_of_hit == b].mean() for b in np.unique(bar_of_hit)]) < CUE_ON_BEATS:
            continue
        bars = int(position.max() // beats_per_bar) + 1
        every = _share_of_bars_per_beat(index[on], beats_per_bar, bars)
        kept = max(every[1:]) if slots is None else min(every[slot] for slot in slots)
        if kept >= least and all(every[slot] < CUE_EVERY_BAR for slot in quiet):
            found.append(factor)
    return found


def _share_of_bars_per_beat(beat_index: np.ndarray, beats_per_bar: int, bars: int) -> list[float]:
    """For each beat of the bar, the share of bars with a hit on it."""
    bar = beat_index // beats_per_bar
    return [
        len(set(bar[beat_index % beats_per_bar == slot].tolist())) / bars for slot in range(beats_per_bar)
    ]


def _single_in_range(factors: list[float], tempo_bpm: float, bpm_range: tuple[float, float]) -> float | None:
    """The tempo of the one level in range that shows the cue; None if none or several do."""
    in_range = [tempo_bpm * f for f in factors if bpm_range[0] <= tempo_bpm * f <= bpm_range[1]]
    return in_range[0] if len(in_range) == 1 else None


def _weight_near(positions_beats: np.ndarray, weights: np.ndarray, points: tuple[float, ...]) -> float:
    """Hit weight near any of these places in the beat (0..1), softly, within SUBDIVISION_KERNEL_BEATS."""
    phase = positions_beats - np.floor(positions_beats)
    distance = np.min(np.abs(phase[:, None] - np.asarray(points)[None, :]), axis=1)
    return float(weights @ np.exp(-0.5 * (distance / SUBDIVISION_KERNEL_BEATS) ** 2))


def beats_split_in_three(positions_beats: np.ndarray, weights: np.ndarray) -> bool:
    """Whether hits between beats sit on thirds of the beat more than on halves (weighted, soft)."""
    thirds = _weight_near(positions_beats, weights, (0.0, 1 / 3, 2 / 3, 1.0))
    return thirds > _weight_near(positions_beats, weights, (0.0, 0.5, 1.0))


def straight_eighths_in_threes(positions_beats: np.ndarray, weights: np.ndarray) -> bool:
    """Whether the beats split in three with both thirds played (straight 8ths; a swing plays only the last).

    Played is counted in hits, not in their weight: an accent on one of the thirds (a one-drop's
    snare and kick on the fourth 8th of a 3/4 bar, heard in dotted quarters from its bar line)
    does not make the other third unplayed.
    """
    if not beats_split_in_three(positions_beats, weights):
        return False
    hits = np.ones(len(positions_beats))
    first = _weight_near(positions_beats, hits, (1 / 3,))
    second = _weight_near(positions_beats, hits, (2 / 3,))
    return min(first, second) >= 0.5 * max(first, second)


def _pulse_per_quarter(meter: tuple[int, int]) -> float:
    """Length of the felt pulse in quarter notes: a dotted quarter in compound meters."""
    return 1.5 if meter in COMPOUND_METERS else 4.0 / meter[1] if meter[1] > 4 and meter[0] % 2 else 1.0


def _pulses_per_bar(meter: tuple[int, int]) -> float:
    """Pulses in one bar of the meter."""
    return meter[0] * 4.0 / meter[1] / _pulse_per_quarter(meter)


def ghost_note_share(snare_velocities: list[float] | np.ndarray) -> float:
    """Share of snare-class hits under half the accent level (the 90th percentile velocity)."""
    values = np.asarray(snare_velocities, dtype=float)
    if len(values) == 0:
        return 0.0
    accent = float(np.percentile(values, ACCENT_PERCENTILE))
    return float(np.mean(values < GHOST_FACTOR * accent))


def measure_swing_percent(positions: np.ndarray, pair_beats: float) -> float:
    """Median off-beat position in its pair, in percent; hits near the swing peak only.

    positions are beat positions (unwrapped, so pairs can be told apart). Each hit's position
    inside its pair (a beat for 8ths, half a beat for 16ths) is taken; only positions inside
    SWING_WINDOW count, the densest point there is found (so straight 16ths at .75 of a beat
    do not pass for a swung 8th), and the median of the hits within SWING_HALF_WIDTH of it is
    the swing. No off-beat hits: 50 (straight).
    Positions count from where the pair starts as played locally: the median offset of the
    hits near the pair starts (a window re-centred on them) within LOCAL_PAIRS pairs either side
    (the player sitting ahead of or behind the grid, or a slightly wrong tempo drifting away
    from it) is taken off first;
    with under LOCAL_MIN_STARTS such hits nearby, the median over the whole clip. The starts
    are then taken again near those local starts, LOCAL_START_ROUNDS times, so a grid drifting
    off the played pairs keeps the starts at the clip's ends.
    """
    units = np.asarray(positions, dtype=float) / pair_beats
    pair_index = np.floor(units)
    inside = (np.asarray(positions, dtype=float) % pair_beats) / pair_beats
    late = inside > 0.5
    wrapped = np.where(late, inside - 1.0, inside)
    would_start = pair_index + late  # the pair each hit would start (the next one late in a pair)
    is_start = np.abs(wrapped) < START_HALF_WIDTH
    # Centre the start window on the starts as played, so a grid sitting a little off them
    # does not leave the earlier (or later) half of them out of the local offsets.
    for _ in range(START_WINDOW_ROUNDS):
        if np.count_nonzero(is_start) < 4:
            break
        centred = np.abs(wrapped - float(np.median(wrapped[is_start]))) < START_HALF_WIDTH
        if np.array_equal(centred, is_start):
            break
        is_start = centred
    starts = wrapped[is_start]
    if len(starts) >= 4:
        start_pairs = would_start[is_start]
        # Follow the starts along the clip: the hits near the local start of the pair they would
        # start are its starts.
        for _ in range(LOCAL_START_ROUNDS):
            local = _local_start_offsets(would_start, start_pairs, starts, LOCAL_PAIRS)
            near_local = (inside - local + 0.5) % 1.0 - 0.5  # from that local start, -0.5..0.5
            follows = np.abs(near_local) < START_HALF_WIDTH
            if np.count_nonzero(follows) < 4 or np.array_equal(follows, is_start):
                break
            value = local + near_local  # the start's place from its own pair's grid start
            is_start, starts = follows, value[follows]
            start_pairs = (pair_index + np.rint(inside - value))[follows]
        inside = (inside - _local_start_offsets(pair_index, start_pairs, starts, LOCAL_PAIRS)) % 1.0
    low, high = SWING_WINDOW
    # With the sixteenth before it played too, a hit near .75 is a straight sixteenth, not a swung 8th.
    near_e = np.count_nonzero(np.abs(inside - 0.25) < 0.05)
    near_a = np.count_nonzero(np.abs(inside - 0.75) < 0.05)
    if near_a and near_e >= 0.25 * near_a:
        inside = inside[inside < STRAIGHT_SIXTEENTH_EDGE]
    candidates = inside[(inside >= low - SWING_HALF_WIDTH) & (inside <= high + SWING_HALF_WIDTH)]
    core = candidates[(candidates >= low) & (candidates <= high)]
    if len(core) == 0:
        return 50.0
    probes = np.linspace(low, high, 55)
    density = np.exp(-0.5 * ((core[None, :] - probes[:, None]) / 0.02) ** 2).sum(axis=1)
    peak = float(probes[int(np.argmax(density))])
    near = candidates[np.abs(candidates - peak) <= SWING_HALF_WIDTH]
    # Played off-beats scatter around their place: re-centre the window on the median a few
    # times so a chance bump of the scatter does not pull the answer toward itself.
    for _ in range(4):
        centre = float(np.median(near))
        wider = candidates[np.abs(candidates - centre) <= SWING_HALF_WIDTH]
        if len(wider) == 0:
            break
        near = wider
    return float(min(max(np.median(near) * 100.0, 50.0), 75.0))


def _local_start_offsets(
    pair_index: np.ndarray, start_pairs: np.ndarray, starts: np.ndarray, reach: int
) -> np.ndarray:
    """Per hit, the median start offset of the pair starts within reach pairs of its pair."""
    fallback = float(np.median(starts))
    order = np.argsort(start_pairs, kind="stable")
    start_pairs, starts = start_pairs[order], starts[order]
    # One offset per pair, then spread to its hits by index: a mask over every hit per pair made
    # this quadratic, and the swing measure calls it up to four times per level.
    pairs, at_pair = np.unique(pair_index, return_inverse=True)
    lows = np.searchsorted(start_pairs, pairs - reach, side="left")
    highs = np.searchsorted(start_pairs, pairs + 1 + reach, side="right")
    per_pair = [
        float(np.median(starts[lo:hi])) if hi - lo >= LOCAL_MIN_STARTS else fallback
        for lo, hi in zip(lows, highs, strict=True)
    ]
    return np.asarray(per_pair, dtype=float)[at_pair]


def _grid_points(swing8: float, swing16: float, compound: bool) -> np.ndarray:
    """Positions inside one beat a hit may aim at, swung as measured."""
    if compound:
        return np.arange(7) / 6.0
    if swing8 > 54.0:
        return np.array([0.0, 1 / 3, swing8 / 100.0, 1.0])
    half16 = 0.5 * swing16 / 100.0
    return np.array([0.0, half16, 0.5, 0.5 + half16, 1.0])


def _offsets_from_grid(phases: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Signed distance in beats from each phase to its nearest grid point (+ = late)."""
    diffs = phases[:, None] - points[None, :]
    nearest = np.argmin(np.abs(diffs), axis=1)
    return diffs[np.arange(len(phases)), nearest]


def guess_meter(
    positions: np.ndarray, classes: list[str], weights: np.ndarray
) -> tuple[tuple[int, int], float, int]:
    """Guess the meter from accent periodicity: (meter, pulses per bar, downbeat pulse index).

    Each pulse gets a profile (kick, snare, cymbals, others at four places inside it); the
    bar length is the lag at which pulse profiles repeat best (4 preferred on near-ties);
    pulses split in three (triplet subdivision, not just a swung off-beat) mean 6/8 or 12/8.
    """
    phase = positions - np.floor(positions)
    first = int(np.floor(positions.min()))
    pulse = np.floor(positions).astype(int) - first
    n_pulses = _pulse_span(positions)
    group = np.array(
        [0 if c == "kick" else 1 if c == "snare" else 2 if c in ("crash", "ride") else 3 for c in classes]
    )
    sub = np.minimum((phase * 4).round().astype(int), 3)
    sub[(phase * 4).round().astype(int) == 4] = 0
    whole = pulse.copy()
    whole[(phase * 4).round().astype(int) == 4] += 1
    whole = np.minimum(whole, n_pulses - 1)
    profile = np.zeros((n_pulses, 16))
    np.add.at(profile, (whole, group * 4 + sub), weights)

    triplet = weights[np.abs(phase - 1 / 3) < 0.06].sum()
    straight = weights[(np.abs(phase - 0.25) < 0.06) | (np.abs(phase - 0.5) < 0.06)].sum()
    late = weights[np.abs(phase - 2 / 3) < 0.06].sum()
    compound = triplet > 3.0 * max(straight, 1e-9) and triplet > 0.6 * late

    def similarity(lag: int) -> float:
        if n_pulses <= lag + 1:
            return 0.0
        a, b = profile[:-lag], profile[lag:]
        norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
        ok = norms > 0
        return float(np.mean(np.sum(a[ok] * b[ok], axis=1) / norms[ok])) if ok.any() else 0.0

    if compound:
        options = {(6, 8): (2, similarity(2) + 0.03), (12, 8): (4, similarity(4))}
    else:
        options = {
            (4, 4): (4, max(similarity(4), similarity(2)) + 0.05),
            (3, 4): (3, similarity(3)),
            (5, 4): (5, similarity(5) - 0.02),
        }
    meter = max(options, key=lambda m: options[m][1])
    beats = options[meter][0]
    if n_pulses < 2 * beats:
        meter, beats = ((12, 8), 4) if compound else ((4, 4), 4)
    downbeat = downbeat_pulse(positions, classes, weights, beats)
    return meter, float(beats), downbeat


def downbeat_pulse(positions: np.ndarray, classes: list[str], weights: np.ndarray, beats_per_bar: int) -> int:
    """Which pulse (0..beats_per_bar-1, counted from the grid's pulse 0) starts the bar.

    The downbeat is where kick and crash land most and the snare least.
    """
    index = np.rint(positions).astype(int)
    on_pulse = np.abs(positions - index) < 0.15
    role = np.array(
        [1.0 if c == "kick" else 1.5 if c == "crash" else -0.5 if c == "snare" else 0.0 for c in classes]
    )
    strength = np.zeros(beats_per_bar)
    np.add.at(strength, index[on_pulse] % beats_per_bar, (role * weights)[on_pulse])
    return int(np.argmax(strength))


# Longuet-Higgins & Lee metrical weights on the 16th grid of a pulse and of the bar.
def _metrical_weights(beats_per_bar: int, compound: bool) -> np.ndarray:
    steps = 3 if compound else 4
    weights = np.zeros(beats_per_bar * steps)
    for i in range(len(weights)):
        beat, step = divmod(i, steps)
        if step == 0:
            if beat == 0:
                weights[i] = 0
            elif beats_per_bar % 2 == 0 and beat == beats_per_bar // 2:
                weights[i] = -1
            else:
                weights[i] = -2
        elif not compound and step == 2:
            weights[i] = -3
        else:
            weights[i] = -4
    return weights


def syncopation(
    bar_index: np.ndarray, bar_positions: np.ndarray, classes: list[str], beats_per_bar: float, compound: bool
) -> float:
    """Mean per-bar Longuet-Higgins & Lee syncopation of the kick+snare onsets on the 16th grid.

    A note at a weak position followed by silence at a stronger one scores the difference
    of their metrical weights; the last note of a bar looks ahead to the next downbeat.
    """
    beats = max(round(beats_per_bar), 1)
    steps = 3 if compound else 4
    metrical = _metrical_weights(beats, compound)
    size = len(metrical)
    keep = np.array([c in ("kick", "snare") for c in classes])
    if not keep.any():
        return 0.0
    n_bars = int(bar_index.max()) + 1
    grid = np.zeros((n_bars + 1, size), dtype=bool)
    slot = np.rint(bar_positions[keep] * steps).astype(int)
    bar = bar_index[keep] + slot // size
    grid[bar, slot % size] = True
    total = 0.0
    for b in range(n_bars):
        row = np.concatenate([grid[b], grid[b + 1][:1]])
        onsets = np.flatnonzero(row[:size])
        for i, start in enumerate(onsets):
            end = onsets[i + 1] if i + 1 < len(onsets) else size
            if end - start <= 1:
                continue
            rests = [j for j in range(start + 1, end) if j < size]
            if end == size and b + 1 < n_bars and not row[size]:
                strongest = 0.0  # silence on the next downbeat
            else:
                strongest = max((metrical[j] for j in rests), default=-99.0)
            if strongest > metrical[start]:
                total += strongest - metrical[start]
    return total / n_bars


def detect_fill_bars(bar_index: np.ndarray, pitches: np.ndarray, classes: list[str], bars: int) -> list[int]:
    """Bars whose tom/snare activity and pitch variety depart strongly from the typical bar."""
    if bars < 1:
        return []
    toms = np.zeros(bars)
    drum = np.zeros(bars)
    variety = np.zeros(bars)
    pitch_sets: list[set[int]] = [set() for _ in range(bars)]
    for b, p, c in zip(bar_index, pitches, classes, strict=True):
        if c in TOMS:
            toms[b] += 1
        if c in TOMS or c == "snare":
            drum[b] += 1
            pitch_sets[b].add(int(p))
    for b in range(bars):
        variety[b] = len(pitch_sets[b])
    typical_toms = float(np.median(toms))
    typical_drum = float(np.median(drum))
    spread = float(np.median(np.abs(drum - typical_drum))) or 1.0
    typical_variety = float(np.median(variety))
    fills = []
    for b in range(bars):
        tom_run = toms[b] >= 4 and toms[b] >= 2 * typical_toms + 3
        busy = drum[b] >= typical_drum + max(4.0, 3 * spread) and variety[b] > typical_variety
        if tom_run or busy:
            fills.append(b)
    return fills
