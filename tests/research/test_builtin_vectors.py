"""Shipped embeddings of the built-in drummers: current, decodable, and the model's own output."""

from __future__ import annotations

import asyncio
import json
import math
from pathlib import Path

import pytest

from mididrumigen.research import embeddings
from mididrumigen.research.builtin_vectors import decode_vector, encode_vector, shipped_embedding, stale_names
from mididrumigen.research.drummers import builtin_profiles, find_builtin

JUDGED = json.loads(Path(__file__).with_name("judged_neighbours.json").read_text(encoding="utf-8"))["judged"]


def shipped_top(name: str, k: int = 5) -> list[str]:
    """The k built-in drummers nearest to name by shipped vector (cosine), as `similar` ranks them."""
    vectors = {n: shipped_embedding(p) for n, p in builtin_profiles().items()}
    query = vectors[name]
    assert query is not None
    scores = {n: math.fsum(a * b for a, b in zip(query, v, strict=True)) for n, v in vectors.items()
              if v is not None and n != name}
    return sorted(scores, key=lambda n: -scores[n])[:k]


def test_every_builtin_drummer_has_a_current_vector() -> None:
    # Fails when drummers.json changes without `python -m mididrumigen.research.builtin_vectors`.
    assert stale_names() == []


def test_vectors_are_unit_length_and_round_trip() -> None:
    vector = shipped_embedding(find_builtin("John Bonham"))
    assert vector is not None
    assert math.isclose(math.fsum(v * v for v in vector), 1.0, rel_tol=1e-4)
    assert decode_vector(encode_vector(vector)) == vector
    with pytest.raises(ValueError, match="expected 384"):
        decode_vector(encode_vector(vector[:10]))


def test_changed_profile_text_is_not_given_an_old_vector() -> None:
    profile = find_builtin("Questlove")
    profile.text_description += " Plays only polkas."
    assert shipped_embedding(profile) is None
    profile = find_builtin("Questlove")
    profile.genres.append("polka")
    assert shipped_embedding(profile) is None


def test_a_vector_of_another_embedding_scheme_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    assert shipped_embedding(find_builtin("Questlove")) is not None
    monkeypatch.setattr(embeddings, "EMBEDDING_SCHEME", embeddings.EMBEDDING_SCHEME + "-next")
    assert shipped_embedding(find_builtin("Questlove")) is None


def test_shipped_vectors_rank_judged_neighbours_first() -> None:
    # The single-text scheme put 1 jazz drummer among Elvin Jones's 5 nearest (Harvey Mason, Jojo Mayer,
    # Bernard Purdie...), 2 punk/rock ones among Tre Cool's, and 42 judged neighbours in all 17 top fives.
    assert sum(n in JUDGED["Elvin Jones"] for n in shipped_top("Elvin Jones")) >= 4
    assert sum(n in JUDGED["Tré Cool"] for n in shipped_top("Tré Cool")) >= 3
    assert sum(n in JUDGED["Aaron Spears"] for n in shipped_top("Aaron Spears")) >= 3
    assert set(shipped_top("Dave Lombardo")) <= set(JUDGED["Dave Lombardo"])
    hits = sum(sum(n in good for n in shipped_top(query)) for query, good in JUDGED.items())
    assert hits >= 55


@pytest.mark.slow
def test_shipped_vectors_are_what_the_model_computes() -> None:
    from mididrumigen.research.embeddings import MiniLMEmbedder

    embedder = MiniLMEmbedder()
    for name in ("John Bonham", "Elvin Jones", "Travis Barker", "J Dilla"):
        profile = builtin_profiles()[name]
        fresh = asyncio.run(embeddings.embed_profile(embedder, profile))
        shipped = shipped_embedding(profile)
        assert shipped is not None
        cosine = math.fsum(a * b for a, b in zip(fresh, shipped, strict=True))
        assert cosine > 0.999
