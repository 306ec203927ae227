"""Try research and LLM generation with no internet, against the simulated services.

Starts the fake research services (Semantic Scholar, arXiv, CrossRef, Wikipedia, a
drummer-profile site, BitMIDI, a video site) and the fake LLM APIs on 127.0.0.1,
points a throw-away config at them, and runs the real CLI: research of the
fictional drummer "Tessa Marlowe", her profile, similar drummers, and generation
through "Anthropic" with the primary overloaded so it fails over to "Gemini".
Everything it talks to is simulated; the CLI, collectors, SDKs and yt-dlp are real.

Run: .venv/bin/python -m tests.fakes.offline_demo   (needs the research extra)
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from typing import Any

from tests.fakes.llm_servers import API_KEYS, FakeLLMServer
from tests.fakes.research_servers import FakeResearchServer

ARTIST = "Tessa Marlowe"


def env_for(settings: dict[str, Any], home: str) -> dict[str, str]:
    """Environment for the CLI: settings as MIDIDRUMIGEN_* variables, fake keys, a private home."""
    env = dict(os.environ)
    env["MIDIDRUMIGEN_CONFIG_DIR"] = f"{home}/config"
    env["MIDIDRUMIGEN_DATA_DIR"] = f"{home}/data"
    for name, value in settings.items():
        env[f"MIDIDRUMIGEN_{name.upper()}"] = ",".join(value) if isinstance(value, list) else str(value)
    env.update(
        ANTHROPIC_API_KEY=API_KEYS["anthropic"],
        GEMINI_API_KEY=API_KEYS["google"],
        OPENAI_API_KEY=API_KEYS["openai"],
    )
    env["HF_HUB_OFFLINE"] = "1"
    return env


async def run(*args: str, env: dict[str, str]) -> int:
    """Run the real CLI in a subprocess and show what it prints."""
    print(f"\n$ mididrumigen {' '.join(args)}", flush=True)
    process = await asyncio.create_subprocess_exec(sys.executable, "-m", "mididrumigen", *args, env=env)
    return await process.wait()


async def main() -> int:
    """Start the fakes, run the demo commands, stop the fakes."""
    research = FakeResearchServer(latency_s=(0.05, 0.3))
    await research.start()
    llm = await FakeLLMServer(latency_s=0.3).start()
    llm.script("anthropic", *["overloaded"] * 8)  # the primary is overloaded: watch the failover
    try:
        with tempfile.TemporaryDirectory() as home:
            env = env_for({**research.settings(), **llm.settings_overrides()}, home)
            codes = [
                await run("research", ARTIST, env=env),
                await run("profiles", "show", ARTIST, env=env),
                await run("similar", ARTIST, "--limit", "5", env=env),
                await run(
                    "generate",
                    ARTIST,
                    "--bars",
                    "2",
                    "--variations",
                    "2",
                    "--provider",
                    "auto",
                    "--out",
                    f"{home}/out",
                    env=env,
                ),
            ]
    finally:
        await llm.close()
        await research.close()
    return 0 if all(code == 0 for code in codes) else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
