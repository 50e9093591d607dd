"""Side effects still owed for a stored status: durable marks, written with the status.

A status is stored with its mark in one transaction (``StatusStore.create`` and ``edit``
with ``pending_effects``); the code that stored it then makes the side effects
(notifications, streaming events, delivery rows) and deletes the mark. When that code
dies first (a crash, a failed enqueue), the mark stays: the inbox activity run again, or
the worker once the mark is due, completes it. Side effects are idempotent (notifications
carry a key, delivery rows are unique per activity and inbox), so completing twice is
harmless.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.db import Connection, Database
from storage.ids import now_ms

CREATED = "created"
UPDATED = "updated"
# A local poll's new counts are owed to the peers (sent batched, some time after a vote).
POLL_COUNTS = "poll_counts"
# A local poll closed: its final tallies are owed to the peers (marked when it is closed).
POLL_ENDED = "poll_ended"

# How long the code that stored a status has to complete its side effects before the
# worker may take the mark over; and how long the worker holds a mark it took.
GRACE_MS = 30_000
LEASE_MS = 60_000


@dataclass(frozen=True, slots=True)
class PendingEffect:
    status_id: int
    event: str
    attempts: int


async def mark(conn: Connection, status_id: int, event: str, *, grace_ms: int = GRACE_MS) -> None:
    """Record (inside the caller's transaction) that ``event``'s side effects are owed."""
    now = now_ms()
    await conn.execute(
        "INSERT INTO pending_effects (status_id, event, attempts, next_attempt_at, created_at)"
        " VALUES ($1, $2, 0, $3, $4) ON CONFLICT (status_id, event)"
        " DO UPDATE SET next_attempt_at = excluded.next_attempt_at",
        status_id,
        event,
        now + grace_ms,
        now,
    )


class PendingEffectStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def of(self, status_id: int) -> list[str]:
        """The events whose side effects are still owed for a status."""
        rows = await self._db.fetch(
            "SELECT event FROM pending_effects WHERE status_id = $1 ORDER BY event", status_id
        )
        return [str(r["event"]) for r in rows]

    async def schedule(self, status_id: int, event: str, *, after_ms: int) -> None:
        """Owe ``event`` from ``after_ms`` from now on; a mark already there keeps its time
        (one pending update for many changes)."""
        now = now_ms()
        await self._db.execute(
            "INSERT INTO pending_effects (status_id, event, attempts, next_attempt_at, created_at)"
            " VALUES ($1, $2, 0, $3, $4) ON CONFLICT (status_id, event) DO NOTHING",
            status_id,
            event,
            now + after_ms,
            now,
        )

    async def done(self, status_id: int, event: str) -> None:
        await self._db.execute(
            "DELETE FROM pending_effects WHERE status_id = $1 AND event = $2", status_id, event
        )

    async def claim_due(self, limit: int, *, lease_ms: int = LEASE_MS) -> list[PendingEffect]:
        """Take marks whose time has come; each is leased (longer after each attempt) so a
        worker that dies leaves it to another, later."""
        now = now_ms()
        lock = " FOR UPDATE SKIP LOCKED" if self._db.dialect == "postgres" else ""
        rows = await self._db.fetch(
            "UPDATE pending_effects SET attempts = attempts + 1,"
            " next_attempt_at = CAST($1 AS BIGINT) + CAST($2 AS BIGINT)"
            " * (CASE WHEN attempts > 6 THEN 64 ELSE attempts + 1 END)"
            " WHERE (status_id, event) IN (SELECT status_id, event FROM pending_effects"
            f" WHERE next_attempt_at <= $1 ORDER BY next_attempt_at LIMIT $3{lock})"
            " RETURNING status_id, event, attempts",
            now,
            lease_ms,
            limit,
        )
        return [
            PendingEffect(int(r["status_id"]), str(r["event"]), int(r["attempts"])) for r in rows
        ]

    async def count(self) -> int:
        return int(await self._db.fetchval("SELECT COUNT(*) FROM pending_effects"))
