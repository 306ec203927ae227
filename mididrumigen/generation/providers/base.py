"""The LLM provider interface: one ABC, the request and response shapes, and the error we fail over on."""

from __future__ import annotations

import asyncio
import email.utils
import importlib
import sys
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from mididrumigen.settings import Settings

# Reasons a provider call fails; the coordinator records them and fails over on all of them.
RATE_LIMITED = "rate_limited"
OVERLOADED = "overloaded"
SERVER_ERROR = "server_error"
TIMEOUT = "timeout"
CONNECTION = "connection_error"
AUTH = "auth_error"
BAD_REQUEST = "bad_request"
BAD_RESPONSE = "bad_response"
# Reasons that mean "the service is unavailable right now" (outage logging, Retry-After).
AVAILABILITY_REASONS = frozenset({RATE_LIMITED, OVERLOADED, SERVER_ERROR, TIMEOUT, CONNECTION})
# Why the coordinator skips a provider that is not configured: a cloud provider has no API key.
NO_API_KEY = "no api key"


@dataclass(frozen=True, slots=True)
class PromptSpec:
    """What to ask a model: system and user text, output limits and sampling."""

    system: str
    user: str
    max_output_tokens: int = 2048
    temperature: float = 0.9
    seed: int | None = None
    tool_name: str = "write_drum_groove"
    tool_description: str = "Write the drum groove as per-bar step grids."


@dataclass(frozen=True, slots=True)
class ProviderResponse:
    """A model's answer: JSON data when the SDK parsed it, else text; usage and timing."""

    text: str | None
    data: Any | None
    tokens_in: int
    tokens_out: int
    model: str
    latency_ms: float
    truncated: bool = False


class ProviderError(Exception):
    """A provider call failed in a way we fail over on (reason is one of the constants above)."""

    def __init__(
        self,
        provider: str,
        reason: str,
        message: str,
        *,
        status: int | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(f"{provider}: {message}")
        self.provider = provider
        self.reason = reason
        self.message = message
        self.status = status
        self.retry_after_s = retry_after_s

    @property
    def is_availability(self) -> bool:
        """True when the service is down or busy rather than refusing this request."""
        return self.reason in AVAILABILITY_REASONS


class LLMProvider(ABC):
    """One LLM service. Holds its SDK client (created on first use) and closes it on aclose()."""

    name: ClassVar[str]
    sdk_modules: ClassVar[tuple[str, ...]] = ()
    unconfigured_reason: ClassVar[str] = NO_API_KEY  # what is missing when is_configured() is False

    def __init__(self, settings: Settings, api_key: str | None) -> None:
        self.settings = settings
        self._api_key = api_key

    def __repr__(self) -> str:
        # Never show the key.
        return f"<{type(self).__name__} {self.name} model={self.model!r} configured={self.is_configured()}>"

    @property
    def model(self) -> str:
        """Model name from settings (`<name>_model`)."""
        return str(self.settings[f"{self.name}_model"])

    @property
    def base_url(self) -> str:
        """Base URL from settings (`<name>_base_url`)."""
        return str(self.settings[f"{self.name}_base_url"]).rstrip("/")

    def is_configured(self) -> bool:
        """True when the provider has what it needs to be called (a key, for cloud providers)."""
        return bool(self._api_key)

    async def prepare(self) -> None:
        """Import the SDK off the event loop (it takes a second or more), so no timed call waits on it."""
        missing = [m for m in self.sdk_modules if m not in sys.modules]
        if missing:
            await asyncio.to_thread(_import_modules, missing)

    @abstractmethod
    async def generate(self, prompt: PromptSpec, schema: dict[str, Any]) -> ProviderResponse:
        """Ask the model for JSON fitting the schema; raise ProviderError on failure."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook, most providers override it
        """Close the SDK client, if one was created."""


def _import_modules(names: list[str]) -> None:
    for name in names:
        importlib.import_module(name)


def retry_after_seconds(headers: Mapping[str, str] | None, now_s: float | None = None) -> float | None:
    """Parse a Retry-After header (seconds or an HTTP date), or the retry-after-ms extension."""
    if not headers:
        return None
    lowered = {k.lower(): v for k, v in headers.items()}
    raw_ms = lowered.get("retry-after-ms")
    if raw_ms:
        try:
            return max(0.0, float(raw_ms) / 1000.0)
        except ValueError:
            pass
    raw = lowered.get("retry-after")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now_s is None else now_s))


def sdk_error(provider: str, exc: Exception, sdk: Any) -> ProviderError:
    """Map an error from the anthropic or openai SDK (both share one exception tree) to a ProviderError."""
    if isinstance(exc, sdk.APIStatusError):
        detail = getattr(exc, "api_message", None) or exc.message
        return error_for_status(provider, exc.status_code, str(detail), exc.response.headers)
    if isinstance(exc, sdk.APITimeoutError):  # before APIConnectionError: it is a subclass
        return ProviderError(provider, TIMEOUT, "request timed out")
    if isinstance(exc, sdk.APIConnectionError):
        return ProviderError(provider, CONNECTION, f"cannot connect: {exc.message}")
    # Any other SDK error, or ValueError: the SDK could not decode the body as JSON.
    return ProviderError(provider, BAD_RESPONSE, f"unusable response: {type(exc).__name__}")


def error_for_status(
    provider: str, status: int, message: str, headers: Mapping[str, str] | None = None
) -> ProviderError:
    """Map an HTTP status to a ProviderError with the right reason and Retry-After."""
    retry_after = retry_after_seconds(headers)
    if status == 429:
        reason = RATE_LIMITED
    elif status == 529:
        reason = OVERLOADED
    elif status in (408, 504):
        reason = TIMEOUT
    elif status >= 500:
        reason = SERVER_ERROR
    elif status in (401, 403):
        reason = AUTH
    else:
        reason = BAD_REQUEST
    return ProviderError(
        provider, reason, f"http {status}: {message[:200]}", status=status, retry_after_s=retry_after
    )
