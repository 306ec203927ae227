"""Collectors against payloads real services send now and then: an odd item is skipped, the rest kept."""

from __future__ import annotations

import pytest

from mididrumigen.research.collectors.articles import ArticleCollector
from mididrumigen.research.collectors.base import CollectorContext
from mididrumigen.research.collectors.midi import MidiCollector
from mididrumigen.research.collectors.papers import PaperCollector
from tests.fakes.research_servers import ARTIST, FakeResearchServer

USUAL_PAPERS = {
    "Microtiming in the funk drumming of Tessa Marlowe",
    "Groove and syncopation in contemporary funk drummers",
    "The pocket: timing and dynamics in soul and funk drumming",
}
USUAL_MIDI = {
    "tessa-marlowe-bayside-strut.mid",
    "tessa-marlowe-pocket-study.mid",
    "tessa-marlowe-slow-burn.mid",
}

# -- papers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "odd_title"),
    [
        ("semantic_scholar", "Ghost notes in the funk drumming of Tessa Marlowe"),  # null abstract, year, url
        ("arxiv", "Linear funk drumming of Tessa Marlowe"),  # no <summary>, no <published>
        ("crossref", "Ghost notes & the pocket: Tessa Marlowe’s funk drumming"),  # markup and entities
    ],
)
async def test_odd_paper_items_are_read_or_skipped(
    ctx: CollectorContext, fake_server: FakeResearchServer, service: str, odd_title: str
) -> None:
    fake_server.script(service, "odd")
    records = await PaperCollector().collect(ctx, ARTIST)
    assert {r.title for r in records} == USUAL_PAPERS | {odd_title}  # no title or no address: skipped
    odd = next(r for r in records if r.title == odd_title)
    assert odd.extracted["year"] is None and odd.url.startswith("http")
    assert not ctx.notes


async def test_a_jats_abstract_is_read_as_text(
    ctx: CollectorContext, fake_server: FakeResearchServer
) -> None:
    fake_server.script("crossref", "odd")
    records = await PaperCollector().collect(ctx, ARTIST)
    odd = next(r for r in records if r.url == "http://dx.doi.org/10.1000/nodoi")  # no DOI: its URL is kept
    assert odd.extracted["tempo_bpm"] == [100.0]  # "100&#x00A0;bpm" in the JATS abstract


async def test_the_arxiv_error_entry_is_a_failure_not_a_paper(
    ctx: CollectorContext, fake_server: FakeResearchServer
) -> None:
    fake_server.script("arxiv", "error_entry")
    records = await PaperCollector().collect(ctx, ARTIST)
    assert {r.extracted["service"] for r in records} == {"semantic_scholar", "crossref"}
    assert "papers: arxiv failed: arxiv error: max_results must be non-negative" in ctx.notes


@pytest.mark.parametrize("service", ["semantic_scholar", "crossref"])
async def test_null_or_missing_paper_lists_are_no_papers(
    ctx: CollectorContext, fake_server: FakeResearchServer, service: str
) -> None:
    fake_server.script(service, "nulls")
    records = await PaperCollector().collect(ctx, ARTIST)
    assert service not in {r.extracted["service"] for r in records} and not ctx.notes


# -- articles -----------------------------------------------------------------------------------


@pytest.mark.parametrize("summary", ["404", "disambiguation"])
async def test_a_wikipedia_page_that_is_gone_or_ambiguous_is_no_article(
    ctx: CollectorContext, fake_server: FakeResearchServer, summary: str
) -> None:
    fake_server.script("wikipedia", "ok", summary)  # the search finds the title, its summary says otherwise
    records = await ArticleCollector().collect(ctx, ARTIST)
    assert [r.extracted["service"] for r in records] == ["article_site"]
    assert not ctx.notes


async def test_a_profile_page_in_latin1_without_body_is_read(
    ctx: CollectorContext, fake_server: FakeResearchServer
) -> None:
    fake_server.script("site", "odd")
    records = await ArticleCollector().collect(ctx, ARTIST)
    site = records[-1]
    assert site.extracted["service"] == "article_site" and site.title == "Tessa Marlowe"
    assert "Gretsch Broadkaster kit" in site.extracted["equipment"]
    assert "at the Café Wha?" in site.raw  # the stored page is the page's text, not mojibake
    assert 300.0 not in site.extracted.get("tempo_bpm", [])  # script text is still not read


async def test_a_huge_profile_page_is_skipped(ctx: CollectorContext, fake_server: FakeResearchServer) -> None:
    fake_server.script("site", "huge")
    records = await ArticleCollector().collect(ctx, ARTIST)
    assert [r.extracted["service"] for r in records] == ["wikipedia"]
    assert any(note.startswith("articles: site1 failed") and "larger than" in note for note in ctx.notes)


# -- midi ---------------------------------------------------------------------------------------


async def test_odd_midi_search_results_and_downloads_are_skipped(
    ctx: CollectorContext, fake_server: FakeResearchServer
) -> None:
    fake_server.script("bitmidi", "odd")  # + an entry without downloadUrl, an HTML page, a cut-short file
    records = await MidiCollector().collect(ctx, ARTIST)
    assert {r.title for r in records} == USUAL_MIDI
    downloads = {c.path for c in fake_server.calls("bitmidi") if c.path.startswith("/bitmidi/uploads/")}
    assert {"/bitmidi/uploads/4105.mid", "/bitmidi/uploads/4106.mid"} <= downloads


async def test_null_midi_search_results_are_no_results(
    ctx: CollectorContext, fake_server: FakeResearchServer
) -> None:
    fake_server.script("bitmidi", "nulls")
    assert await MidiCollector().collect(ctx, ARTIST) == []
    assert not ctx.notes


# -- any service --------------------------------------------------------------------------------


@pytest.mark.parametrize("service", ["semantic_scholar", "arxiv", "crossref"])
async def test_an_html_page_with_status_200_is_a_failed_service(
    ctx: CollectorContext, fake_server: FakeResearchServer, service: str
) -> None:
    fake_server.script(service, "html_200")  # a proxy's or maintenance page where JSON or Atom belongs
    records = await PaperCollector().collect(ctx, ARTIST)
    assert service not in {r.extracted["service"] for r in records} and len(records) == 2
    assert any(note.startswith(f"papers: {service} failed: malformed") for note in ctx.notes)
