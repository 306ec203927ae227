"""Request and response models: validation with messages that name the field, and the OpenAPI schemas."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mididrumigen.files import MAX_NAME_CHARS, validate_artist_name
from mididrumigen.generation.request import (
    MAX_BARS,
    MAX_TEMPO_BPM,
    MAX_VARIATIONS,
    MIN_BARS,
    MIN_TEMPO_BPM,
    MIN_VARIATIONS,
    PROVIDERS,
    GenerationRequest,
)
from mididrumigen.midi.notes import parse_time_signature, validate_time_signature
from mididrumigen.settings import Settings

SourceKind = Literal["paper", "article", "audio", "midi"]
Provider = Literal["auto", "anthropic", "google", "openai", "local", "groove-engine"]
assert set(PROVIDERS) == set(Provider.__args__)  # type: ignore[attr-defined]


class Body(BaseModel):
    """Request bodies: unknown fields refused, JSON types taken strictly (no "4" for 4)."""

    model_config = ConfigDict(extra="forbid", strict=True)


class ResearchBody(Body):
    """POST /research: the artist to research."""

    artist: str = Field(
        min_length=1, max_length=MAX_NAME_CHARS, description="Drummer name, e.g. 'John Bonham'."
    )

    @field_validator("artist")
    @classmethod
    def _check_artist(cls, value: str) -> str:
        return validate_artist_name(value)


class AugmentBody(Body):
    """POST /augment/{artist}: which kinds of sources to add (all when omitted)."""

    kinds: list[SourceKind] | None = Field(default=None, description="Source kinds to collect again.")


class GenerateBody(Body):
    """POST /generate: the CLI's generate options (unset ones come from the settings or the profile)."""

    artist: str | None = Field(
        default=None, min_length=1, max_length=MAX_NAME_CHARS, description="Drummer name."
    )
    style: str | None = Field(
        default=None,
        min_length=1,
        max_length=40,
        description="Style key or alias in any case, e.g. funk, 'Hip Hop'.",
    )
    bars: int | None = Field(default=None, ge=MIN_BARS, le=MAX_BARS, description="Bars per clip.")
    variations: int | None = Field(default=None, ge=MIN_VARIATIONS, le=MAX_VARIATIONS, description="Clips.")
    tempo: float | None = Field(default=None, ge=MIN_TEMPO_BPM, le=MAX_TEMPO_BPM, description="Tempo in BPM.")
    time_signature: str | list[int] | None = Field(
        default=None, description="Meter as '6/8' or [6, 8]: 4/4, 3/4, 5/4, 6/8, 7/8 or 12/8."
    )
    drum_map: str | None = Field(
        default=None,
        min_length=1,
        max_length=40,
        description="Built-in drum map name or alias in any case, e.g. ad2.",
    )
    seed: int | None = Field(default=None, ge=0, lt=2**63, description="Seed for reproducible output.")
    humanize: float | None = Field(default=None, ge=0.0, le=1.0, description="0 quantized .. 1 fully played.")
    provider: Provider = Field(default="auto", description="Generator: auto tries LLMs, then the engine.")

    @field_validator("artist")
    @classmethod
    def _check_artist(cls, value: str | None) -> str | None:
        return validate_artist_name(value) if value is not None else None

    @field_validator("time_signature")
    @classmethod
    def _check_meter(cls, value: str | list[int] | None) -> str | list[int] | None:
        if value is None:
            return None
        if isinstance(value, str):
            parse_time_signature(value)
        elif len(value) != 2:
            raise ValueError("time signature must be two numbers like [4, 4]")
        else:
            validate_time_signature(value[0], value[1])
        return value

    @field_validator("style")
    @classmethod
    def _check_style(cls, value: str | None) -> str | None:
        """The style's key, from any case or alias, as the CLI takes it ('Funk', 'hip hop')."""
        if value is None:
            return None
        from mididrumigen.generation.styles import get_style

        return get_style(value).key

    @field_validator("drum_map")
    @classmethod
    def _check_drum_map(cls, value: str | None) -> str | None:
        """The built-in map's name, from any case or alias ('AD2', 'addictive'); never a file on this side."""
        if value is None:
            return None
        from mididrumigen.midi.drum_maps import DRUM_MAP_NAMES, builtin_drum_map, names_a_map_file

        known = ", ".join(DRUM_MAP_NAMES)
        if names_a_map_file(value):
            raise ValueError(f"the API takes a built-in drum map name ({known}), not a map file")
        drum_map = builtin_drum_map(value)
        if drum_map is None:
            raise ValueError(f"unknown drum map {value!r}; known maps: {known}")
        return drum_map.name

    @model_validator(mode="after")
    def _artist_or_style(self) -> GenerateBody:
        if self.artist is None and self.style is None:
            raise ValueError("give an artist or a style")
        return self

    def to_request(self, settings: Settings) -> GenerationRequest:
        """The generation request, with unset options taken from the settings."""
        meter: tuple[int, int] | None = None
        if isinstance(self.time_signature, str):
            meter = parse_time_signature(self.time_signature)
        elif self.time_signature is not None:
            meter = (self.time_signature[0], self.time_signature[1])
        return GenerationRequest(
            artist=self.artist,
            style=self.style,
            bars=self.bars if self.bars is not None else int(settings["default_bars"]),
            variations=self.variations
            if self.variations is not None
            else int(settings["default_variations"]),
            tempo_bpm=self.tempo,
            time_signature=meter,
            drum_map=self.drum_map or str(settings["default_drum_map"]),
            seed=self.seed,
            humanize=self.humanize if self.humanize is not None else float(settings["default_humanize"]),
            provider=self.provider,
        )


# -- responses (documentation and schema checks; extra keys allowed) ----------------------------


class Reply(BaseModel):
    """Base of the answer models."""

    model_config = ConfigDict(extra="allow")


class ErrorDetail(Reply):
    """The error object; code unknown_artist (404, every route that takes an artist) adds artist and suggestions,
    research_running (409, DELETE /artists/{artist}) artist and task_id."""

    code: str
    message: str
    field: str | None = None
    artist: str | None = Field(
        default=None, description="unknown_artist: the name asked for; research_running: it."
    )
    suggestions: list[str] | None = Field(default=None, description="unknown_artist: close built-in names.")
    task_id: str | None = Field(
        default=None,
        description="research_running: the research task queued or running for the artist (to cancel).",
    )


class ErrorReply(Reply):
    """Every error: {"error": {"code", "message", "field"?}}."""

    error: ErrorDetail


class TaskAccepted(Reply):
    """A queued job: poll status_url or stream events_url."""

    task_id: str
    status: Literal["queued", "already_queued"] = Field(
        description="queued: a new task. already_queued: a task queued or running for this artist already does"
        " this work (research, or an augment collecting these source kinds); its id is given and no second task"
        " is started (nor counted by the rate limit)."
    )
    artist: str | None = None
    status_url: str
    events_url: str


class TaskSummary(Reply):
    """A job's state without its result, as GET /tasks lists it."""

    task_id: str
    kind: str
    status: Literal["queued", "running", "succeeded", "failed", "cancelled"]
    stage: str
    progress: float = Field(ge=0, le=100)
    error: str | None
    artist: str | None
    attempts: int
    created_at: float
    started_at: float | None
    finished_at: float | None


class TaskState(TaskSummary):
    """A job's state, with its result once it succeeded."""

    result: dict[str, Any] | None


class TaskList(Reply):
    """Recent tasks, newest first (each as GET /task/{id} gives it, without the result)."""

    tasks: list[TaskSummary]


class ResearchState(Reply):
    """An artist's research status, with the profile once cached."""

    artist: str
    status: Literal["pending", "researching", "cached", "failed"]
    confidence: float
    origin: str | None = None
    task_id: str | None = None
    profile: dict[str, Any] | None = None


class FileInfo(Reply):
    """A written .mid file: download it from url."""

    id: str
    path: str
    url: str
    name: str
    notes: dict[str, Any] = Field(
        description="the file's notes JSON: notes (pitch, velocity, time, duration in ticks), tempo, time_signature,"
        " ticks_per_beat, bars, name, and drum_map, the map whose pitches they are (the file's: 'gm' is General MIDI)"
    )


class GenerateReply(Reply):
    """Files written at once for a cached or built-in artist."""

    artist: str | None
    style: str | None
    files: list[FileInfo]
    tempo: float | None
    time_signature: list[int] | None
    bars: int
    variations: int
    provider_used: str
    generation_time_ms: float
    profile: dict[str, Any] | None


class ArtistInfo(Reply):
    """One cached artist."""

    name: str
    origin: str
    research_status: str
    confidence: float
    sources_count: int
    has_profile: bool
    has_embedding: bool


class ArtistList(Reply):
    """Every cached artist."""

    artists: list[ArtistInfo]


class Deleted(Reply):
    """What was removed: the whole artist, or only the research added to a built-in drummer."""

    deleted: str = Field(description="The artist's name as listed.")
    reset_to: Literal["built-in"] | None = Field(
        description="null: the artist was removed entirely. 'built-in': a built-in drummer's research (sources,"
        " researched profile) was removed and its built-in profile is served again; built-in knowledge itself"
        " cannot be removed (409, code builtin_artist, when there is nothing researched to remove)."
    )


class SimilarItem(Reply):
    """One neighbour."""

    artist: str
    similarity: float
    distance: float
    confidence: float


class SimilarReply(Reply):
    """Nearest artists by profile embedding (cosine)."""

    artist: str
    similar: list[SimilarItem]


class Stats(Reply):
    """Counts and timings."""

    artists: int
    profiles: int
    generations: int
    files: int
    jobs: dict[str, int]
    uptime_s: float


class ProviderState(Reply):
    """One LLM provider: configured, where its key comes from (never the key), reachability."""

    provider: str
    configured: bool
    key_source: str | None
    model: str
    base_url: str
    order: int | None
    reachable: bool


class ProviderList(Reply):
    """Every LLM provider in failover order."""

    providers: list[ProviderState]


class Health(Reply):
    """Liveness."""

    status: Literal["ok"]
    version: str
