"""Google Gemini through the `google-genai` SDK, with a JSON response schema."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from mididrumigen.generation.providers.base import (
    BAD_RESPONSE,
    CONNECTION,
    TIMEOUT,
    LLMProvider,
    PromptSpec,
    ProviderError,
    ProviderResponse,
    error_for_status,
)

if TYPE_CHECKING:
    from google.genai import Client

GEMINI_API_VERSION = "v1beta"
# JSON Schema keywords Gemini's responseSchema (an OpenAPI subset) does not take.
UNSUPPORTED_SCHEMA_KEYS = frozenset({"additionalProperties", "$schema", "title"})


def gemini_schema(schema: Any) -> Any:
    """Return the schema without keywords Gemini rejects, keeping property order as written."""
    if isinstance(schema, dict):
        cleaned = {k: gemini_schema(v) for k, v in schema.items() if k not in UNSUPPORTED_SCHEMA_KEYS}
        if isinstance(schema.get("properties"), dict):
            cleaned["properties"] = {k: gemini_schema(v) for k, v in schema["properties"].items()}
            cleaned["propertyOrdering"] = list(schema["properties"])
        return cleaned
    if isinstance(schema, list):
        return [gemini_schema(v) for v in schema]
    return schema


class GoogleProvider(LLMProvider):
    """Gemini's generateContent; the SDK does not retry unless told, so failover stays ours."""

    name = "google"
    sdk_modules = ("google.genai", "google.genai.types", "google.genai.errors")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._client: Client | None = None

    def _get_client(self) -> Client:
        if self._client is None:
            from google import genai  # heavy import: only when Gemini is used
            from google.genai import types

            self._client = genai.Client(
                vertexai=False,
                api_key=self._api_key,
                http_options=types.HttpOptions(
                    base_url=self.base_url + "/",
                    api_version=GEMINI_API_VERSION,
                    timeout=int((float(self.settings["llm_timeout_s"]) + 5.0) * 1000),
                ),
            )
        return self._client

    async def generate(self, prompt: PromptSpec, schema: dict[str, Any]) -> ProviderResponse:
        """Call models/{model}:generateContent with responseMimeType JSON and a responseSchema."""
        import aiohttp
        from google.genai import errors, types

        client = self._get_client()
        config = types.GenerateContentConfig(
            system_instruction=prompt.system,
            response_mime_type="application/json",
            response_schema=gemini_schema(schema),
            max_output_tokens=prompt.max_output_tokens,
            temperature=prompt.temperature,
            seed=prompt.seed % 2**31 if prompt.seed is not None else None,
            automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
        )
        started = time.perf_counter()
        try:
            response = await client.aio.models.generate_content(
                model=self.model, contents=prompt.user, config=config
            )
        except errors.APIError as exc:
            headers = getattr(getattr(exc, "response", None), "headers", None)
            raise error_for_status(
                self.name, int(exc.code or 0), str(exc.message or exc.status), headers
            ) from None
        except TimeoutError:
            raise ProviderError(self.name, TIMEOUT, "request timed out") from None
        except (aiohttp.ClientError, OSError) as exc:
            raise ProviderError(self.name, CONNECTION, f"cannot connect: {type(exc).__name__}") from None
        except (ValueError, KeyError, TypeError) as exc:
            # The SDK raises these when the body is not the JSON it expects.
            raise ProviderError(self.name, BAD_RESPONSE, f"unusable response: {type(exc).__name__}") from None
        latency_ms = (time.perf_counter() - started) * 1000.0
        candidates = response.candidates or []
        parts = (candidates[0].content.parts if candidates and candidates[0].content else None) or []
        text = "".join(part.text for part in parts if part.text and not part.thought)
        if not text:
            raise ProviderError(self.name, BAD_RESPONSE, "response has no candidate text")
        usage = response.usage_metadata
        finish = str(candidates[0].finish_reason or "") if candidates else ""
        return ProviderResponse(
            text=text,
            data=None,
            tokens_in=int(getattr(usage, "prompt_token_count", 0) or 0),
            tokens_out=int(getattr(usage, "candidates_token_count", 0) or 0),
            model=str(response.model_version or self.model),
            latency_ms=latency_ms,
            truncated="MAX_TOKENS" in finish,
        )

    async def aclose(self) -> None:
        """Close the SDK's async HTTP session."""
        if self._client is not None:
            await self._client.aio.aclose()
            self._client = None
