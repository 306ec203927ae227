"""One table of settings with defaults and help; a TOML file and MIDIDRUMIGEN_* env overrides."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

APP_NAME = "mididrumigen"
ENV_PREFIX = "MIDIDRUMIGEN_"


@dataclass(frozen=True, slots=True)
class Setting:
    """One setting: name, default value and a line of help."""

    name: str
    default: Any
    help: str


# Every outside base URL is a setting so tests, proxies and mirrors can point it elsewhere.
SETTINGS: tuple[Setting, ...] = (
    # Paths (empty means the platformdirs default)
    Setting("data_dir", "", "Folder for the database and generated files (default: the user data dir)."),
    Setting("output_dir", "", "Folder for generated .mid files (default: <data_dir>/generated)."),
    Setting("library_dirs", [], "MIDI template folders indexed by 'mididrumigen library add'."),
    # Generation defaults
    Setting("default_bars", 4, "Bars per clip when a request does not say."),
    Setting("default_variations", 4, "Variations per request when a request does not say."),
    Setting(
        "default_drum_map",
        "gm",
        "Drum map for written files: gm, ableton, ezdrummer, superior, ad2, logic, roland, or a map file.",
    ),
    Setting("default_humanize", 0.6, "How played the output feels, 0 (quantized) to 1."),
    # Daemon
    Setting("host", "127.0.0.1", "Address the daemon binds; keep loopback unless you know why not."),
    Setting("port", 8765, "Preferred daemon port; the next free one is used if it is taken."),
    Setting("allow_remote", False, "Allow binding a non-loopback host."),
    Setting("max_body_bytes", 1_000_000, "Largest request body the API accepts."),
    Setting(
        "rate_limit_per_hour",
        100,
        "Research and generation requests that start work, per hour and client address: every program on this computer shares one count (all come from 127.0.0.1); refused requests do not count; 0 means no limit.",
    ),
    Setting("research_concurrency", 1, "Research jobs that may run at once."),
    Setting("generation_concurrency", 4, "Generation jobs that may run at once."),
    Setting(
        "engine_processes",
        1,
        "Worker processes the daemon runs the groove engine in (the other cores); 0 runs it in a thread.",
    ),
    # LLM providers
    Setting(
        "provider_order",
        ["anthropic", "google", "openai"],
        "Providers tried in order before the groove engine.",
    ),
    Setting("anthropic_base_url", "https://api.anthropic.com", "Anthropic API base URL."),
    Setting("anthropic_model", "claude-sonnet-4-6", "Anthropic model name."),
    Setting("google_base_url", "https://generativelanguage.googleapis.com", "Gemini API base URL."),
    Setting("google_model", "gemini-2.5-flash", "Gemini model name."),
    Setting("openai_base_url", "https://api.openai.com/v1", "OpenAI API base URL."),
    Setting("openai_model", "gpt-4.1-mini", "OpenAI model name."),
    Setting(
        "local_base_url",
        "http://127.0.0.1:11434/v1",
        "OpenAI-compatible local server (Ollama, LM Studio, llama.cpp).",
    ),
    Setting("local_model", "llama3.1", "Model name on the local server."),
    Setting(
        "local_enabled",
        False,
        "Use the OpenAI-compatible local server (tried after provider_order unless listed in it).",
    ),
    Setting(
        "llm_retry_wait_max_s",
        5.0,
        "Longest Retry-After wait before retrying the same provider; longer waits fail over instead.",
    ),
    Setting("llm_timeout_s", 30.0, "Seconds one provider call may take."),
    Setting("llm_budget_s", 60.0, "Seconds all provider attempts of one request may take together."),
    Setting(
        "llm_prices",
        {},
        "Price per million tokens by model, e.g. {model = [input, output]}, for cost estimates.",
    ),
    # Research
    Setting("contact", "", "Contact (email or URL) sent in the User-Agent so services can reach you."),
    Setting("semantic_scholar_base_url", "https://api.semanticscholar.org", "Semantic Scholar API base URL."),
    Setting("arxiv_base_url", "https://export.arxiv.org", "arXiv API base URL."),
    Setting("crossref_base_url", "https://api.crossref.org", "CrossRef API base URL."),
    Setting("wikipedia_base_url", "https://en.wikipedia.org", "Wikipedia base URL (REST and action API)."),
    Setting("article_sites", [], "Extra drummer-profile page URL templates, with {slug} or {query}."),
    Setting("bitmidi_base_url", "https://bitmidi.com", "BitMIDI base URL."),
    Setting(
        "midi_sites",
        [],
        "Extra MIDI search page URL templates with {query} or {slug}; .mid links on them are used.",
    ),
    Setting(
        "audio_search_template",
        "ytsearch3:{artist} drum cam",
        "yt-dlp search or URL template for recordings.",
    ),
    Setting("audio_max_duration_s", 600.0, "Longest recording the audio collector downloads, in seconds."),
    Setting("papers_timeout_s", 300.0, "Seconds the papers collector may take."),
    Setting("articles_timeout_s", 300.0, "Seconds the articles collector may take."),
    Setting("audio_timeout_s", 480.0, "Seconds the audio collector may take."),
    Setting("midi_timeout_s", 120.0, "Seconds the MIDI collector may take."),
    Setting(
        "research_request_timeout_s", 20.0, "Seconds one research HTTP request may take before it is retried."
    ),
)

SETTING_BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}
# Whole numbers that mean nothing outside a range (a port past 65535 is not "taken", it does not
# exist): the lowest and highest allowed (None: no highest), and how the range reads in an error.
INT_RANGES: dict[str, tuple[int, int | None, str]] = {
    "port": (0, 65535, "from 0 to 65535"),
    "rate_limit_per_hour": (0, None, "0 (no limit) or more"),
}


def config_dir() -> Path:
    """Folder for settings, the token and the discovery file."""
    override = os.environ.get(ENV_PREFIX + "CONFIG_DIR")
    if override:
        return Path(override)
    from platformdirs import user_config_dir

    return Path(user_config_dir(APP_NAME, appauthor=False))


def default_data_dir() -> Path:
    """Folder for the database and generated files when no setting says otherwise."""
    # The variable as config_dir() reads it, so settings made in code (not loaded) honour it too.
    override = os.environ.get(ENV_PREFIX + "DATA_DIR")
    if override:
        return Path(override).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False))


def coerce_setting(setting: Setting, value: Any) -> Any:
    """Convert a raw value (env text or TOML) to the setting's type, or raise ValueError."""
    default = setting.default
    if isinstance(value, str) and not isinstance(default, str):
        text = value.strip()
        if isinstance(default, bool):
            if text.lower() in ("1", "true", "yes", "on"):
                return True
            if text.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(f"setting {setting.name} must be true or false, got {value!r}")
        if isinstance(default, int):
            try:
                return int(text)
            except ValueError:
                raise ValueError(f"setting {setting.name} must be an integer, got {value!r}") from None
        if isinstance(default, float):
            try:
                return float(text)
            except ValueError:
                raise ValueError(f"setting {setting.name} must be a number, got {value!r}") from None
        if isinstance(default, list):
            return [part.strip() for part in text.split(",") if part.strip()]
        if isinstance(default, dict):
            try:
                return tomllib.loads(f"v = {text}")["v"]
            except tomllib.TOMLDecodeError:
                raise ValueError(f"setting {setting.name} must be a TOML inline table") from None
    if isinstance(default, bool) and not isinstance(value, bool):
        raise ValueError(f"setting {setting.name} must be true or false")
    if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, type(default)):
        raise ValueError(f"setting {setting.name} must be a {type(default).__name__}")
    return value


class Settings:
    """Resolved settings: defaults, then the TOML file, then environment, then explicit overrides."""

    def __init__(self, values: Mapping[str, Any] | None = None, *, path: Path | None = None) -> None:
        self.path = path
        self._values: dict[str, Any] = {s.name: s.default for s in SETTINGS}
        for name, value in (values or {}).items():
            self.set(name, value)

    @classmethod
    def load(
        cls,
        path: Path | None = None,
        environ: Mapping[str, str] | None = None,
        overrides: Mapping[str, Any] | None = None,
    ) -> Settings:
        """Load the TOML file (if present), then MIDIDRUMIGEN_* variables, then overrides."""
        path = path or config_dir() / "settings.toml"
        settings = cls(path=path)
        if path.exists():
            try:
                data = tomllib.loads(path.read_text(encoding="utf-8"))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                raise ValueError(f"settings file {path} is not valid TOML: {exc}") from None
            for name, value in data.items():
                settings.set(name, value)
        env = os.environ if environ is None else environ
        for setting in SETTINGS:
            raw = env.get(ENV_PREFIX + setting.name.upper())
            if raw is not None:
                settings.set(setting.name, raw)
        for name, value in (overrides or {}).items():
            settings.set(name, value)
        return settings

    def set(self, name: str, value: Any) -> None:
        """Set one value, checking the name and type."""
        setting = SETTING_BY_NAME.get(name)
        if setting is None:
            raise ValueError(f"unknown setting {name!r}")
        coerced = coerce_setting(setting, value)
        if name in INT_RANGES:
            low, high, allowed = INT_RANGES[name]
            if coerced < low or (high is not None and coerced > high):
                raise ValueError(f"setting {name} must be {allowed}, got {coerced}")
        self._values[name] = coerced

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def as_dict(self) -> dict[str, Any]:
        """Return every setting's current value."""
        return dict(self._values)

    @property
    def data_dir(self) -> Path:
        """Folder for the database and generated files."""
        return Path(self["data_dir"]).expanduser() if self["data_dir"] else default_data_dir()

    @property
    def output_dir(self) -> Path:
        """Folder for generated .mid files."""
        return Path(self["output_dir"]).expanduser() if self["output_dir"] else self.data_dir / "generated"

    def save(self) -> None:
        """Write the values that differ from their defaults to the TOML file, atomically."""
        import tomli_w

        from mididrumigen.files import write_atomic

        if self.path is None:
            raise ValueError("settings have no file to save to")
        changed = {s.name: self._values[s.name] for s in SETTINGS if self._values[s.name] != s.default}
        write_atomic(self.path, tomli_w.dumps(changed).encode("utf-8"))
