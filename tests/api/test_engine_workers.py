"""The groove engine in the App's worker process gives the same clips as in-process, and survives a dead worker."""

from __future__ import annotations

import os
from pathlib import Path

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
        worker_pids = [p.pid for p in pool._processes.values()]
        assert worker_pids and os.getpid() not in worker_pids
        # A worker killed under the App: the request is still answered and a new pool is made.
        for process in pool._processes.values():
            process.kill()
            process.join(5)
        assert await in_worker.app.run_engine(request, profile) == expected
        assert await in_worker.app.run_engine(request, profile) == expected
        assert in_worker.app._engine_pool is not None and in_worker.app._engine_pool is not pool
    finally:
        await stop_daemon(in_worker)
        await stop_daemon(in_thread)
