"""Write generated clips as .mid files: every file whole or none at all."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from mididrumigen.errors import UserError
from mididrumigen.files import safe_slug, write_atomic
from mididrumigen.midi.kit import GM_PITCH_BY_PIECE
from mididrumigen.midi.notes import Clip, Note

# When a target kit lacks a piece, the closest piece a drummer would reach for instead.
SUBSTITUTES: dict[str, tuple[str, ...]] = {
    "crash2": ("crash",),
    "china": ("crash2", "crash"),
    "splash": ("crash2", "crash"),
    "ride_bell": ("ride",),
    "tom_low": ("tom_mid", "tom_floor"),
    "tom_floor": ("tom_low", "tom_mid"),
    "clap": ("snare_rim", "snare"),
    "snare_rim": ("snare",),
    "cross_stick": ("snare_rim", "snare"),
    "hihat_pedal": ("hihat_closed",),
    "cowbell": ("ride_bell", "ride"),
    "tambourine": ("hihat_open", "hihat_closed"),
    "shaker": ("hihat_closed",),
    "clave": ("cross_stick", "snare_rim"),
    "conga_high": ("tom_high",),
    "conga_low": ("tom_floor", "tom_low"),
    "timbale_high": ("tom_high",),
    "timbale_low": ("tom_mid",),
}


def clip_file_name(label: str, clip: Clip, index: int, stamp: str) -> str:
    """Name a clip's file from sanitised parts only: never raw user text."""
    style = safe_slug(str(clip.meta.get("style", "")), fallback="groove", max_chars=24)
    tempo = f"{round(clip.tempo_bpm):d}bpm"
    return f"{safe_slug(label, fallback='drums', max_chars=40)}-{style}-{tempo}-{stamp}-v{index}.mid"


def fit_clip_to_kit(clip: Clip, available_pieces: set[str]) -> tuple[Clip, dict[str, str]]:
    """Move hits on pieces the kit lacks to their closest substitute (GM pitches in and out)."""
    piece_by_pitch = {pitch: piece for piece, pitch in GM_PITCH_BY_PIECE.items()}
    moves: dict[int, int] = {}
    substitutions: dict[str, str] = {}
    for pitch in {n.pitch for n in clip.notes}:
        piece = piece_by_pitch.get(pitch)
        if piece is None or piece in available_pieces:
            continue
        substitute = next((s for s in SUBSTITUTES.get(piece, ()) if s in available_pieces), None)
        if substitute is not None:
            moves[pitch] = GM_PITCH_BY_PIECE[substitute]
            substitutions[piece] = substitute
    if not moves:
        return clip, {}
    notes = [Note(moves.get(n.pitch, n.pitch), n.velocity, n.time, n.duration) for n in clip.notes]
    return replace(clip, notes=notes, meta={**clip.meta, "substitutions": substitutions}), substitutions


def write_clips(clips: list[Clip], out_dir: Path, label: str, drum_map: str | None = None) -> list[Path]:
    """Render every clip first, then write each atomically; on a failure remove what was written."""
    from mididrumigen.midi.drum_maps import get_drum_map
    from mididrumigen.midi.smf import clip_to_midi_bytes

    if drum_map is not None:
        pieces = set(get_drum_map(drum_map).pitch_by_piece)
        clips = [fit_clip_to_kit(clip, pieces)[0] for clip in clips]
    # Render everything before touching the disk, so a bad drum map writes nothing.
    payloads = [clip_to_midi_bytes(clip, drum_map=drum_map) for clip in clips]
    stamp = time.strftime("%Y%m%d-%H%M%S") + f"-{time.time_ns() % 1_000_000:06d}"
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create output folder {out_dir}: {exc.strerror or exc}") from None
    written: list[Path] = []
    try:
        for index, (clip, payload) in enumerate(zip(clips, payloads, strict=True), start=1):
            path = out_dir / clip_file_name(label, clip, index, stamp)
            write_atomic(path, payload)
            written.append(path.resolve())
    except OSError as exc:
        for path in written:
            path.unlink(missing_ok=True)
        raise UserError(f"cannot write to output folder {out_dir}: {exc.strerror or exc}") from None
    return written
