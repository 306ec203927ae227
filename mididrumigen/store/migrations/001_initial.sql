-- 001: the initial schema. Timestamps are unix seconds (REAL); JSON columns hold text.

CREATE TABLE artists (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    origin TEXT NOT NULL DEFAULT 'research',          -- builtin | research
    research_status TEXT NOT NULL DEFAULT 'pending',  -- pending | researching | cached | failed
    confidence REAL NOT NULL DEFAULT 0.0,
    sources_count INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);

CREATE TABLE research_sources (
    id INTEGER PRIMARY KEY,
    artist_id INTEGER NOT NULL REFERENCES artists(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('paper', 'article', 'audio', 'midi')),
    url TEXT NOT NULL DEFAULT '',
    title TEXT NOT NULL DEFAULT '',
    raw TEXT NOT NULL DEFAULT '',
    extracted TEXT NOT NULL DEFAULT '{}',
    confidence REAL NOT NULL DEFAULT 0.0,
    fetched_at REAL NOT NULL
);
CREATE INDEX research_sources_artist ON research_sources(artist_id);

CREATE TABLE style_profiles (
    artist_id INTEGER PRIMARY KEY REFERENCES artists(id) ON DELETE CASCADE,
    profile TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    confidence REAL NOT NULL DEFAULT 0.0,
    updated_at REAL NOT NULL
);

-- Cosine KNN over 384-d profile embeddings, keyed by artist id.
CREATE VIRTUAL TABLE profile_embeddings USING vec0(
    artist_id INTEGER PRIMARY KEY,
    embedding float[384] distance_metric=cosine
);

CREATE TABLE generation_history (
    id INTEGER PRIMARY KEY,
    artist TEXT,
    request TEXT NOT NULL,
    provider_used TEXT NOT NULL,
    attempts TEXT NOT NULL DEFAULT '[]',
    tokens INTEGER NOT NULL DEFAULT 0,
    cost REAL NOT NULL DEFAULT 0.0,
    generation_time_ms REAL NOT NULL,
    files TEXT NOT NULL DEFAULT '[]',
    created_at REAL NOT NULL
);

CREATE TABLE generated_files (
    id TEXT PRIMARY KEY,
    generation_id INTEGER REFERENCES generation_history(id) ON DELETE SET NULL,
    path TEXT NOT NULL,
    name TEXT NOT NULL,
    artist TEXT,
    created_at REAL NOT NULL
);

CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    stage TEXT NOT NULL DEFAULT '',
    progress REAL NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    error TEXT,
    params TEXT NOT NULL DEFAULT '{}',
    result TEXT,
    artist TEXT,
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    attempts INTEGER NOT NULL DEFAULT 0,
    heartbeat_at REAL
);
CREATE INDEX jobs_status ON jobs(status);
CREATE INDEX jobs_artist ON jobs(artist, status);
