"""Who a bearer token is, kept in each process between requests, and dropped everywhere as
soon as it may have changed.

Every API request names its token; reading the token, its user and the user's account is a
round trip of its own before the request's real work (on PostgreSQL under load ~0.1 ms of
the database's CPU and as much of ours). What that read returns changes rarely: a token is
revoked, a user confirmed, approved, disabled or given a new password, a local account
edited, suspended or deleted, a filter added or removed. Each of those writes, in storage,
calls ``changed(db)``, which empties this process's cache at once and tells every other
process (``storage.events``: NOTIFY, the SQLite datagram or the Redis bus), which empty
theirs when they hear it.

The cache is used only while this process is listening for those messages (``follow``
runs): a process that would not hear a revocation reads the token every time. A lookup
that began before a change and ends after it is not kept (the generation moved). Counters
(statuses, followers, following) are not changes here: the cached account may show them
up to ``TTL_S`` old, so the one place that shows the caller its own account
(``verify_credentials``) reads it again. ``TTL_S`` also bounds how long anything missed
(a lost LISTEN connection, a tool writing the database without telling) can stay wrong.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from typing import Generic, TypeVar

from storage import events
from storage.db import Database

log = logging.getLogger("fedinode.storage")

CHANNEL = "fedinode_tokens"
TTL_S = 10.0
LIMIT = 4096
RETRY_S = 1.0

T = TypeVar("T")


class TokenCache(Generic[T]):
    """Values by token digest, each kept ``TTL_S`` at most, all dropped on any change."""

    def __init__(self) -> None:
        self._items: dict[str, tuple[float, T]] = {}
        self.generation = 0
        self.live = False  # listening for other processes' changes: only then are values kept

    def __len__(self) -> int:
        return len(self._items)

    def get(self, digest: str) -> T | None:
        found = self._items.get(digest)
        if found is None:
            return None
        if time.monotonic() - found[0] >= TTL_S:
            del self._items[digest]
            return None
        return found[1]

    def put(self, digest: str, value: T, generation: int) -> None:
        """Keep ``value``, read when the generation was ``generation``, unless anything
        changed since (or nobody is listening for changes)."""
        if not self.live or generation != self.generation:
            return
        if len(self._items) >= LIMIT:
            self._items.clear()
        self._items[digest] = (time.monotonic(), value)

    def drop_all(self) -> None:
        self._items.clear()
        self.generation += 1


_caches: weakref.WeakKeyDictionary[Database, TokenCache[object]] = weakref.WeakKeyDictionary()


def cache_of(db: Database) -> TokenCache[object]:
    found = _caches.get(db)
    if found is None:
        found = _caches[db] = TokenCache()
    return found


async def changed(db: Database) -> None:
    """A token, user, local account or filter set changed: no process may answer from what
    it kept. Call it after the change is committed (inside an open batch the message waits
    for the batch's commit; this process's cache is emptied at once and again then)."""
    cache_of(db).drop_all()
    try:
        await events.notify(db, CHANNEL, "")
    except Exception:  # the others' entries still expire within TTL_S
        log.warning("could not tell other processes that a token changed", exc_info=True)


async def follow(db: Database) -> None:
    """Run until cancelled: hear other processes' changes; keep values only meanwhile."""
    cache = cache_of(db)
    while True:
        try:
            async with events.listen(db, CHANNEL) as messages:
                cache.drop_all()  # what was kept while not listening may be stale
                cache.live = True
                try:
                    async for _ in messages:
                        cache.drop_all()
                finally:
                    cache.live = False
                    cache.drop_all()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.warning("token cache: listening for changes failed; retrying", exc_info=True)
            await asyncio.sleep(RETRY_S)
