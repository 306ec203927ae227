"""The localhost HTTP API under /api/v1: routes, models, one error shape, security middlewares."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from mididrumigen.api.errors import PROTOCOL_LOG, error_middleware
from mididrumigen.api.routes import APP, ROUTES, add_routes
from mididrumigen.api.security import (
    GUARD,
    PARSED_LINE_BYTES,
    Guard,
    RateLimiter,
    auth_middleware,
    host_middleware,
    limits_middleware,
    origin_middleware,
)

if TYPE_CHECKING:
    from mididrumigen.app import App

__all__ = ["APP", "GUARD", "RUNNER_OPTIONS", "Guard", "build_api"]

# Keyword arguments for the AppRunner (or TestServer) that serves build_api's application.
RUNNER_OPTIONS: dict[str, Any] = {
    # Bodies reach parse_body as sent, which refuses any Content-Encoding with a 415 in the error
    # shape; left on, aiohttp's parser answers a br or zstd body itself, in text/plain.
    "auto_decompress": False,
    # aiohttp's parser answers a request line over its limit (8190 bytes by default) itself, in
    # text/plain: it takes lines up to PARSED_LINE_BYTES, so that a URL over MAX_URL_BYTES reaches
    # limits_middleware and is refused in the error shape (414).
    "max_line_size": PARSED_LINE_BYTES,
    # What the parser still refuses (a longer line, a header over 8190 bytes, a malformed request) is
    # one warning line in the daemon log, not an ERROR with a traceback.
    "logger": PROTOCOL_LOG,
}


def build_api(app: App, token: str, *, port: int = 0) -> web.Application:
    """The aiohttp application for an App; set guard.port once the socket is bound."""
    settings = app.settings
    guard = Guard(
        token=token,
        port=port,
        allow_remote=bool(settings["allow_remote"]),
        max_body_bytes=int(settings["max_body_bytes"]),
        limiter=RateLimiter(int(settings["rate_limit_per_hour"])),
        rate_limited_routes=frozenset(r.name for r in ROUTES if r.rate_limited),
    )
    api = web.Application(
        client_max_size=guard.max_body_bytes,
        middlewares=[
            error_middleware,
            host_middleware(guard),
            origin_middleware(guard),
            auth_middleware(guard),
            limits_middleware(guard),
        ],
    )
    api[APP] = app
    api[GUARD] = guard
    add_routes(api)
    return api
