"""Built-in knowledge of well-known drummers: StyleProfiles written as data, found by fuzzy name.

The data lives in ``drummers.json`` beside this module (JSON because it parses in about
a millisecond at CLI start; its ``about`` block documents every field). It is parsed
once per process and kept in an immutable catalog; every public function hands out
fresh copies, so callers may change what they get without touching the catalog.

Name matching is case-, diacritics- and punctuation-insensitive and runs in stages:
exact name or alias; every word of the query found in exactly one drummer's name
("bonham", "philly joe"); then a fuzzy match over names and aliases (rapidfuzz) with
a cutoff high enough that unrelated names ("Taylor Swift") are not matched. A query
that fits several drummers equally ("Smith") raises ``AmbiguousArtistError``.
"""

from __future__ import annotations

import functools
import importlib
import json
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from rapidfuzz import fuzz, process

from mididrumigen.errors import UnknownArtistError
from mididrumigen.files import validate_artist_name
from mididrumigen.midi.kit import GM_PITCH_BY_PIECE
from mididrumigen.midi.notes import SUPPORTED_TIME_SIGNATURES, parse_time_signature
from mididrumigen.profile import USABLE_CONFIDENCE, QuantitativeParams, StyleProfile

DATA_FILE = Path(__file__).with_name("drummers.json")

# The fixed style keys from the team brief; used when the style library is not importable.
BRIEF_STYLE_KEYS: tuple[str, ...] = (
    "rock", "hard_rock", "halftime_shuffle", "funk", "linear_funk", "soul_motown", "disco",
    "pop", "punk", "metal", "jazz_swing", "jazz_waltz", "bossa_nova", "samba", "songo",
    "reggae_one_drop", "afrobeat", "second_line", "boom_bap", "trap", "house",
    "drum_and_bass", "gospel", "country_train", "blues_12_8",
)  # fmt: skip

MATCH_SCORE = 85.0  # fuzzy score (0-100) a name needs to count as the same drummer
SUGGEST_SCORE = 70.0  # looser score (rapidfuzz WRatio) for "did you mean" suggestions
TIE_MARGIN = 3.0  # two drummers this close to the best score make the query ambiguous
MAX_AMBIGUOUS_LISTED = 8

# Words that say nothing about which drummer is meant.
_IGNORED_WORDS = frozenset({"jr", "sr", "ii", "iii", "the", "and", "dj", "el", "de", "da"})
_ENTRY_KEYS = frozenset(
    {"name", "aliases", "styles", "genres", "time_signatures", "confidence", "description", "traits",
     "params", "microtiming_ms"}
)  # fmt: skip
_PARAM_KEYS = frozenset(QuantitativeParams.__dataclass_fields__) - {"microtiming_ms"}


class AmbiguousArtistError(UnknownArtistError):
    """The name fits several built-in drummers; ``suggestions`` lists them all."""

    code = "ambiguous_artist"

    def __init__(self, name: str, matches: list[str]) -> None:
        super().__init__(name, matches)
        self.message = f"artist {name!r} matches several drummers: {', '.join(matches)}"
        self.args = (self.message,)


@dataclass(frozen=True, slots=True)
class _Catalog:
    """The parsed data and its name index; never handed out, never changed."""

    profiles: Mapping[str, StyleProfile]  # canonical name -> profile (copied on the way out)
    key_owner: Mapping[str, str]  # normalized name or alias -> canonical name
    keys: tuple[str, ...]  # key_owner's keys, for rapidfuzz
    key_owners: tuple[str, ...]  # canonical name of each entry in keys
    word_owners: Mapping[str, frozenset[str]]  # word of a canonical name -> canonical names
    words: tuple[str, ...]  # word_owners' keys, for rapidfuzz


def normalize_name(text: str) -> str:
    """Lowercase ascii words of a name: 'Tré Cool' -> 'tre cool', '?uestlove' -> 'uestlove'."""
    plain = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch)).casefold()
    return " ".join("".join(ch if ch.isalnum() else " " for ch in plain).split())


def builtin_profiles() -> dict[str, StyleProfile]:
    """Every built-in drummer as a fresh StyleProfile, keyed by canonical name (the caller owns them)."""
    return {name: _copy_profile(profile) for name, profile in _catalog().profiles.items()}


def builtin_names() -> list[str]:
    """The canonical names of the built-in drummers, sorted."""
    return sorted(_catalog().profiles)


def find_builtin(name: str) -> StyleProfile:
    """Return a fresh copy of the built-in profile that name means, or raise UnknownArtistError."""
    cleaned = validate_artist_name(name)
    catalog = _catalog()
    return _copy_profile(catalog.profiles[_match(catalog, cleaned)])


def researched_or_builtin(stored: StyleProfile | None, builtin: StyleProfile) -> StyleProfile:
    """The stored copy of a built-in drummer if research added sources to it, else the built-in one.

    The store also holds plain copies of built-ins (seeded by the daemon, possibly by an older
    release whose knowledge has since improved): those must not hide the current built-in.
    """
    return stored if stored is not None and stored.sources_count != builtin.sources_count else builtin


def suggest_names(name: str, limit: int = 3) -> list[str]:
    """Up to limit canonical names that look like name, best first (may be empty)."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    query = normalize_name(name)
    if len(query) < 3:  # one or two letters partially match almost every name
        return []
    catalog = _catalog()
    found = process.extract(
        query, catalog.keys, scorer=fuzz.WRatio, score_cutoff=SUGGEST_SCORE, limit=len(catalog.keys)
    )
    # WRatio decides who is suggested but ranks a shared word in a long alias ("john" in "john graham
    # mitchell") as high as a near-miss of the whole name: rank by whole-name likeness, then WRatio.
    found.sort(key=lambda hit: (-_closeness(query, hit[0]), -hit[1]))
    names: list[str] = []
    for _key, _score, index in found:
        owner = catalog.key_owners[index]
        if owner not in names:
            names.append(owner)
        if len(names) == limit:
            break
    return names


def validate_profile_data(profiles: Mapping[str, StyleProfile] | None = None) -> list[str]:
    """Check built-in profiles against the shared definitions; return the problems found (empty if none)."""
    profiles = builtin_profiles() if profiles is None else profiles
    style_keys = _style_keys()
    problems: list[str] = []
    seen_keys: dict[str, str] = {}
    for key, profile in profiles.items():
        name = profile.artist_name
        problems += [f"{name}: {problem}" for problem in _profile_problems(profile, style_keys)]
        if key != name:
            problems.append(f"{name}: keyed as {key!r}")
        for label in [name, *profile.aliases]:
            normal = normalize_name(label)
            if not normal:
                problems.append(f"{name}: name or alias {label!r} has no letters or digits")
            elif normal in seen_keys:
                problems.append(f"{name}: {label!r} is also a name or alias of {seen_keys[normal]}")
            else:
                seen_keys[normal] = name
    return problems


# ---------------------------------------------------------------- loading


@functools.cache
def _catalog() -> _Catalog:
    """Parse the data file once per process and index the names."""
    data = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    profiles: dict[str, StyleProfile] = {}
    for entry in data["drummers"]:
        profile = _profile_from_entry(entry)
        if profile.artist_name in profiles:
            raise ValueError(f"drummer {profile.artist_name!r} is listed twice")
        profiles[profile.artist_name] = profile
    key_owner: dict[str, str] = {}
    word_owners: dict[str, set[str]] = {}
    for name, profile in profiles.items():
        for label in [name, *profile.aliases]:
            key_owner.setdefault(normalize_name(label), name)
        for word in _words(normalize_name(name)):
            word_owners.setdefault(word, set()).add(name)
    return _Catalog(
        profiles=MappingProxyType(profiles),
        key_owner=MappingProxyType(key_owner),
        keys=tuple(key_owner),
        key_owners=tuple(key_owner.values()),
        word_owners=MappingProxyType({word: frozenset(owners) for word, owners in word_owners.items()}),
        words=tuple(word_owners),
    )


def _profile_from_entry(entry: Mapping[str, Any]) -> StyleProfile:
    """Build one StyleProfile from a data entry, rejecting unknown or missing fields."""
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError(f"drummer entry without a name: {entry!r:.80}")
    if set(entry) != _ENTRY_KEYS:
        raise ValueError(f"drummer {name!r} has wrong fields: {sorted(set(entry) ^ _ENTRY_KEYS)}")
    params = dict(entry["params"])
    if set(params) != _PARAM_KEYS:
        raise ValueError(f"drummer {name!r} has wrong params: {sorted(set(params) ^ _PARAM_KEYS)}")
    quantitative = QuantitativeParams(
        **params, microtiming_ms={str(k): float(v) for k, v in entry["microtiming_ms"].items()}
    )
    return StyleProfile(
        artist_name=name,
        text_description=str(entry["description"]),
        quantitative_params=quantitative,
        styles=[str(s) for s in entry["styles"]],
        signature_traits=[str(t) for t in entry["traits"]],
        genres=[str(g) for g in entry["genres"]],
        aliases=[str(a) for a in entry["aliases"]],
        confidence_score=float(entry["confidence"]),
        sources_count={"builtin": 1},
        time_signatures=[parse_time_signature(str(ts)) for ts in entry["time_signatures"]],
    )


def _copy_profile(profile: StyleProfile) -> StyleProfile:
    """A copy whose lists and dicts are new, so changing it never reaches the catalog."""
    params = profile.quantitative_params
    return replace(
        profile,
        quantitative_params=replace(params, microtiming_ms=dict(params.microtiming_ms)),
        styles=list(profile.styles),
        signature_traits=list(profile.signature_traits),
        genres=list(profile.genres),
        aliases=list(profile.aliases),
        midi_templates=list(profile.midi_templates),
        embedding=None if profile.embedding is None else list(profile.embedding),
        sources_count=dict(profile.sources_count),
        time_signatures=list(profile.time_signatures),
    )


# ---------------------------------------------------------------- matching


def _words(normal: str) -> list[str]:
    """The words of a normalized name that can identify a drummer on their own."""
    return [w for w in normal.split() if len(w) >= 2 and w not in _IGNORED_WORDS]


def _match(catalog: _Catalog, name: str) -> str:
    """The canonical name a query means; raises UnknownArtistError or AmbiguousArtistError."""
    query = normalize_name(name)
    if not query:
        raise UnknownArtistError(name, [])
    exact = catalog.key_owner.get(query)
    if exact is not None:
        return exact
    owners = _word_owners(catalog, query)
    if len(owners) == 1:
        return next(iter(owners))
    if owners:
        raise AmbiguousArtistError(name, sorted(owners)[:MAX_AMBIGUOUS_LISTED])
    scores = _fuzzy_scores(catalog, query)
    if not scores:
        raise UnknownArtistError(name, suggest_names(name))
    best = max(scores.values())
    ranked = sorted(scores, key=lambda owner: -scores[owner])
    close = [owner for owner in ranked if scores[owner] >= best - TIE_MARGIN]
    if len(close) > 1:
        raise AmbiguousArtistError(name, close[:MAX_AMBIGUOUS_LISTED])
    return close[0]


def _word_owners(catalog: _Catalog, query: str) -> frozenset[str]:
    """Drummers whose canonical name contains every word of the query ('bonham', 'philly joe')."""
    words = _words(query)
    if not words or sum(map(len, words)) < 3:
        return frozenset()
    owners: frozenset[str] | None = None
    for word in words:
        found = catalog.word_owners.get(word, frozenset())
        owners = found if owners is None else owners & found
    return owners or frozenset()


def _closeness(query: str, key: str) -> float:
    """How alike query and key are as whole names (0-100), in any word order."""
    return max(fuzz.ratio(query, key), fuzz.token_sort_ratio(query, key))


def _fuzzy_scores(catalog: _Catalog, query: str) -> dict[str, float]:
    """Best fuzzy score per drummer at or above MATCH_SCORE, over names, aliases and (one-word queries) name words."""
    scores: dict[str, float] = {}

    def keep(owners: Iterable[str], score: float) -> None:
        for owner in owners:
            scores[owner] = max(score, scores.get(owner, 0.0))

    for scorer in (fuzz.ratio, fuzz.token_sort_ratio):
        for _key, score, index in process.extract(
            query, catalog.keys, scorer=scorer, score_cutoff=MATCH_SCORE, limit=10
        ):
            keep([catalog.key_owners[index]], score)
    if len(query.split()) == 1 and len(query) >= 4:
        for word, score, _index in process.extract(
            query, catalog.words, scorer=fuzz.ratio, score_cutoff=MATCH_SCORE, limit=10
        ):
            keep(catalog.word_owners[word], score)
    return scores


# ---------------------------------------------------------------- validation


def _style_keys() -> frozenset[str]:
    """The style library's keys if the engine's library is importable, else the brief's fixed list."""
    try:
        module = importlib.import_module("mididrumigen.generation.styles")
    except ImportError:
        return frozenset(BRIEF_STYLE_KEYS)
    styles = getattr(module, "STYLES", None)
    if isinstance(styles, Mapping):
        return frozenset(str(key) for key in styles)
    return frozenset(BRIEF_STYLE_KEYS)


def _profile_problems(profile: StyleProfile, style_keys: frozenset[str]) -> list[str]:
    """What is wrong with one profile, as short lowercase phrases."""
    q = profile.quantitative_params
    problems: list[str] = []

    def check(ok: bool, problem: str) -> None:
        if not ok:
            problems.append(problem)

    check(bool(profile.styles), "no styles")
    check(len(set(profile.styles)) == len(profile.styles), "a style is listed twice")
    problems += [f"unknown style {s!r}" for s in profile.styles if s not in style_keys]
    check(
        40 <= q.tempo_min <= q.tempo_typical <= q.tempo_max <= 300,
        "tempos not 40 <= min <= typical <= max <= 300",
    )
    check(50 <= q.swing_percent <= 75, "swing percent outside 50-75")
    check(0 <= q.ghost_note_prob <= 0.6, "ghost-note share outside 0-0.6")
    check(q.velocity_mean - q.velocity_std >= 1, "velocity mean minus std below 1")
    check(q.velocity_mean + q.velocity_std <= 127, "velocity mean plus std above 127")
    check(0 <= q.velocity_std <= 40, "velocity std outside 0-40")
    for field in ("accent_strength", "busyness", "fill_density"):
        check(0 <= getattr(q, field) <= 1, f"{field} outside 0-1")
    check(isinstance(q.crash_after_fill, bool), "crash_after_fill is not true or false")
    check(0 <= q.timing_jitter_ms <= 20, "timing jitter outside 0-20 ms")
    problems += [
        f"unknown kit piece {p!r} in microtiming" for p in q.microtiming_ms if p not in GM_PITCH_BY_PIECE
    ]
    check(all(abs(ms) <= 40 for ms in q.microtiming_ms.values()), "microtiming beyond 40 ms")
    check(USABLE_CONFIDENCE <= profile.confidence_score <= 1, "confidence outside usable range (0.6-1)")
    check(profile.sources_count == {"builtin": 1}, "sources_count is not {'builtin': 1}")
    check(bool(profile.time_signatures), "no time signatures")
    problems += [
        f"unsupported time signature {n}/{d}"
        for n, d in profile.time_signatures
        if (n, d) not in SUPPORTED_TIME_SIGNATURES
    ]
    check(80 <= len(profile.text_description) <= 700, "description not 80-700 characters")
    check(len(profile.signature_traits) >= 2, "fewer than 2 signature traits")
    check(bool(profile.genres), "no genres")
    check('"' not in profile.artist_name, "quotes in the canonical name")
    return problems
