"""Fake research services on 127.0.0.1 speaking the real wire formats, with scripted faults.

One aiohttp app on an ephemeral port serves:
- Semantic Scholar  GET /s2/graph/v1/paper/search            (JSON: total, offset, data[])
- arXiv             GET /arxiv/api/query                      (Atom XML feed)
- CrossRef          GET /crossref/works                       (JSON: status, message.items[])
- Wikipedia         GET /wiki/w/api.php  list=search | prop=extracts   (action API JSON)
                    GET /wiki/api/rest_v1/page/summary/{title}           (REST summary JSON)
- a Drummerworld-style profile page  GET /site/drummers/{slug}.html
- BitMIDI           GET /bitmidi/api/midi/search (JSON result.results[]), GET /bitmidi/uploads/{id}.mid
- media for yt-dlp's generic extractor  GET /media/{slug}.wav (a GMD performance rendered by tests/audio_synth)

The knowledge is about one fictional drummer, Tessa Marlowe (a funk drummer nobody pre-trained), whose
MIDI files are real Groove MIDI Dataset funk performances at 100-102 BPM and whose recording is one of
them rendered to audio. Every service plays a script of behaviours, one per request, then "ok":
ok, empty, malformed, 503, 429 (no Retry-After), 429_retry_after (delta seconds), 429_http_date,
timeout (answers after `hang_s`), 404, html_200 (an HTML error page with status 200), and payloads real
services send now and then: odd (the usual answer plus items with null or missing fields, markup,
a page in another charset...), nulls (JSON collections given as null or left out), error_entry (arXiv's
HTTP-200 error feed), disambiguation (a Wikipedia disambiguation summary), huge (a profile page over
4 MB), truncated (a MIDI download cut short).
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from aiohttp import web

ARTIST = "Tessa Marlowe"
ARTIST_SLUG = "Tessa_Marlowe"
SLOW_SLUG = "Slow_Take"  # a recording the media server answers only after hang_s
GMD_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "gmd"
MIDI_FILES: dict[int, tuple[str, str]] = {
    # BitMIDI id -> (name on the site, GMD file): drummer7's funk grooves stand in for Tessa's parts.
    4101: ("tessa-marlowe-slow-burn.mid", "drummer7/session2/79_funk_100_beat_4-4.mid"),
    4102: ("tessa-marlowe-bayside-strut.mid", "drummer7/session1/12_funk_102_beat_4-4.mid"),
    4103: ("tessa-marlowe-pocket-study.mid", "drummer7/session2/77_funk_100_beat_4-4.mid"),
}
PIANO_ID = 4104  # a piano-only file: no drum track, must be skipped
UNRELATED_ID = 5001  # a file that does not name the artist: must not be downloaded
MEDIA_FILE = "drummer7/session2/79_funk_100_beat_4-4.mid"
TRUE_TEMPO_BPM = 100.0
SERVICES = ("semantic_scholar", "arxiv", "crossref", "wikipedia", "site", "bitmidi", "media")
BEHAVIOURS = (
    "ok",
    "empty",
    "malformed",
    "503",
    "429",
    "429_retry_after",
    "429_http_date",
    "timeout",
    "404",
    "html_200",
    "odd",
    "nulls",
    "error_entry",
    "disambiguation",
    "huge",
    "truncated",
)
HTML_ERROR_PAGE = (
    "<html><head><title>Error</title></head><body><h1>Service temporarily down</h1></body></html>"
)

WIKI_TITLE = "Tessa Marlowe"
WIKI_DESCRIPTION = "American funk and soul drummer"
WIKI_LEAD = (
    "Tessa Marlowe (born 1979) is an American drummer known for her deep funk pocket, busy ghost notes and "
    "linear grooves. She is the drummer for The Ninth Street Groove and has recorded with Oakland Soul Revue."
)
WIKI_EXTRACT = WIKI_LEAD + (
    "\n\n== Early life ==\nMarlowe grew up in Oakland, California, playing in church, where gospel and "
    "soul music shaped her feel.\n\n== Career ==\nShe co-founded The Ninth Street Groove in 2004. Her playing "
    'on "Slow Burn" and "Bayside Strut" is built on a syncopated kick, a laid-back backbeat and '
    "sixteenth-note ghost notes on the snare, most often around 100 bpm. Critics describe her funk "
    "grooves as laid back and slightly behind the beat, with linear funk fills between the hi-hat and "
    'snare.\n\n== Equipment ==\nMarlowe plays Gretsch drums with a 14" snare and Zildjian K cymbals, and '
    "uses Vic Firth sticks."
)
PROFILE_HTML = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Tessa Marlowe | Drummer Profiles</title>
<meta name="description" content="Tessa Marlowe - funk drummer, ghost-note specialist and groove player">
<script>var tracking = "ignore me 300 bpm";</script><style>body{font-family:serif}</style></head>
<body><nav><a href="/">Home</a> | <a href="/drummers">Drummers</a> | rock metal jazz</nav>
<h1>Tessa Marlowe</h1>
<p>Tessa Marlowe is one of the funkiest drummers of her generation. Her grooves sit in the pocket
at 96-104 bpm, full of ghost notes and a syncopated kick; her halftime shuffle on "Night Market" is a
favourite of drum teachers.</p>
<p>She learned rudiments and paradiddle patterns from her father and plays with a relaxed, laid-back feel.</p>
<h3>Bands</h3><ul><li>The Ninth Street Groove</li><li>Oakland Soul Revue</li></ul>
<h3>Equipment</h3><ul><li>Gretsch Broadkaster kit</li><li>Zildjian K Custom hi-hats</li></ul>
<h3>Selected recordings</h3><ul><li>Slow Burn (2006)</li><li>Bayside Strut (2009)</li></ul>
<footer>(c) drummer profiles - contact us</footer></body></html>"""


def _paper(pid: str, title: str, abstract: str, year: int) -> dict[str, Any]:
    return {
        "paperId": pid,
        "title": title,
        "abstract": abstract,
        "year": year,
        "url": f"https://www.semanticscholar.org/paper/{pid}",
        "venue": "Journal of New Music Research",
        "authors": [{"authorId": "1741101", "name": "A. Researcher"}],
    }


S2_PAPERS = [
    _paper(
        "a1b2c3d4e5",
        "Microtiming in the funk drumming of Tessa Marlowe",
        "We measure the drumming of Tessa Marlowe on ten recordings. Her snare backbeat lands 12 ms behind "
        "the beat, her hi-hat sixteenths swing slightly (swing of 56%), and ghost notes make up a third of "
        "her snare strokes. Typical tempo is 100 bpm.",
        2021,
    ),
    _paper(
        "ffee001122", "Deep learning for protein folding", "A transformer model of protein folding.", 2020
    ),
]
ARXIV_ENTRIES = [
    (
        "http://arxiv.org/abs/2203.01234v1",
        "Groove and syncopation in contemporary funk drummers",
        "We analyse drum grooves of funk drummers including Tessa Marlowe, James Gadson and others. Kick "
        "syncopation and ghost notes on the snare drive the groove; tempos cluster near 98 bpm.",
        "2022-03-02T18:00:00Z",
    ),
]
CROSSREF_ITEMS = [
    {
        "DOI": "10.1080/09298215.2019.1234567",
        "title": ["The pocket: timing and dynamics in soul and funk drumming"],
        "abstract": "<jats:p>Interviews and measurements with drummers such as Tessa Marlowe show that a "
        "laid-back backbeat and soft ghost notes define the funk pocket.</jats:p>",
        "URL": "https://doi.org/10.1080/09298215.2019.1234567",
        "issued": {"date-parts": [[2019, 5]]},
        "container-title": ["Journal of New Music Research"],
        "type": "journal-article",
    },
    {
        "DOI": "10.1000/unrelated",
        "title": ["Soil drainage in river deltas"],
        "URL": "https://doi.org/10.1000/unrelated",
        "issued": {"date-parts": [[2015]]},
        "type": "journal-article",
    },
]

# "odd" answers: what real services send now and then, next to the usual items (which must survive).
S2_ODD_PAPERS = [
    {"paperId": "0a0a0a0a01", "title": None, "abstract": "Tessa Marlowe drumming", "year": 2020},
    {
        "paperId": "0a0a0a0a02",
        "title": "Ghost notes in the funk drumming of Tessa Marlowe",
        "abstract": None,
        "year": None,
        "url": None,
        "venue": "",
        "authors": [],
        "externalIds": None,
    },
    # Neither an id nor a url: no address to cite it by.
    {"paperId": None, "title": "Tessa Marlowe and the funk drumming pocket", "abstract": None, "url": None},
]
ARXIV_ODD_ENTRY = (  # no <summary>, no <published>: arXiv leaves out what it does not have
    "\n  <entry><id>http://arxiv.org/abs/2301.00001v2</id><title>Linear funk drumming of Tessa Marlowe</title>"
    '<arxiv:primary_category xmlns:arxiv="http://arxiv.org/schemas/atom" term="cs.SD"/></entry>'
)
ARXIV_ERROR_FEED = """<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <link href="http://arxiv.org/api/query?search_query=all:%22x%22" rel="self" type="application/atom+xml"/>
  <title type="html">ArXiv Query: search_query=all:"x"</title>
  <id>http://arxiv.org/api/kvuntZ8c9a4Eq5CF7KY03nMug+Q</id>
  <updated>2024-05-01T00:00:00-04:00</updated>
  <opensearch:totalResults xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">1</opensearch:totalResults>
  <entry>
    <id>http://arxiv.org/api/errors#max_results_must_be_non-negative</id>
    <title>Error</title>
    <summary>max_results must be non-negative</summary>
    <updated>2024-05-01T00:00:00-04:00</updated>
    <link href="http://arxiv.org/api/errors#max_results_must_be_non-negative" rel="alternate" type="text/html"/>
    <author><name>arXiv api core</name></author>
  </entry>
</feed>
"""
CROSSREF_ODD_ITEMS = [
    {"DOI": "10.1000/notitle", "title": [], "URL": "https://doi.org/10.1000/notitle", "type": "component"},
    {
        "DOI": "10.1000/nulltitle",
        "title": [None],
        "URL": "https://doi.org/10.1000/nulltitle",
        "type": "component",
    },
    {"title": ["Funk drumming of Tessa Marlowe, an address-less record"], "type": "journal-article"},
    {  # markup and entities in the title, a JATS abstract, no DOI, an unknown date
        "title": ["Ghost notes &amp; the <i>pocket</i>: Tessa Marlowe&#x2019;s funk drumming"],
        "abstract": "<jats:title>Abstract</jats:title><jats:p>Snare ghost notes &amp; a laid-back backbeat "
        "at 100&#x00A0;bpm.</jats:p>",
        "URL": "http://dx.doi.org/10.1000/nodoi",
        "issued": {"date-parts": [[None]]},
        "type": "journal-article",
    },
]
WIKI_DISAMBIGUATION_SUMMARY = {
    "type": "disambiguation",
    "title": WIKI_TITLE,
    "description": "Topics referred to by the same term",
    "extract": "Tessa Marlowe may refer to: Tessa Marlowe (drummer), an American funk drummer; Tessa "
    "Marlowe (novelist).",
    "content_urls": {"desktop": {"page": "https://en.wikipedia.org/wiki/Tessa_Marlowe"}},
}
HUGE_PAGE_BYTES = 4_200_000
ODD_MIDI_IDS = (4105, 4106)  # an HTML error page and a file cut short, both served with status 200


@cache
def midi_bytes(gmd_file: str) -> bytes:
    """Bytes of a GMD file."""
    return (GMD_DIR / gmd_file).read_bytes()


@cache
def piano_midi_bytes() -> bytes:
    """A short piano melody on channel 1 (no drums at all)."""
    import io

    import mido

    mid = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    mid.tracks.append(track)
    track.append(mido.Message("program_change", program=0, channel=0, time=0))
    for pitch in [60, 62, 64, 65, 67, 69, 71, 72] * 3:
        track.append(mido.Message("note_on", note=pitch, velocity=80, channel=0, time=0))
        track.append(mido.Message("note_off", note=pitch, velocity=0, channel=0, time=480))
    buffer = io.BytesIO()
    mid.save(file=buffer)
    return buffer.getvalue()


@cache
def media_wav_bytes(max_duration_s: float = 24.0) -> bytes:
    """The media file: a GMD funk performance rendered with the tests' drum synth."""
    from tests.audio_synth import render_midi_file, wav_bytes

    return wav_bytes(render_midi_file(GMD_DIR / MEDIA_FILE, max_duration_s=max_duration_s))


@dataclass
class Received:
    """One request the fake received."""

    service: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    at: float


@dataclass
class FakeResearchServer:
    """The fake services; script faults with `script()`, read requests from `received`."""

    latency_s: tuple[float, float] = (0.0, 0.0)  # uniform random latency per request
    hang_s: float = 30.0  # how long a "timeout" behaviour stalls
    retry_after_s: int = 1
    seed: int = 7
    received: list[Received] = field(default_factory=list)
    extra_papers: list[dict[str, Any]] = field(default_factory=list)  # more Semantic Scholar hits (_paper())
    _scripts: dict[str, deque[str]] = field(default_factory=lambda: defaultdict(deque))
    _runner: web.AppRunner | None = None
    base_url: str = ""

    def script(self, service: str, *behaviours: str) -> None:
        """Queue behaviours for the next requests to service (then 'ok')."""
        if service not in SERVICES:
            raise ValueError(f"unknown service {service!r}")
        for behaviour in behaviours:
            if behaviour not in BEHAVIOURS:
                raise ValueError(f"unknown behaviour {behaviour!r}")
            self._scripts[service].append(behaviour)

    def calls(self, service: str) -> list[Received]:
        """Requests received by one service."""
        return [r for r in self.received if r.service == service]

    def settings(self) -> dict[str, Any]:
        """Settings overrides pointing every research base URL at this server."""
        base = self.base_url
        return {
            "semantic_scholar_base_url": f"{base}/s2",
            "arxiv_base_url": f"{base}/arxiv",
            "crossref_base_url": f"{base}/crossref",
            "wikipedia_base_url": f"{base}/wiki",
            "article_sites": [f"{base}/site/drummers/{{slug}}.html"],
            "bitmidi_base_url": f"{base}/bitmidi",
            "audio_search_template": f"{base}/media/{{slug}}.wav",
            "contact": "tests@example.org",
        }

    async def start(self) -> str:
        """Start on 127.0.0.1 with an ephemeral port; return the base URL."""
        self._rng = random.Random(self.seed)
        app = web.Application()
        app.router.add_get("/s2/graph/v1/paper/search", self._semantic_scholar)
        app.router.add_get("/arxiv/api/query", self._arxiv)
        app.router.add_get("/crossref/works", self._crossref)
        app.router.add_get("/wiki/w/api.php", self._wiki_action)
        app.router.add_get("/wiki/api/rest_v1/page/summary/{title}", self._wiki_summary)
        app.router.add_get("/site/drummers/{slug}.html", self._site)
        app.router.add_get("/bitmidi/api/midi/search", self._bitmidi_search)
        app.router.add_get("/bitmidi/uploads/{id}.mid", self._bitmidi_file)
        app.router.add_route("*", "/media/{slug}.wav", self._media)
        app.router.add_get("/media/{slug}.rss", self._media_feed)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self.base_url

    async def close(self) -> None:
        """Stop the server."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- behaviour plumbing -------------------------------------------------------------------

    async def _begin(self, service: str, request: web.Request) -> str:
        self.received.append(
            Received(service, request.path, dict(request.query), dict(request.headers), time.monotonic())
        )
        low, high = self.latency_s
        if high > 0:
            await asyncio.sleep(self._rng.uniform(low, high))
        script = self._scripts[service]
        return script.popleft() if script else "ok"

    async def _fault(self, behaviour: str, content_type: str) -> web.StreamResponse | None:
        """The response for a fault behaviour, or None for ok/empty."""
        if behaviour == "503":
            return web.Response(status=503, text="Service Unavailable")
        if behaviour == "429":
            return web.Response(status=429, text="Too Many Requests")
        if behaviour == "429_retry_after":
            return web.Response(
                status=429, text="slow down", headers={"Retry-After": str(self.retry_after_s)}
            )
        if behaviour == "429_http_date":
            when = email.utils.formatdate(time.time() + self.retry_after_s + 1, usegmt=True)
            return web.Response(status=429, text="slow down", headers={"Retry-After": when})
        if behaviour == "timeout":
            await asyncio.sleep(self.hang_s)
            return web.Response(status=504, text="gateway timeout")
        if behaviour == "404":
            return web.Response(status=404, text="not found")
        if behaviour == "malformed":
            body = "<feed><entry>" if "xml" in content_type else '{"data": [{"title": "trunc'
            return web.Response(status=200, text=body, content_type=content_type)
        if behaviour == "html_200":
            return web.Response(status=200, text=HTML_ERROR_PAGE, content_type="text/html")
        return None

    # -- services ---------------------------------------------------------------------------------

    async def _semantic_scholar(self, request: web.Request) -> web.StreamResponse:
        behaviour = await self._begin("semantic_scholar", request)
        fault = await self._fault(behaviour, "application/json")
        if fault is not None:
            return fault
        if behaviour == "nulls":
            return web.json_response({"total": 0, "offset": 0, "data": None})
        papers = [] if behaviour == "empty" else S2_PAPERS + self.extra_papers
        if behaviour == "odd":
            papers = S2_ODD_PAPERS + papers
        return web.json_response({"total": len(papers), "offset": 0, "data": papers})

    async def _arxiv(self, request: web.Request) -> web.StreamResponse:
        behaviour = await self._begin("arxiv", request)
        fault = await self._fault(behaviour, "application/atom+xml")
        if fault is not None:
            return fault
        if behaviour == "error_entry":
            return web.Response(text=ARXIV_ERROR_FEED, content_type="application/atom+xml")
        entries = [] if behaviour == "empty" else ARXIV_ENTRIES
        feed = arxiv_feed(request.query.get("search_query", ""), entries)
        if behaviour == "odd":
            feed = feed.replace("\n</feed>", ARXIV_ODD_ENTRY + "\n</feed>")
        return web.Response(text=feed, content_type="application/atom+xml")

    async def _crossref(self, request: web.Request) -> web.StreamResponse:
        behaviour = await self._begin("crossref", request)
        fault = await self._fault(behaviour, "application/json")
        if fault is not None:
            return fault
        items = [] if behaviour == "empty" else CROSSREF_ITEMS
        if behaviour == "odd":
            items = CROSSREF_ODD_ITEMS + items
        if behaviour == "nulls":
            return web.json_response({"status": "ok", "message-type": "work-list", "message": {"facets": {}}})
        return web.json_response(
            {
                "status": "ok",
                "message-type": "work-list",
                "message-version": "1.0.0",
                "message": {
                    "facets": {},
                    "total-results": len(items),
                    "items": items,
                    "items-per-page": 20,
                    "query": {"start-index": 0, "search-terms": request.query.get("query", "")},
                },
            }
        )

    async def _wiki_action(self, request: web.Request) -> web.StreamResponse:
        behaviour = await self._begin("wikipedia", request)
        fault = await self._fault(behaviour, "application/json")
        if fault is not None:
            return fault
        query = request.query
        if query.get("list") == "search":
            hits = (
                []
                if behaviour == "empty" or ARTIST.lower() not in query.get("srsearch", "").lower()
                else [
                    {
                        "ns": 0,
                        "title": "Marlowe (band)",
                        "pageid": 880,
                        "size": 2100,
                        "wordcount": 300,
                        "snippet": "Marlowe is a band",
                        "timestamp": "2023-01-01T00:00:00Z",
                    },
                    {
                        "ns": 0,
                        "title": WIKI_TITLE,
                        "pageid": 7788,
                        "size": 9100,
                        "wordcount": 1200,
                        "snippet": '<span class="searchmatch">Tessa</span> Marlowe is an American drummer',
                        "timestamp": "2024-02-03T10:00:00Z",
                    },
                ]
            )
            return web.json_response(
                {"batchcomplete": "", "query": {"searchinfo": {"totalhits": len(hits)}, "search": hits}}
            )
        if query.get("prop") == "extracts":
            if query.get("titles") != WIKI_TITLE:
                return web.json_response(
                    {
                        "batchcomplete": "",
                        "query": {
                            "pages": {"-1": {"ns": 0, "title": query.get("titles", ""), "missing": ""}}
                        },
                    }
                )
            return web.json_response(
                {
                    "batchcomplete": "",
                    "query": {
                        "pages": {
                            "7788": {"pageid": 7788, "ns": 0, "title": WIKI_TITLE, "extract": WIKI_EXTRACT}
                        }
                    },
                }
            )
        return web.json_response({"error": {"code": "badvalue", "info": "Unrecognized value"}}, status=400)

    async def _wiki_summary(self, request: web.Request) -> web.StreamResponse:
        behaviour = await self._begin("wikipedia", request)
        fault = None if behaviour == "404" else await self._fault(behaviour, "application/json")
        if fault is not None:
            return fault
        if request.match_info["title"] != WIKI_TITLE.replace(" ", "_") or behaviour == "404":
            return web.json_response(
                {
                    "type": "https://mediawiki.org/wiki/HyperSwitch/errors/not_found",
                    "title": "Not found.",
                    "method": "get",
                },
                status=404,
            )
        if behaviour == "disambiguation":
            return web.json_response(WIKI_DISAMBIGUATION_SUMMARY)
        return web.json_response(
            {
                "type": "standard",
                "title": WIKI_TITLE,
                "displaytitle": WIKI_TITLE,
                "pageid": 7788,
                "lang": "en",
                "description": WIKI_DESCRIPTION,
                "extract": WIKI_LEAD,
                "content_urls": {
                    "desktop": {"page": "https://en.wikipedia.org/wiki/Tessa_Marlowe"},
                    "mobile": {"page": "https://en.m.wikipedia.org/wiki/Tessa_Marlowe"},
                },
            }
        )

    async def _site(self, request: web.Request) -> web.StreamResponse:
        behaviour = await self._begin("site", request)
        fault = await self._fault(behaviour, "text/html")
        if fault is not None:
            return fault
        if request.match_info["slug"] == SLOW_SLUG:
            await asyncio.sleep(self.hang_s)  # a download that outlasts the collector's time limit
        if request.match_info["slug"] != ARTIST_SLUG or behaviour == "empty":
            return web.Response(
                status=404, text="<html><body>No such drummer</body></html>", content_type="text/html"
            )
        if behaviour == "odd":  # an old page: Latin-1 declared only in a meta tag, no <body> element
            page = PROFILE_HTML.replace('charset="utf-8"', 'charset="iso-8859-1"').replace(
                "relaxed, laid-back feel.", "relaxed, laid-back feel at the Café Wha?"
            )
            page = page.replace("<body>", "").replace("</body>", "")
            return web.Response(body=page.encode("iso-8859-1"), headers={"Content-Type": "text/html"})
        if behaviour == "huge":
            padding = "<p>Tessa Marlowe funk drummer archive.</p>\n" * (HUGE_PAGE_BYTES // 40)
            return web.Response(
                text=PROFILE_HTML.replace("</body>", padding + "</body>"), content_type="text/html"
            )
        return web.Response(text=PROFILE_HTML, content_type="text/html")

    async def _bitmidi_search(self, request: web.Request) -> web.StreamResponse:
        behaviour = await self._begin("bitmidi", request)
        fault = await self._fault(behaviour, "application/json")
        if fault is not None:
            return fault
        if behaviour == "nulls":
            return web.json_response({"result": {"results": None, "total": 0, "pageTotal": 0}})
        matches = ARTIST.lower() in request.query.get("q", "").lower() and behaviour != "empty"
        results: list[dict[str, Any]] = []
        if matches:
            named = {
                **{k: v[0] for k, v in MIDI_FILES.items()},
                PIANO_ID: "tessa-marlowe-ballad-piano.mid",
                UNRELATED_ID: "camptown-races.mid",
            }
            for midi_id, name in named.items():
                slug = name.removesuffix(".mid")
                results.append(
                    {
                        "id": midi_id,
                        "name": name,
                        "slug": f"{slug}-mid",
                        "url": f"/{slug}-mid",
                        "downloadUrl": f"/uploads/{midi_id}.mid",
                        "plays": 42,
                        "createdAt": "2016-04-11T21:03:10.000Z",
                        "updatedAt": "2023-01-05T08:00:00.000Z",
                    }
                )
            if behaviour == "odd":
                results.append(
                    {"id": 4199, "name": "tessa-marlowe-removed.mid", "url": "/tessa-marlowe-removed-mid"}
                )
                for midi_id in ODD_MIDI_IDS:
                    name = f"tessa-marlowe-odd-{midi_id}.mid"
                    results.append({"id": midi_id, "name": name, "downloadUrl": f"/uploads/{midi_id}.mid"})
        return web.json_response({"result": {"results": results, "total": len(results), "pageTotal": 1}})

    async def _bitmidi_file(self, request: web.Request) -> web.StreamResponse:
        behaviour = await self._begin("bitmidi", request)
        fault = await self._fault(behaviour, "audio/midi")
        if fault is not None:
            return fault
        midi_id = int(request.match_info["id"])
        if midi_id == ODD_MIDI_IDS[0]:
            return web.Response(text=HTML_ERROR_PAGE, content_type="text/html")
        if midi_id == ODD_MIDI_IDS[1] or behaviour == "truncated":
            body = midi_bytes(MIDI_FILES[4101][1])
            return web.Response(body=body[: len(body) // 2], content_type="audio/midi")
        if midi_id in MIDI_FILES:
            body = midi_bytes(MIDI_FILES[midi_id][1])
        elif midi_id in (PIANO_ID, UNRELATED_ID):
            body = piano_midi_bytes()
        else:
            return web.Response(status=404, text="not found")
        return web.Response(body=body, content_type="audio/midi")

    async def _media_feed(self, request: web.Request) -> web.StreamResponse:
        """A podcast-style RSS feed (what yt-dlp's generic extractor reads as a playlist, like a search):
        the artist's recording, then one whose file is gone (?then=slow: one that hangs; ?then=none: nothing)."""
        await self._begin("media_feed", request)
        base = f"{request.scheme}://{request.host}/media"
        then = {"slow": [("Slow take", SLOW_SLUG)], "none": []}.get(
            request.query.get("then", ""), [("Removed video", "Removed_Video")]
        )
        items = "".join(
            f"<item><title>{title}</title><guid>{slug}</guid>"
            f'<enclosure url="{base}/{slug}.wav" type="audio/wav" length="1"/></item>'
            for title, slug in [(f"{ARTIST} groove", ARTIST_SLUG), *then]
        )
        feed = (
            f'<?xml version="1.0"?><rss version="2.0"><channel><title>{ARTIST}</title>{items}</channel></rss>'
        )
        return web.Response(text=feed, content_type="application/rss+xml")

    async def _media(self, request: web.Request) -> web.StreamResponse:
        behaviour = await self._begin("media", request)
        fault = await self._fault(behaviour, "audio/wav")
        if fault is not None:
            return fault
        if request.match_info["slug"] == SLOW_SLUG:
            await asyncio.sleep(self.hang_s)  # a download that outlasts the collector's time limit
        if request.match_info["slug"] != ARTIST_SLUG or behaviour == "empty":
            return web.Response(status=404, text="not found")
        body = await asyncio.to_thread(media_wav_bytes)
        headers = {"Content-Disposition": f'inline; filename="{ARTIST_SLUG}.wav"'}
        if request.method == "HEAD":
            return web.Response(
                status=200, headers={**headers, "Content-Length": str(len(body))}, content_type="audio/wav"
            )
        return web.Response(body=body, content_type="audio/wav", headers=headers)


def arxiv_feed(search_query: str, entries: list[tuple[str, str, str, str]]) -> str:
    """An arXiv API Atom feed with the given (id, title, summary, published) entries."""
    from urllib.parse import quote
    from xml.sax.saxutils import escape

    items = "".join(
        f"""
  <entry>
    <id>{escape(eid)}</id>
    <updated>{published}</updated>
    <published>{published}</published>
    <title>{escape(title)}</title>
    <summary>  {escape(summary)}
    </summary>
    <author><name>B. Analyst</name></author>
    <link href="{escape(eid)}" rel="alternate" type="text/html"/>
    <link title="pdf" href="{escape(eid.replace("/abs/", "/pdf/"))}" rel="related" type="application/pdf"/>
    <arxiv:primary_category xmlns:arxiv="http://arxiv.org/schemas/atom" term="cs.SD" scheme="http://arxiv.org/schemas/atom"/>
    <category term="cs.SD" scheme="http://arxiv.org/schemas/atom"/>
  </entry>"""
        for eid, title, summary, published in entries
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <link href="http://arxiv.org/api/query?search_query={quote(search_query)}" rel="self" type="application/atom+xml"/>
  <title type="html">ArXiv Query: search_query={escape(search_query)}</title>
  <id>http://arxiv.org/api/cHxbiOdZaP56ODnBPIenZhzg5f8</id>
  <updated>2024-05-01T00:00:00-04:00</updated>
  <opensearch:totalResults xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">{len(entries)}</opensearch:totalResults>
  <opensearch:startIndex xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">0</opensearch:startIndex>
  <opensearch:itemsPerPage xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">20</opensearch:itemsPerPage>{items}
</feed>
"""
