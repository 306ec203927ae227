"""The coordinator through the real SDKs against fake servers: every path ends in valid MIDI."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from mididrumigen.generation.coordinator import (
    GROOVE_ENGINE,
    GenerationResult,
    ProviderPool,
    estimate_cost_usd,
    generate,
)
from mididrumigen.generation.request import GenerationRequest
from mididrumigen.keys import set_key
from mididrumigen.midi.kit import CLASS_BY_PITCH
from mididrumigen.midi.smf import clip_to_midi_bytes, read_midi_bytes
from mididrumigen.profile import QuantitativeParams, StyleProfile
from mididrumigen.settings import Settings
from tests.fakes.llm_servers import API_KEYS, FakeLLMServer

PROFILE = StyleProfile(
    artist_name="Test Drummer",
    text_description="Tight funk pocket with ghost notes.",
    quantitative_params=QuantitativeParams(tempo_typical=98, swing_percent=54.0, ghost_note_prob=0.3),
    styles=["funk"],
)
KEY_ENV = {
    "ANTHROPIC_API_KEY": API_KEYS["anthropic"],
    "GEMINI_API_KEY": API_KEYS["google"],
    "OPENAI_API_KEY": API_KEYS["openai"],
}


@pytest.fixture
async def server() -> AsyncIterator[FakeLLMServer]:
    srv = await FakeLLMServer().start()
    yield srv
    await srv.close()


@pytest.fixture
async def pools() -> AsyncIterator[list[ProviderPool]]:
    made: list[ProviderPool] = []
    yield made
    for pool in made:
        await pool.aclose()


def make_pool(
    pools: list[ProviderPool],
    server: FakeLLMServer | None,
    environ: dict[str, str] | None = None,
    config_dir: Path | None = None,
    **settings: Any,
) -> ProviderPool:
    values = {**(server.settings_overrides() if server else {}), "llm_timeout_s": 5.0, **settings}
    pool = ProviderPool(
        Settings(values), environ=KEY_ENV if environ is None else environ, config_dir=config_dir
    )
    pools.append(pool)
    return pool


def request(**kwargs: Any) -> GenerationRequest:
    values: dict[str, Any] = {"artist": "Test Drummer", "bars": 4, "variations": 1, "seed": 7, **kwargs}
    return GenerationRequest(**values)


def assert_valid_midi(result: GenerationResult, req: GenerationRequest) -> None:
    assert len(result.clips) == req.variations
    names = sorted(clip.name for clip in result.clips)
    assert names == sorted(f"Test Drummer - Variation {i}" for i in range(1, req.variations + 1))
    for clip in result.clips:
        bar_ticks = clip.ticks_per_bar
        assert clip.length_ticks == req.bars * bar_ticks
        assert clip.notes
        back = read_midi_bytes(clip_to_midi_bytes(clip))
        assert back.length_ticks == clip.length_ticks
        assert len(back.notes) == len(clip.notes)
        keys = [(n.pitch, n.time) for n in back.notes]
        assert len(keys) == len(set(keys)), "duplicate hits"
        for note in back.notes:
            assert note.pitch in CLASS_BY_PITCH or note.pitch in (54, 56, 70, 75, 63, 64, 65, 66)
            assert 0 <= note.time < clip.length_ticks
            assert 1 <= note.velocity <= 127


def vars_of(req: GenerationRequest) -> dict[str, Any]:
    return {name: getattr(req, name) for name in req.__dataclass_fields__}


def outcomes(result: GenerationResult) -> list[tuple[str, str]]:
    return [(a.provider, a.outcome) for a in result.attempts]


async def test_no_keys_goes_straight_to_the_groove_engine(pools: list[ProviderPool]) -> None:
    pool = make_pool(pools, None, environ={})
    req = request(variations=2)
    result = await generate(pool, PROFILE, req)
    assert result.provider_used == GROOVE_ENGINE
    assert outcomes(result) == []  # on auto a provider without a key is not used, and not listed
    named = await generate(pool, PROFILE, request(variations=1, provider="google"))
    assert [(a.provider, a.outcome, a.reason) for a in named.attempts] == [
        ("google", "skipped", "no api key"),
        (GROOVE_ENGINE, "ok", "1 variation(s) from the engine"),
    ]
    assert result.seed == 7
    assert_valid_midi(result, req)


async def test_healthy_primary_serves_every_variation_with_tokens_and_cost(
    server: FakeLLMServer, pools: list[ProviderPool]
) -> None:
    pool = make_pool(pools, server, llm_prices={"claude-sonnet-4-6": [3.0, 15.0]})
    req = request(variations=3)
    result = await generate(pool, PROFILE, req)
    assert result.provider_used == "anthropic"
    assert server.calls("anthropic") == 3 and server.calls("google") == 0
    ok = [a for a in result.attempts if a.outcome == "ok"]
    assert {a.variation for a in ok} == {1, 2, 3}
    assert all(a.tokens_in > 0 and a.tokens_out > 0 and a.cost_usd and a.cost_usd > 0 for a in ok)
    assert result.cost_usd == pytest.approx(sum(a.cost_usd or 0 for a in ok))
    assert all(clip.meta["provider"] == "anthropic" for clip in result.clips)
    assert_valid_midi(result, req)
    data = result.to_json()
    assert data["provider_used"] == "anthropic" and len(data["clips"]) == 3
    json.dumps(data)


@pytest.mark.parametrize("behaviour", ["fenced", "prose", "truncated", "wrong_bars", "out_of_map"])
async def test_repairable_answers_are_repaired_not_failed_over(
    server: FakeLLMServer, pools: list[ProviderPool], behaviour: str
) -> None:
    server.script("anthropic", behaviour)
    req = request()
    result = await generate(make_pool(pools, server), PROFILE, req)
    assert result.provider_used == "anthropic"
    assert outcomes(result) == [("anthropic", "ok")]
    assert result.attempts[0].reason.startswith("repaired: ")
    assert server.calls("google") == 0
    assert_valid_midi(result, req)


@pytest.mark.parametrize(
    ("behaviour", "reason"),
    [
        ("overloaded", "529"),
        ("unavailable", "503"),
        ("malformed", "unusable response"),
        ("bad_request", "400"),
        ("slow", "timeout after 0.8 s"),
    ],
)
async def test_primary_failures_fail_over_to_gemini(
    server: FakeLLMServer, pools: list[ProviderPool], behaviour: str, reason: str
) -> None:
    server.script("anthropic", behaviour)
    pool = make_pool(pools, server, llm_timeout_s=0.8)
    req = request(variations=1)
    started = time.perf_counter()
    result = await generate(pool, PROFILE, req)
    assert result.provider_used == "google"
    assert outcomes(result) == [("anthropic", "failed"), ("google", "ok")]
    assert reason in result.attempts[0].reason
    assert_valid_midi(result, req)
    if behaviour == "slow":
        assert time.perf_counter() - started < server.slow_s  # we did not wait for the slow answer


async def test_short_retry_after_is_honoured_on_the_same_provider(
    server: FakeLLMServer, pools: list[ProviderPool]
) -> None:
    server.retry_after_s = 0.2
    server.script("anthropic", "rate_limited")
    req = request()
    started = time.perf_counter()
    result = await generate(make_pool(pools, server), PROFILE, req)
    assert time.perf_counter() - started >= 0.2
    assert result.provider_used == "anthropic"
    assert server.calls("anthropic") == 2 and server.calls("google") == 0
    assert "retrying after 0.2 s" in result.attempts[0].reason
    assert_valid_midi(result, req)


async def test_long_retry_after_fails_over_and_is_remembered(
    server: FakeLLMServer, pools: list[ProviderPool]
) -> None:
    server.retry_after_s = 30
    server.script("anthropic", "rate_limited")
    pool = make_pool(pools, server)
    req = request()
    first = await generate(pool, PROFILE, req)
    assert first.provider_used == "google"
    assert "429" in first.attempts[0].reason
    second = await generate(pool, PROFILE, req)
    assert second.provider_used == "google"
    assert second.attempts[0].outcome == "skipped" and "retry-after" in second.attempts[0].reason
    assert server.calls("anthropic") == 1  # left alone while it asked us to wait
    assert_valid_midi(second, req)


async def test_failover_walks_the_whole_order(server: FakeLLMServer, pools: list[ProviderPool]) -> None:
    server.script("anthropic", "overloaded")
    server.script("google", "unavailable")
    req = request()
    result = await generate(make_pool(pools, server), PROFILE, req)
    assert result.provider_used == "openai"
    assert outcomes(result) == [("anthropic", "failed"), ("google", "failed"), ("openai", "ok")]
    assert_valid_midi(result, req)


async def test_everything_down_ends_in_the_groove_engine(
    server: FakeLLMServer, pools: list[ProviderPool]
) -> None:
    server.defaults = {
        "anthropic": "overloaded",
        "google": "unavailable",
        "openai": "malformed",
        "local": "ok",
    }
    req = request(variations=2)
    result = await generate(make_pool(pools, server), PROFILE, req)
    assert result.provider_used == GROOVE_ENGINE
    failed = [a for a in result.attempts if a.outcome == "failed"]
    assert sorted((a.provider, a.variation) for a in failed) == [
        ("anthropic", 1), ("anthropic", 2), ("google", 1), ("google", 2), ("openai", 1), ("openai", 2),
    ]  # fmt: skip
    assert result.attempts[-1].provider == GROOVE_ENGINE
    assert_valid_midi(result, req)


async def test_partial_failure_mixes_providers(server: FakeLLMServer, pools: list[ProviderPool]) -> None:
    server.defaults = {
        "anthropic": "overloaded",
        "google": "unavailable",
        "openai": "unavailable",
        "local": "ok",
    }
    server.script("anthropic", "ok")
    req = request(variations=2)
    result = await generate(make_pool(pools, server), PROFILE, req)
    assert result.provider_used == "anthropic+groove-engine"
    assert sorted(c.meta["provider"] for c in result.clips) == ["anthropic", GROOVE_ENGINE]
    assert_valid_midi(result, req)


async def test_request_provider_picks_one(server: FakeLLMServer, pools: list[ProviderPool]) -> None:
    pool = make_pool(pools, server)
    req = request(provider="openai")
    result = await generate(pool, PROFILE, req)
    assert result.provider_used == "openai"
    assert server.calls("anthropic") == 0 and server.calls("openai") == 1
    engine_req = request(provider="groove-engine")
    engine = await generate(pool, PROFILE, engine_req)
    assert engine.provider_used == GROOVE_ENGINE
    assert outcomes(engine) == []  # the engine alone is provider_used, not an attempt
    assert server.calls("openai") == 1
    assert_valid_midi(engine, engine_req)


async def test_a_picked_provider_that_fails_ends_in_the_engine(
    server: FakeLLMServer, pools: list[ProviderPool]
) -> None:
    server.script("google", "unavailable")
    req = request(provider="google")
    result = await generate(make_pool(pools, server), PROFILE, req)
    assert result.provider_used == GROOVE_ENGINE
    assert outcomes(result) == [("google", "failed"), (GROOVE_ENGINE, "ok")]
    assert server.calls("anthropic") == 0


async def test_local_server_without_keys(server: FakeLLMServer, pools: list[ProviderPool]) -> None:
    pool = make_pool(pools, server, environ={}, local_enabled=True)
    req = request(variations=2)
    result = await generate(pool, PROFILE, req)
    assert result.provider_used == "local"
    assert outcomes(result) == [("local", "ok"), ("local", "ok")]  # the keyless providers are not listed
    assert server.calls("local") == 2
    assert_valid_midi(result, req)


async def test_style_only_request(server: FakeLLMServer, pools: list[ProviderPool]) -> None:
    req = GenerationRequest(style="bossa_nova", bars=2, variations=1, seed=3)
    result = await generate(make_pool(pools, server), None, req)
    assert result.provider_used == "anthropic"
    assert result.clips[0].length_ticks == 2 * result.clips[0].ticks_per_bar
    engine = await generate(
        make_pool(pools, server), None, GenerationRequest(**{**vars_of(req), "provider": "groove-engine"})
    )
    assert result.clips[0].name == engine.clips[0].name  # named like the engine names style-only clips


async def test_variations_are_requested_concurrently(
    server: FakeLLMServer, pools: list[ProviderPool]
) -> None:
    server.latency_s = 0.3
    req = request(variations=4)
    result = await generate(make_pool(pools, server), PROFILE, req)
    assert result.provider_used == "anthropic"
    assert server.max_in_flight == 4


async def test_time_budget_bounds_the_llm_path(server: FakeLLMServer, pools: list[ProviderPool]) -> None:
    server.script("anthropic", "slow")
    pool = make_pool(pools, server, llm_budget_s=0.6, llm_timeout_s=5.0)
    started = time.perf_counter()
    result = await generate(pool, PROFILE, request())
    assert time.perf_counter() - started < 3.0
    assert result.provider_used == GROOVE_ENGINE
    assert result.attempts[0].reason.startswith("timeout after 0.")
    assert ("google", "skipped") in outcomes(result)


async def test_outage_and_recovery_are_logged_once(
    server: FakeLLMServer, pools: list[ProviderPool], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    pool = make_pool(pools, server)
    server.defaults["anthropic"] = "overloaded"
    await generate(pool, PROFILE, request(variations=2))
    await generate(pool, PROFILE, request(variations=2))
    server.defaults["anthropic"] = "ok"
    await generate(pool, PROFILE, request(variations=2))
    await generate(pool, PROFILE, request(variations=1))
    ours = [r for r in caplog.records if r.name == "mididrumigen.generation.coordinator"]
    down = [r for r in ours if "anthropic unavailable" in r.getMessage()]
    up = [r for r in ours if "anthropic recovered" in r.getMessage()]
    assert len(down) == 1 and len(up) == 1
    for key in API_KEYS.values():
        assert key not in caplog.text


async def test_keys_never_reach_results_or_reprs(server: FakeLLMServer, pools: list[ProviderPool]) -> None:
    pool = make_pool(pools, server)
    result = await generate(pool, PROFILE, request())
    text = json.dumps(result.to_json()) + repr(pool) + repr(await pool.get("anthropic"))
    for key in API_KEYS.values():
        assert key not in text


async def test_pool_picks_up_a_key_set_while_running(
    server: FakeLLMServer, pools: list[ProviderPool], tmp_path: Path
) -> None:
    pool = make_pool(pools, server, environ={}, config_dir=tmp_path)
    assert not (await pool.get("openai")).is_configured()
    set_key("openai", API_KEYS["openai"], config_dir=tmp_path)
    assert (await pool.get("openai")).is_configured()
    result = await generate(pool, PROFILE, request())
    assert result.provider_used == "openai"


def test_cost_estimate_uses_the_price_table() -> None:
    prices = {"gpt-4.1-mini": [0.4, 1.6], "claude-sonnet-4-6": {"input": 3.0, "output": 15.0}}
    assert estimate_cost_usd(prices, "gpt-4.1-mini-2025-04-14", 1_000_000, 0) == pytest.approx(0.4)
    assert estimate_cost_usd(prices, "claude-sonnet-4-6", 1000, 1000) == pytest.approx(0.018)
    assert estimate_cost_usd(prices, "unknown-model", 10, 10) is None


async def test_connection_refused_fails_over(server: FakeLLMServer, pools: list[ProviderPool]) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    pool = make_pool(pools, server, anthropic_base_url=dead)
    req = request()
    result = await generate(pool, PROFILE, req)
    assert result.provider_used == "google"
    assert result.attempts[0].reason.startswith("connection_error")
    assert_valid_midi(result, req)
