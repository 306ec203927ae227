"""API keys for the LLM providers: environment variables first, then a 0600 key store file.

Keys are never logged, never put in a repr and never returned by the API: callers that
only need to know whether a key exists use `key_status()`.
"""

from __future__ import annotations

import os
import stat
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mididrumigen.settings import Settings
from mididrumigen.settings import config_dir as default_config_dir

KEY_FILE_NAME = "keys.toml"
KEY_PROVIDERS: tuple[str, ...] = ("anthropic", "google", "openai", "local")
# Environment variables per provider, first match wins (Google's SDK reads both names).
ENV_VARS_BY_PROVIDER: dict[str, tuple[str, ...]] = {
    "anthropic": ("ANTHROPIC_API_KEY",),
    "google": ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
    "openai": ("OPENAI_API_KEY",),
    "local": (),
}
MAX_KEY_CHARS = 500


def key_file_path(config_dir: Path | None = None) -> Path:
    """Path of the key store file, `<config_dir>/keys.toml`."""
    return (config_dir or default_config_dir()) / KEY_FILE_NAME


def _check_provider(provider: str) -> None:
    if provider not in KEY_PROVIDERS:
        raise ValueError(f"unknown provider {provider!r} (use one of {', '.join(KEY_PROVIDERS)})")


def _read_store(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        # Never echo the file: it holds secrets.
        raise ValueError(f"key store {path} is not valid TOML") from None
    return {name: value for name, value in data.items() if isinstance(value, str) and value}


def _write_store(path: Path, keys: Mapping[str, str]) -> None:
    import tomli_w

    from mididrumigen.files import write_atomic

    write_atomic(path, tomli_w.dumps(dict(sorted(keys.items()))).encode("utf-8"), mode=0o600)


def _key_from_env(provider: str, environ: Mapping[str, str]) -> tuple[str, str] | None:
    for var in ENV_VARS_BY_PROVIDER[provider]:
        value = environ.get(var, "").strip()
        if value:
            return value, var
    return None


def get_key(
    provider: str, *, config_dir: Path | None = None, environ: Mapping[str, str] | None = None
) -> str | None:
    """Return the provider's API key (environment first, then the key store), or None."""
    _check_provider(provider)
    found = _key_from_env(provider, os.environ if environ is None else environ)
    if found:
        return found[0]
    return _read_store(key_file_path(config_dir)).get(provider)


class KeyReader:
    """get_key for a long-lived process: the key store is re-read only when its file changed.

    The daemon asks for every provider's key on every generation (the tray may set a key at
    any time); one stat per call instead of reading the file each time.
    """

    def __init__(self, config_dir: Path | None = None, environ: Mapping[str, str] | None = None) -> None:
        self._path = key_file_path(config_dir)
        self._environ = environ
        self._stamp: tuple[int, int, int] | None = None
        self._stored: dict[str, str] = {}

    def get(self, provider: str) -> str | None:
        """The provider's API key (environment first, then the key store), or None."""
        _check_provider(provider)
        found = _key_from_env(provider, os.environ if self._environ is None else self._environ)
        if found:
            return found[0]
        try:
            info = self._path.stat()
        except FileNotFoundError:
            self._stamp, self._stored = None, {}
            return None
        stamp = (info.st_ino, info.st_size, info.st_mtime_ns)  # a replaced file has a new inode
        if stamp != self._stamp:
            self._stored = _read_store(self._path)
            self._stamp = stamp
        return self._stored.get(provider)


def set_key(provider: str, key: str, *, config_dir: Path | None = None) -> None:
    """Store a provider's key in the key store file (mode 0600), replacing any old one."""
    _check_provider(provider)
    cleaned = key.strip()
    if not cleaned:
        raise ValueError("api key is empty")
    if len(cleaned) > MAX_KEY_CHARS or any(ch.isspace() or not ch.isprintable() for ch in cleaned):
        raise ValueError("api key must be one line of printable characters without spaces")
    path = key_file_path(config_dir)
    keys = _read_store(path)
    keys[provider] = cleaned
    _write_store(path, keys)


def delete_key(provider: str, *, config_dir: Path | None = None) -> bool:
    """Remove a provider's key from the key store; True if there was one."""
    _check_provider(provider)
    path = key_file_path(config_dir)
    keys = _read_store(path)
    if provider not in keys:
        return False
    del keys[provider]
    _write_store(path, keys)
    return True


def key_status(
    *, config_dir: Path | None = None, environ: Mapping[str, str] | None = None
) -> dict[str, dict[str, Any]]:
    """Per provider: whether a key is set and where it comes from (never the key itself)."""
    env = os.environ if environ is None else environ
    path = key_file_path(config_dir)
    try:
        stored = _read_store(path)
        store_error = None
    except ValueError as exc:
        stored, store_error = {}, str(exc)
    status: dict[str, dict[str, Any]] = {}
    for provider in KEY_PROVIDERS:
        from_env = _key_from_env(provider, env)
        if from_env:
            source: str | None = f"env:{from_env[1]}"
        elif provider in stored:
            source = KEY_FILE_NAME
        else:
            source = None
        status[provider] = {"configured": source is not None, "source": source}
    if store_error:
        for entry in status.values():
            entry["store_error"] = store_error
    return status


def key_store_is_private(config_dir: Path | None = None) -> bool:
    """True if the key store is missing or readable by its owner only."""
    path = key_file_path(config_dir)
    if not path.exists() or os.name != "posix":
        return True
    return stat.S_IMODE(path.stat().st_mode) & 0o077 == 0


def llm_configured(
    settings: Settings, *, config_dir: Path | None = None, environ: Mapping[str, str] | None = None
) -> bool:
    """True when a provider in provider_order has a key, or the local server is switched on (cheap: no SDKs)."""
    if settings["local_enabled"]:
        return True
    status = key_status(config_dir=config_dir, environ=environ)
    return any(
        status[name]["configured"]
        for name in settings["provider_order"]
        if name in status and name != "local"
    )
