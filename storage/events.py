"""Change events: what happened, by id, for streaming. Crosses processes on both backends.

Writers publish small facts (``{"event": "status.created", "status_id": 1}``); readers (the
streaming API) decide who may see them. Nothing here is durable: a consumer that is not
listening misses the event and reads the timeline instead.

Every process of ``serve --workers N`` hears every event: PostgreSQL's NOTIFY reaches every
listener of the database, and on SQLite ``Database.notify`` sends a datagram to every other
process that has the file open (``storage.sqlite.notify``).

On PostgreSQL the channel is named after the schema the connection works in: NOTIFY reaches
every listener of the database, and instances that share a database in separate schemas
(as the tests do) must not hear each other (a ``status.deleted`` names only an id, so a
stranger's would go to every stream).
"""

from __future__ import annotations

import hashlib
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson

from storage.db import Database

CHANNEL = "fedinode_events"
_MAX_CHANNEL_BYTES = 63  # PostgreSQL identifiers

_channels: weakref.WeakKeyDictionary[Database, str] = weakref.WeakKeyDictionary()


async def channel(db: Database) -> str:
    """This database's event channel: one per PostgreSQL schema, the plain name on SQLite."""
    if db.dialect != "postgres":
        return CHANNEL
    name = _channels.get(db)
    if name is None:
        schema = str(await db.fetchval("SELECT current_schema()") or "")
        name = f"{CHANNEL}_{schema}"
        if len(name.encode()) > _MAX_CHANNEL_BYTES:
            name = f"{CHANNEL}_{hashlib.sha256(schema.encode()).hexdigest()[:32]}"
        _channels[db] = name
    return name


async def publish(db: Database, event: str, **fields: Any) -> None:
    await db.notify(await channel(db), orjson.dumps({"event": event, **fields}).decode())


@asynccontextmanager
async def subscribe(db: Database) -> AsyncIterator[AsyncIterator[str]]:
    async with db.listen(await channel(db)) as messages:
        yield messages
