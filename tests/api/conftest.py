"""A real daemon (App + API) on an ephemeral loopback port, and a client that sends the token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from mididrumigen.api import GUARD, RUNNER_OPTIONS, build_api
from mididrumigen.app import App
from mididrumigen.settings import SETTINGS, Settings

TOKEN = "test-token-0123456789abcdef0123456789abcdef"


@dataclass
class Running:
    """A started App served on 127.0.0.1:port."""

    app: App
    server: TestServer
    port: int
    url: str

    def client(self, token: str | None = TOKEN, **headers: str) -> aiohttp.ClientSession:
        """A session whose requests carry the token (unless None) and extra headers."""
        sent = dict(headers)
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        return aiohttp.ClientSession(base_url=self.url, headers=sent)


async def start_daemon(tmp_path: Path, **overrides: Any) -> Running:
    """Create, start and serve an App with settings overrides."""
    values: dict[str, Any] = {"data_dir": str(tmp_path / "data"), "rate_limit_per_hour": 1000}
    # Every outside service points at a closed local port: nothing here may reach the internet.
    values.update({s.name: "http://127.0.0.1:9" for s in SETTINGS if s.name.endswith("_base_url")})
    values.update(overrides)
    app = await App.create(Settings(values))
    await app.start()
    api = build_api(app, TOKEN)
    server = TestServer(api, host="127.0.0.1", port=0)
    await server.start_server(**RUNNER_OPTIONS)
    assert server.port is not None
    api[GUARD].port = server.port
    return Running(app, server, server.port, f"http://127.0.0.1:{server.port}")


async def stop_daemon(running: Running) -> None:
    """Close the server, then the App."""
    await running.server.close()
    await running.app.close()


@pytest.fixture(autouse=True)
def offline_research(monkeypatch: pytest.MonkeyPatch) -> None:
    """Research jobs here use the offline path (built-in knowledge only): tests never go online.

    The collectors have their own tests with local fakes; these tests are about the job plumbing.
    """
    from mididrumigen import orchestrator

    monkeypatch.setattr(orchestrator, "run_research", orchestrator.local_research)


@pytest.fixture
async def daemon(tmp_path: Path) -> AsyncIterator[Running]:
    """A running daemon with default settings (rate limit raised for tests)."""
    running = await start_daemon(tmp_path)
    yield running
    await stop_daemon(running)


@pytest.fixture
async def client(daemon: Running) -> AsyncIterator[aiohttp.ClientSession]:
    """A session with the right token."""
    async with daemon.client() as session:
        yield session


def assert_error(body: Any, code: str | None = None) -> dict[str, Any]:
    """Check the one error shape and return the error object."""
    assert isinstance(body, dict) and set(body) == {"error"}, body
    error = body["error"]
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    assert "Traceback" not in error["message"]
    if code is not None:
        assert error["code"] == code, error
    return error
