"""PostgreSQL driver: an asyncpg pool; LISTEN/NOTIFY carries events across processes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from storage.db import Connection, Dialect, Row, current_batch, enter_batch, savepoint


def _command_count(status: str) -> int:
    # asyncpg returns the command tag, e.g. "UPDATE 3" or "INSERT 0 1".
    tail = status.rsplit(" ", 1)[-1]
    return int(tail) if tail.isdigit() else 0


async def _keep_session(_conn: Any) -> None:
    """Pool release without asyncpg's reset query (a round trip per statement otherwise).

    asyncpg still rolls back an open transaction and drops listeners before calling this.
    Our pooled statements leave no other session state (no SET, advisory locks, cursors or
    LISTEN: listening uses a connection of its own), so there is nothing else to reset.
    """


# Connections for ``fetch_generic`` (timeline pages) beside the pool: each statement holds
# one for well under a millisecond, and a process serves on one core.
GENERIC_POOL_SIZE = 2


class _PgConnection:
    dialect: Dialect = "postgres"

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    async def execute(self, sql: str, *args: Any) -> int:
        return _command_count(await self._conn.execute(sql, *args))

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        await self._conn.executemany(sql, rows)

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        return list(await self._conn.fetch(sql, *args))

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        row = await self._conn.fetchrow(sql, *args)
        return row  # type: ignore[no-any-return]

    async def fetchval(self, sql: str, *args: Any) -> Any:
        return await self._conn.fetchval(sql, *args)


class PostgresDatabase:
    """PostgreSQL behind the ``Database`` protocol."""

    dialect: Dialect = "postgres"

    def __init__(self, pool: asyncpg.Pool, generic_pool: asyncpg.Pool, dsn: str) -> None:
        self._pool = pool
        self._generic_pool = generic_pool
        self._dsn = dsn
        self._pooled = _PgConnection(pool)
        self._generic = _PgConnection(generic_pool)

    @classmethod
    async def open(cls, url: str, *, min_size: int = 2, max_size: int = 10) -> PostgresDatabase:
        dsn = url.replace("postgresql+asyncpg://", "postgresql://", 1)
        pool = await asyncpg.create_pool(
            dsn, min_size=min_size, max_size=max_size, reset=_keep_session
        )
        assert pool is not None
        # Connections whose prepared statements always run their generic plan
        # (``fetch_generic``): opened on first use, so a process that never asks has none.
        generic_pool = await asyncpg.create_pool(
            dsn,
            min_size=0,
            max_size=min(GENERIC_POOL_SIZE, max_size),
            reset=_keep_session,
            server_settings={"plan_cache_mode": "force_generic_plan"},
        )
        assert generic_pool is not None
        return cls(pool, generic_pool, dsn)

    async def close(self) -> None:
        await self._generic_pool.close()
        await self._pool.close()

    def pool_usage(self) -> tuple[int, int, int]:
        """(connections open, idle, most allowed): for the operator's metrics."""
        pools = (self._pool, self._generic_pool)
        return (
            sum(p.get_size() for p in pools),
            sum(p.get_idle_size() for p in pools),
            sum(p.get_max_size() for p in pools),
        )

    async def execute(self, sql: str, *args: Any) -> int:
        if (batch := current_batch(self)) is not None:
            return await batch.conn.execute(sql, *args)
        return await self._pooled.execute(sql, *args)

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if (batch := current_batch(self)) is not None:
            await batch.conn.executemany(sql, rows)
            return
        await self._pooled.executemany(sql, rows)

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        if (batch := current_batch(self)) is not None:
            return await batch.conn.fetch(sql, *args)
        return await self._pooled.fetch(sql, *args)

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        if (batch := current_batch(self)) is not None:
            return await batch.conn.fetchrow(sql, *args)
        return await self._pooled.fetchrow(sql, *args)

    async def fetchval(self, sql: str, *args: Any) -> Any:
        if (batch := current_batch(self)) is not None:
            return await batch.conn.fetchval(sql, *args)
        return await self._pooled.fetchval(sql, *args)

    async def fetch_generic(self, sql: str, *args: Any) -> list[Row]:
        if (batch := current_batch(self)) is not None:
            # The batch's transaction: the setting held only for this statement (a read, so
            # rolling its savepoint back undoes the setting and nothing else).
            conn = batch.conn
            await conn.execute("SAVEPOINT fedinode_generic")
            try:
                await conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
                return await conn.fetch(sql, *args)
            finally:
                await conn.execute("ROLLBACK TO SAVEPOINT fedinode_generic")
                await conn.execute("RELEASE SAVEPOINT fedinode_generic")
        return await self._generic.fetch(sql, *args)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        if (batch := current_batch(self)) is not None:
            async with savepoint(batch) as conn:
                yield conn
            return
        async with self._pool.acquire() as conn, conn.transaction():
            yield _PgConnection(conn)

    @asynccontextmanager
    async def batch(self) -> AsyncIterator[Connection]:
        if (open_batch := current_batch(self)) is not None:
            yield open_batch.conn
            return
        async with self.transaction() as conn, enter_batch(self, conn) as state:
            yield conn
        for channel, payload in state.notes:  # committed: now they may be heard
            await self.notify(channel, payload)

    @asynccontextmanager
    async def listen(self, channel: str) -> AsyncIterator[AsyncIterator[str]]:
        queue: asyncio.Queue[str] = asyncio.Queue(maxsize=1000)

        def on_notify(_conn: Any, _pid: int, _channel: str, payload: str) -> None:
            if not queue.full():
                queue.put_nowait(payload)

        # A dedicated connection: a pooled one would be handed to other work while listening.
        conn = await asyncpg.connect(self._dsn)
        await conn.add_listener(channel, on_notify)

        async def messages() -> AsyncIterator[str]:
            while True:
                yield await queue.get()

        try:
            yield messages()
        finally:
            await conn.close()

    async def notify(self, channel: str, payload: str) -> None:
        if (batch := current_batch(self)) is not None:
            batch.notes.append((channel, payload))
            return
        await self._pooled.execute("SELECT pg_notify($1, $2)", channel, payload)
