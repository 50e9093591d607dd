"""The write lock of one SQLite file, shared by every process that writes to it.

SQLite lets one connection write at a time. A writer that meets another process's lock gets
SQLITE_BUSY at once (our writer has no busy timeout: it runs in the event loop) and can
only poll: sleep, try again. Under ``serve --workers N`` the processes' write transactions
(inbox intake commits, inbox processing batches) then wait out whole sleeps after the lock
was already free, and the machine idles while requests queue: with two workers the inbox
took fewer activities per second than with one.

So every writer first takes this lock: an ``flock`` on a file beside the database. Taking a
free lock is one system call. A taken one is waited for in a thread that the kernel wakes
the moment it is released, so the lock passes from process to process without sleeps, and
the event loop goes on serving meanwhile. ``flock`` is not fair: a process releasing the
lock and taking it again at once (one processing batch after another) could keep it from a
waiter for long. A turnstile makes it fair: a waiter holds the turnstile while it waits for
the lock, and whoever wants the lock passes the turnstile first, so it queues behind.

Within a process an ``asyncio.Lock`` comes first: one task at a time reaches the file.
A process that never takes this lock (the ``sqlite3`` shell) still only meets SQLITE_BUSY,
which the writer keeps retrying as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import sqlite3
from collections.abc import AsyncIterator
from concurrent.futures import Future, ThreadPoolExecutor

from storage.db import is_patient

# The two files beside the database (``<database>-writelock``, ``<database>-turnstile``).
LOCK_SUFFIXES = ("-writelock", "-turnstile")


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _lock(fd: int) -> None:
    fcntl.flock(fd, fcntl.LOCK_EX)


def _unlock(fd: int) -> None:
    fcntl.flock(fd, fcntl.LOCK_UN)


def _unlock_when_taken(fd: int, taken: Future[None]) -> None:
    """A waiter gave up (timeout, cancellation): the thread still takes the lock; give it
    back then."""

    def done(future: Future[None]) -> None:
        if not future.cancelled() and future.exception() is None:
            with contextlib.suppress(OSError):  # closed meanwhile: the lock went with it
                _unlock(fd)

    taken.add_done_callback(done)


class WriteLock:
    """``async with lock.held():`` — this process's turn to write, across processes.

    ``path`` None: an in-memory database, which no other process can open; only the
    ``asyncio.Lock`` is used.
    """

    def __init__(self, path: str | None, *, timeout: float) -> None:
        self._local = asyncio.Lock()
        self._local_waiting = 0  # tasks of this process waiting for ``_local``
        self._timeout = timeout
        self._lock_fd = -1
        self._turnstile_fd = -1
        self._waiter: ThreadPoolExecutor | None = None
        if path is not None:
            flags = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC
            lock, turnstile = (f"{path}{suffix}" for suffix in LOCK_SUFFIXES)
            self._lock_fd = os.open(lock, flags, 0o600)
            self._turnstile_fd = os.open(turnstile, flags, 0o600)

    @contextlib.asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        # A patient task (an inbox worker) waits without asking the holder to hurry.
        counted = 0 if is_patient() else 1
        self._local_waiting += counted
        try:
            await self._local.acquire()
        finally:
            self._local_waiting -= counted
        try:
            if self._lock_fd < 0:
                yield
                return
            await self._take_file_lock()
            try:
                yield
            finally:
                _unlock(self._lock_fd)
        finally:
            self._local.release()

    def contended(self) -> bool:
        """Whether a writer waits for the lock: a task of this process (not a patient one,
        ``storage.db.wait_patiently``), or another process (it holds the turnstile while it
        waits). A moment's false positive is harmless:
        the holder only commits a little earlier."""
        if self._local_waiting:
            return True
        if self._turnstile_fd < 0:
            return False
        if _try_lock(self._turnstile_fd):
            _unlock(self._turnstile_fd)
            return False
        return True

    async def _take_file_lock(self) -> None:
        if _try_lock(self._turnstile_fd):
            try:
                if _try_lock(self._lock_fd):
                    return
                await self._wait_for(self._lock_fd)
            finally:
                _unlock(self._turnstile_fd)
            return
        # Someone waits for the lock: queue behind them at the turnstile.
        await self._wait_for(self._turnstile_fd)
        try:
            if not _try_lock(self._lock_fd):
                await self._wait_for(self._lock_fd)
        finally:
            _unlock(self._turnstile_fd)

    async def _wait_for(self, fd: int) -> None:
        """Block on ``fd`` in a thread; after ``timeout`` seconds give up as SQLite would."""
        if self._waiter is None:
            self._waiter = ThreadPoolExecutor(1, thread_name_prefix="fedinode-sqlite-lock")
        taken = self._waiter.submit(_lock, fd)
        try:
            await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(taken)), self._timeout)
        except TimeoutError:
            _unlock_when_taken(fd, taken)
            raise sqlite3.OperationalError("database is locked") from None
        except BaseException:
            _unlock_when_taken(fd, taken)
            raise

    def close(self) -> None:
        for fd in (self._lock_fd, self._turnstile_fd):
            if fd >= 0:
                os.close(fd)
        self._lock_fd = self._turnstile_fd = -1
        if self._waiter is not None:
            self._waiter.shutdown(wait=False, cancel_futures=True)
