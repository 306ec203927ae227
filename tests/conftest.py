"""Shared fixtures: the Groove MIDI Dataset beside the repo, an isolated config/data dir, a store writer."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

REPO_DIR = Path(__file__).resolve().parents[1]
GMD_DIR = REPO_DIR.parent / "shared" / "corpus" / "gmd"


@pytest.fixture
def gmd_dir() -> Path:
    """The Groove MIDI Dataset folder (../shared/corpus/gmd)."""
    if not (GMD_DIR / "info.csv").exists():
        pytest.fail(f"the Groove MIDI Dataset is missing at {GMD_DIR}")
    return GMD_DIR


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keep every test's settings, token and data out of the user's real folders."""
    home = tmp_path / "mdg-home"
    monkeypatch.setenv("MIDIDRUMIGEN_CONFIG_DIR", str(home / "config"))
    monkeypatch.setenv("MIDIDRUMIGEN_DATA_DIR", str(home / "data"))
    # A developer's real API keys must never send a test to a real LLM service.
    for var in ("ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY", "OPENAI_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    return home


@pytest.fixture
def save_in_store(isolated_dirs: Path) -> Callable[[Any], None]:
    """Save a StyleProfile in the store the CLI and the daemon read (as research would have)."""

    def save(profile: Any) -> None:
        import asyncio

        from mididrumigen.app import DATABASE_FILE
        from mididrumigen.settings import Settings
        from mididrumigen.store import Store

        async def write() -> None:
            store = await Store.open(Settings.load().data_dir / DATABASE_FILE)
            try:
                await store.save_profile(profile)
            finally:
                await store.close()

        asyncio.run(write())

    return save


@pytest.fixture
def daemon_lock_held_elsewhere(isolated_dirs: Path) -> Iterator[Path]:
    """Another process holds the config folder's daemon lock (a daemon starting, no daemon.json yet)."""
    from mididrumigen.daemon import LOCK_FILE
    from mididrumigen.settings import config_dir

    folder = config_dir()
    folder.mkdir(parents=True, exist_ok=True)
    code = (
        "import sys; from filelock import FileLock; lock = FileLock(sys.argv[1]); lock.acquire(timeout=10);"
        " print('held', flush=True); sys.stdin.read()"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(folder / LOCK_FILE)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    try:
        yield folder / LOCK_FILE
    finally:
        assert holder.stdin is not None
        holder.stdin.close()  # the holder exits, and the OS drops its lock
        holder.wait(10)
