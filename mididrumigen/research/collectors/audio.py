"""Audio: yt-dlp search and download in a worker thread, rhythm analysis, and the audio deleted afterwards (PRD)."""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote

from mididrumigen.errors import missing_extra
from mididrumigen.files import safe_slug
from mididrumigen.research.collectors.base import Collector, CollectorContext, SourceRecord, features_to_facts
from mididrumigen.research.collectors.text_facts import artist_mention_score

log = logging.getLogger(__name__)

ANALYSIS_MAX_S = 180.0  # three minutes of a recording say enough about its groove


@dataclass(frozen=True, slots=True)
class AnalysedRecording:
    """One downloaded-then-deleted recording and what analysis measured (or why it failed)."""

    url: str
    title: str
    duration_s: float | None
    features: dict[str, Any] | None
    error: str = ""
    skipped: bool = False  # filtered out on purpose (already analysed, too long, live)


def search_url(template: str, artist: str) -> str:
    """Fill the audio search template: {artist} raw, {query} URL-quoted, {slug} file-safe."""
    if not any(field in template for field in ("{artist}", "{query}", "{slug}")):
        raise ValueError("audio search template must contain {artist}, {query} or {slug}")
    return (
        template.replace("{artist}", artist)
        .replace("{query}", quote(artist))
        .replace("{slug}", safe_slug(artist))
    )


def download_and_analyse(
    url: str,
    *,
    user_agent: str,
    max_duration_s: float,
    cancel: threading.Event,
    on_progress: Callable[[float, str], None] | None = None,
    on_recording: Callable[[AnalysedRecording], None] | None = None,
    temp_parent: Path | None = None,
    skip_urls: frozenset[str] = frozenset(),
) -> list[AnalysedRecording]:
    """Download, analyse and delete the recordings yt-dlp finds for url, one at a time (worker thread).

    on_recording hears of each as it is done, so a time limit that cuts the work short keeps them.
    """
    try:
        import imageio_ffmpeg
        import yt_dlp
        from yt_dlp.utils import DownloadCancelled, match_filter_func
    except ImportError as exc:
        raise missing_extra("research", exc) from None

    from mididrumigen.analysis.audio_features import analyze_audio_file

    skip_urls = frozenset(plain_url(u) for u in skip_urls)  # sources stored before URLs were cleaned

    share = [0.0, 1.0]  # the progress span of the recording being downloaded: start, width

    def hook(status: dict[str, Any]) -> None:
        if cancel.is_set():
            raise DownloadCancelled("research cancelled")
        if on_progress and status.get("status") == "downloading":
            total = status.get("total_bytes") or status.get("total_bytes_estimate") or 0
            if total:
                done = status.get("downloaded_bytes", 0) / total
                on_progress(share[0] + 0.5 * share[1] * done, "downloading audio")

    rejected: dict[str, str] = {}  # url -> why the match filter skipped it
    ytdlp_log = YtDlpLog()
    work_dir = Path(tempfile.mkdtemp(prefix="mididrumigen-audio-", dir=temp_parent))
    recordings: list[AnalysedRecording] = []

    def done(recording: AnalysedRecording) -> None:
        recordings.append(recording)
        if on_recording is not None:
            on_recording(recording)

    try:
        options: dict[str, Any] = {
            "format": "bestaudio/best",
            "outtmpl": str(work_dir / "%(id)s.%(ext)s"),
            "quiet": True,
            "no_warnings": True,
            "noprogress": True,
            "noplaylist": True,
            "logger": ytdlp_log,
            # One removed or blocked video of a search must not sink the others: yt-dlp logs its error
            # and goes on, and each logged error becomes a failed recording below.
            "ignoreerrors": True,
            "http_headers": {"User-Agent": user_agent},
            "socket_timeout": 20,
            "retries": 3,
            "ffmpeg_location": imageio_ffmpeg.get_ffmpeg_exe(),
            "match_filter": _match_filter(
                match_filter_func(f"!is_live & duration <=? {int(max_duration_s)}"), skip_urls, rejected
            ),
            "progress_hooks": [hook],
            "cachedir": False,
        }
        with yt_dlp.YoutubeDL(options) as ydl:
            # The search (or page) first, unprocessed: then each recording is downloaded, analysed and
            # deleted before the next, so no more than one is ever on disk and a time limit keeps the done.
            found = ydl.extract_info(url, download=False, process=False)
            if found is not None and found.get("_type") in ("playlist", "multi_video"):
                entries = [e for e in found.get("entries") or [] if e]
            else:
                entries = [found] if found is not None else []
            for error in ytdlp_log.errors:  # logged while reading the search or page (a page it cannot read)
                done(AnalysedRecording(url, "yt-dlp", None, None, error))
            for index, entry in enumerate(entries):
                if cancel.is_set():
                    raise DownloadCancelled("research cancelled")
                share[:] = [index / len(entries), 1.0 / len(entries)]
                done(
                    _one_recording(
                        ydl, entry, url, options["match_filter"], rejected, ytdlp_log, analyze_audio_file
                    )
                )
                if on_progress:
                    on_progress((index + 1) / len(entries), f"analysed {index + 1}/{len(entries)} recordings")
        return recordings
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)


def _one_recording(
    ydl: Any,
    entry: dict[str, Any],
    url: str,
    match_filter: Callable[..., str | None],
    rejected: dict[str, str],
    ytdlp_log: YtDlpLog,
    analyse: Callable[..., Any],
) -> AnalysedRecording:
    """Download, analyse and delete one entry of a search or page; its failure is its own, not the search's."""
    from yt_dlp.utils import DownloadCancelled

    page = plain_url(str(entry.get("webpage_url") or entry.get("url") or url))
    title = str(entry.get("title") or entry.get("id") or page)
    # What a search result already says (known, too long, live) is checked before fetching it, as
    # yt-dlp's own playlist loop does: no request for a video we would not analyse.
    reason = match_filter(entry, incomplete=True)
    if reason:
        return AnalysedRecording(page, title, entry.get("duration"), None, reason, skipped=True)
    errors_before = len(ytdlp_log.errors)
    try:
        info = ydl.process_ie_result(entry, download=True)
    except DownloadCancelled:
        raise
    except Exception as exc:  # a format it cannot get, a full disk: that recording's failure only
        return AnalysedRecording(page, title, entry.get("duration"), None, str(exc) or type(exc).__name__)
    errors = "; ".join(ytdlp_log.errors[errors_before:])
    if info is None:
        return AnalysedRecording(page, title, entry.get("duration"), None, errors or "not downloaded")
    return _analysed(info, url, rejected, analyse, errors)


def _analysed(
    info: dict[str, Any], url: str, rejected: dict[str, str], analyse: Callable[..., Any], errors: str = ""
) -> AnalysedRecording:
    """Analyse one downloaded recording and delete its audio (PRD), or say why it was not downloaded."""
    page = plain_url(str(info.get("webpage_url") or info.get("original_url") or info.get("url") or url))
    title = str(info.get("title") or info.get("id") or page)
    paths = [Path(d["filepath"]) for d in info.get("requested_downloads") or [] if d.get("filepath")]
    if not paths:
        reason = rejected.get(page) or rejected.get(plain_url(str(info.get("original_url"))))
        # With ignoreerrors a failed download still returns its info: the logged error says why.
        why = reason or errors or "not downloaded"
        return AnalysedRecording(page, title, info.get("duration"), None, why, skipped=reason is not None)
    try:
        features = analyse(paths[0], max_duration_s=ANALYSIS_MAX_S)
        return AnalysedRecording(page, title, features.duration_s, features.to_json())
    except ValueError as exc:
        return AnalysedRecording(page, title, info.get("duration"), None, str(exc))
    finally:
        for path in paths:
            path.unlink(missing_ok=True)  # PRD: no recording outlives its analysis


def plain_url(url: str) -> str:
    """A URL without the data yt-dlp smuggles in its fragment (a feed's or a page's entries carry it)."""
    from yt_dlp.utils import unsmuggle_url

    return str(unsmuggle_url(url)[0])


class YtDlpLog:
    """yt-dlp's logger: lines go to logging, and error lines are kept (with ignoreerrors they do not raise)."""

    def __init__(self) -> None:
        self.log = logging.getLogger("mididrumigen.research.yt_dlp")
        self.errors: list[str] = []

    def debug(self, message: str) -> None:
        """yt-dlp's debug and info lines."""
        self.log.debug(message)

    def info(self, message: str) -> None:
        """Progress lines (quiet mode sends few)."""
        self.log.debug(message)

    def warning(self, message: str) -> None:
        """A warning yt-dlp recovered from."""
        self.log.info(message)

    def error(self, message: str) -> None:
        """A video or the search itself failed: kept as that recording's reason."""
        self.errors.append(message.removeprefix("ERROR: "))
        self.log.info(message)


def _match_filter(
    base: Callable[..., str | None], skip_urls: frozenset[str], rejected: dict[str, str]
) -> Callable[..., str | None]:
    """yt-dlp match filter: the duration/live rule, and no recording we analysed before (reasons kept)."""

    def accept(info: dict[str, Any], *args: Any, **kwargs: Any) -> str | None:
        urls = [
            plain_url(str(info.get(key))) for key in ("webpage_url", "original_url", "url") if info.get(key)
        ]
        reason = "already analysed" if any(url in skip_urls for url in urls) else base(info, *args, **kwargs)
        if reason:
            rejected.update(dict.fromkeys(urls, reason))
        return reason

    return accept


def audio_record(artist: str, recording: AnalysedRecording) -> SourceRecord | None:
    """A source record from one analysed recording; None when analysis failed."""
    if recording.features is None:
        return None
    features = recording.features
    facts = features_to_facts(features)
    for key in (
        "swing_ratio",
        "timing_jitter_ms",
        "hits_per_beat",
        "tempo_confidence",
        "duration_s",
        "backend",
    ):
        if key in features:
            facts[key] = features[key]
    facts["service"] = "yt-dlp"
    mention = artist_mention_score(recording.title.replace("_", " ").replace("-", " "), artist)
    analysis_confidence = float(features.get("confidence") or 0.0)
    # A recording titled with the drummer's name is more likely their playing.
    confidence = min(0.9, analysis_confidence * (0.6 + 0.4 * mention))
    raw = json.dumps({"title": recording.title, "url": recording.url, "features": features})
    return SourceRecord("audio", recording.url, recording.title, raw, facts, round(max(0.0, confidence), 3))


class AudioCollector(Collector):
    """Recordings found by yt-dlp, analysed for tempo, grid, swing, dynamics and microtiming."""

    name: ClassVar[str] = "audio"
    kind: ClassVar[str] = "audio"
    timeout_setting: ClassVar[str] = "audio_timeout_s"

    async def collect(self, ctx: CollectorContext, artist: str) -> list[SourceRecord]:
        """Search, download, analyse and delete recordings of the artist."""
        url = search_url(ctx.settings["audio_search_template"], artist)
        loop = asyncio.get_running_loop()
        cancel = threading.Event()

        def progress(fraction: float, text: str) -> None:
            loop.call_soon_threadsafe(self.report, ctx, 0.05 + 0.95 * fraction, text)

        def keep(recording: AnalysedRecording) -> None:
            record = audio_record(artist, recording)
            if record is not None:
                ctx.kept.append(record)

        def finished(recording: AnalysedRecording) -> None:
            loop.call_soon_threadsafe(keep, recording)

        self.report(ctx, 0.05, "searching recordings")
        try:
            recordings = await asyncio.to_thread(
                download_and_analyse,
                url,
                user_agent=ctx.http.user_agent,
                max_duration_s=float(ctx.settings["audio_max_duration_s"]),
                cancel=cancel,
                on_progress=progress,
                on_recording=finished,
                skip_urls=ctx.known_urls,
            )
        finally:
            cancel.set()  # a timed-out await leaves the thread running: tell it to stop and clean up
        # Each analysed recording became a record in keep(), as it finished: those callbacks ran before
        # this await resumed (the loop runs them in the order the thread scheduled them).
        records = list(ctx.kept)
        for recording in recordings:
            if recording.features is None:  # what audio_record makes no record of
                ctx.notes.append(f"audio: {recording.title}: {recording.error or 'no analysis'}")
        self.report(ctx, 1.0, f"{len(records)} recordings analysed")
        failed = [r for r in recordings if r.features is None and not r.skipped]
        if failed and not records:
            raise RuntimeError("no recording could be analysed: " + "; ".join(r.error for r in failed))
        return records
