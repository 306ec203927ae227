-- 003: profile embeddings are now the normalised mix of three MiniLM embeddings (a profile's whole text,
-- its genres, its styles; research/embeddings.py EMBEDDING_SCHEME) instead of one of its whole text.
-- Vectors of the first scheme are dropped in this migration's transaction, so no KNN ranks the two kinds
-- together. At start the daemon gives the built-in drummers their shipped vectors of the new scheme and
-- re-embeds researched profiles in the background (`similar` without a daemon does it when asked);
-- until then a profile without a vector is simply not ranked.
DELETE FROM profile_embeddings;
