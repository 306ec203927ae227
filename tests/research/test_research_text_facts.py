"""Reading drumming facts out of prose."""

from __future__ import annotations

from mididrumigen.research.collectors.text_facts import (
    artist_mention_score,
    bands_in,
    drumming_score,
    equipment_in,
    extract_facts,
    genres_in,
    songs_in,
    style_votes,
    swing_mentions_percent,
    tempo_mentions_bpm,
    tempo_ranges_bpm,
    time_signatures_in,
)

BONHAM = (
    "John Bonham was an English drummer for the hard rock band Led Zeppelin. Known for his triplets and "
    'ghost notes on "Good Times Bad Times" and the halftime shuffle of "Fool in the Rain" at 130 bpm. '
    'He played a Ludwig Supraphonic snare, a 26" bass drum and Paiste cymbals, at tempos from 70-160 BPM.'
)


def test_tempo_figures_and_ranges_are_told_apart() -> None:
    assert tempo_mentions_bpm(BONHAM) == [130.0]
    assert tempo_ranges_bpm(BONHAM) == [[70.0, 160.0]]
    assert tempo_mentions_bpm("a tempo of about 92, then 400 bpm and 12 bpm") == [92.0]
    assert tempo_ranges_bpm("grooves from 96 to 104 beats per minute") == [[96.0, 104.0]]


def test_swing_mentions_as_percent_or_ratio() -> None:
    assert swing_mentions_percent("a swing of 58% on the hats") == [58.0]
    assert swing_mentions_percent("62% swing") == [62.0]
    assert swing_mentions_percent("a swing ratio of 2.0") == [66.7]
    assert swing_mentions_percent("swing of 20%") == []


def test_styles_match_longest_phrases_first() -> None:
    votes = style_votes("hard rock and more hard rock, with some heavy metal and a halftime shuffle")
    assert votes == {"hard_rock": 2, "metal": 1, "halftime_shuffle": 1}
    assert "rock" not in votes
    assert "house" not in style_votes("the house band of the club")
    assert "trap" not in style_votes("he sat behind the trap set")


def test_a_name_in_title_case_is_no_genre_but_a_genre_in_capitals_is() -> None:
    assert sorted(genres_in("She toured with the Oakland Soul Revue and played R&B and funk.")) == [
        "funk",
        "r&b",
    ]
    assert genres_in("Soul was her first love.") == ["soul"]  # a sentence's first word
    assert sorted(genres_in("Genres:\nJazz\nFunk\nSoul")) == ["funk", "jazz", "soul"]  # one per line


def test_bands_songs_equipment_meters() -> None:
    assert bands_in(BONHAM, "John Bonham") == ["Led Zeppelin"]
    assert bands_in("She is a founding member of The Roots and played with Prince.") == [
        "The Roots",
        "Prince",
    ]
    assert songs_in(BONHAM) == ["Good Times Bad Times", "Fool in the Rain"]
    equipment = equipment_in(BONHAM)
    assert "Ludwig Supraphonic" in equipment and "Paiste" in equipment and '26" bass drum' in equipment
    assert time_signatures_in("grooves in 7/8 and 12/8, not 1/2/3") == [[7, 8], [12, 8]]


def test_relevance_scores() -> None:
    assert artist_mention_score(BONHAM, "John Bonham") == 1.0
    assert artist_mention_score("Bonham's kick drum", "John Bonham") == 0.5
    assert artist_mention_score("Keith Moon's fills", "John Bonham") == 0.0
    assert drumming_score("protein folding with transformers") == 0.0
    assert drumming_score(BONHAM) >= 0.75


def test_extract_facts_leaves_out_empty_keys() -> None:
    facts = extract_facts(BONHAM, "John Bonham")
    assert facts["styles"][0] in {"hard_rock", "halftime_shuffle"}
    assert "ghost notes" in facts["techniques"]
    assert extract_facts("nothing to see here") == {}
