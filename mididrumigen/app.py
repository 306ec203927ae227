"""The App: one object holding settings, store, scheduler and the shared HTTP session, passed explicitly."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Any

from mididrumigen import __version__
from mididrumigen.engine_workers import EngineWorkers
from mididrumigen.jobs import Scheduler
from mididrumigen.settings import Settings
from mididrumigen.store import Store

if TYPE_CHECKING:
    import aiohttp

    from mididrumigen.generation.request import GenerationRequest
    from mididrumigen.midi.notes import Clip
    from mididrumigen.profile import StyleProfile

log = logging.getLogger(__name__)

DATABASE_FILE = "mididrumigen.sqlite"
HTTP_TIMEOUT_S = 60.0
PROFILE_CACHE_SIZE = 256


class App:
    """Everything a request or a job needs; built by App.create, started, and closed once."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.version = __version__
        self.scheduler = Scheduler(
            self,
            {
                "research": int(settings["research_concurrency"]),
                "generate": int(settings["generation_concurrency"]),
            },
        )
        # Filled by other parts: LLM providers by name, research collectors by name.
        self.providers: dict[str, Any] = {}
        self.collectors: dict[str, Any] = {}
        # Made on first use by research: the per-host rate limiter and the text embedder.
        self.rate_limiter: Any = None
        self.embedder: Any = None
        self.started_at = time.time()
        self._http: aiohttp.ClientSession | None = None
        self._llm: Any = None
        self._library: Any = None
        self._library_loaded = False
        # Resolved profiles by the name asked for, with the store's profiles_version they were read at.
        self._profiles: dict[str, tuple[int, StyleProfile]] = {}
        # profile_summary() of those profiles, by id (the entry holds the profile, so the id stays its own).
        self._summaries: dict[int, tuple[int, StyleProfile, dict[str, Any]]] = {}
        # The groove engine's worker processes (started on first use or by warm_engine).
        self._engine_pool: EngineWorkers | None = None
        # Background work started by spawn (e.g. embedding stored profiles after an upgrade), cancelled by close.
        self._background: set[asyncio.Task[None]] = set()

    @classmethod
    async def create(cls, settings: Settings) -> App:
        """Open the store (applying migrations) and register the built-in job handlers."""
        from mididrumigen import orchestrator

        store = await Store.open(settings.data_dir / DATABASE_FILE)
        app = cls(settings, store)
        orchestrator.register_jobs(app)
        return app

    async def start(self) -> None:
        """Store the built-in drummer profiles, then recover and run queued jobs."""
        from mididrumigen import orchestrator

        await orchestrator.seed_builtin_profiles(self)
        await self.scheduler.start()

    def spawn(self, work: Coroutine[Any, Any, None], *, name: str) -> asyncio.Task[None]:
        """Run work in the background until it ends or the App closes; an error in it is logged."""
        task = asyncio.create_task(work, name=name)
        self._background.add(task)
        task.add_done_callback(self._background_done)
        return task

    def _background_done(self, task: asyncio.Task[None]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task %s failed", task.get_name(), exc_info=task.exception())

    @property
    def http(self) -> aiohttp.ClientSession:
        """The one shared aiohttp ClientSession (created on first use, inside the event loop)."""
        if self._http is None or self._http.closed:
            import aiohttp

            self._http = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=HTTP_TIMEOUT_S),
                headers={"User-Agent": f"MidiDrumiGen/{self.version}"},
            )
        return self._http

    def library(self) -> Any:
        """The MIDI template library if the user indexed one (loaded once), else None."""
        if not self._library_loaded:
            index = self.settings.data_dir / "library.json"
            if index.exists():
                from mididrumigen.generation.library import TemplateLibrary

                self._library = TemplateLibrary.open(index)
            self._library_loaded = True
        return self._library

    def text_embedder(self) -> Any:
        """The text embedder research and `similar` use (made once; its model loads on the first embedding)."""
        if self.embedder is None:
            from mididrumigen.research.embeddings import MiniLMEmbedder

            self.embedder = MiniLMEmbedder()
        return self.embedder

    def cached_profile(self, name: str) -> StyleProfile | None:
        """The profile resolved earlier for this name, if no profile was written since (else None)."""
        entry = self._profiles.get(name.casefold())
        if entry is None:
            return None
        if entry[0] != self.store.profiles_version:
            del self._profiles[name.casefold()]
            return None
        return entry[1]

    def cache_profile(self, name: str, profile: StyleProfile, version: int) -> None:
        """Remember the profile resolved for name, read at the store's profiles_version `version`."""
        if version == self.store.profiles_version:
            if len(self._profiles) >= PROFILE_CACHE_SIZE:
                self._profiles.clear()  # names asked for are few; a flood of odd names just starts over
            self._profiles[name.casefold()] = (version, profile)

    def profile_summary(self, profile: StyleProfile) -> dict[str, Any]:
        """orchestrator.profile_summary(profile), made once per resolved profile (callers must not change it)."""
        from mididrumigen.orchestrator import profile_summary

        version = self.store.profiles_version
        entry = self._summaries.get(id(profile))
        if entry is not None and entry[0] == version and entry[1] is profile:
            return entry[2]
        summary = profile_summary(profile)
        if len(self._summaries) >= PROFILE_CACHE_SIZE or (entry is not None and entry[0] != version):
            self._summaries.clear()
        self._summaries[id(profile)] = (version, profile, summary)
        return summary

    def _engine_workers(self) -> EngineWorkers | None:
        """The worker processes for the groove engine (started once), or None when set to run in a thread."""
        count = int(self.settings["engine_processes"])
        if count <= 0:
            return None
        if self._engine_pool is None:
            self._engine_pool = EngineWorkers(count, asyncio.get_running_loop())
        return self._engine_pool

    def warm_engine(self) -> None:
        """Start the engine's worker processes now (they import and warm up) so the first request does not wait."""
        self._engine_workers()

    async def run_engine(
        self, request: GenerationRequest, profile: StyleProfile | None, library: Any = None
    ) -> list[Clip]:
        """Groove-engine clips for a request, made in a worker process (the second core) or else in a thread.

        The event loop's process stays free for HTTP and the database while the engine works;
        requests with a template library run in a thread (the library is not sent to workers).
        """
        from mididrumigen.generation import groove_engine

        workers = self._engine_workers() if library is None else None
        if workers is not None:
            try:
                packed = await workers.run(request, profile)
            except BrokenProcessPool:
                log.warning("the groove engine's worker process died; starting a new one")
                if self._engine_pool is workers:
                    self._engine_pool = None
                workers.close_now()
            else:
                return groove_engine.unpack_clips(packed)
        return await asyncio.to_thread(groove_engine.generate_grooves, request, profile, library)

    @property
    def llm(self) -> Any:
        """The LLM ProviderPool: SDK clients made once per App (on first use), closed with the App."""
        if self._llm is None:
            from mididrumigen.generation.coordinator import ProviderPool

            self._llm = ProviderPool(self.settings)
        return self._llm

    async def close(self) -> None:
        """Stop jobs (recording them as interrupted) and background tasks, close the HTTP session and the database."""
        await self.scheduler.close()
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        if self._engine_pool is not None:
            pool, self._engine_pool = self._engine_pool, None
            await pool.aclose()
        if self._llm is not None:
            await self._llm.aclose()
            self._llm = None
        if self._http is not None:
            await self._http.close()
            self._http = None
        await self.store.close()
