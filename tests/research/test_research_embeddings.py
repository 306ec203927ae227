"""Embeddings: the text we embed, lazy loading off the event loop, and the real MiniLM model (slow)."""

from __future__ import annotations

import asyncio
import math
import subprocess
import sys
import threading

import pytest

from mididrumigen.profile import QuantitativeParams, StyleProfile
from mididrumigen.research.embeddings import (
    EMBEDDING_DIMS,
    MiniLMEmbedder,
    embed_profile,
    embedding_fingerprint,
    embedding_text,
    embedding_texts,
)


def profile(
    name: str, styles: list[str], traits: list[str], description: str, tempo: float = 100.0
) -> StyleProfile:
    return StyleProfile(
        name,
        description,
        QuantitativeParams(tempo_typical=tempo),
        styles,
        traits,
        genres=["funk"],
        confidence_score=0.8,
    )


def test_embedding_text_holds_description_styles_traits_and_numbers() -> None:
    text = embedding_text(profile("A", ["funk", "soul_motown"], ["ghost notes"], "Deep pocket.", tempo=97.0))
    assert "Deep pocket." in text
    assert "Styles: funk, soul motown" in text
    assert "Traits: ghost notes" in text
    assert "Tempo 97 BPM" in text


class RecordingEmbedder:
    """Gives each text its own axis (in order of first use) and records what it was asked."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    async def embed(self, text: str) -> list[float]:
        if text not in self.texts:
            self.texts.append(text)
        vector = [0.0] * EMBEDDING_DIMS
        vector[self.texts.index(text)] = 1.0
        return vector


async def test_a_profile_is_the_normalised_mix_of_its_text_its_genres_and_its_styles() -> None:
    # One embedding of the whole text let its wording ("laid-back", "funky") outweigh genre and style.
    p = profile("A", ["jazz_swing", "jazz_waltz"], ["rolling triplets"], "Coltrane's drummer.")
    p.genres = ["jazz", "hard bop"]
    assert embedding_texts(p) == [
        embedding_text(p),
        "Genres: jazz, hard bop",
        "Styles: jazz swing, jazz waltz",
    ]
    embedder = RecordingEmbedder()
    vector = await embed_profile(embedder, p)
    assert embedder.texts == embedding_texts(p)
    assert vector[:4] == pytest.approx([1 / math.sqrt(3)] * 3 + [0.0])
    assert math.isclose(math.fsum(v * v for v in vector), 1.0)


async def test_a_profile_without_genres_mixes_what_it_has() -> None:
    p = profile("B", ["funk"], [], "Deep pocket.")
    p.genres = []
    assert embedding_texts(p) == [embedding_text(p), "Styles: funk"]
    vector = await embed_profile(RecordingEmbedder(), p)
    assert vector[:3] == pytest.approx([1 / math.sqrt(2)] * 2 + [0.0])


def test_the_fingerprint_covers_every_text_the_vector_is_made_of() -> None:
    p = profile("C", ["funk"], ["ghost notes"], "Deep pocket.")
    before = embedding_fingerprint(p)
    assert embedding_fingerprint(profile("C", ["funk"], ["ghost notes"], "Deep pocket.")) == before
    p.genres = ["soul"]
    assert embedding_fingerprint(p) != before
    p = profile("C", ["funk"], ["ghost notes"], "Deep pocket.")
    p.quantitative_params.swing_percent = 60.0
    assert embedding_fingerprint(p) != before


def test_torch_stays_out_of_the_research_import_path() -> None:
    code = (
        "import sys, mididrumigen.research.orchestrator, mididrumigen.research.commands, mididrumigen.cli;"
        "bad = [m for m in ('torch', 'sentence_transformers', 'librosa', 'yt_dlp') if m in sys.modules];"
        "print(','.join(bad))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == ""


async def test_the_model_loads_once_in_a_worker_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    loads: list[str] = []

    class FakeModel:
        def encode(self, texts: list[str], **kwargs: object) -> list[list[float]]:
            return [[1.0] + [0.0] * (EMBEDDING_DIMS - 1) for _ in texts]

    embedder = MiniLMEmbedder()

    def fake_load() -> FakeModel:
        loads.append(threading.current_thread().name)
        return FakeModel()

    monkeypatch.setattr(embedder, "_load", fake_load)
    vectors = await asyncio.gather(*(embedder.embed(f"text {i}") for i in range(5)))
    assert len(loads) == 1 and loads[0] != threading.main_thread().name
    assert all(len(v) == EMBEDDING_DIMS for v in vectors)


@pytest.mark.slow
async def test_real_minilm_embeddings_place_similar_drummers_close() -> None:
    embedder = MiniLMEmbedder()
    funk_a = await embedder.embed(
        embedding_text(
            profile(
                "A",
                ["funk", "linear_funk"],
                ["ghost notes", "syncopated kick"],
                "A funk drummer with a deep pocket.",
            )
        )
    )
    funk_b = await embedder.embed(
        embedding_text(
            profile(
                "B",
                ["funk", "soul_motown"],
                ["ghost notes", "laid-back backbeat"],
                "Soul and funk grooves, deep pocket.",
            )
        )
    )
    metal = await embedder.embed(
        embedding_text(
            profile(
                "C",
                ["metal"],
                ["blast beats", "double bass drum"],
                "Extreme metal drummer, very fast.",
                tempo=200.0,
            )
        )
    )
    assert len(funk_a) == EMBEDDING_DIMS
    assert math.isclose(sum(v * v for v in funk_a), 1.0, rel_tol=1e-4)

    def cosine(a: list[float], b: list[float]) -> float:
        return sum(x * y for x, y in zip(a, b, strict=True))

    assert cosine(funk_a, funk_b) > cosine(funk_a, metal)
