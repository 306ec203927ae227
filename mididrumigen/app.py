"""The App: one object holding settings, store, scheduler and the shared HTTP session, passed explicitly."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from mididrumigen import __version__
from mididrumigen.jobs import Scheduler
from mididrumigen.settings import Settings
from mididrumigen.store import Store

if TYPE_CHECKING:
    import aiohttp

log = logging.getLogger(__name__)

DATABASE_FILE = "mididrumigen.sqlite"
HTTP_TIMEOUT_S = 60.0


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

    @property
    def llm(self) -> Any:
        """The LLM ProviderPool: SDK clients made once per App (on first use), closed with the App."""
        if self._llm is None:
            from mididrumigen.generation.coordinator import ProviderPool

            self._llm = ProviderPool(self.settings)
        return self._llm

    async def close(self) -> None:
        """Stop jobs (recording them as interrupted), close the HTTP session, close the database."""
        await self.scheduler.close()
        if self._llm is not None:
            await self._llm.aclose()
            self._llm = None
        if self._http is not None:
            await self._http.close()
            self._http = None
        await self.store.close()
