"""Anthropic (Claude) through the official SDK: forced tool use returns the groove as JSON."""

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
    from anthropic import AsyncAnthropic


class AnthropicProvider(LLMProvider):
    """Claude via the Messages API; the SDK's own retries are off so failover stays ours."""

    name = "anthropic"
    sdk_modules = ("anthropic",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._client: AsyncAnthropic | None = None

    def _get_client(self) -> AsyncAnthropic:
        if self._client is None:
            from anthropic import AsyncAnthropic  # heavy import: only when Claude is used

            self._client = AsyncAnthropic(
                api_key=self._api_key,
                base_url=self.base_url,
                max_retries=0,
                timeout=float(self.settings["llm_timeout_s"]) + 5.0,
            )
        return self._client

    async def generate(self, prompt: PromptSpec, schema: dict[str, Any]) -> ProviderResponse:
        """Call /v1/messages with one tool whose input_schema is the groove schema, and force it."""
        import anthropic

        client = self._get_client()
        started = time.perf_counter()
        try:
            message = await client.messages.create(
                model=self.model,
                max_tokens=prompt.max_output_tokens,
                system=prompt.system,
                messages=[{"role": "user", "content": prompt.user}],
                tools=[
                    {
                        "name": prompt.tool_name,
                        "description": prompt.tool_description,
                        "input_schema": schema,
                    }
                ],
                tool_choice={"type": "tool", "name": prompt.tool_name},
            )
        except (anthropic.AnthropicError, ValueError) as exc:
            raise sdk_error(self.name, exc, anthropic) from None
        latency_ms = (time.perf_counter() - started) * 1000.0
        data: Any = None
        texts: list[str] = []
        for block in getattr(message, "content", None) or []:
            block_type = getattr(block, "type", None)
            if block_type == "tool_use" and data is None:
                data = getattr(block, "input", None)
            elif block_type == "text":
                texts.append(str(getattr(block, "text", "")))
        if data is None and not texts:
            raise ProviderError(self.name, BAD_RESPONSE, "response has no tool_use or text content")
        usage = getattr(message, "usage", None)
        return ProviderResponse(
            text="".join(texts) or None,
            data=data,
            tokens_in=int(getattr(usage, "input_tokens", 0) or 0),
            tokens_out=int(getattr(usage, "output_tokens", 0) or 0),
            model=str(getattr(message, "model", None) or self.model),
            latency_ms=latency_ms,
            truncated=getattr(message, "stop_reason", None) == "max_tokens",
        )

    async def aclose(self) -> None:
        """Close the SDK's HTTP client."""
        if self._client is not None:
            await self._client.close()
            self._client = None
