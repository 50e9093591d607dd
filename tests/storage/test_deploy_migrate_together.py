"""Several machines start at once and each migrates the one PostgreSQL database: they take
turns, none fails, and every migration is applied exactly once.

PostgreSQL only: it is the database several machines share (``serve --role`` refuses SQLite,
and ``serve --workers N`` on SQLite migrates in its first process before starting the rest).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from storage.db import open_database
from storage.migrate import available, migrate, pending


async def test_processes_migrating_together_take_turns(
    database_url_factory: Callable[[str], Awaitable[str]],
) -> None:
    url = await database_url_factory("postgres")
    databases = [await open_database(url) for _ in range(4)]
    try:
        results = await asyncio.gather(*(migrate(db) for db in databases))
        names = [name for _, name, _ in available("postgres")]
        applied = [name for result in results for name in result]
        assert sorted(applied) == sorted(names)  # each once, by one of them
        rows = await databases[0].fetch("SELECT name FROM schema_version ORDER BY version")
        assert [r["name"] for r in rows] == names
        assert await pending(databases[0]) == []
        # Later starts find nothing to do.
        assert await asyncio.gather(*(migrate(db) for db in databases)) == [[]] * 4
    finally:
        for db in databases:
            await db.close()
