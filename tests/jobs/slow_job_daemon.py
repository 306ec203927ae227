"""A daemon with a test-only slow job kind, for kill -9 and restart tests.

Run: python -m tests.jobs.slow_job_daemon (plain|resumable) (submit|idle)
Research jobs use the offline path (built-in knowledge only): tests never go online.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from mididrumigen import orchestrator
from mididrumigen.app import App
from mididrumigen.daemon import DaemonInfo, serve
from mididrumigen.jobs import JobContext
from mididrumigen.settings import Settings


async def slow_job(_app: App, job: JobContext) -> dict[str, Any]:
    """Hangs on its first attempt (to be killed there); finishes on a later one."""
    await job.set_stage("slow step", 10)
    if job.attempt >= 2:
        return {"attempt": job.attempt}
    await asyncio.sleep(3600)
    return {}


def main() -> None:
    """Serve with the test job registered; optionally submit one and print its id."""
    orchestrator.run_research = orchestrator.local_research  # type: ignore[assignment]
    resumable = sys.argv[1] == "resumable"
    submit = sys.argv[2] == "submit"
    holder: dict[str, App] = {}

    def configure(app: App) -> None:
        app.scheduler.register("test_slow", slow_job, resumable=resumable)
        holder["app"] = app

    def ready(_info: DaemonInfo) -> None:
        if not submit:
            return
        app = holder["app"]

        async def go() -> None:
            job_id = await app.scheduler.submit("test_slow", {})
            print("JOB", job_id, flush=True)

        app.scheduler.spawn(go(), "submit-test-job")

    asyncio.run(serve(Settings.load(), configure=configure, ready=ready))


if __name__ == "__main__":
    main()
