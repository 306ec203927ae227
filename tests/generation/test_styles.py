"""The style library: every style is complete data that adapts to every meter."""

from __future__ import annotations

import pytest

from mididrumigen.generation.styles import (
    STYLES,
    TICKS_PER_BEAT,
    get_style,
    meter_groups,
    meter_patterns,
    parse_fill,
    place_fill,
)
from mididrumigen.midi.kit import GM_PITCH_BY_PIECE
from mididrumigen.midi.notes import SUPPORTED_TIME_SIGNATURES, ticks_per_bar

BRIEF_KEYS = [
    "rock",
    "hard_rock",
    "halftime_shuffle",
    "funk",
    "linear_funk",
    "soul_motown",
    "disco",
    "pop",
    "punk",
    "metal",
    "jazz_swing",
    "jazz_waltz",
    "bossa_nova",
    "samba",
    "songo",
    "reggae_one_drop",
    "afrobeat",
    "second_line",
    "boom_bap",
    "trap",
    "house",
    "drum_and_bass",
    "gospel",
    "country_train",
    "blues_12_8",
]


def test_library_has_every_style_of_the_brief() -> None:
    assert len(STYLES) >= 24
    assert set(BRIEF_KEYS) <= set(STYLES)


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("hip hop", "boom_bap"),
        ("boom-bap", "boom_bap"),
        ("Boom Bap", "boom_bap"),
        ("dnb", "drum_and_bass"),
        ("Drum & Bass", "drum_and_bass"),
        ("jazz", "jazz_swing"),
        ("12/8 blues", "blues_12_8"),
        ("Second Line", "second_line"),
        ("FUNK", "funk"),
    ],
)
def test_get_style_accepts_aliases(name: str, key: str) -> None:
    assert get_style(name).key == key


def test_unknown_style_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown style .polka.*rock.*blues_12_8"):
        get_style("polka")


@pytest.mark.parametrize("key", sorted(STYLES))
def test_style_data_is_complete(key: str) -> None:
    style = STYLES[key]
    assert style.tempo_min <= style.tempo_typical <= style.tempo_max
    assert style.swing_unit in (8, 16)
    assert 0.0 <= style.ghost_share < 1.0
    assert style.timekeeper in GM_PITCH_BY_PIECE
    assert set(style.pieces) <= set(GM_PITCH_BY_PIECE)
    beats = {len(f.beats) for f in style.fills}
    assert {1, 2} <= beats and max(beats) >= 4, "fills of one beat, two beats and a bar"
    assert style.compound_fills and all(f.triplet_only for f in style.compound_fills), (
        "fills for compound meters"
    )


@pytest.mark.parametrize("key", sorted(STYLES))
@pytest.mark.parametrize("meter", SUPPORTED_TIME_SIGNATURES)
def test_patterns_adapt_to_every_meter(key: str, meter: tuple[int, int]) -> None:
    patterns = meter_patterns(key, meter)
    bar = ticks_per_bar(meter, TICKS_PER_BEAT)
    assert patterns.bar_ticks == bar
    assert sum(length for _, length in patterns.groups) == bar
    for hits in (patterns.core, *patterns.alts, patterns.vary):
        for hit in hits:
            assert 0 <= hit.tick < bar
            assert hit.piece in GM_PITCH_BY_PIECE
    assert patterns.core, "a groove in every meter"
    assert any(h.tick == 0 for h in patterns.core), "something on the downbeat"
    assert all(0 < t < bar for t in patterns.ghost_grid)


def test_meter_groups() -> None:
    assert [n for _, n in meter_groups((7, 8))] == [480, 480, 720]
    assert [n for _, n in meter_groups((12, 8))] == [720] * 4
    assert [n for _, n in meter_groups((5, 4))] == [480] * 5


def test_jazz_ride_is_ding_ding_a_ding_with_hat_on_two_and_four() -> None:
    core = meter_patterns("jazz_swing", (4, 4)).core
    ride = sorted(h.tick for h in core if h.piece == "ride")
    # The skip note sits on the straight '&' (240) and swings to the triplet with the swing warp.
    assert ride == [0, 480, 720, 960, 1440, 1680]
    assert sorted(h.tick for h in core if h.piece == "hihat_pedal") == [480, 1440]
    kicks = [h for h in core if h.piece == "kick"]
    assert len(kicks) == 4 and all(h.level == "ghost" for h in kicks), "feathered kick on all four"


def test_jazz_waltz_is_in_three() -> None:
    style = get_style("jazz_waltz")
    assert style.meter == (3, 4)
    core = meter_patterns("jazz_waltz", (3, 4)).core
    assert {h.tick for h in core if h.piece == "ride"} >= {0, 480, 960}


def test_blues_is_12_8_with_backbeat_on_the_dotted_quarters() -> None:
    core = meter_patterns("blues_12_8", (12, 8)).core
    assert get_style("blues_12_8").meter == (12, 8)
    assert sorted(h.tick for h in core if h.piece == "hihat_closed") == list(range(0, 2880, 240))
    assert sorted(h.tick for h in core if h.piece == "snare") == [720, 2160]


def test_rock_in_compound_meter_keeps_an_eighth_pulse() -> None:
    core = meter_patterns("pop", (12, 8)).core
    hats = sorted(h.tick for h in core if h.piece == "hihat_closed")
    assert hats == list(range(0, 2880, 240))
    assert not any(h.swings for h in core), "no swing in compound meters"


@pytest.mark.parametrize("meter", [(6, 8), (12, 8)])
@pytest.mark.parametrize("key", sorted(STYLES))
def test_the_time_keeper_of_a_compound_meter_plays_on_its_eighths(key: str, meter: tuple[int, int]) -> None:
    # A compound beat is three 8ths; a cymbal pattern on its dotted 8ths (jazz swing's 6/8 was
    # its 4/4 triplet spang-a-lang on twelve 16ths) is a 4/4 pattern in the wrong grid.
    style = get_style(key)
    core = meter_patterns(key, meter).core
    keeper = [h.tick for h in core if h.piece == style.timekeeper]
    assert keeper, f"{key} keeps no time in {meter[0]}/{meter[1]}"
    assert all(tick % 240 == 0 for tick in keeper), sorted(keeper)


@pytest.mark.parametrize("key", ["jazz_swing", "jazz_waltz"])
def test_jazz_in_six_eight_rides_on_the_eighths(key: str) -> None:
    ride = sorted(h.tick for h in meter_patterns(key, (6, 8)).core if h.piece == "ride")
    assert len(ride) >= 4 and 0 in ride and 720 in ride, ride


def test_seven_eight_drops_the_last_eighth() -> None:
    core = meter_patterns("rock", (7, 8)).core
    assert max(h.tick for h in core) < 1680


@pytest.mark.parametrize(
    ("key", "piece"), [("reggae_one_drop", "cross_stick"), ("trap", "clap"), ("halftime_shuffle", "snare")]
)
def test_a_backbeat_on_three_survives_a_shorter_bar(key: str, piece: str) -> None:
    # Shortening 4/4 keeps the beats that carry the backbeat: the one-drop's drop (and trap's
    # clap, the half-time snare) lands on 3 of a 3/4 bar and on the second dotted quarter of 6/8.
    three = meter_patterns(key, (3, 4)).core
    assert [h.tick for h in three if h.piece == piece and h.level in ("accent", "normal")] == [960]
    six = meter_patterns(key, (6, 8)).core
    assert [h.tick for h in six if h.piece == piece and h.level in ("accent", "normal")] == [720]
    if key == "reggae_one_drop":
        assert [h.tick for h in three if h.piece == "kick"] == [960]


def test_a_two_and_four_backbeat_keeps_its_plain_shortening() -> None:
    three = meter_patterns("rock", (3, 4)).core
    assert sorted(h.tick for h in three if h.piece == "snare" and h.level != "ghost") == [480, 960]


def test_trap_core_has_hat_rolls() -> None:
    core = meter_patterns("trap", (4, 4)).core
    assert any(h.piece == "hihat_closed" and h.offset > 0 for h in core)


def test_punk_fills_are_played_on_the_kit_without_claps() -> None:
    from mididrumigen.generation.groove_engine import generate_grooves
    from mididrumigen.generation.request import GenerationRequest

    clap = GM_PITCH_BY_PIECE["clap"]
    for seed in range(12):  # seed 1 drew the electronic set's clap build before punk had its own fills
        clips = generate_grooves(
            GenerationRequest(style="punk", bars=4, variations=4, tempo_bpm=170.0, seed=seed)
        )
        for clip in clips:
            assert all(n.pitch != clap for n in clip.notes)


def test_fill_parsing_and_placement() -> None:
    fill = parse_fill("SsSs|HhM[FK]")
    assert len(fill.beats) == 2
    groups = meter_groups((4, 4))
    hits = place_fill(fill, groups[2:])
    assert min(h.tick for h in hits) == 960
    assert max(h.tick for h in hits) < 1920
    assert {h.piece for h in hits} == {"snare", "tom_high", "tom_mid", "tom_floor", "kick"}
    # A bar fill in 3/4 keeps its last three beats; a one-beat fill in 5 beats is led in.
    bar_fill = parse_fill("SSSS|HHHH|MMMM|FFFF")
    three = place_fill(bar_fill, meter_groups((3, 4)))
    assert "snare" not in {h.piece for h in three}
    with pytest.raises(ValueError, match="unknown fill glyph"):
        parse_fill("SZ")
