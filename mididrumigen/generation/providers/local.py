"""Any OpenAI-compatible local server (Ollama, LM Studio, llama.cpp server): no key, no bills."""

from __future__ import annotations

from mididrumigen.generation.providers.openai import OpenAIProvider

# The OpenAI SDK insists on some key; local servers ignore it.
PLACEHOLDER_KEY = "local-no-key"


class LocalProvider(OpenAIProvider):
    """OpenAI wire format against `local_base_url`; configured when `local_enabled` is on."""

    name = "local"
    # Local servers differ in how much of strict json_schema they support; they still constrain output.
    strict_schema = False
    unconfigured_reason = "not configured"  # switched off in settings: it needs no key

    def is_configured(self) -> bool:
        """True when the local server is switched on in settings and has a base URL."""
        return bool(self.settings["local_enabled"]) and bool(self.settings["local_base_url"])

    def _client_key(self) -> str:
        return self._api_key or PLACEHOLDER_KEY
