"""PostgreSQL driver: pooled asyncpg connections; LISTEN/NOTIFY carries events across processes."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, cast

import asyncpg

from storage.db import (
    Connection,
    Dialect,
    Row,
    current_batch,
    enter_batch,
    savepoint,
    settle_owed,
)

log = logging.getLogger("storage.postgres")


def _command_count(status: str) -> int:
    # asyncpg returns the command tag, e.g. "UPDATE 3" or "INSERT 0 1".
    tail = status.rsplit(" ", 1)[-1]
    return int(tail) if tail.isdigit() else 0


IDLE_LIFETIME_S = 300.0


def _values(rows: list[Row]) -> list[Sequence[Any]]:
    """asyncpg's records: sequences of their values too, by position as selected."""
    return cast("list[Sequence[Any]]", rows)


class _SettingsRefused(Exception):
    """The server (or a pooler in front of it) refused a connection's startup settings."""


class _Pool:
    """asyncpg connections, at most ``max_size``, the idle ones reused last-in first-out.

    asyncpg's own pool costs ~40 µs of CPU per statement (a proxy and a future per acquire,
    a task to shield each release): as much as a short query. A connection comes back here
    as it was lent (our statements leave no session state: no SET, advisory locks, cursors
    or LISTEN; listening uses a connection of its own) unless something went wrong with it:
    closed, left in a transaction, or given back by a cancelled task (perhaps mid-query)
    is closed instead, and its place opened again on demand. One idle for ``IDLE_LIFETIME_S``
    is closed (as asyncpg's pool did), so a quiet process holds few backends and none a
    firewall has long forgotten.
    """

    def __init__(
        self, dsn: str, *, max_size: int, server_settings: dict[str, str] | None = None
    ) -> None:
        self._dsn = dsn
        self._max = max_size
        self._settings = server_settings
        self._idle: list[tuple[Any, float]] = []  # (connection, idle since), oldest first
        self._open = 0  # connections open or being opened
        self._waiters: deque[asyncio.Future[Any]] = deque()
        self._closed = False

    def usage(self) -> tuple[int, int, int]:
        return self._open, len(self._idle), self._max

    async def fill(self, count: int) -> None:
        """Open ``count`` connections ahead of use (the first requests pay no connect)."""
        for conn in await asyncio.gather(*(self._connect() for _ in range(count))):
            self.release(conn, reusable=True)

    async def _connect(self) -> Any:
        self._open += 1
        try:
            return await asyncpg.connect(self._dsn, server_settings=self._settings)
        except asyncpg.PostgresError as exc:
            self._open -= 1
            self._wake()
            if self._settings:
                raise _SettingsRefused(str(exc)) from exc
            raise
        except BaseException:
            self._open -= 1
            self._wake()
            raise

    async def acquire(self) -> Any:
        while True:
            if self._closed:
                raise asyncpg.InterfaceError("the connection pool is closed")
            while self._idle:
                conn, since = self._idle.pop()
                if not conn.is_closed() and time.monotonic() - since < IDLE_LIFETIME_S:
                    return conn
                self._drop(conn)
            if self._open < self._max:
                return await self._connect()
            waiter: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                conn = await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():  # handed over as we left
                    if (handed := waiter.result()) is not None:
                        self.release(handed, reusable=True)
                    else:
                        self._wake()
                raise
            if conn is not None:
                return conn
            # None: a place was freed; open a connection there (or take one come back).

    def release(self, conn: Any, *, reusable: bool) -> None:
        if not reusable or self._closed or conn.is_closed() or conn.is_in_transaction():
            self._drop(conn)
            self._wake()
            return
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(conn)
                return
        now = time.monotonic()
        self._idle.append((conn, now))
        if now - self._idle[0][1] >= IDLE_LIFETIME_S:  # the least recently used one
            self._drop(self._idle.pop(0)[0])

    def _drop(self, conn: Any) -> None:
        self._open -= 1
        if not conn.is_closed():
            conn.terminate()

    def _wake(self) -> None:
        """A place came free: the first waiter may open a connection."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Any]:
        conn = await self.acquire()
        reusable = False
        try:
            yield conn
            reusable = True
        except Exception:
            reusable = True  # an error of a statement or of the caller: the session is sound
            raise
        finally:
            self.release(conn, reusable=reusable)

    async def run(self, method: str, sql: str, args: tuple[Any, ...]) -> Any:
        """One statement on a lent connection (``connection()`` without its generator)."""
        conn = await self.acquire()
        reusable = False
        try:
            result = await getattr(conn, method)(sql, *args)
            reusable = True
            return result
        except Exception:
            reusable = True
            raise
        finally:
            self.release(conn, reusable=reusable)

    async def close(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        self._open -= len(idle)
        while self._waiters:
            self._wake()
        await asyncio.gather(*(conn.close() for conn, _ in idle), return_exceptions=True)


# Connections for ``fetch_generic`` (timeline pages) beside the pool: each statement holds
# one for well under a millisecond, and a process serves on one core.
GENERIC_POOL_SIZE = 2
# A generic plan estimates a viewer's rows from the table's average (a home feed of 15 rows
# when the viewer's holds 5,000), and then prefers a bitmap scan of all of them and a sort to
# reading the feed's index backwards until the page is full: 22 ms instead of 1 ms at 100k
# statuses. Pages are index-order reads with a LIMIT, so these connections do without it.
GENERIC_SETTINGS = {"plan_cache_mode": "force_generic_plan", "enable_bitmapscan": "off"}
_SET_GENERIC = "SET LOCAL plan_cache_mode = force_generic_plan; SET LOCAL enable_bitmapscan = off"


class _PgConnection:
    dialect: Dialect = "postgres"

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    async def execute(self, sql: str, *args: Any) -> int:
        return _command_count(await self._conn.execute(sql, *args))

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        await self._conn.executemany(sql, rows)

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        return await self._conn.fetch(sql, *args)  # type: ignore[no-any-return]

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        row = await self._conn.fetchrow(sql, *args)
        return row  # type: ignore[no-any-return]

    async def fetchval(self, sql: str, *args: Any) -> Any:
        return await self._conn.fetchval(sql, *args)


class _PooledStatements:
    """Statements outside a transaction: each on a connection lent for it alone."""

    dialect: Dialect = "postgres"

    def __init__(self, pool: _Pool) -> None:
        self._pool = pool

    async def execute(self, sql: str, *args: Any) -> int:
        return _command_count(await self._pool.run("execute", sql, args))

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        async with self._pool.connection() as conn:
            await conn.executemany(sql, rows)

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        return await self._pool.run("fetch", sql, args)  # type: ignore[no-any-return]

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        return await self._pool.run("fetchrow", sql, args)  # type: ignore[no-any-return]

    async def fetchval(self, sql: str, *args: Any) -> Any:
        return await self._pool.run("fetchval", sql, args)


class PostgresDatabase:
    """PostgreSQL behind the ``Database`` protocol."""

    dialect: Dialect = "postgres"

    def __init__(self, pool: _Pool, generic_pool: _Pool, dsn: str) -> None:
        self._pool = pool
        self._generic_pool = generic_pool
        self._dsn = dsn
        self._pooled = _PooledStatements(pool)
        self._generic = _PooledStatements(generic_pool)
        self._generic_refused = False

    @classmethod
    async def open(cls, url: str, *, min_size: int = 2, max_size: int = 10) -> PostgresDatabase:
        dsn = url.replace("postgresql+asyncpg://", "postgresql://", 1)
        pool = _Pool(dsn, max_size=max_size)
        await pool.fill(min(min_size, max_size))
        # Connections whose prepared statements always run their generic plan
        # (``fetch_generic``): opened on first use, so a process that never asks has none.
        generic_pool = _Pool(
            dsn,
            max_size=min(GENERIC_POOL_SIZE, max_size),
            server_settings=dict(GENERIC_SETTINGS),
        )
        return cls(pool, generic_pool, dsn)

    async def close(self) -> None:
        await self._generic_pool.close()
        await self._pool.close()

    def pool_usage(self) -> tuple[int, int, int]:
        """(connections open, idle, most allowed): for the operator's metrics."""
        usages = (self._pool.usage(), self._generic_pool.usage())
        return (
            sum(u[0] for u in usages),
            sum(u[1] for u in usages),
            sum(u[2] for u in usages),
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

    async def fetch_generic(self, sql: str, *args: Any) -> list[Sequence[Any]]:
        if (batch := current_batch(self)) is not None:
            # The batch's transaction: the setting held only for this statement (a read, so
            # rolling its savepoint back undoes the setting and nothing else).
            conn = batch.conn
            await conn.execute("SAVEPOINT fedinode_generic")
            try:
                await conn.execute(_SET_GENERIC)
                return _values(await conn.fetch(sql, *args))
            finally:
                await conn.execute("ROLLBACK TO SAVEPOINT fedinode_generic")
                await conn.execute("RELEASE SAVEPOINT fedinode_generic")
        if not self._generic_refused:
            try:
                return _values(await self._generic.fetch(sql, *args))
            except _SettingsRefused as exc:
                # A pooler in front of the server (PgBouncer) refuses startup parameters it
                # does not know: set it per statement instead (three more round trips).
                log.warning("plan_cache_mode refused at connect (%s): set per statement", exc)
                self._generic_refused = True
        async with self._pool.connection() as conn, conn.transaction():
            await conn.execute(_SET_GENERIC)
            return _values(await conn.fetch(sql, *args))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        if (batch := current_batch(self)) is not None:
            async with savepoint(batch) as conn:
                yield conn
            return
        async with self._pool.connection() as conn, conn.transaction():
            yield _PgConnection(conn)

    def writers_waiting(self) -> bool:
        return False  # row locks: writers wait only for the rows they share

    @asynccontextmanager
    async def batch(self) -> AsyncIterator[Connection]:
        if (open_batch := current_batch(self)) is not None:
            yield open_batch.conn
            return
        async with self.transaction() as conn, enter_batch(self, conn) as state:
            state.merge_release = True
            yield conn
            await settle_owed(state)
        if state.notes:  # committed: now they may be heard, all in one statement
            channels, payloads = zip(*state.notes, strict=True)
            await self._pooled.execute(
                "SELECT pg_notify(n.c, n.p) FROM unnest($1::text[], $2::text[]) AS n(c, p)",
                list(channels),
                list(payloads),
            )

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
