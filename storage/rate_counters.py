"""Rate-limit counters shared by every process that serves the database.

A counter is a number under a key with an expiry, as the rate-limit library's in-memory
counters are: the first hit after the counter expired (or of a new key) starts it again at
the hit's amount and sets its expiry; the hits within it add up. Each hit is one statement
that changes and returns the counter, so two processes counting the same key at once never
both see room for the last hit. Times are milliseconds since the epoch.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.db import Database
from storage.signups import delete_expired

_HIT = (
    "INSERT INTO rate_counters (key, count, expires_at) VALUES ($1, $2, CAST($3 AS BIGINT) + CAST($4 AS BIGINT))"
    " ON CONFLICT (key) DO UPDATE SET"
    " count = CASE WHEN rate_counters.expires_at <= $3 THEN excluded.count"
    "  ELSE rate_counters.count + excluded.count END,"
    " expires_at = CASE WHEN rate_counters.expires_at <= $3 THEN excluded.expires_at"
    "  ELSE rate_counters.expires_at END"
    " RETURNING count, expires_at"
)


@dataclass(frozen=True, slots=True)
class Counter:
    count: int
    expires_at: int  # ms; the counter is 0 from then on


class RateCounterStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def hit(self, key: str, amount: int, expiry_ms: int, now: int) -> Counter:
        """Add ``amount`` to the counter (started again if it expired by ``now``, to
        expire ``expiry_ms`` later); the counter after the hit."""
        row = await self._db.fetchrow(_HIT, key, amount, now, expiry_ms)
        assert row is not None  # an upsert always returns its row
        return Counter(int(row["count"]), int(row["expires_at"]))

    async def take_back(self, key: str, amount: int, now: int) -> int:
        """Subtract ``amount`` (not below 0) from a live counter; what it holds after."""
        value = await self._db.fetchval(
            "UPDATE rate_counters SET count = CASE WHEN count > $2 THEN count - $2 ELSE 0 END"
            " WHERE key = $1 AND expires_at > $3 RETURNING count",
            key,
            amount,
            now,
        )
        return int(value or 0)

    async def get(self, key: str, now: int) -> Counter | None:
        """The live counter under ``key``, None if there is none or it expired."""
        row = await self._db.fetchrow(
            "SELECT count, expires_at FROM rate_counters WHERE key = $1 AND expires_at > $2",
            key,
            now,
        )
        return None if row is None else Counter(int(row["count"]), int(row["expires_at"]))

    async def clear(self, key: str) -> None:
        await self._db.execute("DELETE FROM rate_counters WHERE key = $1", key)

    async def clear_all(self) -> int:
        """Forget every counter; how many there were."""
        return await self._db.execute("DELETE FROM rate_counters")

    async def prune_expired(self, now: int, *, batch: int = 5000) -> int:
        """Delete the counters expired by ``now``, ``batch`` at a time; how many."""
        return await delete_expired(self._db, "rate_counters", now, batch, key="key")
