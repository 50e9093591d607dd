"""SQLite driver: one writer connection driven from the event loop, reader threads, WAL.

Why not a thread per statement (aiosqlite): handing a statement to a thread and the
result back costs 40–120 µs of CPU per hop (queue, thread wake-up, GIL hand-over,
``call_soon_threadsafe``), while an indexed statement costs about 5 µs. Inbox intake and
processing run dozens of short statements per activity, so the hops were most of their
database time. Writes are short (indexed inserts and updates), so the writer runs them
in the event loop itself and never waits on a lock there: SQLITE_BUSY (another process
writing) is retried after an ``asyncio.sleep``. Reads run in the event loop too, on their
own connection, until a statement is seen to take longer than ``_INLINE_READ_LIMIT``:
from then on that statement (timelines, search, counts) goes to a reader thread, one hop
per statement, so a long read never holds the loop twice.

WAL checkpoints would otherwise run inside a writer's COMMIT (in the event loop); the
writer has auto-checkpointing off and a reader thread checkpoints after commits instead.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import os
import re
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import lru_cache
from queue import SimpleQueue
from typing import Any, TypeVar

from storage.db import (
    Connection,
    Dialect,
    Row,
    current_batch,
    enter_batch,
    savepoint,
    settle_owed,
)
from storage.sqlite.notify import Notifier
from storage.sqlite.writelock import WriteLock

_PLACEHOLDER = re.compile(r"\$(?=\d)")  # $1 → ?1: only the $ changes
_READERS = 2
_BUSY_TIMEOUT = 5.0  # seconds a write waits for another process's lock
_CHECKPOINT_EVERY = 4000  # writer statements between WAL checkpoints (see ``_wrote``)
_INLINE_READ_LIMIT = 0.001  # seconds; a read slower than this moves to a reader thread
_SLOW_STRIKES = 3  # times a read must be seen slow before it moves to a reader thread
_YIELD_EVERY = 0.002  # seconds of statements in a row before one yields to the event loop
_T = TypeVar("_T")


@lru_cache(maxsize=2048)
def _to_sqlite(sql: str) -> str:
    # A plain replacement, no group template to expand: a fan-out's INSERT has ~800 of them.
    return _PLACEHOLDER.sub("?", sql)


def _rows(cursor: sqlite3.Cursor) -> list[Row]:
    raw = cursor.fetchall()
    if not raw:
        return []
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r, strict=True)) for r in raw]


def _first(cursor: sqlite3.Cursor) -> Row | None:
    raw = cursor.fetchone()
    if raw is None:
        return None
    return dict(zip([d[0] for d in cursor.description], raw, strict=True))


def _connect(path: str, *, busy_timeout_ms: int) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
    conn.execute("PRAGMA cache_size=-32000")
    # PostgreSQL's encode(sha256(...), 'hex'), for migrations that hash stored secrets.
    conn.create_function("sha256_hex", 1, _sha256_hex, deterministic=True)
    return conn


def _sha256_hex(value: str | None) -> str | None:
    return None if value is None else hashlib.sha256(value.encode()).hexdigest()


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return bool(code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED))
    return "locked" in str(exc) or "busy" in str(exc)


def _set_result(future: asyncio.Future[Any], result: Any) -> None:
    if not future.done():
        future.set_result(result)


def _set_exception(future: asyncio.Future[Any], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)


class _ReaderThread:
    """A connection owned by one thread; each call is one hop there and back."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._jobs: SimpleQueue[
            tuple[asyncio.Future[Any], Callable[[sqlite3.Connection], Any]] | None
        ] = SimpleQueue()
        self._thread = threading.Thread(target=self._work, name="fedinode-sqlite", daemon=True)
        self._thread.start()
        self.closed = False

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            future, fn = job
            try:
                result = fn(self.conn)
            except BaseException as exc:  # handed to the awaiting coroutine
                future.get_loop().call_soon_threadsafe(_set_exception, future, exc)
            else:
                future.get_loop().call_soon_threadsafe(_set_result, future, result)

    async def run(self, fn: Callable[[sqlite3.Connection], _T]) -> _T:
        if self.closed:  # no thread would ever answer
            raise sqlite3.ProgrammingError("Cannot operate on a closed database.")
        future: asyncio.Future[_T] = asyncio.get_running_loop().create_future()
        self._jobs.put((future, fn))
        return await future

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._jobs.put(None)
        self._thread.join(timeout=10)
        self.conn.close()


class _SqliteReader:
    """The ``Connection`` face of a reader thread."""

    dialect: Dialect = "sqlite"

    def __init__(self, thread: _ReaderThread) -> None:
        self._thread = thread

    async def execute(self, sql: str, *args: Any) -> int:
        query = _to_sqlite(sql)
        return await self._thread.run(lambda c: c.execute(query, args).rowcount)

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        query = _to_sqlite(sql)
        await self._thread.run(lambda c: c.executemany(query, rows))

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        query = _to_sqlite(sql)
        return await self._thread.run(lambda c: _rows(c.execute(query, args)))

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        query = _to_sqlite(sql)
        return await self._thread.run(lambda c: _first(c.execute(query, args)))

    async def fetch_values(self, sql: str, *args: Any) -> list[Sequence[Any]]:
        query = _to_sqlite(sql)
        return await self._thread.run(lambda c: c.execute(query, args).fetchall())

    async def fetchval(self, sql: str, *args: Any) -> Any:
        row = await self.fetchrow(sql, *args)
        if row is None:
            return None
        return next(iter(row.values()))


class _SqliteConnection:
    """The writer: statements run in the calling (event loop) thread.

    A statement that meets another process's lock (SQLITE_BUSY) did nothing, so it is
    retried after an asynchronous sleep, for up to ``_BUSY_TIMEOUT`` seconds. A call
    yields to the event loop when ``_YIELD_EVERY`` seconds went by since the last time it
    did: a long run of short statements (an inbox batch) does not hold the loop, and a
    short one does not pay an event loop turn (epoll and all) per statement.
    """

    dialect: Dialect = "sqlite"

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self.writes = 0  # statements run; the owner uses it to schedule checkpoints
        self.last_duration = 0.0  # seconds the last statement took (without waiting)
        self._yielded = time.perf_counter()

    async def _run(self, fn: Callable[[sqlite3.Connection], _T], *, busy: bool = False) -> _T:
        """Run ``fn`` until it is not refused as busy; ``busy``: a first try just was."""
        deadline = time.monotonic() + _BUSY_TIMEOUT if busy else 0.0
        delay = 0.001
        if busy:
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.05)
        while True:
            try:
                started = time.perf_counter()
                result = fn(self._conn)
                self.last_duration = time.perf_counter() - started
                break
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc):
                    raise
                now = time.monotonic()
                if not deadline:
                    deadline = now + _BUSY_TIMEOUT
                elif now >= deadline:
                    raise
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.05)
        if self._ran():
            await asyncio.sleep(0)
        return result

    def _ran(self) -> bool:
        """Count a statement that ran; True when the caller should now yield to the loop."""
        self.writes += 1
        now = time.perf_counter()
        if now - self._yielded >= _YIELD_EVERY:
            self._yielded = now
            return True
        return False

    # Each statement is first tried here, without ``_run``'s closure and coroutine (a few
    # microseconds a statement, and an inbox Create runs twenty): only one refused as busy
    # goes through its retry loop, which begins as a failure in ``_run`` would.

    async def execute(self, sql: str, *args: Any) -> int:
        query = _to_sqlite(sql)
        try:
            started = time.perf_counter()
            count = self._conn.execute(query, args).rowcount
            self.last_duration = time.perf_counter() - started
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc):
                raise
            return await self._run(lambda c: c.execute(query, args).rowcount, busy=True)
        if self._ran():
            await asyncio.sleep(0)
        return count

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        query = _to_sqlite(sql)
        await self._run(lambda c: c.executemany(query, rows))

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        query = _to_sqlite(sql)
        try:
            started = time.perf_counter()
            rows = _rows(self._conn.execute(query, args))
            self.last_duration = time.perf_counter() - started
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc):
                raise
            return await self._run(lambda c: _rows(c.execute(query, args)), busy=True)
        if self._ran():
            await asyncio.sleep(0)
        return rows

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        query = _to_sqlite(sql)
        try:
            started = time.perf_counter()
            row = _first(self._conn.execute(query, args))
            self.last_duration = time.perf_counter() - started
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc):
                raise
            return await self._run(lambda c: _first(c.execute(query, args)), busy=True)
        if self._ran():
            await asyncio.sleep(0)
        return row

    async def fetch_values(self, sql: str, *args: Any) -> list[Sequence[Any]]:
        query = _to_sqlite(sql)
        return await self._run(lambda c: c.execute(query, args).fetchall())

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

    def __init__(
        self,
        writer: sqlite3.Connection,
        readers: list[_ReaderThread],
        inline_reader: sqlite3.Connection | None = None,
        notifier: Notifier | None = None,
        lock_path: str | None = None,
    ) -> None:
        self._writer = _SqliteConnection(writer)
        self._raw_writer = writer
        self._raw_inline = inline_reader
        self._inline = _SqliteConnection(inline_reader) if inline_reader is not None else None
        self._slow_reads: set[str] = set()  # statements too slow to run in the event loop
        self._slow_strikes: dict[str, int] = {}  # statement → times it was seen slow
        self._readers = [_SqliteReader(r) for r in readers]
        self._reader_threads = readers
        self._next_reader = itertools.cycle(range(len(readers)))
        self._lock = WriteLock(lock_path, timeout=_BUSY_TIMEOUT)
        self._listeners: dict[str, set[asyncio.Queue[str]]] = {}
        self._notifier = notifier  # other processes on the same file (None: in memory)
        self._checkpointed_at = 0  # writer statement count at the last checkpoint
        self._checkpoint: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, path: str) -> SqliteDatabase:
        if path != ":memory:":
            parent = os.path.dirname(path)
            if parent:
                os.makedirs(parent, exist_ok=True)
        writer = _connect(path, busy_timeout_ms=0)
        readers: list[_ReaderThread] = []
        inline = None
        if path != ":memory:":
            writer.execute("PRAGMA wal_autocheckpoint=0")
            readers = [
                _ReaderThread(_connect(path, busy_timeout_ms=int(_BUSY_TIMEOUT * 1000)))
                for _ in range(_READERS)
            ]
            inline = _connect(path, busy_timeout_ms=0)
        if path == ":memory:":
            return cls(writer, readers, inline)
        return cls(writer, readers, inline, Notifier(path), lock_path=path)

    async def close(self) -> None:
        if self._notifier is not None:
            self._notifier.close()
        if self._checkpoint is not None:
            await asyncio.gather(self._checkpoint, return_exceptions=True)
        if self._readers and not self._reader_threads[0].closed:
            # One last checkpoint so the database file is complete without its WAL.
            await self._reader_threads[0].run(_checkpoint)
        for thread in self._reader_threads:
            await asyncio.to_thread(thread.close)
        if self._raw_inline is not None:
            self._raw_inline.close()
        self._raw_writer.close()
        self._lock.close()

    def _reader(self) -> _SqliteReader | _SqliteConnection:
        if not self._readers:
            return self._writer
        return self._readers[next(self._next_reader)]

    def _timed(self, sql: str, inline: _SqliteConnection) -> None:
        """After a read in the event loop: a statement seen slow ``_SLOW_STRIKES`` times
        goes to reader threads from now. Not at the first time: on a loaded machine the
        clock also counts the turns other processes took, and an indexed lookup preempted
        once would pay a thread hop for good."""
        if inline.last_duration > _INLINE_READ_LIMIT:
            strikes = self._slow_strikes.get(sql, 0) + 1
            if strikes < _SLOW_STRIKES:
                if len(self._slow_strikes) >= 4096:
                    self._slow_strikes.clear()
                self._slow_strikes[sql] = strikes
                return
            if len(self._slow_reads) >= 4096:
                self._slow_reads.clear()
            self._slow_reads.add(sql)

    def _wrote(self) -> None:
        """After a commit: checkpoint the WAL from a reader thread once it has grown.

        A checkpoint copies each page the WAL holds once, however many commits wrote it,
        and syncs the file: the hot pages (the queue's, the newest rows' and indexes') are
        rewritten at every one. Every 1,000 statements that was 6 % of the inbox
        worker's samples (bench/inbox.py); every 4,000, a WAL of a few MB at most."""
        if (
            self._readers
            and self._writer.writes - self._checkpointed_at >= _CHECKPOINT_EVERY
            and (self._checkpoint is None or self._checkpoint.done())
        ):
            self._checkpointed_at = self._writer.writes
            self._checkpoint = asyncio.create_task(self._reader_threads[0].run(_checkpoint))

    async def execute(self, sql: str, *args: Any) -> int:
        if (batch := current_batch(self)) is not None:
            return await batch.conn.execute(sql, *args)
        async with self._lock.held():
            count = await self._writer.execute(sql, *args)
        self._wrote()
        return count

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        async with self.transaction() as tx:
            await tx.executemany(sql, rows)

    async def _read(self, method: str, sql: str, args: tuple[Any, ...]) -> Any:
        """``method`` (fetch, fetchrow, fetch_values) where the read belongs: the open
        batch's transaction (on the writer); the writer between its writes for a statement
        that writes, or a database in memory (no readers); the event loop's own connection;
        a reader thread once the statement was seen slow."""
        if current_batch(self) is not None:
            return await getattr(self._writer, method)(sql, *args)
        if _is_write(sql) or not self._readers:
            async with self._lock.held():
                result = await getattr(self._writer, method)(sql, *args)
            self._wrote()
            return result
        inline = self._inline
        if inline is not None and sql not in self._slow_reads:
            result = await getattr(inline, method)(sql, *args)
            self._timed(sql, inline)
            return result
        return await getattr(self._reader(), method)(sql, *args)

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        rows: list[Row] = await self._read("fetch", sql, args)
        return rows

    async def fetch_generic(self, sql: str, *args: Any) -> list[Sequence[Any]]:
        # SQLite plans each statement once when prepared; rows stay the driver's tuples.
        rows: list[Sequence[Any]] = await self._read("fetch_values", sql, args)
        return rows

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        row: Row | None = await self._read("fetchrow", sql, args)
        return row

    async def fetchval(self, sql: str, *args: Any) -> Any:
        row = await self.fetchrow(sql, *args)
        if row is None:
            return None
        return next(iter(row.values()))

    def transaction(self) -> AbstractAsyncContextManager[Connection]:
        if (batch := current_batch(self)) is not None:
            return savepoint(batch)
        return self._transaction()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[Connection]:
        async with self._lock.held():
            await self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield self._writer
            except BaseException:
                # Synchronous: a cancellation cannot leave the transaction open.
                self._raw_writer.execute("ROLLBACK")
                raise
            else:
                self._raw_writer.execute("COMMIT")
        self._wrote()

    def writers_waiting(self) -> bool:
        return self._lock.contended()

    @asynccontextmanager
    async def batch(self) -> AsyncIterator[Connection]:
        if (open_batch := current_batch(self)) is not None:
            yield open_batch.conn
            return
        async with self.transaction() as conn, enter_batch(self, conn) as state:
            yield conn
            await settle_owed(state)
        # Committed: now they may be heard, here and in the other processes on this file.
        for channel, payload in state.notes:
            self._deliver(channel, payload)
        if self._notifier is not None:
            self._notifier.send_many(state.notes)

    @asynccontextmanager
    async def listen(self, channel: str) -> AsyncIterator[AsyncIterator[str]]:
        queue: asyncio.Queue[str] = asyncio.Queue(maxsize=1000)
        self._listeners.setdefault(channel, set()).add(queue)
        if self._notifier is not None:
            self._notifier.start(self._deliver)

        async def messages() -> AsyncIterator[str]:
            while True:
                yield await queue.get()

        try:
            yield messages()
        finally:
            self._listeners[channel].discard(queue)

    async def notify(self, channel: str, payload: str) -> None:
        if (batch := current_batch(self)) is not None:
            batch.notes.append((channel, payload))
            return
        self._deliver(channel, payload)
        # Other processes on this file (``serve --workers N``): see storage.sqlite.notify.
        if self._notifier is not None:
            self._notifier.send(channel, payload)

    def _deliver(self, channel: str, payload: str) -> None:
        for queue in list(self._listeners.get(channel, ())):
            if not queue.full():
                queue.put_nowait(payload)


def _checkpoint(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()


def _is_write(sql: str) -> bool:
    head = sql.lstrip()[:7].upper()
    return head.startswith(("INSERT", "UPDATE", "DELETE", "REPLACE", "WITH"))
