"""The groove engine: valid, reproducible, distinct variations with fills, crashes and the profile's feel."""

from __future__ import annotations

import itertools
from collections import Counter
from pathlib import Path

import pytest

from mididrumigen.generation.groove_engine import generate_grooves, resolve_settings
from mididrumigen.generation.library import IndexEntry, TemplateLibrary
from mididrumigen.generation.request import GenerationRequest
from mididrumigen.generation.styles import STYLES, get_style
from mididrumigen.midi.kit import CLASS_BY_PITCH, GM_PITCH_BY_PIECE
from mididrumigen.midi.notes import SUPPORTED_TIME_SIGNATURES, Clip, ticks_to_seconds
from mididrumigen.profile import QuantitativeParams, StyleProfile

GM_PITCHES = set(GM_PITCH_BY_PIECE.values())
TOMS = {GM_PITCH_BY_PIECE[p] for p in ("tom_high", "tom_mid", "tom_low", "tom_floor")}
CRASH = GM_PITCH_BY_PIECE["crash"]
KICK = GM_PITCH_BY_PIECE["kick"]


def assert_valid(clip: Clip, bars: int, meter: tuple[int, int]) -> None:
    """Pitches in the GM map, velocities 1-127, times inside the clip, exact length, no accidental flams."""
    assert clip.bars == bars
    assert clip.time_signature == meter
    assert clip.ticks_per_beat == 480
    assert clip.length_ticks == bars * clip.ticks_per_bar
    assert clip.notes, "a groove has notes"
    last_by_pitch: dict[int, int] = {}
    for note in sorted(clip.notes, key=lambda n: (n.time, n.pitch)):
        assert note.pitch in GM_PITCHES
        assert 1 <= note.velocity <= 127
        assert 0 <= note.time < clip.length_ticks
        assert note.duration >= 1
        previous = last_by_pitch.get(note.pitch)
        if previous is not None:
            gap_ms = ticks_to_seconds(note.time - previous, clip.tempo_bpm, 480) * 1000
            assert gap_ms >= 25.0, f"flam on pitch {note.pitch} at {note.time} ({gap_ms:.1f} ms)"
        last_by_pitch[note.pitch] = note.time


def ghost_share(clip: Clip) -> float:
    """The shared definition: snare hits below half the 90th percentile of the clip's snare velocities."""
    velocities = sorted(n.velocity for n in clip.notes if CLASS_BY_PITCH.get(n.pitch) == "snare")
    if not velocities:
        return 0.0
    position = (len(velocities) - 1) * 0.9
    low = int(position)
    high = min(low + 1, len(velocities) - 1)
    accent = velocities[low] + (velocities[high] - velocities[low]) * (position - low)
    return sum(v < 0.5 * accent for v in velocities) / len(velocities)


def core_hits(clip: Clip) -> set[tuple[int, str]]:
    """The core of a groove: kick hits and the louder snare-class hits of the first bar."""
    first = [n for n in clip.notes if n.time < clip.ticks_per_bar]
    snare = [n.velocity for n in first if CLASS_BY_PITCH.get(n.pitch) == "snare"]
    loud = 0.5 * max(snare, default=0)
    return {
        (n.time, CLASS_BY_PITCH[n.pitch])
        for n in first
        if CLASS_BY_PITCH.get(n.pitch) == "kick"
        or (CLASS_BY_PITCH.get(n.pitch) == "snare" and n.velocity >= loud)
    }


def best_achievable_error(clip: Clip, target: float) -> float:
    """How close a ghost share can get to the target with this clip's number of non-ghost snare hits."""
    share = ghost_share(clip)
    snare = sum(1 for n in clip.notes if CLASS_BY_PITCH.get(n.pitch) == "snare")
    main = round(snare * (1 - share))
    return min(abs(g / (main + g) - target) for g in range(0, 4 * main + 1)) if main else 0.0


def profile(**params: object) -> StyleProfile:
    return StyleProfile(
        artist_name="Test Drummer",
        text_description="",
        quantitative_params=QuantitativeParams(**params),  # type: ignore[arg-type]
        styles=["rock"],
    )


@pytest.mark.parametrize("key", sorted(STYLES))
def test_every_style_meter_and_length_gives_valid_clips(key: str) -> None:
    for meter in SUPPORTED_TIME_SIGNATURES:
        for bars in range(1, 17):
            request = GenerationRequest(
                style=key, bars=bars, variations=1 + bars % 2, time_signature=meter, seed=bars
            )
            clips = generate_grooves(request)
            assert len(clips) == request.variations
            for clip in clips:
                assert_valid(clip, bars, meter)


@pytest.mark.parametrize("tempo", [40.0, 300.0])
def test_extreme_tempi_stay_valid(tempo: float) -> None:
    for key in ("trap", "metal", "gospel", "country_train", "samba"):
        for clip in generate_grooves(
            GenerationRequest(style=key, bars=4, variations=4, tempo_bpm=tempo, seed=3)
        ):
            assert_valid(clip, 4, clip.time_signature)


def test_names_tempo_and_meta() -> None:
    clips = generate_grooves(GenerationRequest(artist="John Bonham", style="hard_rock", variations=3, seed=5))
    assert [c.name for c in clips] == [f"John Bonham - Variation {n}" for n in (1, 2, 3)]
    assert all(c.tempo_bpm == get_style("hard_rock").tempo_typical for c in clips)
    assert clips[0].meta["seed"] == 5
    untitled = generate_grooves(GenerationRequest(style="funk", variations=1, seed=5))
    assert untitled[0].name == "Funk - Variation 1"


def test_seed_reproduces_byte_for_byte() -> None:
    request = GenerationRequest(style="funk", bars=8, variations=4, seed=1234, humanize=0.8)
    first = [c.to_json() for c in generate_grooves(request)]
    second = [c.to_json() for c in generate_grooves(request)]
    assert first == second
    other = [
        c.to_json() for c in generate_grooves(GenerationRequest(style="funk", bars=8, variations=4, seed=99))
    ]
    assert other != first


def test_random_seed_is_recorded_and_replays() -> None:
    clips = generate_grooves(GenerationRequest(style="rock", variations=2))
    seed = clips[0].meta["seed"]
    assert isinstance(seed, int) and 0 <= seed < 1_000_000  # short enough to read back and type
    replay = generate_grooves(GenerationRequest(style="rock", variations=2, seed=seed))
    assert [c.to_json() for c in replay] == [c.to_json() for c in clips]


@pytest.mark.parametrize("key", sorted(STYLES))
def test_variations_are_distinct_and_share_the_core(key: str) -> None:
    for bars in (1, 4):
        clips = generate_grooves(GenerationRequest(style=key, bars=bars, variations=8, seed=7, humanize=0.0))
        grids = [frozenset((n.time, n.pitch) for n in c.notes) for c in clips]
        assert len(set(grids)) == 8, f"{key}: identical variations at {bars} bars"
        cores = [core_hits(c) for c in clips]
        for other in cores[1:]:
            overlap = len(cores[0] & other) / max(1, len(cores[0]))
            assert overlap >= 0.3, f"{key}: a variation lost the core"


def _bar_of(clip: Clip, time: int) -> int:
    return time // clip.ticks_per_bar


@pytest.mark.parametrize("humanize", [0.0, 1.0])
def test_fills_sit_at_phrase_ends_inside_their_bar(humanize: float) -> None:
    busy = profile(fill_density=1.0, timing_jitter_ms=15.0)
    for seed in range(6):
        request = GenerationRequest(
            artist="X", style="rock", bars=10, variations=4, seed=seed, humanize=humanize
        )
        for clip in generate_grooves(request, busy):
            tom_bars = {_bar_of(clip, n.time) for n in clip.notes if n.pitch in TOMS}
            assert tom_bars <= {3, 7, 9}, "toms only in fills at bars 4, 8 and the last bar"
            assert 9 in tom_bars or 7 in tom_bars or 3 in tom_bars


def test_fill_never_crosses_the_bar_line() -> None:
    # Laid-back toms and heavy drift: fill hits written near the bar end still stay in their bar.
    late = profile(
        fill_density=1.0,
        timing_jitter_ms=30.0,
        microtiming_ms={"tom_floor": 40.0, "tom_high": 40.0, "tom_mid": 40.0, "tom_low": 40.0, "snare": 40.0},
    )
    for seed in range(10):
        request = GenerationRequest(artist="X", style="rock", bars=4, variations=2, seed=seed, humanize=1.0)
        for clip in generate_grooves(request, late):
            toms = [n for n in clip.notes if n.pitch in TOMS]
            assert all(3 * clip.ticks_per_bar <= n.time < 4 * clip.ticks_per_bar for n in toms)


def test_crash_and_kick_on_the_downbeat_after_a_fill() -> None:
    for seed in range(5):
        for clip in generate_grooves(
            GenerationRequest(style="rock", bars=8, variations=3, seed=seed, humanize=0)
        ):
            at = {(n.time, n.pitch) for n in clip.notes}
            downbeat = 4 * clip.ticks_per_bar
            assert (downbeat, CRASH) in at and (downbeat, KICK) in at
            assert (0, CRASH) in at, "the loop's first downbeat answers the last bar's fill"
            crashes = {n.time for n in clip.notes if n.pitch == CRASH}
            assert crashes <= {0, downbeat}


def test_no_crash_where_the_style_or_the_profile_says_no() -> None:
    funk = generate_grooves(GenerationRequest(style="funk", bars=8, variations=2, seed=1))
    assert not any(n.pitch == CRASH for c in funk for n in c.notes)
    quiet = profile(crash_after_fill=False)
    rock = generate_grooves(GenerationRequest(artist="X", style="rock", bars=8, variations=2, seed=1), quiet)
    assert not any(n.pitch == CRASH for c in rock for n in c.notes)


def test_humanize_zero_is_on_the_grid_and_humanize_moves_hits() -> None:
    grid = generate_grooves(GenerationRequest(style="rock", bars=4, variations=4, seed=2, humanize=0.0))
    for clip in grid:
        assert all(n.time % 120 == 0 or n.time % 160 == 0 for n in clip.notes)
    played = generate_grooves(GenerationRequest(style="rock", bars=4, variations=4, seed=2, humanize=0.7))
    off = sum(1 for c in played for n in c.notes if n.time % 120 and n.time % 160)
    assert off > 0.5 * sum(len(c.notes) for c in played)


def test_humanize_zero_gives_straight_velocities_per_accent_class() -> None:
    clip = generate_grooves(GenerationRequest(style="rock", bars=2, variations=1, seed=2, humanize=0.0))[0]
    backbeats = {n.velocity for n in clip.notes if n.pitch == 38 and n.time % 960 == 480}
    assert len(backbeats) == 1


def _hat_velocity_by_place(style: str) -> tuple[float, float]:
    """Mean closed-hat velocity on the beats and on the '&'s over many seeds, humanized."""
    on: list[int] = []
    off: list[int] = []
    for seed in range(10):
        for clip in generate_grooves(
            GenerationRequest(style=style, bars=4, variations=2, seed=seed, tempo_bpm=100.0)
        ):
            for n in clip.notes:
                if n.pitch == 42:
                    place = round((n.time % 480) / 120) % 4
                    (on if place == 0 else off if place == 2 else []).append(n.velocity)
    return sum(on) / len(on), sum(off) / len(off)


def test_hats_in_eighths_accent_the_beat_as_a_drummer_does() -> None:
    # The GMD's rock drummers play the beat's hat about 20 velocity steps over the '&' (median 21).
    on, off = _hat_velocity_by_place("rock")
    assert on - off > 15
    # Reggae's hat leans on the '&' instead (GMD: about 28 steps).
    on, off = _hat_velocity_by_place("reggae_one_drop")
    assert off - on > 10


def test_swing_follows_the_profile_and_the_style() -> None:
    swung = profile(swing_percent=60.0)
    clip = generate_grooves(
        GenerationRequest(artist="X", style="rock", bars=1, variations=1, seed=1, humanize=0), swung
    )[0]
    hats = sorted(n.time for n in clip.notes if n.pitch == 42)
    assert 288 in hats and 240 not in hats
    jazz = generate_grooves(GenerationRequest(style="jazz_swing", bars=1, variations=1, seed=1, humanize=0))[
        0
    ]
    ride = sorted(n.time for n in jazz.notes if n.pitch == 51)
    assert round(480 * 0.64) + 480 in ride, "the skip note of 'ding ding-a ding' at the style's swing"
    compound = generate_grooves(
        GenerationRequest(
            artist="X", style="rock", bars=1, variations=1, seed=1, humanize=0, time_signature=(6, 8)
        ),
        swung,
    )[0]
    assert all(n.time % 240 == 0 for n in compound.notes if n.pitch == 42), "no swing in 6/8"


@pytest.mark.parametrize("target", [0.0, 0.1, 0.25, 0.45, 0.6])
@pytest.mark.parametrize("key", ["rock", "funk", "halftime_shuffle", "gospel", "jazz_swing", "boom_bap"])
def test_ghost_share_meets_the_target(key: str, target: float) -> None:
    drummer = profile(ghost_note_prob=target)
    for seed in range(3):
        request = GenerationRequest(artist="X", style=key, bars=4, variations=4, seed=seed, humanize=0.8)
        for clip in generate_grooves(request, drummer):
            error = abs(ghost_share(clip) - target)
            assert error <= max(0.05, best_achievable_error(clip, target) + 1e-9), (key, target, error)


def test_profile_resolves_tempo_swing_and_style() -> None:
    drummer = StyleProfile(
        artist_name="Jazz Cat",
        text_description="",
        quantitative_params=QuantitativeParams(tempo_typical=400.0, swing_percent=62.0),
        styles=["jazz_swing"],
    )
    settings = resolve_settings(GenerationRequest(artist="Jazz Cat"), drummer)
    assert settings.style.key == "jazz_swing"
    assert settings.tempo_bpm == get_style("jazz_swing").tempo_max
    assert settings.swing_percent == 62.0
    assert settings.meter == (4, 4)
    other = resolve_settings(GenerationRequest(artist="Jazz Cat", style="rock", tempo_bpm=90), drummer)
    assert other.tempo_bpm == 90 and other.swing_percent == 50.0
    with pytest.raises(ValueError, match="unknown style"):
        generate_grooves(GenerationRequest(style="polka"))


def test_jazz_waltz_shape() -> None:
    clip = generate_grooves(GenerationRequest(style="jazz_waltz", bars=2, variations=1, seed=1, humanize=0))[
        0
    ]
    assert clip.time_signature == (3, 4)
    first = [n for n in clip.notes if n.time < clip.ticks_per_bar]
    ride = {n.time for n in first if n.pitch == 51}
    assert {0, 480, 960} <= ride
    assert {n.time for n in first if n.pitch == 44} == {480, 960}, "hat foot on 2 and 3"


def test_blues_12_8_shape() -> None:
    clip = generate_grooves(GenerationRequest(style="blues_12_8", bars=4, variations=1, seed=1, humanize=0))[
        0
    ]
    assert clip.time_signature == (12, 8)
    bar = [n for n in clip.notes if clip.ticks_per_bar <= n.time < 2 * clip.ticks_per_bar]
    hats = sorted(n.time - clip.ticks_per_bar for n in bar if n.pitch == 42)
    assert hats == list(range(0, 2880, 240)), "triplet pulse on every 8th"
    assert sorted(n.time - clip.ticks_per_bar for n in bar if n.pitch == 38 and n.velocity > 80) == [
        720,
        2160,
    ]


def test_trap_hat_rolls() -> None:
    for clip in generate_grooves(GenerationRequest(style="trap", bars=4, variations=4, seed=3, humanize=0)):
        hats = sorted(n.time for n in clip.notes if n.pitch == 42)
        gaps = Counter(b - a for a, b in itertools.pairwise(hats))
        assert any(g < 120 for g in gaps), "32nd or triplet rolls"


def test_metal_double_kick_sixteenths() -> None:
    clip = generate_grooves(GenerationRequest(style="metal", bars=4, variations=1, seed=1, humanize=0))[0]
    kicks = {n.time for n in clip.notes if n.pitch == KICK and n.time < clip.ticks_per_bar}
    assert kicks == set(range(0, 1920, 120))


def test_house_four_on_the_floor_and_open_hat_offbeats() -> None:
    for clip in generate_grooves(GenerationRequest(style="house", bars=4, variations=4, seed=1, humanize=0)):
        for bar in range(3):
            start = bar * clip.ticks_per_bar
            kicks = {n.time - start for n in clip.notes if n.pitch == KICK and start <= n.time < start + 1920}
            assert {0, 480, 960, 1440} <= kicks
        opens = {n.time % 480 for n in clip.notes if n.pitch == 46}
        assert opens and all(abs(t - 240) <= 20 for t in opens)


def fill_bar_kick_sets(style: str) -> list[set[int]]:
    """Kick ticks in the fill bar (the 4th) of every unhumanized 4-bar variation over four seeds."""
    out = []
    for seed in range(4):
        for clip in generate_grooves(
            GenerationRequest(style=style, bars=4, variations=4, seed=seed, humanize=0)
        ):
            start = 3 * clip.ticks_per_bar
            out.append({n.time - start for n in clip.notes if n.pitch == KICK and n.time >= start})
    return out


@pytest.mark.parametrize("style", ["disco", "house"])
def test_four_on_the_floor_kick_keeps_going_under_the_fill(style: str) -> None:
    assert all({0, 480, 960, 1440} <= kicks for kicks in fill_bar_kick_sets(style))


def test_a_rock_fill_still_takes_the_kick_out_from_under_it() -> None:
    assert any(not {0, 480, 960, 1440} <= kicks for kicks in fill_bar_kick_sets("rock"))


def test_the_hat_foot_keeps_its_pattern_when_the_hand_moves_to_the_ride() -> None:
    # Samba's foot chicks on the '&'s; the variation on the ride must not move it onto the snare accents.
    pedal = GM_PITCH_BY_PIECE["hihat_pedal"]
    ride = GM_PITCH_BY_PIECE["ride"]
    clips = generate_grooves(GenerationRequest(style="samba", bars=2, variations=3, seed=1, humanize=0))
    swapped = clips[2]  # the third variation plays the ride
    assert any(n.pitch == ride for n in swapped.notes)
    for clip in clips:
        chicks = {n.time % 480 for n in clip.notes if n.pitch == pedal and n.time < clip.ticks_per_bar}
        assert chicks == {240}


def test_the_hat_pedal_sounds_at_a_played_level() -> None:
    # The GMD's pedal chicks (pitch 44) have a median velocity of 67 (quartiles 47-82).
    clip = generate_grooves(GenerationRequest(style="jazz_swing", bars=2, variations=1, seed=1, humanize=0))[
        0
    ]
    chicks = [n.velocity for n in clip.notes if n.pitch == GM_PITCH_BY_PIECE["hihat_pedal"]]
    assert chicks and all(50 <= v <= 85 for v in chicks)


GMD = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "gmd"


@pytest.mark.skipif(not GMD.exists(), reason="the GMD corpus is not on this machine")
@pytest.mark.parametrize("meter", [(4, 4), (3, 4), (7, 8)])
def test_a_real_human_template_becomes_a_variation(meter: tuple[int, int]) -> None:
    entry = IndexEntry(
        path=str(GMD / "drummer1/session1/1_funk_80_beat_4-4.mid"),
        style="funk",
        tempo_bpm=80.0,
        time_signature=(4, 4),
        bars=40,
        kind="beat",
        tempo_source="csv",
    )
    library = TemplateLibrary(GMD / "unused-index.json", entries=[entry])
    request = GenerationRequest(
        style="funk", bars=4, variations=3, tempo_bpm=104, time_signature=meter, seed=4
    )
    clips = generate_grooves(request, library=library)
    template = clips[-1]
    assert template.meta["source"].startswith("template:")
    assert all(c.meta["source"] == "groove-engine" for c in clips[:-1])
    assert template.name == "Funk - Variation 3"
    assert template.tempo_bpm == 104
    assert_valid(template, 4, meter)
    share = ghost_share(template)
    assert abs(share - get_style("funk").ghost_share) <= max(
        0.05, best_achievable_error(template, 0.5) + 1e-9
    )
    again = generate_grooves(request, library=library)
    assert [c.to_json() for c in again] == [c.to_json() for c in clips]


@pytest.mark.parametrize(
    ("key", "meter", "tempo"),
    [
        ("boom_bap", (3, 4), 78.0),
        ("samba", (4, 4), 130.0),
        ("house", (4, 4), 132.0),
        ("gospel", (7, 8), 120.0),
    ],
)
def test_played_swing_measures_as_requested_on_the_clip_grid(
    key: str, meter: tuple[int, int], tempo: float
) -> None:
    from mididrumigen.midi.humanize import measured_swing_percent

    for clip in generate_grooves(
        GenerationRequest(style=key, bars=8, variations=2, tempo_bpm=tempo, time_signature=meter, seed=17)
    ):
        if not clip.meta["swing_measurable"]:
            continue
        pair = 480 if clip.meta["swing_unit"] == 8 else 240
        measured = measured_swing_percent([n.time for n in clip.notes], pair)
        assert abs(measured - clip.meta["swing_percent"]) <= 2.0, (key, meter, measured)


@pytest.mark.parametrize("meter", [(3, 4), (6, 8), (4, 4)])
def test_ghost_heavy_train_beat_meets_its_ghost_share_in_every_meter(meter: tuple[int, int]) -> None:
    from mididrumigen.analysis.midi_features import analyze_clip

    for clip in generate_grooves(
        GenerationRequest(
            style="country_train", bars=8, variations=2, tempo_bpm=140, time_signature=meter, seed=17
        )
    ):
        share = analyze_clip(clip, trust_tempo=True).ghost_note_share
        assert abs(share - clip.meta["ghost_share_target"]) <= 0.05, (meter, share)


@pytest.mark.parametrize("meter", [(6, 8), (12, 8)])
def test_a_ghost_heavy_sixteenth_style_finds_room_between_the_eighths_in_compound_meters(
    meter: tuple[int, int],
) -> None:
    from mididrumigen.analysis.midi_features import analyze_clip

    heavy = profile(ghost_note_prob=0.6)
    request = GenerationRequest(
        artist="X", style="second_line", bars=8, variations=2, time_signature=meter, seed=17, humanize=0
    )
    for clip in generate_grooves(request, heavy):
        share = analyze_clip(clip, trust_tempo=True).ghost_note_share
        assert abs(share - 0.6) <= 0.05, (meter, share)
        sixteenths = {n.time % 240 for n in clip.notes if n.pitch == 38}
        assert 120 in sixteenths  # the room was found on the 16ths, not by dropping accents


@pytest.mark.parametrize(
    "style", ["rock", "funk", "jazz_swing", "trap", "reggae_one_drop", "bossa_nova", "jazz_waltz"]
)
@pytest.mark.parametrize("meter", [(4, 4), (3, 4), (6, 8)])
def test_short_clips_keep_the_groove_under_their_fill(style: str, meter: tuple[int, int]) -> None:
    # In a 2-bar clip the turnaround (variation 2) fills at most part of the last bar: in 4/4 its last
    # two beats, in 6/8 its last dotted quarter; the time keeping goes on before it.
    keepers = {42, 44, 46, 51, 53}
    for seed in range(25):
        request = GenerationRequest(style=style, bars=2, variations=2, seed=seed, time_signature=meter)
        clip = generate_grooves(request)[1]
        bar = clip.ticks_per_bar
        fill_at_most = bar // 2 if meter == (6, 8) else 2 * clip.ticks_per_beat  # ticks at the bar's end
        before_fill = [
            n for n in clip.notes if bar - 60 <= n.time < 2 * bar - fill_at_most - 60 and n.pitch in keepers
        ]
        assert before_fill, (style, meter, seed)


@pytest.mark.parametrize("style", ["boom_bap", "bossa_nova", "rock"])
def test_a_clip_shorter_than_a_phrase_loops_in_its_first_variation_and_turns_around_in_its_second(
    style: str,
) -> None:
    for seed in range(5):
        plain, turnaround = generate_grooves(
            GenerationRequest(style=style, bars=2, variations=2, seed=seed, humanize=0)
        )
        bar = plain.ticks_per_bar
        first = {(n.time, n.pitch) for n in plain.notes if n.time < bar}
        second = {(n.time - bar, n.pitch) for n in plain.notes if n.time >= bar}
        assert not any(n.pitch in TOMS or n.pitch == CRASH for n in plain.notes), (style, seed)
        assert len(second - first) <= 2, (
            style,
            seed,
        )  # the second bar plays the first (an optional hit or two)
        assert {(n.time - bar, n.pitch) for n in turnaround.notes if n.time >= bar} != {
            (n.time, n.pitch) for n in turnaround.notes if n.time < bar
        }
