"""`mididrumigen keys`: keys go into the private store and are never printed."""

from __future__ import annotations

import io
import stat
from pathlib import Path

import pytest

from mididrumigen.cli import main
from mididrumigen.keys import get_key, key_file_path


def test_set_list_delete(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("sk-test-123\n"))
    assert main(["keys", "set", "openai"]) == 0
    assert get_key("openai") == "sk-test-123"
    path: Path = key_file_path()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert main(["keys", "list"]) == 0
    out = capsys.readouterr().out
    assert "sk-test-123" not in out
    assert "openai     keys.toml" in out
    assert main(["keys", "delete", "openai"]) == 0
    assert get_key("openai") is None
    assert main(["keys", "delete", "openai"]) == 2
    assert "no stored openai key" in capsys.readouterr().err


def test_bad_key_is_refused(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("two words\n"))
    assert main(["keys", "set", "anthropic"]) == 2
    assert "printable characters" in capsys.readouterr().err
