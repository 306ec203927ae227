"""Write generated clips as .mid files: every file whole or none at all."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from mididrumigen.errors import UserError
from mididrumigen.files import safe_slug, write_atomic
from mididrumigen.midi.kit import GM_PITCH_BY_PIECE
from mididrumigen.midi.notes import Clip, Note

if TYPE_CHECKING:
    from mididrumigen.midi.drum_maps import DrumMap

# When a target kit lacks a piece, the closer pieces a drummer would reach for instead, nearest
# first. They are followed on (a floor tom falls to the low tom, then the mid, ...) until the kit
# has one; only kick, snare and closed hi-hat have none: a kit without them cannot play a groove.
SUBSTITUTES: dict[str, tuple[str, ...]] = {
    "crash": ("crash2", "china", "splash", "ride", "hihat_open"),
    "crash2": ("crash",),
    "china": ("crash2", "crash"),
    "splash": ("crash2", "crash"),
    "ride": ("ride_bell", "hihat_closed"),  # the ride's time on the hats, as on a kit without one
    "ride_bell": ("ride", "cowbell"),
    "hihat_open": ("hihat_closed",),
    "hihat_pedal": ("hihat_closed",),
    "tom_high": ("tom_mid", "snare"),
    "tom_mid": ("tom_high", "tom_low", "snare"),
    "tom_low": ("tom_mid", "tom_floor"),
    "tom_floor": ("tom_low", "tom_mid"),
    "clap": ("snare_rim", "snare"),
    "snare_rim": ("snare",),
    "cross_stick": ("snare_rim", "snare"),
    "cowbell": ("ride_bell", "ride"),
    "tambourine": ("hihat_open", "hihat_closed"),
    "shaker": ("hihat_closed",),
    "clave": ("cross_stick", "snare_rim"),
    "conga_high": ("tom_high",),
    "conga_low": ("tom_floor", "tom_low"),
    "timbale_high": ("tom_high",),
    "timbale_low": ("tom_mid",),
}


def closest_piece(piece: str, available_pieces: set[str]) -> str | None:
    """The nearest substitute for piece that the kit has (fewest steps through SUBSTITUTES), or None."""
    seen = {piece}
    frontier = [piece]
    while frontier:
        following: list[str] = []
        for current in frontier:
            for candidate in SUBSTITUTES.get(current, ()):
                if candidate in seen:
                    continue
                if candidate in available_pieces:
                    return candidate
                seen.add(candidate)
                following.append(candidate)
        frontier = following
    return None


def clip_file_name(label: str, clip: Clip, index: int, stamp: str) -> str:
    """Name a clip's file from sanitised parts only: never raw user text."""
    style = safe_slug(str(clip.meta.get("style", "")), fallback="groove", max_chars=24)
    tempo = f"{round(clip.tempo_bpm):d}bpm"
    who = safe_slug(label, fallback="drums", max_chars=40)
    # A style without an artist is labelled by the style itself: name it once ("funk-98bpm", not "funk-funk").
    parts = [who] if who.lower() == style.lower() else [who, style]
    return "-".join([*parts, tempo, stamp, f"v{index}"]) + ".mid"


def fit_clip_to_kit(clip: Clip, available_pieces: set[str]) -> tuple[Clip, dict[str, str]]:
    """Move hits on pieces the kit lacks to their closest substitute (GM pitches in and out)."""
    piece_by_pitch = {pitch: piece for piece, pitch in GM_PITCH_BY_PIECE.items()}
    moves: dict[int, int] = {}
    substitutions: dict[str, str] = {}
    for pitch in {n.pitch for n in clip.notes}:
        piece = piece_by_pitch.get(pitch)
        if piece is None or piece in available_pieces:
            continue
        substitute = closest_piece(piece, available_pieces)
        if substitute is not None:
            moves[pitch] = GM_PITCH_BY_PIECE[substitute]
            substitutions[piece] = substitute
    if not moves:
        return clip, {}
    notes = [Note(moves.get(n.pitch, n.pitch), n.velocity, n.time, n.duration) for n in clip.notes]
    return replace(clip, notes=notes, meta={**clip.meta, "substitutions": substitutions}), substitutions


def artist_folder(output_dir: Path, label: str) -> Path:
    """Where generated files go when no folder is given: one subfolder per drummer (or style) of the output
    folder, e.g. generated/John_Bonham/, for the CLI and the daemon alike."""
    return output_dir / safe_slug(label, fallback="drums", max_chars=40)


def clips_on_kit(clips: list[Clip], drum_map: str | DrumMap | None) -> list[Clip]:
    """The clips (General MIDI pitches) as a file for the drum map (a name, file or DrumMap) plays them: a
    piece the kit lacks moved to its closest substitute, every pitch the map's. None (or General MIDI) keeps
    GM pitches."""
    from mididrumigen.midi.drum_maps import GM, get_drum_map, translate_clip

    if drum_map is None:
        return clips
    target = get_drum_map(drum_map)
    pieces = set(target.pitch_by_piece)
    fitted = [fit_clip_to_kit(clip, pieces)[0] for clip in clips]
    if target is GM:
        return fitted
    return [translate_clip(clip, GM, target) for clip in fitted]


def write_clips(
    clips: list[Clip], out_dir: Path, label: str, drum_map: str | DrumMap | None = None
) -> list[Path]:
    """Render every clip first, then write each atomically; on a failure remove what was written.

    clips are at General MIDI pitches, written for drum_map (clips_on_kit); with drum_map None they are
    written at the pitches they have (clips clips_on_kit made already).
    """
    from mididrumigen.midi.smf import clip_to_midi_bytes

    # Map and render everything before touching the disk, so a bad drum map writes nothing.
    payloads = [clip_to_midi_bytes(clip) for clip in clips_on_kit(clips, drum_map)]
    stamp = time.strftime("%Y%m%d-%H%M%S") + f"-{time.time_ns() % 1_000_000:06d}"
    written: list[Path] = []
    folder = out_dir.resolve()  # once: resolving each file's path costs a system call per folder level
    try:
        for index, (clip, payload) in enumerate(zip(clips, payloads, strict=True), start=1):
            name = clip_file_name(label, clip, index, stamp)
            # Not durable (a lost clip is regenerated by its seed), permissions from the umask, and no
            # mkdir while the folder is there: one open, write, close and rename per file.
            try:
                write_atomic(folder / name, payload, mode=None, durable=False, make_parents=False)
            except FileNotFoundError:
                if written:
                    raise  # the folder went away under us
                folder = _make_folder(out_dir)
                write_atomic(folder / name, payload, mode=None, durable=False, make_parents=False)
            written.append(folder / name)
    except OSError as exc:
        for path in written:
            path.unlink(missing_ok=True)
        raise UserError(f"cannot write to output folder {out_dir}: {exc.strerror or exc}") from None
    return written


def _make_folder(out_dir: Path) -> Path:
    """Create the output folder (and its parents); return it resolved. UserError when that fails."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create output folder {out_dir}: {exc.strerror or exc}") from None
    return out_dir.resolve()
