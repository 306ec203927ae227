"""The collector interface: one source family each, a name->class registry, progress and time budget."""

from __future__ import annotations

import abc
import asyncio
import importlib
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar, TypeVar

from mididrumigen.research.http import HttpClient
from mididrumigen.settings import Settings

T = TypeVar("T")

SOURCE_RECORD_KINDS: tuple[str, ...] = ("paper", "article", "audio", "midi")
MAX_RAW_CHARS = 200_000  # raw bodies kept per source; enough to re-extract, small enough to store

# (collector name, fraction 0..1, what it is doing)
ProgressCallback = Callable[[str, float, str], None]


@dataclass(slots=True)
class SourceRecord:
    """One piece of evidence about a drummer: where it came from, the raw body and what we read in it.

    `extracted` uses these keys when known: tempo_bpm (list of figures), tempo_measured_bpm,
    swing_percent, ghost_note_share, velocity_mean, velocity_std, microtiming_ms {class: ms},
    syncopation, busyness, time_signatures [[n, d]], styles (style keys), genres, techniques,
    equipment, bands, songs, description.
    """

    kind: str
    url: str
    title: str
    raw: str
    extracted: dict[str, Any]
    confidence: float

    def __post_init__(self) -> None:
        if self.kind not in SOURCE_RECORD_KINDS:
            raise ValueError(
                f"source kind must be one of {', '.join(SOURCE_RECORD_KINDS)}, got {self.kind!r}"
            )
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError("source confidence must be between 0 and 1")
        self.raw = self.raw[:MAX_RAW_CHARS]

    def to_json(self) -> dict[str, Any]:
        """Return the record as JSON-safe data."""
        return {
            "kind": self.kind,
            "url": self.url,
            "title": self.title,
            "raw": self.raw,
            "extracted": self.extracted,
            "confidence": self.confidence,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SourceRecord:
        """Rebuild a record from to_json() output (or a stored row)."""
        return cls(
            kind=str(data["kind"]),
            url=str(data.get("url", "")),
            title=str(data.get("title", "")),
            raw=str(data.get("raw", "")),
            extracted=dict(data.get("extracted") or {}),
            confidence=float(data.get("confidence", 0.0)),
        )


@dataclass
class CollectorContext:
    """What a collector needs: settings, the polite HTTP client, a folder, a deadline and a progress sink."""

    settings: Settings
    http: HttpClient
    data_dir: Path
    deadline: float | None = None  # event-loop time by which the collector must be done
    on_progress: ProgressCallback | None = None
    library: Any = None  # a TemplateLibrary (or None to skip the local MIDI library)
    notes: list[str] = field(default_factory=list)  # non-fatal problems, shown in the summary
    known_urls: frozenset[str] = frozenset()  # sources already stored: not fetched again when costly
    kept: list[SourceRecord] = field(default_factory=list)  # finished so far: what a time limit keeps

    def remaining_s(self) -> float | None:
        """Seconds left before the deadline (None without one)."""
        if self.deadline is None:
            return None
        return self.deadline - asyncio.get_running_loop().time()

    def report(self, name: str, fraction: float, text: str) -> None:
        """Tell whoever listens how far collector `name` is (fraction 0..1)."""
        if self.on_progress is not None:
            self.on_progress(name, min(1.0, max(0.0, fraction)), text)


class Collector(abc.ABC):
    """One family of sources (papers, articles, audio, MIDI) behind one interface."""

    name: ClassVar[str]
    kind: ClassVar[str]  # "paper" | "article" | "audio" | "midi"
    timeout_setting: ClassVar[str]

    @abc.abstractmethod
    async def collect(self, ctx: CollectorContext, artist: str) -> list[SourceRecord]:
        """Gather evidence about `artist`; per-item failures are skipped, total failure raises."""

    def report(self, ctx: CollectorContext, fraction: float, text: str) -> None:
        """Report this collector's progress."""
        ctx.report(self.name, fraction, text)


# The registry: collector name -> "module:Class", resolved lazily so heavy imports stay out of the way.
COLLECTOR_CLASS_PATHS: Mapping[str, str] = MappingProxyType(
    {
        "papers": "mididrumigen.research.collectors.papers:PaperCollector",
        "articles": "mididrumigen.research.collectors.articles:ArticleCollector",
        "audio": "mididrumigen.research.collectors.audio:AudioCollector",
        "midi": "mididrumigen.research.collectors.midi:MidiCollector",
    }
)


def get_collector_class(name: str) -> type[Collector]:
    """Return the collector class registered under `name`, or ValueError listing the names."""
    path = COLLECTOR_CLASS_PATHS.get(name)
    if path is None:
        raise ValueError(f"unknown collector {name!r}; known: {', '.join(COLLECTOR_CLASS_PATHS)}")
    module_name, class_name = path.split(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    if not (isinstance(cls, type) and issubclass(cls, Collector)):
        raise TypeError(f"{path} is not a Collector")
    return cls


def collector_classes(names: Iterable[str] | None = None) -> dict[str, type[Collector]]:
    """Collector classes by name, all registered ones when names is None."""
    return {name: get_collector_class(name) for name in (COLLECTOR_CLASS_PATHS if names is None else names)}


async def run_isolated(
    jobs: Mapping[str, Callable[[], Awaitable[T]]],
    on_done: Callable[[str, int], None] | None = None,
) -> tuple[dict[str, T], dict[str, str]]:
    """Run named coroutines concurrently; one failing never stops the others.

    Returns (results by name, error text by name); `on_done(name, finished_count)` after each.
    """
    results: dict[str, T] = {}
    errors: dict[str, str] = {}
    finished = 0

    async def run(name: str, factory: Callable[[], Awaitable[T]]) -> None:
        nonlocal finished
        try:
            results[name] = await factory()
        except Exception as exc:  # isolation is the point; cancellation still propagates
            errors[name] = str(exc) or type(exc).__name__
        finally:
            finished += 1
            if on_done is not None:
                on_done(name, finished)

    tasks = [
        asyncio.create_task(run(name, factory), name=f"research:{name}") for name, factory in jobs.items()
    ]
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
    return results, errors


def features_to_facts(features: dict[str, Any]) -> dict[str, Any]:
    """Map RhythmFeatures/AudioFeatures JSON to the SourceRecord `extracted` keys."""
    facts: dict[str, Any] = {}
    tempo = features.get("tempo_bpm")
    if isinstance(tempo, int | float) and tempo > 0:
        facts["tempo_measured_bpm"] = float(tempo)
    for key in ("swing_percent", "swing_percent_16th", "ghost_note_share", "syncopation"):
        value = features.get(key)
        if isinstance(value, int | float):
            facts[key] = float(value)
    timing = features.get("microtiming_ms")
    if isinstance(timing, dict):
        means: dict[str, float] = {}
        for kit_class, value in timing.items():
            if isinstance(value, dict):
                value = value.get("mean")
            if isinstance(value, int | float):
                means[str(kit_class)] = round(float(value), 2)
        if means:
            facts["microtiming_ms"] = means
    meter = features.get("time_signature")
    if isinstance(meter, list | tuple) and len(meter) == 2:
        facts["time_signatures"] = [[int(meter[0]), int(meter[1])]]
    return facts
