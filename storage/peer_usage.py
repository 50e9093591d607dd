"""Per-peer usage counters for [policy.peer_limits]: requests, activities and media bytes
per remote host and window, in the database so that every process counts once."""

from __future__ import annotations

from storage.db import Database

REQUESTS = "requests"
ACTIVITIES = "activities"
MEDIA_BYTES = "media_bytes"


class PeerUsageStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def take_usage(
        self, host: str, kind: str, window_start: int, amount: int, limit: int
    ) -> int | None:
        """Add ``amount`` to ``host``'s ``kind`` in the window if the total stays within
        ``limit``: the new total, or None (nothing added) when it would exceed it. Atomic
        across processes: one upsert whose update is conditional on the total."""
        if amount > limit:
            return None
        value = await self._db.fetchval(
            "INSERT INTO peer_usage (host, kind, window_start, amount) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT (host, kind, window_start) DO UPDATE"
            " SET amount = peer_usage.amount + excluded.amount"
            " WHERE peer_usage.amount + excluded.amount <= $5 RETURNING amount",
            host,
            kind,
            window_start,
            amount,
            limit,
        )
        return None if value is None else int(value)

    async def add_usage(self, host: str, kind: str, window_start: int, amount: int) -> int:
        """Add ``amount`` unconditionally (bytes already fetched); the new total."""
        value = await self._db.fetchval(
            "INSERT INTO peer_usage (host, kind, window_start, amount) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT (host, kind, window_start) DO UPDATE"
            " SET amount = peer_usage.amount + excluded.amount RETURNING amount",
            host,
            kind,
            window_start,
            amount,
        )
        return int(value)

    async def usage(self, host: str, kind: str, window_start: int) -> int:
        value = await self._db.fetchval(
            "SELECT amount FROM peer_usage WHERE host = $1 AND kind = $2 AND window_start = $3",
            host,
            kind,
            window_start,
        )
        return 0 if value is None else int(value)

    async def prune_usage(self, before_ms: int) -> int:
        return await self._db.execute("DELETE FROM peer_usage WHERE window_start < $1", before_ms)
