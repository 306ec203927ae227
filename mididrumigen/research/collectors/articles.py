"""Articles: Wikipedia (search, REST summary, action-API extract) and configurable drummer-profile sites."""

from __future__ import annotations

import asyncio
import functools
import json
import re
import string
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar
from urllib.parse import quote

from mididrumigen.files import safe_slug
from mididrumigen.research.collectors.base import Collector, CollectorContext, SourceRecord, run_isolated
from mididrumigen.research.collectors.text_facts import (
    artist_mention_score,
    drumming_score,
    extract_facts,
    normalize_text,
)
from mididrumigen.research.http import HttpResponse

MIN_TITLE_MATCH = 85.0  # rapidfuzz score for a search hit to count as the drummer's page
SECTION_KEYS: dict[str, tuple[str, ...]] = {
    "equipment": ("equipment", "gear", "setup", "set-up", "kit", "drums", "cymbals", "endorse"),
    "bands": ("bands", "band", "groups", "played with", "associated acts", "worked with", "collaborations"),
    "songs": ("songs", "recordings", "discography", "albums", "selected recordings", "tracks", "videos"),
}
TEMPLATE_FIELDS = frozenset({"slug", "slug_lower", "slug_dash", "query", "name"})
# A drummer's profile page is tens of kilobytes; reading costs seconds per megabyte: bigger pages are skipped.
MAX_PAGE_BYTES = 2_000_000


def page_title_matches(title: str, artist: str) -> float:
    """0..100 similarity of a page title (without a '(drummer)' qualifier) to the artist name."""
    from rapidfuzz import fuzz

    bare = re.sub(r"\s*\([^)]*\)\s*$", "", title)
    return float(fuzz.token_sort_ratio(bare.lower(), artist.lower()))


def pick_wikipedia_title(search_body: Any, artist: str) -> str | None:
    """The best-matching page title from an action-API list=search answer, or None."""
    if not isinstance(search_body, dict):
        raise ValueError("malformed wikipedia search response")
    hits = (search_body.get("query") or {}).get("search") or []
    best: tuple[float, str] | None = None
    for rank, hit in enumerate(hits):
        title = hit.get("title") if isinstance(hit, dict) else None
        if not title:
            continue
        score = page_title_matches(str(title), artist) - rank  # earlier hits win ties
        if score >= MIN_TITLE_MATCH - 5 and (best is None or score > best[0]):
            best = (score, str(title))
    return best[1] if best else None


def wikipedia_extract_text(extract_body: Any) -> str:
    """The plain-text extract from an action-API prop=extracts answer ('' if the page is missing)."""
    if not isinstance(extract_body, dict):
        raise ValueError("malformed wikipedia extracts response")
    pages = (extract_body.get("query") or {}).get("pages") or {}
    items = pages.values() if isinstance(pages, dict) else pages
    for page in items:
        if isinstance(page, dict) and page.get("extract"):
            return str(page["extract"])
    return ""


def wikipedia_record(artist: str, title: str, summary: dict[str, Any], extract: str) -> SourceRecord | None:
    """One article record from a page's REST summary and its full extract; None if it's not about a drummer."""
    description = str(summary.get("description") or "")
    lead = str(summary.get("extract") or "")
    text = "\n".join(part for part in (description, lead, extract) if part)
    if artist_mention_score(text, artist) == 0.0 and page_title_matches(title, artist) < MIN_TITLE_MATCH:
        return None
    drum_words = drumming_score(f"{description} {lead}")
    if summary.get("type") == "disambiguation" or drum_words == 0.0:
        return None
    facts = extract_facts(text, artist)
    facts["description"] = description
    facts["summary"] = normalize_text(lead)[:1000]
    facts["service"] = "wikipedia"
    url = ((summary.get("content_urls") or {}).get("desktop") or {}).get("page") or ""
    confidence = round(0.55 + 0.35 * drum_words, 3)  # an encyclopedia page about a drummer
    raw = json.dumps({"summary": summary, "extract": extract})
    return SourceRecord("article", str(url), title, raw, facts, confidence)


def site_url(template: str, artist: str) -> str:
    """Fill an article_sites template: {slug} John_Bonham, {slug_lower}, {slug_dash} john-bonham, {query}, {name}."""
    fields = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    unknown = fields - TEMPLATE_FIELDS
    if unknown or not fields:
        raise ValueError(
            f"article site template {template!r} must use only {{{'}, {'.join(sorted(TEMPLATE_FIELDS))}}}"
        )
    slug = safe_slug(artist)
    return template.format(
        slug=slug,
        slug_lower=slug.lower(),
        slug_dash=slug.lower().replace("_", "-"),
        query=quote(artist),
        name=quote(artist.replace(" ", "")),
    )


def decode_page(body: bytes, content_type: str = "") -> str:
    """An HTML body as text, in the charset its Content-Type header or meta tag declares."""
    from bs4 import UnicodeDammit

    declared = re.search(r"charset=[\"']?([\w.:-]+)", content_type, re.IGNORECASE)
    # The header's charset comes first (as in browsers); a wrong one fails to decode and the meta tag is next.
    dammit = UnicodeDammit(
        body, known_definite_encodings=[declared.group(1)] if declared else [], is_html=True
    )
    return dammit.unicode_markup or body.decode("utf-8", errors="replace")


def parse_profile_page(html: bytes | str, artist: str) -> tuple[str, str, dict[str, Any]] | None:
    """Title, visible text and facts of a drummer-profile HTML page; None if it's not about the artist."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "lxml")
    for tag in soup(["script", "style", "noscript", "template", "svg", "nav", "footer", "header", "form"]):
        tag.decompose()
    heading = soup.find("h1")
    title = normalize_text(
        heading.get_text(" ") if heading else (soup.title.get_text(" ") if soup.title else "")
    )
    meta = soup.find("meta", attrs={"name": "description"})
    meta_text = str(meta.get("content") or "") if meta else ""
    text = normalize_text(" ".join([meta_text, soup.get_text(" ")]))
    if artist_mention_score(f"{title} {text}", artist) < 0.5 or drumming_score(text) == 0.0:
        return None
    facts = extract_facts(text, artist)
    for key, items in section_lists(soup).items():
        merged = list(facts.get(key, []))
        merged.extend(item for item in items if item not in merged)
        if merged:
            facts[key] = merged
    if meta_text:
        facts["description"] = normalize_text(meta_text)
    return title or artist, text, facts


def section_lists(soup: Any) -> dict[str, list[str]]:
    """List items under headings or labels named like equipment, bands, songs."""
    found: dict[str, list[str]] = {key: [] for key in SECTION_KEYS}
    for label in soup.find_all(["h2", "h3", "h4", "h5", "dt", "strong", "b", "th"]):
        label_text = normalize_text(label.get_text(" ")).lower().rstrip(":")
        key = next(
            (
                k
                for k, words in SECTION_KEYS.items()
                if any(w == label_text or label_text.startswith(w) for w in words)
            ),
            None,
        )
        if key is None:
            continue
        for sibling in label.find_all_next(limit=40):
            if sibling.name in ("h1", "h2", "h3", "h4", "h5", "dt") and sibling is not label:
                break
            if sibling.name in ("li", "dd", "td"):
                item = normalize_text(sibling.get_text(" ")).strip(" ,.;")
                if key == "songs":
                    item = re.sub(r"\s*\((?:\d{4}|live|demo)\)$", "", item, flags=re.I)  # "Slow Burn (2006)"
                if item and len(item) <= 120 and item not in found[key]:
                    found[key].append(item)
    return {key: items for key, items in found.items() if items}


class ArticleCollector(Collector):
    """Wikipedia plus every configured drummer-profile site, fetched concurrently."""

    name: ClassVar[str] = "articles"
    kind: ClassVar[str] = "article"
    timeout_setting: ClassVar[str] = "articles_timeout_s"

    async def collect(self, ctx: CollectorContext, artist: str) -> list[SourceRecord]:
        """Fetch and read the drummer's pages."""
        jobs: dict[str, Callable[[], Awaitable[SourceRecord | None]]] = {
            "wikipedia": lambda: self._wikipedia(ctx, artist)
        }
        for index, template in enumerate(ctx.settings["article_sites"]):
            jobs[f"site{index + 1}"] = functools.partial(self._site, ctx, artist, str(template))
        self.report(ctx, 0.05, f"reading {len(jobs)} article sources")
        results, errors = await run_isolated(
            jobs,
            lambda name, done: self.report(
                ctx, 0.05 + 0.9 * done / len(jobs), f"{done}/{len(jobs)} article sources"
            ),
        )
        if not results:
            raise RuntimeError("; ".join(f"{name}: {msg}" for name, msg in errors.items()))
        ctx.notes.extend(f"articles: {name} failed: {msg}" for name, msg in errors.items())
        records = [record for name in jobs if (record := results.get(name)) is not None]
        self.report(ctx, 1.0, f"{len(records)} articles about the drummer")
        return records

    async def _wikipedia(self, ctx: CollectorContext, artist: str) -> SourceRecord | None:
        base = ctx.settings["wikipedia_base_url"].rstrip("/")
        search = await ctx.http.get(
            f"{base}/w/api.php",
            service="wikipedia",
            params={
                "action": "query",
                "list": "search",
                "srsearch": f"{artist} drummer",
                "srlimit": 5,
                "format": "json",
            },
            deadline=ctx.deadline,
        )
        _raise_for_status(search)
        title = pick_wikipedia_title(search.json(), artist)
        if title is None:
            return None
        page = quote(title.replace(" ", "_"), safe="")
        summary_response = await ctx.http.get(
            f"{base}/api/rest_v1/page/summary/{page}", service="wikipedia", deadline=ctx.deadline
        )
        if summary_response.status == 404:
            return None  # the page went away (or never had a summary) after the search listed it
        _raise_for_status(summary_response)
        summary = summary_response.json()
        if not isinstance(summary, dict):
            raise ValueError(f"malformed wikipedia summary from {summary_response.url}")
        extract_response = await ctx.http.get(
            f"{base}/w/api.php",
            service="wikipedia",
            params={
                "action": "query",
                "prop": "extracts",
                "explaintext": 1,
                "redirects": 1,
                "titles": title,
                "format": "json",
            },
            deadline=ctx.deadline,
        )
        _raise_for_status(extract_response)
        return wikipedia_record(artist, title, summary, wikipedia_extract_text(extract_response.json()))

    async def _site(self, ctx: CollectorContext, artist: str, template: str) -> SourceRecord | None:
        url = site_url(template, artist)
        response = await ctx.http.get(
            url, service="article_site", deadline=ctx.deadline, max_bytes=MAX_PAGE_BYTES
        )
        if response.status == 404:
            return None
        _raise_for_status(response)
        html = decode_page(response.body, response.content_type)
        # Parsing a big page takes seconds: off the event loop, which serves the daemon meanwhile.
        parsed = await asyncio.to_thread(parse_profile_page, html, artist)
        if parsed is None:
            return None
        title, _text, facts = parsed
        facts["service"] = "article_site"
        confidence = round(0.5 + 0.3 * drumming_score(_text), 3)  # a page dedicated to the drummer
        return SourceRecord("article", response.url, title, html, facts, confidence)


def _raise_for_status(response: HttpResponse) -> None:
    if not response.ok:
        raise ValueError(f"http {response.status} from {response.url}")
