"""The in-process job scheduler: jobs are rows, handlers are registered by kind."""

from mididrumigen.jobs.scheduler import (
    TERMINAL_STATUSES,
    JobContext,
    JobHandler,
    JobKind,
    Scheduler,
    job_event,
    task_summary,
)

__all__ = [
    "TERMINAL_STATUSES",
    "JobContext",
    "JobHandler",
    "JobKind",
    "Scheduler",
    "job_event",
    "task_summary",
]
