"""Host, Origin, token, body size and rate limit, against the real server."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from mididrumigen.api import GUARD
from mididrumigen.api.routes import PREFIX, ROUTES
from mididrumigen.api.security import RateLimiter
from tests.api.conftest import TOKEN, Running, assert_error, start_daemon, stop_daemon

PATH_VALUES = {"{artist}": "John%20Bonham", "{task_id}": "0" * 32, "{file_id}": "0" * 32}


def every_route(*, public: bool = True) -> list[tuple[str, str]]:
    """(method, path) of every route in the table, path parameters filled in."""
    found = []
    for route in ROUTES:
        if route.public and not public:
            continue
        path = PREFIX + route.path
        for name, value in PATH_VALUES.items():
            path = path.replace(name, value)
        assert "{" not in path, path
        found.append((route.method, path))
    return found


async def test_health_needs_no_token(daemon: Running) -> None:
    async with daemon.client(token=None) as session, session.get("/api/v1/health") as resp:
        assert resp.status == 200
        assert (await resp.json())["status"] == "ok"


@pytest.mark.parametrize("token", [None, "wrong-token", ""])
async def test_missing_or_wrong_token_is_refused_everywhere(daemon: Running, token: str | None) -> None:
    async with daemon.client(token=token) as session:
        for method, path in [*every_route(public=False), ("GET", "/api/v1/no/such/route")]:
            async with session.request(method, path) as resp:
                assert resp.status == 401, path
                assert resp.headers["WWW-Authenticate"].startswith("Bearer")
                assert_error(await resp.json(), "unauthorized")


async def test_token_in_another_scheme_is_refused(daemon: Running) -> None:
    async with aiohttp.ClientSession(base_url=daemon.url) as session:
        headers = {"Authorization": "Basic dGVzdDp0ZXN0"}
        async with session.get("/api/v1/artists", headers=headers) as resp:
            assert resp.status == 401


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "beArer", "Bearer  "])
async def test_the_bearer_scheme_is_case_insensitive(daemon: Running, scheme: str) -> None:
    async with aiohttp.ClientSession(base_url=daemon.url) as session:
        headers = {"Authorization": f"{scheme} {TOKEN}"}
        async with session.get("/api/v1/artists", headers=headers) as resp:
            assert resp.status == 200
        headers = {"Authorization": f"{scheme} {TOKEN}x"}
        async with session.get("/api/v1/artists", headers=headers) as resp:
            assert resp.status == 401


@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:{port}", "127.0.0.1:1", "localhost", "10.0.0.5:{port}"]
)
async def test_foreign_host_header_is_refused(daemon: Running, host: str) -> None:
    headers = {"Host": host.format(port=daemon.port)}
    async with daemon.client() as session:
        for method, path in every_route():
            async with session.request(method, path, headers=headers) as resp:
                assert resp.status == 421, (method, path)
                assert_error(await resp.json(), "bad_host")


@pytest.mark.parametrize("host", ["localhost:{port}", "127.0.0.1:{port}", "[::1]:{port}", "LOCALHOST:{port}"])
async def test_loopback_host_headers_are_accepted(daemon: Running, host: str) -> None:
    headers = {"Host": host.format(port=daemon.port)}
    async with daemon.client() as session:
        for path in ("/api/v1/artists", "/api/v1/tasks"):
            async with session.get(path, headers=headers) as resp:
                assert resp.status == 200, path


async def test_request_without_host_header_is_refused(daemon: Running) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", daemon.port)
    writer.write(b"GET /api/v1/health HTTP/1.0\r\n\r\n")
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    assert answer.startswith(b"HTTP/1.0 421") or answer.startswith(b"HTTP/1.1 421")
    assert b'"bad_host"' in answer


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "http://localhost:1"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
    ],
)
async def test_cross_origin_browser_requests_are_refused(daemon: Running, headers: dict[str, str]) -> None:
    async with daemon.client(**headers) as session:
        for method, path in every_route():
            async with session.request(method, path, json={"style": "funk"}) as resp:
                assert resp.status == 403, (path, headers)
                assert_error(await resp.json(), "forbidden_origin")


async def test_own_origin_is_accepted(daemon: Running) -> None:
    headers = {"Origin": f"http://127.0.0.1:{daemon.port}", "Sec-Fetch-Site": "same-origin"}
    async with daemon.client(**headers) as session:
        for path in ("/api/v1/artists", "/api/v1/tasks"):
            async with session.get(path) as resp:
                assert resp.status == 200, path


async def test_huge_body_is_413(daemon: Running, client: aiohttp.ClientSession) -> None:
    limit = int(daemon.app.settings["max_body_bytes"])
    big = b'{"artist": "' + b"x" * (limit + 10) + b'"}'
    async with client.post(
        "/api/v1/research", data=big, headers={"Content-Type": "application/json"}
    ) as resp:
        assert resp.status == 413
        assert_error(await resp.json(), "body_too_large")

    async def chunks():  # no Content-Length: the limit is enforced while reading
        for _ in range(limit // 65536 + 2):
            yield b"x" * 65536

    async with client.post(
        "/api/v1/generate", data=chunks(), headers={"Content-Type": "application/json"}
    ) as resp:
        assert resp.status == 413
        assert_error(await resp.json(), "body_too_large")


async def test_rate_limit_answers_429_with_retry_after(tmp_path: Path) -> None:
    running = await start_daemon(tmp_path, rate_limit_per_hour=3)
    try:
        async with running.client() as session:
            for n in range(3):  # three names: a request joining research already queued would not count
                async with session.post("/api/v1/research", json={"artist": f"Nobody Real {n}"}) as resp:
                    assert resp.status in (200, 202)
            async with session.post("/api/v1/generate", json={"style": "funk"}) as resp:
                assert resp.status == 429
                retry = int(resp.headers["Retry-After"])
                assert 3500 <= retry <= 3600
                assert_error(await resp.json(), "rate_limited")
            async with session.get("/api/v1/artists") as resp:  # reads are not limited
                assert resp.status == 200
    finally:
        await stop_daemon(running)


def test_retry_after_is_when_the_oldest_counted_request_leaves_the_hour() -> None:
    limiter = RateLimiter(3)
    for at in (0.0, 100.0, 200.0):
        assert limiter.check("127.0.0.1", at) is None
    limiter.release("127.0.0.1", 0.0)  # that request started nothing: its slot comes back
    assert limiter.check("127.0.0.1", 250.0) is None
    assert limiter.check("127.0.0.1", 300.0) == pytest.approx(3400.0)  # the one at 100 s leaves at 3700 s
    assert limiter.check("10.0.0.7", 300.0) is None  # another address has its own count
    assert limiter.check("127.0.0.1", 3700.0) is None
    assert RateLimiter(0).check("127.0.0.1", 0.0) is None
    with pytest.raises(ValueError, match="0 \\(no limit\\) or more"):
        RateLimiter(-1)


async def test_only_requests_that_start_work_count_against_the_rate_limit(tmp_path: Path) -> None:
    running = await start_daemon(tmp_path, rate_limit_per_hour=2)
    clock = [1000.0]
    running.server.app[GUARD].limiter.clock = lambda: clock[0]
    try:
        async with running.client() as session:
            json_type = {"Content-Type": "application/json"}
            refused: list[tuple[str, dict[str, Any]]] = [
                ("/api/v1/generate", {"json": {"style": "funk", "bars": 99}}),  # 422
                ("/api/v1/generate", {"json": {"artist": "John Bonham", "drum_map": "nosuchmap"}}),  # 422
                ("/api/v1/generate", {"data": b"{not json", "headers": json_type}),  # 400
                ("/api/v1/research", {"data": b"artist=x", "headers": {"Content-Type": "text/plain"}}),  # 415
                ("/api/v1/augment/Nobody%20Known", {}),  # 404
                ("/api/v1/research", {"json": {"artist": "John Bonham"}}),  # 200, cached: nothing started
            ]
            for path, kwargs in refused * 2:
                async with session.post(path, **kwargs) as resp:
                    assert resp.status in (200, 400, 404, 415, 422), (path, resp.status)
            for minutes in (0, 10):
                clock[0] = 1000.0 + 60 * minutes
                async with session.post("/api/v1/generate", json={"style": "funk", "variations": 1}) as resp:
                    assert resp.status == 200, await resp.text()
            clock[0] = 1000.0 + 60 * 30
            async with session.post("/api/v1/generate", json={"style": "funk", "variations": 1}) as resp:
                assert resp.status == 429
                assert int(resp.headers["Retry-After"]) == 30 * 60  # the first generation is an hour old then
                assert "rate_limit_per_hour" in assert_error(await resp.json(), "rate_limited")["message"]
            clock[0] = 1000.0 + 3600
            async with session.post("/api/v1/generate", json={"style": "funk", "variations": 1}) as resp:
                assert resp.status == 200
    finally:
        await stop_daemon(running)


async def test_a_url_over_8_kb_is_a_414_in_the_error_shape(
    daemon: Running, client: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    for url in ("/api/v1/tasks?limit=1&x=" + "y" * 9000, "/api/v1/research/" + "x" * 9000):
        async with client.get(url) as resp:
            assert resp.status == 414
            error = assert_error(await resp.json(), "url_too_long")
        assert "at most 8190" in error["message"]
    # Past what aiohttp's parser takes at all it still answers itself, in text/plain (it has no public hook):
    # one warning line in the daemon log, not an ERROR with a traceback.
    caplog.set_level("DEBUG")
    reader, writer = await asyncio.open_connection("127.0.0.1", daemon.port)
    writer.write(b"GET /api/v1/tasks?x=" + b"y" * 70_000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 400") or answer.startswith(b"HTTP/1.0 400")
    logged = [r for r in caplog.records if r.name == "aiohttp.server"]
    assert logged and all(r.levelname == "WARNING" and r.exc_info is None for r in logged), logged
    assert "refused as malformed" in logged[0].getMessage()
