"""LLM providers: a name -> class registry; SDKs are imported only when a provider is used."""

from __future__ import annotations

from mididrumigen.generation.providers.anthropic import AnthropicProvider
from mididrumigen.generation.providers.base import (
    LLMProvider,
    PromptSpec,
    ProviderError,
    ProviderResponse,
)
from mididrumigen.generation.providers.google import GoogleProvider
from mididrumigen.generation.providers.local import LocalProvider
from mididrumigen.generation.providers.openai import OpenAIProvider

PROVIDER_CLASSES: dict[str, type[LLMProvider]] = {
    cls.name: cls for cls in (AnthropicProvider, GoogleProvider, OpenAIProvider, LocalProvider)
}
LLM_PROVIDER_NAMES: tuple[str, ...] = tuple(PROVIDER_CLASSES)

__all__ = [
    "LLM_PROVIDER_NAMES",
    "PROVIDER_CLASSES",
    "AnthropicProvider",
    "GoogleProvider",
    "LLMProvider",
    "LocalProvider",
    "OpenAIProvider",
    "PromptSpec",
    "ProviderError",
    "ProviderResponse",
]
