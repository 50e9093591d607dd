"""SQLite driver: one writer connection, a few reader connections, WAL."""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import aiosqlite

from storage.db import Connection, Dialect, Row

_PLACEHOLDER = re.compile(r"\$(\d+)")
_READERS = 2


def _to_sqlite(sql: str) -> str:
    return _PLACEHOLDER.sub(r"?\1", sql)


def _dict_factory(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> dict[str, Any]:
    return {d[0]: v for d, v in zip(cursor.description, row, strict=True)}


async def _connect(path: str) -> aiosqlite.Connection:
    conn = await aiosqlite.connect(path, isolation_level=None)
    conn.row_factory = _dict_factory  # type: ignore[assignment]
    await conn.execute("PRAGMA journal_mode=WAL")
    await conn.execute("PRAGMA synchronous=NORMAL")
    await conn.execute("PRAGMA foreign_keys=ON")
    await conn.execute("PRAGMA busy_timeout=5000")
    await conn.execute("PRAGMA cache_size=-32000")
    return conn


class _SqliteConnection:
    dialect: Dialect = "sqlite"

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, *args: Any) -> int:
        cur = await self._conn.execute(_to_sqlite(sql), args)
        count = cur.rowcount
        await cur.close()
        return count

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        await self._conn.executemany(_to_sqlite(sql), rows)

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        rows = await self._conn.execute_fetchall(_to_sqlite(sql), args)
        return list(rows)  # type: ignore[arg-type]

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        cur = await self._conn.execute(_to_sqlite(sql), args)
        row = await cur.fetchone()
        await cur.close()
        return row  # type: ignore[return-value]

    async def fetchval(self, sql: str, *args: Any) -> Any:
        row = await self.fetchrow(sql, *args)
        if row is None:
            return None
        return next(iter(row.values()))


class SqliteDatabase:
    """SQLite behind the ``Database`` protocol.

    SQLite allows one writer at a time, so every write and every transaction goes through
    one connection under a lock; plain reads outside a transaction use reader connections,
    which WAL lets run beside the writer.
    """

    dialect: Dialect = "sqlite"

    def __init__(self, writer: aiosqlite.Connection, readers: list[aiosqlite.Connection]) -> None:
        self._writer = _SqliteConnection(writer)
        self._raw_writer = writer
        self._readers = [_SqliteConnection(r) for r in readers]
        self._raw_readers = readers
        self._next_reader = itertools.cycle(range(len(readers)))
        self._lock = asyncio.Lock()
        self._listeners: dict[str, set[asyncio.Queue[str]]] = {}

    @classmethod
    async def open(cls, path: str) -> SqliteDatabase:
        if path != ":memory:":
            parent = os.path.dirname(path)
            if parent:
                os.makedirs(parent, exist_ok=True)
        writer = await _connect(path)
        readers = [] if path == ":memory:" else [await _connect(path) for _ in range(_READERS)]
        return cls(writer, readers)

    async def close(self) -> None:
        for r in self._raw_readers:
            await r.close()
        await self._raw_writer.close()

    def _reader(self) -> _SqliteConnection:
        if not self._readers:
            return self._writer
        return self._readers[next(self._next_reader)]

    async def execute(self, sql: str, *args: Any) -> int:
        async with self._lock:
            return await self._writer.execute(sql, *args)

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        async with self.transaction() as tx:
            await tx.executemany(sql, rows)

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        if _is_write(sql) or not self._readers:
            async with self._lock:
                return await self._writer.fetch(sql, *args)
        return await self._reader().fetch(sql, *args)

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        if _is_write(sql) or not self._readers:
            async with self._lock:
                return await self._writer.fetchrow(sql, *args)
        return await self._reader().fetchrow(sql, *args)

    async def fetchval(self, sql: str, *args: Any) -> Any:
        row = await self.fetchrow(sql, *args)
        if row is None:
            return None
        return next(iter(row.values()))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        async with self._lock:
            await self._raw_writer.execute("BEGIN IMMEDIATE")
            try:
                yield self._writer
            except BaseException:
                await self._raw_writer.execute("ROLLBACK")
                raise
            else:
                await self._raw_writer.execute("COMMIT")

    @asynccontextmanager
    async def listen(self, channel: str) -> AsyncIterator[AsyncIterator[str]]:
        queue: asyncio.Queue[str] = asyncio.Queue(maxsize=1000)
        self._listeners.setdefault(channel, set()).add(queue)

        async def messages() -> AsyncIterator[str]:
            while True:
                yield await queue.get()

        try:
            yield messages()
        finally:
            self._listeners[channel].discard(queue)

    async def notify(self, channel: str, payload: str) -> None:
        # An embedded database serves one process, so notifications stay in memory.
        for queue in list(self._listeners.get(channel, ())):
            if not queue.full():
                queue.put_nowait(payload)


def _is_write(sql: str) -> bool:
    head = sql.lstrip()[:7].upper()
    return head.startswith(("INSERT", "UPDATE", "DELETE", "REPLACE", "WITH"))
