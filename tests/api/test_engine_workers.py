"""The groove engine in the App's worker process gives the same clips as in-process, and survives a dead worker."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mididrumigen.generation.groove_engine import generate_grooves, generate_grooves_packed, unpack_clips
from mididrumigen.generation.request import GenerationRequest
from mididrumigen.research.drummers import find_builtin
from tests.api.conftest import start_daemon, stop_daemon


def test_packed_clips_round_trip() -> None:
    request = GenerationRequest(artist="John Bonham", bars=4, variations=4, seed=7)
    profile = find_builtin("John Bonham")
    assert unpack_clips(generate_grooves_packed(request, profile)) == generate_grooves(request, profile)


async def test_worker_process_and_thread_make_the_same_clips(tmp_path: Path) -> None:
    request = GenerationRequest(artist="John Bonham", bars=4, variations=4, seed=21)
    profile = find_builtin("John Bonham")
    expected = generate_grooves(request, profile)
    in_worker = await start_daemon(tmp_path / "worker", engine_processes=1)
    in_thread = await start_daemon(tmp_path / "thread", engine_processes=0)
    try:
        assert await in_worker.app.run_engine(request, profile) == expected
        assert await in_thread.app.run_engine(request, profile) == expected
        pool = in_worker.app._engine_pool
        assert pool is not None and in_thread.app._engine_pool is None
        worker_pids = [p.pid for p in pool.processes]
        assert worker_pids and os.getpid() not in worker_pids
        # A worker killed under the App: the request is still answered and a new pool is made.
        for process in pool.processes:
            process.kill()
            process.join(5)
        assert await in_worker.app.run_engine(request, profile) == expected
        assert await in_worker.app.run_engine(request, profile) == expected
        assert in_worker.app._engine_pool is not None and in_worker.app._engine_pool is not pool
    finally:
        await stop_daemon(in_worker)
        await stop_daemon(in_thread)


@pytest.mark.slow  # a real daemon and its worker process start: ~3 s
def test_worker_exits_when_the_daemon_is_killed(tmp_path: Path) -> None:
    """kill -9 the daemon: its engine worker process notices and ends within a few seconds."""
    import contextlib
    import signal
    import time

    import psutil

    from tests.benchmarks.daemon_common import start_daemon as start_daemon_process

    daemon = start_daemon_process(tmp_path, engine_processes="1")
    workers: list[psutil.Process] = []
    try:
        parent = psutil.Process(daemon.proc.pid)
        deadline = time.monotonic() + 20
        while not workers and time.monotonic() < deadline:  # warm_engine starts it just after /health is up
            workers = [p for p in parent.children() if "spawn_main" in " ".join(p.cmdline())]
            time.sleep(0.02)
        assert workers, "the daemon started no engine worker"
        daemon.proc.send_signal(signal.SIGKILL)
        daemon.proc.wait(5)
        _gone, alive = psutil.wait_procs(workers, timeout=5)
        assert not alive, f"engine workers outlived the daemon: {[p.pid for p in alive]}"
    finally:
        if daemon.proc.poll() is None:
            daemon.proc.kill()
            daemon.proc.wait(5)
        for worker in workers:  # leave no orphan behind when the test fails
            with contextlib.suppress(psutil.NoSuchProcess):
                worker.kill()


async def test_workers_keep_the_profile_between_requests_and_send_errors_back(tmp_path: Path) -> None:
    """The profile is shipped once per worker while it is the same object; a new one replaces it."""
    import asyncio

    bonham, peart = find_builtin("John Bonham"), find_builtin("Neil Peart")
    running = await start_daemon(tmp_path, engine_processes=1)
    try:
        app = running.app
        for seed, profile in ((1, bonham), (2, bonham), (3, peart), (4, bonham)):
            request = GenerationRequest(artist=profile.artist_name, bars=2, variations=2, seed=seed)
            assert await app.run_engine(request, profile) == generate_grooves(request, profile)
        styled = GenerationRequest(style="funk", bars=2, variations=1, seed=5)
        assert await app.run_engine(styled, None) == generate_grooves(styled)
        # The engine's own errors come back as they are, and the worker carries on.
        with pytest.raises(ValueError, match="give a style or a profile"):
            await app.run_engine(GenerationRequest(artist="Nobody", bars=2), None)
        # A request given up on (its client went away) leaves the worker usable.
        slow = asyncio.ensure_future(
            app.run_engine(GenerationRequest(style="rock", bars=16, variations=8), None)
        )
        await asyncio.sleep(0)
        slow.cancel()
        request = GenerationRequest(artist="John Bonham", bars=2, variations=1, seed=6)
        assert await app.run_engine(request, bonham) == generate_grooves(request, bonham)
        pool = app._engine_pool
        assert pool is not None and all(p.is_alive() for p in pool.processes)
    finally:
        await stop_daemon(running)
    assert not any(p.is_alive() for p in pool.processes)  # closed with the App


async def test_workers_answer_through_a_reader_thread_where_the_loop_cannot_watch_pipes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On Windows' proactor loop there is no add_reader: a thread reads the answers instead."""
    import asyncio

    def no_readers(*_args: object) -> None:
        raise NotImplementedError

    monkeypatch.setattr(asyncio.get_running_loop(), "add_reader", no_readers)
    running = await start_daemon(tmp_path, engine_processes=1)
    try:
        request = GenerationRequest(style="bossa_nova", bars=2, variations=2, seed=8)
        assert await running.app.run_engine(request, None) == generate_grooves(request)
    finally:
        await stop_daemon(running)
