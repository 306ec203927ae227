"""Which LLM providers are configured and reachable: a quick keyless request to each base URL."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mididrumigen.errors import name_not_resolved
from mididrumigen.keys import key_status
from mididrumigen.settings import Settings

if TYPE_CHECKING:
    import aiohttp

PROBE_TIMEOUT_S = 3.0
PROVIDER_NAMES: tuple[str, ...] = ("anthropic", "google", "openai", "local")


async def probe_url(
    session: aiohttp.ClientSession, url: str, timeout_s: float = PROBE_TIMEOUT_S
) -> dict[str, Any]:
    """GET the base URL without credentials: any HTTP answer means reachable (even 401 or 404)."""
    import aiohttp

    started = time.perf_counter()
    try:
        async with session.get(
            url, timeout=aiohttp.ClientTimeout(total=timeout_s), allow_redirects=False
        ) as resp:
            status: int | None = resp.status
        error = None
    except (TimeoutError, aiohttp.ClientError, OSError, ValueError) as exc:
        status, error = None, why_unreachable(exc, timeout_s)
    return {
        "reachable": status is not None,
        "http_status": status,
        "error": error,
        "latency_ms": round((time.perf_counter() - started) * 1000.0, 1),
    }


def why_unreachable(exc: BaseException, timeout_s: float = PROBE_TIMEOUT_S) -> str:
    """Why a probe got no answer, in words a user acts on (not an exception's class name)."""
    import errno

    import aiohttp

    if isinstance(exc, TimeoutError):
        return f"no answer within {timeout_s:g} s"
    if isinstance(exc, aiohttp.InvalidURL):
        return "not a valid URL (check the base URL setting)"
    if isinstance(exc, aiohttp.ClientConnectorCertificateError | aiohttp.ClientSSLError):
        return "secure connection refused (TLS certificate not accepted)"
    if isinstance(exc, aiohttp.ClientConnectorError):
        if name_not_resolved(exc):
            return "name not resolved (offline?)"
        if exc.os_error.errno == errno.ECONNREFUSED:
            return "connection refused (is the server running?)"
        if exc.os_error.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
            return "network unreachable (offline?)"
        return f"cannot connect ({exc.os_error.strerror or 'connection failed'})"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "the server closed the connection"
    if isinstance(exc, ConnectionError):
        return "connection failed"
    text = " ".join(str(exc).split())
    return text[:120] if text else "no answer"


async def provider_status(
    settings: Settings,
    *,
    session: aiohttp.ClientSession | None = None,
    config_dir: Path | None = None,
    environ: dict[str, str] | None = None,
    timeout_s: float = PROBE_TIMEOUT_S,
) -> list[dict[str, Any]]:
    """Per provider: configured, key source (never the key), model, base URL, order, reachability."""
    import aiohttp

    keys = key_status(config_dir=config_dir, environ=environ)
    order = [n for n in settings["provider_order"] if n in PROVIDER_NAMES]
    if settings["local_enabled"] and "local" not in order:
        order.append("local")
    rows: list[dict[str, Any]] = []
    for name in PROVIDER_NAMES:
        if name == "local":
            configured = bool(settings["local_enabled"])
            source = "local_enabled setting" if configured else None
        else:
            configured = bool(keys[name]["configured"])
            source = keys[name]["source"]
        rows.append(
            {
                "provider": name,
                "configured": configured,
                "key_source": source,
                "model": settings[f"{name}_model"],
                "base_url": settings[f"{name}_base_url"],
                "order": order.index(name) + 1 if name in order else None,
            }
        )
    own_session = session is None
    client = session or aiohttp.ClientSession()
    try:
        probes = await asyncio.gather(*(probe_url(client, row["base_url"], timeout_s) for row in rows))
    finally:
        if own_session:
            await client.close()
    for row, probe in zip(rows, probes, strict=True):
        row.update(probe)
    return rows
