"""Shipped embeddings of the built-in drummers: current, decodable, and the model's own output."""

from __future__ import annotations

import asyncio
import math

import pytest

from mididrumigen.research.builtin_vectors import decode_vector, encode_vector, shipped_embedding, stale_names
from mididrumigen.research.drummers import builtin_profiles, find_builtin
from mididrumigen.research.embeddings import embedding_text


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


@pytest.mark.slow
def test_shipped_vectors_are_what_the_model_computes() -> None:
    from mididrumigen.research.embeddings import MiniLMEmbedder

    embedder = MiniLMEmbedder()
    for name in ("John Bonham", "Elvin Jones", "Travis Barker", "J Dilla"):
        profile = builtin_profiles()[name]
        fresh = asyncio.run(embedder.embed(embedding_text(profile)))
        shipped = shipped_embedding(profile)
        assert shipped is not None
        cosine = math.fsum(a * b for a, b in zip(fresh, shipped, strict=True))
        assert cosine > 0.999
