"""Change events reach the listeners of their own database (schema), in order, and no other."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson

from storage import events
from storage.store import Store


async def test_events_reach_listeners_of_the_same_database_only(
    backend: str, database_url_factory: Any
) -> None:
    # Two instances on one server: on PostgreSQL two schemas of one database, whose NOTIFY
    # channel space is shared.
    mine = await Store.open(await database_url_factory(backend))
    other = await Store.open(await database_url_factory(backend))
    try:
        async with events.subscribe(mine.db) as messages:
            received = aiter(messages)
            await events.publish(other.db, "status.deleted", status_id=1)
            await events.publish(mine.db, "status.created", status_id=2)
            await events.publish(mine.db, "status.deleted", status_id=3)
            got = [orjson.loads(await asyncio.wait_for(anext(received), 3.0)) for _ in range(2)]
            assert got == [
                {"event": "status.created", "status_id": 2},
                {"event": "status.deleted", "status_id": 3},
            ]
            await events.publish(other.db, "status.created", status_id=4)
            try:
                stray = await asyncio.wait_for(anext(received), 0.3)
            except TimeoutError:
                stray = None
            assert stray is None
    finally:
        await other.close()
        await mine.close()
