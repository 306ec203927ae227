"""Each provider through its real SDK against a fake server speaking the real wire format."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from mididrumigen.generation.prompt import BASE_PIECES, GridSpec, groove_schema
from mididrumigen.generation.providers import PROVIDER_CLASSES, LLMProvider, PromptSpec, ProviderError
from mididrumigen.generation.providers.base import (
    AUTH,
    BAD_REQUEST,
    BAD_RESPONSE,
    OVERLOADED,
    RATE_LIMITED,
    SERVER_ERROR,
    retry_after_seconds,
)
from mididrumigen.generation.providers.google import gemini_schema
from mididrumigen.settings import Settings
from tests.fakes.llm_servers import API_KEYS, FakeLLMServer
from tests.fakes.offline_resolver import NoNameResolves

SPEC = GridSpec(bars=2, time_signature=(4, 4), tempo_bpm=100.0, pieces=BASE_PIECES)
SCHEMA = groove_schema(SPEC)
PROMPT = PromptSpec(system="you are a drummer", user="write 2 bars", max_output_tokens=900, seed=11)
ALL = ("anthropic", "google", "openai", "local")


@pytest.fixture
async def server() -> AsyncIterator[FakeLLMServer]:
    srv = await FakeLLMServer().start()
    yield srv
    await srv.close()


def make(server: FakeLLMServer, name: str, key: str | None = "from-fake", **settings: Any) -> LLMProvider:
    values = {**server.settings_overrides(), "local_enabled": True, "llm_timeout_s": 5.0, **settings}
    api_key = API_KEYS.get(name) if key == "from-fake" else key
    return PROVIDER_CLASSES[name](Settings(values), api_key)


def grid_of(response: Any) -> dict[str, Any]:
    return response.data if response.data is not None else json.loads(response.text)


@pytest.mark.parametrize("name", ALL)
async def test_success_returns_the_grid_usage_and_model(server: FakeLLMServer, name: str) -> None:
    provider = make(server, name)
    try:
        response = await provider.generate(PROMPT, SCHEMA)
    finally:
        await provider.aclose()
    grid = grid_of(response)
    assert len(grid["bars"]) == 2
    assert set(grid["bars"][0]) == set(BASE_PIECES)
    assert all(len(row) == 16 for row in grid["bars"][0].values())
    assert response.tokens_in > 0 and response.tokens_out > 0
    assert response.model == provider.model
    assert response.latency_ms > 0
    assert not response.truncated
    assert server.calls(name) == 1


async def test_anthropic_sends_a_forced_tool_with_the_schema(server: FakeLLMServer) -> None:
    provider = make(server, "anthropic")
    try:
        response = await provider.generate(PROMPT, SCHEMA)
    finally:
        await provider.aclose()
    assert response.data is not None  # tool_use input arrives as parsed JSON
    body = server.received[0].body
    assert body["tools"][0]["input_schema"] == SCHEMA
    assert body["tool_choice"] == {"type": "tool", "name": PROMPT.tool_name}
    assert body["system"] == PROMPT.system
    assert body["max_tokens"] == 900
    assert server.received[0].path == "/v1/messages"


async def test_google_sends_json_mime_type_and_a_gemini_schema(server: FakeLLMServer) -> None:
    provider = make(server, "google")
    try:
        await provider.generate(PROMPT, SCHEMA)
    finally:
        await provider.aclose()
    received = server.received[0]
    assert received.path == f"/v1beta/models/{provider.model}:generateContent"
    config = received.body["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    schema_text = json.dumps(config["responseSchema"])
    assert "additionalProperties" not in schema_text
    bars = config["responseSchema"]["properties"]["bars"]
    # Protobuf JSON takes either spelling; this SDK version sends snake_case.
    assert bars.get("minItems", bars.get("min_items")) == 2
    assert bars.get("maxItems", bars.get("max_items")) == 2
    assert received.body["systemInstruction"]["parts"][0]["text"] == PROMPT.system
    assert config["seed"] == 11


@pytest.mark.parametrize("name", ["openai", "local"])
async def test_openai_compatible_sends_a_json_schema_response_format(
    server: FakeLLMServer, name: str
) -> None:
    provider = make(server, name)
    try:
        await provider.generate(PROMPT, SCHEMA)
    finally:
        await provider.aclose()
    body = server.received[0].body
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["schema"] == SCHEMA
    assert body["response_format"]["json_schema"]["strict"] is (name == "openai")
    assert body["messages"][0] == {"role": "system", "content": PROMPT.system}
    assert body["seed"] == 11


@pytest.mark.parametrize(
    ("name", "behaviour", "reason", "status"),
    [
        ("anthropic", "rate_limited", RATE_LIMITED, 429),
        ("anthropic", "overloaded", OVERLOADED, 529),
        ("anthropic", "unavailable", SERVER_ERROR, 503),
        ("anthropic", "bad_request", BAD_REQUEST, 400),
        ("google", "rate_limited", RATE_LIMITED, 429),
        ("google", "unavailable", SERVER_ERROR, 503),
        ("openai", "rate_limited", RATE_LIMITED, 429),
        ("openai", "unavailable", SERVER_ERROR, 503),
        ("local", "unavailable", SERVER_ERROR, 503),
    ],
)
async def test_http_errors_map_to_reasons_without_sdk_retries(
    server: FakeLLMServer, name: str, behaviour: str, reason: str, status: int
) -> None:
    server.retry_after_s = 7
    server.script(name, behaviour)
    provider = make(server, name)
    try:
        with pytest.raises(ProviderError) as caught:
            await provider.generate(PROMPT, SCHEMA)
    finally:
        await provider.aclose()
    assert caught.value.reason == reason
    assert caught.value.status == status
    assert caught.value.provider == name
    if behaviour == "rate_limited":
        assert caught.value.retry_after_s == 7
    assert server.calls(name) == 1  # the SDK did not retry: failover is ours


@pytest.mark.parametrize("name", ALL)
async def test_malformed_body_is_a_bad_response(server: FakeLLMServer, name: str) -> None:
    server.script(name, "malformed")
    provider = make(server, name)
    try:
        with pytest.raises(ProviderError) as caught:
            await provider.generate(PROMPT, SCHEMA)
    finally:
        await provider.aclose()
    assert caught.value.reason == BAD_RESPONSE


@pytest.mark.parametrize("name", ["anthropic", "google", "openai"])
async def test_truncated_answers_are_flagged(server: FakeLLMServer, name: str) -> None:
    server.script(name, "truncated")
    provider = make(server, name)
    try:
        response = await provider.generate(PROMPT, SCHEMA)
    finally:
        await provider.aclose()
    assert response.truncated
    assert response.text is not None
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.text)


@pytest.mark.parametrize("name", ["anthropic", "openai"])
async def test_a_wrong_key_is_an_auth_error(server: FakeLLMServer, name: str) -> None:
    provider = make(server, name, key="wrong-key")
    try:
        with pytest.raises(ProviderError) as caught:
            await provider.generate(PROMPT, SCHEMA)
    finally:
        await provider.aclose()
    assert caught.value.reason == AUTH
    assert "wrong-key" not in str(caught.value)


async def test_local_needs_no_key_and_is_configured_by_setting(server: FakeLLMServer) -> None:
    off = make(server, "local", key=None, local_enabled=False)
    on = make(server, "local", key=None)
    assert not off.is_configured()
    assert on.is_configured()
    try:
        response = await on.generate(PROMPT, SCHEMA)
    finally:
        await on.aclose()
    assert len(grid_of(response)["bars"]) == 2
    assert server.received[0].path == "/local/v1/chat/completions"


def test_cloud_providers_need_a_key_and_never_show_it() -> None:
    settings = Settings()
    for name in ("anthropic", "google", "openai"):
        assert not PROVIDER_CLASSES[name](settings, None).is_configured()
        provider = PROVIDER_CLASSES[name](settings, "sk-secret-123")
        assert provider.is_configured()
        assert "sk-secret-123" not in repr(provider)


def test_gemini_schema_drops_unsupported_keywords_and_keeps_order() -> None:
    converted = gemini_schema(SCHEMA)
    assert "additionalProperties" not in json.dumps(converted)
    items = converted["properties"]["bars"]["items"]
    assert items["propertyOrdering"] == list(BASE_PIECES)
    assert items["required"] == list(BASE_PIECES)


def test_retry_after_parses_seconds_dates_and_milliseconds() -> None:
    assert retry_after_seconds({"Retry-After": "3"}) == 3.0
    assert retry_after_seconds({"retry-after-ms": "1500"}) == 1.5
    assert retry_after_seconds({"retry-after": "Wed, 21 Oct 2015 07:28:10 GMT"}, now_s=1445412480) == 10.0
    assert retry_after_seconds({"retry-after": "soon"}) is None
    assert retry_after_seconds({}) is None


async def test_unreachable_providers_are_told_in_words() -> None:
    import asyncio

    import aiohttp
    from aiohttp import web

    from mididrumigen.generation.providers.status import probe_url

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(resolver=NoNameResolves())) as offline:
        dns = await probe_url(offline, "https://api.anthropic.com")

    async def stall(request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.Response()

    app = web.Application()
    app.router.add_get("/", stall)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with aiohttp.ClientSession() as session:
            refused = await probe_url(session, "http://127.0.0.1:9/v1")
            slow = await probe_url(session, f"http://127.0.0.1:{port}/", timeout_s=0.2)
            bad = await probe_url(session, "http://[not-a-url/")
    finally:
        await runner.cleanup()
    assert dns["error"] == "name not resolved (offline?)" and dns["reachable"] is False
    assert refused["error"] == "connection refused (is the server running?)"
    assert slow["error"] == "no answer within 0.2 s"
    assert bad["error"] == "not a valid URL (check the base URL setting)"
    for probe in (dns, refused, slow, bad):
        assert "Error" not in probe["error"]  # no exception class names
