"""Rhythm features of hand-built clips with known answers, and of real GMD performances."""

from __future__ import annotations

import json
import random
from collections.abc import Callable

import numpy as np
import pytest

from mididrumigen.analysis.midi_features import analyze_clip, ghost_note_share, measure_swing_percent
from mididrumigen.analysis.tempo import estimate_beat_grid
from mididrumigen.midi.kit import kit_class_of_pitch
from mididrumigen.midi.notes import Clip, Note

TPB = 480
KICK, SNARE, HAT, TOM_HI, TOM_MID, TOM_LOW, CRASH, RIDE = 36, 38, 42, 50, 47, 43, 49, 51


def ms_ticks(ms: float, tempo: float) -> int:
    return round(ms * tempo * TPB / 60000.0)


def groove(
    bars: int = 8,
    tempo: float = 100.0,
    swing_percent: float = 50.0,
    snare_late_ms: float = 0.0,
    ghosts_per_bar: int = 0,
    fill_bar: int | None = None,
    seed: int = 1,
) -> Clip:
    """A 4/4 backbeat: kick 1 & 3, snare 2 & 4, swung 8th hats, small deterministic jitter."""
    rng = np.random.default_rng(seed)
    notes: list[Note] = []

    def add(pitch: int, velocity: int, tick: float) -> None:
        jitter = ms_ticks(float(rng.normal(0, 3.0)), tempo)
        notes.append(Note(pitch, velocity, max(0, round(tick) + jitter), 60))

    off = TPB * swing_percent / 100.0
    for bar in range(bars):
        start = bar * 4 * TPB
        if bar == fill_bar:
            for i in range(16):  # a run of 16ths down the toms
                add(
                    (TOM_HI, TOM_HI, TOM_MID, TOM_MID, TOM_LOW, TOM_LOW, SNARE, SNARE)[i // 2],
                    100,
                    start + i * TPB / 4,
                )
            continue
        for beat in range(4):
            b = start + beat * TPB
            add(HAT, 90, b)
            add(HAT, 60, b + off)
            if beat in (0, 2):
                add(KICK, 110, b)
            else:
                add(SNARE, 115, b + ms_ticks(snare_late_ms, tempo))
        for g in range(ghosts_per_bar):
            add(SNARE, 30, start + (g % 4) * TPB + TPB * 3 / 4)
    return Clip(notes=notes, tempo_bpm=tempo, bars=bars, meta={"tempo_from_file": tempo})


@pytest.mark.parametrize("swing", [50.0, 60.0, 66.7])
def test_swung_eighths_are_measured_within_one_point(swing: float) -> None:
    features = analyze_clip(groove(swing_percent=swing))
    assert features.swing_percent == pytest.approx(swing, abs=1.0)
    assert features.swing_ratio == pytest.approx(swing / (100 - swing), rel=0.05)
    assert features.tempo_bpm == pytest.approx(100.0, rel=0.01)
    assert features.tempo_source == "estimated"


def test_trusted_tempo_uses_the_file_grid() -> None:
    features = analyze_clip(groove(swing_percent=62.0), trust_tempo=True)
    assert features.tempo_source == "file"
    assert features.tempo_bpm == 100.0
    assert features.swing_percent == pytest.approx(62.0, abs=1.0)
    assert features.bars == 8
    assert features.tempo_alternatives_bpm == []  # the file's tempo is not a guess


def test_straight_sixteenths_are_not_taken_for_swing() -> None:
    notes = [Note(HAT, 80, i * TPB // 4, 30) for i in range(64)]
    notes += [Note(KICK, 110, b * TPB, 30) for b in range(0, 16, 2)]
    notes += [Note(SNARE, 110, b * TPB, 30) for b in range(1, 16, 2)]
    features = analyze_clip(Clip(notes=notes, tempo_bpm=90.0))
    assert features.swing_percent == pytest.approx(50.0, abs=1.0)
    assert features.swing_percent_16th == pytest.approx(50.0, abs=1.0)


def test_swung_sixteenths_show_at_the_sixteenth_level() -> None:
    phases = np.array([q / 2 + (0.5 * 0.6 if i % 2 else 0.0) for q in range(32) for i in range(2)])
    assert measure_swing_percent(phases % 1.0, 0.5) == pytest.approx(60.0, abs=1.0)
    assert measure_swing_percent(phases % 1.0, 1.0) == pytest.approx(50.0, abs=1.0)


def test_laid_back_snare_shows_as_late() -> None:
    features = analyze_clip(groove(snare_late_ms=15.0))
    assert features.microtiming_ms["snare"]["mean"] == pytest.approx(15.0, abs=3.0)
    assert abs(features.microtiming_ms["kick"]["mean"]) < 3.0
    assert features.microtiming_ms["snare"]["std"] < 6.0


def test_ghost_note_share_is_relative_to_the_players_accents() -> None:
    features = analyze_clip(groove(ghosts_per_bar=2))
    assert features.ghost_note_share == pytest.approx(0.5, abs=0.01)  # 2 ghosts + 2 backbeats a bar
    assert ghost_note_share([100, 100, 100, 40]) == pytest.approx(0.25)
    assert ghost_note_share([50, 50, 50, 20]) == pytest.approx(0.25)  # a soft player has ghosts too
    assert ghost_note_share([]) == 0.0


def test_velocity_and_hits_per_bar_per_kit_class() -> None:
    features = analyze_clip(groove(), trust_tempo=True)
    assert features.hits_per_bar["kick"] == pytest.approx(2.0)
    assert features.hits_per_bar["snare"] == pytest.approx(2.0)
    assert features.hits_per_bar["hihat_closed"] == pytest.approx(8.0)
    assert features.velocity["hihat_closed"]["mean"] == pytest.approx(75.0)
    assert features.velocity["hihat_closed"]["std"] == pytest.approx(15.0)
    assert features.density_per_bar == [12] * 8


def test_tom_run_bar_is_a_fill() -> None:
    features = analyze_clip(groove(bars=8, fill_bar=3), trust_tempo=True)
    assert features.fill_bars == [3]
    assert analyze_clip(groove(bars=8), trust_tempo=True).fill_bars == []


def test_waltz_is_guessed_three_four() -> None:
    notes = []
    for bar in range(8):
        start = bar * 3 * TPB
        notes.append(Note(KICK, 115, start, 60))
        notes.append(Note(CRASH if bar % 4 == 0 else RIDE, 100, start, 60))
        for beat in (1, 2):
            notes.append(Note(SNARE, 85, start + beat * TPB, 60))
            notes.append(Note(RIDE, 80, start + beat * TPB, 60))
    features = analyze_clip(Clip(notes=notes, tempo_bpm=150.0, time_signature=(4, 4)))
    assert features.time_signature == (3, 4)
    assert features.meter_source == "guessed"
    assert features.tempo_bpm == pytest.approx(150.0, rel=0.02)


def test_syncopation_rises_with_offbeat_kicks() -> None:
    plain = analyze_clip(groove(), trust_tempo=True).syncopation
    # Beat 3's kick anticipated by a sixteenth: a weak onset before a silent strong beat.
    notes = [n for n in groove().notes if not (n.pitch == KICK and round(n.time / TPB) % 4 == 2)]
    notes += [Note(KICK, 100, b * 4 * TPB + TPB * 7 // 4, 60) for b in range(8)]
    pushed = analyze_clip(Clip(notes=notes, tempo_bpm=100.0, bars=8), trust_tempo=True).syncopation
    assert plain == 0.0
    assert pushed == pytest.approx(3.0)  # Longuet-Higgins & Lee: weight -1 (beat 3) minus -4 (a 16th)


def test_json_is_serialisable_and_empty_clip_is_an_error() -> None:
    data = analyze_clip(groove()).to_json()
    assert json.loads(json.dumps(data))["time_signature"] == [4, 4]
    with pytest.raises(ValueError, match="no notes"):
        analyze_clip(Clip(notes=[]))


def test_any_resolution_gives_the_same_answer() -> None:
    base = groove(swing_percent=60.0)
    coarse = Clip(
        notes=[Note(n.pitch, n.velocity, n.time // 5, 12) for n in base.notes],
        tempo_bpm=base.tempo_bpm,
        ticks_per_beat=96,
    )
    assert analyze_clip(coarse).swing_percent == pytest.approx(60.0, abs=1.5)
    assert analyze_clip(coarse).tempo_bpm == pytest.approx(100.0, rel=0.01)


@pytest.mark.parametrize(
    ("midi_filename", "low", "high"),
    [
        ("drummer10/session1/1_jazz-swing_124_beat_4-4.mid", 55.0, 75.0),
        ("drummer1/session1/48_jazz_93_beat_4-4.mid", 55.0, 75.0),
        ("drummer1/session1/101_dance-disco_120_beat_4-4.mid", 47.0, 53.0),
        ("drummer1/session1/202_rock-halftime_140_beat_4-4.mid", 47.0, 53.0),
    ],
)
def test_gmd_swing_by_style(
    gmd_clip: Callable[[str], Clip], midi_filename: str, low: float, high: float
) -> None:
    features = analyze_clip(gmd_clip(midi_filename), trust_tempo=True)
    assert low <= features.swing_percent <= high


def test_gmd_tempo_estimate_matches_the_click(gmd_clip: Callable[[str], Clip]) -> None:
    features = analyze_clip(gmd_clip("drummer1/session1/101_dance-disco_120_beat_4-4.mid"))
    assert features.tempo_bpm == pytest.approx(120.0, rel=0.04)
    assert features.time_signature == (4, 4)
    assert features.bars > 50


def test_swing_is_measured_against_the_local_pair_starts_under_a_drifting_grid() -> None:
    # A grid 0.4 % off drifts 0.13 beats over 32 beats. With off-beats in the second half
    # only, the clip-wide median start (mid-clip) reads them about 3 points late; counted
    # from each pair's own played start they read right.
    beats = np.arange(32, dtype=float)
    positions = np.concatenate([beats, beats[16:] + 0.62]) * 1.004
    assert measure_swing_percent(positions, 1.0) == pytest.approx(62.0, abs=1.0)


def test_beats_in_three_follow_the_files_six_eight() -> None:
    # The engine's hard rock in 6/8 at 140: its hats sit early in the pulse, so the meter
    # guess alone hears 4/4 at 93 bpm; the file's 6/8 and the thirds in the beat correct it.
    from mididrumigen.generation.groove_engine import generate_grooves
    from mididrumigen.generation.request import GenerationRequest
    from mididrumigen.midi.smf import clip_to_midi_bytes, read_midi_bytes

    request = GenerationRequest(
        style="hard_rock", bars=8, variations=1, tempo_bpm=140.0, time_signature=(6, 8), seed=17
    )
    clip = read_midi_bytes(clip_to_midi_bytes(generate_grooves(request)[0]))
    assert clip.meta["time_signature_from_file"]
    features = analyze_clip(clip)
    assert features.time_signature == (6, 8)
    assert features.meter_source == "file"
    assert features.tempo_bpm == pytest.approx(140.0, rel=0.02)  # in quarter notes, as the file's tempo


@pytest.mark.parametrize(("style", "meter"), [("reggae_one_drop", (3, 4)), ("metal", (7, 8))])
def test_beats_of_three_eighths_follow_the_files_simple_meter(style: str, meter: tuple[int, int]) -> None:
    # The engine's one-drop in 3/4 at 140 and metal in 7/8 at 180: their 8ths group in threes, so the
    # grid found is a dotted quarter ("swung" 8ths); the file's meter names the real pulse.
    from mididrumigen.generation.groove_engine import generate_grooves
    from mididrumigen.generation.request import GenerationRequest
    from mididrumigen.midi.smf import clip_to_midi_bytes, read_midi_bytes

    request = GenerationRequest(
        style=style,
        bars=8,
        variations=1,
        tempo_bpm=180.0 if style == "metal" else 140.0,
        time_signature=meter,
        seed=17,
    )
    features = analyze_clip(read_midi_bytes(clip_to_midi_bytes(generate_grooves(request)[0])))
    assert features.time_signature == meter
    assert features.tempo_bpm == pytest.approx(request.tempo_bpm, rel=0.02)
    assert features.meter_source == "file"


def test_subdivision_test_tells_thirds_from_halves() -> None:
    from mididrumigen.analysis.midi_features import beats_split_in_three, straight_eighths_in_threes

    weights = np.ones(12)
    thirds = np.repeat(np.arange(4.0), 3) + np.tile([0.0, 1 / 3, 2 / 3], 4)
    halves = np.repeat(np.arange(6.0), 2) + np.tile([0.0, 0.5], 6)
    assert beats_split_in_three(thirds, weights)
    assert not beats_split_in_three(halves, weights)
    swung = np.repeat(np.arange(6.0), 2) + np.tile([0.0, 2 / 3], 6)  # only the last third is played
    assert beats_split_in_three(swung, weights)
    assert straight_eighths_in_threes(thirds, weights)
    assert not straight_eighths_in_threes(swung, weights)


def snare_fill_in_last_bar(clip: Clip) -> Clip:
    """The clip with its last bar replaced by a bar of accented 16th snares."""
    start = (clip.bars - 1) * 4 * TPB
    notes = [n for n in clip.notes if n.time < start]
    notes += [Note(SNARE, 110, start + i * TPB // 4, 60) for i in range(16)]
    return Clip(notes=notes, tempo_bpm=clip.tempo_bpm, bars=clip.bars)


def jazz_ride(bars: int = 8, tempo: float = 200.0) -> Clip:
    """Ride 'spang-a-lang' (quarters, swung skip notes before 2 and 4), hi-hat pedal on 2 and 4."""
    notes = []
    for bar in range(bars):
        for beat in range(4):
            tick = (bar * 4 + beat) * TPB
            notes.append(Note(RIDE, 96 if beat % 2 else 84, tick, 60))
            if beat % 2 == 0:
                notes.append(Note(RIDE, 62, tick + 2 * TPB // 3, 60))
            else:
                notes.append(Note(44, 70, tick, 60))
    return Clip(notes=notes, tempo_bpm=tempo, bars=bars)


@pytest.mark.parametrize(
    ("clip", "tempo"),
    [
        (groove(tempo=180.0), 180.0),
        (groove(tempo=200.0), 200.0),
        (snare_fill_in_last_bar(groove(bars=4, tempo=180.0)), 180.0),
        (jazz_ride(tempo=200.0), 200.0),
        (jazz_ride(tempo=240.0), 240.0),
    ],
    ids=["backbeat-180", "backbeat-200", "four-bars-with-a-fill-180", "jazz-pedal-200", "jazz-pedal-240"],
)
def test_backbeat_and_jazz_pedal_name_the_counted_beat(clip: Clip, tempo: float) -> None:
    # The comb with its ~115 bpm preference hears these at half tempo; snare on 2 and 4, or
    # the pedal on 2 and 4 under a ride, say which level a drummer counts.
    from mididrumigen.analysis.midi_features import counted_level_bpm

    assert analyze_clip(clip).tempo_bpm == pytest.approx(tempo, rel=0.01)
    notes = sorted(clip.notes, key=lambda n: n.time)
    times = np.array([n.time * 60.0 / (tempo * TPB) for n in notes])
    grid = estimate_beat_grid(times)
    assert grid.tempo_bpm == pytest.approx(tempo / 2, rel=0.01)  # what the comb alone reads
    pitches = np.array([n.pitch for n in notes])
    velocities = np.array([n.velocity for n in notes], dtype=float)
    classes = [kit_class_of_pitch(int(p)) or "other" for p in pitches]
    assert counted_level_bpm(times, pitches, velocities, classes, grid, (4, 4)) == pytest.approx(
        tempo, rel=0.01
    )
    # Called a 6/8, the same hits show no snare on the second dotted quarter of every bar.
    assert counted_level_bpm(times, pitches, velocities, classes, grid, (6, 8)) is None


def test_a_backbeat_names_the_beat_when_the_comb_hears_three_beats_as_two(
    gmd_clip: Callable[[str], Clip],
) -> None:
    # A 72 bpm shuffle whose comb reading is 108 (its dotted quarters): the snare on 2 and 4
    # of the bars at 72 says which level is the beat.
    clip = gmd_clip("drummer5/session1/17_blues-shuffle_72_beat_4-4.mid")
    notes = sorted(clip.notes, key=lambda n: n.time)
    times = np.array([n.time * 60.0 / (clip.tempo_bpm * clip.ticks_per_beat) for n in notes])
    assert estimate_beat_grid(times).tempo_bpm == pytest.approx(108.0, rel=0.02)
    assert analyze_clip(clip).tempo_bpm == pytest.approx(72.0, rel=0.02)


def through_midi_file(notes: list[Note], tempo: float, meter: tuple[int, int], bars: int) -> Clip:
    """A hand-built clip written to MIDI bytes and read back, so its time signature comes from the file."""
    from mididrumigen.midi.smf import clip_to_midi_bytes, read_midi_bytes

    clip = Clip(notes=notes, tempo_bpm=tempo, bars=bars, time_signature=meter)
    return read_midi_bytes(clip_to_midi_bytes(clip))


def six_eight_ballad(tempo: float, bars: int = 8) -> list[Note]:
    """6/8: hats on every 8th, kick on 1 and the last 8th, an accented snare on 4, soft ghosts."""
    eighth = TPB // 2
    notes = []
    for bar in range(bars):
        start = bar * 6 * eighth
        notes += [Note(HAT, 90 if step in (0, 3) else 65, start + step * eighth, 30) for step in range(6)]
        notes += [Note(KICK, 110, start, 60), Note(KICK, 90, start + 5 * eighth, 60)]
        notes += [Note(SNARE, 118, start + 3 * eighth, 60), Note(SNARE, 35, start + 5 * eighth, 60)]
    return notes


@pytest.mark.parametrize("tempo", [70.0, 75.0, 90.0])
def test_a_six_eight_ballad_is_counted_in_dotted_quarters(tempo: float) -> None:
    # In quarters at 70-90 the 8ths run at 140-180: the comb hears them as beats. The snare
    # on the second dotted quarter of every bar says the beat is three of them.
    clip = through_midi_file(six_eight_ballad(tempo), tempo, (6, 8), 8)
    features = analyze_clip(clip)
    assert features.time_signature == (6, 8)
    assert features.tempo_bpm == pytest.approx(tempo, rel=0.02)  # in quarter notes, as the file's tempo


def test_a_four_bar_six_eight_ending_in_a_fill_is_counted_from_its_three_backbeats() -> None:
    eighth = TPB // 2
    notes = [
        n for n in six_eight_ballad(72.0, bars=3) if n.velocity > 40
    ]  # no ghosts: three snare hits in all
    notes += [
        Note((TOM_HI, TOM_HI, TOM_MID, TOM_MID, TOM_LOW, TOM_LOW)[i], 110, 18 * eighth + i * eighth, 30)
        for i in range(6)
    ]
    features = analyze_clip(through_midi_file(notes, 72.0, (6, 8), 4))
    assert features.time_signature == (6, 8)
    assert features.tempo_bpm == pytest.approx(72.0, rel=0.02)


def seven_eight_groove(bars: int = 8) -> list[Note]:
    """7/8 grouped 2+2+3: hats on every 8th, kick on 1 and 5, accented snare on 3 and 7."""
    eighth = TPB // 2
    notes = []
    for bar in range(bars):
        start = bar * 7 * eighth
        notes += [Note(HAT, 90 if step in (0, 2, 4) else 65, start + step * eighth, 30) for step in range(7)]
        notes += [Note(KICK, 110, start, 60), Note(KICK, 100, start + 4 * eighth, 60)]
        notes += [Note(SNARE, 118, start + 2 * eighth, 60), Note(SNARE, 112, start + 6 * eighth, 60)]
    return notes


@pytest.mark.parametrize("tempo", [90.0, 150.0, 180.0])
def test_a_seven_eight_groove_is_counted_in_the_eighths_its_snare_returns_on(tempo: float) -> None:
    from mididrumigen.analysis.midi_features import counted_eighths_bpm

    clip = through_midi_file(seven_eight_groove(), tempo, (7, 8), 8)
    features = analyze_clip(clip)
    assert features.time_signature == (7, 8)
    assert features.tempo_bpm == pytest.approx(tempo, rel=0.02)
    # The cue itself, from whatever level the comb heard: 8ths at twice the quarter tempo.
    notes = sorted(clip.notes, key=lambda n: n.time)
    times = np.array([n.time * 60.0 / (tempo * TPB) for n in notes])
    velocities = np.array([n.velocity for n in notes], dtype=float)
    classes = [kit_class_of_pitch(n.pitch) or "other" for n in notes]
    grid = estimate_beat_grid(times)
    assert counted_eighths_bpm(times, velocities, classes, grid) == pytest.approx(2 * tempo, rel=0.02)
    # Without the snare nothing returns to a place in the bar: no answer.
    no_snare = [c if c != "snare" else "kick" for c in classes]
    assert counted_eighths_bpm(times, velocities, no_snare, grid) is None


def test_a_hi_hat_rolling_faster_than_thirty_seconds_is_counted_twice_as_fast() -> None:
    # Trap at 140: 8th hats with 32nd rolls, the snare on 3. Read at 70 (a backbeat on 2
    # and 4), its rolls would be 64ths, and nobody keeps time in 64ths.
    notes = []
    for bar in range(8):
        start = bar * 4 * TPB
        for step in range(8):
            tick = start + step * TPB // 2
            if step in (3, 7):
                notes += [Note(HAT, 70, tick + i * TPB // 8, 20) for i in range(4)]
            else:
                notes.append(Note(HAT, 85, tick, 30))
        notes += [Note(KICK, 115, start, 60), Note(KICK, 105, start + 3 * TPB // 2, 60)]
        notes.append(Note(SNARE, 120, start + 2 * TPB, 60))
    assert analyze_clip(Clip(notes=notes, tempo_bpm=140.0, bars=8)).tempo_bpm == pytest.approx(
        140.0, rel=0.02
    )


def half_time_shuffle(bars: int = 8) -> list[Note]:
    """Purdie's half-time shuffle: hats on the 1st and 3rd triplet, snare on 3, ghosts on the middle triplets."""
    third = TPB // 3
    notes = []
    for bar in range(bars):
        for beat in range(4):
            tick = (bar * 4 + beat) * TPB
            notes += [Note(HAT, 90 if beat % 2 == 0 else 75, tick, 30), Note(HAT, 60, tick + 2 * third, 30)]
            notes.append(Note(SNARE, 30, tick + third, 30))
        start = bar * 4 * TPB
        notes += [Note(KICK, 110, start, 60), Note(KICK, 95, start + 2 * third + TPB, 60)]
        notes.append(Note(SNARE, 120, start + 2 * TPB, 60))
    return notes


@pytest.mark.parametrize("tempo", [70.0, 85.0, 100.0])
def test_a_half_time_shuffle_is_counted_in_its_files_quarters(tempo: float) -> None:
    # The comb hears two triplets as a beat (3:2) or the triplet-split beats as 12/8's dotted
    # quarters; the snare on 3 alone every bar, and the file's 4/4, say it is a shuffle at tempo.
    features = analyze_clip(through_midi_file(half_time_shuffle(), tempo, (4, 4), 8))
    assert features.time_signature == (4, 4)
    assert features.tempo_bpm == pytest.approx(tempo, rel=0.02)


def test_a_one_drop_in_three_four_is_counted_from_its_drop_on_three() -> None:
    # Kick and rimshot on 3 alone, 8th hats, at 70: the comb hears the 8ths (140) as beats.
    notes = []
    for bar in range(8):
        start = bar * 3 * TPB
        notes += [Note(HAT, 85 if step % 2 else 70, start + step * TPB // 2, 30) for step in range(6)]
        notes += [Note(KICK, 112, start + 2 * TPB, 60), Note(SNARE, 118, start + 2 * TPB, 60)]
    features = analyze_clip(through_midi_file(notes, 70.0, (3, 4), 8))
    assert features.tempo_bpm == pytest.approx(70.0, rel=0.02)
    assert features.time_signature == (3, 4)


def test_a_triplet_feel_in_a_four_four_file_keeps_its_quarters(gmd_clip: Callable[[str], Clip]) -> None:
    # A drummer's chacarera at 118, its beats split in three: read as 12/8 it was 177.
    features = analyze_clip(gmd_clip("drummer1/session2/2_latin-chacarera_118_beat_4-4.mid"))
    assert features.time_signature == (4, 4)
    assert features.tempo_bpm == pytest.approx(118.0, rel=0.02)


def ride_only_swing(tempo: float, bars: int = 8, skip_at: float = 0.62) -> Clip:
    """A ride 'ding ding-a ding' (quarters, a skip note before 2 and 4), feathered kick, no hi-hat pedal."""
    notes = []
    for bar in range(bars):
        for beat in range(4):
            tick = (bar * 4 + beat) * TPB
            notes.append(Note(RIDE, 96 if beat % 2 else 84, tick, 60))
            notes.append(Note(KICK, 40, tick, 60))
            if beat % 2 == 0:
                notes.append(Note(RIDE, 62, tick + round(skip_at * TPB), 60))
    return Clip(notes=notes, tempo_bpm=tempo, bars=bars)


@pytest.mark.parametrize("tempo", [200.0, 240.0, 280.0])
def test_a_fast_swing_ride_without_a_pedal_is_counted_in_its_quarters(tempo: float) -> None:
    # Read at half, the ride plays every beat and half beat, its skip notes early in the beat.
    assert analyze_clip(ride_only_swing(tempo)).tempo_bpm == pytest.approx(tempo, rel=0.02)


@pytest.mark.parametrize("tempo", [100.0, 130.0])
def test_a_medium_swing_ride_is_not_doubled(tempo: float) -> None:
    # The same pattern at a medium tempo swings harder: its skip notes sit late in the beat.
    assert analyze_clip(ride_only_swing(tempo, skip_at=0.66)).tempo_bpm == pytest.approx(tempo, rel=0.02)


def test_a_drummers_fast_jazz_is_counted_in_its_quarters(gmd_clip: Callable[[str], Clip]) -> None:
    assert analyze_clip(
        gmd_clip("drummer1/session1/78_jazz-fast_290_beat_4-4.mid")
    ).tempo_bpm == pytest.approx(290.0, rel=0.02)


def test_a_half_time_snare_is_not_counted_as_a_slow_backbeat() -> None:
    # Snare on 3 only at 100 bpm would be a backbeat at 50; that slow a reading is left to the comb.
    notes = []
    for bar in range(8):
        for step in range(8):
            notes.append(Note(HAT, 80, (bar * 8 + step) * TPB // 2, 60))
        notes.append(Note(KICK, 110, bar * 4 * TPB, 60))
        notes.append(Note(SNARE, 115, (bar * 4 + 2) * TPB, 60))
    assert analyze_clip(Clip(notes=notes, tempo_bpm=100.0, bars=8)).tempo_bpm == pytest.approx(
        100.0, rel=0.01
    )


def test_a_hi_hat_in_thirty_seconds_of_the_heard_beat_is_counted_twice_as_fast(
    gmd_clip: Callable[[str], Clip],
) -> None:
    from mididrumigen.analysis.midi_features import hats_in_thirty_seconds_bpm

    # A drummer's 170 bpm breakbeat with its hi-hat in 16ths: the comb hears 113 (two thirds)
    # and the backbeat (snare on 2 and 4 of bars at 85) 85, where the hat would run in 32nds.
    clip = gmd_clip("drummer1/session1/81_dance-breakbeat_170_beat_4-4.mid")
    assert analyze_clip(clip).tempo_bpm == pytest.approx(170.0, rel=0.02)
    notes = sorted(clip.notes, key=lambda n: n.time)
    times = np.array([n.time * 60.0 / (clip.tempo_bpm * clip.ticks_per_beat) for n in notes])
    classes = [kit_class_of_pitch(n.pitch) or "other" for n in notes]
    assert estimate_beat_grid(times).tempo_bpm == pytest.approx(113.3, rel=0.02)
    assert hats_in_thirty_seconds_bpm(times, classes, 85.0) == pytest.approx(170.0)
    assert hats_in_thirty_seconds_bpm(times, classes, 170.0) is None  # 340 is out of range
    # 16th hats at 100 are 16ths, not 32nds: no doubling.
    straight = [Note(HAT, 80, i * TPB // 4, 30) for i in range(64)]
    straight_times = np.array([n.time * 60.0 / (100.0 * TPB) for n in straight])
    assert hats_in_thirty_seconds_bpm(straight_times, ["hihat_closed"] * 64, 100.0) is None


def test_bars_are_counted_from_the_clips_start_and_end_with_it() -> None:
    # A 4-bar groove whose last 16th is played late, almost on the clip's end, and whose
    # crash accents sit on beat 3: still 4 bars, counted from the first tick.
    base = groove(bars=4, tempo=100.0)
    notes = [*base.notes, Note(HAT, 70, 16 * TPB - 20, 10)]
    notes += [Note(CRASH, 120, (bar * 4 + 2) * TPB, 60) for bar in range(4)]
    features = analyze_clip(Clip(notes=notes, tempo_bpm=100.0, bars=4))
    assert features.tempo_bpm == pytest.approx(100.0, rel=0.02)
    assert features.bars == 4
    assert len(features.density_per_bar) == 4


@pytest.mark.parametrize("bars", [1, 2, 4])
def test_bars_count_from_the_first_tick_when_the_grid_puts_it_between_beats(bars: int) -> None:
    # A laid-back groove: every hit a fifth of a beat behind the written one but the opening
    # kick and hat on the clip's first tick, so the grid fitted to the playing puts that tick
    # 0.2 beats ahead of a beat. The clip is still `bars` bars, not one more.
    shift = round(0.2 * TPB)
    later = [n._replace(time=min(n.time + shift, bars * 4 * TPB - 1)) for n in groove(bars=bars).notes]
    notes = [n for n in later if n.time > shift + 30]
    notes += [Note(KICK, 110, 0, 60), Note(HAT, 90, 0, 60)]
    features = analyze_clip(Clip(notes=notes, tempo_bpm=100.0, bars=bars))
    assert features.tempo_bpm == pytest.approx(100.0, rel=0.02)
    assert features.bars == bars
    assert sum(features.density_per_bar) == len(notes)


@pytest.mark.parametrize("bars", [2, 4, 8])
def test_a_tempo_estimate_a_few_percent_fast_finds_no_bar_after_the_clips_end(bars: int) -> None:
    # Played 2 % ahead of the file's tempo, with a last hat just before the clip's end: the
    # estimate (102) makes the clip 2 % of a bar per bar longer than its bars, and that hat,
    # just ahead of a bar line, would open a bar after the end. Bars that long are the file's.
    notes = [n._replace(time=round(n.time * 0.98)) for n in groove(bars=bars).notes]
    notes.append(Note(HAT, 70, round((bars * 4 - 0.3) * TPB), 30))
    features = analyze_clip(Clip(notes=notes, tempo_bpm=100.0, bars=bars))
    assert features.tempo_bpm == pytest.approx(102.0, rel=0.01)
    assert features.bars == bars
    assert sum(features.density_per_bar) == len(notes)


def one_bar_file(meter: tuple[int, int], tempo: float, step_ticks: int = TPB) -> Clip:
    """One bar in a MIDI file stating its meter and tempo: hat on every step and its half, kick and snare."""
    steps = meter[0] * 4 * TPB // meter[1] // step_ticks
    notes: list[Note] = []
    for step in range(steps):
        notes += [
            Note(HAT, 90, step * step_ticks, 30),
            Note(HAT, 60, step * step_ticks + step_ticks // 2, 30),
        ]
        notes.append(Note(KICK if step % 2 == 0 else SNARE, 110, step * step_ticks, 30))
    from mididrumigen.midi.smf import clip_to_midi_bytes, read_midi_bytes

    return read_midi_bytes(
        clip_to_midi_bytes(Clip(notes=notes, tempo_bpm=tempo, time_signature=meter, bars=1))
    )


@pytest.mark.parametrize("meter", [(5, 4), (3, 4)])
@pytest.mark.parametrize("tempo", [90.0, 150.0])
def test_a_clip_too_short_to_show_its_meter_takes_the_files(meter: tuple[int, int], tempo: float) -> None:
    # One bar: nothing repeats to tell the meter by. The beats heard are the file's quarters,
    # so its 5/4 (or 3/4) is the meter, not the 4/4 default, and the bar is one bar, not two.
    features = analyze_clip(one_bar_file(meter, tempo))
    assert features.tempo_bpm == pytest.approx(tempo, rel=0.02)
    assert (features.time_signature, features.meter_source, features.bars) == (meter, "file", 1)


def test_a_short_clip_whose_beats_are_not_the_files_keeps_the_default_meter() -> None:
    # The file says 5/4 at 60 but the hits run at 8ths of it: the beat heard (120) is not the
    # file's, so its meter says nothing about how the beats heard group.
    features = analyze_clip(one_bar_file((5, 4), 60.0, step_ticks=TPB // 2))
    assert features.tempo_bpm == pytest.approx(120.0, rel=0.02)
    assert features.meter_source == "guessed"


def test_a_clip_without_kit_pieces_is_refused() -> None:
    piano = Clip(notes=[Note(60 + i % 5, 80, i * TPB // 2, 200) for i in range(16)], tempo_bpm=100.0)
    with pytest.raises(ValueError, match="no drum-kit notes"):
        analyze_clip(piano)


def test_a_grid_on_the_off_beats_is_moved_through_the_clips_first_hit() -> None:
    from mididrumigen.analysis.midi_features import beats_through_clip_start
    from mididrumigen.analysis.tempo import BeatGrid

    times = np.array([0.004, 0.25, 0.5, 0.75, 1.0])
    off = BeatGrid(period_s=0.5, phase_s=0.25)
    assert beats_through_clip_start(off, times).phase_s == pytest.approx(0.5)
    on = BeatGrid(period_s=0.5, phase_s=0.0)
    assert beats_through_clip_start(on, times) == on
    # no hit at the clip's start: nothing says where its bar line is
    assert beats_through_clip_start(off, times[1:] + 0.2) == off


def test_swing_does_not_depend_on_where_the_grid_sits_among_early_pair_starts() -> None:
    # Pair starts played 0-10 % of a pair early, the swung 16th at 56 % of the written pair: a
    # start window fixed on the grid catches more or fewer of the early starts as the grid
    # moves; re-centred on the starts, it measures the same swing wherever the grid sits.
    rng = random.Random(5)
    positions = []
    for pair in range(128):
        positions.append(pair * 0.5 + 0.5 * rng.uniform(-0.2, 0.02))
        positions.append(pair * 0.5 + 0.5 * (0.56 + rng.gauss(0, 0.015)))
    on_grid = measure_swing_percent(np.array(positions), 0.5)
    assert on_grid == pytest.approx(64.4, abs=1.0)  # 56 % counted from the starts as played, ~9 % early
    for shift_beats in (0.02, 0.04, 0.06):
        assert measure_swing_percent(np.array(positions) + shift_beats, 0.5) == pytest.approx(
            on_grid, abs=0.2
        )


def test_a_grid_on_anticipations_is_moved_through_the_clips_first_hit() -> None:
    from mididrumigen.analysis.midi_features import beats_through_clip_start
    from mididrumigen.analysis.tempo import BeatGrid

    times = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
    early = BeatGrid(period_s=0.6, phase_s=0.5)  # beats a sixth early: the first hit at 1/6 of a beat
    moved = beats_through_clip_start(early, times)
    assert moved.period_s == early.period_s
    assert moved.beat_position(0.0) % 1.0 == pytest.approx(0.0, abs=1e-9)
    # a first hit only a little off a beat is a played one: the grid stays
    close = BeatGrid(period_s=0.6, phase_s=0.05)
    assert beats_through_clip_start(close, times) == close


def test_a_six_eight_groove_anticipating_its_beats_keeps_the_files_meter_and_tempo() -> None:
    # A songo-like 6/8 at 100 (quarters): the ride on the 8ths and the pedal on each dotted
    # quarter, loud kick and snare a 16th before each dotted quarter. A grid fitted to the
    # hits locks onto the anticipations; the clip's first tick, a bar line with the ride and
    # the pedal on it, says where the dotted quarters are, and they split in three.
    tempo, dotted = 100.0, 3 * TPB // 2
    notes = []
    for beat in range(16):
        start = beat * dotted
        for eighth in range(3):
            notes.append(Note(RIDE, 80 if eighth == 0 else 60, start + eighth * TPB // 2, 60))
        notes.append(Note(44, 45, start, 60))
        notes.append(Note(KICK, 110, start + dotted - TPB // 4, 60))
        notes.append(Note(SNARE, 110, start + dotted - TPB // 4, 60))
    clip = Clip(notes=notes, tempo_bpm=tempo, time_signature=(6, 8), meta={"time_signature_from_file": True})
    features = analyze_clip(clip)
    assert features.time_signature == (6, 8)
    assert features.tempo_bpm == pytest.approx(tempo, rel=0.04)


def test_an_accent_on_one_third_does_not_make_the_other_unplayed() -> None:
    from mididrumigen.analysis.midi_features import straight_eighths_in_threes

    # Straight 8ths in threes (a 3/4 one-drop heard in dotted quarters from its bar line): the
    # snare and kick pile onto the first third of every other beat; the hats play both thirds.
    positions = np.repeat(np.arange(8.0), 3) + np.tile([0.0, 1 / 3, 2 / 3], 8)
    weights = np.full(len(positions), 0.25)
    accents = np.arange(8) % 2 == 1
    positions = np.concatenate([positions, np.arange(8.0)[accents] + 1 / 3, np.arange(8.0)[accents] + 1 / 3])
    weights = np.concatenate([weights, np.full(4, 1.0), np.full(4, 0.8)])
    assert straight_eighths_in_threes(positions, weights)


def played_swung_sixteenths(rng: random.Random, pairs: int, off_beat_scatter: float) -> np.ndarray:
    """Positions in beats of 16th pairs swung at 56 %, scattered as played: starts 0.03 of a pair, off-beats more."""
    positions = []
    for pair in range(pairs):
        positions.append(pair * 0.5 + 0.5 * rng.gauss(0, 0.03))
        positions.append(pair * 0.5 + 0.5 * (0.56 + rng.gauss(0, off_beat_scatter)))
    return np.array(positions)


def test_swing_of_scattered_off_beats_does_not_jump_with_a_grid_a_little_off() -> None:
    # Swung 16ths (56 %) played with the scatter of a human (or the engine's humanising): the
    # off-beats 0.06 of a pair around their place, the starts 0.03. Read on grids 0.15-0.3 %
    # slow or fast (what a tempo estimate is off by), the swing must stay within 2 points of
    # what the clip's own grid reads, and that near the swing played.
    readings, jumps = [], 0
    for seed in range(40):
        positions = played_swung_sixteenths(random.Random(seed), pairs=64, off_beat_scatter=0.06)
        on_grid = measure_swing_percent(positions, 0.5)
        readings.append(on_grid)
        moved = [measure_swing_percent(positions * (1 + e), 0.5) for e in (-0.003, -0.0015, 0.0015, 0.003)]
        jumps += max(abs(m - on_grid) for m in moved) > 2.0
    assert jumps <= 1
    assert float(np.std(readings)) < 1.5
    assert float(np.mean(readings)) == pytest.approx(56.0, abs=1.0)


def test_swing_on_a_grid_drifting_off_the_played_pairs_keeps_its_ends_starts() -> None:
    # Eight bars of 3/4 in swung 16ths (56 %) played with a human scatter, read on a grid 0.6 %
    # slow or fast (a tempo estimate a little off): by the clip's end the grid is 0.15 beat off
    # the played pairs, so a clip-wide start window loses the starts there. Taking the starts
    # near each pair's local start keeps them: the swing reads as on the clip's own grid.
    jumps, total = 0, 0.0
    for seed in range(40):
        positions = played_swung_sixteenths(random.Random(seed), pairs=48, off_beat_scatter=0.04)
        on_grid = measure_swing_percent(positions, 0.5)
        error = max(abs(measure_swing_percent(positions * (1 + e), 0.5) - on_grid) for e in (-0.006, 0.006))
        jumps += error > 2.0
        total += error
    assert jumps == 0
    assert total / 40 < 0.8


def second_line_in_three_four(
    tempo: float = 86.0, swing: float = 0.56, bars: int = 8, seed: int = 3, early_ticks: int = 0
) -> Clip:
    """A second line's 3-3-2 in 3/4: snare accents on 16ths 0, 3, 6 and 10 of the bar and ghosts on
    the rest, the hi-hat foot on every beat, kick on 1 and the second dotted 8th's 8th, swung 16ths,
    played early_ticks ahead (the first hit stays on the clip's first tick)."""
    rng = random.Random(seed)
    sixteenth = TPB // 4
    notes = []

    def tick(bar: int, step: int) -> int:
        late = round((swing - 0.5) * 2 * sixteenth) if step % 2 else 0
        return max(0, bar * 12 * sixteenth + step * sixteenth + late + round(rng.gauss(0, 8)) - early_ticks)

    for bar in range(bars):
        for step in range(12):
            notes.append(Note(SNARE, 110 if step in (0, 3, 6, 10) else 35, tick(bar, step), 60))
        notes += [Note(44, 50, tick(bar, 4 * beat), 60) for beat in range(3)]
        notes += [Note(KICK, 100, tick(bar, step), 60) for step in (0, 6)]
    return Clip(notes=notes, tempo_bpm=tempo, time_signature=(3, 4), meta={"time_signature_from_file": True})


@pytest.mark.parametrize("early_ticks", [0, 12])
def test_a_second_line_in_three_four_heard_in_dotted_eighths_is_counted_in_its_quarters(
    early_ticks: int,
) -> None:
    # The comb hears the 3-3-2's dotted 8ths, whose thirds are 16ths, not 8ths: counted in 8ths
    # the bars would be half bars with different accents. Its quarters are the file's, and its
    # swung 16ths read on them as on the file's grid: the quarters run through the clip's start
    # even when, played a little early, the dotted 8ths' grid names the one just after it.
    clip = second_line_in_three_four(early_ticks=early_ticks)
    features = analyze_clip(clip)
    assert features.tempo_bpm == pytest.approx(86.0, rel=0.04)
    on_file_grid = analyze_clip(clip, trust_tempo=True).swing_percent_16th
    assert features.swing_percent_16th == pytest.approx(on_file_grid, abs=2.0)


def test_thirds_of_found_beats_are_sixteenths_only_when_bars_so_counted_are_clearly_more_alike() -> None:
    from mididrumigen.analysis.midi_features import thirds_of_found_beats
    from mididrumigen.analysis.tempo import BeatGrid

    def thirds(beat_s: float, accent_sixteenths: list[int], sixteenth_s: float, bars: int = 8) -> int:
        times = np.array(
            [(bar * 12 + step) * sixteenth_s for bar in range(bars) for step in accent_sixteenths]
        )
        grid = BeatGrid(period_s=beat_s, phase_s=0.0)
        return thirds_of_found_beats(times, np.full(len(times), 110.0), ["snare"] * len(times), grid, (3, 4))

    # A second line in 3/4 at 86 heard in dotted 8ths: counted in 8ths, half bars of accents 0, 3 | 0, 4.
    sixteenth = 60.0 / 86.0 / 4
    assert thirds(3 * sixteenth, [0, 3, 6, 10], sixteenth) == 16
    # A one-drop in 3/4 at 140 heard in dotted quarters, the snare on beat 3: its bars are alike
    # counted in 8ths (and as alike in the double bars of 16ths), so 8ths.
    sixteenth = 60.0 / 140.0 / 4
    assert thirds(6 * sixteenth, [8], sixteenth) == 8
    # Accents in no order bar to bar: no more alike either way, so 8ths.
    rng = random.Random(2)
    scattered = np.array(sorted(rng.uniform(0, 8 * 12) for _ in range(24))) * sixteenth
    grid = BeatGrid(period_s=6 * sixteenth, phase_s=0.0)
    assert thirds_of_found_beats(scattered, np.full(24, 110.0), ["snare"] * 24, grid, (3, 4)) == 8


def test_a_six_eight_one_drop_heard_in_its_eighths_is_counted_in_dotted_quarters() -> None:
    # A one-drop in 6/8 at 70 (quarters): the hi-hat on every 8th, kick and a soft cross-stick
    # on the fourth 8th, a loud snare run every fourth bar (so the cross-stick is no accent for
    # the 6/8 backbeat cue). The comb hears the 8ths as the beat, which do not split in three;
    # bars of six of them repeat their kick, bars of three (quarters) do not.
    rng = random.Random(1)
    eighth = TPB // 2
    notes = []

    def tick(bar: int, step: int) -> int:
        return max(0, bar * 6 * eighth + step * eighth + round(rng.gauss(0, 6)))

    for bar in range(8):
        notes += [Note(HAT, 60 + rng.randrange(20), tick(bar, step), 60) for step in range(6)]
        notes.append(Note(KICK, 115, tick(bar, 3), 60))
        if bar % 4 == 3:
            notes += [Note(SNARE, 120, tick(bar, step), 60) for step in (3, 4, 5)]
        else:
            notes.append(Note(SNARE, 70, tick(bar, 3), 60))
    clip = Clip(notes=notes, tempo_bpm=70.0, time_signature=(6, 8), meta={"time_signature_from_file": True})
    features = analyze_clip(clip)
    assert features.time_signature == (6, 8)
    assert features.tempo_bpm == pytest.approx(70.0, rel=0.04)


def test_found_beats_in_quarters_with_a_two_bar_phrase_are_not_read_as_eighths() -> None:
    from mididrumigen.analysis.midi_features import found_beats_are_eighths
    from mididrumigen.analysis.tempo import BeatGrid

    # A 6/8 at 100 heard in its quarters (three a bar): kicks on 16ths 0 and 6 of every bar, a
    # snare accent on 16th 8 of every other bar. Bars of six quarters (as 8ths) are all alike,
    # bars of three half alike: not unlike enough to be 8ths.
    sixteenth = 60.0 / 100.0 / 4
    grid = BeatGrid(period_s=4 * sixteenth, phase_s=0.0)
    steps = [(bar * 12 + step, "kick") for bar in range(8) for step in (0, 6)]
    steps += [(bar * 12 + 8, "snare") for bar in range(0, 8, 2)]
    steps.sort()
    times = np.array([step * sixteenth for step, _ in steps])
    classes = [name for _, name in steps]
    assert not found_beats_are_eighths(times, np.full(len(times), 110.0), classes, grid, (6, 8))


def odd_meter_fast_swing(tempo: float, beats_per_bar: int, bars: int, early_ticks: int = 0) -> Clip:
    """A fast 'ding ding-a ding' in 3/4 or 5/4 written to a file: the ride on every beat, a swung
    skip note (at 62 %) before the even beats; beat 1's ride left out every other bar and the beats
    played early_ticks ahead (the skip notes and a soft kick on every beat where written)."""
    notes = []
    for bar in range(bars):
        for beat in range(beats_per_bar):
            tick = (bar * beats_per_bar + beat) * TPB
            if beat or bar % 2 == 0:
                notes.append(Note(RIDE, 90, max(0, tick - early_ticks), 60))
            if beat % 2 == 0 and beat + 1 < beats_per_bar:
                notes.append(Note(RIDE, 60, tick + round(0.62 * TPB), 60))
            notes.append(Note(KICK, 40, tick, 60))
    return through_midi_file(notes, tempo, (beats_per_bar, 4), bars)


def test_a_fast_swing_ride_in_three_four_is_counted_in_its_quarters() -> None:
    # Read at half, a 3/4 bar holds a beat and a half: the beats the grid calls its own and the
    # ones it calls half beats change places every bar, so beat 1's missing ride thins either
    # (the rule asks the same of both), and a ride played a little ahead of a beat is on it.
    clip = odd_meter_fast_swing(180.0, 3, 8, early_ticks=TPB // 20)
    assert analyze_clip(clip).tempo_bpm == pytest.approx(180.0, rel=0.02)


def test_a_two_bar_fast_swing_in_five_four_is_counted_in_its_quarters() -> None:
    # Two bars of a fast 5/4 ride hold a dozen ride hits: enough to hear 'ding ding-a ding'.
    clip = odd_meter_fast_swing(172.0, 5, 2)
    assert analyze_clip(clip).tempo_bpm == pytest.approx(172.0, rel=0.02)


def test_a_grid_a_third_of_a_beat_off_in_six_eight_is_moved_by_that_third() -> None:
    from mididrumigen.analysis.midi_features import beats_through_clip_start
    from mididrumigen.analysis.tempo import BeatGrid

    # 8ths at 0.2 s, three to the dotted quarter (0.6 s); a grid putting the first hit at 0.37
    # of its beat (a third, played a little late against it) is a third off, not half a beat.
    times = np.arange(24) * 0.2
    off = BeatGrid(period_s=0.6, phase_s=-0.37 * 0.6)
    moved = beats_through_clip_start(off, times, compound=True)
    assert moved.beat_position(0.0) % 1.0 == pytest.approx(0.0, abs=1e-9)
    # Outside a compound file the same grid moves by half a beat, as before.
    assert beats_through_clip_start(off, times).beat_position(0.0) % 1.0 == pytest.approx(0.87, abs=1e-9)
