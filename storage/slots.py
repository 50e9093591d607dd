"""Id slots: each process that shares a database holds one slot number of ``storage.ids``.

A slot is held for the life of the process, and let go by the operating system when the
process dies, however it dies: on PostgreSQL a session advisory lock on a connection of its
own (the server drops it when the connection closes); on SQLite an exclusive ``flock`` on
one small file per slot in a directory next to the database file. The lowest free slot is
taken, so a process restarted after a crash usually holds the slot it held before.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import zlib
from dataclasses import dataclass, field
from typing import Any

from storage import ids
from storage.db import sqlite_path
from storage.ids import SLOTS

log = logging.getLogger("fedinode.storage")
_TRY_LOCK = "SELECT pg_try_advisory_lock($1::int4, $2::int4)"


class NoFreeSlot(RuntimeError):
    """Every id slot of the database is held by a running process."""


@dataclass(eq=False)
class SlotClaim:
    """A held slot; ``release`` lets it go (closing the store does)."""

    slot: int
    where: str  # what holds it: "postgres advisory lock …" or the lock file's path
    _handle: Any = field(default=None, repr=False)
    _relocking: asyncio.Task[None] | None = field(default=None, repr=False)

    async def is_held(self, slot: int) -> bool:
        """Whether some running process holds ``slot`` of this database (this one included)."""
        if slot == self.slot:
            return True
        if self._handle is None:
            return False
        if isinstance(self._handle, int):
            return await asyncio.to_thread(_sqlite_held, os.path.dirname(self.where), slot)
        return await _pg_held(self._handle, slot)

    def _watch_postgres(self, dsn: str, key: int) -> None:
        """If the lock's connection closes under us (a server restart, a dropped link), the
        server has let the slot go: take it again, or another free one."""
        conn = self._handle
        loop = asyncio.get_running_loop()

        def lost(_conn: Any) -> None:
            if self._handle is conn and not loop.is_closed():  # not our own release
                self._relocking = loop.create_task(self._relock_postgres(dsn, key))

        conn.add_termination_listener(lost)

    async def _relock_postgres(self, dsn: str, key: int) -> None:
        import asyncpg

        log.warning("id slot %d: its database connection closed; taking a slot again", self.slot)
        delay = 0.2
        while self._handle is not None:
            conn = None
            try:
                conn = await asyncpg.connect(dsn)
                for slot in (self.slot, *range(SLOTS)):
                    if await conn.fetchval(_TRY_LOCK, key, slot):
                        break
                else:
                    raise NoFreeSlot("every id slot is held")
            except asyncio.CancelledError:
                if conn is not None:
                    await conn.close()
                raise
            except Exception as exc:
                if conn is not None:
                    with contextlib.suppress(Exception):
                        await conn.close()
                log.warning("id slot %d: cannot take a slot yet (%s)", self.slot, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
                continue
            if self._handle is None:  # released meanwhile
                await conn.close()
                return
            if slot != self.slot:
                log.warning("id slot %d was taken meanwhile: ids now carry slot %d",
                            self.slot, slot)  # fmt: skip
                if ids.current_slot() == self.slot:
                    ids.set_slot(slot)
                self.slot = slot
            self._handle = conn
            self.where = f"postgres advisory lock ({key}, {slot})"
            self._watch_postgres(dsn, key)
            log.info("id slot %d held again", slot)
            return

    async def release(self) -> None:
        handle, self._handle = self._handle, None
        relocking, self._relocking = self._relocking, None
        if relocking is not None:
            relocking.cancel()
            with contextlib.suppress(BaseException):
                await relocking
        if handle is None:
            return
        if isinstance(handle, int):
            with contextlib.suppress(OSError):
                os.close(handle)  # closing the descriptor ends the flock
        else:
            with contextlib.suppress(Exception):
                await handle.close()


async def claim_slot(url: str) -> SlotClaim:
    """Hold the lowest free id slot of the database at ``url`` (raises NoFreeSlot)."""
    if url.startswith("sqlite:"):
        return await asyncio.to_thread(_claim_sqlite, sqlite_path(url))
    if url.startswith(("postgresql:", "postgres:")):
        return await _claim_postgres(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    raise ValueError(f"unsupported database url scheme: {url.split(':', 1)[0]!r}")


_OWNER_SUFFIX = "#slot"


def slot_owner_name(host: str, slot: int) -> str:
    """The lease owner name of a process known by its host and id slot."""
    return f"{host}{_OWNER_SUFFIX}{slot}"


def slot_of_owner_name(name: str) -> int | None:
    """The id slot a lease owner name was made from (``None``: a configured worker name)."""
    _, sep, tail = name.rpartition(_OWNER_SUFFIX)
    if not sep or not tail.isascii() or not tail.isdigit() or not int(tail) < SLOTS:
        return None
    return int(tail)


def slot_directory(database_path: str) -> str:
    """Where a SQLite database's slot lock files live."""
    return f"{database_path}.slots"


def _claim_sqlite(path: str) -> SlotClaim:
    import fcntl

    if path in ("", ":memory:") or path.startswith("file::memory:"):
        # Only this process can open the database: any slot is free.
        return SlotClaim(0, "in-memory database")
    folder = slot_directory(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    for slot in range(SLOTS):
        name = os.path.join(folder, f"{slot:03d}.lock")
        fd = os.open(name, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            # flock (not fcntl record locks): held per open file, so two stores in one
            # process exclude each other too, and closing another descriptor of the file
            # does not drop it.
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        return SlotClaim(slot, name, fd)
    raise NoFreeSlot(f"all {SLOTS} id slots of {path} are held by running processes")


def advisory_key(database: str, schema: str) -> int:
    """The first half of the advisory lock key: one id space per database and schema."""
    return zlib.crc32(f"fedinode.ids:{database}:{schema}".encode()) & 0x7FFFFFFF


async def _claim_postgres(dsn: str) -> SlotClaim:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        database, schema = await conn.fetchrow("SELECT current_database(), current_schema()")
        key = advisory_key(str(database), str(schema))
        for slot in range(SLOTS):
            if await conn.fetchval(_TRY_LOCK, key, slot):
                claim = SlotClaim(slot, f"postgres advisory lock ({key}, {slot})", conn)
                claim._watch_postgres(dsn, key)
                return claim
    except BaseException:
        await conn.close()
        raise
    await conn.close()
    raise NoFreeSlot(f"all {SLOTS} id slots of the database are held by running processes")


async def slot_is_held(url: str, slot: int) -> bool:
    """Whether some process holds ``slot`` of the database at ``url`` now."""
    if url.startswith("sqlite:"):
        path = sqlite_path(url)
        return await asyncio.to_thread(
            lambda: _sqlite_held(slot_directory(os.path.abspath(path)), slot)
        )
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        return await _pg_held(conn, slot)
    finally:
        await conn.close()


async def _pg_held(conn: Any, slot: int) -> bool:
    database, schema = await conn.fetchrow("SELECT current_database(), current_schema()")
    key = advisory_key(str(database), str(schema))
    found = await conn.fetchval(
        "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        " AND classid = $1::int4::oid AND objid = $2::int4::oid AND objsubid = 2",
        key,
        slot,
    )
    return found is not None


def _sqlite_held(folder: str, slot: int) -> bool:
    import fcntl

    try:
        fd = os.open(os.path.join(folder, f"{slot:03d}.lock"), os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)
    return False
