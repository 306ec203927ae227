"""The daemon's generation path (App + orchestrator) through the LLM coordinator and a fake Claude."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from mididrumigen import orchestrator
from mididrumigen.app import App
from mididrumigen.generation.request import GenerationRequest
from mididrumigen.midi.smf import read_midi_file
from mididrumigen.settings import Settings
from tests.fakes.llm_servers import API_KEYS, FakeLLMServer


@pytest.fixture
async def server() -> AsyncIterator[FakeLLMServer]:
    srv = await FakeLLMServer().start()
    yield srv
    await srv.close()


async def test_app_generation_uses_the_llm_and_keeps_one_pool(
    server: FakeLLMServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", API_KEYS["anthropic"])
    settings = Settings({**server.settings_overrides(), "data_dir": str(tmp_path / "data")})
    app = await App.create(settings)
    try:
        request = GenerationRequest(style="funk", bars=2, variations=2, seed=4)
        result = await orchestrator.generate_now(app, request)
        data = result.to_json()
        assert data["provider_used"] == "anthropic"
        outcomes = [(a["provider"], a["outcome"]) for a in data["attempts"]]
        assert sorted(outcomes) == [("anthropic", "ok"), ("anthropic", "ok")]  # no key: google, openai unused
        for entry in data["files"]:
            clip = read_midi_file(entry["path"])
            assert clip.length_ticks == 2 * clip.ticks_per_bar
        pool = app.llm
        provider = await pool.get("anthropic")
        client = provider._client
        assert client is not None
        await orchestrator.generate_now(app, request)
        assert app.llm is pool and await pool.get("anthropic") is provider and provider._client is client
        assert server.calls("anthropic") == 4
    finally:
        await app.close()
    assert provider._client is None  # closed with the App
