"""The CLI's LLM path: `generate --provider` and `providers`, against a fake server in a child process."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mididrumigen.cli import main
from mididrumigen.midi.smf import read_midi_file
from tests.fakes.llm_servers import API_KEYS

KEY_VARS = ("ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY", "OPENAI_API_KEY")


@pytest.fixture
def fake_root() -> Iterator[str]:
    command = [sys.executable, "-m", "tests.fakes.llm_servers", "--default", "anthropic=overloaded"]
    child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        yield f"http://127.0.0.1:{int(child.stdout.readline())}"
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=10)


@pytest.fixture
def llm_env(fake_root: str, monkeypatch: pytest.MonkeyPatch) -> str:
    for var in KEY_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("MIDIDRUMIGEN_ANTHROPIC_BASE_URL", fake_root)
    monkeypatch.setenv("MIDIDRUMIGEN_GOOGLE_BASE_URL", fake_root)
    monkeypatch.setenv("MIDIDRUMIGEN_OPENAI_BASE_URL", f"{fake_root}/v1")
    monkeypatch.setenv("MIDIDRUMIGEN_LOCAL_BASE_URL", f"{fake_root}/local/v1")
    return fake_root


def run_json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> dict:
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_generate_fails_over_and_writes_valid_midi(
    llm_env: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", API_KEYS["anthropic"])
    monkeypatch.setenv("GEMINI_API_KEY", API_KEYS["google"])
    out = run_json(
        ["generate", "--style", "funk", "--bars", "2", "--variations", "2", "--json", "--out", str(tmp_path)],
        capsys,
    )
    assert out["provider_used"] == "google"
    assert [a["outcome"] for a in out["attempts"] if a["provider"] == "anthropic"] == ["failed", "failed"]
    assert len(out["files"]) == 2
    for path in out["files"]:
        clip = read_midi_file(path)
        assert clip.length_ticks == 2 * clip.ticks_per_bar
    text = json.dumps(out)
    assert API_KEYS["anthropic"] not in text and API_KEYS["google"] not in text


def test_named_provider_without_a_key_says_so_and_uses_the_engine(
    llm_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = run_json(
        ["generate", "--style", "rock", "--provider", "openai", "--json", "--out", str(tmp_path)], capsys
    )
    assert out["provider_used"] == "groove-engine"
    assert out["attempts"][0] == {**out["attempts"][0], "provider": "openai", "reason": "no api key"}


@pytest.mark.parametrize("provider", ["anthropic", "google", "openai"])
def test_named_provider_without_a_key_says_how_to_add_one(
    llm_env: str, provider: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["generate", "John Bonham", "--provider", provider, "--variations", "2", "--out", str(tmp_path)])
        == 0
    )
    captured = capsys.readouterr()
    assert (
        captured.err
        == f"  {provider}: skipped (no API key; add one with: mididrumigen keys set {provider})\n"
    )
    assert "(groove-engine)" in captured.out


def test_auto_does_not_ask_for_keys_of_providers_not_set_up(
    llm_env: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Only Anthropic has a key (and the fake says it is overloaded): its failure is shown,
    # Gemini and OpenAI, never set up, are not a failure to report.
    monkeypatch.setenv("ANTHROPIC_API_KEY", API_KEYS["anthropic"])
    assert main(["generate", "--style", "funk", "--variations", "1", "--out", str(tmp_path)]) == 0
    err = capsys.readouterr().err
    assert "  anthropic: failed (" in err
    assert "google" not in err and "openai" not in err and "keys set" not in err


def test_a_local_server_switched_off_is_not_configured(
    llm_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["generate", "--style", "rock", "--provider", "local", "--out", str(tmp_path)]) == 0
    assert capsys.readouterr().err == "  local: skipped (not configured)\n"


def test_local_provider_from_the_cli(
    llm_env: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MIDIDRUMIGEN_LOCAL_ENABLED", "true")
    argv = [
        "generate",
        "--style",
        "rock",
        "--variations",
        "1",
        "--provider",
        "local",
        "--json",
        "--out",
        str(tmp_path),
    ]
    out = run_json(argv, capsys)
    assert out["provider_used"] == "local"


def test_providers_command_shows_configuration_and_reachability_without_keys(
    llm_env: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", API_KEYS["openai"])
    rows = {row["provider"]: row for row in run_json(["providers", "--json"], capsys)}
    assert rows["openai"]["configured"] is True and rows["openai"]["key_source"] == "env:OPENAI_API_KEY"
    assert rows["anthropic"]["configured"] is False
    assert all(row["reachable"] for row in rows.values())  # the fake answers every base URL
    assert rows["local"]["order"] is None
    assert main(["providers"]) == 0
    table = capsys.readouterr().out
    assert "openai" in table and "configured (env:OPENAI_API_KEY)" in table
    assert API_KEYS["openai"] not in table + json.dumps(rows)
    monkeypatch.setenv("MIDIDRUMIGEN_GOOGLE_BASE_URL", "http://127.0.0.1:9")  # nothing listens there
    assert main(["providers"]) == 0
    (google,) = [line for line in capsys.readouterr().out.splitlines() if " google " in line]
    assert "unreachable: connection refused (is the server running?)" in google and "Error" not in google
