"""OpenAI chat completions through the official SDK, with a json_schema response format."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from mididrumigen.generation.providers.base import (
    BAD_RESPONSE,
    LLMProvider,
    PromptSpec,
    ProviderError,
    ProviderResponse,
    sdk_error,
)

if TYPE_CHECKING:
    from openai import AsyncOpenAI


class OpenAIProvider(LLMProvider):
    """OpenAI's /chat/completions; the SDK's retries are off so failover stays ours."""

    name = "openai"
    sdk_modules = ("openai",)
    strict_schema = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._client: AsyncOpenAI | None = None

    def _client_key(self) -> str:
        return self._api_key or ""

    def _get_client(self) -> AsyncOpenAI:
        if self._client is None:
            from openai import AsyncOpenAI  # heavy import: only when the provider is used

            self._client = AsyncOpenAI(
                api_key=self._client_key(),
                base_url=self.base_url,
                max_retries=0,
                timeout=float(self.settings["llm_timeout_s"]) + 5.0,
            )
        return self._client

    async def generate(self, prompt: PromptSpec, schema: dict[str, Any]) -> ProviderResponse:
        """Call /chat/completions asking for JSON that fits the schema."""
        import openai

        client = self._get_client()
        started = time.perf_counter()
        try:
            completion = await client.chat.completions.create(
                model=self.model,
                messages=[
                    {"role": "system", "content": prompt.system},
                    {"role": "user", "content": prompt.user},
                ],
                response_format={
                    "type": "json_schema",
                    "json_schema": {
                        "name": prompt.tool_name,
                        "description": prompt.tool_description,
                        "schema": schema,
                        "strict": self.strict_schema,
                    },
                },
                max_completion_tokens=prompt.max_output_tokens,
                temperature=prompt.temperature,
                seed=prompt.seed if prompt.seed is not None else openai.omit,
            )
        except (openai.OpenAIError, ValueError) as exc:
            raise sdk_error(self.name, exc, openai) from None
        latency_ms = (time.perf_counter() - started) * 1000.0
        choices = getattr(completion, "choices", None) or []
        if not choices or getattr(choices[0], "message", None) is None:
            raise ProviderError(self.name, BAD_RESPONSE, "response has no choices")
        choice = choices[0]
        content = getattr(choice.message, "content", None)
        if not content:
            refusal = getattr(choice.message, "refusal", None)
            raise ProviderError(self.name, BAD_RESPONSE, f"empty message{': refused' if refusal else ''}")
        usage = getattr(completion, "usage", None)
        return ProviderResponse(
            text=str(content),
            data=None,
            tokens_in=int(getattr(usage, "prompt_tokens", 0) or 0),
            tokens_out=int(getattr(usage, "completion_tokens", 0) or 0),
            model=str(getattr(completion, "model", None) or self.model),
            latency_ms=latency_ms,
            truncated=getattr(choice, "finish_reason", None) == "length",
        )

    async def aclose(self) -> None:
        """Close the SDK's HTTP client."""
        if self._client is not None:
            await self._client.close()
            self._client = None
