"""Benchmark: cached generation over HTTP on loopback, 8 concurrent clients; RSS drift over 10,000 requests.

Targets: 4 variations x 4 bars with files written, median <= 20 ms and p99 <= 60 ms with 8 concurrent
clients; daemon RSS within +-10 % over 10,000 requests. Also printed: the daemon's CPU time per request
(its main process plus its engine worker processes), a figure that stays put when the machine is loaded,
and the load average the figures were taken under.

The clients share the daemon's two cores, so the timed run uses a minimal HTTP/1.1 load generator
(raw asyncio streams, one keep-alive connection per client, as wrk does) that takes a third of the CPU
aiohttp's client does; the same run through aiohttp's client is printed after it.
Run: .venv/bin/python -m tests.benchmarks.daemon_http
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import tempfile
import time
import urllib.parse
from pathlib import Path

import aiohttp
import psutil

from tests.benchmarks.daemon_common import family_rss_mb, rss_mb, start_daemon
from tests.benchmarks.yardstick import yardstick_ms

CLIENTS = 8
TIMED_REQUESTS = 1600
DRIFT_REQUESTS = 10_000
BODY = {"artist": "John Bonham", "bars": 4, "variations": 4}


async def _worker(
    session: aiohttp.ClientSession, url: str, todo: list[int], latencies: list[float], mix: bool
) -> None:
    while todo:
        n = todo.pop()
        started = time.perf_counter()
        if mix and n % 2:
            async with session.get(f"{url}/api/v1/research/John%20Bonham") as resp:
                await resp.read()
        else:
            async with session.post(f"{url}/api/v1/generate", json=BODY) as resp:
                data = await resp.json()
                assert resp.status == 200 and len(data["files"]) == 4, data
        latencies.append((time.perf_counter() - started) * 1000.0)


async def run_load(
    url: str, token: str, requests: int, mix: bool = False, clients: int = CLIENTS
) -> tuple[list[float], float]:
    """Send requests from concurrent clients; return latencies (ms) and wall time (s)."""
    todo = list(range(requests))
    latencies: list[float] = []
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(
        headers={"Authorization": f"Bearer {token}"}, connector=connector
    ) as session:
        started = time.perf_counter()
        await asyncio.gather(*(_worker(session, url, todo, latencies, mix) for _ in range(clients)))
        return latencies, time.perf_counter() - started


async def _lean_worker(
    host: str, port: int, request_bytes: bytes, todo: list[int], latencies: list[float]
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while todo:
            todo.pop()
            started = time.perf_counter()
            writer.write(request_bytes)
            head = await reader.readuntil(b"\r\n\r\n")
            status = head[9:12]
            length = next(
                int(line[15:]) for line in head.lower().split(b"\r\n") if line.startswith(b"content-length:")
            )
            body = await reader.readexactly(length)
            data = json.loads(body)
            assert status == b"200" and len(data["files"]) == 4, data
            latencies.append((time.perf_counter() - started) * 1000.0)
    finally:
        writer.close()


async def run_lean_load(
    url: str, token: str, requests: int, clients: int = CLIENTS
) -> tuple[list[float], float]:
    """POST /generate from concurrent minimal HTTP/1.1 clients; return latencies (ms) and wall time (s)."""
    parts = urllib.parse.urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    body = json.dumps(BODY).encode()
    request_bytes = (
        f"POST /api/v1/generate HTTP/1.1\r\nHost: {parts.netloc}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    todo = list(range(requests))
    latencies: list[float] = []
    started = time.perf_counter()
    await asyncio.gather(
        *(_lean_worker(parts.hostname, parts.port, request_bytes, todo, latencies) for _ in range(clients))
    )
    return latencies, time.perf_counter() - started


def cpu_seconds(processes: list[psutil.Process]) -> float:
    """User + system CPU seconds used so far by these processes (ones that have exited count 0)."""
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def daemon_processes(pid: int) -> list[psutil.Process]:
    """The daemon's main process and its children (the groove engine's worker processes)."""
    main = psutil.Process(pid)
    return [main, *main.children(recursive=True)]


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100), nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def main() -> None:
    """Start a daemon, warm it, time cached generation, then measure RSS drift."""
    with tempfile.TemporaryDirectory() as tmp:
        daemon = start_daemon(Path(tmp), rate_limit_per_hour="0", generation_concurrency="8")
        try:
            asyncio.run(run_load(daemon.url, daemon.token, 200))  # warm-up: imports, caches, sqlite pages
            load_before = os.getloadavg()[0]  # others' work on this machine shows here (plus the warm-up)
            processes = daemon_processes(daemon.proc.pid)
            for label, load in (("minimal HTTP/1.1 clients", run_lean_load), ("aiohttp's client", run_load)):
                cpu_before_s = [cpu_seconds([p]) for p in processes]
                client_before_s = time.process_time()
                latencies, wall_s = asyncio.run(load(daemon.url, daemon.token, TIMED_REQUESTS))
                client_ms = (time.process_time() - client_before_s) * 1000.0 / TIMED_REQUESTS
                cpu_ms = [
                    (cpu_seconds([p]) - before) * 1000.0 / TIMED_REQUESTS
                    for p, before in zip(processes, cpu_before_s, strict=True)
                ]
                print(
                    f"cached generation over HTTP, {BODY['variations']} variations x {BODY['bars']} bars, files"
                    f" written, {CLIENTS} concurrent {label}, {TIMED_REQUESTS} requests:"
                )
                print(
                    f"  median {statistics.median(latencies):.1f} ms (target <= 20), p99"
                    f" {percentile(latencies, 99):.1f} ms (target <= 60), max {max(latencies):.1f} ms; throughput"
                    f" {TIMED_REQUESTS / wall_s:.0f} requests/s ({4 * TIMED_REQUESTS / wall_s:.0f} files/s)"
                )
                print(
                    f"  CPU per request: daemon {sum(cpu_ms):.2f} ms (main process {cpu_ms[0]:.2f}, engine workers"
                    f" {sum(cpu_ms[1:]):.2f}), clients {client_ms:.2f} ms; load average {load_before:.2f} before,"
                    f" {os.getloadavg()[0]:.2f} after, {os.cpu_count()} cores; machine yardstick {yardstick_ms():.0f} ms"
                )
            single, single_s = asyncio.run(run_load(daemon.url, daemon.token, 300, clients=1))
            print(
                f"  one client at a time: median {statistics.median(single):.1f} ms, p99 {percentile(single, 99):.1f} ms,"
                f" {300 / single_s:.0f} requests/s"
            )
            before, family_before = rss_mb(daemon.proc.pid), family_rss_mb(daemon.proc.pid)
            _, drift_s = asyncio.run(run_load(daemon.url, daemon.token, DRIFT_REQUESTS, mix=True))
            after, family_after = rss_mb(daemon.proc.pid), family_rss_mb(daemon.proc.pid)
            print(
                f"RSS over {DRIFT_REQUESTS} more requests (half generate, half GET /research): {before:.1f} MB ->"
                f" {after:.1f} MB ({(after - before) / before * 100:+.1f} %, target within +-10 %) in {drift_s:.0f} s;"
                f" with the engine worker {family_before:.1f} MB -> {family_after:.1f} MB"
                f" ({(family_after - family_before) / family_before * 100:+.1f} %)"
            )
        finally:
            daemon.stop()


if __name__ == "__main__":
    main()
