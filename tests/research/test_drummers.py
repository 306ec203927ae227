"""Built-in drummer knowledge: the data obeys the shared definitions, and names are found by fuzzy match."""

from __future__ import annotations

import json

import pytest

from mididrumigen.errors import NotFoundError, UnknownArtistError
from mididrumigen.profile import StyleProfile
from mididrumigen.research import drummers
from mididrumigen.research.drummers import (
    AmbiguousArtistError,
    builtin_names,
    builtin_profiles,
    find_builtin,
    normalize_name,
    suggest_names,
    validate_profile_data,
)

REQUIRED = (
    "John Bonham", "Clyde Stubblefield", "Jabo Starks", "Bernard Purdie", "Questlove", "Jeff Porcaro",
    "Stewart Copeland", "Neil Peart", "Dave Grohl", "Travis Barker", "Danny Carey", "Chad Smith",
    "Ringo Starr", "Charlie Watts", "Zigaboo Modeliste", "Idris Muhammad", "Tony Allen", "Elvin Jones",
    "Tony Williams", "Art Blakey", "Max Roach", "Philly Joe Jones", "Buddy Rich", "Steve Gadd",
    "Vinnie Colaiuta", "Dave Lombardo", "Lars Ulrich", "Joey Jordison", "Mike Portnoy", "Keith Moon",
    "Ginger Baker", "Mitch Mitchell", "Al Jackson Jr.", "Benny Benjamin", "Earl Palmer", "Hal Blaine",
    "James Gadson", "Harvey Mason", "Dennis Chambers", "David Garibaldi", "Steve Jordan", "Chris Dave",
    "Nate Smith", "Mark Guiliana", "Karriem Riggins", "J Dilla", "DJ Premier", "Pete Rock", "Metro Boomin",
    "Tony Royster Jr.", "Dave Weckl", "Jojo Mayer", "Carter Beauford", "Taylor Hawkins", "Matt Cameron",
    "Abe Laboriel Jr.", "Omar Hakim", "Sly Dunbar", "Carlton Barrett", "Airto Moreira", "Horacio Hernández",
    "Changuito", "Milton Banana", "Ndugu Chancler", "John Blackwell", "Aaron Spears", "Brian Blade",
    "Jack DeJohnette", "Stanton Moore", "Johnny Vidacovich", "Meg White", "Larry Mullen Jr.", "Phil Collins",
    "Tommy Lee", "Mick Fleetwood", "Gene Krupa", "Sheila E.", "Cindy Blackman Santana", "Anika Nilles",
    "Eric Moore", "Mike Johnston", "Joe Morello",
)  # fmt: skip


# ---------------------------------------------------------------- the data


def test_every_profile_passes_validation() -> None:
    assert validate_profile_data() == []


def test_at_least_seventy_drummers_including_the_required_ones() -> None:
    names = builtin_names()
    assert len(names) >= 70
    assert [name for name in REQUIRED if name not in names] == []


def test_data_file_is_json_with_documented_fields() -> None:
    data = json.loads(drummers.DATA_FILE.read_text(encoding="utf-8"))
    assert data["about"], "the data file documents its fields"
    assert len(data["drummers"]) == len(builtin_names())


@pytest.mark.parametrize("name", builtin_names())
def test_profile_round_trips_through_json(name: str) -> None:
    profile = builtin_profiles()[name]
    assert StyleProfile.from_json(json.loads(json.dumps(profile.to_json()))) == profile
    assert profile.sources_count == {"builtin": 1}


def test_validation_catches_bad_values() -> None:
    profile = find_builtin("John Bonham")
    q = profile.quantitative_params
    q.tempo_typical = q.tempo_max + 10
    q.swing_percent = 80
    q.ghost_note_prob = 0.9
    q.microtiming_ms["cowbell_of_doom"] = 3
    profile.styles.append("polka")
    profile.confidence_score = 1.5
    problems = validate_profile_data({profile.artist_name: profile})
    text = "\n".join(problems)
    for fragment in ("tempos", "swing", "ghost", "cowbell_of_doom", "polka", "confidence"):
        assert fragment in text
    assert all(problem.startswith("John Bonham: ") for problem in problems)


def test_validation_catches_an_alias_shared_by_two_drummers() -> None:
    profiles = builtin_profiles()
    profiles["Chad Smith"].aliases.append("Bonzo")
    problems = validate_profile_data(profiles)
    assert problems == ["Chad Smith: 'Bonzo' is also a name or alias of John Bonham"]


def test_musical_facts_the_engine_relies_on() -> None:
    profiles = builtin_profiles()
    assert 62 <= profiles["Bernard Purdie"].quantitative_params.swing_percent <= 66
    assert profiles["Bernard Purdie"].styles[0] == "halftime_shuffle"
    assert 58 <= profiles["J Dilla"].quantitative_params.swing_percent <= 60
    assert profiles["J Dilla"].quantitative_params.microtiming_ms["snare"] >= 15
    assert profiles["Questlove"].quantitative_params.microtiming_ms["snare"] >= 15
    assert profiles["Questlove"].quantitative_params.microtiming_ms["hihat_closed"] < 0
    assert profiles["John Bonham"].quantitative_params.velocity_mean >= 100
    assert profiles["Metro Boomin"].styles == ["trap"]
    assert profiles["Metro Boomin"].quantitative_params.timing_jitter_ms <= 2
    assert profiles["Carlton Barrett"].styles[0] == "reggae_one_drop"
    assert (5, 4) in profiles["Joe Morello"].time_signatures
    assert (7, 8) in profiles["Neil Peart"].time_signatures
    for name in ("Clyde Stubblefield", "Bernard Purdie", "Steve Gadd", "David Garibaldi"):
        assert 0.3 <= profiles[name].quantitative_params.ghost_note_prob <= 0.45, name
    for name in ("Dave Lombardo", "Joey Jordison", "Meg White"):
        assert profiles[name].quantitative_params.ghost_note_prob <= 0.02, name
    for name in ("Elvin Jones", "Art Blakey", "Max Roach", "Philly Joe Jones", "Gene Krupa"):
        assert 60 <= profiles[name].quantitative_params.swing_percent <= 66, name
        assert profiles[name].styles[0] == "jazz_swing", name


def test_returned_profiles_are_copies() -> None:
    first = find_builtin("Questlove")
    first.quantitative_params.microtiming_ms["snare"] = -99.0
    first.styles.clear()
    first.aliases.append("someone else")
    again = find_builtin("Questlove")
    assert again.quantitative_params.microtiming_ms["snare"] != -99.0
    assert again.styles and "someone else" not in again.aliases
    profiles = builtin_profiles()
    profiles.clear()
    assert len(builtin_profiles()) == len(builtin_names())


# ---------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("John Bonham", "John Bonham"),
        ("bonham", "John Bonham"),
        ("Jon Bonham", "John Bonham"),
        ("john bonam", "John Bonham"),
        ("  JOHN   BONHAM ", "John Bonham"),
        ("Bonzo", "John Bonham"),
        ("bonam", "John Bonham"),
        ("questlove", "Questlove"),
        ("?uestlove", "Questlove"),
        ("Quest Love", "Questlove"),
        ("Ahmir Thompson", "Questlove"),
        ("stewart copland", "Stewart Copeland"),
        ("Copeland", "Stewart Copeland"),
        ("Ringo", "Ringo Starr"),
        ("Ringo Star", "Ringo Starr"),
        ("philly joe", "Philly Joe Jones"),
        ("Jabo", "Jabo Starks"),
        ('John "Jabo" Starks', "Jabo Starks"),
        ("stubblefeild", "Clyde Stubblefield"),
        ("Vinny Coliuta", "Vinnie Colaiuta"),
        ("horacio hernandez", "Horacio Hernández"),
        ("El Negro", "Horacio Hernández"),
        ("Tre Cool", "Tré Cool"),
        ("Sheila E", "Sheila E."),
        ("J. Dilla", "J Dilla"),
        ("Jay Dee", "J Dilla"),
        ("Zigaboo", "Zigaboo Modeliste"),
        ("Al Jackson", "Al Jackson Jr."),
        ("Bonham John", "John Bonham"),
    ],
)
def test_find_builtin_matches(query: str, expected: str) -> None:
    assert find_builtin(query).artist_name == expected


@pytest.mark.parametrize("name", builtin_names())
def test_every_name_and_alias_finds_its_drummer(name: str) -> None:
    profile = find_builtin(name)
    assert profile.artist_name == name
    for alias in profile.aliases:
        assert find_builtin(alias).artist_name == name, alias


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Smith", ["Chad Smith", "Nate Smith"]),
        ("Jones", ["Elvin Jones", "Philly Joe Jones"]),
        ("Moore", ["Eric Moore", "Stanton Moore"]),
        ("Dave", ["Chris Dave", "Dave Grohl", "Dave Lombardo", "Dave Weckl"]),
    ],
)
def test_ambiguous_names_list_every_candidate(query: str, expected: list[str]) -> None:
    with pytest.raises(AmbiguousArtistError) as caught:
        find_builtin(query)
    assert caught.value.suggestions == expected
    assert all(name in caught.value.message for name in expected)
    assert isinstance(caught.value, UnknownArtistError)


@pytest.mark.parametrize(
    "query",
    [
        "Taylor Swift", "Xyzzy", "Will Smith", "Jack White", "Michael Jackson", "James Brown",
        "Keith Richards", "Miles Davis", "Prince", "Steve Jones", "Bootsy Collins", "Take Five", "Al",
    ],
)  # fmt: skip
def test_unrelated_names_are_not_matched(query: str) -> None:
    with pytest.raises(UnknownArtistError) as caught:
        find_builtin(query)
    assert not isinstance(caught.value, AmbiguousArtistError)
    assert isinstance(caught.value, NotFoundError)
    assert caught.value.status == 404
    assert len(caught.value.suggestions) <= 3


def test_unknown_name_suggests_close_names() -> None:
    with pytest.raises(UnknownArtistError) as caught:
        find_builtin("Taylor Swift")
    assert "Taylor Hawkins" in caught.value.suggestions
    assert "did you mean" in str(caught.value)
    with pytest.raises(UnknownArtistError) as caught:
        find_builtin("Purdy")
    assert caught.value.suggestions == ["Bernard Purdie"]


def test_suggest_names() -> None:
    assert suggest_names("smiht") == ["Chad Smith", "Nate Smith"]
    assert set(suggest_names("Tony", limit=8)) >= {"Tony Allen", "Tony Williams", "Tony Royster Jr."}
    assert len(suggest_names("Tony", limit=2)) == 2
    assert suggest_names("Xyzzy") == []
    assert suggest_names("?") == []
    with pytest.raises(ValueError, match="limit"):
        suggest_names("bonham", limit=0)


@pytest.mark.parametrize("query", ["", "   ", "a/b", "x" * 10_000, "bon\x00ham"])
def test_bad_names_are_value_errors(query: str) -> None:
    with pytest.raises(ValueError, match="artist name"):
        find_builtin(query)


def test_punctuation_only_name_is_unknown() -> None:
    with pytest.raises(UnknownArtistError):
        find_builtin("?!")


def test_normalize_name() -> None:
    assert normalize_name("  Tré  COOL ") == "tre cool"
    assert normalize_name("?uestlove") == "uestlove"
    assert normalize_name('John "Jabo" Starks') == "john jabo starks"
    assert normalize_name("Horacio Hernández") == "horacio hernandez"


@pytest.mark.parametrize(
    ("query", "best"),
    [("John Bonhxxx", "John Bonham"), ("Taylor Swift", "Taylor Hawkins"), ("Questloveee Xy", "Questlove")],
)
def test_suggestions_come_best_first(query: str, best: str) -> None:
    # "John Bonhxxx" shares only "john" with Mitch Mitchell's and Mick Fleetwood's full names
    assert suggest_names(query)[0] == best
    with pytest.raises(UnknownArtistError) as caught:
        find_builtin(query)
    assert caught.value.suggestions[0] == best
