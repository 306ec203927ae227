"""Profile building: weighting, half/double tempo folding, outliers, built-in merge, monotone confidence."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mididrumigen.profile import USABLE_CONFIDENCE, QuantitativeParams, StyleProfile
from mididrumigen.research.collectors.base import SourceRecord
from mididrumigen.research.profile_builder import (
    BuildReport,
    build_profile,
    coverage,
    merge_records,
    robust_mean,
    tempo_consensus,
)

STYLE_KEYS = ["rock", "funk", "jazz_swing", "hard_rock", "soul_motown", "metal"]


def audio(tempo: float, confidence: float = 0.8, **facts: object) -> SourceRecord:
    return SourceRecord(
        "audio",
        f"https://v/{tempo}-{confidence}-{len(facts)}",
        "rec",
        "",
        {"tempo_measured_bpm": tempo, **facts},
        confidence,
    )


def article(styles: dict[str, int], tempos: list[float] | None = None, url: str = "a") -> SourceRecord:
    facts: dict[str, object] = {"style_votes": styles, "styles": list(styles)}
    if tempos:
        facts["tempo_bpm"] = tempos
    return SourceRecord("article", url, "page", "", facts, 0.8)


def test_half_and_double_tempo_fold_into_one_cluster() -> None:
    consensus = tempo_consensus([(90.0, 1.0), (180.0, 0.6), (45.5, 0.3), (91.0, 0.8)])
    assert consensus is not None
    assert consensus.agreement == pytest.approx(1.0)
    assert 89.0 <= consensus.typical_bpm <= 92.0  # the octave most weight sits in
    assert consensus.outliers_bpm == ()


def test_a_far_tempo_is_an_outlier_and_lowers_agreement() -> None:
    consensus = tempo_consensus([(100.0, 1.0), (101.0, 1.0), (128.0, 0.5)])
    assert consensus is not None
    assert consensus.outliers_bpm == (128.0,)
    assert consensus.agreement == pytest.approx(2.0 / 2.5)
    assert 100.0 <= consensus.typical_bpm <= 101.0


def test_robust_mean_drops_mad_outliers_only_with_enough_values() -> None:
    mean, dropped = robust_mean([(0.1, 1.0), (0.12, 1.0), (0.11, 1.0), (0.9, 1.0)]) or (0.0, [])
    assert dropped == [0.9] and mean == pytest.approx(0.11)
    mean, dropped = robust_mean([(0.1, 1.0), (0.9, 1.0)]) or (0.0, [])
    assert dropped == [] and mean == pytest.approx(0.5)
    assert robust_mean([]) is None


def test_weights_follow_source_confidence() -> None:
    strong = audio(100.0, 0.9, swing_percent=60.0)
    weak = audio(100.0, 0.1, swing_percent=52.0)
    profile = build_profile("X", [strong, weak])
    assert profile.quantitative_params.swing_percent > 58.0


def test_an_unknown_drummer_profile_rests_on_its_sources() -> None:
    records = [
        article({"funk": 3, "soul_motown": 1}, [100.0], url="w"),
        audio(99.0, ghost_note_share=0.3, microtiming_ms={"snare": 12.0}),
        audio(198.0, 0.7),  # double-time reading of the same groove
        SourceRecord(
            "midi",
            "m",
            "m.mid",
            "",
            {
                "tempo_measured_bpm": 101.0,
                "velocity_mean": 88.0,
                "velocity_std": 20.0,
                "template_path": "/t/m.mid",
                "time_signatures": [[4, 4]],
            },
            0.6,
        ),
    ]
    report = BuildReport()
    profile = build_profile("Tessa Marlowe", records, None, report)
    params = profile.quantitative_params
    assert profile.styles[:2] == ["funk", "soul_motown"]
    assert 98.0 <= params.tempo_typical <= 101.0
    assert params.tempo_min <= 90.0 and params.tempo_max >= 109.0
    assert params.ghost_note_prob == pytest.approx(0.3)
    assert params.microtiming_ms["snare"] == pytest.approx(12.0)
    assert params.velocity_mean == pytest.approx(88.0)
    assert profile.midi_templates == ["/t/m.mid"]
    assert profile.sources_count == {"paper": 0, "article": 1, "audio": 2, "midi": 1}
    assert report.tempo_agreement == pytest.approx(1.0)
    assert 0.0 < profile.confidence_score < 1.0
    assert "Tessa Marlowe plays funk" in profile.text_description
    assert "1 article, 2 recordings, 1 MIDI file" in profile.text_description


def test_no_style_named_falls_back_and_says_so() -> None:
    profile = build_profile("Y", [audio(120.0)])
    assert profile.styles == ["rock"]
    assert "a guess" in profile.text_description


def test_builtin_knowledge_is_merged() -> None:
    builtin = StyleProfile(
        artist_name="John Bonham",
        text_description="Led Zeppelin's drummer.",
        quantitative_params=QuantitativeParams(
            tempo_min=65, tempo_max=175, tempo_typical=90, swing_percent=50, microtiming_ms={"snare": 8.0}
        ),
        styles=["hard_rock", "rock"],
        signature_traits=["single-pedal bass-drum triplets"],
        aliases=["Bonzo"],
        confidence_score=0.85,
    )
    alone = build_profile("bonham", [], builtin)
    assert alone.artist_name == "John Bonham" and alone.aliases == ["Bonzo"]
    assert alone.confidence_score == pytest.approx(0.85)  # built-in knowledge keeps its own confidence
    assert alone.confidence_score >= USABLE_CONFIDENCE
    assert alone.sources_count["builtin"] == 1
    researched = build_profile(
        "bonham", [audio(92.0, microtiming_ms={"snare": 12.0}), article({"hard_rock": 2})], builtin
    )
    assert researched.styles[0] == "hard_rock"
    assert researched.signature_traits[0] == "single-pedal bass-drum triplets"
    assert 90.0 <= researched.quantitative_params.tempo_typical <= 92.0
    assert 8.0 < researched.quantitative_params.microtiming_ms["snare"] < 12.0
    assert researched.quantitative_params.tempo_min == 65 and researched.quantitative_params.tempo_max == 175
    assert researched.confidence_score > alone.confidence_score
    assert researched.text_description.startswith("Led Zeppelin's drummer.")


def test_conflicting_sources_lower_confidence() -> None:
    agreeing = [audio(100.0), audio(101.0), article({"funk": 2}, url="a1"), article({"funk": 1}, url="a2")]
    conflicting = [
        audio(100.0),
        audio(127.0),
        article({"funk": 2}, url="a1"),
        article({"metal": 1}, url="a2"),
    ]
    assert build_profile("Z", agreeing).confidence_score > build_profile("Z", conflicting).confidence_score


def test_merge_records_skips_known_urls() -> None:
    old = [audio(100.0)]
    again = audio(100.0)
    fresh = article({"funk": 1}, url="new")
    assert merge_records(old, [again, fresh]) == [old[0], fresh]


def test_coverage_never_drops() -> None:
    assert coverage([]) == 0.0
    assert coverage([0.5]) == 0.5
    assert coverage([0.5, 0.5]) == 0.75


records_strategy = st.lists(
    st.one_of(
        st.builds(
            lambda t, c: audio(t, c),
            st.floats(50, 240),
            st.floats(0.05, 1.0),
        ),
        st.builds(
            lambda votes, c, url: SourceRecord("article", url, "p", "", {"style_votes": votes}, c),
            st.dictionaries(st.sampled_from(STYLE_KEYS), st.integers(1, 4), min_size=1, max_size=3),
            st.floats(0.05, 1.0),
            st.text(min_size=1, max_size=5),
        ),
        st.builds(
            lambda t, c: SourceRecord("paper", "p", "p", "", {"tempo_bpm": t}, c),
            st.lists(st.floats(60, 200), min_size=1, max_size=3),
            st.floats(0.05, 1.0),
        ),
    ),
    min_size=0,
    max_size=8,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    records=records_strategy,
    kind=st.sampled_from(["audio", "midi", "article", "paper"]),
    confidence=st.floats(0.05, 1.0),
)
def test_confidence_never_drops_when_an_agreeing_source_is_added(
    records: list[SourceRecord], kind: str, confidence: float
) -> None:
    before = build_profile("Q", records)
    params = before.quantitative_params
    facts: dict[str, object] = {"style_votes": {before.styles[0]: 1}}
    if kind in ("audio", "midi"):
        facts["tempo_measured_bpm"] = params.tempo_typical
    else:
        facts["tempo_bpm"] = [params.tempo_typical]
    agreeing = SourceRecord(kind, "agree", "agreeing source", "", facts, confidence)
    after = build_profile("Q", [*records, agreeing])
    assert after.confidence_score >= before.confidence_score - 1e-9
    assert after.styles[0] == before.styles[0]


def midi(tempo: float, **facts: object) -> SourceRecord:
    return SourceRecord(
        "midi", f"https://m/{tempo}-{len(facts)}", "file", "", {"tempo_measured_bpm": tempo, **facts}, 0.75
    )


def test_swing_of_a_recording_read_in_half_time_is_its_16ths() -> None:
    # Fast jazz at 216 heard at 108: the recording's 8ths are the tune's beats (straight), its
    # 16ths the tune's swung 8ths.
    jazz = article({"jazz_swing": 3}, [210.0, 220.0])
    files = [midi(216.0, swing_percent=65.0, swing_percent_16th=50.0), midi(214.0, swing_percent=64.0)]
    recording = audio(108.0, 0.9, swing_percent=50.5, swing_percent_16th=66.0)
    params = build_profile("X", [jazz, *files, recording]).quantitative_params
    assert params.tempo_typical > 200.0
    assert params.swing_percent == pytest.approx(65.0, abs=1.0)


def test_swing_of_a_recording_read_at_double_is_taken_for_16th_styles_only() -> None:
    # A shuffle-funk groove at 95 read at 190: the recording's 8ths are the groove's 16ths.
    funk = article({"funk": 3}, [95.0])
    files = [midi(95.0, swing_percent=50.0, swing_percent_16th=58.0) for _ in range(2)]
    recording = audio(190.0, 0.9, swing_percent=60.0, swing_percent_16th=50.0)
    profile = build_profile("X", [funk, *files, recording])
    assert profile.styles[0] == "funk"
    assert profile.quantitative_params.swing_percent == pytest.approx(58.5, abs=1.0)
    # Its 8ths are a 16th-unit style's 16ths; for an 8th-unit style it measured nothing.
    rock = article({"rock": 3}, [95.0])
    params = build_profile("Y", [rock, *files, recording]).quantitative_params
    assert params.swing_percent == pytest.approx(50.0, abs=0.5)


def test_swing_of_another_song_at_another_tempo_counts() -> None:
    # Not an octave of the others: another song, measured on its own grid.
    files = [midi(120.0, swing_percent=52.0) for _ in range(2)]
    params = build_profile("X", [*files, audio(90.0, 0.9, swing_percent=66.0)]).quantitative_params
    assert params.swing_percent > 55.0
    # Text mentions of another tempo do not decide which level a recording is read at.
    pages = [article({"rock": 1}, [140.0], url=f"p{i}") for i in range(5)]
    lone = audio(118.0, 0.9, swing_percent=60.0, swing_percent_16th=50.0)
    assert build_profile("Y", [*pages, lone]).quantitative_params.swing_percent == pytest.approx(60.0)
