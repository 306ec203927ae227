"""Shipped embeddings of the built-in drummers: current, decodable, and the model's own output."""

from __future__ import annotations

import asyncio
import math

import numpy as np
import pytest

from mididrumigen.research import embeddings
from mididrumigen.research.builtin_vectors import decode_vector, encode_vector, shipped_embedding, stale_names
from mididrumigen.research.drummers import builtin_profiles, find_builtin
from tests.benchmarks.similar_quality import load_judged, score


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
    judged = load_judged()
    profiles = builtin_profiles()
    names = sorted(profiles)
    vectors = np.array([shipped_embedding(profiles[n]) for n in names])

    def top5_hits(*queries: str) -> int:
        return score(names, vectors, {query: judged[query] for query in queries}, 5)[0]

    assert top5_hits("Elvin Jones") >= 4
    assert top5_hits("Tré Cool") >= 3
    assert top5_hits("Aaron Spears") >= 3
    assert top5_hits("Dave Lombardo") == 5  # all five nearest judged alike
    assert top5_hits(*judged) >= 55


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
