"""The MIDI template library: an index of human drum performances by style and tempo."""

from __future__ import annotations

import csv
import json
import math
import random
import re
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mididrumigen.files import write_atomic
from mididrumigen.midi.kit import GM_PITCH_BY_PIECE, kit_class_of_pitch
from mididrumigen.midi.notes import Clip, Note

INDEX_VERSION = 1
MIDI_SUFFIXES = (".mid", ".midi")
OCTAVE_PENALTY = 0.25  # a template at half or double the tempo ranks like one this far off (log2)

# GMD style labels (info.csv "style") -> style-library keys. Labels not listed are not indexed.
GMD_STYLE_KEYS: dict[str, str] = {
    "rock": "rock",
    "rock/indie": "rock",
    "rock/folk": "rock",
    "rock/prog": "rock",
    "rock/rockabilly": "rock",
    "rock/halftime": "halftime_shuffle",
    "rock/shuffle": "halftime_shuffle",
    "funk/rock": "hard_rock",
    "funk": "funk",
    "funk/fast": "funk",
    "funk/latin": "funk",
    "funk/purdieshuffle": "halftime_shuffle",
    "neworleans/funk": "funk",
    "jazz/funk": "funk",
    "jazz/fusion": "funk",
    "jazz/linear": "linear_funk",
    "soul": "soul_motown",
    "soul/motown": "soul_motown",
    "dance/disco": "disco",
    "dance/breakbeat": "boom_bap",
    "pop": "pop",
    "pop/soft": "pop",
    "punk": "punk",
    "jazz": "jazz_swing",
    "jazz/swing": "jazz_swing",
    "jazz/mediumfast": "jazz_swing",
    "jazz/fast": "jazz_swing",
    "latin/brazilian-bossa": "bossa_nova",
    "latin/samba": "samba",
    "latin/brazilian-samba": "samba",
    "latin/brazilian-sambareggae": "samba",
    "latin/brazilian-songo": "songo",
    "afrocuban": "songo",
    "afrocuban/rhumba": "songo",
    "afrocuban/bembe": "songo",
    "reggae": "reggae_one_drop",
    "reggae/slow": "reggae_one_drop",
    "afrobeat": "afrobeat",
    "highlife": "afrobeat",
    "neworleans/secondline": "second_line",
    "jazz/march": "second_line",
    "hiphop": "boom_bap",
    "gospel": "gospel",
    "country": "country_train",
    "blues/shuffle": "blues_12_8",
    "neworleans/shuffle": "blues_12_8",
}

# Words in file or folder names -> style keys, for corpora without an info.csv.
STYLE_WORDS: dict[str, str] = {
    "rock": "rock",
    "hardrock": "hard_rock",
    "shuffle": "halftime_shuffle",
    "halftime": "halftime_shuffle",
    "funk": "funk",
    "linear": "linear_funk",
    "soul": "soul_motown",
    "motown": "soul_motown",
    "disco": "disco",
    "pop": "pop",
    "punk": "punk",
    "metal": "metal",
    "jazz": "jazz_swing",
    "swing": "jazz_swing",
    "waltz": "jazz_waltz",
    "bossa": "bossa_nova",
    "samba": "samba",
    "songo": "songo",
    "afrocuban": "songo",
    "reggae": "reggae_one_drop",
    "onedrop": "reggae_one_drop",
    "afrobeat": "afrobeat",
    "secondline": "second_line",
    "hiphop": "boom_bap",
    "boombap": "boom_bap",
    "trap": "trap",
    "house": "house",
    "dnb": "drum_and_bass",
    "jungle": "drum_and_bass",
    "gospel": "gospel",
    "country": "country_train",
    "blues": "blues_12_8",
}

# Kit class -> the General MIDI pitch a template note is folded to.
GM_PITCH_BY_CLASS: dict[str, int] = {
    "kick": GM_PITCH_BY_PIECE["kick"],
    "snare": GM_PITCH_BY_PIECE["snare"],
    "hihat_closed": GM_PITCH_BY_PIECE["hihat_closed"],
    "hihat_open": GM_PITCH_BY_PIECE["hihat_open"],
    "tom_low": GM_PITCH_BY_PIECE["tom_floor"],
    "tom_mid": GM_PITCH_BY_PIECE["tom_mid"],
    "tom_high": GM_PITCH_BY_PIECE["tom_high"],
    "crash": GM_PITCH_BY_PIECE["crash"],
    "ride": GM_PITCH_BY_PIECE["ride"],
}

ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """One indexed performance: where it is, its style key, tempo, meter, length and kind."""

    path: str
    style: str
    tempo_bpm: float
    time_signature: tuple[int, int]
    bars: int
    kind: str  # "beat" or "fill"
    drummer: str = ""
    source_style: str = ""  # the corpus's own label
    tempo_source: str = "estimated"  # "csv", "name" or "estimated"

    @property
    def id(self) -> str:
        """A stable name for the entry (its path)."""
        return self.path

    def to_json(self) -> dict[str, Any]:
        """Return the entry as JSON-safe data."""
        data = asdict(self)
        data["time_signature"] = list(self.time_signature)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> IndexEntry:
        """Rebuild an entry from to_json() output."""
        numerator, denominator = data["time_signature"]
        return cls(
            path=str(data["path"]),
            style=str(data["style"]),
            tempo_bpm=float(data["tempo_bpm"]),
            time_signature=(int(numerator), int(denominator)),
            bars=int(data["bars"]),
            kind=str(data["kind"]),
            drummer=str(data.get("drummer", "")),
            source_style=str(data.get("source_style", "")),
            tempo_source=str(data.get("tempo_source", "estimated")),
        )


def default_index_path(settings: Any) -> Path:
    """Where the library index lives: <data_dir>/library.json."""
    return Path(settings.data_dir) / "library.json"


def style_from_words(text: str) -> str | None:
    """The style key named by words in a file or folder name, if any."""
    words = re.split(r"[^a-z0-9]+", text.lower())
    joined = "".join(words)
    for word in words:
        if word in STYLE_WORDS:
            return STYLE_WORDS[word]
    for word, key in STYLE_WORDS.items():
        if len(word) >= 5 and word in joined:
            return key
    return None


def tempo_from_name(text: str) -> float | None:
    """A tempo written in a file name, like '120bpm', '120 BPM' or GMD's '_120_beat_'."""
    match = re.search(r"(\d{2,3}(?:\.\d+)?)\s*-?bpm", text, re.IGNORECASE)
    if match is None:
        match = re.search(r"_(\d{2,3})_(?:beat|fill)", text, re.IGNORECASE)
    if match is None:
        return None
    tempo = float(match.group(1))
    return tempo if 30 <= tempo <= 320 else None


def tempo_distance(entry_bpm: float, wanted_bpm: float) -> float:
    """How far a template's tempo is from the wanted one, in octaves; half/double time count, with a penalty."""
    direct = abs(math.log2(entry_bpm / wanted_bpm))
    doubled = abs(math.log2(2 * entry_bpm / wanted_bpm)) + OCTAVE_PENALTY
    halved = abs(math.log2(entry_bpm / (2 * wanted_bpm))) + OCTAVE_PENALTY
    return min(direct, doubled, halved)


class TemplateLibrary:
    """An index of a MIDI corpus by style and tempo, persisted as one JSON file."""

    def __init__(self, index_path: Path, entries: list[IndexEntry] | None = None) -> None:
        self.index_path = Path(index_path)
        self._entries: dict[str, IndexEntry] = {e.path: e for e in entries or []}

    @classmethod
    def open(cls, index_path: Path | str) -> TemplateLibrary:
        """Open the index at index_path (an empty library if there is no file yet)."""
        path = Path(index_path)
        if not path.exists():
            return cls(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            entries = [IndexEntry.from_json(item) for item in data["entries"]]
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"template library index {path} is unreadable: {exc}") from None
        return cls(path, entries)

    @property
    def entries(self) -> list[IndexEntry]:
        """All indexed performances, in path order."""
        return [self._entries[k] for k in sorted(self._entries)]

    def __len__(self) -> int:
        return len(self._entries)

    def save(self) -> None:
        """Write the index atomically."""
        data = {"version": INDEX_VERSION, "entries": [e.to_json() for e in self.entries]}
        write_atomic(self.index_path, json.dumps(data, indent=1).encode("utf-8"))

    def add_folder(self, path: Path | str, *, progress: ProgressCallback | None = None) -> int:
        """Index every .mid/.midi file under path (re-adding replaces); return how many were indexed."""
        folder = Path(path).expanduser().resolve()
        if not folder.is_dir():
            raise ValueError(f"no such folder: {folder}")
        files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in MIDI_SUFFIXES and p.is_file())
        csv_rows = _read_info_csv(folder)
        added = 0
        for done, file in enumerate(files, start=1):
            row = csv_rows.get(file.relative_to(folder).as_posix())
            entry = _entry_from_row(file, row) if row is not None else _entry_from_file(file, folder)
            if entry is not None:
                self._entries[entry.path] = entry
                added += 1
            if progress is not None:
                progress(done, len(files))
        self.save()
        return added

    def styles(self, kind: str | None = "beat") -> dict[str, int]:
        """How many templates each style key has (beats by default; None counts every kind)."""
        counts: dict[str, int] = {}
        for entry in self._entries.values():
            if kind is None or entry.kind == kind:
                counts[entry.style] = counts.get(entry.style, 0) + 1
        return dict(sorted(counts.items()))

    def query(
        self,
        style: str,
        tempo_bpm: float | None = None,
        time_signature: tuple[int, int] = (4, 4),
        kind: str = "beat",
        limit: int = 8,
    ) -> list[IndexEntry]:
        """Templates of a style, meter and kind, closest tempo first (half/double time allowed)."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        if tempo_bpm is not None and not tempo_bpm > 0:
            raise ValueError("tempo_bpm must be positive")
        found = [
            e
            for e in self._entries.values()
            if e.style == style and e.kind == kind and tuple(e.time_signature) == tuple(time_signature)
        ]
        if tempo_bpm is None:
            found.sort(key=lambda e: (-e.bars, e.path))
        else:
            wanted = float(tempo_bpm)
            found.sort(key=lambda e: (round(tempo_distance(e.tempo_bpm, wanted), 4), -e.bars, e.path))
        return found[:limit]

    def load_template(
        self, entry: IndexEntry, bars: int = 2, offset_bars: int | None = None, seed: int | None = None
    ) -> Clip:
        """A bars-long excerpt of the performance, from a downbeat, GM pitches, at its estimated tempo."""
        return load_template(entry, bars=bars, offset_bars=offset_bars, seed=seed)


def _read_info_csv(folder: Path) -> dict[str, dict[str, str]]:
    """GMD-style info.csv rows by their midi_filename, or nothing when there is none."""
    info = folder / "info.csv"
    if not info.is_file():
        return {}
    try:
        with info.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error):
        return {}
    return {row["midi_filename"]: row for row in rows if row.get("midi_filename")}


def _entry_from_row(file: Path, row: dict[str, str]) -> IndexEntry | None:
    """An entry from a GMD info.csv row (its click tempo and labels are trusted)."""
    label = row.get("style", "")
    style = GMD_STYLE_KEYS.get(label) or style_from_words(label)
    if style is None:
        return None
    try:
        tempo = float(row["bpm"])
        numerator, denominator = (int(v) for v in row.get("time_signature", "4-4").split("-"))
        duration_s = float(row.get("duration") or 0.0)
    except (KeyError, ValueError):
        return None
    if style == "jazz_swing" and (numerator, denominator) == (3, 4):
        style = "jazz_waltz"
    beats_per_bar = numerator * 4 / denominator
    bars = max(1, round(duration_s * tempo / 60.0 / beats_per_bar))
    return IndexEntry(
        path=str(file),
        style=style,
        tempo_bpm=tempo,
        time_signature=(numerator, denominator),
        bars=bars,
        kind="fill" if row.get("beat_type") == "fill" else "beat",
        drummer=row.get("drummer", ""),
        source_style=label,
        tempo_source="csv",
    )


def _entry_from_file(file: Path, folder: Path) -> IndexEntry | None:
    """An entry for a file without an info.csv row: names for style/tempo, analysis for the rest."""
    from mididrumigen.analysis.midi_features import analyze_clip
    from mididrumigen.midi.smf import read_midi_file

    relative = file.relative_to(folder)
    try:
        clip = read_midi_file(file)
        features = analyze_clip(clip)
    except (OSError, ValueError):
        return None
    named_style = style_from_words(file.stem) or next(
        (s for s in (style_from_words(part) for part in reversed(relative.parts[:-1])) if s), None
    )
    named_tempo = tempo_from_name(file.name)
    words = set(re.split(r"[^a-z]+", relative.as_posix().lower()))
    return IndexEntry(
        path=str(file),
        style=named_style or "unknown",
        tempo_bpm=named_tempo or round(features.tempo_bpm, 2),
        time_signature=features.time_signature,
        bars=features.bars,
        kind="fill" if "fill" in words or "fills" in words else "beat",
        source_style="",
        tempo_source="name" if named_tempo else "estimated",
    )


TEMPLATE_EARLY_BEATS = 0.15  # hits played just ahead of a downbeat still belong to it
GROOVE_BAR_SHARE = (
    0.6  # a bar with fewer hits than this share of the file's median bar is a break, not groove
)


def groove_offsets(bar_of_note: np.ndarray, classes: list[str], bars: int, available: int) -> list[int]:
    """Excerpt starts whose bars are groove: toms only in the last of two or more bars (a fill may end a phrase),
    no near-empty bar.

    All starts when no excerpt of the performance qualifies.
    """
    count = available + bars - 1
    inside = (bar_of_note >= 0) & (bar_of_note < count)
    is_tom = np.array([kit_class.startswith("tom") for kit_class in classes], dtype=bool)
    hits = np.bincount(bar_of_note[inside], minlength=count)
    toms = np.bincount(bar_of_note[inside & is_tom], minlength=count)
    floor = GROOVE_BAR_SHARE * float(np.median(hits)) if count else 0.0
    good = [
        start
        for start in range(available)
        if not toms[start : start + max(bars - 1, 1)].any() and (hits[start : start + bars] >= floor).all()
    ]
    return good or list(range(available))


def load_template(
    entry: IndexEntry, bars: int = 2, offset_bars: int | None = None, seed: int | None = None
) -> Clip:
    """Cut a bars-long excerpt from an indexed file, starting on an estimated downbeat."""
    from mididrumigen.analysis.midi_features import downbeat_pulse, onset_weights
    from mididrumigen.analysis.tempo import estimate_beat_grid
    from mididrumigen.midi.smf import read_midi_file

    if not 1 <= bars <= 16:
        raise ValueError("bars must be from 1 to 16")
    source = read_midi_file(entry.path)
    notes = sorted((n for n in source.notes if kit_class_of_pitch(n.pitch)), key=lambda n: n.time)
    if len(notes) < 2:
        raise ValueError(f"template {entry.path} has too few drum notes")
    seconds_per_tick = 60.0 / (source.tempo_bpm * source.ticks_per_beat)
    times_s = np.array([n.time for n in notes], dtype=float) * seconds_per_tick
    pitches = np.array([n.pitch for n in notes])
    weights = onset_weights(pitches, np.array([n.velocity for n in notes], dtype=float))
    # The indexed tempo pins the metrical level; the grid itself comes from the performance.
    grid = estimate_beat_grid(times_s, weights, min_bpm=entry.tempo_bpm * 0.8, max_bpm=entry.tempo_bpm * 1.25)
    beats_per_bar = round(entry.time_signature[0] * 4 / entry.time_signature[1])
    positions = grid.beat_position(times_s)
    classes = [kit_class_of_pitch(int(p)) or "other" for p in pitches]
    downbeat = downbeat_pulse(positions, classes, weights, beats_per_bar)
    first_bar = math.ceil((positions.min() - downbeat - 0.2) / beats_per_bar)
    last_bar = math.floor((positions.max() - downbeat) / beats_per_bar)
    available = max(last_bar - first_bar + 1 - bars + 1, 1)
    if offset_bars is None:
        rng = random.Random(seed if seed is not None else zlib.crc32(entry.path.encode()))
        bar_of_note = (
            np.floor((positions - downbeat + TEMPLATE_EARLY_BEATS) / beats_per_bar).astype(int) - first_bar
        )
        offset_bars = rng.choice(groove_offsets(bar_of_note, classes, bars, available))
    elif not 0 <= offset_bars < available:
        raise ValueError(f"offset_bars must be from 0 to {available - 1} for this template")
    start = downbeat + (first_bar + offset_bars) * beats_per_bar
    end = start + bars * beats_per_bar
    tpb = source.ticks_per_beat
    early = TEMPLATE_EARLY_BEATS
    picked: list[Note] = []
    for note, position in zip(notes, positions, strict=True):
        if not start - early <= position < end - early:
            continue
        time = max(0, round((position - start) * tpb))
        duration = max(1, min(round(note.duration * grid.tempo_bpm / source.tempo_bpm), tpb // 2))
        pitch = GM_PITCH_BY_CLASS[kit_class_of_pitch(note.pitch) or "snare"]
        picked.append(Note(pitch=pitch, velocity=note.velocity, time=time, duration=duration))
    if not picked:
        raise ValueError(f"template {entry.path} has no notes in bars {offset_bars}-{offset_bars + bars - 1}")
    clip = Clip(
        notes=picked,
        tempo_bpm=round(grid.tempo_bpm, 3),
        time_signature=entry.time_signature,
        ticks_per_beat=tpb,
        bars=bars,
        name=Path(entry.path).stem,
        meta={
            "source": entry.path,
            "style": entry.style,
            "offset_bars": offset_bars,
            "drummer": entry.drummer,
        },
    )
    return clip.sorted()
