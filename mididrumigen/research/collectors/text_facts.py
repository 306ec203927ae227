"""Read drumming facts out of prose: tempo figures, styles, genres, techniques, equipment, bands, songs."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from typing import Any

TEMPO_MIN_BPM = 40.0
TEMPO_MAX_BPM = 300.0

# Phrase -> style-library key; longer phrases are matched (and consumed) before shorter ones.
STYLE_PHRASES: tuple[tuple[str, str], ...] = (
    ("halftime shuffle", "halftime_shuffle"),
    ("half-time shuffle", "halftime_shuffle"),
    ("purdie shuffle", "halftime_shuffle"),
    ("linear funk", "linear_funk"),
    ("linear drumming", "linear_funk"),
    ("linear", "linear_funk"),
    ("hard rock", "hard_rock"),
    ("heavy metal", "metal"),
    ("thrash metal", "metal"),
    ("death metal", "metal"),
    ("progressive metal", "metal"),
    ("metal", "metal"),
    ("punk rock", "punk"),
    ("punk", "punk"),
    ("jazz waltz", "jazz_waltz"),
    ("bebop", "jazz_swing"),
    ("hard bop", "jazz_swing"),
    ("big band", "jazz_swing"),
    ("jazz", "jazz_swing"),
    ("bossa nova", "bossa_nova"),
    ("samba", "samba"),
    ("songo", "songo"),
    ("one drop", "reggae_one_drop"),
    ("reggae", "reggae_one_drop"),
    ("afrobeat", "afrobeat"),
    ("second line", "second_line"),
    ("new orleans", "second_line"),
    ("boom bap", "boom_bap"),
    ("hip hop", "boom_bap"),
    ("hip-hop", "boom_bap"),
    ("trap music", "trap"),
    ("trap beat", "trap"),
    ("drum and bass", "drum_and_bass"),
    ("drum 'n' bass", "drum_and_bass"),
    ("jungle", "drum_and_bass"),
    ("house music", "house"),
    ("deep house", "house"),
    ("four on the floor", "house"),
    ("disco", "disco"),
    ("motown", "soul_motown"),
    ("neo-soul", "soul_motown"),
    ("soul", "soul_motown"),
    ("rhythm and blues", "soul_motown"),
    ("r&b", "soul_motown"),
    ("gospel", "gospel"),
    ("train beat", "country_train"),
    ("country music", "country_train"),
    ("country drummer", "country_train"),
    ("12/8 blues", "blues_12_8"),
    ("blues", "blues_12_8"),
    ("funk", "funk"),
    ("pop", "pop"),
    ("rock and roll", "rock"),
    ("rock 'n' roll", "rock"),
    ("progressive rock", "rock"),
    ("rock", "rock"),
)

# Genre names as people write them (reported as found, not mapped).
GENRE_PHRASES: tuple[str, ...] = (
    "hard rock",
    "heavy metal",
    "progressive rock",
    "progressive metal",
    "thrash metal",
    "punk rock",
    "rock and roll",
    "blues rock",
    "jazz fusion",
    "jazz-rock",
    "fusion",
    "bebop",
    "hard bop",
    "big band",
    "jazz",
    "funk",
    "soul",
    "neo-soul",
    "r&b",
    "rhythm and blues",
    "hip hop",
    "hip-hop",
    "afrobeat",
    "reggae",
    "dub",
    "ska",
    "bossa nova",
    "samba",
    "latin",
    "salsa",
    "gospel",
    "country music",
    "blues",
    "disco",
    "house music",
    "drum and bass",
    "electronic",
    "pop",
    "punk",
    "metal",
    "rock",
    "grunge",
    "alternative rock",
    "indie rock",
    "new wave",
    "motown",
    "trap music",
)

TECHNIQUE_PHRASES: tuple[str, ...] = (
    "ghost notes",
    "ghost note",
    "halftime shuffle",
    "half-time shuffle",
    "purdie shuffle",
    "shuffle",
    "swing feel",
    "swing",
    "double bass drum",
    "double bass",
    "double kick",
    "blast beat",
    "linear",
    "polyrhythm",
    "polyrhythms",
    "odd time",
    "odd meters",
    "metric modulation",
    "displacement",
    "paradiddle",
    "rudiments",
    "triplets",
    "triplet",
    "syncopation",
    "syncopated",
    "laid-back",
    "laid back",
    "behind the beat",
    "ahead of the beat",
    "in the pocket",
    "pocket",
    "fills",
    "brushes",
    "rimshot",
    "rim shot",
    "cross-stick",
    "cross stick",
    "open hi-hat",
    "half-time",
    "double-time",
    "one drop",
    "clave",
    "four on the floor",
    "backbeat",
    "flams",
    "press roll",
    "dropping bombs",
    "heel-toe",
    "grace notes",
    "rolls",
    "ride cymbal",
    "tom fills",
    "cowbell",
    "dynamics",
)

EQUIPMENT_BRANDS: tuple[str, ...] = (
    "Ludwig",
    "Gretsch",
    "Rogers",
    "Slingerland",
    "Pearl",
    "Tama",
    "Yamaha",
    "Sonor",
    "DW",
    "Drum Workshop",
    "Mapex",
    "Premier",
    "Zildjian",
    "Paiste",
    "Sabian",
    "Meinl",
    "Istanbul",
    "Bosphorus",
    "Remo",
    "Evans",
    "Aquarian",
    "Vic Firth",
    "Promark",
    "Pro-Mark",
    "Regal Tip",
    "Vater",
    "Roland",
    "Gibraltar",
    "Craviotto",
    "Leedy",
    "Camco",
)

DRUM_CONTEXT_WORDS: tuple[str, ...] = (
    "drum",
    "drums",
    "drummer",
    "drummers",
    "drumming",
    "percussion",
    "percussionist",
    "groove",
    "grooves",
    "rhythm",
    "rhythmic",
    "beat",
    "beats",
    "hi-hat",
    "snare",
    "kick",
    "cymbal",
    "tempo",
    "timing",
    "swing",
    "backbeat",
)

_NUM = r"(\d{2,3}(?:\.\d+)?)"
TEMPO_RANGE_RE = re.compile(
    _NUM + r"\s*(?:-|–|—|to)\s*" + _NUM + r"\s*(?:bpm|b\.p\.m\.?|beats per minute)", re.I
)
TEMPO_RE = re.compile(_NUM + r"\s*(?:bpm|b\.p\.m\.?|beats per minute|beats a minute)", re.I)
TEMPO_OF_RE = re.compile(
    r"tempo (?:of|at|around|about|near)\s+(?:about\s+|around\s+|roughly\s+)?" + _NUM, re.I
)
SWING_PERCENT_RE = re.compile(
    r"(\d{2}(?:\.\d+)?)\s*%\s*swing|swing (?:of|at|around|near|setting of)\s*(?:about\s+)?(\d{2}(?:\.\d+)?)\s*%",
    re.I,
)
SWING_RATIO_RE = re.compile(r"swing ratios? (?:of|around|near|about)?\s*(\d(?:\.\d+)?)", re.I)
TIME_SIGNATURE_RE = re.compile(r"(?<![\d/])(2|3|4|5|6|7|9|11|12|13|15)/(4|8|16)(?![\d/])")
_CAP_WORD = r"[A-Z0-9][\w'’&!+-]*"
_CAP_PHRASE = rf"((?:[Tt]he\s+)?{_CAP_WORD}(?:\s+(?:{_CAP_WORD}|of|the|and|&|de|la)){{0,5}})"
BAND_RES: tuple[re.Pattern[str], ...] = (
    re.compile(rf"drummer (?:for|of|with|in) (?:the band )?{_CAP_PHRASE}"),
    re.compile(rf"(?:founding |original |longtime |former )?member of (?:the (?:band|group) )?{_CAP_PHRASE}"),
    re.compile(rf"(?:played|playing|recorded|recording|toured|touring|worked) (?:drums )?with {_CAP_PHRASE}"),
    re.compile(rf"(?:co-founded|founded|formed|joined) (?:the (?:band|group) )?{_CAP_PHRASE}"),
    re.compile(rf"(?<![\w-])(?:band|group|trio|quartet|quintet) {_CAP_PHRASE}"),
)
SONG_RE = re.compile(r"[\"“]([A-Z0-9][^\"”\n]{1,60}?)[\"”]")
_TRAILING_WORDS = {"of", "the", "and", "&", "de", "la"}
_NOT_BANDS = {"The", "In", "He", "She", "They", "His", "Her", "It", "A", "An", "This", "That"}


def normalize_text(text: str) -> str:
    """Unicode-normalise and collapse whitespace."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def tempo_ranges_bpm(text: str) -> list[list[float]]:
    """Tempo ranges written in the text ('90-110 bpm'), each [low, high] within 40-300 BPM."""
    ranges = []
    for match in TEMPO_RANGE_RE.finditer(text):
        low, high = sorted(float(g) for g in match.groups())
        if low >= TEMPO_MIN_BPM and high <= TEMPO_MAX_BPM:
            ranges.append([low, high])
    return ranges


def tempo_mentions_bpm(text: str) -> list[float]:
    """Single tempo figures written in the text (not range ends), within 40-300 BPM."""
    consumed = TEMPO_RANGE_RE.sub(" ", text)
    found = [float(m.group(1)) for m in TEMPO_RE.finditer(consumed)]
    found += [float(m.group(1)) for m in TEMPO_OF_RE.finditer(consumed)]
    return [bpm for bpm in found if TEMPO_MIN_BPM <= bpm <= TEMPO_MAX_BPM]


def swing_mentions_percent(text: str) -> list[float]:
    """Swing settings written as a percent (50-75) or a long/short ratio (1-3), as percents."""
    found: list[float] = []
    for match in SWING_PERCENT_RE.finditer(text):
        value = float(match.group(1) or match.group(2))
        if 50.0 <= value <= 75.0:
            found.append(value)
    for match in SWING_RATIO_RE.finditer(text):
        ratio = float(match.group(1))
        if 1.0 <= ratio <= 3.0:
            found.append(round(100.0 * ratio / (1.0 + ratio), 1))
    return found


def _inside_sentence(text: str, index: int) -> bool:
    """Whether text[index] follows other words of its sentence (not a sentence start, a quote or a cell)."""
    # Walk back over spaces instead of slicing the text before it: slicing made long pages quadratic.
    # Not over line breaks: a list of one name per line starts a sentence on each.
    before = index - 1
    while before >= 0 and text[before] in " \t":
        before -= 1
    return before >= 0 and text[before] not in '.!?:;\n"“(=|'


def _phrase_counts(text: str, phrases: tuple[str, ...] | list[str]) -> Counter[str]:
    """Count whole-phrase matches in one pass, the longest phrase at each place first, each stretch used once.

    A Title Case match inside a sentence is a name ("Oakland Soul Revue"), not a style, and is skipped.
    """
    by_lower = {p.lower(): p for p in phrases}
    # One alternation, longest first: at each place the longest phrase wins ("hard rock" over "rock").
    alternation = "|".join(re.escape(p) for p in sorted(by_lower, key=len, reverse=True))
    pattern = re.compile(r"(?<![\w-])(?:" + alternation + r")(?![\w-])", re.IGNORECASE)
    found: Counter[str] = Counter()
    for match in pattern.finditer(text):
        words = match.group(0)
        phrase = by_lower.get(words.lower())  # None only where case folding and lower() differ ("ß")
        # Title Case inside a sentence is a name; all capitals ("R&B", "EDM") is how the genre is written.
        is_name = words[0].isupper() and not words.isupper() and _inside_sentence(text, match.start())
        if phrase is not None and not is_name:
            found[phrase] += 1
    # Longest phrases first, so that most_common() breaks ties the same way whatever the text's order.
    return Counter({p: found[p] for p in sorted(phrases, key=len, reverse=True) if found[p]})


def style_votes(text: str) -> dict[str, int]:
    """Style-library keys named in the text, with how often."""
    votes: Counter[str] = Counter()
    by_phrase = dict(STYLE_PHRASES)
    for phrase, count in _phrase_counts(text, list(by_phrase)).items():
        votes[by_phrase[phrase]] += count
    return dict(votes.most_common())


def genres_in(text: str) -> list[str]:
    """Genre names found in the text, most mentioned first."""
    return [g for g, _ in _phrase_counts(text, GENRE_PHRASES).most_common()]


def techniques_in(text: str) -> list[str]:
    """Drumming techniques and feel words found in the text, most mentioned first."""
    return [t for t, _ in _phrase_counts(text, TECHNIQUE_PHRASES).most_common()]


def equipment_in(text: str) -> list[str]:
    """Brand names with the model words that follow them (e.g. 'Ludwig Supraphonic'), in order."""
    found: list[str] = []
    for brand in sorted(EQUIPMENT_BRANDS, key=len, reverse=True):
        pattern = re.compile(
            rf"(?<![\w-]){re.escape(brand)}(?:\s+(?:[A-Z0-9][\w-]*))?(?:\s+(?:[A-Z0-9][\w-]*))?"
        )
        for match in pattern.finditer(text):
            item = match.group(0).strip()
            if not any(item in f or f in item for f in found):
                found.append(item)
    sizes = re.findall(
        r"\b\d{2}(?:\"|”|-inch| inch)\s*(?:x\s*\d{1,2}(?:\"|”|-inch| inch)?\s*)?"
        r"(?:bass drum|kick drum|snare|floor tom|rack tom|ride|crash|hi-hats?)",
        text,
        re.I,
    )
    found.extend(s.strip() for s in sizes if s.strip() not in found)
    return found


def _clean_phrase(phrase: str) -> str:
    words = phrase.strip(" .,;:").split()
    while words and words[-1].lower() in _TRAILING_WORDS:
        words.pop()
    return " ".join(words).strip(" .,;:'’")


def bands_in(text: str, artist: str = "") -> list[str]:
    """Band names in phrases like 'drummer for X', 'member of X', 'played with X'."""
    found: list[str] = []
    artist_lower = artist.lower()
    for pattern in BAND_RES:
        for match in pattern.finditer(text):
            name = _clean_phrase(match.group(1))
            if not name or name in _NOT_BANDS or name.lower() == artist_lower or len(name) < 2:
                continue
            if name not in found:
                found.append(name)
    return found


def songs_in(text: str) -> list[str]:
    """Quoted titles (songs, albums) in the text."""
    found: list[str] = []
    for match in SONG_RE.finditer(text):
        title = match.group(1).strip(" ,.")
        if 1 <= len(title.split()) <= 8 and title not in found:
            found.append(title)
    return found


def time_signatures_in(text: str) -> list[list[int]]:
    """Meters written like 7/8 or 12/8 in the text."""
    found: list[list[int]] = []
    for num, den in TIME_SIGNATURE_RE.findall(text):
        sig = [int(num), int(den)]
        if sig not in found:
            found.append(sig)
    return found


def artist_mention_score(text: str, artist: str) -> float:
    """1.0 when the full name appears, 0.5 for the surname alone, else 0."""
    lowered = normalize_text(text).lower()
    name = normalize_text(artist).lower()
    if not name:
        return 0.0
    if re.search(r"(?<!\w)" + re.escape(name) + r"(?!\w)", lowered):
        return 1.0
    parts = name.split()
    if (
        len(parts) > 1
        and len(parts[-1]) > 2
        and re.search(r"(?<!\w)" + re.escape(parts[-1]) + r"(?!\w)", lowered)
    ):
        return 0.5
    return 0.0


def drumming_score(text: str) -> float:
    """0..1: how much the text is about drumming (distinct drum words found, saturating at 4)."""
    lowered = text.lower()
    hits = sum(
        1 for word in DRUM_CONTEXT_WORDS if re.search(r"(?<![\w-])" + re.escape(word) + r"(?![\w-])", lowered)
    )
    return min(1.0, hits / 4.0)


def extract_facts(text: str, artist: str = "") -> dict[str, Any]:
    """Every fact we can read from one text, as a SourceRecord `extracted` dict (empty keys left out)."""
    text = normalize_text(text)
    facts: dict[str, Any] = {
        "tempo_bpm": tempo_mentions_bpm(text),
        "tempo_range_bpm": tempo_ranges_bpm(text),
        "swing_percent_mentions": swing_mentions_percent(text),
        "style_votes": style_votes(text),
        "styles": list(style_votes(text)),
        "genres": genres_in(text),
        "techniques": techniques_in(text),
        "equipment": equipment_in(text),
        "bands": bands_in(text, artist),
        "songs": songs_in(text),
        "time_signatures": time_signatures_in(text),
    }
    return {key: value for key, value in facts.items() if value}
