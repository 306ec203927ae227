"""Benchmark: GET /similar over 10,000 stored random profiles (target <= 10 ms), and the bare KNN query.

Run: .venv/bin/python -m tests.benchmarks.similar_knn
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp.test_utils import TestServer

from mididrumigen.api import GUARD, build_api
from mididrumigen.app import App
from mididrumigen.profile import QuantitativeParams, StyleProfile
from mididrumigen.settings import Settings
from mididrumigen.store import EMBEDDING_DIMS
from mididrumigen.store.store import embedding_blob

PROFILES = 10_000
QUERIES = 300
TOKEN = "benchmark-token-0123456789abcdef0123456789"


async def fill(app: App, rng: random.Random) -> None:
    """Store PROFILES artists with profiles and random embeddings in one transaction."""
    now = time.time()
    template = StyleProfile("x", "random test drummer", QuantitativeParams(), ["rock"]).to_json()
    async with app.store.db.write() as conn:
        for i in range(PROFILES):
            cursor = await conn.execute(
                "INSERT INTO artists (name, research_status, confidence, created_at, updated_at)"
                " VALUES (?, 'cached', ?, ?, ?)",
                (f"Random Drummer {i}", rng.random(), now, now),
            )
            artist_id = cursor.lastrowid
            text = json.dumps(template | {"artist_name": f"Random Drummer {i}"})
            await conn.execute(
                "INSERT INTO style_profiles (artist_id, profile, confidence, updated_at)"
                " VALUES (?, ?, 0.5, ?)",
                (artist_id, text, now),
            )
            vec = [rng.gauss(0, 1) for _ in range(EMBEDDING_DIMS)]
            await conn.execute(
                "INSERT INTO profile_embeddings (artist_id, embedding) VALUES (?, ?)",
                (artist_id, embedding_blob(vec)),
            )


async def main_async() -> None:
    """Fill a store, serve it, time /similar over HTTP and store.similar directly."""
    rng = random.Random(42)
    with tempfile.TemporaryDirectory() as tmp:
        app = await App.create(Settings({"data_dir": str(Path(tmp))}))
        await app.start()
        started = time.perf_counter()
        await fill(app, rng)
        print(f"stored {PROFILES} random profiles in {time.perf_counter() - started:.1f} s")
        api = build_api(app, TOKEN)
        server = TestServer(api, host="127.0.0.1", port=0)
        await server.start_server()
        api[GUARD].port = server.port or 0
        try:
            direct, http = [], []
            for _ in range(QUERIES):
                name = f"Random Drummer {rng.randrange(PROFILES)}"
                t = time.perf_counter()
                found = await app.store.similar(name, 10)
                direct.append((time.perf_counter() - t) * 1000)
                assert found is not None and len(found) == 10
            async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {TOKEN}"}) as session:
                for _ in range(QUERIES):
                    name = f"Random%20Drummer%20{rng.randrange(PROFILES)}"
                    t = time.perf_counter()
                    async with session.get(
                        f"http://127.0.0.1:{server.port}/api/v1/similar/{name}?limit=10"
                    ) as resp:
                        body = await resp.json()
                    http.append((time.perf_counter() - t) * 1000)
                    assert resp.status == 200 and len(body["similar"]) == 10
            p99 = sorted(http)[int(0.99 * len(http)) - 1]
            print(f"store.similar (sqlite-vec KNN, k=10, cosine): median {statistics.median(direct):.2f} ms")
            print(
                f"GET /api/v1/similar/{{artist}} over HTTP: median {statistics.median(http):.2f} ms, p99 {p99:.2f} ms"
                " (target <= 10 ms)"
            )
        finally:
            await server.close()
            await app.close()


if __name__ == "__main__":
    asyncio.run(main_async())
