"""The SQLite + sqlite-vec store: artists, sources, profiles, embeddings, generations, files, jobs."""

from mididrumigen.store.db import Database
from mididrumigen.store.store import EMBEDDING_DIMS, ArtistRow, FileRow, SimilarArtist, Store

__all__ = ["EMBEDDING_DIMS", "ArtistRow", "Database", "FileRow", "SimilarArtist", "Store"]
