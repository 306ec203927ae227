"""CLI commands for the daemon (`serve`, `artists`) and generate's client mode (wired in cli.py)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any

from mididrumigen.errors import UserError

DAEMON_MODES = ("auto", "yes", "no")
ACTIVE_STATUSES = ("queued", "running")
RECENT_TASKS = 50


def add_commands(sub: Any, parser_class: type[argparse.ArgumentParser] = argparse.ArgumentParser) -> None:
    """Add `serve`, `artists` and `tasks` to the CLI's subparsers."""
    p = sub.add_parser("serve", help="run the local daemon (HTTP API on 127.0.0.1, jobs, profile store)")
    p.add_argument("--port", type=int, default=None, help="preferred port (default: the port setting, 8765)")
    p.add_argument("--host", default=None, help="address to bind (loopback unless allow_remote is set)")
    p.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"))
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("artists", help="list cached artists, or remove one (through the daemon when it runs)")
    p.add_argument(
        "--delete",
        metavar="ARTIST",
        help="remove a researched artist from the cache; for a built-in drummer, what research added to it",
    )
    p.add_argument("--json", action="store_true")
    add_daemon_option(p)
    p.set_defaults(func=cmd_artists)

    p = sub.add_parser(
        "tasks",
        help="list queued and running jobs (research, generation), or cancel one (through the daemon when it runs)",
        description="List jobs, newest first: queued and running ones, or recent ones of every status with --all.",
    )
    p.add_argument("--all", action="store_true", help=f"the {RECENT_TASKS} most recent tasks of every status")
    p.add_argument("--json", action="store_true", help="print the tasks as JSON (as GET /api/v1/tasks)")
    add_daemon_option(p)
    p.set_defaults(func=cmd_tasks)
    tasks = p.add_subparsers(dest="tasks_command", parser_class=parser_class)
    cancel = tasks.add_parser("cancel", help="cancel a queued or running task by its id")
    cancel.add_argument("task_id", metavar="ID", help="the task's id (first column of `mididrumigen tasks`)")
    cancel.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print its final state as JSON"
    )
    cancel.set_defaults(func=cmd_tasks_cancel)


def add_daemon_option(parser: argparse.ArgumentParser) -> None:
    """`--daemon auto|yes|no`: talk to a running daemon (auto: when one answers)."""
    parser.add_argument(
        "--daemon",
        choices=DAEMON_MODES,
        default="auto",
        help="use the running daemon: auto (if one answers), yes (required), no (in-process)",
    )


def daemon_client(mode: str) -> Any:
    """A DaemonClient per --daemon mode, or None to work in-process."""
    if mode == "no":
        return None
    from mididrumigen.client import DaemonClient

    client = DaemonClient.discover()
    if client is None and mode == "yes":
        raise UserError("no daemon is running; start one with `mididrumigen serve`")
    return client


def cmd_serve(args: argparse.Namespace) -> int:
    """`mididrumigen serve`: run until Ctrl-C or SIGTERM."""
    import logging

    from mididrumigen.daemon import serve
    from mididrumigen.settings import Settings

    overrides: dict[str, Any] = {}
    if args.port is not None:
        overrides["port"] = args.port
    if args.host is not None:
        overrides["host"] = args.host
    logging.basicConfig(
        level=getattr(logging, args.log_level.upper()),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    asyncio.run(serve(Settings.load(overrides=overrides)))
    return 0


def cmd_artists(args: argparse.Namespace) -> int:
    """`mididrumigen artists [--delete NAME]`."""
    from mididrumigen.files import validate_artist_name

    client = daemon_client(args.daemon)
    if args.delete:
        target = validate_artist_name(args.delete)
        done = client.delete_artist(target) if client is not None else asyncio.run(_delete_in_process(target))
        if args.json:
            print(json.dumps(done, indent=2))
        elif done.get("reset_to") == "built-in":
            print(f"removed what research added to {done['deleted']}; its built-in profile stays")
        else:
            print(f"removed {done['deleted']}")
        return 0
    rows = client.artists() if client is not None else asyncio.run(_artists_in_process())
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        print(
            f"{row['name']:<28} {row['origin']:<9} {row['research_status']:<12} confidence {row['confidence']:.2f}"
        )
    return 0


async def _open_store() -> Any:
    from mididrumigen.app import DATABASE_FILE
    from mididrumigen.settings import Settings
    from mididrumigen.store import Store

    return await Store.open(Settings.load().data_dir / DATABASE_FILE)


async def _artists_in_process() -> list[dict[str, Any]]:
    store = await _open_store()
    try:
        return [r.to_json() for r in await store.list_artists()]
    finally:
        await store.close()


async def _delete_in_process(name: str) -> dict[str, Any]:
    """What DELETE /artists/{name} does, on the store itself (the daemon's answer, or its error)."""
    from mididrumigen.orchestrator import forget_artist

    store = await _open_store()
    try:
        return await forget_artist(store, name)
    finally:
        await store.close()


def cmd_tasks(args: argparse.Namespace) -> int:
    """`mididrumigen tasks [--all] [--json]`: queued and running tasks (--all: recent ones of every status)."""
    statuses = () if args.all else ACTIVE_STATUSES
    client = daemon_client(args.daemon)
    if client is not None:
        rows = client.tasks(statuses, RECENT_TASKS)
    else:
        rows = asyncio.run(_tasks_in_process(statuses))
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("no tasks yet" if args.all else "no queued or running tasks (--all shows finished ones)")
        return 0
    now = time.time()
    for row in rows:
        print(task_line(row, now, daemon_running=client is not None))
    return 0


def task_line(row: dict[str, Any], now: float, *, daemon_running: bool = True) -> str:
    """One task as a readable line: id, kind, artist, status, progress, age, then its stage or error."""
    what = row["error"] or row["stage"] or "-"
    if row["status"] == "running" and not daemon_running:
        # What a daemon that died leaves behind: it is settled (resumed or failed) when a daemon starts.
        what = f"interrupted, no daemon running (was: {what})"
    what = " ".join(str(what).split())
    if len(what) > 70:
        what = what[:69] + "…"
    artist = row["artist"] or "-"
    return (
        f"{row['task_id']}  {row['kind']:<9} {artist[:24]:<24} {row['status']:<9} {row['progress']:>3.0f} %"
        f"  {age(now - row['created_at']):>7}  {what}"
    )


def age(seconds: float) -> str:
    """How long ago, shortly: '12 s ago', '5 min ago', '3 h ago', '2 d ago'."""
    seconds = max(0.0, seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit} ago"
    return f"{int(seconds)} s ago"


async def _tasks_in_process(statuses: tuple[str, ...]) -> list[dict[str, Any]]:
    """What GET /tasks answers, read from the store (no daemon runs: nothing changes the rows meanwhile)."""
    from mididrumigen.jobs import task_summary

    store = await _open_store()
    try:
        return [task_summary(job) for job in await store.recent_jobs(statuses, RECENT_TASKS)]
    finally:
        await store.close()


def cmd_tasks_cancel(args: argparse.Namespace) -> int:
    """`mididrumigen tasks cancel ID`: through the daemon when one runs, else on the store itself."""
    client = daemon_client("auto")
    if client is not None:
        state = client.cancel(args.task_id)
    else:
        _refuse_without_answering_daemon()
        state = asyncio.run(_cancel_in_process(args.task_id))
    if getattr(args, "json", False):
        print(json.dumps(state, indent=2))
        return 0
    artist = f", {state['artist']}" if state["artist"] else ""
    print(f"cancelled task {state['task_id']} ({state['kind']}{artist})")
    return 0


def _refuse_without_answering_daemon() -> None:
    """A daemon whose process lives but does not answer still owns the jobs: the CLI must not write them."""
    from mididrumigen.daemon import _pid_alive, read_discovery

    info = read_discovery()
    if info is not None and _pid_alive(info.pid):
        raise UserError(
            f"the daemon (pid {info.pid}) does not answer at {info.url}; try again, or stop it and retry"
        )


async def _cancel_in_process(task_id: str) -> dict[str, Any]:
    """Cancel a task with no daemon running, as the daemon would: first settle what a daemon that died left
    'running' (the scheduler's own recovery at start: queued again or failed, with each kind's clean-up),
    then cancel the queued row (its kind's clean-up, then 'cancelled'). No job runs in this process."""
    from mididrumigen.app import App
    from mididrumigen.daemon import claim_folder
    from mididrumigen.jobs import job_event
    from mididrumigen.settings import Settings, config_dir

    # The daemon's lock: a daemon starting (no daemon.json yet) would settle and run these same jobs.
    lock = claim_folder(config_dir())
    if lock is None:
        raise UserError("a daemon is starting or stopping for this config folder; try again in a moment")
    try:
        app = await App.create(Settings.load())
        try:
            await app.scheduler.recover()
            return job_event(await app.scheduler.cancel(task_id))
        finally:
            await app.close()
    finally:
        lock.release()


def generate_via_daemon(args: argparse.Namespace) -> int | None:
    """Run `generate` through the daemon when one answers (shared cache and history); None: do it in-process."""
    # The API takes neither a folder nor a file, and a path means what it says only on this side:
    # --out and a map file are in-process jobs (the README says so).
    drum_map = _builtin_map_name(args.drum_map) if args.drum_map is not None else None
    if args.out is not None:
        if args.daemon == "yes":
            raise UserError("--out cannot be used with --daemon yes: the daemon writes to its output folder")
        return None
    if args.drum_map is not None and drum_map is None:
        if args.daemon == "yes":
            raise UserError(
                "a drum map file cannot be used with --daemon yes: the daemon takes built-in map names"
            )
        return None
    client = daemon_client(args.daemon)
    if client is None:
        return None
    if args.artist is not None:
        _check_artist_known(client, args.artist)
    params: dict[str, Any] = {"artist": args.artist, "style": args.style, "provider": args.provider}
    optional = {
        "bars": args.bars,
        "variations": args.variations,
        "tempo": args.tempo,
        "time_signature": args.time_signature,
        "drum_map": drum_map,
        "seed": args.seed,
        "humanize": args.humanize,
    }
    params.update({k: v for k, v in optional.items() if v is not None})
    params = {k: v for k, v in params.items() if v is not None}
    if args.artist is None:
        params.pop("artist", None)
    result = client.generate(params)
    if args.json:
        out = dict(result)
        out["files"] = [f["path"] for f in result["files"]]
        print(json.dumps(out, indent=2))
        return 0
    _print_result(result, args.provider)
    return 0


def _builtin_map_name(name_or_file: str) -> str | None:
    """The API's name of a built-in map given in any case or by alias ('AD2' -> 'ad2'); None for a map file."""
    from mididrumigen.midi.drum_maps import BUILTIN_MAPS, get_drum_map

    drum_map = get_drum_map(name_or_file)  # a bad name or file fails here as it does in-process
    return drum_map.name if BUILTIN_MAPS.get(drum_map.name) is drum_map else None


def _check_artist_known(client: Any, artist: str) -> None:
    """Refuse a name that is neither built in nor researched by the daemon, as in-process generate does."""
    # The daemon would queue web research for it and the CLI would wait minutes; from the CLI research
    # is `mididrumigen research`'s job, and a typo ("Danny Careyyy") is told its close matches at once.
    from mididrumigen.errors import UnknownArtistError
    from mididrumigen.research.commands import with_research_hint
    from mididrumigen.research.drummers import find_builtin

    try:
        find_builtin(artist)
    except UnknownArtistError as exc:
        if not client.has_profile(artist):
            raise with_research_hint(exc, artist) from None


def _notes_in_gm(notes: dict[str, Any], answer_map: Any) -> Any:
    """A file's notes JSON as a clip at General MIDI pitches: the JSON has the pitches of the drum map it names
    (`drum_map`; a daemon of an earlier release sent General MIDI and no name)."""
    from mididrumigen.midi.drum_maps import GM, translate_clip
    from mididrumigen.midi.notes import Clip

    clip = Clip.from_json(notes)
    played_on = str(notes.get("drum_map") or "gm")
    if played_on == "gm":
        return clip
    # A map file (the daemon's default_drum_map) is named by its own name, which only the answer's map knows.
    return translate_clip(clip, answer_map if played_on == answer_map.name else played_on, GM)


def _print_result(result: dict[str, Any], requested_provider: str) -> None:
    from mididrumigen.cli import _failure_lines, as_played_on, plural
    from mididrumigen.midi.drum_maps import get_drum_map
    from mididrumigen.midi.grid import render_grid

    # The same header as in-process generate: tempo as typed, the seed to repeat it, the drummer's traits.
    who = result.get("artist") or "Style"
    meter = "/".join(str(v) for v in result.get("time_signature") or [])
    tempo = f"{result['tempo']:g}" if isinstance(result.get("tempo"), (int, float)) else result.get("tempo")
    print(
        f"{who} · {result.get('style')} · {tempo} BPM · {meter} · {plural(result['bars'], 'bar')}"
        f" · seed {result.get('seed')}"
    )
    traits = (result.get("profile") or {}).get("signature_traits") or []
    if traits:
        print("  " + "; ".join(traits[:3]))
    answer_map = get_drum_map(str(result.get("drum_map") or "gm"))
    for info in result["files"]:
        print()
        print(info["name"])
        print(render_grid(as_played_on(_notes_in_gm(info["notes"], answer_map), answer_map)))
        print(f"→ {info['path']}")
    for line in _failure_lines(result.get("attempts") or [], requested_provider):
        print(line, file=sys.stderr)
    print(
        f"\n{plural(len(result['files']), 'file')} in {result['generation_time_ms']:.0f} ms"
        f" ({result['provider_used']}, via the daemon)",
        file=sys.stdout,
    )
