"""First-contact quarantine: hosts met for the first time and the activities they sent while
held.

A held activity is already verified and policy-checked; releasing a host moves its
activities into the inbox queue (in arrival order) and deletes them here in one
transaction, so each is processed exactly once however often or wherever release runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.db import Connection, Database
from storage.ids import new_id, now_ms
from storage.rows import build, build_all, build_opt

HELD = "held"
RELEASED = "released"
REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class QuarantineHostRow:
    host: str
    state: str  # held | released | rejected
    first_seen_at: int
    decided_at: int | None
    decided_by: str  # an admin's username, or "expiry"
    held: int  # activities waiting
    last_received_at: int | None


@dataclass(frozen=True, slots=True)
class HeldActivity:
    host: str
    activity_id: str
    activity_type: str
    actor: str
    payload: str
    recipient_account_id: int | None = None


@dataclass(frozen=True, slots=True)
class HeldActivityRow:
    id: int
    host: str
    activity_id: str
    activity_type: str
    actor: str
    payload: str
    recipient_account_id: int | None
    received_at: int


_HOST_SELECT = (
    "SELECT h.host, h.state, h.first_seen_at, h.decided_at, h.decided_by,"
    " (SELECT COUNT(*) FROM quarantined_activities a WHERE a.host = h.host) AS held,"
    " (SELECT MAX(a.received_at) FROM quarantined_activities a WHERE a.host = h.host)"
    " AS last_received_at FROM quarantine_hosts h"
)


class QuarantineStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def state(self, host: str) -> str | None:
        value = await self._db.fetchval("SELECT state FROM quarantine_hosts WHERE host = $1", host)
        return None if value is None else str(value)

    async def known(self, host: str) -> bool:
        """Whether we met ``host`` before: an account from it, or a peer we delivered to."""
        row = await self._db.fetchrow(
            "SELECT 1 AS k WHERE EXISTS (SELECT 1 FROM accounts WHERE domain = $1)"
            " OR EXISTS (SELECT 1 FROM peers WHERE domain = $1)",
            host,
        )
        return row is not None

    async def mark_held(self, host: str) -> None:
        """A host met for the first time: held (kept as it is when it already has a row)."""
        await self._db.execute(
            "INSERT INTO quarantine_hosts (host, state, first_seen_at) VALUES ($1, $2, $3)"
            " ON CONFLICT (host) DO NOTHING",
            host,
            HELD,
            now_ms(),
        )

    async def forget_empty(self, before_ms: int) -> int:
        """Delete held hosts first seen before ``before_ms`` that never had an activity held
        (their first request did not verify, or the policy refused all they sent)."""
        return await self._db.execute(
            "DELETE FROM quarantine_hosts WHERE state = $1 AND first_seen_at < $2"
            " AND NOT EXISTS (SELECT 1 FROM quarantined_activities a"
            " WHERE a.host = quarantine_hosts.host)",
            HELD,
            before_ms,
        )

    async def hold(self, item: HeldActivity) -> bool:
        """Keep ``item`` while its host is held (a host met now for the first time becomes
        held). False, and nothing kept, when the host has been decided meanwhile."""
        now = now_ms()
        lock = " FOR UPDATE" if self._db.dialect == "postgres" else ""
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO quarantine_hosts (host, state, first_seen_at) VALUES ($1, $2, $3)"
                " ON CONFLICT (host) DO NOTHING",
                item.host,
                HELD,
                now,
            )
            state = await tx.fetchval(
                f"SELECT state FROM quarantine_hosts WHERE host = $1{lock}", item.host
            )
            if state != HELD:
                return False
            await tx.execute(
                "INSERT INTO quarantined_activities (id, host, activity_id, activity_type, actor,"
                " payload, recipient_account_id, received_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)"
                " ON CONFLICT (activity_id) DO NOTHING",
                new_id(),
                item.host,
                item.activity_id,
                item.activity_type,
                item.actor,
                item.payload,
                item.recipient_account_id,
                now,
            )
        return True

    async def hosts(self, state: str | None = HELD) -> list[QuarantineHostRow]:
        """Hosts in ``state`` (every host met under quarantine with None), oldest first."""
        if state is None:
            rows = await self._db.fetch(f"{_HOST_SELECT} ORDER BY h.first_seen_at, h.host")
        else:
            rows = await self._db.fetch(
                f"{_HOST_SELECT} WHERE h.state = $1 ORDER BY h.first_seen_at, h.host", state
            )
        return build_all(QuarantineHostRow, rows)

    async def host(self, host: str) -> QuarantineHostRow | None:
        return build_opt(
            QuarantineHostRow, await self._db.fetchrow(f"{_HOST_SELECT} WHERE h.host = $1", host)
        )

    async def activities(self, host: str) -> list[HeldActivityRow]:
        """What ``host`` sent while held, in arrival order."""
        rows = await self._db.fetch(
            "SELECT * FROM quarantined_activities WHERE host = $1 ORDER BY id", host
        )
        return build_all(HeldActivityRow, rows)

    async def _decide(self, tx: Connection, host: str, state: str, by: str, now: int) -> None:
        await tx.execute(
            "INSERT INTO quarantine_hosts (host, state, first_seen_at, decided_at, decided_by)"
            " VALUES ($1, $2, $3, $3, $4) ON CONFLICT (host) DO UPDATE SET state = $2,"
            " decided_at = $3, decided_by = $4",
            host,
            state,
            now,
            by,
        )

    async def _take(self, tx: Connection, host: str) -> list[HeldActivityRow]:
        lock = " FOR UPDATE" if self._db.dialect == "postgres" else ""
        rows = await tx.fetch(
            f"SELECT * FROM quarantined_activities WHERE host = $1 ORDER BY id{lock}", host
        )
        taken = [build(HeldActivityRow, r) for r in rows]
        if taken:
            await tx.execute("DELETE FROM quarantined_activities WHERE host = $1", host)
        return taken

    async def release(self, host: str, by: str) -> list[HeldActivityRow]:
        """Mark ``host`` released and queue what it sent for the inbox worker, in arrival
        order; returns the activities queued (none on a second release)."""
        now = now_ms()
        async with self._db.transaction() as tx:
            await self._decide(tx, host, RELEASED, by, now)
            taken = await self._take(tx, host)
            # Due one millisecond apart, the last one now (all due at once, none in the
            # future): the worker claims by due time, so in arrival order.
            first_due = now - len(taken) + 1
            for index, item in enumerate(taken):
                await tx.execute(
                    "INSERT INTO inbox_queue (id, activity_id, payload, peer, actor,"
                    " recipient_account_id, state, attempts, next_attempt_at, created_at)"
                    " VALUES ($1,$2,$3,$4,$5,$6,'queued',0,$7,$8)"
                    " ON CONFLICT (activity_id) DO NOTHING",
                    new_id(),
                    item.activity_id,
                    item.payload,
                    item.host,
                    item.actor,
                    item.recipient_account_id,
                    first_due + index,
                    now,
                )
        return taken

    async def reject(self, host: str, by: str) -> list[HeldActivityRow]:
        """Mark ``host`` rejected and drop what it sent; returns the activities dropped."""
        now = now_ms()
        async with self._db.transaction() as tx:
            await self._decide(tx, host, REJECTED, by, now)
            return await self._take(tx, host)

    async def held_since_before(self, before_ms: int) -> list[str]:
        """Hosts held since before ``before_ms`` (quarantine_hours ran out) with activities
        waiting."""
        rows = await self._db.fetch(
            "SELECT host FROM quarantine_hosts h WHERE state = $1 AND first_seen_at < $2"
            " AND EXISTS (SELECT 1 FROM quarantined_activities a WHERE a.host = h.host)"
            " ORDER BY first_seen_at",
            HELD,
            before_ms,
        )
        return [str(r["host"]) for r in rows]
