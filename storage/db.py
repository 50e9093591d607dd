"""The seam between query code and a database driver.

Queries are written once, in PostgreSQL's ``$1`` placeholder style; the SQLite driver
rewrites them to SQLite's numbered ``?1`` form.  Each dialect has one implementation of
this protocol (``storage.sqlite.db``, ``storage.postgres.db``); everything above it is
shared, so the two backends cannot drift apart in behaviour.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from types import TracebackType
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

    async def fetch_generic(self, sql: str, *args: Any) -> list[Sequence[Any]]:
        """``fetch`` for a read whose plan must not depend on its arguments: PostgreSQL
        plans it once per connection (a generic plan) instead of again for each execution,
        one round trip as ``fetch``. For statements whose planning costs more than running
        them and whose best plan is the same for every argument (timeline pages). Rows are
        read by position, in the order of the select list: no mapping of names is built
        for them (SQLite hands over its tuples)."""
        ...

    def writers_waiting(self) -> bool:
        """Whether another writer (a task here, another process) waits for this database's
        one writer: a long batch should commit and let it through (SQLite; PostgreSQL has
        no such writer: always False). Tasks that ``wait_patiently`` do not count."""
        ...

    def batch(self) -> AbstractAsyncContextManager[Connection]:
        """One transaction for everything this task does on this database until it ends.

        Inside it, every statement of the task (whichever repository runs it) goes to that
        transaction and sees its writes; ``transaction()`` becomes a savepoint, rolled back
        alone when its block raises; notifications wait for the commit (and are dropped
        with a rolled-back savepoint). Other tasks are not affected. Nested: the same one.

        A ``transaction()`` inside such a savepoint is part of it (no savepoint of its
        own): when its block raises, the enclosing savepoint rolls back whole, and if the
        exception was caught on the way, it raises ``NestedRollback`` when it ends.
        """
        ...

    async def close(self) -> None: ...

    def listen(self, channel: str) -> AbstractAsyncContextManager[AsyncIterator[str]]:
        """Subscribe to a notification channel (cross-process on PostgreSQL)."""
        ...

    async def notify(self, channel: str, payload: str) -> None: ...


@dataclass(eq=False)
class BatchState:
    """An open ``Database.batch()``: its connection and the notifications it holds back."""

    db: object
    conn: Connection
    open: bool = True
    notes: list[tuple[str, str]] = field(default_factory=list)
    depth: int = 0
    # A transaction nested in the open savepoint failed: that savepoint must roll back.
    failed_inside: bool = False
    # What repositories read in this transaction and may read again (``batch_memo``).
    memo: dict[object, object] = field(default_factory=dict)
    # The server takes several statements in one message (PostgreSQL's simple queries): a
    # savepoint's RELEASE waits to go with the next SAVEPOINT (or the COMMIT, which
    # releases it), one round trip an activity fewer (``Savepoint``).
    merge_release: bool = False
    release_owed: str = ""
    # Writes put off to the commit (``owe``), each with what settles it; a rolled-back
    # savepoint drops its own, as it does its notifications.
    owed: list[tuple[Settler, Any]] = field(default_factory=list)


# Settles the entries owed to one settler, in the order they were owed, on the batch's
# connection, just before it commits.
Settler = Callable[["Connection", list[Any]], Awaitable[None]]


def owe(db: object, settler: Settler, entry: Any) -> bool:
    """Put a write off to the commit of this task's open batch on ``db``: ``settler`` then
    gets every entry owed to it, at once. False when no batch is open (write it now).

    For counters many activities of a batch add to (an author's statuses): added once at
    the end, their rows are locked only while the batch commits, not from the first
    activity that counts on them, when another process's batch may want them too."""
    state = current_batch(db)
    if state is None:
        return False
    state.owed.append((settler, entry))
    return True


async def settle_owed(state: BatchState) -> None:
    """Run what the batch owes (``owe``): each settler once, with its entries in order."""
    owed, state.owed = state.owed, []
    grouped: dict[Settler, list[Any]] = {}
    for settler, entry in owed:
        grouped.setdefault(settler, []).append(entry)
    for settler, entries in grouped.items():
        await settler(state.conn, entries)


_batch: ContextVar[BatchState | None] = ContextVar("fedinode_storage_batch", default=None)


# Set in a task whose writes can wait (the inbox workers): while it waits for SQLite's one
# writer, the holder is not told to commit early (``Database.writers_waiting``).
_patient: ContextVar[bool] = ContextVar("fedinode_storage_patient_writer", default=False)


def wait_patiently() -> None:
    """From now on this task's waits for the writer do not count as writers waiting.

    The inbox workers of a process take turns at SQLite's one writer: counted, each would
    make the other's batch commit after a few items (a commit, and its statements, per
    eight activities), for a wait nobody needs to be short. Intake commits, which the
    202s wait for, still count."""
    _patient.set(True)


def is_patient() -> bool:
    """Whether this task's waits for the writer are not to count (``wait_patiently``)."""
    return _patient.get()


def current_batch(db: object) -> BatchState | None:
    """The batch this task has open on ``db`` (a task it started after it closed: none)."""
    state = _batch.get()
    return state if state is not None and state.open and state.db is db else None


@asynccontextmanager
async def enter_batch(db: object, conn: Connection) -> AsyncIterator[BatchState]:
    """Make ``conn`` (a transaction the caller opened) this task's batch on ``db``."""
    state = BatchState(db, conn)
    token = _batch.set(state)
    try:
        yield state
    finally:
        state.open = False
        _batch.reset(token)


def batch_memo(db: Connection) -> dict[object, object] | None:
    """A place for rows read in this task's open batch, to read again until it commits
    (None: no batch). Emptied when a savepoint of the batch rolls back: what it wrote may be
    remembered. On SQLite the batch holds the one writer, so a remembered row is as stored;
    on PostgreSQL another process may commit a change meanwhile, so a row remembered is as
    old as the batch at most (the inbox worker's: tens of milliseconds, as if its items had
    run that much earlier): remember only what may be that old."""
    state = current_batch(db)
    return None if state is None else state.memo


def savepoint(state: BatchState) -> Savepoint | NestedSavepoint:
    """A savepoint in the batch: its writes and notifications go if the block raises.

    Inside an open savepoint, a transaction is part of it (``NestedSavepoint``): the
    inbox worker's item savepoint already isolates the item, and the statuses' and the
    cards' savepoints inside it cost four statements an activity."""
    if state.depth:
        return NestedSavepoint(state)
    return Savepoint(state)


class NestedRollback(Exception):
    """A transaction inside a batch's savepoint failed and its exception was caught before
    the savepoint ended: the savepoint rolled back whole (its work is to be done again
    outside a batch, where each transaction is one of its own)."""


class Savepoint:
    """``savepoint``'s context manager. A class, not an ``asynccontextmanager``: the inbox
    worker opens one per activity, and a generator's setup and teardown cost several
    times what this does (4.7 µs against 0.6 µs, with the transaction around it)."""

    __slots__ = ("_held", "_name", "_owed", "_state")

    def __init__(self, state: BatchState) -> None:
        self._state = state
        self._name = ""
        self._held = 0
        self._owed = 0

    async def __aenter__(self) -> Connection:
        state = self._state
        state.depth += 1
        state.failed_inside = False
        self._name = f"fedinode_sp{state.depth}"
        self._held = len(state.notes)
        self._owed = len(state.owed)
        owed, state.release_owed = state.release_owed, ""
        try:
            if owed:
                await state.conn.execute(f"RELEASE SAVEPOINT {owed}; SAVEPOINT {self._name}")
            else:
                await state.conn.execute(f"SAVEPOINT {self._name}")
        except BaseException:
            state.depth -= 1
            raise
        return state.conn

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        state = self._state
        failed_inside, state.failed_inside = state.failed_inside, False
        try:
            if exc_type is not None or failed_inside:
                del state.notes[self._held :]
                del state.owed[self._owed :]
                state.memo.clear()
                await state.conn.execute(f"ROLLBACK TO SAVEPOINT {self._name}")
                await state.conn.execute(f"RELEASE SAVEPOINT {self._name}")
            elif state.merge_release:
                # Left open until the next savepoint's statement releases it, or the
                # commit does; what runs meanwhile in the batch runs in it, as it would
                # after a release: rolling back is only ever to a later savepoint, or all.
                state.release_owed = self._name
            else:
                await state.conn.execute(f"RELEASE SAVEPOINT {self._name}")
        finally:
            state.depth -= 1
        if exc_type is None and failed_inside:
            raise NestedRollback("a transaction inside the savepoint failed")
        return False  # what the block raised goes on


class NestedSavepoint:
    """A transaction inside an open savepoint of the batch: no statement of its own; when
    its block raises, the enclosing savepoint is marked to roll back whole."""

    __slots__ = ("_held", "_owed", "_state")

    def __init__(self, state: BatchState) -> None:
        self._state = state
        self._held = 0
        self._owed = 0

    async def __aenter__(self) -> Connection:
        self._held = len(self._state.notes)
        self._owed = len(self._state.owed)
        self._state.depth += 1
        return self._state.conn

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        state = self._state
        state.depth -= 1
        if exc_type is not None:
            del state.notes[self._held :]
            del state.owed[self._owed :]
            state.memo.clear()
            state.failed_inside = True
        return False


def placeholders(start: int, count: int) -> str:
    """``$start, …`` for ``count`` parameters: the list inside an ``IN (…)``."""
    return ", ".join(f"${i}" for i in range(start, start + count))


async def open_database(url: str, *, pool_size: int = 10) -> Database:
    """Open a database from a URL: ``sqlite:///path`` or ``postgresql://…`` (with at most
    ``pool_size`` pooled connections, beside those of timeline pages and listening)."""
    if url.startswith("sqlite:"):
        from storage.sqlite.db import SqliteDatabase

        return await SqliteDatabase.open(sqlite_path(url))
    if url.startswith(("postgresql:", "postgres:")):
        from storage.postgres.db import PostgresDatabase

        return await PostgresDatabase.open(url, max_size=pool_size)
    raise ValueError(f"unsupported database url scheme: {url.split(':', 1)[0]!r}")


def sqlite_path(url: str) -> str:
    """``sqlite:///rel/path`` → ``rel/path``; ``sqlite:////abs/path`` → ``/abs/path``."""
    rest = url[len("sqlite:") :]
    if rest.startswith("///"):
        return rest[3:]
    if rest.startswith("//"):
        return rest[2:]
    return rest
