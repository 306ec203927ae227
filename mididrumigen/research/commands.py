"""CLI commands for research: `research ARTIST`, `profiles list|show`, `similar ARTIST` (wired in cli.py)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shlex
import sys
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from mididrumigen.errors import UnknownArtistError

COLLECTOR_LABELS = {"papers": "papers", "articles": "articles", "audio": "audio", "midi": "MIDI"}


def add_commands(sub: Any, parser_class: type[argparse.ArgumentParser] = argparse.ArgumentParser) -> None:
    """Add the research subcommands to the CLI's subparsers (imports stay light)."""
    p = sub.add_parser("research", help="research any drummer: papers, articles, recordings and MIDI files")
    p.add_argument("artist")
    p.add_argument(
        "--only", default="", help="comma-separated collectors to run (papers,articles,audio,midi)"
    )
    p.add_argument("--json", action="store_true", help="print the summary as JSON (no progress bars)")
    p.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="also print the log: each service that could not be reached, retries, collector failures",
    )
    p.set_defaults(func=cmd_research)

    p = sub.add_parser("profiles", help="list or show cached drummer profiles")
    profiles = p.add_subparsers(dest="profiles_command", required=True, parser_class=parser_class)
    show = profiles.add_parser("show", help="show one drummer's profile and its sources")
    show.add_argument("artist")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=cmd_profiles_show)
    listing = profiles.add_parser("list", help="list cached profiles with their confidence")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=cmd_profiles_list)

    p = sub.add_parser("similar", help="drummers whose profiles are closest to ARTIST's")
    p.add_argument("artist")
    p.add_argument("--limit", type=int, default=10)
    p.add_argument("--json", action="store_true")
    from mididrumigen.daemon_cli import add_daemon_option

    add_daemon_option(p)
    p.set_defaults(func=cmd_similar)


def _with_app(work: Callable[[Any], Awaitable[int]]) -> int:
    """Open the App (store, shared HTTP session), run work, close everything."""

    async def run() -> int:
        from mididrumigen.app import App
        from mididrumigen.settings import Settings

        app = await App.create(Settings.load())
        try:
            return await work(app)
        finally:
            await app.close()

    return asyncio.run(run())


@contextlib.contextmanager
def research_log(verbose: bool) -> Iterator[None]:
    """The terminal's share of research's log while it runs.

    A service that cannot be reached is in the collector's progress line, the summary table or the
    final error already: its warnings (mididrumigen.research.http) would only repeat that before the
    bars. Verbose shows the whole research log (info and up) on stderr instead; the daemon logs as before.
    """
    import logging

    root = logging.getLogger("mididrumigen.research")
    http_log = logging.getLogger("mididrumigen.research.http")
    if verbose:
        handler: logging.Handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        saved = root.level
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        try:
            yield
        finally:
            root.removeHandler(handler)
            root.setLevel(saved)
        return
    # Without a handler of its own a record reaches logging's last resort (stderr, warnings and up): give
    # the HTTP warnings a quiet one instead, for this command only.
    quiet = logging.NullHandler()
    http_log.addHandler(quiet)
    http_log.propagate = False
    try:
        yield
    finally:
        http_log.propagate = True
        http_log.removeHandler(quiet)


def cmd_research(args: argparse.Namespace) -> int:
    """`mididrumigen research ARTIST`: live progress per collector, then a summary."""
    from mididrumigen.files import validate_artist_name

    artist = validate_artist_name(args.artist)
    only = [name.strip() for name in args.only.split(",") if name.strip()]

    async def work(app: Any) -> int:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        from mididrumigen.research.collectors.base import collector_classes
        from mididrumigen.research.orchestrator import research_deps, run_research

        deps = research_deps(app)
        deps.collectors = list(collector_classes(only or None))
        console = Console(stderr=True)
        if args.json:
            outcome = await run_research(deps, artist)
        else:
            columns = (
                TextColumn("{task.fields[label]:<9}"),
                BarColumn(),
                TextColumn("{task.percentage:>3.0f}%"),
                TimeElapsedColumn(),
                TextColumn("{task.description}"),
            )
            with Progress(*columns, console=console, transient=False) as progress:
                tasks = {
                    name: progress.add_task("waiting", total=100, label=COLLECTOR_LABELS.get(name, name))
                    for name in deps.collectors
                }

                def report(name: str, fraction: float, text: str) -> None:
                    if name in tasks:
                        progress.update(tasks[name], completed=100 * fraction, description=text[:60])

                outcome = await run_research(deps, artist, on_progress=report)
        summary = outcome.summary()
        if args.json:
            print(json.dumps(summary, indent=2))
        else:
            print_summary(summary)
        return 0

    with research_log(getattr(args, "verbose", False)):
        return _with_app(work)


def print_summary(summary: dict[str, Any]) -> None:
    """What research found, as a few readable lines."""
    from rich.console import Console
    from rich.table import Table

    from mididrumigen.profile import USABLE_CONFIDENCE

    console = Console()
    table = Table(title=f"research: {summary['artist']}", show_lines=False)
    for column in ("collector", "status", "sources", "seconds", "detail"):
        table.add_column(column)
    for item in summary["collectors"]:
        table.add_row(
            COLLECTOR_LABELS.get(item["name"], item["name"]),
            item["status"],
            str(item["sources"]),
            f"{item['seconds']:.1f}",
            item["error"][:70],
        )
    console.print(table)
    low, typical, high = summary["tempo_bpm"]
    usable = "usable" if summary["confidence"] >= USABLE_CONFIDENCE else "below the usable threshold 0.6"
    counts = ", ".join(f"{kind} {n}" for kind, n in summary["sources_count"].items())
    console.print(f"styles: {', '.join(summary['styles'])}")
    console.print(f"tempo: {low:g}-{high:g} BPM (typical {typical:g}); swing {summary['swing_percent']:g}%")
    console.print(f"sources: {counts} ({summary['new_sources']} new, {summary['known_sources']} known)")
    console.print(f"confidence: {summary['confidence']:.2f} ({usable}); took {summary['seconds']:.1f} s")
    for note in summary["notes"][:8]:
        console.print(f"  note: {note}", style="dim", markup=False)


def research_command(artist: str) -> str:
    """The command that researches artist, with the name as typed and quoted for a shell."""
    return f"mididrumigen research {shlex.quote(artist)}"


def with_research_hint(exc: UnknownArtistError, artist: str) -> UnknownArtistError:
    """An unknown-artist error with the command that researches the name added (ambiguous names get none)."""
    if exc.code == "unknown_artist":
        exc.message += f" (or research it first: {research_command(artist)})"
        exc.args = (exc.message,)
    return exc


async def _profile_or_builtin(app: Any, artist: str) -> Any:
    from mididrumigen.research.orchestrator import builtin_for

    profile = await app.store.get_profile(artist)
    if profile is None:
        builtin = builtin_for(artist)
        profile = await app.store.get_profile(builtin.artist_name) if builtin is not None else None
        profile = profile or builtin
    if profile is None:
        raise unknown_artist(artist)
    return profile


def unknown_artist(artist: str) -> UnknownArtistError:
    """The error for a name with no profile, as `generate` gives it: close built-in names, then how to research it."""
    from mididrumigen.research.drummers import suggest_names

    return with_research_hint(UnknownArtistError(artist, suggest_names(artist)), artist)


def cmd_profiles_show(args: argparse.Namespace) -> int:
    """`mididrumigen profiles show ARTIST`."""

    async def work(app: Any) -> int:
        profile = await _profile_or_builtin(app, args.artist)
        sources = await app.store.list_research_sources(profile.artist_name)
        if args.json:
            print(json.dumps({"profile": profile.to_json(), "sources": sources}, indent=2))
            return 0
        q = profile.quantitative_params
        print(f"{profile.artist_name}  (confidence {profile.confidence_score:.2f})")
        print(profile.text_description)
        print(f"styles: {', '.join(profile.styles)}")
        if profile.genres:
            print(f"genres: {', '.join(profile.genres)}")
        if profile.signature_traits:
            print(f"traits: {'; '.join(profile.signature_traits)}")
        print(
            f"tempo: {q.tempo_min:g}-{q.tempo_max:g} BPM (typical {q.tempo_typical:g}); swing {q.swing_percent:g}% "
            f"(ratio {q.swing_ratio:.2f}); ghost notes {q.ghost_note_prob:.2f}"
        )
        print(
            f"velocity: mean {q.velocity_mean:g}, std {q.velocity_std:g}; timing jitter {q.timing_jitter_ms:g} ms"
        )
        if q.microtiming_ms:
            print("microtiming: " + ", ".join(f"{k} {v:+g} ms" for k, v in q.microtiming_ms.items()))
        print("sources: " + ", ".join(f"{k} {v}" for k, v in profile.sources_count.items()))
        for source in sources[:20]:
            print(
                f"  [{source['kind']}] {source['title'][:70]}  {source['url']}  ({source['confidence']:.2f})"
            )
        return 0

    return _with_app(work)


def cmd_profiles_list(args: argparse.Namespace) -> int:
    """`mididrumigen profiles list`."""

    async def work(app: Any) -> int:
        rows = [row for row in await app.store.list_artists() if row.has_profile]
        if args.json:
            print(json.dumps([row.to_json() for row in rows], indent=2))
        elif not rows:
            print("no cached profiles yet: run `mididrumigen research ARTIST`")
        for row in rows if not args.json else []:
            print(
                f"{row.name:<28} {row.origin:<9} confidence {row.confidence:.2f}  sources {row.sources_count}"
            )
        return 0

    return _with_app(work)


def cmd_similar(args: argparse.Namespace) -> int:
    """`mididrumigen similar ARTIST`: nearest drummers by style embedding."""
    if not 1 <= args.limit <= 100:
        raise ValueError("--limit must be from 1 to 100")
    from mididrumigen.daemon_cli import daemon_client
    from mididrumigen.errors import NotFoundError

    client = daemon_client(args.daemon)
    if client is not None:  # a running daemon owns the store: ask it
        try:
            rows = client.similar(args.artist, args.limit)
        except NotFoundError:
            raise unknown_artist(args.artist) from None
        if args.json:
            print(json.dumps(rows, indent=2))
        for row in [] if args.json else rows:
            print(f"{row['artist']:<28} similarity {row['similarity']:.3f}")
        return 0

    async def work(app: Any) -> int:
        from mididrumigen.research.drummers import builtin_profiles
        from mididrumigen.research.orchestrator import similar_artists

        await app.store.save_builtin_profiles(builtin_profiles().values())
        try:
            found = await similar_artists(app, args.artist, args.limit)
        except NotFoundError:
            raise unknown_artist(args.artist) from None
        if args.json:
            print(json.dumps([item.to_json() for item in found], indent=2))
            return 0
        for item in found:
            print(f"{item.name:<28} similarity {1.0 - item.distance:.3f}")
        return 0

    return _with_app(work)
