"""Streaming latency: how long until a newly posted status reaches an open stream.

Starts an instance on loopback (SQLite in a temporary directory, or PostgreSQL when
``--postgres URL`` is given), opens a WebSocket on the ``user`` stream as a follower of the
author, posts ~50 statuses through ``POST /api/v1/statuses`` and prints the median and p95
of (event received − request sent), in milliseconds.

    python bench/streaming.py [--posts 50] [--postgres postgresql://…]

``--events redis://127.0.0.1:6379/0`` sends the events through Redis pub/sub instead of the
database (``[events] url``); ``--across`` serves the stream from a second instance process
of the same database (two apps, two stores, two subscriptions), so every event crosses
from one to the other as between two machines; ``--raw`` (with ``--listeners N``) measures only the event path
(publish on one store → received by another, no HTTP), which is what the choice of
``[events] url`` changes.

    python bench/streaming.py --postgres URL --across --events redis://127.0.0.1:6379/0
    python bench/streaming.py --postgres URL --raw 500
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
from typing import Any

import aiohttp
import orjson
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.append(str(Path(__file__).resolve().parent))  # after the root: bench/policy.py

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


async def run(
    posts: int, database_url: str, port: int, events_url: str = "", across: bool = False
) -> list[float]:
    base = load_config(None, environ={})
    config = dataclasses.replace(
        base,
        instance=dataclasses.replace(base.instance, domain=f"127.0.0.1:{port}"),
        database=dataclasses.replace(base.database, url=database_url),
        federation=dataclasses.replace(base.federation, scheme="http"),
        server=dataclasses.replace(base.server, access_log=False),
        events=dataclasses.replace(
            base.events, url=events_url, prefix=f"bench-{secrets.token_hex(4)}:"
        ),
    )
    app = create_app(config)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    other: web.AppRunner | None = None
    if across:  # a second process of the instance serves the stream
        other = web.AppRunner(create_app(config, role="web", periodic=False), access_log=None)
        await other.setup()
        await web.TCPSite(other, "127.0.0.1", port + 1).start()
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
        stream_url = f"http://127.0.0.1:{port + 1 if across else port}"
        latencies: list[float] = []
        async with aiohttp.ClientSession() as http:
            ws = await http.ws_connect(
                f"{stream_url}/api/v1/streaming?stream=user&access_token={reader_token}"
            )
            await asyncio.sleep(0.5)  # the hub's subscription is in place
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
        if other is not None:
            await other.cleanup()
        await runner.cleanup()


async def run_raw(
    count: int, database_url: str, events_url: str, listeners: int = 1
) -> tuple[list[float], float]:
    """Publish → received by every one of ``listeners`` other stores of one database, one
    event at a time. Returns the latencies and the database's CPU per event (ms; 0 on
    SQLite or a database on another machine): the cost LISTEN/NOTIFY puts on PostgreSQL."""
    from contextlib import AsyncExitStack

    import timeline  # bench/timeline.py: the database's backends and their CPU

    from storage import events
    from storage.store import Store

    prefix = f"bench-{secrets.token_hex(4)}:"
    sender = await Store.open(database_url, events_url=events_url, events_prefix=prefix)
    receivers = [
        await Store.open(database_url, events_url=events_url, events_prefix=prefix)
        for _ in range(listeners)
    ]
    latencies: list[float] = []
    try:
        async with AsyncExitStack() as stack:
            streams = [
                aiter(await stack.enter_async_context(events.subscribe(r.db))) for r in receivers
            ]

            async def receive(stream: Any, i: int) -> None:
                while orjson.loads(await anext(stream)).get("status_id") != i:
                    pass

            db_before: dict[int, float] = {}
            db_pids: list[int] = []
            for i in range(count + 10):
                if i == 10:  # warmed up: measure from here
                    db_pids = await timeline._database_pids(database_url)
                    db_before = timeline._cpu_seconds(db_pids)
                started = time.perf_counter()
                await events.publish(sender.db, "status.created", status_id=i)
                await asyncio.gather(*(receive(stream, i) for stream in streams))
                if i >= 10:
                    latencies.append((time.perf_counter() - started) * 1000)
            db_cpu = timeline._cpu_used(db_before, timeline._cpu_seconds(db_pids))
    finally:
        for r in receivers:
            await r.close()
        await sender.close()
    return latencies, db_cpu / max(count, 1) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=50)
    parser.add_argument(
        "--postgres", default="", help="a PostgreSQL URL with an empty database/schema"
    )
    parser.add_argument("--port", type=int, default=18765)
    parser.add_argument("--events", default="", help='[events] url: "" (database) or redis://…')
    parser.add_argument("--across", action="store_true", help="stream from a second process")
    parser.add_argument("--raw", type=int, default=0, help="only N events, publish → receive")
    parser.add_argument("--listeners", type=int, default=1, help="--raw: receiving processes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.postgres or f"sqlite:///{tmp}/bench.sqlite3"
        db_ms = 0.0
        if args.raw:
            latencies, db_ms = asyncio.run(run_raw(args.raw, url, args.events, args.listeners))
        else:
            latencies = asyncio.run(run(args.posts, url, args.port, args.events, args.across))
    latencies.sort()
    backend = "postgresql" if args.postgres else "sqlite"
    path = "redis" if args.events else "database"
    p95 = latencies[int(len(latencies) * 0.95) - 1]
    what = (
        f"events={len(latencies)} publish→received by {args.listeners} listener(s)"
        if args.raw
        else f"posts={len(latencies)}{' across processes' if args.across else ''} post→stream"
    )
    print(
        f"streaming [{backend}, events via {path}] {what} latency"
        f" median={statistics.median(latencies):.2f} ms p95={p95:.2f} ms"
        f" max={latencies[-1]:.2f} ms"
        + (f"; PostgreSQL CPU {db_ms:.3f} ms per event" if args.raw else "")
        + ("" if args.raw else " (includes the POST round trip)")
    )


if __name__ == "__main__":
    main()
