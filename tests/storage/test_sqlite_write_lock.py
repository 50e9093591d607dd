"""Processes writing one SQLite file take turns through a shared lock: a writer waits for
the lock instead of polling SQLITE_BUSY, is not starved by back-to-back transactions of
another process, gives up after the timeout as SQLite would, and a writer that is killed
or cancelled leaves the lock free. (SQLite only: PostgreSQL has row locks.)"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from storage.db import wait_patiently
from storage.sqlite.db import SqliteDatabase
from storage.sqlite.writelock import WriteLock

ROOT = Path(__file__).resolve().parents[2]


async def _open_two(path: Path) -> tuple[SqliteDatabase, SqliteDatabase]:
    first = await SqliteDatabase.open(str(path))
    await first.execute("CREATE TABLE IF NOT EXISTS lock_probe (n INTEGER PRIMARY KEY, who TEXT)")
    # A second database object opens its own descriptors: to the lock it is another process.
    return first, await SqliteDatabase.open(str(path))


async def test_a_writer_is_not_starved_by_another_writers_back_to_back_transactions(
    tmp_path: Path,
) -> None:
    busy, other = await _open_two(tmp_path / "db.sqlite3")
    order: list[str] = []
    try:

        async def back_to_back() -> None:
            for n in range(60):
                async with busy.transaction() as tx:
                    await tx.execute("INSERT INTO lock_probe (n, who) VALUES ($1, 'busy')", n)
                    # The writer works in the event loop, holding the lock.
                    time.sleep(0.005)  # noqa: ASYNC251
                order.append("busy")

        loop_task = asyncio.create_task(back_to_back())
        await asyncio.sleep(0.05)
        started = time.monotonic()
        await other.execute("INSERT INTO lock_probe (n, who) VALUES (1000, 'other')")
        waited = time.monotonic() - started
        order.append("other")
        await loop_task
        # The other writer got its turn after at most a couple of the busy one's
        # transactions, not after all sixty (with polling it met a lock that was free
        # only between two statements of the same event loop turn).
        assert order.index("other") < 20, order
        assert waited < 0.5
        rows = await other.fetch("SELECT who, COUNT(*) AS c FROM lock_probe GROUP BY who")
        assert {r["who"]: r["c"] for r in rows} == {"busy": 60, "other": 1}
    finally:
        await busy.close()
        await other.close()


async def test_a_waiting_writer_gives_up_after_the_timeout_and_leaves_the_lock_free(
    tmp_path: Path,
) -> None:
    path = str(tmp_path / "db.sqlite3")
    holder, waiter, third = (WriteLock(path, timeout=0.2) for _ in range(3))
    try:
        async with holder.held():
            started = time.monotonic()
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                async with waiter.held():
                    pytest.fail("the lock was held by another writer")
            assert 0.15 < time.monotonic() - started < 2.0
        # The waiter's thread took the lock once it was free, and gave it back.
        async with asyncio.timeout(1.0), third.held():
            pass
        async with asyncio.timeout(1.0), waiter.held():
            pass
    finally:
        for lock in (holder, waiter, third):
            lock.close()


async def test_a_cancelled_waiter_leaves_the_lock_free(tmp_path: Path) -> None:
    path = str(tmp_path / "db.sqlite3")
    holder, waiter, third = (WriteLock(path, timeout=5.0) for _ in range(3))
    try:
        entered = asyncio.Event()

        async def wait_for_turn() -> None:
            async with waiter.held():
                entered.set()

        async with holder.held():
            task = asyncio.create_task(wait_for_turn())
            await asyncio.sleep(0.1)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        assert not entered.is_set()
        async with asyncio.timeout(1.0), third.held():
            pass
    finally:
        for lock in (holder, waiter, third):
            lock.close()


_HOLD_AND_HANG = """
import asyncio, sys
from storage.db import wait_patiently
from storage.sqlite.db import SqliteDatabase

async def main():
    db = await SqliteDatabase.open(sys.argv[1])
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO lock_probe (n, who) VALUES (1, 'killed')")
        print("holding", flush=True)
        await asyncio.sleep(60)

asyncio.run(main())
"""


async def test_a_writer_killed_while_holding_the_lock_does_not_block_the_others(
    tmp_path: Path,
) -> None:
    path = tmp_path / "db.sqlite3"
    db, _unused = await _open_two(path)
    await _unused.close()
    child = subprocess.Popen(  # noqa: ASYNC220
        [sys.executable, "-c", _HOLD_AND_HANG, str(path)],
        stdout=subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert child.stdout is not None
        line = await asyncio.to_thread(child.stdout.readline)
        assert line.strip() == b"holding"
        write = asyncio.create_task(db.execute("INSERT INTO lock_probe (n, who) VALUES (2, 'us')"))
        await asyncio.sleep(0.3)
        assert not write.done()  # it waits for the other process's transaction
        child.send_signal(signal.SIGKILL)
        await asyncio.wait_for(write, 2.0)
        # The killed process's transaction never committed.
        rows = await db.fetch("SELECT who FROM lock_probe ORDER BY n")
        assert [r["who"] for r in rows] == ["us"]
    finally:
        child.kill()
        child.wait()
        await db.close()


async def test_the_holder_sees_when_another_writer_waits(tmp_path: Path) -> None:
    path = str(tmp_path / "db.sqlite3")
    holder, other_process = WriteLock(path, timeout=5.0), WriteLock(path, timeout=5.0)
    try:
        async with holder.held():
            assert not holder.contended()
            # A task of this process waits for the same lock.
            local = asyncio.create_task(holder.held().__aenter__())
            await asyncio.sleep(0.05)
            assert holder.contended()
            local.cancel()
            with pytest.raises(asyncio.CancelledError):
                await local
            assert not holder.contended()

            # Another process waits (it holds the turnstile while it does).
            async def take_and_release() -> None:
                async with other_process.held():
                    pass

            remote = asyncio.create_task(take_and_release())
            await asyncio.sleep(0.1)
            assert holder.contended()
        await asyncio.wait_for(remote, 2.0)
        assert not holder.contended()
    finally:
        holder.close()
        other_process.close()


async def test_a_patient_waiter_does_not_make_the_holder_hurry(tmp_path: Path) -> None:
    """A task that waits patiently (an inbox loop) is not a writer waiting; once it has the
    lock, others waiting for it count as before."""
    lock = WriteLock(str(tmp_path / "db.sqlite3"), timeout=5.0)
    go = asyncio.Event()

    async def patient() -> None:
        wait_patiently()
        async with lock.held():
            await go.wait()

    try:
        async with lock.held():
            waiter = asyncio.create_task(patient())
            await asyncio.sleep(0.05)
            assert not lock.contended()
        await asyncio.sleep(0.05)  # the patient task holds it now
        impatient = asyncio.create_task(lock.held().__aenter__())
        await asyncio.sleep(0.05)
        assert lock.contended()  # this test's own task is not patient
        go.set()
        await asyncio.wait_for(waiter, 2.0)
        await asyncio.wait_for(impatient, 2.0)
    finally:
        lock.close()
