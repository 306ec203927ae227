"""Polite HTTP for research: one shared session, per-host rate limits, retries, Retry-After."""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from mididrumigen import __version__
from mididrumigen.errors import name_not_resolved

log = logging.getLogger(__name__)

# Minimum seconds between request starts per service host, from each service's published etiquette:
# arXiv asks for one request every 3 s, MusicBrainz 1/s, Semantic Scholar ~1/s without a key.
SERVICE_INTERVAL_S: Mapping[str, float] = {
    "arxiv": 3.0,
    "musicbrainz": 1.0,
    "semantic_scholar": 1.0,
    "crossref": 0.1,
    "wikipedia": 0.1,
    "bitmidi": 0.5,
    "article_site": 1.0,
}
DEFAULT_INTERVAL_S = 0.5
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_BODY_BYTES = 20_000_000


class SourceUnavailableError(Exception):
    """A service kept failing (errors, throttling, timeouts) within the time budget."""


def user_agent(contact: str = "") -> str:
    """Descriptive User-Agent naming the program and, when set, how to reach its user."""
    contact = contact.strip()
    suffix = f" (+{contact})" if contact else " (local drum research; contact not set)"
    return f"MidiDrumiGen/{__version__}{suffix}"


def retry_after_s(value: str | None, now_s: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta seconds or HTTP-date), None if absent/bad."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    now = time.time() if now_s is None else now_s
    return max(0.0, when.timestamp() - now)


def backoff_delay_s(attempt: int, base_s: float, max_s: float, rng: random.Random) -> float:
    """Exponential backoff with full jitter for retry number `attempt` (0-based)."""
    return min(max_s, base_s * (2**attempt)) * (0.5 + 0.5 * rng.random())


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """A fetched response kept whole, so it can be stored as a research source."""

    url: str
    status: int
    content_type: str
    body: bytes
    elapsed_s: float = 0.0

    @property
    def ok(self) -> bool:
        """True for 2xx statuses."""
        return 200 <= self.status < 300

    def text(self) -> str:
        """Body decoded as UTF-8 (bad bytes replaced)."""
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """Body parsed as JSON, or ValueError naming the URL."""
        try:
            return json.loads(self.body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ValueError(f"malformed json from {self.url}") from None


@dataclass
class HostRateLimiter:
    """Per-host state shared by every research run: request spacing and outages; lives on the App."""

    _next_start: dict[str, float] = field(default_factory=dict)
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    down: set[str] = field(default_factory=set)  # host keys in an outage (logged once, recovery once)

    async def wait(self, key: str, interval_s: float) -> None:
        """Sleep until `key` may start a request, then book the next slot interval_s later."""
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            loop = asyncio.get_running_loop()
            delay = self._next_start.get(key, 0.0) - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            self._next_start[key] = loop.time() + interval_s

    def defer(self, key: str, delay_s: float) -> None:
        """Push the host's next allowed start at least delay_s into the future (Retry-After)."""
        until = asyncio.get_running_loop().time() + delay_s
        self._next_start[key] = max(self._next_start.get(key, 0.0), until)


class HttpClient:
    """GETs through the one shared aiohttp session with rate limits, retries and outage logging."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        limiter: HostRateLimiter,
        *,
        contact: str = "",
        intervals_s: Mapping[str, float] = SERVICE_INTERVAL_S,
        max_attempts: int = 4,
        backoff_base_s: float = 0.5,
        backoff_max_s: float = 30.0,
        request_timeout_s: float = 20.0,
        seed: int | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.session = session
        self.limiter = limiter
        self.user_agent = user_agent(contact)
        self.intervals_s = dict(intervals_s)
        self.max_attempts = max_attempts
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.request_timeout_s = request_timeout_s
        self._rng = random.Random(seed)
        self.request_count = 0

    def host_key(self, url: str, service: str) -> str:
        """Rate-limit key: the service on its host (services never share a budget)."""
        return f"{service}@{urlsplit(url).netloc}"

    async def get(
        self,
        url: str,
        *,
        service: str,
        params: Mapping[str, str | int] | None = None,
        headers: Mapping[str, str] | None = None,
        deadline: float | None = None,
        max_bytes: int = MAX_BODY_BYTES,
    ) -> HttpResponse:
        """GET url politely; retry 429/5xx/timeouts with backoff, honouring Retry-After before deadline.

        Returns the response for any final non-retryable status (callers check `.ok`);
        raises SourceUnavailableError when retries or the time budget run out.
        """
        key = self.host_key(url, service)
        interval = self.intervals_s.get(service, DEFAULT_INTERVAL_S)
        send_headers = {"User-Agent": self.user_agent, "Accept-Encoding": "gzip, deflate"}
        send_headers.update(headers or {})
        loop = asyncio.get_running_loop()
        problem = "no attempt made"
        for attempt in range(self.max_attempts):
            await self.limiter.wait(key, interval)
            wait_s: float | None = None
            started = loop.time()
            try:
                timeout_s = self.request_timeout_s
                if deadline is not None:
                    timeout_s = min(timeout_s, max(0.1, deadline - started))
                async with asyncio.timeout(timeout_s):
                    self.request_count += 1
                    async with self.session.get(url, params=params, headers=send_headers) as resp:
                        body = await _read_capped(resp, max_bytes)
                        response = HttpResponse(
                            url=str(resp.url),
                            status=resp.status,
                            content_type=resp.headers.get("Content-Type", ""),
                            body=body,
                            elapsed_s=loop.time() - started,
                        )
                        retry_header = resp.headers.get("Retry-After")
            except TimeoutError:
                problem = f"timed out after {loop.time() - started:.1f} s"
            except aiohttp.ClientConnectorError as exc:  # no answer at all: name lookup or connection failed
                problem = f"cannot reach {exc.host} ({exc.os_error.strerror or exc.os_error})"
                if name_not_resolved(exc):
                    break  # offline, or no such host: the name will not resolve in 2 s either
            except aiohttp.ClientError as exc:
                problem = f"{type(exc).__name__}: {exc}"
            else:
                if response.status not in RETRY_STATUSES:
                    self._mark_up(key)
                    return response
                problem = f"http {response.status}"
                wait_s = retry_after_s(retry_header)
                if wait_s is not None:
                    self.limiter.defer(key, wait_s)
            if attempt + 1 == self.max_attempts:
                break
            delay = (
                wait_s
                if wait_s is not None
                else backoff_delay_s(attempt, self.backoff_base_s, self.backoff_max_s, self._rng)
            )
            if deadline is not None and loop.time() + delay >= deadline:
                problem += f"; retry in {delay:.1f} s would pass the time budget"
                break
            log.debug("%s: %s, retrying in %.1f s", url, problem, delay)
            await asyncio.sleep(delay)
        self._mark_down(key, problem)
        raise SourceUnavailableError(f"{service} unavailable: {problem}")

    def _mark_down(self, key: str, problem: str) -> None:
        if key not in self.limiter.down:
            self.limiter.down.add(key)
            log.warning(
                "%s is unavailable (%s); further failures are not logged until it recovers", key, problem
            )

    def _mark_up(self, key: str) -> None:
        if key in self.limiter.down:
            self.limiter.down.discard(key)
            log.warning("%s is reachable again", key)


async def _read_capped(resp: aiohttp.ClientResponse, max_bytes: int) -> bytes:
    """Read a body, refusing ones larger than max_bytes."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_chunked(65536):
        size += len(chunk)
        if size > max_bytes:
            raise ValueError(f"response from {resp.url} is larger than {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
