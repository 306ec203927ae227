"""POST /generate: files at once for built-in and cached artists, a task for unknown ones."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from mididrumigen import orchestrator
from mididrumigen.app import App
from mididrumigen.jobs import JobContext
from mididrumigen.midi.drum_maps import get_drum_map
from mididrumigen.midi.smf import read_midi_bytes
from mididrumigen.profile import StyleProfile
from mididrumigen.research.drummers import find_builtin
from tests.api.conftest import Running, assert_error


async def test_builtin_artist_answers_with_files_at_once(
    daemon: Running, client: aiohttp.ClientSession
) -> None:
    body = {"artist": "bonham", "bars": 4, "variations": 3, "tempo": 96, "time_signature": "4/4", "seed": 11}
    async with client.post("/api/v1/generate", json=body) as resp:
        assert resp.status == 200
        result = await resp.json()
    assert result["artist"] == "John Bonham" and result["provider_used"] == "groove-engine"
    assert result["variations"] == 3 and len(result["files"]) == 3 and result["tempo"] == 96
    assert result["profile"]["artist_name"] == "John Bonham" and result["generation_time_ms"] > 0
    for n, info in enumerate(result["files"], start=1):
        assert info["url"] == f"/api/v1/files/{info['id']}" and info["name"] == f"John Bonham - Variation {n}"
        async with client.get(info["url"]) as resp:
            assert resp.status == 200 and resp.headers["Content-Type"] == "audio/midi"
            clip = read_midi_bytes(await resp.read())
        assert len(clip.notes) == len(info["notes"]["notes"]) > 0
        assert info["notes"]["bars"] == 4 and info["notes"]["time_signature"] == [4, 4]
    async with client.get("/api/v1/stats") as resp:
        stats = await resp.json()
    assert stats["generations"] == 1 and stats["files"] == 3


async def test_notes_json_has_the_pitches_of_the_file_and_names_their_map(
    client: aiohttp.ClientSession,
) -> None:
    # Samba plays a cowbell and a hat pedal: AD2 has no cowbell (it moves to the ride bell) and puts the
    # hi-hats on General MIDI's crash and a tom. A script or the Live device plays the JSON as it is.
    for drum_map in ("ad2", "gm"):
        body = {"style": "samba", "bars": 2, "variations": 2, "seed": 4, "drum_map": drum_map}
        async with client.post("/api/v1/generate", json=body) as resp:
            assert resp.status == 200
            result = await resp.json()
        assert result["drum_map"] == drum_map
        for info in result["files"]:
            assert info["notes"]["drum_map"] == drum_map
            async with client.get(info["url"]) as resp:
                clip = read_midi_bytes(await resp.read())
            written = sorted((n.time, n.pitch, n.velocity) for n in clip.notes)
            assert sorted((n["time"], n["pitch"], n["velocity"]) for n in info["notes"]["notes"]) == written
        if drum_map == "ad2":
            pitches = {n["pitch"] for info in result["files"] for n in info["notes"]["notes"]}
            assert (
                pitches <= set(get_drum_map("ad2").pitch_by_piece.values()) and 48 in pitches
            )  # AD2's hat pedal (a tom in GM)


async def test_attempts_without_keys_are_as_in_process(
    client: aiohttp.ClientSession, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from mididrumigen.cli import main

    assert (
        main(
            [
                "generate",
                "--style",
                "funk",
                "--variations",
                "1",
                "--daemon",
                "no",
                "--json",
                "--out",
                str(tmp_path),
            ]
        )
        == 0
    )
    in_process = json.loads(capsys.readouterr().out)
    async with client.post("/api/v1/generate", json={"style": "funk", "variations": 1}) as resp:
        assert resp.status == 200
        over_http = await resp.json()
    assert over_http["attempts"] == in_process["attempts"] == []  # auto: keyless providers are not used
    assert over_http["provider_used"] == in_process["provider_used"] == "groove-engine"
    async with client.post(
        "/api/v1/generate", json={"style": "funk", "variations": 1, "provider": "openai"}
    ) as resp:
        named = await resp.json()
    assert (named["attempts"][0]["provider"], named["attempts"][0]["reason"]) == ("openai", "no api key")


async def test_same_seed_same_notes_and_style_only(client: aiohttp.ClientSession) -> None:
    notes = []
    for _ in range(2):
        async with client.post(
            "/api/v1/generate", json={"style": "funk", "seed": 5, "variations": 1}
        ) as resp:
            assert resp.status == 200
            result = await resp.json()
        assert result["artist"] is None and result["profile"] is None
        notes.append(result["files"][0]["notes"]["notes"])
    assert notes[0] == notes[1]


async def test_unknown_style_is_a_clear_4xx(client: aiohttp.ClientSession) -> None:
    async with client.post("/api/v1/generate", json={"style": "polka_metal"}) as resp:
        assert 400 <= resp.status < 500
        assert "polka_metal" in assert_error(await resp.json())["message"]


async def test_unknown_artist_queues_research_then_generation(
    daemon: Running, client: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def researched(app: App, artist: str, job: JobContext) -> StyleProfile:
        await job.set_stage("reading sources", 50)
        profile = find_builtin("Clyde Stubblefield")
        profile.artist_name = "Newly Found"
        return profile

    monkeypatch.setattr(orchestrator, "run_research", researched)
    async with client.post("/api/v1/generate", json={"artist": "Newly Found", "variations": 2}) as resp:
        assert resp.status == 202
        accepted = await resp.json()
    task = await daemon.app.scheduler.wait(accepted["task_id"], 20)
    assert task["status"] == "succeeded", task
    result: dict[str, Any] = task["result"]
    assert result["artist"] == "Newly Found" and len(result["files"]) == 2
    async with client.get(result["files"][0]["url"]) as resp:
        assert resp.status == 200
    async with client.post("/api/v1/generate", json={"artist": "newly found", "variations": 1}) as resp:
        assert resp.status == 200  # cached now


async def test_unknown_artist_without_sources_fails_with_a_reason(
    daemon: Running, client: aiohttp.ClientSession
) -> None:
    async with client.post("/api/v1/generate", json={"artist": "Qwxz Unfindable"}) as resp:
        assert resp.status == 202
        accepted = await resp.json()
    task = await daemon.app.scheduler.wait(accepted["task_id"], 20)
    assert task["status"] == "failed" and "Qwxz Unfindable" in task["error"]
