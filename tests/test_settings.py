"""Settings: defaults, the TOML file, environment overrides and type checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from mididrumigen.settings import SETTINGS, Settings


def test_every_setting_has_help_and_a_unique_name() -> None:
    names = [s.name for s in SETTINGS]
    assert len(names) == len(set(names))
    assert all(s.help.strip() for s in SETTINGS)


def test_every_outside_service_url_is_a_setting() -> None:
    names = {s.name for s in SETTINGS}
    for service in (
        "anthropic",
        "google",
        "openai",
        "local",
        "semantic_scholar",
        "arxiv",
        "crossref",
        "wikipedia",
        "bitmidi",
    ):
        assert f"{service}_base_url" in names


def test_file_then_env_then_overrides(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text('port = 9000\nprovider_order = ["openai"]\ndefault_humanize = 1\n')
    settings = Settings.load(path, environ={"MIDIDRUMIGEN_PORT": "9100"}, overrides={"default_bars": 8})
    assert settings["port"] == 9100
    assert settings["provider_order"] == ["openai"]
    assert settings["default_humanize"] == 1.0
    assert settings["default_bars"] == 8


def test_env_values_are_coerced() -> None:
    env = {"MIDIDRUMIGEN_ALLOW_REMOTE": "yes", "MIDIDRUMIGEN_PROVIDER_ORDER": "google, openai"}
    settings = Settings.load(Path("/nonexistent/settings.toml"), environ=env)
    assert settings["allow_remote"] is True
    assert settings["provider_order"] == ["google", "openai"]


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"MIDIDRUMIGEN_PORT": "eighty"}, "port must be an integer"),
        ({"MIDIDRUMIGEN_ALLOW_REMOTE": "maybe"}, "true or false"),
    ],
)
def test_bad_values_are_clear_errors(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Settings.load(Path("/nonexistent/settings.toml"), environ=environ)


@pytest.mark.parametrize("port", ["70000", "65536", "-1"])
def test_ports_outside_0_to_65535_are_settings_errors(tmp_path: Path, port: str) -> None:
    with pytest.raises(ValueError, match=f"setting port must be from 0 to 65535, got {port}"):
        Settings.load(tmp_path / "settings.toml", environ={"MIDIDRUMIGEN_PORT": port})
    (tmp_path / "settings.toml").write_text(f"port = {port}\n")
    with pytest.raises(ValueError, match="port must be from 0 to 65535"):
        Settings.load(tmp_path / "settings.toml", environ={})
    for edge in (0, 65535):
        (tmp_path / "settings.toml").write_text(f"port = {edge}\n")
        assert Settings.load(tmp_path / "settings.toml", environ={})["port"] == edge


def test_unknown_setting_and_bad_toml(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text("colour = 'red'\n")
    with pytest.raises(ValueError, match="unknown setting 'colour'"):
        Settings.load(path, environ={})
    path.write_text("port = \n")
    with pytest.raises(ValueError, match="not valid TOML"):
        Settings.load(path, environ={})


def test_save_writes_only_changes(tmp_path: Path) -> None:
    path = tmp_path / "cfg" / "settings.toml"
    settings = Settings.load(path, environ={})
    settings.set("port", 9999)
    settings.save()
    assert path.read_text().strip() == "port = 9999"
    assert Settings.load(path, environ={})["port"] == 9999


@pytest.mark.parametrize("raw", ["-1", "-100"])
def test_a_negative_rate_limit_is_a_settings_error(tmp_path: Path, raw: str) -> None:
    with pytest.raises(ValueError, match="rate_limit_per_hour must be 0 \\(no limit\\) or more"):
        Settings.load(Path("/nonexistent/settings.toml"), environ={"MIDIDRUMIGEN_RATE_LIMIT_PER_HOUR": raw})
    path = tmp_path / "settings.toml"
    path.write_text(f"rate_limit_per_hour = {raw}\n")
    with pytest.raises(ValueError, match="rate_limit_per_hour"):
        Settings.load(path, environ={})
    path.write_text("rate_limit_per_hour = 0\n")  # no limit
    assert Settings.load(path, environ={})["rate_limit_per_hour"] == 0


def test_settings_made_in_code_honour_the_data_dir_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Settings({...}) reads no environment, but its default data dir must not escape the variable
    # (it did: tests and tools making Settings in code wrote to the user's real store).
    monkeypatch.setenv("MIDIDRUMIGEN_DATA_DIR", str(tmp_path / "data"))
    assert Settings({"port": 0}).data_dir == tmp_path / "data"
    monkeypatch.delenv("MIDIDRUMIGEN_DATA_DIR")
    assert Settings({"port": 0}).data_dir != tmp_path / "data"
