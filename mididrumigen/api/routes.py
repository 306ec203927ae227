"""The /api/v1 routes: one table drives both the router and the OpenAPI document."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, NoReturn, TypeVar
from urllib.parse import quote

from aiohttp import web
from pydantic import BaseModel, ValidationError

from mididrumigen import orchestrator
from mididrumigen.api import models
from mididrumigen.api.errors import ApiError, validation_error
from mididrumigen.api.security import NOTHING_STARTED_KEY
from mididrumigen.app import App
from mididrumigen.errors import NotFoundError, UnknownArtistError, UserError
from mididrumigen.jobs import TERMINAL_STATUSES, job_event, task_summary
from mididrumigen.store.store import JOB_STATUSES

PREFIX = "/api/v1"
ID_PATTERN = re.compile(r"^[0-9a-f]{32}$")
SSE_KEEPALIVE_S = 15.0
SHUTDOWN_MESSAGE = "the daemon is shutting down"
MAX_SIMILAR = 100  # as `mididrumigen similar --limit` (and find_similar) allow, with or without a daemon
MAX_TASKS = 200
DEFAULT_TASKS = 50
MAX_INT_DIGITS = 100  # the longest number a body needs is a 19-digit seed
# One byte range; a longer number than 18 digits is no offset into a MIDI file.
BYTE_RANGE = re.compile(r"bytes=(\d{0,18})-(\d{0,18})", re.ASCII | re.IGNORECASE)

APP = web.AppKey("app", App)
log = logging.getLogger(__name__)


@dataclass(slots=True)
class OpenStreams:
    """The queues of open SSE streams, woken on shutdown so each sends a last event and ends."""

    queues: set[asyncio.Queue[dict[str, Any]]] = field(default_factory=set)
    closing: bool = False


STREAMS = web.AppKey("streams", OpenStreams)
BodyT = TypeVar("BodyT", bound=BaseModel)
RouteHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class Param:
    """A path or query parameter, for validation docs and OpenAPI."""

    name: str
    where: str  # "path" | "query"
    schema: dict[str, Any]
    description: str
    required: bool = True


@dataclass(frozen=True, slots=True)
class Route:
    """One API route: method, path, handler and what OpenAPI says about it."""

    method: str
    path: str
    handler: RouteHandler
    name: str
    summary: str
    responses: dict[int, tuple[str, type[BaseModel] | None]]
    body: type[BaseModel] | None = None
    body_required: bool = True
    params: tuple[Param, ...] = ()
    public: bool = False
    rate_limited: bool = False
    content_type: str = "application/json"
    errors: tuple[int, ...] = field(default=())
    allow_head: bool = True  # a GET route also answers HEAD


# -- helpers ----------------------------------------------------------------------------------


def app_of(request: web.Request) -> App:
    """The App this server belongs to."""
    return request.app[APP]


def reply(data: dict[str, Any], status: int = 200) -> web.Response:
    """A JSON answer."""
    return web.json_response(data, status=status, dumps=lambda v: json.dumps(v, separators=(",", ":")))


def _refuse_constant(name: str) -> NoReturn:
    # Python's json reads NaN and Infinity, which standard JSON does not have.
    raise ApiError(400, f"request body is not valid JSON: {name} is not a JSON number", code="bad_json")


def _bounded_int(text: str) -> int:
    # Python refuses to convert over 4300 digits with a message about sys.set_int_max_str_digits();
    # no field takes a number anywhere near this long, so say so plainly first.
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ApiError(400, f"request body has a number longer than {MAX_INT_DIGITS} digits", code="bad_json")
    return int(text)


def load_json(raw: bytes) -> Any:
    """Parse a request body as standard JSON; 400 bad_json for anything else, in plain words."""
    try:
        return json.loads(raw, parse_constant=_refuse_constant, parse_int=_bounded_int)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"request body is not valid JSON: {exc}", code="bad_json") from None
    except RecursionError:
        raise ApiError(400, "request body is nested too deeply", code="bad_json") from None


def refuse_encoded_body(request: web.Request) -> None:
    """415 for a body sent with a Content-Encoding other than identity, before it is read."""
    # Local clients never compress. The runner hands bodies over as sent (RUNNER_OPTIONS), so this
    # is the one place that decides, and it answers in the error shape before reading a byte.
    sent = ", ".join(request.headers.getall("Content-Encoding", ()))
    if any(part.strip().lower() not in ("", "identity") for part in sent.split(",")):
        raise ApiError(
            415,
            f"send the body uncompressed: Content-Encoding {sent!r} is not accepted, only identity",
            code="unsupported_encoding",
            headers={"Accept-Encoding": "identity"},
        )


async def parse_body(request: web.Request, model: type[BodyT], *, required: bool = True) -> BodyT:
    """Read and validate a JSON body; 415 for other media types, 400 for bad JSON, 422 naming the field."""
    refuse_encoded_body(request)
    raw = await request.read() if request.can_read_body else b""
    if not raw.strip():
        if required:
            raise ApiError(400, "request body is empty; send a JSON object", code="bad_json")
        return model()
    if request.content_type != "application/json":
        raise ApiError(415, "send the body as application/json")
    data = load_json(raw)
    if not isinstance(data, dict):
        raise ApiError(400, "request body must be a JSON object", code="bad_json")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc) from None


def artist_param(request: web.Request) -> str:
    """The {artist} path part, URL-decoded by aiohttp and validated as a body's artist is: a bad name is the
    same 422 validation_error naming the field "artist", in the path or in a body."""
    try:
        return models.ResearchBody.model_validate({"artist": request.match_info["artist"]}).artist
    except ValidationError as exc:
        raise validation_error(exc) from None


def id_param(request: web.Request, name: str, what: str) -> str:
    """A 32-hex-digit id from the path; anything else is simply not found."""
    value = request.match_info[name]
    if not ID_PATTERN.match(value):
        raise NotFoundError(f"no {what} {value[:80]!r}")
    return value


def task_links(task_id: str) -> dict[str, str]:
    """Where to poll or stream a task."""
    return {"status_url": f"{PREFIX}/task/{task_id}", "events_url": f"{PREFIX}/task/{task_id}/events"}


def accepted(task_id: str, created: bool, artist: str | None) -> web.Response:
    """The 202 for work queued: status "queued" for a new task, "already_queued" for the task already
    queued or running that does the same work (its id; no second job, and nothing counted by the rate limit)."""
    status = "queued" if created else "already_queued"
    response = reply({"task_id": task_id, "status": status, "artist": artist, **task_links(task_id)}, 202)
    if not created:
        response[NOTHING_STARTED_KEY] = True
    return response


def unknown_artist(app: App, name: str) -> UnknownArtistError:
    """The 404 for an artist we know nothing about, with close built-in names."""
    return UnknownArtistError(name, orchestrator._suggestions(name))


# -- handlers ---------------------------------------------------------------------------------


async def post_research(request: web.Request) -> web.Response:
    """Research an artist: 200 with the profile if cached, else 202 with a task id."""
    app = app_of(request)
    body = await parse_body(request, models.ResearchBody)
    profile = await orchestrator.resolve_profile(app, body.artist)
    if profile is not None:
        row = await app.store.get_artist(profile.artist_name)
        cached = reply(
            {
                "artist": profile.artist_name,
                "status": "cached",
                "confidence": profile.confidence_score,
                "origin": row.origin if row else None,
                "task_id": None,
                "profile": orchestrator.profile_summary(profile),
            }
        )
        cached[NOTHING_STARTED_KEY] = True  # a profile it already had: no research started
        return cached
    task_id, created = await orchestrator.queue_research(app, body.artist)
    return accepted(task_id, created, body.artist)


async def get_research(request: web.Request) -> web.Response:
    """An artist's research status, with the profile once cached."""
    app = app_of(request)
    name = artist_param(request)
    profile = await orchestrator.resolve_profile(app, name)
    row = await app.store.get_artist(profile.artist_name if profile else name)
    if row is None:
        raise unknown_artist(app, name)
    active = await app.store.active_job_for("research", row.name)
    return reply(
        {
            "artist": row.name,
            "status": row.research_status,
            "confidence": row.confidence,
            "origin": row.origin,
            "task_id": active["id"] if active else None,
            "profile": orchestrator.profile_summary(profile) if profile else None,
        }
    )


async def post_generate(request: web.Request) -> web.Response:
    """Generate: 200 with files for a cached or built-in artist, else 202 with a task id (research first)."""
    app = app_of(request)
    body = await parse_body(request, models.GenerateBody)
    generation_request = body.to_request(app.settings)
    result, task_id = await orchestrator.process_request(app, generation_request)
    if result is not None:
        return web.Response(text=result.to_json_text(), content_type="application/json")
    assert task_id is not None
    return accepted(task_id, True, generation_request.artist)


async def post_augment(request: web.Request) -> web.Response:
    """Queue more research for a known artist (new sources are merged into its profile)."""
    app = app_of(request)
    name = artist_param(request)
    body = await parse_body(request, models.AugmentBody, required=False)
    profile = await orchestrator.resolve_profile(app, name)
    row = await app.store.get_artist(profile.artist_name if profile else name)
    if row is None:
        raise unknown_artist(app, name)
    task_id, created = await orchestrator.queue_research(app, row.name, augment=True, kinds=body.kinds)
    return accepted(task_id, created, row.name)


async def get_task(request: web.Request) -> web.Response:
    """A task's status, stage, progress, error and result."""
    task_id = id_param(request, "task_id", "task")
    return reply(job_event(await app_of(request).scheduler.get(task_id)))


def limit_param(request: web.Request, default: int, most: int) -> int:
    """The ?limit= query value, a whole number from 1 to most; 400 naming the field otherwise."""
    raw = request.query.get("limit", str(default))
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 20 and 1 <= int(raw) <= most):
        raise ApiError(400, f"limit must be a whole number from 1 to {most}", field="limit")
    return int(raw)


def status_params(request: web.Request) -> list[str]:
    """The ?status= query values (repeat the parameter for several); 400 naming the field for another."""
    wanted = request.query.getall("status", [])
    for value in wanted:
        if value not in JOB_STATUSES:
            raise ApiError(
                400,
                f"status must be one of {', '.join(JOB_STATUSES)}, got {value[:40]!r};"
                " repeat the parameter for several (?status=queued&status=running)",
                field="status",
            )
    return list(dict.fromkeys(wanted))


async def list_tasks(request: web.Request) -> web.Response:
    """Recent tasks, newest first, optionally only those in some statuses."""
    statuses = status_params(request)
    limit = limit_param(request, DEFAULT_TASKS, MAX_TASKS)
    jobs = await app_of(request).store.recent_jobs(statuses, limit)
    return reply({"tasks": [task_summary(job) for job in jobs]})


async def delete_task(request: web.Request) -> web.Response:
    """Cancel a queued or running task."""
    task_id = id_param(request, "task_id", "task")
    return reply(job_event(await app_of(request).scheduler.cancel(task_id)))


def _sse(event: str, data: dict[str, Any], event_id: int) -> bytes:
    return f"id: {event_id}\nevent: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


async def task_events(request: web.Request) -> web.StreamResponse:
    """Server-Sent Events: the task's state now and after every change, until it ends or the daemon stops."""
    scheduler = app_of(request).scheduler
    task_id = id_param(request, "task_id", "task")
    streams = request.app[STREAMS]
    queue = scheduler.subscribe(task_id)
    streams.queues.add(queue)
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )
    try:
        state = job_event(await scheduler.get(task_id))
        await response.prepare(request)
        event_id = 0
        while True:
            if streams.closing:
                # A last event and a proper end instead of a stream cut off mid-chunk.
                await response.write(
                    _sse("shutdown", {"task_id": task_id, "message": SHUTDOWN_MESSAGE}, event_id)
                )
                break
            final = state["status"] in TERMINAL_STATUSES
            await response.write(_sse(state["status"] if final else "progress", state, event_id))
            event_id += 1
            if final:
                break
            try:
                async with asyncio.timeout(SSE_KEEPALIVE_S):
                    state = await queue.get()
            except TimeoutError:
                await response.write(b": keep-alive\n\n")
                state = job_event(await scheduler.get(task_id))
        await response.write_eof()
        return response
    except ConnectionError:
        # The client left (found at the next write or keep-alive): the normal end of a stream.
        log.debug("event stream of task %s closed by the client", task_id)
        return response
    finally:
        scheduler.unsubscribe(task_id, queue)
        streams.queues.discard(queue)


async def get_similar(request: web.Request) -> web.Response:
    """Nearest artists by profile embedding (cosine KNN over sqlite-vec)."""
    app = app_of(request)
    name = artist_param(request)
    limit = limit_param(request, 10, MAX_SIMILAR)
    found = await app.store.similar(name, limit)  # the common case: one indexed lookup + the KNN
    canonical = name
    if found is None:
        profile = await orchestrator.resolve_profile(app, name)
        if profile is None:
            raise unknown_artist(app, name)
        canonical = profile.artist_name
        found = await app.store.similar(canonical, limit)
        if found is None:
            # A profile without a vector (vectors of an older scheme dropped by an upgrade and not yet
            # refilled in the background, or research saved without one): embed it now.
            try:
                embedded = await orchestrator.embed_missing_profile(app, canonical)
            except UserError as exc:  # no research extra: nothing can embed it here
                raise ApiError(
                    409, f"{canonical!r} has no embedding: {exc.message}", code="no_embedding"
                ) from None
            found = await app.store.similar(canonical, limit) if embedded else None
        if found is None:
            raise ApiError(
                409, f"{canonical!r} has no embedding yet; research computes one", code="no_embedding"
            )
    else:
        row = await app.store.get_artist(name)
        canonical = row.name if row is not None else name
    return reply({"artist": canonical, "similar": [s.to_json() for s in found]})


async def list_artists(request: web.Request) -> web.Response:
    """Every cached artist with origin, research status and confidence."""
    rows = await app_of(request).store.list_artists()
    return reply({"artists": [r.to_json() for r in rows]})


async def delete_artist(request: web.Request) -> web.Response:
    """Remove a researched artist, or what research added to a built-in drummer (409 if nothing was, or while
    research of it is queued or running)."""
    return reply(await orchestrator.forget_artist(app_of(request).store, artist_param(request)))


def byte_range(request: web.Request, size: int) -> tuple[int, int] | None:
    """The (start, stop) a Range header asks for, None to send the whole file; 416 if it is past the end."""
    header = request.headers.get("Range")
    match = BYTE_RANGE.fullmatch(header.strip()) if header is not None else None
    # RFC 9110 14.2: a Range we cannot parse (or several ranges) is ignored, and so is one sent with
    # If-Range, whose validator cannot match: these answers carry no ETag or Last-Modified.
    if match is None or "If-Range" in request.headers or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if not first:  # the last `last` bytes
        if int(last) == 0 or size == 0:
            raise _unsatisfiable(size)
        return max(size - int(last), 0), size
    start = int(first)
    if last and int(last) < start:
        return None
    if start >= size:
        raise _unsatisfiable(size)
    return start, (min(int(last) + 1, size) if last else size)


def _unsatisfiable(size: int) -> ApiError:
    message = f"the range asked for is past the end of the file ({size} bytes)"
    return ApiError(416, message, headers={"Content-Range": f"bytes */{size}"})


async def get_file(request: web.Request) -> web.Response:
    """Download a generated .mid by id (paths only ever come from the generated_files table)."""
    app = app_of(request)
    file_id = id_param(request, "file_id", "file")
    row = await app.store.get_file(file_id)
    if row is None or row.path.suffix != ".mid":
        raise NotFoundError(f"no file {file_id!r}")
    # Not web.FileResponse: it answers a bad Range, a failed precondition or a vanished file with an
    # empty body. These files are a few KB: read whole, every error is in the one shape.
    try:
        data = await asyncio.to_thread(row.path.read_bytes)
    except OSError:
        raise NotFoundError(f"no file {file_id!r}") from None
    disposition = f"attachment; filename=\"{row.path.name}\"; filename*=UTF-8''{quote(row.path.name)}"
    headers = {"Content-Type": "audio/midi", "Content-Disposition": disposition, "Accept-Ranges": "bytes"}
    part = byte_range(request, len(data))
    if part is None:
        return web.Response(body=data, headers=headers)
    start, stop = part
    headers["Content-Range"] = f"bytes {start}-{stop - 1}/{len(data)}"
    return web.Response(body=data[start:stop], status=206, headers=headers)


async def get_stats(request: web.Request) -> web.Response:
    """Stored counts, jobs by status, generation timing, uptime."""
    app = app_of(request)
    data = await app.store.stats()
    data["uptime_s"] = round(time.time() - app.started_at, 1)
    data["running_tasks"] = app.scheduler.running_count()
    data["pid"] = os.getpid()
    data["version"] = app.version
    return reply(data)


async def get_providers(request: web.Request) -> web.Response:
    """Which LLM providers are configured and reachable (keys never shown)."""
    from mididrumigen.generation.providers.status import provider_status

    app = app_of(request)
    return reply({"providers": await provider_status(app.settings, session=app.http)})


async def get_health(request: web.Request) -> web.Response:
    """Liveness, without a token."""
    app = app_of(request)
    return reply({"status": "ok", "version": app.version})


async def get_openapi(request: web.Request) -> web.Response:
    """The OpenAPI 3 document built from this route table."""
    from mididrumigen.api.openapi import openapi_document

    return reply(openapi_document(app_of(request).version))


# -- the table --------------------------------------------------------------------------------

ARTIST = Param(
    "artist", "path", {"type": "string", "minLength": 1, "maxLength": 200}, "Drummer name (URL-encoded)."
)
TASK_ID = Param(
    "task_id", "path", {"type": "string", "pattern": "^[0-9a-f]{32}$"}, "Task id from a 202 answer."
)
FILE_ID = Param(
    "file_id", "path", {"type": "string", "pattern": "^[0-9a-f]{32}$"}, "File id from a generate answer."
)
LIMIT = Param(
    "limit",
    "query",
    {"type": "integer", "minimum": 1, "maximum": MAX_SIMILAR, "default": 10},
    "Neighbours.",
    False,
)
TASKS_LIMIT = Param(
    "limit",
    "query",
    {"type": "integer", "minimum": 1, "maximum": MAX_TASKS, "default": DEFAULT_TASKS},
    "How many tasks at most (newest first).",
    False,
)
TASK_STATUS = Param(
    "status",
    "query",
    {"type": "array", "items": {"type": "string", "enum": list(JOB_STATUSES)}},
    "Only tasks in these statuses; repeat the parameter for several (?status=queued&status=running)."
    " All statuses when omitted.",
    False,
)

ROUTES: tuple[Route, ...] = (
    Route("POST", "/research", post_research, "research", "Research an artist (or get the cached profile)",
          {200: ("Profile already cached", models.ResearchState), 202: ("Research queued", models.TaskAccepted)},
          body=models.ResearchBody, rate_limited=True, errors=(400, 415, 422, 429)),
    Route("GET", "/research/{artist}", get_research, "research_status", "Research status and cached profile",
          {200: ("Status", models.ResearchState)}, params=(ARTIST,), errors=(400, 404, 422)),
    Route("POST", "/generate", post_generate, "generate", "Generate drum MIDI in an artist's style",
          {200: ("Files written", models.GenerateReply), 202: ("Research then generation queued", models.TaskAccepted)},
          body=models.GenerateBody, rate_limited=True, errors=(400, 415, 422, 429)),
    Route("POST", "/augment/{artist}", post_augment, "augment", "Collect more sources for a known artist",
          {202: ("Research queued", models.TaskAccepted)}, body=models.AugmentBody, body_required=False,
          params=(ARTIST,), rate_limited=True, errors=(400, 404, 415, 422, 429)),
    Route("GET", "/tasks", list_tasks, "tasks", "Recent tasks, newest first (optionally only some statuses)",
          {200: ("Tasks", models.TaskList)}, params=(TASK_STATUS, TASKS_LIMIT), errors=(400,)),
    Route("GET", "/task/{task_id}", get_task, "task", "A task's state",
          {200: ("State", models.TaskState)}, params=(TASK_ID,), errors=(404,)),
    Route("DELETE", "/task/{task_id}", delete_task, "task_cancel", "Cancel a task",
          {200: ("Final state", models.TaskState)}, params=(TASK_ID,), errors=(404, 409)),
    Route("GET", "/task/{task_id}/events", task_events, "task_events", "A task's progress as Server-Sent Events",
          {200: ("Event stream", None)}, params=(TASK_ID,), content_type="text/event-stream", errors=(404,),
          allow_head=False),
    Route("GET", "/similar/{artist}", get_similar, "similar", "Artists with the nearest style embeddings",
          {200: ("Neighbours", models.SimilarReply)}, params=(ARTIST, LIMIT), errors=(400, 404, 409, 422)),
    Route("GET", "/artists", list_artists, "artists", "Cached artists",
          {200: ("Artists", models.ArtistList)}),
    Route("DELETE", "/artists/{artist}", delete_artist, "artist_delete",
          "Remove a researched artist, or the research added to a built-in drummer (409: builtin_artist, nothing"
          " to remove; research_running, research of it is queued or running: cancel that task first)",
          {200: ("Removed", models.Deleted)}, params=(ARTIST,), errors=(400, 404, 409, 422)),
    Route("GET", "/files/{file_id}", get_file, "file", "Download a generated .mid file",
          {200: ("The MIDI file", None), 206: ("The byte range a Range header asked for", None)},
          params=(FILE_ID,), content_type="audio/midi", errors=(404, 416)),
    Route("GET", "/providers", get_providers, "providers", "LLM providers: configured and reachable (no keys)",
          {200: ("Providers", models.ProviderList)}),
    Route("GET", "/stats", get_stats, "stats", "Counts and timings", {200: ("Stats", models.Stats)}),
    Route("GET", "/health", get_health, "health", "Liveness (no token needed)",
          {200: ("Alive", models.Health)}, public=True),
    Route("GET", "/openapi.json", get_openapi, "openapi", "This OpenAPI document", {200: ("OpenAPI 3", None)}),
)  # fmt: skip


async def close_streams(api: web.Application) -> None:
    """on_shutdown: wake every open event stream to send its shutdown event and end."""
    streams = api[STREAMS]
    streams.closing = True
    for queue in streams.queues:
        # Any item wakes the stream, which looks at `closing` before it looks at the item. The
        # server then waits for the streams to end (shutdown_timeout) before it cancels any.
        if queue.full():
            queue.get_nowait()
        queue.put_nowait({})


def add_routes(api: web.Application) -> None:
    """Register every route of the table under /api/v1."""
    api[STREAMS] = OpenStreams()
    api.on_shutdown.append(close_streams)
    for route in ROUTES:
        if route.method == "GET":
            api.router.add_get(
                PREFIX + route.path, route.handler, name=route.name, allow_head=route.allow_head
            )
        else:
            api.router.add_route(route.method, PREFIX + route.path, route.handler, name=route.name)
