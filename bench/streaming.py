"""Streaming latency: how long until a newly posted status reaches an open stream.

Starts an instance on loopback (SQLite in a temporary directory, or PostgreSQL when
``--postgres URL`` is given), opens a WebSocket on the ``user`` stream as a follower of the
author, posts ~50 statuses through ``POST /api/v1/statuses`` and prints the median and p95
of (event received − request sent), in milliseconds.

    python bench/streaming.py [--posts 50] [--postgres postgresql://…]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import orjson
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from activitypub.urls import Urls
from fedinode import appkeys
from fedinode.app import create_app
from fedinode.config import load_config
from fedinode.services.users import create_local_user


async def token_for(store: object, user_id: int) -> str:
    raw = secrets.token_urlsafe(24)
    s = store  # typed loosely: this is a script
    app = await s.oauth.create_app(  # type: ignore[attr-defined]
        name="bench",
        website=None,
        redirect_uris="urn:ietf:wg:oauth:2.0:oob",
        scopes="read write",
        client_id=secrets.token_hex(8),
        client_secret=secrets.token_hex(8),
    )
    await s.oauth.create_token(raw, app_id=app.id, user_id=user_id, scopes="read write")  # type: ignore[attr-defined]
    return raw


async def run(posts: int, database_url: str, port: int) -> list[float]:
    base = load_config(None, environ={})
    config = dataclasses.replace(
        base,
        instance=dataclasses.replace(base.instance, domain=f"127.0.0.1:{port}"),
        database=dataclasses.replace(base.database, url=database_url),
        federation=dataclasses.replace(base.federation, scheme="http"),
        server=dataclasses.replace(base.server, access_log=False),
    )
    app = create_app(config)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        store = app[appkeys.STORE]
        urls = Urls(config.base_url)
        author_user, author = await create_local_user(
            store, urls, username="author", email="a@b.c", password="benchmark1"
        )
        reader_user, reader = await create_local_user(
            store, urls, username="reader", email="r@b.c", password="benchmark1"
        )
        await store.relationships.follow(reader.id, author.id)
        author_token = await token_for(store, author_user.id)
        reader_token = await token_for(store, reader_user.id)
        base_url = f"http://127.0.0.1:{port}"
        latencies: list[float] = []
        async with aiohttp.ClientSession() as http:
            ws = await http.ws_connect(
                f"{base_url}/api/v1/streaming?stream=user&access_token={reader_token}"
            )
            headers = {"Authorization": f"Bearer {author_token}"}
            for i in range(posts + 3):
                started = time.perf_counter()
                resp = await http.post(
                    f"{base_url}/api/v1/statuses", json={"status": f"post {i}"}, headers=headers
                )
                posted = await resp.json()
                while True:
                    msg = await asyncio.wait_for(ws.receive(), 5.0)
                    body = orjson.loads(msg.data)
                    if (
                        body.get("event") == "update"
                        and orjson.loads(body["payload"])["id"] == posted["id"]
                    ):
                        break
                if i >= 3:  # the first few warm caches and connections
                    latencies.append((time.perf_counter() - started) * 1000)
            await ws.close()
        return latencies
    finally:
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=50)
    parser.add_argument(
        "--postgres", default="", help="a PostgreSQL URL with an empty database/schema"
    )
    parser.add_argument("--port", type=int, default=18765)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.postgres or f"sqlite:///{tmp}/bench.sqlite3"
        latencies = asyncio.run(run(args.posts, url, args.port))
    latencies.sort()
    backend = "postgresql" if args.postgres else "sqlite"
    p95 = latencies[int(len(latencies) * 0.95) - 1]
    print(
        f"streaming [{backend}] posts={len(latencies)} post→stream latency"
        f" median={statistics.median(latencies):.1f} ms p95={p95:.1f} ms max={latencies[-1]:.1f} ms"
        " (includes the POST round trip; no target set)"
    )


if __name__ == "__main__":
    main()
