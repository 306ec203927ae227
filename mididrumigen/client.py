"""A small synchronous client for a running daemon (urllib only, so the CLI starts light)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from mididrumigen.errors import NotFoundError, ResearchRunningError, UnknownArtistError, UserError

TERMINAL = ("succeeded", "failed", "cancelled")


class DaemonError(UserError):
    """The daemon answered with an error (its one JSON error shape)."""


class DaemonClient:
    """Calls the daemon's /api/v1 with the Bearer token; errors become UserError subclasses."""

    def __init__(self, url: str, token: str, timeout_s: float = 120.0) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.timeout_s = timeout_s

    @classmethod
    def discover(cls, folder: Path | None = None) -> DaemonClient | None:
        """A client for the running daemon, or None when none answers."""
        from mididrumigen.daemon import discover

        info = discover(folder)
        return cls(info.url, info.token) if info is not None else None

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send one request to /api/v1/<path> and return the JSON answer."""
        data = json.dumps(body).encode("utf-8") if body is not None else None
        req = urllib.request.Request(f"{self.url}/api/v1{path}", data=data, method=method)
        req.add_header("Authorization", f"Bearer {self.token}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as response:
                answer: dict[str, Any] = json.loads(response.read())
                return answer
        except urllib.error.HTTPError as exc:
            raise _error_from(exc) from None
        except (urllib.error.URLError, OSError) as exc:
            raise UserError(
                f"cannot reach the daemon at {self.url}: {exc}", code="daemon_unreachable"
            ) from None

    @staticmethod
    def quote(text: str) -> str:
        """URL-encode a path part (an artist name)."""
        return urllib.parse.quote(text, safe="")

    def health(self) -> dict[str, Any]:
        """GET /health."""
        return self.request("GET", "/health")

    def generate(self, params: dict[str, Any], wait_s: float = 1800.0) -> dict[str, Any]:
        """POST /generate; when research is queued, wait for the task and return its result."""
        answer = self.request("POST", "/generate", params)
        if "task_id" in answer and "files" not in answer:
            task = self.wait(answer["task_id"], wait_s)
            return dict(task["result"] or {})
        return answer

    def research(self, artist: str) -> dict[str, Any]:
        """POST /research."""
        return self.request("POST", "/research", {"artist": artist})

    def has_profile(self, artist: str) -> bool:
        """Whether the daemon has a profile for artist (GET /research/{artist}; starts nothing)."""
        try:
            return self.request("GET", f"/research/{self.quote(artist)}").get("profile") is not None
        except NotFoundError:
            return False

    def task(self, task_id: str) -> dict[str, Any]:
        """GET /task/{id}."""
        return self.request("GET", f"/task/{task_id}")

    def tasks(self, statuses: tuple[str, ...] = (), limit: int = 50) -> list[dict[str, Any]]:
        """GET /tasks: recent tasks, newest first, only in the given statuses (all when none)."""
        query = urllib.parse.urlencode([*(("status", s) for s in statuses), ("limit", str(limit))])
        return list(self.request("GET", f"/tasks?{query}")["tasks"])

    def cancel(self, task_id: str) -> dict[str, Any]:
        """DELETE /task/{id}: cancel a queued or running task and return its final state."""
        return self.request("DELETE", f"/task/{self.quote(task_id)}")

    def wait(self, task_id: str, timeout_s: float = 1800.0, poll_s: float = 0.5) -> dict[str, Any]:
        """Poll a task until it ends; a failed or cancelled task raises UserError."""
        deadline = time.monotonic() + timeout_s
        while True:
            task = self.task(task_id)
            if task["status"] == "succeeded":
                return task
            if task["status"] in TERMINAL:
                raise UserError(f"task {task['status']}: {task.get('error') or task.get('stage')}")
            if time.monotonic() > deadline:
                raise UserError(f"task {task_id} still {task['status']} after {timeout_s:g} s")
            time.sleep(poll_s)

    def artists(self) -> list[dict[str, Any]]:
        """GET /artists."""
        return list(self.request("GET", "/artists")["artists"])

    def delete_artist(self, artist: str) -> dict[str, Any]:
        """DELETE /artists/{artist}."""
        return self.request("DELETE", f"/artists/{self.quote(artist)}")

    def similar(self, artist: str, limit: int = 10) -> list[dict[str, Any]]:
        """GET /similar/{artist}."""
        return list(self.request("GET", f"/similar/{self.quote(artist)}?limit={limit}")["similar"])

    def stats(self) -> dict[str, Any]:
        """GET /stats."""
        return self.request("GET", "/stats")


def _error_from(exc: urllib.error.HTTPError) -> UserError:
    try:
        error = json.loads(exc.read())["error"]
        code, message = str(error["code"]), str(error["message"])
    except (ValueError, KeyError, TypeError):
        return DaemonError(f"daemon answered HTTP {exc.code}", status=exc.code)
    found: UserError | None = None
    if code == "unknown_artist":
        found = UnknownArtistError(str(error.get("artist", "")), list(error.get("suggestions", [])))
    elif code == "research_running":
        found = ResearchRunningError(str(error.get("artist", "")), str(error.get("task_id", "")))
    if found is not None:  # the error the in-process code raises, with the daemon's words
        found.message = message
        found.args = (message,)
        return found
    if exc.code == 404:
        return NotFoundError(message)
    return DaemonError(message, status=exc.code, code=code)
