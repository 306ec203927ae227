"""Errors a user can cause: one line on the CLI (exit 2), one JSON shape over HTTP."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import aiohttp


class UserError(Exception):
    """Bad input or a missing thing the user asked for; never a bug."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code

    @property
    def details(self) -> dict[str, Any]:
        """What the error object carries over HTTP beside code and message (none by default)."""
        return {}


class NotFoundError(UserError):
    """The named artist, style, task or file does not exist."""

    status = 404
    code = "not_found"


class UnknownArtistError(NotFoundError):
    """No profile for this artist; carries the closest known names."""

    code = "unknown_artist"

    def __init__(self, name: str, suggestions: list[str]) -> None:
        super().__init__(f"unknown artist {name!r}{did_you_mean(suggestions)}")
        self.name = name
        self.suggestions = suggestions

    @property
    def details(self) -> dict[str, Any]:
        """The name asked for and the close built-in names."""
        return {"artist": self.name, "suggestions": self.suggestions}


def did_you_mean(names: Sequence[str]) -> str:
    """The hint after a name no drummer has: "; did you mean A, B?" with close names, else nothing."""
    return f"; did you mean {', '.join(names)}?" if names else ""


class ResearchRunningError(UserError):
    """An artist cannot be removed while research of it is queued or running: that job would store it again."""

    status = 409
    code = "research_running"

    def __init__(self, artist: str, task_id: str, state: str = "running") -> None:
        super().__init__(
            f"research of {artist!r} is {state} as task {task_id}; cancel it with"
            f" `mididrumigen tasks cancel {task_id}` (or DELETE /api/v1/task/{task_id}) or wait for it to end"
        )
        self.artist = artist
        self.task_id = task_id

    @property
    def details(self) -> dict[str, Any]:
        """The artist and the id of the task to cancel."""
        return {"artist": self.artist, "task_id": self.task_id}


class MissingExtraError(UserError):
    """A feature whose optional dependencies (a pip extra) are not installed."""

    status = 501
    code = "missing_extra"

    def __init__(self, message: str, extra: str) -> None:
        super().__init__(message)
        self.extra = extra  # the extra's name, so research can tell this failure from an unreachable service


def missing_extra(extra: str, exc: ImportError) -> MissingExtraError:
    """A clear error for a feature whose optional dependencies are not installed."""
    module = exc.name or "a module"
    return MissingExtraError(
        f"this needs the '{extra}' extra ({module} is not installed): "
        f"run installer/test.sh, or .venv/bin/pip install -e '.[{extra}]'",
        extra,
    )


def name_not_resolved(exc: aiohttp.ClientConnectorError) -> bool:
    """Whether a connection failed because the host name could not be resolved (DNS), not a refused or
    timed-out connection: research gives up on such a host at once, the provider probe says "offline?"."""
    import socket

    import aiohttp

    dns_error = getattr(aiohttp, "ClientConnectorDNSError", None)  # aiohttp 3.10 and later
    return (dns_error is not None and isinstance(exc, dns_error)) or isinstance(exc.os_error, socket.gaierror)
