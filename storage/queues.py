"""The inbox intake queue and the delivery queue: background work as rows with state."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from storage.db import Database, Row
from storage.ids import id_floor, new_id, now_ms
from storage.models import Delivery, InboxItem, Peer
from storage.rows import build_all, build_opt


@dataclass(frozen=True, slots=True)
class NewInboxItem:
    activity_id: str
    payload: str
    peer: str
    actor: str
    recipient_account_id: int | None = None


@dataclass(frozen=True, slots=True)
class NewDelivery:
    activity_id: str
    inbox_url: str
    peer: str
    sender_account_id: int
    payload: str


class QueueStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- inbox ----------------------------------------------------------------------------

    async def enqueue_inbox(self, items: Sequence[NewInboxItem]) -> int:
        """Persist accepted activities in one transaction; duplicates (by id) are dropped.

        Rows go in as multi-row INSERTs (one statement per 256 items): on SQLite every
        statement is a hop to the driver thread, and intake throughput is bounded by them.
        """
        now = now_ms()
        added = 0
        async with self._db.transaction() as tx:
            for start in range(0, len(items), 256):
                chunk = items[start : start + 256]
                args: list[object] = []
                rows = []
                for item in chunk:
                    base = len(args)
                    rows.append(
                        f"(${base + 1},${base + 2},${base + 3},${base + 4},${base + 5},${base + 6},"
                        f"'queued',0,${base + 7},${base + 7})"
                    )
                    args += [new_id(), item.activity_id, item.payload, item.peer, item.actor,
                             item.recipient_account_id, now]  # fmt: skip
                added += await tx.execute(
                    "INSERT INTO inbox_queue (id, activity_id, payload, peer, actor, recipient_account_id,"
                    " state, attempts, next_attempt_at, created_at) VALUES "
                    + ",".join(rows)
                    + " ON CONFLICT (activity_id) DO NOTHING",
                    *args,
                )
        return added

    async def claim_inbox(self, limit: int, *, lease_ms: int = 60_000) -> list[InboxItem]:
        return build_all(
            InboxItem,
            await self._claim(
                "inbox_queue", ("queued", "processing"), limit, lease_ms, "processing"
            ),
        )

    async def finish_inbox(self, item_id: int) -> None:
        await self._db.execute(
            "UPDATE inbox_queue SET state = 'done', payload = '' WHERE id = $1", item_id
        )

    async def finish_inbox_many(self, item_ids: Sequence[int]) -> None:
        """Mark several processed items done in one statement (one commit on SQLite)."""
        if not item_ids:
            return
        marks = ", ".join(f"${i}" for i in range(1, len(item_ids) + 1))
        await self._db.execute(
            f"UPDATE inbox_queue SET state = 'done', payload = '' WHERE id IN ({marks})", *item_ids
        )

    async def fail_inbox(self, item_id: int, error: str, *, retry_at: int | None) -> None:
        if retry_at is None:
            await self._db.execute(
                "UPDATE inbox_queue SET state = 'failed', attempts = attempts + 1, last_error = $1"
                " WHERE id = $2",
                error[:1000],
                item_id,
            )
        else:
            await self._db.execute(
                "UPDATE inbox_queue SET state = 'queued', attempts = attempts + 1, last_error = $1,"
                " next_attempt_at = $2 WHERE id = $3",
                error[:1000],
                retry_at,
                item_id,
            )

    async def inbox_pending(self) -> int:
        return int(
            await self._db.fetchval(
                "SELECT COUNT(*) FROM inbox_queue WHERE state IN ('queued', 'processing')"
            )
        )

    async def prune_inbox(self, older_than_ms: int) -> int:
        return await self._db.execute(
            "DELETE FROM inbox_queue WHERE state = 'done' AND created_at < $1", older_than_ms
        )

    async def prune_done(self, older_than_ms: int, *, batch: int = 5000) -> tuple[int, int]:
        """Delete finished rows (state done) enqueued before ``older_than_ms`` from both
        queues, in batches (short transactions; ids are time-ordered, so the cut is an
        index range). Returns (inbox rows, delivery rows) deleted."""
        below = id_floor(older_than_ms)
        counts = []
        for table in ("inbox_queue", "delivery_queue"):
            total = 0
            while True:
                deleted = await self._db.execute(
                    f"DELETE FROM {table} WHERE id IN (SELECT id FROM {table}"
                    " WHERE id < $1 AND state = 'done' LIMIT $2)",
                    below,
                    batch,
                )
                total += deleted
                if deleted < batch:
                    break
            counts.append(total)
        return counts[0], counts[1]

    # -- delivery -------------------------------------------------------------------------

    async def enqueue_deliveries(self, items: Sequence[NewDelivery], *, ttl_ms: int) -> int:
        now = now_ms()
        added = 0
        async with self._db.transaction() as tx:
            for item in items:
                added += await tx.execute(
                    "INSERT INTO delivery_queue (id, activity_id, inbox_url, peer, sender_account_id, payload, state,"
                    " attempts, next_attempt_at, created_at, expires_at)"
                    " VALUES ($1,$2,$3,$4,$5,$6,'queued',0,$7,$7,$8) ON CONFLICT (activity_id, inbox_url) DO NOTHING",
                    new_id(),
                    item.activity_id,
                    item.inbox_url,
                    item.peer,
                    item.sender_account_id,
                    item.payload,
                    now,
                    now + ttl_ms,
                )
        return added

    async def claim_deliveries(self, limit: int, *, lease_ms: int = 120_000) -> list[Delivery]:
        return build_all(
            Delivery,
            await self._claim(
                "delivery_queue", ("queued", "retry", "sending"), limit, lease_ms, "sending"
            ),
        )

    async def finish_delivery(self, delivery_id: int) -> None:
        await self._db.execute(
            "UPDATE delivery_queue SET state = 'done', payload = '' WHERE id = $1", delivery_id
        )

    async def finish_deliveries(self, delivery_ids: Sequence[int]) -> None:
        """Mark several sent deliveries done in one statement (one commit on SQLite)."""
        if not delivery_ids:
            return
        marks = ", ".join(f"${i}" for i in range(1, len(delivery_ids) + 1))
        await self._db.execute(
            f"UPDATE delivery_queue SET state = 'done', payload = '' WHERE id IN ({marks})",
            *delivery_ids,
        )

    async def inbox_by_state(self) -> dict[str, int]:
        rows = await self._db.fetch("SELECT state, COUNT(*) AS n FROM inbox_queue GROUP BY state")
        return {r["state"]: int(r["n"]) for r in rows}

    async def deliveries_for(self, activity_id: str) -> list[Delivery]:
        rows = await self._db.fetch(
            "SELECT * FROM delivery_queue WHERE activity_id = $1 ORDER BY id", activity_id
        )
        return build_all(Delivery, rows)

    async def make_due(self, *, table: str = "delivery_queue") -> int:
        """Make every waiting row due now (operator "retry now"; tests)."""
        assert table in ("delivery_queue", "inbox_queue")
        states = "('retry', 'queued')" if table == "delivery_queue" else "('queued')"
        return await self._db.execute(
            f"UPDATE {table} SET next_attempt_at = $1 WHERE state IN {states}", now_ms()
        )

    async def retry_delivery(
        self, delivery_id: int, error: str, *, retry_at: int, dead: bool
    ) -> None:
        await self._db.execute(
            "UPDATE delivery_queue SET state = $1, attempts = attempts + 1, last_error = $2, next_attempt_at = $3"
            " WHERE id = $4",
            "dead" if dead else "retry",
            error[:1000],
            retry_at,
            delivery_id,
        )

    async def deliveries_due(self, now: int) -> bool:
        """Whether some delivery is waiting for its turn now."""
        row = await self._db.fetchval(
            "SELECT 1 FROM delivery_queue WHERE state IN ('queued', 'retry')"
            " AND next_attempt_at <= $1 LIMIT 1",
            now,
        )
        return row is not None

    async def deliveries_pending(self) -> int:
        return int(
            await self._db.fetchval(
                "SELECT COUNT(*) FROM delivery_queue WHERE state IN ('queued', 'retry', 'sending')"
            )
        )

    async def deliveries_by_state(self) -> dict[str, int]:
        rows = await self._db.fetch(
            "SELECT state, COUNT(*) AS n FROM delivery_queue GROUP BY state"
        )
        return {r["state"]: int(r["n"]) for r in rows}

    async def _claim(
        self, table: str, states: tuple[str, ...], limit: int, lease_ms: int, working: str
    ) -> list[Row]:
        """Claim ready rows. A claimed row carries a lease: if its worker dies, the row is
        taken again once the lease runs out, so a crash never loses queued work."""
        now = now_ms()
        marks = ", ".join(f"'{s}'" for s in states)
        if self._db.dialect == "postgres":
            rows = await self._db.fetch(
                f"UPDATE {table} SET state = $1, next_attempt_at = $2 WHERE id IN ("
                f" SELECT id FROM {table} WHERE state IN ({marks}) AND next_attempt_at <= $3"
                f" ORDER BY next_attempt_at LIMIT $4 FOR UPDATE SKIP LOCKED) RETURNING *",
                working,
                now + lease_ms,
                now,
                limit,
            )
        else:
            # SQLite has one writer; the UPDATE … RETURNING is atomic on its own.
            rows = await self._db.fetch(
                f"UPDATE {table} SET state = $1, next_attempt_at = $2 WHERE id IN ("
                f" SELECT id FROM {table} WHERE state IN ({marks}) AND next_attempt_at <= $3"
                f" ORDER BY next_attempt_at LIMIT $4) RETURNING *",
                working,
                now + lease_ms,
                now,
                limit,
            )
        return list(rows)

    # -- peers ----------------------------------------------------------------------------

    async def peer_result(self, domain: str, ok: bool) -> None:
        now = now_ms()
        if ok:
            await self._db.execute(
                "INSERT INTO peers (domain, first_seen_at, last_success_at, failures) VALUES ($1,$2,$2,0)"
                " ON CONFLICT (domain) DO UPDATE SET last_success_at = $2, failures = 0, unreachable_since = NULL",
                domain,
                now,
            )
        else:
            await self._db.execute(
                "INSERT INTO peers (domain, first_seen_at, failures, unreachable_since) VALUES ($1,$2,1,$2)"
                " ON CONFLICT (domain) DO UPDATE SET failures = peers.failures + 1,"
                " unreachable_since = COALESCE(peers.unreachable_since, $2)",
                domain,
                now,
            )

    async def peer(self, domain: str) -> Peer | None:
        return build_opt(
            Peer, await self._db.fetchrow("SELECT * FROM peers WHERE domain = $1", domain)
        )

    async def unreachable_peers(self) -> dict[str, int]:
        """Peers currently failing: domain → consecutive failures."""
        rows = await self._db.fetch(
            "SELECT domain, failures FROM peers WHERE unreachable_since IS NOT NULL"
        )
        return {r["domain"]: int(r["failures"]) for r in rows}

    async def peers(self) -> list[str]:
        rows = await self._db.fetch(
            "SELECT domain FROM peers UNION SELECT DISTINCT domain FROM accounts WHERE domain <> '' ORDER BY 1"
        )
        return [r["domain"] for r in rows]
