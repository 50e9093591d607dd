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

``route(db, bus)`` sends every event of ``db`` through another bus instead (``[events] url =
"redis://…"``: ``storage.redis_events``): ``notify`` and ``listen`` here are what every
cross-process message uses (streaming, filter and policy changes), so they all move together.
"""

from __future__ import annotations

import hashlib
import weakref
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol

import orjson

from storage.db import Database

CHANNEL = "fedinode_events"
_MAX_CHANNEL_BYTES = 63  # PostgreSQL identifiers


class Bus(Protocol):
    """Where notifications travel when not through the database."""

    def listen(self, channel: str) -> AbstractAsyncContextManager[AsyncIterator[str]]: ...

    async def notify(self, channel: str, payload: str) -> None: ...

    async def close(self) -> None: ...

    async def ready(self) -> bool:
        """Whether the bus can carry events now (``/readyz``)."""
        ...


_schemas: weakref.WeakKeyDictionary[Database, str] = weakref.WeakKeyDictionary()
_buses: weakref.WeakKeyDictionary[Database, Bus] = weakref.WeakKeyDictionary()


def route(db: Database, bus: Bus | None) -> None:
    """From now on, ``db``'s notifications travel through ``bus`` (None: the database)."""
    if bus is None:
        _buses.pop(db, None)
    else:
        _buses[db] = bus


def bus_of(db: Database) -> Bus | None:
    return _buses.get(db)


async def _schema(db: Database) -> str:
    schema = _schemas.get(db)
    if schema is None:
        schema = str(await db.fetchval("SELECT current_schema()") or "")
        _schemas[db] = schema
    return schema


async def scoped(db: Database, base: str) -> str:
    """``base`` for this database: one per PostgreSQL schema, the plain name on SQLite."""
    if db.dialect != "postgres":
        return base
    schema = await _schema(db)
    name = f"{base}_{schema}"
    if len(name.encode()) > _MAX_CHANNEL_BYTES:
        name = f"{base}_{hashlib.sha256(schema.encode()).hexdigest()[:32]}"
    return name


async def channel(db: Database) -> str:
    """This database's event channel: one per PostgreSQL schema, the plain name on SQLite."""
    return await scoped(db, CHANNEL)


async def notify(db: Database, base: str, payload: str) -> None:
    """``payload`` to every listener of ``base`` scoped to this database (``scoped``):
    through ``Database.notify``, or the bus ``route`` set."""
    name = await scoped(db, base)
    bus = _buses.get(db)
    if bus is None:
        await db.notify(name, payload)
    else:
        await bus.notify(name, payload)


@asynccontextmanager
async def listen(db: Database, base: str) -> AsyncIterator[AsyncIterator[str]]:
    name = await scoped(db, base)
    bus = _buses.get(db)
    async with (db.listen(name) if bus is None else bus.listen(name)) as messages:
        yield messages


async def publish(db: Database, event: str, **fields: Any) -> None:
    await notify(db, CHANNEL, orjson.dumps({"event": event, **fields}).decode())


@asynccontextmanager
async def subscribe(db: Database) -> AsyncIterator[AsyncIterator[str]]:
    async with listen(db, CHANNEL) as messages:
        yield messages
