"""The humanizer: swing, played timing and velocity, without flams, outside hits or global randomness."""

from __future__ import annotations

import itertools
import random
import statistics

import pytest

from mididrumigen.midi.humanize import (
    accent_gain,
    apply_feel,
    apply_swing,
    min_gap_ticks,
    plays_eighths_only,
    swing_tick,
)
from mididrumigen.midi.notes import Clip, Note, ticks_to_seconds
from mididrumigen.profile import QuantitativeParams

HAT, SNARE, KICK = 42, 38, 36


def eighths_clip(bars: int = 4, tempo: float = 120.0, meter: tuple[int, int] = (4, 4)) -> Clip:
    """Hats on 8ths, snare on 2 and 4, kick on 1 and 3 (straight grid)."""
    bar = meter[0] * 480 * 4 // meter[1]
    notes = []
    for b in range(bars):
        start = b * bar
        notes += [Note(HAT, 90, start + t, 60) for t in range(0, bar, 240)]
        notes += [Note(SNARE, 110, start + t, 60) for t in range(480, bar, 960)]
        notes += [Note(KICK, 100, start + t, 60) for t in range(0, bar, 960)]
    return Clip(notes=notes, tempo_bpm=tempo, time_signature=meter, bars=bars)


def test_swing_tick_moves_the_offbeat_only() -> None:
    assert swing_tick(0, 480, 66.7) == 0
    assert swing_tick(480, 480, 66.7) == 480
    assert swing_tick(240, 480, 66.7) == pytest.approx(320.16)
    assert swing_tick(240, 480, 60.0) == pytest.approx(288.0)
    assert swing_tick(120, 480, 60.0, unit=16) == pytest.approx(144.0)
    # From triplets back to straight and to a lighter swing.
    assert swing_tick(320, 480, 50.0, source_percent=100 * 2 / 3) == pytest.approx(240.0)
    assert swing_tick(320, 480, 60.0, source_percent=100 * 2 / 3) == pytest.approx(288.0)
    with pytest.raises(ValueError, match="swing unit"):
        swing_tick(0, 480, 60.0, unit=4)


def test_apply_swing_on_a_clip() -> None:
    clip = eighths_clip()
    swung = apply_swing(clip, 62.0)
    hats = sorted(n.time for n in swung.notes if n.pitch == HAT and n.time < 960)
    assert hats == [0, round(480 * 0.62), 480, 480 + round(480 * 0.62)]
    assert [n.pitch for n in swung.notes] == [n.pitch for n in clip.notes]
    compound = eighths_clip(meter=(6, 8))
    assert apply_swing(compound, 66.7).notes == compound.notes, "compound meters do not swing"


def test_accent_cycles() -> None:
    assert accent_gain(0, 480, "beat") == 1.0
    assert accent_gain(240, 480, "beat") == 0.0
    assert accent_gain(120, 480, "beat") == -1.0
    assert accent_gain(240, 480, "offbeat") == 1.0
    assert accent_gain(320, 480, "offbeat") == 1.0, "a swung '&' is still the off-beat"
    assert accent_gain(0, 480, "none") == 0.0
    # A part in 8ths has two levels: its unaccented 8th is the weak one.
    assert accent_gain(240, 480, "beat", eighths_only=True) == -1.0
    assert accent_gain(0, 480, "offbeat", eighths_only=True) == -1.0
    assert accent_gain(0, 480, "beat", eighths_only=True) == 1.0


def test_plays_eighths_only() -> None:
    assert plays_eighths_only([0, 240, 480, 720], 480)
    assert plays_eighths_only([0, 310, 480, 790], 480), "swung 8ths are still 8ths"
    assert not plays_eighths_only([0, 120, 240, 360], 480)
    assert not plays_eighths_only([0, 160, 320], 480), "triplets have a middle level"


def test_amount_zero_changes_nothing() -> None:
    clip = eighths_clip()
    assert apply_feel(clip, QuantitativeParams(), amount=0.0, rng=random.Random(1)).notes == clip.notes


def test_feel_is_deterministic_for_a_seed() -> None:
    clip = eighths_clip()
    params = QuantitativeParams(timing_jitter_ms=8.0)
    a = apply_feel(clip, params, amount=0.8, rng=random.Random(7))
    b = apply_feel(clip, params, amount=0.8, rng=random.Random(7))
    c = apply_feel(clip, params, amount=0.8, rng=random.Random(8))
    assert a.notes == b.notes
    assert a.notes != c.notes
    assert [n.pitch for n in a.notes] == [n.pitch for n in clip.notes], "note i stays note i"


def test_per_limb_tendencies() -> None:
    clip = eighths_clip(bars=16)
    params = QuantitativeParams(timing_jitter_ms=1.0, microtiming_ms={"snare": 15.0, "hihat_closed": -6.0})
    played = apply_feel(clip, params, amount=1.0, rng=random.Random(3))

    def mean_ms(pitch: int) -> float:
        offsets = [
            p.time - n.time
            for n, p in zip(clip.notes, played.notes, strict=True)
            if n.pitch == pitch and n.time
        ]
        return ticks_to_seconds(statistics.mean(offsets), 120.0, 480) * 1000

    assert mean_ms(SNARE) == pytest.approx(15.0, abs=2.5), "snare laid back"
    assert mean_ms(HAT) == pytest.approx(-6.0, abs=2.0), "hats on top"
    assert abs(mean_ms(KICK)) < 3.0


def test_drift_is_correlated_not_white_noise() -> None:
    clip = eighths_clip(bars=32)
    played = apply_feel(clip, QuantitativeParams(timing_jitter_ms=10.0), amount=1.0, rng=random.Random(5))
    offsets = [
        p.time - n.time for n, p in zip(clip.notes, played.notes, strict=True) if n.pitch == HAT and n.time
    ]
    mean = statistics.mean(offsets)
    centred = [o - mean for o in offsets]
    lag1 = sum(a * b for a, b in itertools.pairwise(centred)) / sum(a * a for a in centred)
    assert lag1 > 0.35, f"an AR(1) drift has memory (lag-1 autocorrelation {lag1:.2f})"
    spread_ms = ticks_to_seconds(statistics.pstdev(offsets), 120.0, 480) * 1000
    # Over 32 bars this includes the whole kit's slow breathing against the grid; within 2 bars
    # the GMD's players sit 10-40 ms around the click.
    assert 20.0 < spread_ms < 70.0, "10 ms of profile jitter at humanize 1: a loose but GMD-like spread"


def test_velocity_follows_the_accent_cycle() -> None:
    clip = eighths_clip(bars=8)
    params = QuantitativeParams(accent_strength=1.0, velocity_std=6.0)
    played = apply_feel(clip, params, amount=1.0, rng=random.Random(2), hat_accent="beat")
    pairs = [(n.time, p.velocity) for n, p in zip(clip.notes, played.notes, strict=True) if n.pitch == HAT]
    on = [v for t, v in pairs if t % 480 == 0]
    off = [v for t, v in pairs if t % 480 != 0]
    assert statistics.mean(on) > statistics.mean(off) + 8
    assert len(set(on)) > 1, "small variation, not a stamp"
    assert all(1 <= n.velocity <= 127 for n in played.notes)


@pytest.mark.parametrize("seed", range(5))
def test_no_accidental_flams_and_nothing_outside(seed: int) -> None:
    # 32nd hats at 200 bpm (75 ms apart) and huge drift: neighbours must stay >= 25 ms apart.
    bars, tempo = 4, 200.0
    notes = [Note(HAT, 80, t, 30) for t in range(0, bars * 1920, 60)]
    notes += [Note(SNARE, 100, t, 30) for t in range(0, bars * 1920, 480)]
    clip = Clip(notes=notes, tempo_bpm=tempo, bars=bars)
    params = QuantitativeParams(timing_jitter_ms=40.0, microtiming_ms={"hihat_closed": -30.0, "snare": 30.0})
    played = apply_feel(clip, params, amount=1.0, rng=random.Random(seed))
    gap = min_gap_ticks(tempo, 480)
    for pitch in (HAT, SNARE):
        times = sorted(n.time for n in played.notes if n.pitch == pitch)
        assert all(b - a >= gap - 1 for a, b in itertools.pairwise(times))
        assert all(ticks_to_seconds(b - a, tempo, 480) * 1000 >= 25.0 for a, b in itertools.pairwise(times))
    assert all(0 <= n.time < clip.length_ticks for n in played.notes)
    for before, after in zip(clip.notes, played.notes, strict=True):
        assert after.time // 1920 <= before.time // 1920, "never pushed into the next bar"


def test_written_flams_are_kept() -> None:
    notes = [Note(SNARE, 50, 470, 10), Note(SNARE, 110, 480, 60)]
    clip = Clip(notes=notes, tempo_bpm=120.0, bars=1)
    played = apply_feel(clip, QuantitativeParams(timing_jitter_ms=20.0), amount=1.0, rng=random.Random(1))
    grace, main = played.notes
    assert main.time - grace.time >= 10, "a written flam never closes up"


def test_bad_amount() -> None:
    with pytest.raises(ValueError, match="humanize amount"):
        apply_feel(eighths_clip(), QuantitativeParams(), amount=1.5, rng=random.Random(1))


def test_measured_swing_percent_agrees_with_the_analysis() -> None:
    import numpy as np

    from mididrumigen.analysis.midi_features import measure_swing_percent
    from mididrumigen.midi.humanize import measured_swing_percent

    rng = random.Random(3)
    close = 0
    for _ in range(300):
        pair = rng.choice([480, 240])
        swing = rng.uniform(50, 70)
        ticks = []
        for _ in range(rng.randint(0, 100)):
            start = rng.randrange(64) * pair
            place = rng.choice([0.0, 0.0, swing / 100, swing / 100, 0.25, 0.75])
            ticks.append(max(0, round(start + place * pair + rng.gauss(0, pair * 0.05))))
        ours = measured_swing_percent(ticks, pair)
        theirs = measure_swing_percent(np.array(ticks, dtype=float) / pair, 1.0)
        close += abs(ours - theirs) < 0.5
    # Exact ties at window edges fall either way with float rounding; anything else agrees.
    assert close >= 290


def test_measured_swing_percent_is_the_same_wherever_the_grid_sits() -> None:
    from mididrumigen.midi.humanize import measured_swing_percent

    rng = random.Random(5)
    ticks = []
    for pair in range(128):  # 16th pairs of 240 ticks, starts played up to 20 % early
        ticks.append(pair * 240 + round(240 * rng.uniform(-0.2, 0.02)) + 48)
        ticks.append(pair * 240 + round(240 * (0.56 + rng.gauss(0, 0.015))) + 48)
    measured = [measured_swing_percent([t + shift for t in ticks], 240) for shift in (0, 5, 10, 15)]
    assert max(measured) - min(measured) < 0.2
