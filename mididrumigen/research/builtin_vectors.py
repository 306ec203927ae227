"""Shipped MiniLM embeddings of the built-in drummers, so `similar` needs no model for them.

The vectors are `embed_profile` vectors (the mix of MiniLM embeddings of a profile's text,
genres and styles), made by `python -m mididrumigen.research.builtin_vectors` (needs the
research extra). Each carries the SHA-256 of the scheme and the texts it is made of: a vector
whose profile text or embedding scheme has since changed is not used, and a test says the file
must be rebuilt. fill_missing_embeddings gives stored profiles without a vector one.
"""

from __future__ import annotations

import base64
import functools
import json
import sys
from array import array
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from mididrumigen.profile import StyleProfile
from mididrumigen.research import embeddings
from mididrumigen.research.embeddings import (
    EMBEDDING_DIMS,
    TextEmbedder,
    embed_profile,
    embedding_fingerprint,
)

if TYPE_CHECKING:
    from mididrumigen.store import Store

VECTORS_PATH = Path(__file__).with_name("drummer_embeddings.json")
MODEL_NAME = "all-MiniLM-L6-v2"


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
    """name -> (fingerprint, encoded vector), read once (nothing from a file of another scheme)."""
    if not VECTORS_PATH.exists():
        return MappingProxyType({})
    data = json.loads(VECTORS_PATH.read_text(encoding="utf-8"))
    if data.get("scheme") != embeddings.EMBEDDING_SCHEME:
        return MappingProxyType({})
    return MappingProxyType(
        {name: (entry["sha256"], entry["vector"]) for name, entry in data["drummers"].items()}
    )


def shipped_embedding(profile: StyleProfile) -> list[float] | None:
    """The shipped embedding of a built-in profile, or None if absent or made from other text or another scheme."""
    entry = _shipped().get(profile.artist_name)
    if entry is None or entry[0] != embedding_fingerprint(profile):
        return None
    return decode_vector(entry[1])


def stale_names() -> list[str]:
    """Built-in drummers whose shipped vector is missing or made from older text."""
    from mididrumigen.research.drummers import builtin_profiles

    return sorted(name for name, p in builtin_profiles().items() if shipped_embedding(p) is None)


async def fill_missing_embeddings(store: Store, embedder: TextEmbedder | None = None) -> list[str]:
    """Give every stored profile without a vector one of the current scheme; return the names still without.

    A built-in drummer's profile (or a plain copy an older release seeded, which is served as
    today's built-in) takes its shipped vector: no model. A researched profile is embedded with
    embedder (the model is loaded and run off the event loop), or left out when embedder is None.
    A vector is only added where none is, so a profile research saved meanwhile keeps its own.
    """
    from mididrumigen.research.drummers import builtin_profiles

    rows = [row for row in await store.list_artists() if row.has_profile and not row.has_embedding]
    builtins = {name.casefold(): p for name, p in builtin_profiles().items()} if rows else {}
    left: list[str] = []
    for row in rows:
        profile = await store.get_profile(row.name)
        if profile is None:
            continue
        vector = await current_vector(profile, builtins.get(row.name.casefold()), embedder)
        if vector is None:
            left.append(row.name)
        else:
            await store.set_embedding(row.name, vector, only_if_missing=True)
    return left


async def current_vector(
    profile: StyleProfile, builtin: StyleProfile | None, embedder: TextEmbedder | None
) -> list[float] | None:
    """A stored profile's vector of the current scheme: the shipped one when it is (or is served as)
    that built-in drummer's, else embedded with embedder; None without embedder.

    builtin: the built-in drummer of the same name, if any.
    """
    from mididrumigen.research.drummers import researched_or_builtin

    vector = shipped_embedding(profile)
    if vector is None and builtin is not None and researched_or_builtin(profile, builtin) is builtin:
        vector = shipped_embedding(builtin)
    if vector is None and embedder is not None:
        vector = await embed_profile(embedder, profile)
    return vector


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
            name: {
                "sha256": embedding_fingerprint(p),
                "vector": encode_vector(await embed_profile(embedder, p)),
            }
            for name, p in sorted(profiles.items())
        }

    drummers = asyncio.run(embed_all())
    payload = {
        "model": MODEL_NAME,
        "scheme": embeddings.EMBEDDING_SCHEME,
        "dims": EMBEDDING_DIMS,
        "drummers": drummers,
    }
    write_atomic(path, (json.dumps(payload, indent=0, sort_keys=True) + "\n").encode("utf-8"))
    return len(drummers)


if __name__ == "__main__":
    print(f"wrote {build()} embeddings to {VECTORS_PATH}")
