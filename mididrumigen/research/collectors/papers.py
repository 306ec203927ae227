"""Papers: Semantic Scholar graph search, the arXiv Atom API and CrossRef works, filtered to the drummer."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from mididrumigen.research.collectors.base import Collector, CollectorContext, SourceRecord, run_isolated
from mididrumigen.research.collectors.text_facts import artist_mention_score, drumming_score, extract_facts
from mididrumigen.research.http import HttpResponse

ATOM_NS = {"atom": "http://www.w3.org/2005/Atom"}
ARXIV_ERROR_ID = "http://arxiv.org/api/errors"  # the id of the one entry arXiv sends for a bad query
RESULTS_PER_SERVICE = 20
MIN_DRUMMING_SCORE = 0.25  # at least one drumming word besides the name


@dataclass(frozen=True, slots=True)
class PaperHit:
    """One search result, reduced to what relevance filtering and extraction need."""

    service: str
    title: str
    abstract: str
    url: str
    year: int | None
    raw: str


def parse_semantic_scholar(response: HttpResponse) -> list[PaperHit]:
    """Papers from a Semantic Scholar /graph/v1/paper/search JSON body."""
    data = response.json()
    if not isinstance(data, dict):
        raise ValueError(f"malformed semantic scholar response from {response.url}")
    hits = []
    for item in data.get("data") or []:
        if not isinstance(item, dict) or not item.get("title"):
            continue
        url = item.get("url") or (
            f"https://www.semanticscholar.org/paper/{item['paperId']}" if item.get("paperId") else ""
        )
        if not url:
            continue  # a source is known by its URL: without one it cannot be cited or told from others
        hits.append(
            PaperHit(
                "semantic_scholar",
                str(item["title"]),
                str(item.get("abstract") or ""),
                str(url),
                _int_or_none(item.get("year")),
                json.dumps(item),
            )
        )
    return hits


def parse_arxiv_atom(response: HttpResponse) -> list[PaperHit]:
    """Papers from an arXiv Atom feed; ValueError when the body is not Atom XML."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(response.body, parser=parser)
    except etree.XMLSyntaxError:
        raise ValueError(f"malformed atom feed from {response.url}") from None
    if root.tag != "{http://www.w3.org/2005/Atom}feed":
        raise ValueError(f"malformed atom feed from {response.url}")
    hits = []
    for entry in root.findall("atom:entry", ATOM_NS):
        title = " ".join((entry.findtext("atom:title", "", ATOM_NS) or "").split())
        summary = " ".join((entry.findtext("atom:summary", "", ATOM_NS) or "").split())
        url = entry.findtext("atom:id", "", ATOM_NS) or ""
        if url.strip().startswith(ARXIV_ERROR_ID):
            # arXiv answers a query it cannot run with HTTP 200 and one entry titled "Error": not a paper
            raise ValueError(f"arxiv error: {summary or url.strip()}")
        if not title:
            continue
        published = entry.findtext("atom:published", "", ATOM_NS) or ""
        hits.append(
            PaperHit(
                "arxiv",
                title,
                summary,
                url.strip(),
                _int_or_none(published[:4]),
                etree.tostring(entry, encoding="unicode"),
            )
        )
    return hits


def parse_crossref(response: HttpResponse) -> list[PaperHit]:
    """Works from a CrossRef /works JSON body (JATS abstracts reduced to text)."""
    data = response.json()
    message = data.get("message") if isinstance(data, dict) else None
    if not isinstance(message, dict):
        raise ValueError(f"malformed crossref response from {response.url}")
    hits = []
    for item in message.get("items") or []:
        if not isinstance(item, dict):
            continue
        titles = item.get("title")
        first = next((t for t in titles if t), None) if isinstance(titles, list) else titles
        title = markup_text(str(first or ""))  # CrossRef lists titles; a null one is no title
        if not title:
            continue
        abstract = markup_text(str(item.get("abstract") or ""))
        year = None
        issued = item.get("issued") or item.get("published") or {}
        parts = issued.get("date-parts") if isinstance(issued, dict) else None
        if parts and isinstance(parts, list) and isinstance(parts[0], list) and parts[0]:
            year = _int_or_none(parts[0][0])
        url = item.get("URL") or (f"https://doi.org/{item['DOI']}" if item.get("DOI") else "")
        if not url:
            continue  # a source is known by its URL: without one it cannot be cited or told from others
        hits.append(PaperHit("crossref", title, abstract, str(url), year, json.dumps(item)))
    return hits


def markup_text(value: str) -> str:
    """Plain text of a CrossRef title or JATS abstract: tags dropped, entities decoded, spaces collapsed."""
    # CrossRef keeps the publisher's markup: <jats:p> blocks, inline <i> or <sub>, entities like &amp;.
    blocks = re.sub(r"</?(?:jats:)?(?:p|title|sec|list-item|break|br)\b[^>]*>", " ", value)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", blocks)).split())


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def paper_relevance(hit: PaperHit, artist: str) -> float:
    """0..1 relevance of a paper to this drummer's drumming; 0 means drop it."""
    text = f"{hit.title}. {hit.abstract}"
    mention = artist_mention_score(text, artist)
    drumming = drumming_score(text)
    if mention == 0.0 or drumming < MIN_DRUMMING_SCORE:
        return 0.0
    return round(min(1.0, 0.5 * mention + 0.5 * drumming), 3)


def paper_record(hit: PaperHit, artist: str, relevance: float) -> SourceRecord:
    """Turn a relevant paper into a source record with the facts read from its title and abstract."""
    facts = extract_facts(f"{hit.title}. {hit.abstract}", artist)
    facts.update({"service": hit.service, "year": hit.year, "relevance": relevance})
    # Papers are careful but rarely about one drummer's numbers: cap their weight.
    confidence = round(min(0.8, 0.3 + 0.5 * relevance), 3)
    return SourceRecord("paper", hit.url, hit.title, hit.raw, facts, confidence)


class PaperCollector(Collector):
    """Semantic Scholar, arXiv and CrossRef, queried concurrently; one failing service is skipped."""

    name: ClassVar[str] = "papers"
    kind: ClassVar[str] = "paper"
    timeout_setting: ClassVar[str] = "papers_timeout_s"

    async def collect(self, ctx: CollectorContext, artist: str) -> list[SourceRecord]:
        """Search the three services, keep papers about this drummer's drumming."""
        services: dict[str, Callable[[], Awaitable[list[PaperHit]]]] = {
            "semantic_scholar": lambda: self._semantic_scholar(ctx, artist),
            "arxiv": lambda: self._arxiv(ctx, artist),
            "crossref": lambda: self._crossref(ctx, artist),
        }
        self.report(ctx, 0.05, "searching Semantic Scholar, arXiv and CrossRef")
        results, errors = await run_isolated(
            services,
            lambda name, done: self.report(
                ctx, 0.05 + 0.9 * done / len(services), f"{done}/{len(services)} paper services"
            ),
        )
        if not results:
            raise RuntimeError("; ".join(f"{name}: {msg}" for name, msg in errors.items()))
        ctx.notes.extend(f"papers: {name} failed: {msg}" for name, msg in errors.items())
        hits = [hit for service in services for hit in results.get(service, [])]
        records: list[SourceRecord] = []
        seen_titles: set[str] = set()
        for hit in hits:
            key = re.sub(r"\W+", " ", hit.title.lower()).strip()
            relevance = paper_relevance(hit, artist)
            if relevance > 0 and key not in seen_titles:
                seen_titles.add(key)
                records.append(paper_record(hit, artist, relevance))
        self.report(ctx, 1.0, f"{len(records)} relevant papers of {len(hits)} found")
        return records

    async def _semantic_scholar(self, ctx: CollectorContext, artist: str) -> list[PaperHit]:
        base = ctx.settings["semantic_scholar_base_url"].rstrip("/")
        response = await ctx.http.get(
            f"{base}/graph/v1/paper/search",
            service="semantic_scholar",
            params={
                "query": f"{artist} drumming",
                "fields": "title,abstract,year,url,venue,authors",
                "limit": RESULTS_PER_SERVICE,
            },
            deadline=ctx.deadline,
        )
        _raise_for_status(response)
        return parse_semantic_scholar(response)

    async def _arxiv(self, ctx: CollectorContext, artist: str) -> list[PaperHit]:
        base = ctx.settings["arxiv_base_url"].rstrip("/")
        phrase = artist.replace('"', "")
        response = await ctx.http.get(
            f"{base}/api/query",
            service="arxiv",
            params={
                "search_query": f'all:"{phrase}"',
                "start": 0,
                "max_results": RESULTS_PER_SERVICE,
                "sortBy": "relevance",
            },
            deadline=ctx.deadline,
        )
        _raise_for_status(response)
        return parse_arxiv_atom(response)

    async def _crossref(self, ctx: CollectorContext, artist: str) -> list[PaperHit]:
        base = ctx.settings["crossref_base_url"].rstrip("/")
        params: dict[str, str | int] = {
            "query": f"{artist} drumming",
            "rows": RESULTS_PER_SERVICE,
            "select": "DOI,title,abstract,URL,issued,container-title,type",
        }
        contact = ctx.settings["contact"]
        if "@" in contact:
            params["mailto"] = contact  # CrossRef's polite pool
        response = await ctx.http.get(
            f"{base}/works", service="crossref", params=params, deadline=ctx.deadline
        )
        _raise_for_status(response)
        return parse_crossref(response)


def _raise_for_status(response: HttpResponse) -> None:
    """A non-2xx final answer is a failure of that service."""
    if not response.ok:
        raise ValueError(f"http {response.status} from {response.url}")
