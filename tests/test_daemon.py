"""The daemon process: token, discovery file, ports, shutdown, kill -9 recovery, the CLI as a client."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from mididrumigen.app import App
from mididrumigen.cli import main as cli_main
from mididrumigen.client import DaemonClient
from mididrumigen.daemon import (
    DISCOVERY_FILE,
    LOCK_FILE,
    DaemonInfo,
    claim_folder,
    discover,
    load_or_create_token,
    read_discovery,
    serve,
)
from mididrumigen.errors import UserError
from mididrumigen.jobs import JobContext
from mididrumigen.settings import Settings, config_dir
from mididrumigen.store import Store

REPO = Path(__file__).resolve().parents[1]


def mode_of(path: Path) -> int:
    """Permission bits of a file."""
    return stat.S_IMODE(path.stat().st_mode)


def test_token_is_created_once_with_mode_0600(tmp_path: Path) -> None:
    first = load_or_create_token(tmp_path)
    assert len(first) >= 32 and mode_of(tmp_path / "token") == 0o600
    assert load_or_create_token(tmp_path) == first


async def _serve_until(settings: Settings, check: Any, configure: Any = None) -> DaemonInfo:
    stop = asyncio.Event()
    ready: asyncio.Future[DaemonInfo] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(serve(settings, configure=configure, ready=ready.set_result, stop=stop))
    try:
        info = await asyncio.wait_for(ready, 10)
        await check(info)
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
    return info


async def test_serve_publishes_discovery_and_cleans_up(isolated_dirs: Path) -> None:
    async def check(info: DaemonInfo) -> None:
        path = config_dir() / DISCOVERY_FILE
        assert mode_of(path) == 0o600
        data = json.loads(path.read_text())
        assert data["pid"] == os.getpid() and data["port"] == info.port and data["token"] == info.token
        assert data["url"] == f"http://127.0.0.1:{info.port}"
        found = await asyncio.to_thread(discover)
        assert found is not None and found.token == (config_dir() / "token").read_text().strip()
        health = await asyncio.to_thread(DaemonClient(info.url, "not-needed").health)
        assert health["status"] == "ok"

    await _serve_until(Settings({"port": 0}), check)
    assert not (config_dir() / DISCOVERY_FILE).exists()


async def test_a_second_daemon_for_the_same_config_is_refused(isolated_dirs: Path) -> None:
    async def check(info: DaemonInfo) -> None:
        with pytest.raises(
            UserError, match=f"a daemon is already running at {info.url} \\(pid {os.getpid()}\\)"
        ):
            await asyncio.wait_for(serve(Settings({"port": 0})), 10)
        assert read_discovery() == info  # the first one's discovery file stays, naming it

    await _serve_until(Settings({"port": 0}), check)
    assert not (config_dir() / DISCOVERY_FILE).exists()


async def _nothing(_info: DaemonInfo) -> None:
    pass


async def test_a_daemon_whose_lock_another_process_holds_is_refused(daemon_lock_held_elsewhere: Path) -> None:
    refused = f"^another daemon holds {re.escape(str(daemon_lock_held_elsewhere))} but does not answer yet"
    with pytest.raises(UserError, match=refused):
        await asyncio.wait_for(serve(Settings({"port": 0})), 10)
    assert not (daemon_lock_held_elsewhere.parent / DISCOVERY_FILE).exists()


async def test_a_daemon_starts_once_the_lock_holder_is_gone(isolated_dirs: Path) -> None:
    folder = config_dir()
    folder.mkdir(parents=True)
    take_and_die = f"from filelock import FileLock; FileLock({str(folder / LOCK_FILE)!r}).acquire()"
    await asyncio.to_thread(subprocess.run, [sys.executable, "-c", take_and_die], check=True, timeout=10)
    # It died holding the lock: the OS dropped it.
    await _serve_until(Settings({"port": 0, "engine_processes": 0}), _nothing)


async def test_a_daemon_holds_its_lock_until_it_stops_so_a_restart_works_at_once(isolated_dirs: Path) -> None:
    async def check(_info: DaemonInfo) -> None:
        assert claim_folder(config_dir()) is None

    settings = Settings({"port": 0, "engine_processes": 0})
    await _serve_until(settings, check)
    await _serve_until(settings, check)
    lock = claim_folder(config_dir())
    assert lock is not None
    lock.release()


async def test_taken_port_moves_to_the_next_free_one(isolated_dirs: Path) -> None:
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    taken = blocker.getsockname()[1]
    try:

        async def check(info: DaemonInfo) -> None:
            assert info.port != taken and taken < info.port <= taken + 20

        await _serve_until(Settings({"port": taken}), check)
    finally:
        blocker.close()


async def test_serve_refuses_compressed_bodies_in_the_error_shape(isolated_dirs: Path) -> None:
    import aiohttp

    async def check(info: DaemonInfo) -> None:
        headers = {"Authorization": f"Bearer {info.token}", "Content-Type": "application/json"}
        async with aiohttp.ClientSession(info.url, headers=headers) as session:
            for encoding in ("br", "zstd", "gzip"):
                sent = {"Content-Encoding": encoding}
                async with session.post("/api/v1/generate", data=b"\x28\xb5", headers=sent) as resp:
                    assert resp.status == 415, encoding
                    assert (await resp.json())["error"]["code"] == "unsupported_encoding"

    await _serve_until(Settings({"port": 0, "engine_processes": 0}), check)


class Forever:
    """configure= for serve: keeps the App and registers a job kind that runs until cancelled."""

    app: App

    def __call__(self, app: App) -> None:
        self.app = app

        async def forever(_app: App, job: JobContext) -> None:
            await job.set_stage("waiting", 10)
            await asyncio.sleep(3600)

        app.scheduler.register("forever", forever)


async def test_a_client_leaving_an_event_stream_is_not_an_error(
    isolated_dirs: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from mididrumigen.api import routes

    monkeypatch.setattr(routes, "SSE_KEEPALIVE_S", 0.05)  # the next keep-alive finds the client gone
    caplog.set_level(logging.DEBUG)
    daemon = Forever()

    async def check(info: DaemonInfo) -> None:
        task_id = await daemon.app.scheduler.submit("forever", {})
        reader, writer = await asyncio.open_connection("127.0.0.1", info.port)
        writer.write(
            f"GET /api/v1/task/{task_id}/events HTTP/1.1\r\nHost: 127.0.0.1:{info.port}\r\n"
            f"Authorization: Bearer {info.token}\r\n\r\n".encode()
        )
        await asyncio.wait_for(reader.readuntil(b"event: progress"), 5)
        writer.close()
        await asyncio.sleep(0.5)

    await _serve_until(Settings({"port": 0, "engine_processes": 0}), check, configure=daemon)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert any("closed by the client" in r.getMessage() for r in caplog.records)


async def test_event_streams_end_with_a_shutdown_event_when_the_daemon_stops(isolated_dirs: Path) -> None:
    import aiohttp

    daemon = Forever()
    stop = asyncio.Event()
    ready: asyncio.Future[DaemonInfo] = asyncio.get_running_loop().create_future()
    settings = Settings({"port": 0, "engine_processes": 0})
    serving = asyncio.create_task(serve(settings, configure=daemon, ready=ready.set_result, stop=stop))
    try:
        info = await asyncio.wait_for(ready, 10)
        task_id = await daemon.app.scheduler.submit("forever", {})
        headers = {"Authorization": f"Bearer {info.token}"}
        async with (
            aiohttp.ClientSession(info.url, headers=headers) as session,
            session.get(f"/api/v1/task/{task_id}/events") as resp,
        ):
            assert b"event: progress" in await resp.content.readuntil(b"\n\n")
            stop.set()
            rest = await asyncio.wait_for(resp.content.read(), 10)  # a stream cut mid-chunk raises here
        events = [line for line in rest.decode().splitlines() if line.startswith("event: ")]
        assert events[-1] == "event: shutdown"
    finally:
        stop.set()
        await asyncio.wait_for(serving, 10)


async def test_non_loopback_bind_needs_allow_remote(isolated_dirs: Path) -> None:
    with pytest.raises(ValueError, match="allow_remote"):
        await serve(Settings({"host": "0.0.0.0", "port": 0}))


def test_serve_on_a_port_out_of_range_is_a_one_line_settings_error(
    isolated_dirs: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MIDIDRUMIGEN_PORT", "70000")
    assert cli_main(["serve"]) == 2
    err = capsys.readouterr().err
    assert err == "mididrumigen: error: setting port must be from 0 to 65535, got 70000\n"


def test_discover_ignores_a_dead_pid(isolated_dirs: Path) -> None:
    folder = config_dir()
    folder.mkdir(parents=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    info = {"url": "http://127.0.0.1:9", "port": 9, "pid": dead.pid, "token": "x" * 40, "version": "0"}
    (folder / DISCOVERY_FILE).write_text(json.dumps(info))
    assert read_discovery() is not None
    assert discover() is None


# -- a real daemon process -------------------------------------------------------------------------


def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        MIDIDRUMIGEN_CONFIG_DIR=str(home / "config"),
        MIDIDRUMIGEN_DATA_DIR=str(home / "data"),
        MIDIDRUMIGEN_PORT="0",
        PYTHONPATH=str(REPO),
    )
    return env


def _start(home: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.jobs.slow_job_daemon", *args],
        cwd=REPO,
        env=_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def _wait_discovery(proc: subprocess.Popen[str], timeout_s: float = 15.0) -> DaemonInfo:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        info = read_discovery()
        if info is not None and info.pid == proc.pid and discover() is not None:
            return info
        assert proc.poll() is None, "daemon exited early"
        time.sleep(0.05)
    raise AssertionError("daemon did not start")


def _task(info: DaemonInfo, task_id: str) -> dict[str, Any]:
    return DaemonClient(info.url, info.token).task(task_id)


def _running_job(proc: subprocess.Popen[str]) -> tuple[DaemonInfo, str]:
    """The daemon's discovery info and the id of the job it submitted ('submit' mode), once running."""
    info = _wait_discovery(proc)
    assert proc.stdout is not None
    line = proc.stdout.readline().split()
    assert line[0] == "JOB"
    task_id = line[1]
    _wait_status(info, task_id, {"running"})
    return info, task_id


def _wait_status(info: DaemonInfo, task_id: str, wanted: set[str], timeout_s: float = 10.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        task = _task(info, task_id)
        if task["status"] in wanted:
            return task
        time.sleep(0.05)
    raise AssertionError(f"task never reached {wanted}: {task}")


def _stop(proc: subprocess.Popen[str]) -> int:
    proc.send_signal(signal.SIGTERM)
    return proc.wait(15)


async def _integrity(home: Path) -> str:
    store = await Store.open(home / "data" / "mididrumigen.sqlite")
    try:
        assert not await store.jobs_with_status("running")
        return await store.db.integrity_check()
    finally:
        await store.close()


def test_two_daemons_started_at_once_leave_one_running(isolated_dirs: Path) -> None:
    env = _env(isolated_dirs) | {"MIDIDRUMIGEN_ENGINE_PROCESSES": "0"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "mididrumigen", "serve"],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        deadline = time.monotonic() + 20
        while (info := discover()) is None:
            assert time.monotonic() < deadline, "no daemon started"
            time.sleep(0.05)
        winner = next(p for p in procs if p.pid == info.pid)
        loser = next(p for p in procs if p is not winner)
        _, err = loser.communicate(timeout=15)  # without the lock both would run: this times out
        assert loser.returncode == 2
        assert err.count("\n") == 1 and err.startswith("mididrumigen: error: "), err
        assert "a daemon is already running at" in err or "another daemon holds" in err, err
        assert winner.poll() is None and discover() == info
        assert _stop(winner) == 0
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
    assert not (config_dir() / DISCOVERY_FILE).exists()


@pytest.mark.parametrize(("kind", "expected"), [("plain", "failed"), ("resumable", "succeeded")])
def test_kill_9_during_a_job_then_restart(isolated_dirs: Path, kind: str, expected: str) -> None:
    proc = _start(isolated_dirs, kind, "submit")
    try:
        _, task_id = _running_job(proc)
    finally:
        proc.kill()  # SIGKILL: no cleanup at all
        proc.wait(10)
    assert discover() is None  # the stale discovery file is not trusted

    again = _start(isolated_dirs, kind, "idle")
    try:
        info = _wait_discovery(again)
        task = _wait_status(info, task_id, {"failed", "succeeded"})
        assert task["status"] == expected
        if expected == "failed":
            assert task["error"] == "interrupted by restart"
        else:
            assert task["result"] == {"attempt": 2} and task["attempts"] == 2
        assert _stop(again) == 0
    finally:
        if again.poll() is None:
            again.kill()
    assert not (config_dir() / DISCOVERY_FILE).exists()
    assert asyncio.run(_integrity(isolated_dirs)) == "ok"


def test_cli_uses_a_running_daemon(isolated_dirs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    proc = _start(isolated_dirs, "plain", "idle")
    try:
        info = _wait_discovery(proc)
        assert cli_main(["generate", "Questlove", "--variations", "2", "--json"]) == 0
        result = json.loads(capsys.readouterr().out)
        assert result["artist"] == "Questlove" and len(result["files"]) == 2
        assert all(Path(p).is_file() for p in result["files"])
        stats = DaemonClient(info.url, info.token).stats()
        assert stats["generations"] == 1  # recorded by the daemon, so history is shared
        assert cli_main(["artists", "--json"]) == 0
        names = {a["name"] for a in json.loads(capsys.readouterr().out)}
        assert "Questlove" in names
        assert cli_main(["generate", "Questlove", "--bars", "99"]) == 2
        assert "bars" in capsys.readouterr().err
        assert cli_main(["similar", "questlove", "--limit", "3", "--json", "--daemon", "yes"]) == 0
        neighbours = json.loads(capsys.readouterr().out)
        assert len(neighbours) == 3
        assert "Questlove" not in {n["artist"] for n in neighbours}
        with urllib.request.urlopen(f"{info.url}/api/v1/health", timeout=5) as resp:
            assert resp.status == 200
        assert _stop(proc) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


async def test_a_store_that_fails_to_open_gives_the_signals_and_the_lock_back(
    isolated_dirs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(_settings: Settings) -> App:
        raise OSError("disk full")

    monkeypatch.setattr(App, "create", staticmethod(broken))
    with pytest.raises(OSError, match="disk full"):
        await asyncio.wait_for(serve(Settings({"port": 0})), 10)
    # Ctrl-C is Python's again (an asyncio handler left behind would swallow it), and a retry may start.
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    lock = claim_folder(config_dir())
    assert lock is not None
    lock.release()
