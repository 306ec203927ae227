"""Shipped MiniLM embeddings of the built-in drummers, so `similar` needs no model for them.

The vectors are all-MiniLM-L6-v2 embeddings of `embedding_text(profile)`, made by
`python -m mididrumigen.research.builtin_vectors` (needs the research extra). Each
carries the SHA-256 of the text it embeds: a vector whose profile text has since
changed is not used, and a test says the file must be rebuilt.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import sys
from array import array
from pathlib import Path
from types import MappingProxyType
from typing import Any

from mididrumigen.profile import StyleProfile
from mididrumigen.research.embeddings import EMBEDDING_DIMS, embedding_text

VECTORS_PATH = Path(__file__).with_name("drummer_embeddings.json")
MODEL_NAME = "all-MiniLM-L6-v2"


def text_sha256(profile: StyleProfile) -> str:
    """Fingerprint of the text a profile's embedding is made from."""
    return hashlib.sha256(embedding_text(profile).encode("utf-8")).hexdigest()


def encode_vector(values: list[float]) -> str:
    """384 floats as base64 of little-endian float32."""
    packed = array("f", values)
    if sys.byteorder != "little":
        packed.byteswap()
    return base64.b64encode(packed.tobytes()).decode("ascii")


def decode_vector(text: str) -> list[float]:
    """Inverse of encode_vector; ValueError if it is not 384 floats."""
    packed = array("f")
    packed.frombytes(base64.b64decode(text))
    if sys.byteorder != "little":
        packed.byteswap()
    if len(packed) != EMBEDDING_DIMS:
        raise ValueError(f"embedding has {len(packed)} values, expected {EMBEDDING_DIMS}")
    return packed.tolist()


@functools.cache
def _shipped() -> MappingProxyType[str, tuple[str, str]]:
    """name -> (text sha256, encoded vector), read once."""
    if not VECTORS_PATH.exists():
        return MappingProxyType({})
    data = json.loads(VECTORS_PATH.read_text(encoding="utf-8"))
    return MappingProxyType({name: (entry["sha256"], entry["vector"]) for name, entry in data["drummers"].items()})


def shipped_embedding(profile: StyleProfile) -> list[float] | None:
    """The shipped embedding of a built-in profile, or None if absent or made from other text."""
    entry = _shipped().get(profile.artist_name)
    if entry is None or entry[0] != text_sha256(profile):
        return None
    return decode_vector(entry[1])


def stale_names() -> list[str]:
    """Built-in drummers whose shipped vector is missing or made from older text."""
    from mididrumigen.research.drummers import builtin_profiles

    return sorted(name for name, p in builtin_profiles().items() if shipped_embedding(p) is None)


def build(path: Path = VECTORS_PATH) -> int:
    """Embed every built-in drummer with MiniLM and write the file atomically; return the count."""
    import asyncio

    from mididrumigen.files import write_atomic
    from mididrumigen.research.drummers import builtin_profiles
    from mididrumigen.research.embeddings import MiniLMEmbedder

    embedder = MiniLMEmbedder()
    profiles = builtin_profiles()

    async def embed_all() -> dict[str, Any]:
        return {
            name: {"sha256": text_sha256(p), "vector": encode_vector(await embedder.embed(embedding_text(p)))}
            for name, p in sorted(profiles.items())
        }

    drummers = asyncio.run(embed_all())
    payload = {"model": MODEL_NAME, "dims": EMBEDDING_DIMS, "drummers": drummers}
    write_atomic(path, (json.dumps(payload, indent=0, sort_keys=True) + "\n").encode("utf-8"))
    return len(drummers)


if __name__ == "__main__":
    print(f"wrote {build()} embeddings to {VECTORS_PATH}")
