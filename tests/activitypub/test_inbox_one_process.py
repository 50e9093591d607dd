"""On SQLite one process of a ``serve --workers N`` fleet applies the inbox; what the others
accept reaches it by a notice, at once, not at its next poll. On PostgreSQL every process
applies the inbox. Two applications on one database, as two worker processes would be."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest
from aiohttp import web
from federation.conftest import Instance, free_port
from remote_peer import FakePeer, start_peer

from activitypub.federation import Federation
from fedinode import appkeys
from fedinode.app import create_app
from storage.queues import NewInboxItem

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


@pytest.fixture
async def peer() -> AsyncIterator[FakePeer]:
    p = await start_peer({"mallory": 0})
    yield p
    await p.server.close()


@pytest.fixture
async def first(database_url: str, tmp_path: Path) -> AsyncIterator[Instance]:
    """Worker 0: it runs the jobs a fleet runs once."""
    instance = Instance("home", free_port(), database_url, tmp_path)
    await instance.start()
    yield instance
    await instance.stop()


@pytest.fixture
async def second(first: Instance) -> AsyncIterator[Federation]:
    """Worker 1 on the same database (``periodic=False``, as the supervisor starts it)."""
    app = create_app(first.config, periodic=False)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    try:
        yield app[appkeys.FEDERATION]
    finally:
        await runner.cleanup()


def _create(peer: FakePeer, n: int) -> NewInboxItem:
    uri = peer.actor_uri("mallory")
    note_id = f"{uri}/statuses/{n}"
    activity = {
        "id": f"{note_id}/activity",
        "type": "Create",
        "actor": uri,
        "to": [PUBLIC],
        "object": {"id": note_id, "type": "Note", "attributedTo": uri, "to": [PUBLIC],
                   "content": f"<p>note {n}</p>", "published": "2026-01-01T00:00:00Z"},
    }  # fmt: skip
    return NewInboxItem(
        activity_id=activity["id"],
        payload=orjson.dumps(activity).decode(),
        peer=peer.domain,
        actor=uri,
    )


async def test_what_another_worker_accepts_is_applied_at_once_by_the_one_that_applies(
    first: Instance, second: Federation, peer: FakePeer, database_url: str
) -> None:
    sqlite = database_url.startswith("sqlite")
    # Only a notice can wake the first worker's inbox loop in time: its poll is 30 s away.
    first.fed.processor.poll_interval = 30.0
    first.fed.inbox_wake.clear()
    await asyncio.sleep(0.2)  # the loop is waiting now

    item = _create(peer, 1)
    await second.writer.add(item)  # what the second worker's intake does before its 202

    async def stored() -> bool:
        uri = f"{peer.actor_uri('mallory')}/statuses/1"
        return await first.store.statuses.by_uri(uri) is not None

    for _ in range(200):  # 10 s at most
        if await stored():
            break
        await asyncio.sleep(0.05)
    assert await stored(), "the worker that applies the inbox was not told"
    # On SQLite the second worker applies nothing itself; on PostgreSQL either may.
    if sqlite:
        assert second.processor.processed == 0
        assert first.fed.processor.processed >= 1
