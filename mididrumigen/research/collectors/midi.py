"""MIDI: BitMIDI's search API, configurable MIDI pages and the local library; drum parts analysed as templates."""

from __future__ import annotations

import asyncio
import base64
import functools
import re
import statistics
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote, unquote, urljoin, urlsplit

from mididrumigen.files import read_limited, safe_slug, write_atomic
from mididrumigen.midi.kit import CLASS_BY_PITCH
from mididrumigen.midi.notes import Clip
from mididrumigen.research.collectors.base import (
    Collector,
    CollectorContext,
    SourceRecord,
    features_to_facts,
    run_isolated,
)
from mididrumigen.research.collectors.text_facts import artist_mention_score
from mididrumigen.research.http import HttpResponse

MAX_FILES = 6  # downloads per research run; enough for a consensus, polite to the site
MAX_MIDI_BYTES = 2_000_000
DRUM_CHANNEL_NUMBER = 10
MIN_DRUM_NOTES = 16
HUMANIZED_JITTER_TICKS = 6  # below this the file is grid-quantized: its microtiming says nothing


@dataclass(frozen=True, slots=True)
class MidiCandidate:
    """A MIDI file found for the artist, before download."""

    service: str
    name: str
    url: str
    page_url: str
    raw: str


def parse_bitmidi_search(response: HttpResponse, base_url: str) -> list[MidiCandidate]:
    """Candidates from a BitMIDI /api/midi/search JSON body."""
    import json

    data = response.json()
    result = data.get("result") if isinstance(data, dict) else None
    results = result.get("results") if isinstance(result, dict) else None
    if not isinstance(result, dict) or not isinstance(results, list | None):
        raise ValueError(f"malformed bitmidi response from {response.url}")
    found = []
    for item in results or []:  # null or left out when nothing matched
        if not isinstance(item, dict) or not item.get("downloadUrl") or not item.get("name"):
            continue
        found.append(
            MidiCandidate(
                service="bitmidi",
                name=str(item["name"]),
                url=_site_url(base_url, str(item["downloadUrl"])),
                page_url=_site_url(base_url, str(item.get("url") or "")),
                raw=json.dumps(item),
            )
        )
    return found


def _site_url(base_url: str, link: str) -> str:
    """Resolve a site link; root-relative paths stay under the base URL (mirrors may live in a sub-path)."""
    if link.startswith("/") and not link.startswith("//"):
        return base_url.rstrip("/") + link
    return urljoin(base_url.rstrip("/") + "/", link)


def parse_midi_links(html: bytes | str, page_url: str) -> list[MidiCandidate]:
    """Links to .mid/.midi files on an HTML page, with their link text as the name."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "lxml")
    found: list[MidiCandidate] = []
    for link in soup.find_all("a", href=True):
        href = str(link["href"])
        if not re.search(r"\.midi?(?:$|\?)", href, re.I):
            continue
        text = " ".join(link.get_text(" ").split()) or unquote(Path(urlsplit(href).path).stem)
        url = urljoin(page_url, href)
        if all(c.url != url for c in found):
            found.append(MidiCandidate("midi_site", text, url, page_url, str(link)))
    return found


def candidate_relevance(name: str, artist: str) -> float:
    """How strongly a file name points at this artist: 1 full name, 0.5 surname, else 0."""
    readable = re.sub(r"[-_]+", " ", re.sub(r"\.midi?$", "", name, flags=re.I))
    return artist_mention_score(readable, artist)


def is_drum_clip(clip: Clip) -> bool:
    """True for a clip read from channel 10, or a drum-like track whose notes are kit pieces."""
    if len(clip.notes) < MIN_DRUM_NOTES:
        return False
    if clip.meta.get("channel") == DRUM_CHANNEL_NUMBER:
        return True
    kit_share = sum(1 for n in clip.notes if n.pitch in CLASS_BY_PITCH) / len(clip.notes)
    classes = {CLASS_BY_PITCH[n.pitch] for n in clip.notes if n.pitch in CLASS_BY_PITCH}
    return kit_share >= 0.9 and len(classes) >= 3


def timing_jitter_ticks(clip: Clip) -> float:
    """Median distance of note starts from the 16th/triplet grid, in ticks at 480 per beat."""
    if not clip.notes:
        return 0.0
    sixteenth = clip.ticks_per_beat // 4
    triplet = clip.ticks_per_beat // 3
    offsets = [
        min(
            abs(n.time - round(n.time / sixteenth) * sixteenth),
            abs(n.time - round(n.time / triplet) * triplet),
        )
        for n in clip.notes
    ]
    return float(statistics.median(offsets))


def clip_facts(clip: Clip) -> dict[str, Any]:
    """Numbers read from a drum clip: analysis features plus velocity and meter."""
    from mididrumigen.analysis.midi_features import analyze_clip

    velocities = [n.velocity for n in clip.notes]
    facts: dict[str, Any] = {
        "velocity_mean": round(statistics.fmean(velocities), 2),
        "velocity_std": round(statistics.pstdev(velocities), 2),
        "time_signatures": [list(clip.time_signature)],
        "tempo_file_bpm": clip.meta.get("tempo_from_file"),
    }
    features = analyze_clip(clip).to_json()
    facts.update(features_to_facts(features))
    humanized = timing_jitter_ticks(clip) >= HUMANIZED_JITTER_TICKS
    facts["humanized"] = humanized
    if not humanized:
        facts.pop("microtiming_ms", None)  # a quantized file has no timing feel to learn
    return facts


def template_path(data_dir: Path, artist: str, name: str) -> Path:
    """Where a researched drum template is kept: <data_dir>/templates/research/<artist>/<name>.mid."""
    return data_dir / "templates" / "research" / safe_slug(artist) / f"{safe_slug(name, 'template')}.mid"


def midi_record(
    ctx: CollectorContext, artist: str, candidate: MidiCandidate, data: bytes
) -> SourceRecord | None:
    """Read the drum part of downloaded MIDI bytes, keep it as a template and describe it; None if no drums."""
    from mididrumigen.midi.smf import clip_to_midi_bytes, read_midi_bytes

    try:
        clip = read_midi_bytes(data, name=candidate.name)
    except ValueError:
        return None
    if not is_drum_clip(clip):
        return None
    try:
        facts = clip_facts(clip)
    except ValueError:
        return (
            None  # channel 10 with no kit pieces (hand percussion only): nothing to learn a kit groove from
        )
    path = template_path(ctx.data_dir, artist, candidate.name)
    write_atomic(path, clip_to_midi_bytes(clip))
    facts.update(
        {
            "service": candidate.service,
            "template_path": str(path),
            "notes": len(clip.notes),
            "bars": clip.bars,
        }
    )
    relevance = candidate_relevance(candidate.name, artist)
    # Fan transcriptions of the drummer's songs: the groove is theirs, the feel may not be.
    confidence = 0.4 + 0.2 * relevance + (0.15 if facts["humanized"] else 0.0)
    raw = "base64:" + base64.b64encode(data).decode("ascii")
    return SourceRecord("midi", candidate.url, candidate.name, raw, facts, round(min(confidence, 0.85), 3))


class MidiCollector(Collector):
    """BitMIDI search, configured MIDI pages and the local template library."""

    name: ClassVar[str] = "midi"
    kind: ClassVar[str] = "midi"
    timeout_setting: ClassVar[str] = "midi_timeout_s"

    async def collect(self, ctx: CollectorContext, artist: str) -> list[SourceRecord]:
        """Find, download and analyse MIDI drum parts for the artist."""
        searches: dict[str, Callable[[], Awaitable[list[MidiCandidate]]]] = {
            "bitmidi": lambda: self._bitmidi(ctx, artist)
        }
        for index, template in enumerate(ctx.settings["midi_sites"]):
            searches[f"site{index + 1}"] = functools.partial(self._site, ctx, artist, str(template))
        self.report(ctx, 0.05, "searching MIDI sites")
        results, errors = await run_isolated(searches)
        ctx.notes.extend(f"midi: {name} failed: {msg}" for name, msg in errors.items())
        library_records = await asyncio.to_thread(self._library_records, ctx, artist)
        if not results and not library_records:
            raise RuntimeError(
                "; ".join(f"{name}: {msg}" for name, msg in errors.items()) or "no midi sources"
            )
        candidates = [
            c for name in searches for c in results.get(name, []) if candidate_relevance(c.name, artist) > 0
        ]
        candidates = [c for c in _dedupe(candidates) if c.url not in ctx.known_urls][:MAX_FILES]
        self.report(ctx, 0.2, f"downloading {len(candidates)} MIDI files")
        records = ctx.kept  # each drum part is kept as it is read: a time limit loses only the unread
        records.extend(library_records)
        for index, candidate in enumerate(candidates):
            try:
                response = await ctx.http.get(
                    candidate.url, service=candidate.service, deadline=ctx.deadline, max_bytes=MAX_MIDI_BYTES
                )
                if response.ok:
                    record = await asyncio.to_thread(midi_record, ctx, artist, candidate, response.body)
                    if record is not None:
                        records.append(record)
                else:
                    ctx.notes.append(f"midi: http {response.status} for {candidate.url}")
            except Exception as exc:  # one bad file never sinks the others
                ctx.notes.append(f"midi: {candidate.name}: {exc}")
            self.report(
                ctx, 0.2 + 0.8 * (index + 1) / len(candidates), f"{index + 1}/{len(candidates)} MIDI files"
            )
        self.report(ctx, 1.0, f"{len(records)} drum parts")
        return records

    async def _bitmidi(self, ctx: CollectorContext, artist: str) -> list[MidiCandidate]:
        base = ctx.settings["bitmidi_base_url"].rstrip("/")
        response = await ctx.http.get(
            f"{base}/api/midi/search",
            service="bitmidi",
            params={"q": artist, "page": 0},
            deadline=ctx.deadline,
        )
        if not response.ok:
            raise ValueError(f"http {response.status} from {response.url}")
        return parse_bitmidi_search(response, base)

    async def _site(self, ctx: CollectorContext, artist: str, template: str) -> list[MidiCandidate]:
        if "{query}" not in template and "{slug}" not in template:
            raise ValueError(f"midi site template {template!r} must contain {{query}} or {{slug}}")
        url = template.replace("{query}", quote(artist)).replace("{slug}", safe_slug(artist))
        response = await ctx.http.get(url, service="midi_site", deadline=ctx.deadline)
        if response.status == 404:
            return []
        if not response.ok:
            raise ValueError(f"http {response.status} from {response.url}")
        return parse_midi_links(response.body, response.url)

    def _library_records(self, ctx: CollectorContext, artist: str) -> list[SourceRecord]:
        """Files in the local MIDI library whose path names the artist (runs in a worker thread)."""
        library = ctx.library
        if library is None:
            return []
        records = []
        for path in library_paths_for(library, artist)[:MAX_FILES]:
            candidate = MidiCandidate("library", Path(path).stem, Path(path).as_uri(), "", "")
            try:
                # Read no more than a download may be: the library can point at anything on disk.
                record = midi_record(
                    ctx, artist, candidate, read_limited(Path(path), MAX_MIDI_BYTES, "midi file")
                )
            except Exception as exc:  # one bad file never sinks the others, as for downloads
                ctx.notes.append(f"midi: {Path(path).name}: {exc}")
                continue
            if record is not None:
                record.confidence = round(
                    min(0.9, record.confidence + 0.1), 3
                )  # the user filed it under them
                records.append(record)
        return records


def library_paths_for(library: Any, artist: str) -> list[str]:
    """Paths in a TemplateLibrary whose file or folder names mention the artist."""
    entries = getattr(library, "entries", None)
    if callable(entries):
        entries = entries()
    found = []
    for entry in entries or []:
        path = str(getattr(entry, "path", entry))
        label = f"{path} {getattr(entry, 'drummer', '')}".replace("/", " ").replace("\\", " ")
        if candidate_relevance(label, artist) >= 1.0:
            found.append(path)
    return found


def _dedupe(candidates: list[MidiCandidate]) -> list[MidiCandidate]:
    seen: set[str] = set()
    unique = []
    for candidate in candidates:
        if candidate.url not in seen:
            seen.add(candidate.url)
            unique.append(candidate)
    return unique
