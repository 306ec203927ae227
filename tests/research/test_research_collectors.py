"""The four collectors against the fake services: parsing, relevance, extraction, isolation of faults."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import mido
import pytest

from mididrumigen.research.collectors.articles import ArticleCollector, parse_profile_page, site_url
from mididrumigen.research.collectors.audio import AudioCollector, search_url
from mididrumigen.research.collectors.base import (
    COLLECTOR_CLASS_PATHS,
    Collector,
    CollectorContext,
    SourceRecord,
    collector_classes,
    get_collector_class,
)
from mididrumigen.research.collectors.midi import MidiCollector, parse_bitmidi_search
from mididrumigen.research.collectors.papers import PaperCollector, parse_arxiv_atom
from mididrumigen.research.http import HttpResponse
from tests.fakes.research_servers import (
    ARTIST,
    ARTIST_SLUG,
    PROFILE_HTML,
    TRUE_TEMPO_BPM,
    FakeResearchServer,
    arxiv_feed,
)

# -- registry ---------------------------------------------------------------------------------


def test_registry_maps_names_to_collector_classes() -> None:
    classes = collector_classes()
    assert set(classes) == set(COLLECTOR_CLASS_PATHS) == {"papers", "articles", "audio", "midi"}
    assert {cls.kind for cls in classes.values()} == {"paper", "article", "audio", "midi"}
    assert all(issubclass(cls, Collector) for cls in classes.values())
    with pytest.raises(ValueError, match="unknown collector 'video'"):
        get_collector_class("video")


def test_source_records_validate_and_round_trip() -> None:
    record = SourceRecord("paper", "u", "t", "raw", {"tempo_bpm": [90.0]}, 0.5)
    assert SourceRecord.from_json(record.to_json()) == record
    with pytest.raises(ValueError, match="source kind"):
        SourceRecord("tweet", "u", "t", "", {}, 0.5)
    with pytest.raises(ValueError, match="confidence"):
        SourceRecord("paper", "u", "t", "", {}, 1.5)


# -- papers -----------------------------------------------------------------------------------


async def test_papers_keep_only_papers_about_the_drummer(
    ctx: CollectorContext, fake_server: FakeResearchServer
) -> None:
    records = await PaperCollector().collect(ctx, ARTIST)
    titles = {r.title for r in records}
    assert titles == {
        "Microtiming in the funk drumming of Tessa Marlowe",
        "Groove and syncopation in contemporary funk drummers",
        "The pocket: timing and dynamics in soul and funk drumming",
    }
    services = {r.extracted["service"] for r in records}
    assert services == {"semantic_scholar", "arxiv", "crossref"}
    s2 = next(r for r in records if r.extracted["service"] == "semantic_scholar")
    assert s2.extracted["tempo_bpm"] == [100.0]
    assert s2.extracted["swing_percent_mentions"] == [56.0]
    assert "funk" in s2.extracted["styles"] and "ghost notes" in s2.extracted["techniques"]
    assert json.loads(s2.raw)["paperId"] == "a1b2c3d4e5"  # the raw response item is kept
    assert all(0 < r.confidence <= 0.8 for r in records)
    query = fake_server.calls("arxiv")[0].query
    assert query["search_query"] == 'all:"Tessa Marlowe"'
    assert fake_server.calls("crossref")[0].query["mailto"] == "tests@example.org"
    assert ctx.progress_log[-1][1] == 1.0  # type: ignore[attr-defined]


@pytest.mark.parametrize("fault", ["malformed", "empty", "503"])
async def test_one_failing_paper_service_does_not_sink_the_others(
    ctx: CollectorContext, fake_server: FakeResearchServer, fault: str
) -> None:
    fake_server.script("arxiv", *([fault] * 5))
    records = await PaperCollector().collect(ctx, ARTIST)
    assert {r.extracted["service"] for r in records} == {"semantic_scholar", "crossref"}
    if fault != "empty":
        assert any(note.startswith("papers: arxiv failed") for note in ctx.notes)


async def test_papers_fail_only_when_every_service_fails(
    ctx: CollectorContext, fake_server: FakeResearchServer
) -> None:
    for service in ("semantic_scholar", "arxiv", "crossref"):
        fake_server.script(service, "malformed")
    with pytest.raises(RuntimeError, match="semantic_scholar: malformed json"):
        await PaperCollector().collect(ctx, ARTIST)


def test_arxiv_parser_rejects_non_atom() -> None:
    feed = arxiv_feed("q", [("http://arxiv.org/abs/1", "T", "S", "2020-01-01T00:00:00Z")])
    hits = parse_arxiv_atom(HttpResponse("u", 200, "application/atom+xml", feed.encode()))
    assert [(h.title, h.year, h.url) for h in hits] == [("T", 2020, "http://arxiv.org/abs/1")]
    with pytest.raises(ValueError, match="malformed atom"):
        parse_arxiv_atom(HttpResponse("u", 200, "", b"<html><body>oops</body></html>"))
    with pytest.raises(ValueError, match="malformed atom"):
        parse_arxiv_atom(HttpResponse("u", 200, "", b"<feed><entry>"))
    evil = b'<?xml version="1.0"?><!DOCTYPE f [<!ENTITY x SYSTEM "file:///etc/passwd">]><feed>&x;</feed>'
    with pytest.raises(ValueError, match="malformed atom"):
        parse_arxiv_atom(HttpResponse("u", 200, "", evil))


# -- articles ---------------------------------------------------------------------------------


async def test_articles_read_wikipedia_and_the_profile_site(
    ctx: CollectorContext, fake_server: FakeResearchServer
) -> None:
    records = await ArticleCollector().collect(ctx, ARTIST)
    assert [r.extracted["service"] for r in records] == ["wikipedia", "article_site"]
    wiki, site = records
    assert wiki.url == "https://en.wikipedia.org/wiki/Tessa_Marlowe"
    assert wiki.extracted["description"] == "American funk and soul drummer"
    assert "The Ninth Street Groove" in wiki.extracted["bands"]
    assert {"Slow Burn", "Bayside Strut"} <= set(wiki.extracted["songs"])
    assert any(e.startswith("Gretsch") for e in wiki.extracted["equipment"])
    assert wiki.extracted["tempo_bpm"] == [100.0]
    assert wiki.extracted["styles"][0] == "funk"
    # the search picked the drummer's page, not "Marlowe (band)", and the extract asked for that title
    extract_query = [c.query for c in fake_server.calls("wikipedia") if c.query.get("prop") == "extracts"]
    assert extract_query[0]["titles"] == "Tessa Marlowe"
    assert site.title == "Tessa Marlowe"
    assert site.extracted["bands"][:2] == ["The Ninth Street Groove", "Oakland Soul Revue"]
    assert "Gretsch Broadkaster kit" in site.extracted["equipment"]
    assert "Slow Burn" in site.extracted["songs"] and "Night Market" in site.extracted["songs"]
    assert site.extracted["tempo_range_bpm"] == [[96.0, 104.0]]
    assert 300.0 not in site.extracted.get("tempo_bpm", [])  # script text is not read
    assert "<h1>Tessa Marlowe</h1>" in site.raw


async def test_articles_for_an_unknown_drummer_find_nothing(ctx: CollectorContext) -> None:
    assert await ArticleCollector().collect(ctx, "Nobody Atall") == []


async def test_a_failing_site_leaves_wikipedia(
    ctx: CollectorContext, fake_server: FakeResearchServer
) -> None:
    fake_server.script("site", *(["503"] * 5))
    records = await ArticleCollector().collect(ctx, ARTIST)
    assert [r.extracted["service"] for r in records] == ["wikipedia"]
    assert any("site1 failed" in note for note in ctx.notes)


def test_site_templates() -> None:
    assert (
        site_url("https://x.org/drummers/{slug}.html", "John Bonham")
        == "https://x.org/drummers/John_Bonham.html"
    )
    assert site_url("https://x.org/{slug_dash}", "Jon Théodore") == "https://x.org/jon-theodore"
    assert site_url("https://x.org/s?q={query}", "A B") == "https://x.org/s?q=A%20B"
    with pytest.raises(ValueError, match="must use only"):
        site_url("https://x.org/{artist}", "A")


def test_profile_page_about_someone_else_is_ignored() -> None:
    assert parse_profile_page(PROFILE_HTML, "Keith Moon") is None
    parsed = parse_profile_page(PROFILE_HTML, ARTIST)
    assert parsed is not None and parsed[2]["description"].startswith("Tessa Marlowe - funk drummer")


def test_a_profile_page_text_leaves_out_what_a_browser_does_not_show() -> None:
    hidden = (
        "<html><body><h1>Tessa Marlowe</h1><p>Tessa Marlowe is a funk drummer.</p>"
        "<template><p>Tessa Marlowe plays heavy metal</p></template>"
        "<svg><text>Tessa Marlowe blast beats</text></svg><script>var genre = 'metal';</script></body></html>"
    )
    parsed = parse_profile_page(hidden, ARTIST)
    assert parsed is not None and "metal" not in parsed[1] and "blast" not in parsed[1]


# -- midi ---------------------------------------------------------------------------------------


async def test_midi_downloads_drum_parts_and_keeps_templates(
    ctx: CollectorContext, fake_server: FakeResearchServer
) -> None:
    records = await MidiCollector().collect(ctx, ARTIST)
    assert sorted(r.title for r in records) == [
        "tessa-marlowe-bayside-strut.mid",
        "tessa-marlowe-pocket-study.mid",
        "tessa-marlowe-slow-burn.mid",
    ]
    downloads = [c.path for c in fake_server.calls("bitmidi") if c.path.startswith("/bitmidi/uploads/")]
    assert "/bitmidi/uploads/5001.mid" not in downloads  # not about the artist: never fetched
    assert "/bitmidi/uploads/4104.mid" in downloads  # fetched, but piano only: no record
    for record in records:
        facts = record.extracted
        assert 95.0 <= facts["tempo_measured_bpm"] <= 106.0  # GMD funk at 100-102 BPM, measured from notes
        assert facts["tempo_file_bpm"] in (100.0, 102.0)
        assert 0.0 <= facts["ghost_note_share"] <= 1.0
        assert facts["humanized"] is True and "microtiming_ms" in facts  # human performances
        template = Path(facts["template_path"])
        assert template.is_relative_to(ctx.data_dir / "templates" / "research")
        assert mido.MidiFile(template).length > 1.0  # the drum part is kept as a template
        assert base64.b64decode(record.raw.removeprefix("base64:")).startswith(b"MThd")


async def test_midi_search_failure_is_the_collector_failure(
    ctx: CollectorContext, fake_server: FakeResearchServer
) -> None:
    fake_server.script("bitmidi", "malformed")
    with pytest.raises(RuntimeError, match="malformed json"):
        await MidiCollector().collect(ctx, ARTIST)


async def test_midi_file_failures_are_skipped(ctx: CollectorContext, fake_server: FakeResearchServer) -> None:
    fake_server.script("bitmidi", "ok", "404")  # search ok, first download gone
    records = await MidiCollector().collect(ctx, ARTIST)
    assert len(records) == 2
    assert any("http 404" in note for note in ctx.notes)


def test_bitmidi_links_resolve_under_the_base_url() -> None:
    body = json.dumps(
        {
            "result": {
                "results": [{"id": 1, "name": "a.mid", "url": "/a-mid", "downloadUrl": "/uploads/1.mid"}],
                "total": 1,
                "pageTotal": 1,
            }
        }
    )
    found = parse_bitmidi_search(
        HttpResponse("u", 200, "application/json", body.encode()), "https://m.org/bitmidi"
    )
    assert found[0].url == "https://m.org/bitmidi/uploads/1.mid"
    with pytest.raises(ValueError, match="malformed"):
        parse_bitmidi_search(HttpResponse("u", 200, "application/json", b'{"results": 3}'), "https://m.org")


# -- audio --------------------------------------------------------------------------------------


async def test_audio_download_is_analysed_then_deleted(
    ctx: CollectorContext, fake_server: FakeResearchServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    from mididrumigen.analysis import audio_features

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    analysed: list[tuple[Path, bytes]] = []

    class Features:
        duration_s = 24.0

        def to_json(self) -> dict[str, object]:
            return {
                "tempo_bpm": 100.5,
                "swing_percent": 51.0,
                "swing_percent_16th": 55.0,
                "confidence": 0.8,
                "ghost_note_share": 0.2,
                "microtiming_ms": {"snare": 4.0},
                "timing_jitter_ms": 7.0,
            }

    def fake_analysis(path: Path, **kwargs: object) -> Features:
        analysed.append((Path(path), Path(path).read_bytes()[:4]))
        return Features()

    monkeypatch.setattr(audio_features, "analyze_audio_file", fake_analysis)
    records = await AudioCollector().collect(ctx, ARTIST)
    assert analysed[0][1] == b"RIFF" and analysed[0][0].is_relative_to(scratch)  # the downloaded WAV itself
    assert not analysed[0][0].exists() and list(scratch.iterdir()) == []  # PRD: deleted after analysis
    facts = records[0].extracted
    assert facts["tempo_measured_bpm"] == 100.5 and facts["swing_percent_16th"] == 55.0
    assert facts["microtiming_ms"] == {"snare": 4.0} and facts["timing_jitter_ms"] == 7.0
    assert records[0].url.endswith("/media/Tessa_Marlowe.wav")
    assert records[0].confidence == pytest.approx(0.8)  # the title names the artist
    assert fake_server.calls("media")[0].headers["User-Agent"].startswith("MidiDrumiGen/")


async def test_known_recordings_are_not_downloaded_again(
    ctx: CollectorContext, fake_server: FakeResearchServer
) -> None:
    ctx.known_urls = frozenset({f"{fake_server.base_url}/media/Tessa_Marlowe.wav"})
    assert await AudioCollector().collect(ctx, ARTIST) == []
    assert any("already analysed" in note for note in ctx.notes)


@pytest.mark.slow
async def test_audio_downloads_analyses_and_deletes(
    ctx: CollectorContext, fake_server: FakeResearchServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    records = await AudioCollector().collect(ctx, ARTIST)
    assert len(records) == 1
    facts = records[0].extracted
    assert abs(facts["tempo_measured_bpm"] - TRUE_TEMPO_BPM) / TRUE_TEMPO_BPM < 0.04
    assert 45.0 <= facts["swing_percent"] <= 60.0
    assert facts["service"] == "yt-dlp" and 0.0 < records[0].confidence <= 0.9
    assert fake_server.calls("media")[0].headers["User-Agent"].startswith("MidiDrumiGen/")
    assert list(scratch.iterdir()) == []  # PRD: the audio is gone after analysis
    assert ctx.progress_log[-1][1] == 1.0  # type: ignore[attr-defined]


@pytest.mark.usefixtures("canned_audio_analysis")
async def test_one_recording_of_a_search_that_is_gone_leaves_the_others(
    ctx: CollectorContext, fake_server: FakeResearchServer
) -> None:
    ctx.settings.set(
        "audio_search_template", f"{fake_server.base_url}/media/{{slug}}.rss"
    )  # a feed: a playlist
    records = await AudioCollector().collect(ctx, ARTIST)
    assert [r.url for r in records] == [f"{fake_server.base_url}/media/{ARTIST_SLUG}.wav"]
    assert any("404" in note for note in ctx.notes)  # the gone one is said, not silently dropped


@pytest.mark.usefixtures("canned_audio_analysis")
async def test_a_recording_that_breaks_while_downloading_leaves_the_others(
    ctx: CollectorContext, fake_server: FakeResearchServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import yt_dlp

    process = yt_dlp.YoutubeDL.process_ie_result

    def disk_full_on_the_second(ydl: Any, entry: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        if "Removed_Video" in str(entry.get("url")):
            raise OSError("No space left on device")
        return process(ydl, entry, *args, **kwargs)

    monkeypatch.setattr(yt_dlp.YoutubeDL, "process_ie_result", disk_full_on_the_second)
    ctx.settings.set("audio_search_template", f"{fake_server.base_url}/media/{{slug}}.rss")
    records = await AudioCollector().collect(ctx, ARTIST)
    assert [r.url for r in records] == [f"{fake_server.base_url}/media/{ARTIST_SLUG}.wav"]
    assert any("No space left on device" in note for note in ctx.notes)


async def test_a_recording_whose_download_fails_says_why(
    ctx: CollectorContext, fake_server: FakeResearchServer
) -> None:
    fake_server.script("media", "ok", "404", "404", "404", "404")  # found, then its download refused
    with pytest.raises(RuntimeError, match=r"no recording could be analysed: .*unable to download.*404"):
        await AudioCollector().collect(ctx, ARTIST)


async def test_a_known_recording_of_a_search_is_not_fetched(
    ctx: CollectorContext, fake_server: FakeResearchServer
) -> None:
    ctx.settings.set("audio_search_template", f"{fake_server.base_url}/media/{{slug}}.rss?then=none")
    ctx.known_urls = frozenset({f"{fake_server.base_url}/media/{ARTIST_SLUG}.wav"})
    assert await AudioCollector().collect(ctx, ARTIST) == []
    assert fake_server.calls("media") == []  # skipped from the feed's own listing, as yt-dlp's loop would
    assert any("already analysed" in note for note in ctx.notes)


async def test_audio_that_is_not_found_fails_the_collector(
    ctx: CollectorContext, fake_server: FakeResearchServer
) -> None:
    fake_server.script("media", "404", "404", "404", "404")
    with pytest.raises(Exception, match="404"):
        await AudioCollector().collect(ctx, ARTIST)


def test_audio_search_template() -> None:
    assert search_url("ytsearch3:{artist} drum cam", "John Bonham") == "ytsearch3:John Bonham drum cam"
    assert search_url("http://h/m/{slug}.wav", "John Bonham") == "http://h/m/John_Bonham.wav"
    with pytest.raises(ValueError, match="must contain"):
        search_url("ytsearch3:drums", "A")


async def test_local_library_files_filed_under_the_artist_are_used(
    ctx: CollectorContext, fake_server: FakeResearchServer, tmp_path: Path
) -> None:
    import shutil

    from mididrumigen.generation.library import TemplateLibrary
    from tests.fakes.research_servers import GMD_DIR, MIDI_FILES

    folder = tmp_path / "my grooves" / "Tessa Marlowe"
    folder.mkdir(parents=True)
    shutil.copy(GMD_DIR / MIDI_FILES[4101][1], folder / "funk_100_groove.mid")
    other = tmp_path / "my grooves" / "Someone Else"
    other.mkdir()
    shutil.copy(GMD_DIR / MIDI_FILES[4102][1], other / "funk_102_groove.mid")
    library = TemplateLibrary.open(tmp_path / "library.json")
    library.add_folder(tmp_path / "my grooves")
    ctx.library = library
    fake_server.script("bitmidi", "empty")
    records = await MidiCollector().collect(ctx, ARTIST)
    assert [r.extracted["service"] for r in records] == ["library"]
    assert records[0].url.endswith("Tessa%20Marlowe/funk_100_groove.mid")
    assert 95.0 <= records[0].extracted["tempo_measured_bpm"] <= 105.0


async def test_a_library_file_that_fails_leaves_the_others(
    ctx: CollectorContext, fake_server: FakeResearchServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from mididrumigen.generation.library import TemplateLibrary
    from mididrumigen.research.collectors import midi
    from tests.fakes.research_servers import GMD_DIR, MIDI_FILES

    folder = tmp_path / "my grooves" / "Tessa Marlowe"
    folder.mkdir(parents=True)
    for name in ("funk_100_groove.mid", "funk_100_broken.mid"):
        shutil.copy(GMD_DIR / MIDI_FILES[4101][1], folder / name)
    library = TemplateLibrary.open(tmp_path / "library.json")
    library.add_folder(tmp_path / "my grooves")
    ctx.library = library
    where = midi.template_path

    def failing_on_one(data_dir: Path, artist: str, name: str) -> Path:
        if "broken" in name:
            raise PermissionError("templates folder is read-only")
        return where(data_dir, artist, name)

    monkeypatch.setattr(midi, "template_path", failing_on_one)
    fake_server.script("bitmidi", "empty")
    records = await MidiCollector().collect(ctx, ARTIST)
    assert [r.url.rsplit("/", 1)[1] for r in records] == ["funk_100_groove.mid"]
    assert "midi: funk_100_broken.mid: templates folder is read-only" in ctx.notes
