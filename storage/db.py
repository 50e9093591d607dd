"""The seam between query code and a database driver.

Queries are written once, in PostgreSQL's ``$1`` placeholder style; the SQLite driver
rewrites them to SQLite's numbered ``?1`` form.  Each dialect has one implementation of
this protocol (``storage.sqlite.db``, ``storage.postgres.db``); everything above it is
shared, so the two backends cannot drift apart in behaviour.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Literal, Protocol

Dialect = Literal["sqlite", "postgres"]
Row = Mapping[str, Any]


class Connection(Protocol):
    """A connection (or an open transaction) that runs queries."""

    dialect: Dialect

    async def execute(self, sql: str, *args: Any) -> int:
        """Run a statement; return the number of rows it changed."""
        ...

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    async def fetch(self, sql: str, *args: Any) -> list[Row]: ...

    async def fetchrow(self, sql: str, *args: Any) -> Row | None: ...

    async def fetchval(self, sql: str, *args: Any) -> Any: ...


class Database(Connection, Protocol):
    """A pool of connections; ``transaction()`` yields one connection for atomic work."""

    def transaction(self) -> AbstractAsyncContextManager[Connection]: ...

    async def close(self) -> None: ...

    def listen(self, channel: str) -> AbstractAsyncContextManager[AsyncIterator[str]]:
        """Subscribe to a notification channel (cross-process on PostgreSQL)."""
        ...

    async def notify(self, channel: str, payload: str) -> None: ...


def placeholders(start: int, count: int) -> str:
    """``$start, …`` for ``count`` parameters: the list inside an ``IN (…)``."""
    return ", ".join(f"${i}" for i in range(start, start + count))


async def open_database(url: str) -> Database:
    """Open a database from a URL: ``sqlite:///path`` or ``postgresql://…``."""
    if url.startswith("sqlite:"):
        from storage.sqlite.db import SqliteDatabase

        return await SqliteDatabase.open(sqlite_path(url))
    if url.startswith(("postgresql:", "postgres:")):
        from storage.postgres.db import PostgresDatabase

        return await PostgresDatabase.open(url)
    raise ValueError(f"unsupported database url scheme: {url.split(':', 1)[0]!r}")


def sqlite_path(url: str) -> str:
    """``sqlite:///rel/path`` → ``rel/path``; ``sqlite:////abs/path`` → ``/abs/path``."""
    rest = url[len("sqlite:") :]
    if rest.startswith("///"):
        return rest[3:]
    if rest.startswith("//"):
        return rest[2:]
    return rest
