"""API keys: environment first, then a 0600 key store; status never holds a key."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from mididrumigen.keys import (
    KeyReader,
    delete_key,
    get_key,
    key_file_path,
    key_status,
    key_store_is_private,
    set_key,
)


def test_environment_wins_and_gemini_or_google_key_both_work(tmp_path: Path) -> None:
    env = {"ANTHROPIC_API_KEY": "env-ant", "GOOGLE_API_KEY": "env-google"}
    set_key("anthropic", "stored-ant", config_dir=tmp_path)
    assert get_key("anthropic", config_dir=tmp_path, environ=env) == "env-ant"
    assert get_key("google", config_dir=tmp_path, environ=env) == "env-google"
    env["GEMINI_API_KEY"] = "env-gemini"
    assert get_key("google", config_dir=tmp_path, environ=env) == "env-gemini"
    assert get_key("anthropic", config_dir=tmp_path, environ={}) == "stored-ant"
    assert get_key("openai", config_dir=tmp_path, environ={}) is None


def test_key_reader_follows_the_key_store_as_it_changes(tmp_path: Path) -> None:
    """The daemon's reader re-reads the store when a key is set, replaced or removed (the tray may do so)."""
    reader = KeyReader(tmp_path, environ={"OPENAI_API_KEY": "env-openai"})
    assert reader.get("anthropic") is None  # no store yet
    set_key("anthropic", "first", config_dir=tmp_path)
    assert reader.get("anthropic") == "first"
    set_key("anthropic", "second", config_dir=tmp_path)  # same length: a new file all the same
    assert reader.get("anthropic") == "second"
    set_key("openai", "stored-openai", config_dir=tmp_path)
    assert reader.get("openai") == "env-openai"  # the environment still wins
    delete_key("anthropic", config_dir=tmp_path)
    assert reader.get("anthropic") is None
    key_file_path(tmp_path).unlink()
    assert reader.get("openai") == "env-openai" and reader.get("local") is None
    key_file_path(tmp_path).write_text("not = [valid", encoding="utf-8")
    with pytest.raises(ValueError, match="not valid TOML"):
        reader.get("local")


@pytest.mark.skipif(os.name != "posix", reason="file modes are a posix notion")
def test_key_store_is_written_owner_only(tmp_path: Path) -> None:
    set_key("openai", "sk-123", config_dir=tmp_path)
    mode = stat.S_IMODE(key_file_path(tmp_path).stat().st_mode)
    assert mode == 0o600
    assert key_store_is_private(tmp_path)


def test_set_delete_and_status_never_return_the_key(tmp_path: Path) -> None:
    set_key("openai", "sk-very-secret", config_dir=tmp_path)
    set_key("local", "llama-token", config_dir=tmp_path)
    status = key_status(config_dir=tmp_path, environ={"ANTHROPIC_API_KEY": "sk-ant-secret"})
    text = json.dumps(status)
    assert "sk-very-secret" not in text and "sk-ant-secret" not in text and "llama-token" not in text
    assert status["openai"] == {"configured": True, "source": "keys.toml"}
    assert status["anthropic"] == {"configured": True, "source": "env:ANTHROPIC_API_KEY"}
    assert status["google"] == {"configured": False, "source": None}
    assert delete_key("openai", config_dir=tmp_path) is True
    assert delete_key("openai", config_dir=tmp_path) is False
    assert get_key("openai", config_dir=tmp_path, environ={}) is None
    assert get_key("local", config_dir=tmp_path, environ={}) == "llama-token"


@pytest.mark.parametrize("bad", ["", "   ", "two words", "line\nbreak", "x" * 501])
def test_bad_keys_are_refused(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ValueError, match="api key"):
        set_key("openai", bad, config_dir=tmp_path)


def test_unknown_provider_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown provider"):
        get_key("mistral", config_dir=tmp_path, environ={})


def test_a_broken_key_store_is_reported_without_its_content(tmp_path: Path) -> None:
    key_file_path(tmp_path).parent.mkdir(parents=True, exist_ok=True)
    key_file_path(tmp_path).write_text('openai = "sk-leak\n', encoding="utf-8")
    with pytest.raises(ValueError) as caught:
        get_key("openai", config_dir=tmp_path, environ={})
    assert "sk-leak" not in str(caught.value)
    status = key_status(config_dir=tmp_path, environ={})
    assert status["openai"]["configured"] is False
    assert "sk-leak" not in json.dumps(status)


def test_llm_configured_needs_a_key_in_the_order_or_the_local_server(tmp_path: Path) -> None:
    from mididrumigen.keys import llm_configured
    from mididrumigen.settings import Settings

    assert not llm_configured(Settings(), config_dir=tmp_path, environ={})
    assert llm_configured(Settings(), config_dir=tmp_path, environ={"OPENAI_API_KEY": "k"})
    only_claude = Settings({"provider_order": ["anthropic"]})
    assert not llm_configured(only_claude, config_dir=tmp_path, environ={"OPENAI_API_KEY": "k"})
    assert llm_configured(Settings({"local_enabled": True}), config_dir=tmp_path, environ={})
