"""The groove engine's worker processes: one pipe each, read by the event loop itself."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import pickle
import threading
import time
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import multiprocessing.connection
    import multiprocessing.process

    from mididrumigen.generation.groove_engine import PackedClip
    from mididrumigen.generation.request import GenerationRequest
    from mididrumigen.profile import StyleProfile

log = logging.getLogger(__name__)

WORKER_STOP_TIMEOUT_S = 3.0


@dataclass(eq=False)
class _EngineWorker:
    """One engine worker process, the daemon's end of its pipe, and the requests waiting on it."""

    process: multiprocessing.process.BaseProcess
    connection: multiprocessing.connection.Connection
    pending: dict[int, asyncio.Future[Any]] = field(default_factory=dict)
    last_profile: Any = None  # the profile sent with the previous request (the worker keeps it)
    alive: bool = True


class EngineWorkers:
    """The groove engine's worker processes, each behind one pipe that the event loop reads itself.

    No helper threads (unlike a ProcessPoolExecutor's manager and feeder threads, whose wake-ups
    and GIL hand-offs cost the daemon more than the pickling): a request is one pickled message
    out, the answer one message in, read when the loop sees the pipe readable. A profile is sent
    once per worker while it stays the same object. Workers end when their pipe closes, and on
    their own when the daemon dies (groove_engine.exit_with_parent).
    """

    def __init__(self, count: int, loop: asyncio.AbstractEventLoop) -> None:
        import multiprocessing

        from mididrumigen.generation.groove_engine import serve_engine_requests

        # spawn, not fork: the daemon has threads (SQLite, executors) that a fork would copy mid-state.
        context = multiprocessing.get_context("spawn")
        self._loop = loop
        self._next_id = 0
        self._workers: list[_EngineWorker] = []
        for _ in range(count):
            ours, theirs = context.Pipe()
            process = context.Process(
                target=serve_engine_requests,
                args=(theirs, os.getpid()),
                name="mididrumigen-engine",
                daemon=True,
            )
            process.start()
            theirs.close()
            worker = _EngineWorker(process, ours)
            self._workers.append(worker)
            self._watch(worker)

    @property
    def processes(self) -> list[multiprocessing.process.BaseProcess]:
        """The worker processes."""
        return [worker.process for worker in self._workers]

    def _watch(self, worker: _EngineWorker) -> None:
        """Have the loop read the worker's answers; where it cannot watch a pipe (Windows), a thread does."""
        try:
            self._loop.add_reader(worker.connection.fileno(), self._read, worker)
        except NotImplementedError:
            threading.Thread(
                target=self._read_in_thread, args=(worker,), name="engine-reader", daemon=True
            ).start()

    def _read(self, worker: _EngineWorker) -> None:
        try:
            data = worker.connection.recv_bytes()
        except (EOFError, OSError):
            self._lost(worker)
            return
        self._deliver(worker, data)

    def _read_in_thread(self, worker: _EngineWorker) -> None:
        while True:
            try:
                data = worker.connection.recv_bytes()
            except (EOFError, OSError):
                with contextlib.suppress(RuntimeError):  # the loop may be closed already at shutdown
                    self._loop.call_soon_threadsafe(self._lost, worker)
                return
            try:
                self._loop.call_soon_threadsafe(self._deliver, worker, data)
            except RuntimeError:
                return

    def _deliver(self, worker: _EngineWorker, data: bytes) -> None:
        try:
            job_id, ok, value = pickle.loads(data)
        except Exception as exc:  # an error class that does not unpickle here
            log.error("unreadable answer from the groove engine's worker: %s", exc)
            return
        future = worker.pending.pop(job_id, None)
        if future is None or future.done():
            return  # its request was cancelled
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)

    def _lost(self, worker: _EngineWorker) -> None:
        """The worker's pipe closed under us: it died. Its waiting requests fail with BrokenProcessPool."""
        if not worker.alive:
            return
        worker.alive = False
        self._unwatch(worker)
        for future in worker.pending.values():
            if not future.done():
                future.set_exception(BrokenProcessPool("the groove engine's worker process died"))
        worker.pending.clear()

    def _unwatch(self, worker: _EngineWorker) -> None:
        with contextlib.suppress(NotImplementedError, OSError, ValueError):
            self._loop.remove_reader(worker.connection.fileno())

    async def run(self, request: GenerationRequest, profile: StyleProfile | None) -> list[PackedClip]:
        """generate_grooves_packed(request, profile) in the least busy worker; BrokenProcessPool if it dies."""
        from mididrumigen.generation.groove_engine import SAME_PROFILE

        worker = min(self._workers, key=lambda w: (not w.alive, len(w.pending)))
        if not worker.alive:
            raise BrokenProcessPool("the groove engine's worker process died")
        if profile is not None and profile is worker.last_profile:
            sent: Any = SAME_PROFILE
        elif profile is not None and profile.embedding is not None:
            sent = dataclasses.replace(profile, embedding=None)  # the engine does not use it: do not ship it
        else:
            sent = profile
        job_id = self._next_id
        self._next_id += 1
        data = pickle.dumps((job_id, request, sent), protocol=pickle.HIGHEST_PROTOCOL)
        future: asyncio.Future[list[PackedClip]] = self._loop.create_future()
        worker.pending[job_id] = future
        try:
            worker.connection.send_bytes(
                data
            )  # small (a request and at most one profile): never fills the pipe
        except OSError:
            self._lost(worker)
            raise BrokenProcessPool("the groove engine's worker process died") from None
        worker.last_profile = profile
        try:
            return await future
        finally:
            worker.pending.pop(job_id, None)

    def _close_pipes(self) -> None:
        """Fail what waits on the workers and close their pipes (a worker exits when its pipe closes)."""
        for worker in self._workers:
            self._lost(worker)
            worker.connection.close()

    def close_now(self) -> None:
        """Stop the workers without waiting: close the pipes, kill any still running."""
        self._close_pipes()
        for worker in self._workers:
            if worker.process.is_alive():
                worker.process.kill()

    async def aclose(self) -> None:
        """Stop the workers: close the pipes, wait a little for them to exit, then kill what is left."""
        self._close_pipes()

        def join() -> None:
            deadline = time.monotonic() + WORKER_STOP_TIMEOUT_S
            for worker in self._workers:
                worker.process.join(max(0.0, deadline - time.monotonic()))
                if worker.process.is_alive():
                    worker.process.kill()
                    worker.process.join(1.0)

        await asyncio.to_thread(join)
