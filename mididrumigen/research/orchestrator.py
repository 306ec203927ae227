"""Research one artist: collectors fanned out with timeouts, sources stored, profile built, embedded and saved."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from mididrumigen.errors import (
    MissingExtraError,
    NotFoundError,
    UnknownArtistError,
    UserError,
    did_you_mean,
)
from mididrumigen.files import validate_artist_name
from mididrumigen.profile import StyleProfile
from mididrumigen.research.builtin_vectors import fill_missing_embeddings
from mididrumigen.research.collectors.base import (
    Collector,
    CollectorContext,
    ProgressCallback,
    SourceRecord,
    collector_classes,
)
from mididrumigen.research.embeddings import TextEmbedder, embed_profile
from mididrumigen.research.http import SERVICE_INTERVAL_S, HostRateLimiter, HttpClient
from mididrumigen.research.profile_builder import BuildReport, build_profile, merge_records
from mididrumigen.store.store import same_artist_name

if TYPE_CHECKING:
    import aiohttp

    from mididrumigen.settings import Settings
    from mididrumigen.store import Store
    from mididrumigen.store.store import SimilarArtist

log = logging.getLogger(__name__)

PROGRESS_START = 5.0
PROGRESS_COLLECTED = 85.0
PROGRESS_INTERVAL_S = 0.3  # job rows are written at most this often while collectors report


class StageSink(Protocol):
    """The job-context side research reports to (JobContext.set_stage: progress 0-100)."""

    async def set_stage(self, text: str, progress: float | None = None) -> None:
        """Record the stage text and progress."""
        ...


@dataclass
class ResearchDeps:
    """Everything research needs, explicit so it runs with or without an App."""

    settings: Settings
    store: Store
    session: aiohttp.ClientSession
    limiter: HostRateLimiter
    embedder: TextEmbedder
    library: Any = None
    collectors: Sequence[str] | None = None  # names; None means every registered collector
    intervals_s: Mapping[str, float] = field(default_factory=lambda: dict(SERVICE_INTERVAL_S))  # per service


@dataclass(slots=True)
class CollectorOutcome:
    """How one collector did."""

    name: str
    kind: str
    status: str  # ok | failed | timed out
    sources: int = 0
    seconds: float = 0.0
    error: str = ""
    missing_extra: str | None = None  # the pip extra it failed for want of: it asked no service

    def to_json(self) -> dict[str, Any]:
        """JSON-safe data."""
        return {
            "name": self.name,
            "kind": self.kind,
            "status": self.status,
            "sources": self.sources,
            "seconds": round(self.seconds, 2),
            "error": self.error,
        }


@dataclass(slots=True)
class ResearchOutcome:
    """A finished research: the profile, what each collector did, the new sources and notes."""

    profile: StyleProfile
    collectors: list[CollectorOutcome]
    new_sources: list[SourceRecord]
    known_sources: int
    notes: list[str] = field(default_factory=list)
    report: BuildReport = field(default_factory=BuildReport)
    seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        """What was found, for the CLI and the job result."""
        profile = self.profile
        return {
            "artist": profile.artist_name,
            "confidence": profile.confidence_score,
            "sources_count": profile.sources_count,
            "new_sources": len(self.new_sources),
            "known_sources": self.known_sources,
            "collectors": [c.to_json() for c in self.collectors],
            "styles": profile.styles,
            "tempo_bpm": [
                profile.quantitative_params.tempo_min,
                profile.quantitative_params.tempo_typical,
                profile.quantitative_params.tempo_max,
            ],
            "swing_percent": profile.quantitative_params.swing_percent,
            "tempo_agreement": self.report.tempo_agreement,
            "style_agreement": self.report.style_agreement,
            "notes": self.notes,
            "seconds": round(self.seconds, 2),
        }


def research_deps(app: Any) -> ResearchDeps:
    """Research dependencies from the App; the rate limiter and embedder live on it (made on first use)."""
    if getattr(app, "rate_limiter", None) is None:
        app.rate_limiter = HostRateLimiter()
    library = app.library() if callable(getattr(app, "library", None)) else None
    return ResearchDeps(
        settings=app.settings,
        store=app.store,
        session=app.http,
        limiter=app.rate_limiter,
        embedder=app.text_embedder(),
        library=library,
    )


def builtin_for(artist: str) -> StyleProfile | None:
    """The built-in knowledge of this drummer (fuzzy name match), or None."""
    from mididrumigen.research.drummers import find_builtin

    try:
        return find_builtin(artist)
    except UnknownArtistError:
        return None


async def research_artist(
    app: Any,
    artist: str,
    job: StageSink | None = None,
    *,
    kinds: Sequence[str] | None = None,
    on_progress: ProgressCallback | None = None,
) -> StyleProfile:
    """Research an artist (adding to what is already stored), save sources and profile; return the profile.

    kinds limits the source kinds collected (paper, article, audio, midi); by default the job's
    params["kinds"] if present, else all.
    """
    deps = research_deps(app)
    deps.collectors = collectors_for_kinds(kinds if kinds is not None else _job_kinds(job))
    outcome = await run_research(deps, artist, job, on_progress=on_progress)
    return outcome.profile


async def augment_artist(
    app: Any,
    artist: str,
    job: StageSink | None = None,
    *,
    kinds: Sequence[str] | None = None,
    on_progress: ProgressCallback | None = None,
) -> StyleProfile:
    """Add new sources to a stored artist and rebuild its profile; NotFoundError if it was never researched."""
    if await app.store.get_profile(artist) is None and builtin_for(artist) is None:
        raise NotFoundError(f"no profile for {artist!r} to augment; research it first")
    return await research_artist(app, artist, job, kinds=kinds, on_progress=on_progress)


def collectors_for_kinds(kinds: Sequence[str] | None) -> list[str] | None:
    """Collector names for source kinds (paper -> papers, ...); None (all) when kinds is None or empty."""
    if not kinds:
        return None
    by_kind = {cls.kind: name for name, cls in collector_classes().items()}
    unknown = [kind for kind in kinds if kind not in by_kind]
    if unknown:
        raise ValueError(f"unknown source kind {unknown[0]!r}; use {', '.join(by_kind)}")
    return [by_kind[kind] for kind in dict.fromkeys(kinds)]


def _job_kinds(job: StageSink | None) -> list[str] | None:
    params = getattr(job, "params", None)
    kinds = params.get("kinds") if isinstance(params, dict) else None
    return [str(k) for k in kinds] if isinstance(kinds, list) else None


async def run_research(
    deps: ResearchDeps,
    artist: str,
    job: StageSink | None = None,
    *,
    on_progress: ProgressCallback | None = None,
) -> ResearchOutcome:
    """Run the collectors concurrently, store new sources, rebuild the profile from all sources and save it.

    Research that ends without a profile (nothing found, an error, cancelled) leaves the artist as it was
    (settle_unfinished_research; a research job's on_stop hook does it for the name the job was queued
    for): a name that was not stored before is not stored after, and the error says so in one line
    (UserError code no_sources, with close built-in names).
    """
    loop = asyncio.get_running_loop()
    started = loop.time()
    cleaned = validate_artist_name(artist)
    builtin = builtin_for(cleaned)
    name = builtin.artist_name if builtin is not None else cleaned
    # The job's hook (research_stopped) settles `artist`, as queued: settling it here too would first mark a
    # name the job created "failed", then remove it. Research with no job (the CLI), or whose name led to
    # another artist (a built-in drummer, not the same name in another case), is settled here.
    settle_here = job is None or not same_artist_name(name, artist)
    store = deps.store
    known_before = await store.get_artist(name) is not None
    await store.set_research_status(name, "researching")
    try:
        return await _research(deps, cleaned, name, builtin, job, on_progress, started)
    except (Exception, asyncio.CancelledError):  # failed, or cancelled (Ctrl-C in the CLI): nothing was saved
        if settle_here:
            job_id = getattr(job, "id", None)
            await asyncio.shield(settle_unfinished_research(store, name, new=not known_before, job_id=job_id))
        raise


async def _research(
    deps: ResearchDeps,
    artist: str,
    name: str,
    builtin: StyleProfile | None,
    job: StageSink | None,
    on_progress: ProgressCallback | None,
    started: float,
) -> ResearchOutcome:
    """run_research's work: collect, store the new sources, build, embed and save the profile."""
    loop = asyncio.get_running_loop()
    store = deps.store
    stored = await store.list_research_sources(name)
    known = stored_records(stored)
    classes = collector_classes(deps.collectors)
    fractions = dict.fromkeys(classes, 0.0)
    messages: dict[str, str] = {}
    progress = _ProgressPump(job, fractions, messages)

    def report(collector: str, fraction: float, text: str) -> None:
        fractions[collector] = max(fractions.get(collector, 0.0), fraction)
        messages[collector] = text
        progress.changed = True
        if on_progress is not None:
            on_progress(collector, fraction, text)

    http = HttpClient(
        deps.session,
        deps.limiter,
        contact=deps.settings["contact"],
        intervals_s=deps.intervals_s,
        request_timeout_s=float(deps.settings["research_request_timeout_s"]),
    )
    notes: list[str] = []
    if job is not None:
        await job.set_stage(f"researching {name}", PROGRESS_START)
    pump = asyncio.create_task(progress.run(), name="research:progress")
    try:
        outcomes, records = await _collect_all(
            deps, classes, name, http, report, notes, frozenset(r.url for r in known if r.url)
        )
    finally:
        pump.cancel()
        await asyncio.gather(pump, return_exceptions=True)

    new_records = merge_records(known, records)[len(known) :]
    for record in new_records:
        await store.add_research_source(
            name,
            record.kind,
            url=record.url,
            title=record.title,
            raw=record.raw,
            extracted=record.extracted,
            confidence=record.confidence,
        )
    if not new_records:
        # Nothing new: rebuilding from what was already known would only replace the stored (or built-in)
        # profile with a poorer text; the research failed and the profile stays exactly as it was.
        if known or builtin is not None:
            raise nothing_found(name, outcomes, known=True)
        raise nothing_found(artist, outcomes)
    all_records = known + new_records
    if job is not None:
        await job.set_stage("building profile", PROGRESS_COLLECTED)
    build = BuildReport()
    profile = await asyncio.to_thread(build_profile, name, all_records, builtin, build)
    if job is not None:
        await job.set_stage("embedding profile", 90.0)
    try:
        profile.embedding = await embed_profile(deps.embedder, profile)
    except UserError as exc:
        if exc.code != "missing_extra":
            raise
        # Without the model the profile is still worth keeping; `similar` just skips it.
        log.warning("profile of %s saved without an embedding: %s", name, exc.message)
    await store.save_profile(profile, origin="research")  # profile + embedding, one transaction
    if job is not None:
        await job.set_stage("profile saved", 95.0)
    return ResearchOutcome(profile, outcomes, new_records, len(known), notes, build, loop.time() - started)


def nothing_found(artist: str, outcomes: Sequence[CollectorOutcome], *, known: bool = False) -> UserError:
    """The one-line error for research that found no (new) source: close built-in names (as for an unknown
    artist elsewhere), then why each collector that did not answer failed.

    known: the drummer already has a profile (built in, or researched before), which stays as it was;
    the error says so instead of suggesting other names.
    """
    from mididrumigen.research.drummers import suggest_names

    hint = "" if known else did_you_mean(suggest_names(artist))
    failed = [o for o in outcomes if o.status != "ok"]
    # A collector whose extra is not installed (audio on the core install) asked no service: it neither
    # says the computer is online nor that it is not.
    not_installed = [o for o in failed if o.missing_extra]
    asked = [o for o in failed if not o.missing_extra]
    if asked and len(failed) == len(outcomes) and all(out_of_reach(o.error or "") for o in asked):
        # Every service unreachable: one reason, not a DNS error per host and collector.
        details = "no research service could be reached: is this computer offline?"
        if not_installed:
            extras = " and ".join(sorted({repr(o.missing_extra) for o in not_installed}))
            names = ", ".join(o.name for o in not_installed)
            details = (
                f"{names}: needs the {extras} extra; the others reached no service: is this computer offline?"
            )
    else:
        details = "; ".join(f"{o.name}: {_shortened(o.error or o.status)}" for o in failed)
    reason = f" ({details})" if details else ""
    if known:
        return UserError(
            f"no new sources found for {artist!r}{reason}; its profile is unchanged",
            status=404,
            code="no_sources",
        )
    return UserError(f"no sources found for {artist!r}{hint}{reason}", status=404, code="no_sources")


# What a failed name lookup or connection says, in aiohttp's, urllib3's (yt-dlp) and the OS's words.
UNREACHABLE_SIGNS = (
    "cannot connect to host",
    "cannot reach",
    "failed to resolve",
    "name or service not known",
    "temporary failure in name resolution",
    "nodename nor servname",
    "getaddrinfo failed",
    "network is unreachable",
    "connection refused",
)
REASON_MAX_CHARS = 160


def out_of_reach(error: str) -> bool:
    """Whether a collector's error says only that its services could not be reached (no answer at all)."""
    parts = [part for part in error.lower().split(";") if part.strip()]
    return bool(parts) and all(any(sign in part for sign in UNREACHABLE_SIGNS) for part in parts)


def _shortened(reason: str) -> str:
    """A collector's failure cut to REASON_MAX_CHARS, so the one error line stays readable."""
    return reason if len(reason) <= REASON_MAX_CHARS else reason[: REASON_MAX_CHARS - 1] + "…"


async def settle_unfinished_research(
    store: Store, name: str, *, new: bool, job_id: str | None = None, resumes: bool = False
) -> None:
    """Set an artist's research status after research of it ended without saving a profile.

    resumes: the job runs again later (a shutdown or a restart interrupted it), so "pending". Otherwise,
    while other research of the artist is queued or running (not job_id), that research's state
    ("researching" or "pending"); else a name this research created (new) and found nothing for goes
    (store.delete_unprofiled_artist: a typo must not linger as an artist), and an artist that was there
    before gets back its status: "cached" with a profile (a failed or cancelled augment changed nothing),
    "failed" without. Never "pending" or "researching" with no research to come.
    """
    row = await store.get_artist(name)
    if row is None:
        return
    if resumes:
        await store.set_research_status(row.name, "pending")
        return
    other = await store.active_job_for("research", row.name, exclude=job_id)
    if other is not None:
        await store.set_research_status(
            row.name, "researching" if other["status"] == "running" else "pending"
        )
    elif not (new and await store.delete_unprofiled_artist(row.name)):
        await store.set_research_status(row.name, "cached" if row.has_profile else "failed")


async def _collect_all(
    deps: ResearchDeps,
    classes: dict[str, type[Collector]],
    artist: str,
    http: HttpClient,
    report: ProgressCallback,
    notes: list[str],
    known_urls: frozenset[str] = frozenset(),
) -> tuple[list[CollectorOutcome], list[SourceRecord]]:
    """Fan the collectors out, each under its own timeout; a failure or timeout only loses that collector."""
    loop = asyncio.get_running_loop()

    async def run_one(name: str, cls: type[Collector]) -> tuple[CollectorOutcome, list[SourceRecord]]:
        timeout_s = float(deps.settings[cls.timeout_setting])
        ctx = CollectorContext(
            settings=deps.settings,
            http=http,
            data_dir=deps.settings.data_dir,
            deadline=loop.time() + timeout_s,
            on_progress=report,
            library=deps.library,
            known_urls=known_urls,
        )
        began = loop.time()
        try:
            async with asyncio.timeout(timeout_s):
                found = await cls().collect(ctx, artist)
        except TimeoutError:
            found = list(ctx.kept)  # what it had finished: a slow last download loses only itself
            reason = f"stopped at its {timeout_s:g} s limit" if found else f"no answer within {timeout_s:g} s"
            outcome = CollectorOutcome(name, cls.kind, "timed out", len(found), loop.time() - began, reason)
        except Exception as exc:  # isolation: one collector's failure never stops the others
            log.info("research collector %s failed for %s: %s", name, artist, exc)
            extra = exc.extra if isinstance(exc, MissingExtraError) else None
            outcome = CollectorOutcome(
                name,
                cls.kind,
                "failed",
                0,
                loop.time() - began,
                str(exc) or type(exc).__name__,
                missing_extra=extra,
            )
            found = []
        else:
            outcome = CollectorOutcome(name, cls.kind, "ok", len(found), loop.time() - began)
        notes.extend(ctx.notes)
        report(name, 1.0, outcome.status if outcome.status != "ok" else f"{len(found)} sources")
        return outcome, found

    tasks = [
        asyncio.create_task(run_one(name, cls), name=f"research:{name}") for name, cls in classes.items()
    ]
    try:
        results = await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
    outcomes = [outcome for outcome, _ in results]
    records = [record for _, found in results for record in found]
    return outcomes, records


class _ProgressPump:
    """Writes combined collector progress to the job at most every PROGRESS_INTERVAL_S."""

    def __init__(self, job: StageSink | None, fractions: dict[str, float], messages: dict[str, str]) -> None:
        self.job = job
        self.fractions = fractions
        self.messages = messages
        self.changed = False

    def stage(self) -> tuple[str, float]:
        """Combined stage text and progress percent."""
        mean = sum(self.fractions.values()) / max(1, len(self.fractions))
        text = "; ".join(f"{name}: {self.messages.get(name, 'waiting')}" for name in self.fractions)
        return text, PROGRESS_START + (PROGRESS_COLLECTED - PROGRESS_START) * mean

    async def run(self) -> None:
        """Loop until cancelled, flushing changes."""
        if self.job is None:
            return
        while True:
            await asyncio.sleep(PROGRESS_INTERVAL_S)
            if self.changed:
                self.changed = False
                text, percent = self.stage()
                await self.job.set_stage(text, percent)


async def find_similar(
    store: Store, embedder: TextEmbedder, artist: str, limit: int = 10
) -> list[SimilarArtist]:
    """Nearest drummers by profile embedding (KNN in sqlite-vec); NotFoundError for an unknown artist."""
    if not 1 <= limit <= 100:
        raise ValueError("limit must be from 1 to 100")
    name = artist
    if await store.get_artist(artist) is None:
        builtin = builtin_for(artist)
        if builtin is None or await store.get_artist(builtin.artist_name) is None:
            raise NotFoundError(f"no profile for {artist!r}; research it first")
        name = builtin.artist_name
    # Built-ins seeded without a vector, and profiles whose vectors of an older scheme a migration dropped.
    await fill_missing_embeddings(store, embedder)
    found = await store.similar(name, limit)
    if found is None:
        raise NotFoundError(f"no profile for {artist!r}; research it first")
    return found


async def similar_artists(app: Any, artist: str, limit: int = 10) -> list[SimilarArtist]:
    """GET /similar/{artist} and `mididrumigen similar`: nearest drummers by style embedding."""
    deps = research_deps(app)
    return await find_similar(deps.store, deps.embedder, artist, limit)


def stored_records(rows: Iterable[dict[str, Any]]) -> list[SourceRecord]:
    """Source records from store.list_research_sources rows."""
    return [SourceRecord.from_json(row) for row in rows]
