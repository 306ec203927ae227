"""`mididrumigen serve`: bind loopback, publish the discovery file, run until SIGINT/SIGTERM, shut down cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import json
import logging
import os
import secrets
import signal
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mididrumigen.errors import UserError
from mididrumigen.files import write_atomic
from mididrumigen.settings import Settings, config_dir

if TYPE_CHECKING:
    from aiohttp import web
    from filelock import BaseFileLock

    from mididrumigen.app import App

log = logging.getLogger(__name__)

DISCOVERY_FILE = "daemon.json"
TOKEN_FILE = "token"
LOCK_FILE = "daemon.lock"
PORT_TRIES = 20
SHUTDOWN_TIMEOUT_S = 3.0
HEALTH_TIMEOUT_S = 0.5


@dataclass(frozen=True, slots=True)
class DaemonInfo:
    """How to reach a running daemon: what the discovery file holds."""

    url: str
    port: int
    pid: int
    token: str
    version: str
    host: str = "127.0.0.1"


def load_or_create_token(folder: Path) -> str:
    """The per-install API token: read it, or create it (mode 0600) on first run."""
    path = folder / TOKEN_FILE
    try:
        token = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        token = ""
    if len(token) < 32:
        token = secrets.token_urlsafe(32)
        write_atomic(path, token.encode("ascii"), mode=0o600)
    return token


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def url_host(host: str) -> str:
    """The host as written in a URL (IPv6 in brackets, unspecified addresses as 127.0.0.1)."""
    if host in ("", "0.0.0.0", "::"):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


async def bind(runner: web.AppRunner, host: str, port: int, tries: int = PORT_TRIES) -> int:
    """Start a TCP site on port, or the next free one; return the bound port (0 picks any free port)."""
    from aiohttp import web

    candidates = [0] if port == 0 else list(range(port, min(port + tries, 65536)))
    for candidate in candidates:
        site = web.TCPSite(runner, host, candidate)
        try:
            await site.start()
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                log.info("port %d is taken; trying the next one", candidate)
                continue
            raise
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        return int(sockets[0].getsockname()[1]) if sockets else candidate
    raise OSError(f"no free port from {port} to {port + tries - 1}")


def write_discovery(folder: Path, info: DaemonInfo) -> Path:
    """Publish the daemon's address and token for the device, the tray and the CLI (mode 0600)."""
    path = folder / DISCOVERY_FILE
    write_atomic(path, json.dumps(asdict(info), indent=2).encode("utf-8"), mode=0o600)
    return path


def remove_discovery(folder: Path, pid: int) -> None:
    """Remove the discovery file if it is still ours."""
    path = folder / DISCOVERY_FILE
    try:
        if json.loads(path.read_text(encoding="utf-8")).get("pid") == pid:
            path.unlink()
    except (OSError, ValueError):
        pass


def claim_folder(folder: Path) -> BaseFileLock | None:
    """Take the folder's daemon lock (the OS drops it when the process dies); None if another holds it."""
    from filelock import FileLock, Timeout

    folder.mkdir(parents=True, exist_ok=True)
    # Not thread-local: the lock belongs to the daemon, whichever thread ends up releasing it.
    lock = FileLock(folder / LOCK_FILE, thread_local=False)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return None
    return lock


async def serve(
    settings: Settings,
    *,
    configure: Callable[[App], None] | None = None,
    ready: Callable[[DaemonInfo], None] | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Run the daemon until SIGINT/SIGTERM (or `stop` is set): API, scheduler and store in one loop."""
    host = str(settings["host"])
    if not is_loopback(host) and not settings["allow_remote"]:
        raise ValueError(f"refusing to bind {host}: set allow_remote = true to serve beyond this machine")
    folder = config_dir()
    # The lock, not the discovery file, decides: two daemons started at once would both find no daemon.json.
    lock = claim_folder(folder)
    try:
        # Asked even with the lock: it names the running daemon, and finds one that takes no lock (older).
        running = await asyncio.to_thread(discover, folder)
        if running is not None:
            # A second daemon would share the store and the jobs, and take over (then remove) the discovery file.
            raise UserError(
                f"a daemon is already running at {running.url} (pid {running.pid})"
                " for this config folder; stop it first (Ctrl-C where it runs, or kill it)"
            )
        if lock is None:
            raise UserError(
                f"another daemon holds {folder / LOCK_FILE} but does not answer yet"
                " (starting, stopping or busy); try again in a moment, or stop it first"
            )
        await _serve_locked(settings, folder, host, configure=configure, ready=ready, stop=stop)
    finally:
        if lock is not None:
            lock.release()


async def _serve_locked(
    settings: Settings,
    folder: Path,
    host: str,
    *,
    configure: Callable[[App], None] | None,
    ready: Callable[[DaemonInfo], None] | None,
    stop: asyncio.Event | None,
) -> None:
    """serve() once the folder's lock is held: token, App, API, discovery file, then wait for `stop`."""
    from aiohttp import web

    from mididrumigen.api import GUARD, RUNNER_OPTIONS, build_api
    from mididrumigen.app import App

    token = load_or_create_token(folder)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)

    app: App | None = None
    runner: web.AppRunner | None = None
    pid = os.getpid()
    try:
        # Inside the try: a store that fails to open still gives the signal handlers back.
        app = await App.create(settings)
        if configure is not None:
            configure(app)
        await app.start()
        api = build_api(app, token)
        runner = web.AppRunner(
            api, access_log=None, handle_signals=False, shutdown_timeout=SHUTDOWN_TIMEOUT_S, **RUNNER_OPTIONS
        )
        await runner.setup()
        port = await bind(runner, host, int(settings["port"]))
        api[GUARD].port = port
        from mididrumigen import __version__

        info = DaemonInfo(f"http://{url_host(host)}:{port}", port, pid, token, __version__, host)
        write_discovery(folder, info)
        app.warm_engine()  # after the port is published: the worker's imports never delay /health
        log.info("mididrumigen daemon %s listening on %s (pid %d)", __version__, info.url, pid)
        if ready is not None:
            ready(info)
        await stop.wait()
        log.info("shutting down")
    finally:
        if runner is not None:
            await runner.cleanup()
        if app is not None:
            await app.close()
        remove_discovery(folder, pid)
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
        log.info("stopped")


def run(settings: Settings | None = None) -> int:
    """Run the daemon in a fresh event loop; return the exit code."""
    asyncio.run(serve(settings or Settings.load()))
    return 0


def _pid_alive(pid: int) -> bool:
    if os.name == "nt":
        return True  # no signal-0 probe on Windows; /health decides
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _health_ok(info: DaemonInfo, timeout_s: float) -> bool:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(f"{info.url}/api/v1/health", timeout=timeout_s) as response:
            return bool(response.status == 200 and json.loads(response.read()).get("status") == "ok")
    except (TimeoutError, OSError, ValueError, urllib.error.URLError):
        return False


def read_discovery(folder: Path | None = None) -> DaemonInfo | None:
    """The discovery file's contents, or None if absent or unreadable."""
    path = (folder or config_dir()) / DISCOVERY_FILE
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return DaemonInfo(
            url=str(data["url"]),
            port=int(data["port"]),
            pid=int(data["pid"]),
            token=str(data["token"]),
            version=str(data.get("version", "")),
            host=str(data.get("host", "127.0.0.1")),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def discover(folder: Path | None = None, timeout_s: float = HEALTH_TIMEOUT_S) -> DaemonInfo | None:
    """A running daemon's url and token, if its pid is alive and /health answers; else None."""
    info = read_discovery(folder)
    if info is None or not _pid_alive(info.pid):
        return None
    return info if _health_ok(info, timeout_s) else None
