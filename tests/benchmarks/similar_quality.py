"""Benchmark: how musical `similar` is over the built-in drummers: judged neighbours in each top 5 (and 10).

Run: .venv/bin/python -m tests.benchmarks.similar_quality [--schemes] [--verbose]

The judged sets (tests/research/judged_neighbours.json: 17 drummers across jazz, metal, rock, punk, funk,
New Orleans, disco, session, hip-hop, gospel, afrobeat, Brazilian and reggae) were written down before
any scheme was measured. A hit is a judged neighbour among a drummer's k nearest; the total is out of
sum(min(k, set size)), so a set of two (reggae) counts two.

Without options: the shipped vectors (drummer_embeddings.json), ranked as `similar` ranks the built-ins.
--schemes also embeds every built-in drummer with MiniLM (needs the research extra; ~30 s on 2 cores)
and scores the schemes tried, the first scheme (its whole text alone) and the shipped one among them.
Tried and not taken: adding traits, or the numbers (tempo, swing, ghost notes, busyness, fills) as
words: within a hit or two of the shipped scheme, i.e. within what 17 queries can tell apart.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from mididrumigen.profile import StyleProfile
from mididrumigen.research.builtin_vectors import shipped_embedding
from mididrumigen.research.drummers import builtin_profiles
from mididrumigen.research.embeddings import EMBEDDING_SCHEME, embedding_text, embedding_texts

JUDGED_PATH = Path(__file__).parents[1] / "research" / "judged_neighbours.json"


def load_judged() -> dict[str, list[str]]:
    """Query drummer -> the built-in drummers judged to play alike."""
    judged: dict[str, list[str]] = json.loads(JUDGED_PATH.read_text(encoding="utf-8"))["judged"]
    return judged


def score(
    names: list[str], vectors: np.ndarray, judged: dict[str, list[str]], k: int, verbose: bool = False
) -> tuple[int, int]:
    """(hits, possible) of judged neighbours among each query's k nearest by cosine."""
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    cosine = unit @ unit.T
    hits = possible = 0
    for query, good in judged.items():
        i = names.index(query)
        nearest = [names[j] for j in np.argsort(-cosine[i], kind="stable") if j != i][:k]
        found = sum(n in good for n in nearest)
        hits += found
        possible += min(k, len(good))
        if verbose:
            print(f"  {query:<20} {found}/{min(k, len(good))}  {', '.join(nearest)}")
    return hits, possible


def report(
    label: str, names: list[str], vectors: np.ndarray, judged: dict[str, list[str]], verbose: bool
) -> None:
    """One line of figures (top 5 and top 10), with each query's top 5 when verbose."""
    h5, p5 = score(names, vectors, judged, 5)
    h10, p10 = score(names, vectors, judged, 10)
    print(
        f"{label:<46} top 5: {h5:>2}/{p5} ({100 * h5 / p5:.0f} %)   top 10: {h10:>3}/{p10} ({100 * h10 / p10:.0f} %)"
    )
    if verbose:
        score(names, vectors, judged, 5, verbose=True)


def feel_text(profile: StyleProfile) -> str:
    """The numbers as words (tried as a fourth text)."""
    q = profile.quantitative_params

    def band(value: float, cuts: list[float], words: list[str]) -> str:
        return next((w for c, w in zip(cuts, words, strict=False) if value < c), words[-1])

    return "Feel: " + ", ".join(
        [
            band(
                q.tempo_typical, [85, 115, 150], ["slow tempo", "medium tempo", "upbeat tempo", "fast tempo"]
            ),
            band(q.swing_percent, [54, 60], ["straight", "lightly swung", "swung triplet feel"]),
            band(q.ghost_note_prob, [0.1, 0.25], ["few ghost notes", "some ghost notes", "many ghost notes"]),
            band(q.busyness, [0.35, 0.65], ["sparse", "moderately busy", "busy"]),
            band(q.fill_density, [0.35, 0.65], ["few fills", "some fills", "dense fills"]),
        ]
    )


def candidate_schemes(names: list[str], profiles: dict[str, StyleProfile]) -> list[tuple[str, np.ndarray]]:
    """Embed the texts of every scheme tried with MiniLM and mix them as each scheme does."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from mididrumigen.research.embeddings import MiniLMEmbedder

    model = asyncio.run(MiniLMEmbedder().model())
    texts: dict[str, Callable[[StyleProfile], str]] = {
        "text": embedding_text,
        "description": lambda p: p.text_description,
        "genres+styles": lambda p: (
            f"Genres: {', '.join(p.genres)}. Styles: {', '.join(s.replace('_', ' ') for s in p.styles)}."
        ),
        "genres": lambda p: embedding_texts(p)[1],
        "styles": lambda p: embedding_texts(p)[2],
        "traits": lambda p: "Traits: " + ", ".join(p.signature_traits),
        "feel": feel_text,
    }
    every = {
        part: model.encode(
            [make(profiles[n]) for n in names], normalize_embeddings=True, show_progress_bar=False
        )
        for part, make in texts.items()
    }

    def mix(*parts: tuple[str, float]) -> np.ndarray:
        return sum((weight * every[part] for part, weight in parts), np.zeros_like(every["text"]))

    return [
        ("first scheme: whole text alone", every["text"]),
        ("description alone", every["description"]),
        ("'Genres: ... Styles: ...' alone", every["genres+styles"]),
        ("description + genres/styles text, 1:1", mix(("description", 1), ("genres+styles", 1))),
        ("whole text + genres/styles text, 1:1", mix(("text", 1), ("genres+styles", 1))),
        ("whole text + genres + styles, 1:1:1 (shipped)", mix(("text", 1), ("genres", 1), ("styles", 1))),
        ("whole text + genres + styles, 0.4:0.5:0.5", mix(("text", 0.4), ("genres", 0.5), ("styles", 0.5))),
        ("... 1:1:1 + traits 0.5", mix(("text", 1), ("genres", 1), ("styles", 1), ("traits", 0.5))),
        ("... 1:1:1 + numbers as words 1", mix(("text", 1), ("genres", 1), ("styles", 1), ("feel", 1))),
    ]


def main() -> None:
    """Print the figures of the shipped vectors and, with --schemes, of every scheme tried."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--schemes", action="store_true", help="also embed and score the schemes tried (MiniLM)"
    )
    parser.add_argument("--verbose", action="store_true", help="print each query's five nearest")
    args = parser.parse_args()
    judged = load_judged()
    profiles = builtin_profiles()
    names = sorted(profiles)
    shipped = [shipped_embedding(profiles[n]) for n in names]
    print(
        f"{len(judged)} judged drummers, {len(names)} built-in drummers; shipped scheme {EMBEDDING_SCHEME!r}"
    )
    if all(v is not None for v in shipped):
        report("shipped vectors", names, np.array(shipped), judged, args.verbose)
    else:
        print("shipped vectors: stale (run python -m mididrumigen.research.builtin_vectors)")
    if args.schemes:
        started = time.perf_counter()
        schemes = candidate_schemes(names, profiles)
        print(f"embedded the texts of {len(schemes)} schemes in {time.perf_counter() - started:.1f} s")
        for label, vectors in schemes:
            report(label, names, vectors, judged, args.verbose and label.startswith("first"))


if __name__ == "__main__":
    main()
