"""Write generated clips as .mid files: every file whole or none at all."""

from __future__ import annotations

import time
from pathlib import Path

from mididrumigen.errors import UserError
from mididrumigen.files import safe_slug, write_atomic
from mididrumigen.midi.notes import Clip


def clip_file_name(label: str, clip: Clip, index: int, stamp: str) -> str:
    """Name a clip's file from sanitised parts only: never raw user text."""
    style = safe_slug(str(clip.meta.get("style", "")), fallback="groove", max_chars=24)
    tempo = f"{round(clip.tempo_bpm):d}bpm"
    return f"{safe_slug(label, fallback='drums', max_chars=40)}-{style}-{tempo}-{stamp}-v{index}.mid"


def write_clips(clips: list[Clip], out_dir: Path, label: str, drum_map: str | None = None) -> list[Path]:
    """Render every clip first, then write each atomically; on a failure remove what was written."""
    from mididrumigen.midi.smf import clip_to_midi_bytes

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
