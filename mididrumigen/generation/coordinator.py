"""The hybrid coordinator: LLM providers in order with failover, then the groove engine.

Every request ends in valid clips. Variations are asked for concurrently; each walks the
provider list on its own (429, 5xx, Anthropic's 529, timeouts, invalid output all fail
over), honouring Retry-After when it fits the time budget. Whatever is still missing at the
end comes from the groove engine.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mididrumigen.generation.prompt import (
    GridSpec,
    build_prompt,
    grid_spec_for,
    groove_schema,
    resolve_tempo_bpm,
    resolve_time_signature,
    style_of,
    template_examples,
)
from mididrumigen.generation.providers import LLM_PROVIDER_NAMES, PROVIDER_CLASSES, LLMProvider
from mididrumigen.generation.providers.base import NO_API_KEY, ProviderError
from mididrumigen.generation.request import GenerationRequest, seed_or_drawn
from mididrumigen.generation.validate import InvalidOutputError, answer_to_clip
from mididrumigen.keys import KeyReader
from mididrumigen.midi.notes import Clip
from mididrumigen.profile import StyleProfile
from mididrumigen.settings import Settings

if TYPE_CHECKING:
    from mididrumigen.generation.styles import Style

log = logging.getLogger(__name__)

GROOVE_ENGINE = "groove-engine"
OK, FAILED, SKIPPED = "ok", "failed", "skipped"


@dataclass(slots=True)
class Attempt:
    """One try of one provider for one variation (or the groove engine's share)."""

    provider: str
    model: str
    outcome: str  # ok | failed | skipped
    reason: str = ""
    tokens_in: int = 0
    tokens_out: int = 0
    latency_ms: float = 0.0
    cost_usd: float | None = None
    variation: int | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON-safe record for the API response and generation history."""
        return {
            "provider": self.provider,
            "model": self.model,
            "outcome": self.outcome,
            "reason": self.reason,
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "latency_ms": round(self.latency_ms, 1),
            "cost_usd": None if self.cost_usd is None else round(self.cost_usd, 6),
            "variation": self.variation,
        }


@dataclass(slots=True)
class GenerationResult:
    """Clips plus how they were made: provider used, every attempt, time and seed."""

    clips: list[Clip]
    provider_used: str
    attempts: list[Attempt]
    generation_time_ms: float
    seed: int

    @property
    def cost_usd(self) -> float | None:
        """Estimated total cost, None when no attempt had a price."""
        costs = [a.cost_usd for a in self.attempts if a.cost_usd is not None]
        return sum(costs) if costs else None

    def to_json(self, include_clips: bool = True) -> dict[str, Any]:
        """JSON-safe summary (no keys ever appear here)."""
        data: dict[str, Any] = {
            "provider_used": self.provider_used,
            "attempts": [a.to_json() for a in self.attempts],
            "generation_time_ms": round(self.generation_time_ms, 1),
            "seed": self.seed,
            "cost_usd": None if self.cost_usd is None else round(self.cost_usd, 6),
        }
        if include_clips:
            data["clips"] = [c.to_json() for c in self.clips]
        return data


@dataclass(slots=True)
class ProviderHealth:
    """Whether a provider is failing, and until when Retry-After asked us to leave it alone."""

    down: bool = False
    cooldown_until_s: float = 0.0


class ProviderPool:
    """The App's LLM providers: SDK clients made once and reused, health state, closed on App close."""

    def __init__(
        self,
        settings: Settings,
        *,
        config_dir: Path | None = None,
        environ: dict[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self._key_reader = KeyReader(config_dir, environ)
        self._providers: dict[str, LLMProvider] = {}
        self._keys: dict[str, str | None] = {}
        self.health: dict[str, ProviderHealth] = {name: ProviderHealth() for name in LLM_PROVIDER_NAMES}

    def __repr__(self) -> str:
        return f"<ProviderPool {sorted(self._providers)}>"

    async def get(self, name: str) -> LLMProvider:
        """The provider by name, rebuilt when its key changed (the tray may set keys at any time)."""
        if name not in PROVIDER_CLASSES:
            raise ValueError(f"unknown provider {name!r}")
        key = self._key_reader.get(name)
        provider = self._providers.get(name)
        if provider is not None and self._keys.get(name) == key:
            return provider
        if provider is not None:
            await provider.aclose()
        provider = PROVIDER_CLASSES[name](self.settings, key)
        self._providers[name] = provider
        self._keys[name] = key
        return provider

    def order(self, requested: str = "auto") -> list[str]:
        """Providers to try: the one requested, or provider_order (+ local when enabled)."""
        if requested == GROOVE_ENGINE:
            return []
        if requested in PROVIDER_CLASSES:
            return [requested]
        names: list[str] = []
        for name in self.settings["provider_order"]:
            if name in PROVIDER_CLASSES and name not in names:
                names.append(name)
        if self.settings["local_enabled"] and "local" not in names:
            names.append("local")
        return names

    def record_failure(self, name: str, error: ProviderError | None, reason: str) -> None:
        """Note a failure; log the outage once, when the provider goes from up to down."""
        health = self.health[name]
        if error is not None and error.retry_after_s is not None:
            health.cooldown_until_s = max(health.cooldown_until_s, time.monotonic() + error.retry_after_s)
        if not health.down:
            health.down = True
            log.warning("llm provider %s unavailable (%s); failing over", name, reason)

    def record_success(self, name: str) -> None:
        """Note a success; log the recovery once."""
        health = self.health[name]
        health.cooldown_until_s = 0.0
        if health.down:
            health.down = False
            log.info("llm provider %s recovered", name)

    def cooling_down_s(self, name: str) -> float:
        """Seconds left of a Retry-After the provider asked for (0 when none)."""
        return max(0.0, self.health[name].cooldown_until_s - time.monotonic())

    async def aclose(self) -> None:
        """Close every SDK client."""
        providers, self._providers = list(self._providers.values()), {}
        for provider in providers:
            await provider.aclose()


def estimate_cost_usd(prices: dict[str, Any], model: str, tokens_in: int, tokens_out: int) -> float | None:
    """Cost from a price table {model: [input, output] USD per million tokens}, or None."""
    price = prices.get(model)
    if price is None:
        # Providers often answer with a dated model name ("gpt-4.1-mini-2025-04-14").
        matches = [k for k in prices if model.startswith(k)]
        price = prices[max(matches, key=len)] if matches else None
    if isinstance(price, dict):
        price = [price.get("input", 0.0), price.get("output", 0.0)]
    if not isinstance(price, list | tuple) or len(price) != 2:
        return None
    return (tokens_in * float(price[0]) + tokens_out * float(price[1])) / 1_000_000


@dataclass(slots=True)
class _Job:
    """Everything one request's variations share."""

    pool: ProviderPool
    providers: list[LLMProvider]
    profile: StyleProfile | None
    request: GenerationRequest
    spec: GridSpec
    schema: dict[str, Any]
    examples: list[dict[str, Any]]
    style: Style | None
    label: str
    deadline_s: float
    attempts: list[Attempt] = field(default_factory=list)


def _resolve_deps(app_or_deps: Any) -> tuple[ProviderPool, Any, bool]:
    """(pool, template library, pool is ours to close) from an App, a pool or bare settings."""
    if isinstance(app_or_deps, ProviderPool):
        return app_or_deps, None, False
    if isinstance(app_or_deps, Settings):
        return ProviderPool(app_or_deps), None, True
    library = getattr(app_or_deps, "library", None)
    if callable(library):
        library = library()  # App.library() loads the index once
    pool = getattr(app_or_deps, "llm", None)
    if isinstance(pool, ProviderPool):
        return pool, library, False
    settings = getattr(app_or_deps, "settings", None)
    if isinstance(settings, Settings):
        return ProviderPool(settings), library, True
    raise TypeError("generate() needs an App, a ProviderPool or Settings")


def _label(profile: StyleProfile | None, request: GenerationRequest) -> str:
    """Clip name prefix, as the groove engine makes it: artist, else the style's title."""
    if request.artist:
        return request.artist
    if profile is not None:
        return profile.artist_name
    style = style_of(request, profile)
    return style.title if style is not None else str(request.style)


async def generate(
    app_or_deps: Any,
    profile: StyleProfile | None,
    request: GenerationRequest,
    *,
    library: Any = None,
) -> GenerationResult:
    """Generate `request.variations` clips: LLM providers with failover, the groove engine last."""
    started = time.perf_counter()
    pool, app_library, owned = _resolve_deps(app_or_deps)
    library = library if library is not None else app_library
    seed = seed_or_drawn(request.seed)
    request = replace(request, seed=seed)
    attempts: list[Attempt] = []
    clips: list[Clip | None] = [None] * request.variations
    try:
        providers: list[LLMProvider] = []
        for name in pool.order(request.provider):
            provider = await pool.get(name)
            if provider.is_configured():
                providers.append(provider)
            elif request.provider != "auto" or provider.unconfigured_reason != NO_API_KEY:
                # On auto a provider without a key is one the user has not set up: not used, and not listed
                # (as in-process generate, which does not ask the coordinator then). Named, it says why.
                attempts.append(Attempt(name, provider.model, SKIPPED, provider.unconfigured_reason))
        prepared = await asyncio.gather(*(p.prepare() for p in providers), return_exceptions=True)
        for provider, outcome in zip(list(providers), prepared, strict=True):
            if isinstance(outcome, BaseException):
                if not isinstance(outcome, ImportError):
                    raise outcome
                providers.remove(provider)
                attempts.append(Attempt(provider.name, provider.model, SKIPPED, f"sdk missing: {outcome}"))
        if providers:
            examples = await asyncio.to_thread(
                template_examples,
                profile,
                request,
                resolve_time_signature(request, profile),
                resolve_tempo_bpm(request, profile),
                library,
            )
            spec = grid_spec_for(request, profile, examples)
            job = _Job(
                pool=pool,
                providers=providers,
                profile=profile,
                request=request,
                spec=spec,
                schema=groove_schema(spec),
                examples=examples,
                style=style_of(request, profile),
                label=_label(profile, request),
                deadline_s=asyncio.get_running_loop().time() + float(pool.settings["llm_budget_s"]),
            )
            tasks = [asyncio.create_task(_one_variation(job, v)) for v in range(1, request.variations + 1)]
            results = await asyncio.gather(*tasks)
            clips = list(results)
            attempts.extend(job.attempts)
    finally:
        if owned:
            await pool.aclose()
    missing = [i for i, clip in enumerate(clips) if clip is None]
    if missing:
        run_engine = getattr(app_or_deps, "run_engine", None)  # the daemon's App: a worker process
        engine = await _fill_from_engine(clips, missing, profile, request, library, run_engine)
        if (
            attempts
        ):  # the engine's share after providers that were tried; alone it is provider_used, no attempt
            attempts.append(engine)
    final = [clip for clip in clips if clip is not None]
    made_by = {str(clip.meta.get("provider", GROOVE_ENGINE)) for clip in final}
    used = [name for name in [*pool.order(request.provider), GROOVE_ENGINE] if name in made_by]
    return GenerationResult(
        clips=final,
        provider_used="+".join(used),
        attempts=attempts,
        generation_time_ms=(time.perf_counter() - started) * 1000.0,
        seed=seed,
    )


async def _fill_from_engine(
    clips: list[Clip | None],
    missing: list[int],
    profile: StyleProfile | None,
    request: GenerationRequest,
    library: Any,
    run_engine: Any = None,
) -> Attempt:
    """Fill the missing variations with groove-engine clips, named for their slots."""
    from mididrumigen.generation.groove_engine import generate_grooves

    started = time.perf_counter()
    whole = len(missing) == len(clips)
    engine_request = replace(request, variations=len(missing), provider=GROOVE_ENGINE)
    if run_engine is not None:
        engine_clips = await run_engine(engine_request, profile, library)
    else:
        engine_clips = await asyncio.to_thread(generate_grooves, engine_request, profile, library)
    label = _label(profile, request)
    for index, clip in zip(missing, engine_clips, strict=False):
        name = clip.name if whole else f"{label} - Variation {index + 1}"
        clips[index] = replace(clip, name=name, meta={**clip.meta, "provider": GROOVE_ENGINE})
    reason = (
        "requested" if request.provider == GROOVE_ENGINE else f"{len(missing)} variation(s) from the engine"
    )
    return Attempt(GROOVE_ENGINE, "", OK, reason, latency_ms=(time.perf_counter() - started) * 1000.0)


async def _one_variation(job: _Job, variation: int) -> Clip | None:
    """Walk the providers for one variation; None when none of them produced a valid clip."""
    loop = asyncio.get_running_loop()
    settings = job.pool.settings
    seed = int(job.request.seed or 0) + variation
    prompt = build_prompt(job.profile, job.request, job.spec, job.examples, variation, seed=seed)
    name = f"{job.label} - Variation {variation}"
    for provider in job.providers:
        cooling = job.pool.cooling_down_s(provider.name)
        if cooling > 0:
            job.attempts.append(
                Attempt(
                    provider.name,
                    provider.model,
                    SKIPPED,
                    f"retry-after: {cooling:.1f} s left",
                    variation=variation,
                )
            )
            continue
        retried = False
        while True:
            remaining = job.deadline_s - loop.time()
            if remaining <= 0:
                job.attempts.append(
                    Attempt(provider.name, provider.model, SKIPPED, "time budget spent", variation=variation)
                )
                return None
            timeout_s = min(float(settings["llm_timeout_s"]), remaining)
            attempt = Attempt(provider.name, provider.model, FAILED, variation=variation)
            job.attempts.append(attempt)
            started = time.perf_counter()
            try:
                async with asyncio.timeout(timeout_s):
                    response = await provider.generate(prompt, job.schema)
            except TimeoutError:
                attempt.latency_ms = (time.perf_counter() - started) * 1000.0
                attempt.reason = f"timeout after {timeout_s:g} s"
                job.pool.record_failure(provider.name, None, attempt.reason)
                break
            except ProviderError as err:
                attempt.latency_ms = (time.perf_counter() - started) * 1000.0
                attempt.reason = err.message if err.status else f"{err.reason}: {err.message}"
                wait_s = err.retry_after_s
                max_wait_s = min(float(settings["llm_retry_wait_max_s"]), remaining - 0.05)
                if err.is_availability and wait_s is not None and not retried and wait_s <= max_wait_s:
                    attempt.reason += f"; retrying after {wait_s:g} s"
                    retried = True
                    await asyncio.sleep(wait_s)
                    continue
                job.pool.record_failure(provider.name, err if err.is_availability else None, attempt.reason)
                break
            job.pool.record_success(provider.name)
            attempt.model = response.model
            attempt.tokens_in, attempt.tokens_out = response.tokens_in, response.tokens_out
            attempt.latency_ms = response.latency_ms
            attempt.cost_usd = estimate_cost_usd(
                settings["llm_prices"], response.model, response.tokens_in, response.tokens_out
            )
            try:
                clip, repairs = answer_to_clip(
                    response,
                    job.spec,
                    job.profile,
                    name=name,
                    humanize=job.request.humanize,
                    seed=seed,
                    style=job.style,
                )
            except InvalidOutputError as err:
                attempt.reason = f"invalid output: {err}"
                log.info("%s gave invalid output for variation %d: %s", provider.name, variation, err)
                break
            attempt.outcome = OK
            attempt.reason = "repaired: " + "; ".join(repairs) if repairs else ""
            meta = {
                **clip.meta,
                "provider": provider.name,
                "model": response.model,
                "repairs": repairs,
                "seed": job.request.seed,
                "style": job.style.key if job.style is not None else job.request.style,
                "variation": variation,
                "source": provider.name,
            }
            return replace(clip, meta=meta)
    return None


async def generate_once(
    settings: Settings, profile: StyleProfile | None, request: GenerationRequest, library: Any = None
) -> GenerationResult:
    """One request with a pool of its own (the CLI); the daemon keeps one pool per App instead."""
    pool = ProviderPool(settings)
    try:
        return await generate(pool, profile, request, library=library)
    finally:
        await pool.aclose()
