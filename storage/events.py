"""Change events: what happened, by id, for streaming. Crosses processes on PostgreSQL.

Writers publish small facts (``{"event": "status.created", "status_id": 1}``); readers (the
streaming API) decide who may see them. Nothing here is durable: a consumer that is not
listening misses the event and reads the timeline instead.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Any

import orjson

from storage.db import Database

CHANNEL = "fedinode_events"


async def publish(db: Database, event: str, **fields: Any) -> None:
    await db.notify(CHANNEL, orjson.dumps({"event": event, **fields}).decode())


def subscribe(db: Database) -> AbstractAsyncContextManager[AsyncIterator[str]]:
    return db.listen(CHANNEL)
