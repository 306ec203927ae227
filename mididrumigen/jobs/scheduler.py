"""In-process job scheduler: jobs are rows, handlers are registered by kind, every task is kept."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mididrumigen.errors import NotFoundError, UserError

if TYPE_CHECKING:
    from mididrumigen.app import App

log = logging.getLogger(__name__)

TERMINAL_STATUSES = frozenset({"succeeded", "failed", "cancelled"})
MAX_ATTEMPTS = 3  # a job that keeps dying with the process is failed, not retried forever
SUBSCRIBER_QUEUE_SIZE = 256
INTERRUPTED_BY_RESTART = "interrupted by restart"
INTERRUPTED_BY_SHUTDOWN = "interrupted by shutdown"


class JobContext:
    """What a running handler sees: its params, a way to report progress, and whether it was cancelled."""

    def __init__(
        self, scheduler: Scheduler, job_id: str, kind: str, params: dict[str, Any], attempt: int
    ) -> None:
        self.id = job_id
        self.kind = kind
        self.params = params
        self.attempt = attempt
        self.stage = ""
        self.progress = 0.0
        self._scheduler = scheduler
        self._cancel_requested = False

    @property
    def cancelled(self) -> bool:
        """True once someone asked to cancel this job (the task is also cancelled)."""
        return self._cancel_requested

    def raise_if_cancelled(self) -> None:
        """Raise CancelledError if the job was cancelled (for loops that never await)."""
        if self._cancel_requested:
            raise asyncio.CancelledError

    async def set_stage(self, text: str, progress: float | None = None) -> None:
        """Record the stage text and progress (0-100, never going back) and tell subscribers."""
        if progress is not None:
            if not 0 <= progress <= 100:
                raise ValueError(f"progress must be from 0 to 100, got {progress:g}")
            self.progress = max(self.progress, float(progress))
        self.stage = text
        await self._scheduler.store_and_publish(self.id, stage=text, progress=self.progress)


JobHandler = Callable[["App", JobContext], Awaitable[dict[str, Any] | None]]
# Called as on_stop(app, job_id, params, status) when a job stops without its result, before that status is
# recorded: "queued" (it runs again: a shutdown or a restart interrupted it), "failed" or "cancelled" (also
# when its handler never ran: cancelled while queued, or given up after a restart).
StopHook = Callable[["App", str, dict[str, Any], str], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class JobKind:
    """A registered kind of job: its handler, whether it may be re-run after a restart, its limit group."""

    name: str
    handler: JobHandler
    resumable: bool
    limit_group: str
    timeout_s: float | None
    on_stop: StopHook | None = None


class Scheduler:
    """Runs job rows as asyncio tasks, limited per kind; publishes progress; recovers after restarts."""

    def __init__(self, app: App, limits: dict[str, int]) -> None:
        self.app = app
        self.kinds: dict[str, JobKind] = {}
        self._limits = dict(limits)
        self._semaphores: dict[str, asyncio.Semaphore] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._job_tasks: dict[str, asyncio.Task[Any]] = {}
        self._contexts: dict[str, JobContext] = {}
        self._subscribers: dict[str, set[asyncio.Queue[dict[str, Any]]]] = {}
        self._started = False
        self._closing = False

    def register(
        self,
        kind: str,
        handler: JobHandler,
        *,
        resumable: bool = False,
        limit_group: str | None = None,
        timeout_s: float | None = None,
        on_stop: StopHook | None = None,
    ) -> None:
        """Register (or replace) the handler for a kind of job; on_stop undoes what a job that stops without
        its result leaves behind (see StopHook)."""
        self.kinds[kind] = JobKind(kind, handler, resumable, limit_group or kind, timeout_s, on_stop)

    def limit(self, group: str) -> asyncio.Semaphore:
        """The semaphore bounding how many jobs of a group run at once (default 1)."""
        semaphore = self._semaphores.get(group)
        if semaphore is None:
            semaphore = self._semaphores[group] = asyncio.Semaphore(max(1, self._limits.get(group, 1)))
        return semaphore

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Start a background task and keep its reference until it ends (cancelled on close)."""
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def start(self) -> None:
        """Recover jobs left by a previous process, then run every queued job."""
        await self.recover()
        store = self.app.store
        self._started = True
        for job in await store.jobs_with_status("queued"):
            if job["kind"] in self.kinds:
                self._launch(job["id"], job["kind"], job["params"], job["attempts"])
            else:
                await store.update_job(
                    job["id"],
                    status="failed",
                    error=f"no handler for job kind {job['kind']!r}",
                    finished_at=time.time(),
                )

    async def recover(self) -> None:
        """Settle the jobs a process that died left 'running': queued again (resumable kinds, under
        MAX_ATTEMPTS attempts) or failed, each after its kind's on_stop hook. Only for the one process that
        runs jobs, before it runs any: start() does it, and the CLI when no daemon runs (tasks cancel)."""
        store = self.app.store
        for job in await store.jobs_with_status("running"):
            kind = self.kinds.get(job["kind"])
            if kind is not None and kind.resumable and job["attempts"] < MAX_ATTEMPTS:
                stage = f"resuming after restart (was: {job['stage']})"
                await self._settle(kind, job["id"], job["params"], "queued", stage=stage)
                log.info("job %s (%s) will resume after a restart", job["id"], job["kind"])
            else:
                reason = INTERRUPTED_BY_RESTART
                if kind is not None and kind.resumable:
                    reason += f" (gave up after {job['attempts']} attempts)"
                await self._settle(kind, job["id"], job["params"], "failed", error=reason)
                log.info("job %s (%s) failed: %s", job["id"], job["kind"], reason)

    async def submit(self, kind: str, params: dict[str, Any], *, artist: str | None = None) -> str:
        """Queue a job of a registered kind and return its id."""
        self._check_submit(kind)
        job_id = uuid.uuid4().hex
        await self.app.store.insert_job(job_id, kind, params, artist)
        if self._started:
            self._launch(job_id, kind, params, 0)
        return job_id

    async def submit_once(
        self,
        kind: str,
        params: dict[str, Any],
        *,
        artist: str,
        covered_by: Callable[[dict[str, Any]], bool],
        research_status: str | None = None,
    ) -> tuple[str, bool]:
        """Queue a job for an artist unless an active one already does its work (store.insert_job_once).

        Returns (the id of the job doing the work, whether it is a new job).
        """
        self._check_submit(kind)
        job, created = await self.app.store.insert_job_once(
            uuid.uuid4().hex, kind, params, artist, covered_by=covered_by, research_status=research_status
        )
        if created and self._started:
            self._launch(job["id"], kind, job["params"], 0)
        return job["id"], created

    def _check_submit(self, kind: str) -> None:
        """Raise unless a job of this kind may be queued: a registered kind, and not shutting down."""
        if kind not in self.kinds:
            raise ValueError(f"unknown job kind {kind!r}")
        if self._closing:
            raise UserError("the daemon is shutting down", status=503, code="shutting_down")

    async def follow(
        self, job_id: str, on_change: Callable[[dict[str, Any]], Awaitable[None]] | None = None
    ) -> dict[str, Any]:
        """Wait for another job to end, calling on_change (if given) with its state now and after every
        change; return its final state. For a job that needs another's work: no polling, and nothing to
        lose on a restart (both are rows: the waiting job runs again and follows the other again)."""
        queue = self.subscribe(job_id)
        try:
            state = await self.get(job_id)
            while state["status"] not in TERMINAL_STATUSES:
                if on_change is not None:
                    await on_change(state)
                state = await queue.get()
            return await self.get(job_id)
        finally:
            self.unsubscribe(job_id, queue)

    def _launch(self, job_id: str, kind: str, params: dict[str, Any], attempts: int) -> None:
        task = self.spawn(self._run(job_id, self.kinds[kind], params, attempts), name=f"job-{kind}-{job_id}")
        self._job_tasks[job_id] = task
        task.add_done_callback(lambda _t: self._job_tasks.pop(job_id, None))

    async def _run(self, job_id: str, kind: JobKind, params: dict[str, Any], attempts: int) -> None:
        ctx = JobContext(self, job_id, kind.name, params, attempts + 1)
        self._contexts[job_id] = ctx
        try:
            async with self.limit(kind.limit_group):
                await self.store_and_publish(
                    job_id, status="running", started_at=time.time(), attempts=attempts + 1, stage="started"
                )
                async with asyncio.timeout(kind.timeout_s):
                    result = await kind.handler(self.app, ctx)
            await self.store_and_publish(
                job_id,
                status="succeeded",
                progress=100.0,
                stage="done",
                result=result or {},
                finished_at=time.time(),
            )
        except asyncio.CancelledError:
            await self._record_cancellation(job_id, kind, ctx)
            if not ctx.cancelled:
                raise  # shutting down: let close() see the cancellation
        except TimeoutError:
            await self._fail(kind, ctx, f"timed out after {kind.timeout_s:g} s")
        except (UserError, ValueError) as exc:
            await self._fail(kind, ctx, str(exc))
        except Exception as exc:
            log.exception("job %s (%s) crashed", job_id, kind.name)
            await self._fail(kind, ctx, f"internal error ({type(exc).__name__}); see the daemon log")
        finally:
            self._contexts.pop(job_id, None)

    async def _record_cancellation(self, job_id: str, kind: JobKind, ctx: JobContext) -> None:
        if ctx.cancelled:
            await self._settle(kind, job_id, ctx.params, "cancelled", stage="cancelled")
        elif kind.resumable:
            await self._settle(
                kind, job_id, ctx.params, "queued", stage=f"{INTERRUPTED_BY_SHUTDOWN}; will resume"
            )
        else:
            await self._settle(kind, job_id, ctx.params, "failed", error=INTERRUPTED_BY_SHUTDOWN)

    async def _fail(self, kind: JobKind, ctx: JobContext, message: str) -> None:
        await self._settle(kind, ctx.id, ctx.params, "failed", stage="failed", error=message)

    async def _settle(
        self, kind: JobKind | None, job_id: str, params: dict[str, Any], status: str, **fields: Any
    ) -> None:
        """Record a job that stopped without its result as status (with fields; finished_at if it is final),
        after its kind's on_stop hook; a failing hook is logged, never keeps the job from its status."""
        if kind is not None and kind.on_stop is not None:
            try:
                await kind.on_stop(self.app, job_id, params, status)
            except Exception:
                log.exception("job %s (%s): cleaning up after it stopped failed", job_id, kind.name)
        if status in TERMINAL_STATUSES:
            fields["finished_at"] = time.time()
        await self.store_and_publish(job_id, status=status, **fields)

    async def store_and_publish(self, job_id: str, **fields: Any) -> None:
        """Write job fields to its row, then send the new state to subscribers."""
        await self.app.store.update_job(job_id, **fields)
        if self._subscribers.get(job_id):
            job = await self.app.store.get_job(job_id)
            if job is not None:
                self._publish(job_id, job_event(job))

    def _publish(self, job_id: str, event: dict[str, Any]) -> None:
        for queue in self._subscribers.get(job_id, ()):
            if queue.full():
                queue.get_nowait()  # a slow reader loses old progress, never the newest state
            queue.put_nowait(event)

    def subscribe(self, job_id: str) -> asyncio.Queue[dict[str, Any]]:
        """Return a queue that receives this job's state after every change."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(SUBSCRIBER_QUEUE_SIZE)
        self._subscribers.setdefault(job_id, set()).add(queue)
        return queue

    def unsubscribe(self, job_id: str, queue: asyncio.Queue[dict[str, Any]]) -> None:
        """Stop sending events to a queue."""
        queues = self._subscribers.get(job_id)
        if queues is not None:
            queues.discard(queue)
            if not queues:
                del self._subscribers[job_id]

    async def get(self, job_id: str) -> dict[str, Any]:
        """Return a job's state, or raise NotFoundError."""
        job = await self.app.store.get_job(job_id)
        if job is None:
            raise NotFoundError(f"no task {job_id!r}")
        return job

    async def cancel(self, job_id: str) -> dict[str, Any]:
        """Cancel a queued or running job and return its final state; finished jobs are a 409."""
        job = await self.get(job_id)
        if job["status"] in TERMINAL_STATUSES:
            raise UserError(f"task {job_id} already {job['status']}", status=409, code="task_finished")
        task = self._job_tasks.get(job_id)
        ctx = self._contexts.get(job_id)
        if ctx is not None:
            ctx._cancel_requested = True
        if task is not None and ctx is not None:
            task.cancel()
            await asyncio.wait([task])
        else:
            # Queued but not launched (or not started yet): cancel the row and the task.
            if task is not None:
                task.cancel()
                await asyncio.wait([task])
            await self._settle(
                self.kinds.get(job["kind"]), job_id, job["params"], "cancelled", stage="cancelled"
            )
        return await self.get(job_id)

    async def wait(self, job_id: str, timeout_s: float = 30.0) -> dict[str, Any]:
        """Wait until a job reaches a final state and return it."""
        async with asyncio.timeout(timeout_s):
            return await self.follow(job_id)

    def running_count(self) -> int:
        """How many job tasks are alive."""
        return len(self._job_tasks)

    async def close(self) -> None:
        """Cancel every task and wait for them; running jobs are recorded as interrupted."""
        self._closing = True
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)


def job_event(job: dict[str, Any]) -> dict[str, Any]:
    """The public view of a job: what GET /task and the SSE stream send."""
    return {
        "task_id": job["id"],
        "kind": job["kind"],
        "status": job["status"],
        "stage": job["stage"],
        "progress": job["progress"],
        "error": job["error"],
        "artist": job["artist"],
        "attempts": job["attempts"],
        "created_at": job["created_at"],
        "started_at": job["started_at"],
        "finished_at": job["finished_at"],
        "result": job["result"],
    }


def task_summary(job: dict[str, Any]) -> dict[str, Any]:
    """A job as GET /tasks lists it: job_event without the result (GET /task/{id} has it)."""
    event = job_event(job)
    del event["result"]
    return event
