"""Fake LLM services on 127.0.0.1 speaking the real wire formats of Anthropic, Gemini and OpenAI.

One aiohttp server serves all of them on an ephemeral port:
- Anthropic Messages API  POST /v1/messages
- Gemini                  POST /v1beta/models/{model}:generateContent
- OpenAI                  POST /v1/chat/completions
- a local OpenAI-compatible server (Ollama style)  POST /local/v1/chat/completions

Each provider plays a script of behaviours, one per request (then its default):
ok, fenced, prose, truncated, wrong_bars, out_of_map, rate_limited, overloaded,
unavailable, slow, malformed, bad_request. The groove it answers with is built from the
JSON schema of the request (bars, kit pieces, steps), so a correct client gets a correct grid.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import sys
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

PROVIDERS = ("anthropic", "google", "openai", "local")
BEHAVIOURS = (
    "ok",
    "fenced",
    "prose",
    "truncated",
    "wrong_bars",
    "out_of_map",
    "rate_limited",
    "overloaded",
    "unavailable",
    "slow",
    "malformed",
    "bad_request",
)
API_KEYS = {"anthropic": "sk-ant-test-key", "google": "gemini-test-key", "openai": "sk-openai-test-key"}


@dataclass
class Received:
    """One request the fake received."""

    provider: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class FakeLLMServer:
    """The fake server; script behaviours with `script()`, read requests from `received`."""

    latency_s: float = 0.0
    slow_s: float = 5.0
    retry_after_s: float = 1.0
    defaults: dict[str, str] = field(default_factory=lambda: dict.fromkeys(PROVIDERS, "ok"))
    received: list[Received] = field(default_factory=list)
    _scripts: dict[str, deque[str]] = field(default_factory=lambda: defaultdict(deque))
    _runner: web.AppRunner | None = None
    _release: asyncio.Event | None = None
    port: int = 0
    in_flight: int = 0
    max_in_flight: int = 0

    def script(self, provider: str, *behaviours: str) -> None:
        """Queue behaviours for the next requests to one provider."""
        for behaviour in behaviours:
            if behaviour not in BEHAVIOURS:
                raise ValueError(f"unknown behaviour {behaviour!r}")
            self._scripts[provider].append(behaviour)

    def calls(self, provider: str) -> int:
        """Requests received for one provider."""
        return sum(1 for r in self.received if r.provider == provider)

    def settings_overrides(self) -> dict[str, Any]:
        """Settings that point every provider at this server."""
        root = f"http://127.0.0.1:{self.port}"
        return {
            "anthropic_base_url": root,
            "google_base_url": root,
            "openai_base_url": f"{root}/v1",
            "local_base_url": f"{root}/local/v1",
        }

    async def start(self) -> FakeLLMServer:
        """Listen on 127.0.0.1 at an ephemeral port."""
        self._release = asyncio.Event()
        app = web.Application()
        app.router.add_post("/v1/messages", self._anthropic)
        app.router.add_post("/v1beta/models/{model_action}", self._google)
        app.router.add_post("/v1/chat/completions", self._openai)
        app.router.add_post("/local/v1/chat/completions", self._local)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def close(self) -> None:
        """Release slow handlers and stop the server."""
        if self._release is not None:
            self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()

    # ------------------------------------------------------------ plumbing

    def _next(self, provider: str) -> str:
        queue = self._scripts[provider]
        return queue.popleft() if queue else self.defaults[provider]

    async def _prelude(self, provider: str, request: web.Request) -> tuple[str, dict[str, Any]]:
        try:
            body = await request.json()
        except json.JSONDecodeError:
            body = {}
        self.received.append(Received(provider, request.path, dict(request.headers), body))
        behaviour = self._next(provider)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.latency_s:
                await asyncio.sleep(self.latency_s)
            if behaviour == "slow":
                assert self._release is not None
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._release.wait(), self.slow_s)
        finally:
            self.in_flight -= 1
        return behaviour, body

    # ------------------------------------------------------------ Anthropic

    async def _anthropic(self, request: web.Request) -> web.StreamResponse:
        behaviour, body = await self._prelude("anthropic", request)
        # The API takes the key as x-api-key or as a Bearer token (the 2.x SDK sends the latter).
        key = request.headers.get("x-api-key") or request.headers.get("Authorization", "").removeprefix(
            "Bearer "
        )
        if key != API_KEYS["anthropic"]:
            return _anthropic_error(401, "authentication_error", "invalid x-api-key")
        if "anthropic-version" not in request.headers:
            return _anthropic_error(400, "invalid_request_error", "anthropic-version header is required")
        if behaviour == "rate_limited":
            return _anthropic_error(
                429, "rate_limit_error", "Number of requests has exceeded your rate limit",
                {"retry-after": f"{self.retry_after_s:g}"},
            )  # fmt: skip
        if behaviour == "overloaded":
            return _anthropic_error(529, "overloaded_error", "Overloaded")
        if behaviour == "unavailable":
            return _anthropic_error(503, "api_error", "Service unavailable")
        if behaviour == "bad_request":
            return _anthropic_error(400, "invalid_request_error", "max_tokens: field required")
        if behaviour == "malformed":
            return web.Response(
                status=200,
                text='{"id": "msg_01", "type": "message", "content": [',
                content_type="application/json",
            )
        tools = body.get("tools") or [{}]
        schema = tools[0].get("input_schema", {})
        grid = _answer_grid(schema, behaviour)
        message: dict[str, Any] = {
            "id": "msg_01FakeFakeFakeFake",
            "type": "message",
            "role": "assistant",
            "model": body.get("model", "claude-fake"),
            "stop_sequence": None,
            "usage": {"input_tokens": _count_tokens(body), "output_tokens": len(json.dumps(grid)) // 3},
        }
        text = _text_for(grid, behaviour)
        if behaviour in ("fenced", "prose", "truncated"):
            message["content"] = [{"type": "text", "text": text}]
            message["stop_reason"] = "max_tokens" if behaviour == "truncated" else "end_turn"
        else:
            message["content"] = [
                {
                    "type": "tool_use",
                    "id": "toolu_01Fake",
                    "name": tools[0].get("name", "tool"),
                    "input": grid,
                }
            ]
            message["stop_reason"] = "tool_use"
        return web.json_response(message)

    # ------------------------------------------------------------ Gemini

    async def _google(self, request: web.Request) -> web.StreamResponse:
        behaviour, body = await self._prelude("google", request)
        model, _, action = request.match_info["model_action"].partition(":")
        if action != "generateContent":
            return _google_error(404, "NOT_FOUND", f"unknown action {action}")
        if request.headers.get("x-goog-api-key") != API_KEYS["google"]:
            return _google_error(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.")
        if behaviour == "rate_limited":
            return _google_error(
                429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota).",
                {"retry-after": f"{self.retry_after_s:g}"},
            )  # fmt: skip
        if behaviour in ("overloaded", "unavailable"):
            return _google_error(503, "UNAVAILABLE", "The model is overloaded. Please try again later.")
        if behaviour == "bad_request":
            return _google_error(400, "INVALID_ARGUMENT", "Invalid JSON payload received.")
        if behaviour == "malformed":
            return web.Response(
                status=200, text="<html><body>502 Bad Gateway</body></html>", content_type="text/html"
            )
        config = body.get("generationConfig", {})
        schema = config.get("responseSchema") or config.get("responseJsonSchema") or {}
        grid = _answer_grid(schema, behaviour)
        text = _text_for(grid, behaviour)
        return web.json_response(
            {
                "candidates": [
                    {
                        "content": {"parts": [{"text": text}], "role": "model"},
                        "finishReason": "MAX_TOKENS" if behaviour == "truncated" else "STOP",
                        "index": 0,
                    }
                ],
                "usageMetadata": {
                    "promptTokenCount": _count_tokens(body),
                    "candidatesTokenCount": len(text) // 3,
                    "totalTokenCount": _count_tokens(body) + len(text) // 3,
                },
                "modelVersion": model,
                "responseId": "fake-response-id",
            }
        )

    # ------------------------------------------------------------ OpenAI and local

    async def _openai(self, request: web.Request) -> web.StreamResponse:
        return await self._chat("openai", request)

    async def _local(self, request: web.Request) -> web.StreamResponse:
        return await self._chat("local", request)

    async def _chat(self, provider: str, request: web.Request) -> web.StreamResponse:
        behaviour, body = await self._prelude(provider, request)
        if provider == "openai" and request.headers.get("Authorization") != f"Bearer {API_KEYS['openai']}":
            return _openai_error(
                401, "invalid_request_error", "Incorrect API key provided.", "invalid_api_key"
            )
        if behaviour == "rate_limited":
            return _openai_error(
                429, "requests", "Rate limit reached for requests", "rate_limit_exceeded",
                {"retry-after": f"{self.retry_after_s:g}"},
            )  # fmt: skip
        if behaviour in ("overloaded", "unavailable"):
            return _openai_error(503, "server_error", "The server is overloaded or not ready yet.", None)
        if behaviour == "bad_request":
            return _openai_error(400, "invalid_request_error", "Invalid schema for response_format.", None)
        if behaviour == "malformed":
            return web.Response(
                status=200, text='{"id": "chatcmpl-1", "choices": [{"mess', content_type="application/json"
            )
        response_format = body.get("response_format", {})
        schema = response_format.get("json_schema", {}).get("schema", {})
        grid = _answer_grid(schema, behaviour)
        text = _text_for(grid, behaviour)
        return web.json_response(
            {
                "id": "chatcmpl-FakeFakeFake",
                "object": "chat.completion",
                "created": 1_700_000_000,
                "model": body.get("model", "gpt-fake"),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": text, "refusal": None},
                        "logprobs": None,
                        "finish_reason": "length" if behaviour == "truncated" else "stop",
                    }
                ],
                "usage": {
                    "prompt_tokens": _count_tokens(body),
                    "completion_tokens": len(text) // 3,
                    "total_tokens": _count_tokens(body) + len(text) // 3,
                },
                "system_fingerprint": "fp_fake",
            }
        )


# ---------------------------------------------------------------- wire helpers


def _anthropic_error(
    status: int, kind: str, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    body = {"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_011Fake"}
    return web.json_response(body, status=status, headers=headers)


def _google_error(
    status: int, kind: str, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    return web.json_response(
        {"error": {"code": status, "message": message, "status": kind}}, status=status, headers=headers
    )


def _openai_error(
    status: int, kind: str, message: str, code: str | None, headers: dict[str, str] | None = None
) -> web.Response:
    body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    return web.json_response(body, status=status, headers=headers)


def _count_tokens(body: dict[str, Any]) -> int:
    return max(1, len(json.dumps(body)) // 4)


# ---------------------------------------------------------------- grooves


def schema_shape(schema: dict[str, Any]) -> tuple[int, list[str], int]:
    """(bars, pieces, steps per bar) read from a groove schema as a client sends it."""
    bars_schema = schema.get("properties", {}).get("bars", {})
    bars = int(bars_schema.get("minItems") or bars_schema.get("min_items") or 4)
    items = bars_schema.get("items", {})
    pieces = list(items.get("required") or items.get("properties") or ["kick", "snare", "hihat_closed"])
    steps = 16
    for piece_schema in items.get("properties", {}).values():
        match = re.match(r"(\d+) characters", str(piece_schema.get("description", "")))
        if match:
            steps = int(match.group(1))
            break
    return bars, pieces, steps


def rock_bar(pieces: list[str], steps: int, fill: bool = False) -> dict[str, str]:
    """A plain backbeat bar on a `steps` grid, with a tom fill in the last beat when asked."""
    rows = {piece: ["."] * steps for piece in pieces}
    quarter = max(1, steps // 4)
    for step in range(0, steps, 2):
        rows.get("hihat_closed", [None] * steps)[step] = "x"
    if "kick" in rows:
        rows["kick"][0] = "X"
        rows["kick"][min(steps - 1, 2 * quarter + 2)] = "x"
    if "snare" in rows:
        rows["snare"][quarter] = "X"
        rows["snare"][min(steps - 1, 3 * quarter)] = "X"
        rows["snare"][min(steps - 1, quarter + 3)] = "g"
    if fill and "tom_high" in rows and "tom_floor" in rows:
        for offset, piece in enumerate(("tom_high", "tom_high", "tom_floor", "tom_floor")):
            step = steps - 4 + offset
            rows[piece][step] = "x"
            if "hihat_closed" in rows:
                rows["hihat_closed"][step] = "."
    return {piece: "".join(cells) for piece, cells in rows.items()}


def _answer_grid(schema: dict[str, Any], behaviour: str) -> dict[str, Any]:
    bars, pieces, steps = schema_shape(schema)
    grid = [rock_bar(pieces, steps, fill=i == bars - 1) for i in range(bars)]
    if behaviour == "wrong_bars":
        grid = grid[: max(1, bars - 1)] if bars > 1 else [*grid, rock_bar(pieces, steps)]
    if behaviour == "out_of_map":
        for bar in grid:
            bar["gong"] = "x" + "." * (steps - 1)
            bar["99"] = "." * (steps - 1) + "x"
    return {"bars": grid}


def _text_for(grid: dict[str, Any], behaviour: str) -> str:
    text = json.dumps(grid, indent=1)
    if behaviour == "fenced":
        return f"Here is the groove:\n```json\n{text}\n```\nEnjoy!"
    if behaviour == "prose":
        return f"{text}\n\nThis groove sits on the backbeat with a tom fill at the end."
    if behaviour == "truncated":
        return text[: int(len(text) * 0.8)]
    return text


# ---------------------------------------------------------------- a separate process (benchmarks)


async def _serve_forever(latency_s: float, defaults: dict[str, str]) -> None:
    server = await FakeLLMServer(
        latency_s=latency_s, defaults={**dict.fromkeys(PROVIDERS, "ok"), **defaults}
    ).start()
    print(server.port, flush=True)
    loop = asyncio.get_running_loop()
    try:
        await loop.run_in_executor(None, sys.stdin.read)  # serve until the parent closes our stdin
    finally:
        await server.close()


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(
        description="Run the fake LLM server; prints its port, stops on stdin EOF."
    )
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument(
        "--default", action="append", default=[], help="provider=behaviour, e.g. anthropic=overloaded"
    )
    args = parser.parse_args()
    chosen = dict(item.split("=", 1) for item in args.default)
    asyncio.run(_serve_forever(args.latency, chosen))
