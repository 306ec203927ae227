"""Localhost safety: Host check (DNS rebinding), Origin check, Bearer token, body size, rate limit."""

from __future__ import annotations

import math
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web
from aiohttp.typedefs import Middleware

from mididrumigen.api.errors import ApiError, Handler

LOOPBACK_HOST_NAMES = ("localhost", "127.0.0.1", "[::1]")
PUBLIC_PATHS = frozenset({"/api/v1/health"})
WINDOW_S = 3600.0
# The longest URL (path and query) the API takes: aiohttp's own default request-line limit. The
# parser itself takes lines up to PARSED_LINE_BYTES (RUNNER_OPTIONS), so a longer URL gets a 414 in
# the error shape from limits_middleware instead of the parser's plain-text 400.
MAX_URL_BYTES = 8190
PARSED_LINE_BYTES = 64 * 1024
# Set by a handler on a rate-limited route whose answer started no work (POST /research's 200 is a
# profile it already had; a 202 "already_queued" joined work queued before): the request costs no budget.
NOTHING_STARTED_KEY = web.ResponseKey("nothing_started", bool)


@dataclass(slots=True)
class RateLimiter:
    """Sliding one-hour window of accepted requests per client address; limit 0 means unlimited."""

    limit_per_hour: int
    clock: Callable[[], float] = time.monotonic
    _hits: dict[str, deque[float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.limit_per_hour < 0:
            raise ValueError("rate_limit_per_hour must be 0 (no limit) or more")

    def check(self, client: str, now_s: float | None = None) -> float | None:
        """Hold a slot (at now_s) and return None, or return the seconds until the oldest slot frees."""
        if self.limit_per_hour == 0:
            return None
        now = self.clock() if now_s is None else now_s
        hits = self._hits.setdefault(client, deque())
        while hits and hits[0] <= now - WINDOW_S:
            hits.popleft()
        if len(hits) >= self.limit_per_hour:
            return hits[0] + WINDOW_S - now
        hits.append(now)
        return None

    def release(self, client: str, at_s: float) -> None:
        """Give back the slot check held at at_s: the request was refused or started nothing."""
        hits = self._hits.get(client)
        if hits is not None and at_s in hits:
            hits.remove(at_s)


@dataclass(slots=True)
class Guard:
    """What the security middlewares check against: the token, our port, remote access, limits."""

    token: str
    port: int = 0
    allow_remote: bool = False
    max_body_bytes: int = 1_000_000
    limiter: RateLimiter = field(default_factory=lambda: RateLimiter(100))
    rate_limited_routes: frozenset[str] = frozenset()

    def allowed_hosts(self) -> set[str]:
        """Host header values we answer to."""
        return {f"{name}:{self.port}" for name in LOOPBACK_HOST_NAMES}

    def allowed_origins(self) -> set[str]:
        """Origins of our own pages."""
        return {f"http://{host}" for host in self.allowed_hosts()}


GUARD = web.AppKey("guard", Guard)


def host_middleware(guard: Guard) -> Middleware:
    """Refuse requests whose Host is not loopback with our port (DNS-rebinding defence)."""

    @web.middleware
    async def check_host(request: web.Request, handler: Handler) -> web.StreamResponse:
        host = request.headers.get("Host", "").lower()
        if not guard.allow_remote and host not in guard.allowed_hosts():
            raise ApiError(421, f"this server only answers to localhost:{guard.port}", code="bad_host")
        return await handler(request)

    return check_host


def origin_middleware(guard: Guard) -> Middleware:
    """Refuse cross-origin browser requests: only the daemon's own pages may call it from a browser."""

    @web.middleware
    async def check_origin(request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        if origin is not None and origin.lower() not in guard.allowed_origins():
            raise ApiError(403, "cross-origin requests are not allowed", code="forbidden_origin")
        fetch_site = request.headers.get("Sec-Fetch-Site")
        if fetch_site is not None and fetch_site.lower() not in ("same-origin", "none"):
            raise ApiError(403, "cross-site requests are not allowed", code="forbidden_origin")
        return await handler(request)

    return check_origin


def auth_middleware(guard: Guard) -> Middleware:
    """Require `Authorization: Bearer <token>` on every route but /health."""

    expected = guard.token.encode()

    @web.middleware
    async def check_token(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path not in PUBLIC_PATHS:
            # RFC 9110 11.1: the scheme is case-insensitive ("bearer" is Bearer) and one or more spaces
            # separate it from the credentials.
            scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
            given = credentials.lstrip(" ").encode("utf-8", "replace")
            if scheme.lower() != "bearer" or not secrets.compare_digest(given, expected):
                raise ApiError(
                    401,
                    "missing or wrong API token (send Authorization: Bearer <token> from the discovery file)",
                    headers={"WWW-Authenticate": 'Bearer realm="mididrumigen"'},
                )
        return await handler(request)

    return check_token


def limits_middleware(guard: Guard) -> Middleware:
    """Refuse URLs and bodies over the size limits early, and rate-limit research and generation."""

    @web.middleware
    async def check_limits(request: web.Request, handler: Handler) -> web.StreamResponse:
        url_bytes = len(request.raw_path.encode("utf-8", "surrogateescape"))
        if url_bytes > MAX_URL_BYTES:
            raise ApiError(414, f"URL is {url_bytes} bytes long; at most {MAX_URL_BYTES} are accepted")
        length = request.content_length
        if length is not None and length > guard.max_body_bytes:
            raise ApiError(413, f"request body is larger than {guard.max_body_bytes} bytes")
        route_name = request.match_info.route.name
        if request.method != "POST" or route_name not in guard.rate_limited_routes:
            return await handler(request)
        # The slot is held while the handler runs, so concurrent requests cannot overshoot the
        # limit, and given back unless work was started: a refused request costs no budget.
        client, now = request.remote or "unknown", guard.limiter.clock()
        wait_s = guard.limiter.check(client, now)
        if wait_s is not None:
            retry = max(1, math.ceil(wait_s))
            raise ApiError(
                429,
                f"rate limit of {guard.limiter.limit_per_hour} research/generation requests per hour reached;"
                f" retry in {retry} s (setting rate_limit_per_hour; 0 turns the limit off)",
                headers={"Retry-After": str(retry)},
            )
        started = False
        try:
            response = await handler(request)
            started = 200 <= response.status < 300 and not response.get(NOTHING_STARTED_KEY, False)
            return response
        finally:
            if not started:
                guard.limiter.release(client, now)

    return check_limits
