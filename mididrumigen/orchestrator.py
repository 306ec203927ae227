"""The seeds' Orchestrator: profile cached? generate at once; else queue research, then generation."""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mididrumigen.errors import ResearchRunningError, UnknownArtistError, UserError
from mididrumigen.generation.request import GenerationRequest
from mididrumigen.profile import StyleProfile

if TYPE_CHECKING:
    from mididrumigen.app import App
    from mididrumigen.jobs import JobContext
    from mididrumigen.midi.notes import Clip
    from mididrumigen.store import Store

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Generated:
    """Clips from a generator plus how they were made (provider, attempts, tokens, cost)."""

    clips: list[Clip]
    provider_used: str
    attempts: list[dict[str, Any]] = field(default_factory=list)
    tokens: int = 0
    cost: float = 0.0


@dataclass(slots=True)
class GenerationResult:
    """Written files with their ids, and what made them."""

    request: GenerationRequest
    profile: StyleProfile | None
    generated: Generated
    paths: list[Path]
    file_ids: list[str]
    generation_time_ms: float
    profile_json: dict[str, Any] | None = (
        None  # profile_summary(profile), when the caller has it made already
    )
    notes_map: str = (
        "gm"  # the drum map the clips' pitches follow: the files' (generated.clips are as written)
    )

    def to_json(self) -> dict[str, Any]:
        """The POST /generate answer."""
        files = [
            {
                "id": file_id,
                "path": str(path),
                "url": f"/api/v1/files/{file_id}",
                "name": clip.name,
                "notes": {**clip.to_json(), "drum_map": self.notes_map},
            }
            for file_id, path, clip in zip(self.file_ids, self.paths, self.generated.clips, strict=True)
        ]
        return {**self._head(), "files": files}

    def to_json_text(self) -> str:
        """to_json() as compact JSON text, made without building a dict per note (the daemon's hot path)."""
        notes_map = {"drum_map": self.notes_map}
        files = ",".join(
            f'{{"id":{_json(file_id)},"path":{_json(str(path))},"url":{_json(f"/api/v1/files/{file_id}")},'
            f'"name":{_json(clip.name)},"notes":{clip.to_json_text(notes_map)}}}'
            for file_id, path, clip in zip(self.file_ids, self.paths, self.generated.clips, strict=True)
        )
        head = _json(self._head())
        return f'{head[:-1]},"files":[{files}]}}'

    def _head(self) -> dict[str, Any]:
        """Everything in the answer but the files."""
        clips = self.generated.clips
        first = clips[0] if clips else None
        return {
            "artist": self.profile.artist_name if self.profile else None,
            "style": first.meta.get("style", self.request.style) if first else self.request.style,
            "tempo": round(first.tempo_bpm, 3) if first else None,
            "time_signature": list(first.time_signature) if first else None,
            "bars": self.request.bars,
            "variations": len(clips),
            "seed": first.meta.get("seed") if first else None,
            "drum_map": self.request.drum_map,
            "provider_used": self.generated.provider_used,
            "attempts": self.generated.attempts,
            "generation_time_ms": round(self.generation_time_ms, 2),
            "profile": (
                self.profile_json
                if self.profile_json is not None
                else profile_summary(self.profile)
                if self.profile
                else None
            ),
        }


def _json(value: Any) -> str:
    """Compact JSON text of a value."""
    return json.dumps(value, separators=(",", ":"))


def profile_summary(profile: StyleProfile) -> dict[str, Any]:
    """The profile without templates and embedding: what a client shows."""
    data = profile.to_json(include_embedding=False)
    data.pop("midi_templates", None)
    return data


def request_to_json(request: GenerationRequest) -> dict[str, Any]:
    """A generation request as JSON-safe data (for job params and history)."""
    # Field by field, not dataclasses.asdict (a deep copy; this runs on every request): the fields are scalars
    # but the time signature, which becomes a list.
    data = {f.name: getattr(request, f.name) for f in dataclasses.fields(request)}
    if request.time_signature is not None:
        data["time_signature"] = list(request.time_signature)
    return data


def request_from_json(data: dict[str, Any]) -> GenerationRequest:
    """Rebuild a request stored by request_to_json."""
    values = dict(data)
    if values.get("time_signature") is not None:
        values["time_signature"] = tuple(values["time_signature"])
    return GenerationRequest(**values)


# -- profiles ---------------------------------------------------------------------------------


async def seed_builtin_profiles(app: App) -> int:
    """Store the built-in drummers' profiles that the store lacks, give stored profiles without a vector one
    (built-ins from the shipped file now; researched ones in the background); return how many were added."""
    from mididrumigen.research.builtin_vectors import fill_missing_embeddings, shipped_embedding
    from mididrumigen.research.drummers import builtin_profiles

    profiles = list(builtin_profiles().values())
    for profile in profiles:
        profile.embedding = shipped_embedding(profile)  # `similar` works with no model loaded
    added = await app.store.save_builtin_profiles(profiles)
    left = await fill_missing_embeddings(app.store)  # e.g. vectors of an older scheme dropped by a migration
    if left:
        app.spawn(embed_stored_profiles(app, len(left)), name="embed-stored-profiles")
    return added


async def embed_stored_profiles(app: App, count: int) -> None:
    """Embed the stored profiles that have no vector (the model loads and runs in worker threads)."""
    from mididrumigen.research.builtin_vectors import fill_missing_embeddings

    log.info("embedding %d stored profile(s) without a vector of the current scheme", count)
    try:
        left = await fill_missing_embeddings(app.store, app.text_embedder())
    except UserError as exc:  # no research extra: those profiles are not ranked by `similar`
        log.warning("stored profiles left without an embedding: %s", exc.message)
        return
    if left:
        log.warning("stored profiles left without an embedding: %s", ", ".join(left))


async def embed_missing_profile(app: App, name: str) -> bool:
    """Give one stored profile without a vector its vector now (as the background refill would: the
    shipped one for a built-in drummer, else loading the model on first use), as `similar` asks for
    it; return whether it has one. A missing research extra is the caller's error."""
    from mididrumigen.research.builtin_vectors import current_vector

    profile = await app.store.get_profile(name)
    if profile is None:
        return False
    builtin = builtin_named(name)
    vector = await current_vector(profile, builtin, app.text_embedder())
    if vector is None:
        return False
    # Only if still missing: the background re-embedding or research may have stored one meanwhile.
    await app.store.set_embedding(name, vector, only_if_missing=True)
    return True


async def resolve_profile(app: App, artist: str) -> StyleProfile | None:
    """The profile for artist: stored or built-in (fuzzy name match, stored on first use), or None.

    As in the CLI, a stored copy of a built-in drummer is only preferred when research added
    sources to it: plain copies seeded by an older release must not hide the current built-in.
    Resolved profiles are kept in memory on the App until a profile is written (callers must
    not change them).
    """
    cached = app.cached_profile(artist)
    if cached is not None:
        return cached
    version = app.store.profiles_version
    profile = await _resolve_profile_uncached(app, artist)
    if profile is not None:
        app.cache_profile(artist, profile, version)
    return profile


async def _resolve_profile_uncached(app: App, artist: str) -> StyleProfile | None:
    from mididrumigen.research.drummers import find_builtin, researched_or_builtin

    stored = await app.store.get_profile(artist)
    try:
        builtin = find_builtin(stored.artist_name if stored is not None else artist)
    except UnknownArtistError:
        return stored
    if stored is None:
        stored = await app.store.get_profile(builtin.artist_name)
    elif stored.artist_name.casefold() != builtin.artist_name.casefold():
        return stored  # a researched artist whose name merely looks like a built-in one
    if researched_or_builtin(stored, builtin) is stored:
        return stored
    from mididrumigen.research.builtin_vectors import shipped_embedding

    builtin.embedding = shipped_embedding(builtin)
    if stored is None:
        await app.store.save_profile(builtin, origin="builtin")
    return builtin


async def forget_artist(store: Store, name: str) -> dict[str, Any]:
    """Remove a cached artist (named as listed, any case): the DELETE /artists and `artists --delete` answer.

    A researched artist goes entirely: {"deleted": name, "reset_to": None}. A built-in drummer is always
    served, so only what research added on top of its built-in knowledge goes, and the answer says so:
    {"deleted": name, "reset_to": "built-in"}; with nothing researched it is a 409 (code builtin_artist).
    UnknownArtistError (404) for a name the store does not hold. While research of the artist is queued
    or running, ResearchRunningError (409, with its task id): that job would store the artist again when
    it ends, and generations may be waiting for it, so it is the user's to cancel, not a side effect here.
    """
    from mididrumigen.research.builtin_vectors import shipped_embedding
    from mididrumigen.research.drummers import researched_or_builtin

    row = await store.get_artist(name)
    listed = row.name if row is not None else name
    await _raise_if_researching(store, listed)
    builtin = builtin_named(listed)
    if builtin is None:
        # The check above names the task; the store checks again as it deletes, in one
        # transaction, so research queued meanwhile is never left without its artist. A refusal
        # is looked into: research still active names its task; research that ended in between
        # leaves the artist to delete again (or gone, which is unknown).
        if row is None:
            raise UnknownArtistError(name, _suggestions(name))
        while not await store.delete_artist(row.name, unless_researching=True):
            await _raise_if_researching(store, listed)
            if (row := await store.get_artist(listed)) is None:
                raise UnknownArtistError(name, _suggestions(name))
        return {"deleted": row.name, "reset_to": None}
    stored = await store.get_profile(builtin.artist_name) if row is not None else None
    sources = await store.list_research_sources(builtin.artist_name) if row is not None else []
    if not sources and researched_or_builtin(stored, builtin) is builtin:
        raise UserError(
            f"built-in knowledge cannot be removed: {builtin.artist_name!r} has nothing researched to remove",
            status=409,
            code="builtin_artist",
        )
    builtin.embedding = shipped_embedding(builtin)
    # Refused only while research is active: it names its task, or it ended in between and the
    # reset is tried again (the answer never claims a reset that did not happen).
    while not await store.reset_to_builtin(builtin, unless_researching=True):
        await _raise_if_researching(store, builtin.artist_name)
    return {"deleted": builtin.artist_name, "reset_to": "built-in"}


def builtin_named(name: str) -> StyleProfile | None:
    """The built-in drummer of exactly this name (any case), or None: a name that merely looks like
    a built-in drummer's (a fuzzy match) is its own artist."""
    from mididrumigen.research.drummers import find_builtin

    try:
        builtin = find_builtin(name)
    except UnknownArtistError:
        return None
    return builtin if builtin.artist_name.casefold() == name.casefold() else None


async def _raise_if_researching(store: Store, name: str) -> None:
    """ResearchRunningError (409, with its task id) while research of this artist is queued or running."""
    active = await store.active_job_for("research", name)
    if active is not None:
        raise ResearchRunningError(name, active["id"], active["status"])


# -- generation -------------------------------------------------------------------------------


async def generate_clips(app: App, profile: StyleProfile | None, request: GenerationRequest) -> Generated:
    """The one place clips are made: the LLM coordinator, with the groove engine as its last resort."""
    from mididrumigen.generation.coordinator import generate

    result = await generate(app, profile, request)
    return Generated(
        result.clips,
        provider_used=result.provider_used,
        attempts=[attempt.to_json() for attempt in result.attempts],
        tokens=sum(attempt.tokens_in + attempt.tokens_out for attempt in result.attempts),
        cost=result.cost_usd or 0.0,
    )


async def generate_with_profile(
    app: App, profile: StyleProfile | None, request: GenerationRequest
) -> GenerationResult:
    """Generate, write the files atomically and record them; return the result with file ids."""
    from mididrumigen.generation.output import artist_folder, clips_on_kit, write_clips
    from mididrumigen.midi.drum_maps import get_drum_map

    started = time.perf_counter()
    if profile is not None and request.artist != profile.artist_name:
        request = dataclasses.replace(request, artist=profile.artist_name)  # clips named by the real name
    generated = await generate_clips(app, profile, request)
    label = profile.artist_name if profile is not None else str(request.style)
    out_dir = artist_folder(app.settings.output_dir, label)
    # On the loop, not in a thread: a few small files without fsync take well under a millisecond,
    # less than handing them to a thread and back costs in wake-ups and GIL switches.
    # The notes JSON gives the pitches the files play (a script or the Live device plays them as they are).
    drum_map = get_drum_map(request.drum_map)  # once: a map file is read and checked here, not per use
    generated.clips = clips_on_kit(generated.clips, drum_map)
    paths = write_clips(generated.clips, out_dir, label)
    elapsed_ms = (time.perf_counter() - started) * 1000.0
    file_ids = await app.store.record_generation(
        artist=profile.artist_name if profile is not None else None,
        request=request_to_json(request),
        provider_used=generated.provider_used,
        generation_time_ms=elapsed_ms,
        files=[(path, clip.name) for path, clip in zip(paths, generated.clips, strict=True)],
        attempts=generated.attempts,
        tokens=generated.tokens,
        cost=generated.cost,
    )
    summary = app.profile_summary(profile) if profile is not None else None
    return GenerationResult(
        request,
        profile,
        generated,
        paths,
        file_ids,
        elapsed_ms,
        profile_json=summary,
        notes_map=drum_map.name,
    )


async def generate_now(app: App, request: GenerationRequest) -> GenerationResult:
    """Generate for a cached or built-in artist (or a style alone); UnknownArtistError if research is needed."""
    profile = None
    if request.artist is not None:
        profile = await resolve_profile(app, request.artist)
        if profile is None:
            raise UnknownArtistError(request.artist, _suggestions(request.artist))
    return await generate_with_profile(app, profile, request)


async def process_request(app: App, request: GenerationRequest) -> tuple[GenerationResult | None, str | None]:
    """The Orchestrator: (result, None) when generated at once, (None, task_id) when research was queued.

    The generation job waits for the artist's research job: the one already queued or running for
    this artist if there is one (a second request for an unknown drummer researches nothing twice).
    """
    try:
        return await generate_now(app, request), None
    except UnknownArtistError:
        pass
    assert request.artist is not None
    research_id, _ = await queue_research(app, request.artist)
    params = {"request": request_to_json(request), "research_task": research_id}
    task_id = await app.scheduler.submit("generate", params, artist=request.artist)
    return None, task_id


def _suggestions(artist: str) -> list[str]:
    from mididrumigen.research.drummers import suggest_names

    return list(suggest_names(artist))


# -- research ---------------------------------------------------------------------------------


async def queue_research(
    app: App, artist: str, *, augment: bool = False, kinds: Sequence[str] | None = None
) -> tuple[str, bool]:
    """Queue research (augment: more sources for a stored artist) unless research already queued or
    running for this artist collects what it would; return (that job's id, whether it is new).

    A new plain research marks the artist pending at once, so GET /artists and /research show it
    while it waits; the job's params say whether that created the artist (see research_and_save).
    """
    params: dict[str, Any] = {"artist": artist, "augment": augment}
    if augment:
        params["kinds"] = list(kinds) if kinds is not None else None

    def covered_by(active: dict[str, Any]) -> bool:
        return collects_all(active["params"].get("kinds"), kinds)

    return await app.scheduler.submit_once(
        "research",
        params,
        artist=artist,
        covered_by=covered_by,
        research_status=None if augment else "pending",
    )


def collects_all(active: Sequence[str] | None, wanted: Sequence[str] | None) -> bool:
    """Whether research collecting the source kinds `active` collects every kind of `wanted` (None or []: all)."""
    return not active or (bool(wanted) and set(wanted or ()) <= set(active))


async def run_research(app: App, artist: str, job: JobContext) -> StyleProfile:
    """Research an artist with the collectors (the hook research jobs call; tests swap in local_research)."""
    from mididrumigen.research import orchestrator as research

    research_fn = research.augment_artist if job.params.get("augment") else research.research_artist
    profile: StyleProfile = await research_fn(app, artist, job)
    return profile


async def local_research(app: App, artist: str, job: JobContext) -> StyleProfile:
    """Research without the network, from the built-in drummer knowledge only.

    Tests put it in place of run_research so that research jobs never go online.
    """
    from mididrumigen.research.drummers import find_builtin

    await job.set_stage("checking built-in drummer knowledge", 10)
    try:
        profile = find_builtin(artist)
    except UnknownArtistError:
        hint = _suggestions(artist)
        near = f" (close built-in names: {', '.join(hint)})" if hint else ""
        raise UserError(f"no built-in knowledge found for {artist!r}{near}", code="no_sources") from None
    return profile


async def research_and_save(app: App, artist: str, job: JobContext) -> StyleProfile:
    """Run research for artist and store the profile in one transaction.

    Research that ends without a profile (failed, cancelled, interrupted) is settled by
    research_stopped, the research job's on_stop hook: the job's params say whether it created
    the artist ("new_artist", set here when the job was queued without insert_job_once).
    """
    store = app.store
    if not job.params.get("new_artist") and await store.get_artist(artist) is None:
        job.params["new_artist"] = True
        await store.update_job(job.id, params=job.params)  # crash-safe, as insert_job_once's
    await store.set_research_status(artist, "researching")
    profile = await run_research(app, artist, job)
    await job.set_stage("saving profile", 95)
    origin = (
        "builtin"
        if profile.sources_count.get("builtin") and sum(profile.sources_count.values()) == 1
        else "research"
    )
    await store.save_profile(profile, origin=origin)
    if profile.artist_name.casefold() != artist.casefold():
        # The name researched resolved to another (e.g. "bonham" -> "John Bonham"): keep no stale row.
        await store.delete_unprofiled_artist(artist)
    return profile


async def research_stopped(app: App, job_id: str, params: dict[str, Any], status: str) -> None:
    """The research job's on_stop hook: research that ended without saving a profile leaves the artist as it
    was (a typo it created is removed: the failed task keeps the reason; an artist known before gets its
    status back), or "pending" when the job runs again after a shutdown or restart. See
    research.orchestrator.settle_unfinished_research."""
    from mididrumigen.research.orchestrator import settle_unfinished_research

    artist = params.get("artist")
    if isinstance(artist, str):
        new = bool(params.get("new_artist"))
        await settle_unfinished_research(
            app.store, artist, new=new, job_id=job_id, resumes=status == "queued"
        )


async def research_job(app: App, job: JobContext) -> dict[str, Any]:
    """Job handler for kind 'research' (params: artist, augment)."""
    profile = await research_and_save(app, str(job.params["artist"]), job)
    return {
        "artist": profile.artist_name,
        "confidence": profile.confidence_score,
        "profile": profile_summary(profile),
    }


async def generate_job(app: App, job: JobContext) -> dict[str, Any]:
    """Job handler for kind 'generate' (params: request, research_task): wait for the research if needed, then generate."""
    request = request_from_json(job.params["request"])
    profile = None
    if request.artist is not None:
        profile = await resolve_profile(app, request.artist)
        if profile is None:
            profile = await researched_profile(app, job, request.artist)
    await job.set_stage("generating", 90)
    result = await generate_with_profile(app, profile, request)
    return result.to_json()


async def researched_profile(app: App, job: JobContext, artist: str) -> StyleProfile:
    """Wait for the research job a generation needs and return the profile it saved; UserError if it found none.

    That job is the one queued with the generation (params["research_task"]); a generation queued
    without one (by an older release) queues research now, or joins the one active for the artist.
    Its stage and progress show here while it runs.
    """
    research_id = job.params.get("research_task")
    if not isinstance(research_id, str) or await app.store.get_job(research_id) is None:
        research_id, _ = await queue_research(app, artist)

    async def show(state: dict[str, Any]) -> None:
        stage = (
            "waiting for a research slot" if state["status"] == "queued" else f"researching: {state['stage']}"
        )
        await job.set_stage(stage, 5 + 0.8 * float(state["progress"]))

    final = await app.scheduler.follow(research_id, show)
    if final["status"] != "succeeded":
        reason = final["error"] or final["status"]
        raise UserError(f"research of {artist!r} ended without a profile: {reason}", code="no_profile")
    found = (final["result"] or {}).get("artist") or artist
    profile = await resolve_profile(app, str(found))
    if profile is None:  # removed since the research saved it
        raise UserError(f"research of {artist!r} saved a profile that is no longer stored", code="no_profile")
    return profile


def register_jobs(app: App) -> None:
    """Register the research and generation job handlers (re-run from scratch after a restart)."""
    app.scheduler.register("research", research_job, resumable=True, on_stop=research_stopped)
    app.scheduler.register("generate", generate_job, resumable=True)
