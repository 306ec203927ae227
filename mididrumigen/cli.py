"""The `mididrumigen` command line: generate, analyze, library and friends.

Heavy modules are imported inside each command so that `generate` starts fast.
"""

from __future__ import annotations

import argparse
import dataclasses
import errno
import json
import os
import stat
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from mididrumigen.errors import UserError

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"mididrumigen: error: {message} (see --help)\n")


def plural(count: int, noun: str) -> str:
    """'1 bar', '4 bars': a count with its noun."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _load_settings() -> Any:
    from mididrumigen.settings import Settings

    return Settings.load()


# ---------------------------------------------------------------- user paths

# What an OSError on a path the user typed means, in their words (strerror reads "Errno 36"-ish).
_PATH_PROBLEMS = {
    errno.ENAMETOOLONG: "the name is too long",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ELOOP: "too many levels of symbolic links (a loop?)",
}
_SHOWN_CHARS = 100


def _shown(path: Path) -> str:
    """A path for a one-line message, its middle cut out if it is very long."""
    text = str(path)
    return text if len(text) <= _SHOWN_CHARS else f"{text[:60]}…{text[-(_SHOWN_CHARS - 61) :]}"


def _os_reason(exc: OSError) -> str:
    """Why an OSError happened, in words."""
    return _PATH_PROBLEMS.get(exc.errno or 0) or (exc.strerror or str(exc)).lower()


def _stat_user_path(path: Path, what: str) -> os.stat_result | None:
    """Stat a path the user typed: None if nothing is there, UserError (one line) if it cannot be looked at."""
    try:
        return path.stat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise UserError(f"cannot use {what} {_shown(path)}: {_os_reason(exc)}") from None


# ---------------------------------------------------------------- generate


def _add_generate(sub: Any) -> None:
    p = sub.add_parser(
        "generate",
        help="write drum MIDI in a drummer's style (offline by default)",
        description="Generate drum grooves in the style of a drummer or a named style.",
    )
    p.add_argument("artist", nargs="?", help="drummer name, e.g. 'John Bonham' (optional with --style)")
    p.add_argument("--style", help="style key, e.g. funk, jazz_swing, trap (see `mididrumigen styles`)")
    p.add_argument("--bars", type=int, default=None, help="bars per clip, 1-16 (default 4)")
    p.add_argument("--variations", type=int, default=None, help="number of clips, 1-8 (default 4)")
    p.add_argument("--tempo", type=float, default=None, help="tempo in BPM, 40-300 (default: the drummer's)")
    p.add_argument("--time-signature", default=None, help="4/4, 3/4, 5/4, 6/8, 7/8 or 12/8")
    p.add_argument(
        "--drum-map", default=None, help="gm, ableton, ezdrummer, superior, ad2, logic, roland or a map file"
    )
    p.add_argument("--seed", type=int, default=None, help="seed for reproducible output")
    p.add_argument("--humanize", type=float, default=None, help="0 (quantized) to 1 (fully played)")
    p.add_argument(
        "--provider", default="auto", help="auto, anthropic, google, openai, local or groove-engine"
    )
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="folder to write the files in (default: generated/<drummer or style>/ in the user data dir,"
        " or in the output_dir setting); runs in-process, not through the daemon",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object instead of grids")
    from mididrumigen.daemon_cli import add_daemon_option

    add_daemon_option(p)
    p.set_defaults(func=_cmd_generate)


def _build_request(args: argparse.Namespace, settings: Any) -> Any:
    from mididrumigen.generation.request import GenerationRequest
    from mididrumigen.midi.notes import parse_time_signature

    return GenerationRequest(
        artist=args.artist,
        style=args.style,
        bars=args.bars if args.bars is not None else settings["default_bars"],
        variations=args.variations if args.variations is not None else settings["default_variations"],
        tempo_bpm=args.tempo,
        time_signature=parse_time_signature(args.time_signature) if args.time_signature else None,
        drum_map=args.drum_map or settings["default_drum_map"],
        seed=args.seed,
        humanize=args.humanize if args.humanize is not None else settings["default_humanize"],
        provider=args.provider,
    )


def _open_library(settings: Any) -> Any:
    """Return the template library if the user has added one, else None."""
    index = settings.data_dir / "library.json"
    if not index.exists():
        return None
    from mididrumigen.generation.library import TemplateLibrary

    return TemplateLibrary.open(index)


def _stored_profile(settings: Any, name: str) -> Any:
    """A researched profile from the store, or None (the store is opened only if it exists)."""
    from mididrumigen.app import DATABASE_FILE

    path = settings.data_dir / DATABASE_FILE
    if not path.exists():
        return None
    import asyncio

    from mididrumigen.store import Store

    async def lookup() -> Any:
        store = await Store.open(path)
        try:
            return await store.get_profile(name)
        finally:
            await store.close()

    return asyncio.run(lookup())


def _resolve_profile(settings: Any, name: str) -> Any:
    """A researched profile first (research refines the built-in ones), then the built-in knowledge."""
    from mididrumigen.errors import UnknownArtistError
    from mididrumigen.research.drummers import find_builtin, researched_or_builtin

    try:
        builtin = find_builtin(name)
    except UnknownArtistError as exc:
        stored = _stored_profile(settings, name)
        if stored is not None:
            return stored
        from mididrumigen.research.commands import with_research_hint

        raise with_research_hint(exc, name) from None
    return researched_or_builtin(_stored_profile(settings, builtin.artist_name), builtin)


def _cmd_generate(args: argparse.Namespace) -> int:
    from mididrumigen.daemon_cli import generate_via_daemon

    via_daemon = generate_via_daemon(args)  # a running daemon shares cache and history
    if via_daemon is not None:
        return via_daemon
    started = time.perf_counter()
    settings = _load_settings()
    request = _build_request(args, settings)
    from mididrumigen.midi.drum_maps import get_drum_map

    drum_map = get_drum_map(request.drum_map)  # fail before any work on a bad map name or file; read it once
    profile = None
    if request.artist is not None:
        profile = _resolve_profile(settings, request.artist)
        # Name clips after the drummer, not after what was typed ("jon bonham").
        request = dataclasses.replace(request, artist=profile.artist_name)
    if request.style is not None:
        from mididrumigen.generation.styles import get_style

        get_style(request.style)
    from mididrumigen.generation.groove_engine import generate_grooves
    from mididrumigen.generation.output import artist_folder, write_clips

    provider_used, attempts = "groove-engine", []
    if _wants_llm(request, settings):
        import asyncio

        from mididrumigen.generation.coordinator import generate_once

        outcome = asyncio.run(generate_once(settings, profile, request, _open_library(settings)))
        clips, provider_used = outcome.clips, outcome.provider_used
        attempts = [a.to_json() for a in outcome.attempts]
    else:
        clips = generate_grooves(request, profile=profile, library=_open_library(settings))
    label = profile.artist_name if profile is not None else str(request.style)
    out_dir = args.out if args.out is not None else artist_folder(settings.output_dir, label)
    _stat_user_path(out_dir, "output folder")  # a loop of links or a too-long name, as one line
    paths = write_clips(clips, out_dir, label, drum_map=drum_map)
    elapsed_ms = (time.perf_counter() - started) * 1000.0
    first = clips[0]
    if args.json:
        result = {
            "artist": profile.artist_name if profile is not None else None,
            "style": first.meta.get("style", request.style),
            "profile": profile.to_json() if profile is not None else None,
            "files": [str(p) for p in paths],
            "tempo": round(first.tempo_bpm, 3),
            "time_signature": list(first.time_signature),
            "bars": request.bars,
            "variations": len(clips),
            "seed": first.meta.get("seed"),
            "drum_map": request.drum_map,
            "generation_time_ms": round(elapsed_ms, 2),
            "provider_used": provider_used,
            "attempts": attempts,
        }
        print(json.dumps(result, indent=2))
        return 0
    from mididrumigen.midi.grid import render_grid

    num, den = first.time_signature
    who = profile.artist_name if profile is not None else "Style"
    print(
        f"{who} · {first.meta.get('style', request.style)} · {first.tempo_bpm:g} BPM · {num}/{den}"
        f" · {plural(request.bars, 'bar')} · seed {first.meta.get('seed')}"
    )
    if profile is not None and profile.signature_traits:
        print("  " + "; ".join(profile.signature_traits[:3]))
    for clip, path in zip(clips, paths, strict=True):
        print()
        print(clip.name)
        print(render_grid(as_played_on(clip, drum_map)))
        print(f"→ {path}")
    for line in _failure_lines(attempts, request.provider):
        print(line, file=sys.stderr)
    print(f"\n{plural(len(paths), 'file')} in {elapsed_ms:.0f} ms ({provider_used})")
    return 0


def as_played_on(clip: Any, drum_map: Any) -> Any:
    """The clip as the file plays it on the drum map's kit (name, file or DrumMap): a missing piece on its substitute."""
    from mididrumigen.generation.output import fit_clip_to_kit
    from mididrumigen.midi.drum_maps import get_drum_map

    return fit_clip_to_kit(clip, set(get_drum_map(drum_map).pitch_by_piece))[0]


def _failure_lines(attempts: list[dict[str, Any]], requested: str) -> list[str]:
    """One line per distinct failed or skipped attempt (variations run in parallel and often fail alike).

    A provider skipped for want of a key says how to add one when it was asked for by name; on
    auto it is left out: a provider without a key is one the user has not set up, not a failure.
    """
    failures = {(a["provider"], a["outcome"], a["reason"]) for a in attempts if a["outcome"] != "ok"}
    if not failures:
        return []
    from mididrumigen.generation.providers.base import NO_API_KEY  # attempts: the providers are loaded

    lines = []
    for provider, outcome, reason in sorted(failures):
        if reason == NO_API_KEY:
            if provider != requested:
                continue
            reason = f"no API key; add one with: mididrumigen keys set {provider}"
        lines.append(f"  {provider}: {outcome} ({reason})")
    return lines


def _wants_llm(request: Any, settings: Any) -> bool:
    """Use the LLM coordinator when a provider is named, or on auto when one is configured."""
    if request.provider == "groove-engine":
        return False
    if request.provider != "auto":
        return True  # the coordinator says why if it cannot, then falls back to the engine
    from mididrumigen.keys import llm_configured

    return llm_configured(settings)


# ---------------------------------------------------------------- providers


def _add_providers(sub: Any) -> None:
    p = sub.add_parser(
        "providers", help="show which LLM providers are configured and reachable (keys hidden)"
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_cmd_providers)


def _cmd_providers(args: argparse.Namespace) -> int:
    import asyncio

    from mididrumigen.generation.providers.status import provider_status

    rows = asyncio.run(provider_status(_load_settings()))
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        order = f"#{row['order']}" if row["order"] else "--"
        configured = f"configured ({row['key_source']})" if row["configured"] else "not configured"
        reach = (
            f"reachable (HTTP {row['http_status']})" if row["reachable"] else f"unreachable: {row['error']}"
        )
        print(
            f"{order:>3} {row['provider']:<10} {configured:<38} {reach:<32} {row['model']} @ {row['base_url']}"
        )
    return 0


# ---------------------------------------------------------------- analyze


def _add_analyze(sub: Any) -> None:
    p = sub.add_parser("analyze", help="measure tempo, swing, ghost notes and feel of a drum MIDI file")
    p.add_argument("file", type=Path, help="a .mid file")
    p.add_argument(
        "--trust-tempo", action="store_true", help="use the file's tempo event instead of estimating"
    )
    p.add_argument(
        "--drum-map",
        default=None,
        help="the kit the file was made for: gm (default), ableton, ezdrummer, superior, ad2, logic, roland"
        " or a map file",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_cmd_analyze)


# analyze --drum-map: the notes on pitches the map does not know are named when they are this share or more.
UNMAPPED_NOTICE_SHARE = 0.1


def _cmd_analyze(args: argparse.Namespace) -> int:
    from mididrumigen.analysis.midi_features import analyze_clip
    from mididrumigen.midi.drum_maps import clip_in_gm, get_drum_map, likely_drum_map
    from mididrumigen.midi.smf import read_midi_file

    path: Path = args.file
    drum_map = get_drum_map(args.drum_map) if args.drum_map is not None else None  # a bad map before any work
    found = _stat_user_path(path, "file")
    if found is None:
        raise UserError(f"no such file: {_shown(path)}")
    if stat.S_ISDIR(found.st_mode):
        raise UserError(f"{_shown(path)} is a folder, not a MIDI file")
    if not stat.S_ISREG(found.st_mode):
        raise UserError(f"{_shown(path)} is not a regular file")
    clip = read_midi_file(path)
    hint, unmapped = None, 0
    if drum_map is None:
        hint = likely_drum_map(n.pitch for n in clip.notes)
        if hint is not None:
            _say_hint(clip, hint)
    else:
        clip, unknown = clip_in_gm(clip, drum_map)
        unmapped = sum(unknown.values())
        _say_unmapped(unknown, len(clip.notes), drum_map.name)
    try:
        features = analyze_clip(clip, trust_tempo=args.trust_tempo)
    except ValueError as exc:
        if hint is None:
            raise
        raise UserError(f"{exc} (or made for another kit: try --drum-map {hint.name})") from None
    data = features.to_json()
    data["drum_map"] = drum_map.name if drum_map is not None else "gm"
    data["unmapped_notes"] = unmapped
    data["drum_map_hint"] = hint.name if hint is not None else None
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    _print_features(path, data)
    return 0


def _say_hint(clip: Any, hint: Any) -> None:
    """On stderr, one line: the file reads oddly as General MIDI, and which map would read it."""
    from mididrumigen.midi.kit import kit_class_of_pitch

    outside = sum(kit_class_of_pitch(n.pitch) is None for n in clip.notes) / len(clip.notes)
    print(
        f"hint: read as General MIDI, {100.0 * outside:.0f} % of these notes are on no drum-kit piece and no"
        f" hi-hat or ride keeps time; made for {hint.description}? add --drum-map {hint.name}",
        file=sys.stderr,
    )


def _say_unmapped(unknown: Counter[int], notes: int, map_name: str) -> None:
    """On stderr: how many notes the drum map has no kit piece for, when they are many (UserError when all)."""
    count = sum(unknown.values())
    pitches = ", ".join(f"{pitch} ({times}x)" for pitch, times in unknown.most_common(4))
    more = ", ..." if len(unknown) > 4 else ""
    if notes and count == notes:
        raise UserError(
            f"none of the {plural(notes, 'note')} is on a pitch the {map_name} drum map knows"
            f" (pitches {pitches}{more}): is it the map of the kit the file was made for?"
        )
    if count and count >= UNMAPPED_NOTICE_SHARE * notes:
        print(
            f"note: {count} of {plural(notes, 'note')} ({100.0 * count / notes:.0f} %) are on pitches the"
            f" {map_name} drum map does not know ({pitches}{more}): their timing counts, as percussion"
            " outside the kit",
            file=sys.stderr,
        )


def _print_features(path: Path, data: dict[str, Any]) -> None:
    """The analysis as a musician reads it: headline numbers, then one row per kit piece."""
    num, den = data["time_signature"]
    tempo_from = "estimated from the playing" if data["tempo_source"] == "estimated" else "from the file"
    print(path.name)
    alternatives = " or ".join(f"{bpm:.1f}" for bpm in data.get("tempo_alternatives_bpm", []))
    heard_as = f"; could also be counted at {alternatives}" if alternatives else ""
    print(f"  tempo        {data['tempo_bpm']:.1f} BPM ({tempo_from}{heard_as})")
    print(f"  meter        {num}/{den} ({data['meter_source']})")
    print(
        f"  swing        8ths {data['swing_percent']:.1f} % (ratio {data['swing_ratio']:.2f}),"
        f" 16ths {data['swing_percent_16th']:.1f} %"
    )
    print(f"  ghost notes  {data['ghost_note_share'] * 100:.0f} % of snare hits")
    print(f"  syncopation  {data['syncopation']:.2f}")
    fill_bars = [str(bar + 1) for bar in data["fill_bars"]]
    if not fill_bars:
        fills = "no fills"
    elif len(fill_bars) == 1:
        fills = f"fill in bar {fill_bars[0]}"
    else:
        fills = f"fills in bars {', '.join(fill_bars)}"
    print(f"  bars         {data['bars']} ({fills})")
    if data.get("drum_map", "gm") != "gm":
        print(f"  drum map     {data['drum_map']} (read as General MIDI)")
    print(f"  {'kit piece':<14}{'hits/bar':>9}  {'velocity':>11}  {'timing ms (+ late)':>19}")
    for piece, hits in data["hits_per_bar"].items():
        velocity = data["velocity"].get(piece, {})
        timing = data["microtiming_ms"].get(piece, {})
        print(
            f"  {piece:<14}{hits:>9.2f}  {velocity.get('mean', 0):>5.0f} ± {velocity.get('std', 0):<3.0f}"
            f"  {timing.get('mean', 0):>+8.1f} ± {timing.get('std', 0):<5.1f}"
        )


# ---------------------------------------------------------------- library


def _add_library(sub: Any) -> None:
    p = sub.add_parser("library", help="index MIDI template folders (e.g. the Groove MIDI Dataset)")
    lib = p.add_subparsers(dest="library_command", required=True, parser_class=_Parser)
    add = lib.add_parser("add", help="index a folder of drum MIDI files")
    add.add_argument("folder", type=Path)
    add.set_defaults(func=_cmd_library_add)
    show = lib.add_parser("list", help="show indexed styles and counts")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=_cmd_library_list)


def _cmd_library_add(args: argparse.Namespace) -> int:
    folder: Path = args.folder
    found = _stat_user_path(folder, "folder")
    if found is None:
        raise UserError(f"no such folder: {_shown(folder)}")
    if not stat.S_ISDIR(found.st_mode):
        raise UserError(
            f"{_shown(folder)} is a file, not a folder; give the folder that holds the MIDI files"
        )
    settings = _load_settings()
    from rich.progress import Progress

    from mididrumigen.generation.library import TemplateLibrary

    library = TemplateLibrary.open(settings.data_dir / "library.json")
    with Progress(transient=True) as progress:
        task = progress.add_task(f"indexing {folder.name}", total=None)

        def report(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        try:
            added = library.add_folder(folder, progress=report)
        except OSError as exc:  # a subfolder or file we may not read, or one that vanished meanwhile
            raise UserError(f"cannot index {_shown(folder)}: {_os_reason(exc)}") from None
    if added == 0:
        raise UserError(f"no drum MIDI files (.mid, .midi) to index in {_shown(folder)} or its subfolders")
    # Generation draws on the beats; the fills are indexed too but are not templates, so they are counted apart.
    beats, fills = sum(library.styles("beat").values()), sum(library.styles("fill").values())
    print(
        f"indexed {plural(added, 'file')} from {folder}; the library now has {plural(beats, 'beat')}"
        f" to draw on (and {plural(fills, 'fill')})"
    )
    return 0


def _cmd_library_list(args: argparse.Namespace) -> int:
    settings = _load_settings()
    from mididrumigen.generation.library import TemplateLibrary

    styles = TemplateLibrary.open(settings.data_dir / "library.json").styles()
    if args.json:
        print(json.dumps(styles, indent=2))
    elif not styles:
        print("the library is empty: add a folder with `mididrumigen library add DIR`")
    else:
        for style, count in sorted(styles.items()):
            print(f"{style:<18} {count}")
    return 0


# ---------------------------------------------------------------- listings


def _add_listings(sub: Any) -> None:
    p = sub.add_parser("styles", help="list the groove engine's styles")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_styles)
    p = sub.add_parser("drummers", help="list the built-in drummers")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_drummers)
    p = sub.add_parser("drum-maps", help="list the drum maps for written files")
    p.set_defaults(func=_cmd_drum_maps)


def _cmd_styles(args: argparse.Namespace) -> int:
    from mididrumigen.generation.styles import STYLES

    if args.json:
        print(json.dumps(sorted(STYLES), indent=2))
        return 0
    for key in sorted(STYLES):
        style = STYLES[key]
        title = getattr(style, "title", key)
        print(f"{key:<18} {title}")
    return 0


def _cmd_drummers(args: argparse.Namespace) -> int:
    from mididrumigen.research.drummers import builtin_profiles

    profiles = builtin_profiles()
    if args.json:
        print(json.dumps({name: p.styles for name, p in sorted(profiles.items())}, indent=2))
        return 0
    for name, profile in sorted(profiles.items()):
        q = profile.quantitative_params
        print(f"{name:<26} {', '.join(profile.styles[:3]):<36} {q.tempo_min:g}-{q.tempo_max:g} BPM")
    return 0


def _cmd_drum_maps(args: argparse.Namespace) -> int:
    from mididrumigen.midi.drum_maps import DRUM_MAP_NAMES, get_drum_map

    for name in DRUM_MAP_NAMES:
        print(f"{name:<10} {get_drum_map(name).description}")
    return 0


# ---------------------------------------------------------------- research (mididrumigen/research/commands.py)


def _add_research(sub: Any) -> None:
    from mididrumigen.research.commands import add_commands

    add_commands(sub, _Parser)


# ---------------------------------------------------------------- daemon (mididrumigen/daemon_cli.py)


def _add_daemon(sub: Any) -> None:
    from mididrumigen.daemon_cli import add_commands

    add_commands(sub, _Parser)


# ---------------------------------------------------------------- keys


def _add_keys(sub: Any) -> None:
    p = sub.add_parser("keys", help="store, list or remove LLM API keys (never printed)")
    keys = p.add_subparsers(dest="keys_command", required=True, parser_class=_Parser)
    show = keys.add_parser("list", help="which providers have a key, and where it comes from")
    show.set_defaults(func=_cmd_keys_list)
    store = keys.add_parser("set", help="store a key (read from the terminal or standard input)")
    store.add_argument("provider", choices=("anthropic", "google", "openai", "local"))
    store.set_defaults(func=_cmd_keys_set)
    remove = keys.add_parser("delete", help="remove a stored key")
    remove.add_argument("provider", choices=("anthropic", "google", "openai", "local"))
    remove.set_defaults(func=_cmd_keys_delete)


def _cmd_keys_list(args: argparse.Namespace) -> int:
    from mididrumigen.keys import key_status

    for provider, status in key_status().items():
        where = status["source"] or "not set"
        print(f"{provider:<10} {where}")
    return 0


def _cmd_keys_set(args: argparse.Namespace) -> int:
    import getpass

    from mididrumigen.keys import set_key

    # Never from argv: command lines end up in shell history and process lists.
    key = getpass.getpass(f"{args.provider} API key: ") if sys.stdin.isatty() else sys.stdin.readline()
    set_key(args.provider, key.strip())
    print(f"stored the {args.provider} key (file readable by you only)")
    return 0


def _cmd_keys_delete(args: argparse.Namespace) -> int:
    from mididrumigen.keys import delete_key

    if not delete_key(args.provider):
        raise UserError(f"no stored {args.provider} key")
    print(f"removed the stored {args.provider} key")
    return 0


# ---------------------------------------------------------------- main

COMMAND_ADDERS: tuple[Callable[[Any], None], ...] = (
    _add_generate,
    _add_analyze,
    _add_library,
    _add_listings,
    _add_keys,
    _add_research,
    _add_daemon,
    _add_providers,
)


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every subcommand."""
    from mididrumigen import __version__

    parser = _Parser(prog="mididrumigen", description="Drum MIDI in a drummer's style.")
    parser.add_argument("--version", action="version", version=f"mididrumigen {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for add in COMMAND_ADDERS:
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; bad input is one line on stderr and exit code 2."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except UserError as exc:
        print(f"mididrumigen: error: {_one_line(exc.message)}", file=sys.stderr)
        return EXIT_USAGE
    except ValueError as exc:
        print(f"mididrumigen: error: {_one_line(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        # The reader went away (`mididrumigen drummers | head`): not an error worth a word.
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("mididrumigen: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: still one line, unless the user asks for the traceback
        if os.environ.get("MIDIDRUMIGEN_DEBUG"):
            raise
        print(f"mididrumigen: internal error: {type(exc).__name__}: {_one_line(str(exc))}", file=sys.stderr)
        return 1


def _one_line(message: str) -> str:
    """A message on one line: a daemon's task error can hold a collector's multi-line dump."""
    return " ".join(message.split())
