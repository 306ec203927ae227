"""Schemathesis fuzz pass over every route of /api/v1/openapi.json: no 5xx, errors in the one shape."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from mididrumigen.client import DaemonClient
from tests.test_daemon import _env, _start, _stop, _wait_discovery

EXAMPLES_PER_MODE = 25


@pytest.mark.slow
def test_fuzz_every_route_without_server_errors(isolated_dirs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIDIDRUMIGEN_RATE_LIMIT_PER_HOUR", "0")  # 429s would hide the handlers
    assert _env(isolated_dirs)["MIDIDRUMIGEN_RATE_LIMIT_PER_HOUR"] == "0"
    proc = _start(isolated_dirs, "plain", "idle")
    try:
        info = _wait_discovery(proc)
        doc = DaemonClient(info.url, info.token).request("GET", "/openapi.json")
        schema = schemathesis.openapi.from_dict(doc)
        auth = {"Authorization": f"Bearer {info.token}"}
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) == sum(len(ops) for ops in doc["paths"].values())
        seen: dict[str, set[int]] = {}
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

                @given(case=operation.as_strategy(generation_mode=mode))
                @settings(
                    max_examples=EXAMPLES_PER_MODE,
                    deadline=None,
                    database=None,
                    suppress_health_check=list(HealthCheck),
                )
                def call(case: schemathesis.Case) -> None:
                    response = case.call(base_url=info.url, headers=auth, timeout=30)
                    label = f"{case.method} {case.path}"
                    seen.setdefault(label, set()).add(response.status_code)
                    assert response.status_code < 500, (label, case.path_parameters, case.query, case.body)
                    if response.status_code >= 400:
                        body = json.loads(response.content)
                        assert set(body) == {"error"} and body["error"]["code"] and body["error"]["message"]

                try:
                    call()
                except Unsatisfiable:
                    # Nothing to break in an operation without parameters or body.
                    assert (
                        mode is GenerationMode.NEGATIVE
                        and not operation.path_parameters
                        and not operation.body
                    )
        assert len(seen) == len(operations)
        assert _stop(proc) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
