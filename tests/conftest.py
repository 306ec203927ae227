"""Shared fixtures: the Groove MIDI Dataset beside the repo, and an isolated config/data dir."""

from __future__ import annotations

from pathlib import Path

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
