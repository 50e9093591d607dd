"""The inbox intake queue and the delivery queue: background work as rows with state."""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Sequence
from dataclasses import dataclass

from storage.db import Database, Row
from storage.ids import id_floor, new_id, now_ms
from storage.models import Delivery, InboxItem, Peer, QueueState
from storage.rows import build, build_all, build_opt

_QUEUED, _PROCESSING, _SENDING = QueueState.QUEUED, QueueState.PROCESSING, QueueState.SENDING
_RETRY, _DONE, _DEAD, _FAILED = (
    QueueState.RETRY,
    QueueState.DONE,
    QueueState.DEAD,
    QueueState.FAILED,
)
DEFAULT_INBOX_LEASE_MS = 60_000
DEFAULT_DELIVERY_LEASE_MS = 300_000
_NO_LEASE = ", lease_owner = NULL, lease_boot = NULL"  # a row that leaves its working state
_NO_PAYLOAD = "payload = '', payload_id = NULL"  # a sent delivery keeps no payload


@dataclass(frozen=True, slots=True)
class LeaseOwner:
    """Who holds a claimed row: a stable process identity and a token drawn at each start.

    ``name`` is the same for a process and the one that replaces it after a crash (host and
    id slot, or a configured worker name); ``boot`` tells the two apart, so the new one can
    take back at once what the old one held.
    """

    name: str
    boot: str

    @classmethod
    def for_process(cls, name: str) -> LeaseOwner:
        return cls(name, secrets.token_hex(8))


def default_owner() -> LeaseOwner:
    """A process that never named itself: unique to this process, so it takes back nothing."""
    return LeaseOwner.for_process(f"{socket.gethostname()}#pid{os.getpid()}")


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


@dataclass(frozen=True, slots=True)
class DeliveryRetry:
    """A failed attempt: the row waits until ``retry_at``, or is given up (``dead``)."""

    delivery_id: int
    error: str
    retry_at: int
    dead: bool


@dataclass(frozen=True, slots=True)
class TakenBack:
    """Rows an earlier run of this process held when it died, queued again."""

    inbox: int
    deliveries: int


class QueueStore:
    def __init__(self, db: Database) -> None:
        self._db = db
        self.owner = default_owner()
        self.inbox_lease_ms = DEFAULT_INBOX_LEASE_MS
        self.delivery_lease_ms = DEFAULT_DELIVERY_LEASE_MS
        self._payloads: dict[int, str] = {}  # delivery payload id → payload (immutable rows)

    def configure_leases(
        self,
        owner: LeaseOwner | None = None,
        *,
        inbox_lease_ms: int | None = None,
        delivery_lease_ms: int | None = None,
    ) -> None:
        """Name this process on the rows it claims; set how long a claim lasts."""
        if owner is not None:
            self.owner = owner
        if inbox_lease_ms is not None:
            self.inbox_lease_ms = inbox_lease_ms
        if delivery_lease_ms is not None:
            self.delivery_lease_ms = delivery_lease_ms

    async def lease_holders(self) -> set[tuple[str, str]]:
        """(owner name, boot token) of every process holding a lease now."""
        found: set[tuple[str, str]] = set()
        for table, working in (("inbox_queue", _PROCESSING), ("delivery_queue", _SENDING)):
            rows = await self._db.fetch(
                f"SELECT DISTINCT lease_owner, lease_boot FROM {table}"
                f" WHERE state = '{working}' AND lease_owner IS NOT NULL",
            )
            found |= {(r["lease_owner"], r["lease_boot"]) for r in rows}
        return found

    async def take_back_leases(self, dead: Sequence[tuple[str, str]] = ()) -> TakenBack:
        """Queue again, due now, every row an earlier run of this process (same name, another
        boot token) still holds, and those of the ``dead`` (owner name, boot token) pairs:
        their holders died, and nobody else would take the rows before the leases ran out."""
        now = now_ms()
        name, boot = self.owner.name, self.owner.boot
        holders = ["(lease_owner = $2 AND lease_boot <> $3)"]
        args: list[object] = [now, name, boot]
        for owner, token in dead:
            holders.append(f"(lease_owner = ${len(args) + 1} AND lease_boot = ${len(args) + 2})")
            args += [owner, token]
        which = " OR ".join(holders)
        inbox = await self._db.execute(
            f"UPDATE inbox_queue SET state = '{_QUEUED}', next_attempt_at = $1{_NO_LEASE}"
            f" WHERE state = '{_PROCESSING}' AND ({which})",
            *args,
        )
        deliveries = await self._db.execute(
            "UPDATE delivery_queue SET"
            f" state = CASE WHEN attempts > 0 THEN '{_RETRY}' ELSE '{_QUEUED}' END,"
            f" next_attempt_at = $1{_NO_LEASE} WHERE state = '{_SENDING}' AND ({which})",
            *args,
        )
        return TakenBack(inbox, deliveries)

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
                        f"'{_QUEUED}',0,${base + 7},${base + 7})"
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

    async def claim_inbox(self, limit: int, *, lease_ms: int | None = None) -> list[InboxItem]:
        """Lease up to ``limit`` due rows to this process (``inbox_lease_ms`` by default)."""
        lease = self.inbox_lease_ms if lease_ms is None else lease_ms
        return build_all(
            InboxItem,
            await self._claim("inbox_queue", (_QUEUED, _PROCESSING), limit, lease, _PROCESSING),
        )

    async def finish_inbox(self, item_id: int) -> None:
        await self._db.execute(
            f"UPDATE inbox_queue SET state = '{_DONE}', payload = ''{_NO_LEASE} WHERE id = $1",
            item_id,
        )

    async def finish_inbox_many(self, item_ids: Sequence[int]) -> None:
        """Mark several processed items done in one statement (one commit on SQLite)."""
        if not item_ids:
            return
        marks = ", ".join(f"${i}" for i in range(1, len(item_ids) + 1))
        await self._db.execute(
            f"UPDATE inbox_queue SET state = '{_DONE}', payload = ''{_NO_LEASE} WHERE id IN ({marks})",
            *item_ids,
        )

    async def fail_inbox(self, item_id: int, error: str, *, retry_at: int | None) -> None:
        if retry_at is None:
            await self._db.execute(
                f"UPDATE inbox_queue SET state = '{_FAILED}', attempts = attempts + 1,"
                f" last_error = $1{_NO_LEASE} WHERE id = $2",
                error[:1000],
                item_id,
            )
        else:
            await self._db.execute(
                f"UPDATE inbox_queue SET state = '{_QUEUED}', attempts = attempts + 1,"
                f" last_error = $1, next_attempt_at = $2{_NO_LEASE} WHERE id = $3",
                error[:1000],
                retry_at,
                item_id,
            )

    async def inbox_pending(self) -> int:
        return int(
            await self._db.fetchval(
                f"SELECT COUNT(*) FROM inbox_queue WHERE state IN ('{_QUEUED}', '{_PROCESSING}')"
            )
        )

    async def prune_inbox(self, older_than_ms: int) -> int:
        return await self._db.execute(
            f"DELETE FROM inbox_queue WHERE state = '{_DONE}' AND created_at < $1", older_than_ms
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
                    f" WHERE id < $1 AND state = '{_DONE}' LIMIT $2)",
                    below,
                    batch,
                )
                total += deleted
                if deleted < batch:
                    break
            counts.append(total)
        # Payloads no row will send any more (each of their rows sent, or a repeat
        # enqueue that added no row); the cut spares a payload whose rows are being written.
        while (
            await self._db.execute(
                "DELETE FROM delivery_payloads WHERE id IN (SELECT p.id FROM delivery_payloads p"
                " WHERE p.id < $1 AND NOT EXISTS (SELECT 1 FROM delivery_queue q"
                " WHERE q.payload_id = p.id) LIMIT $2)",
                below,
                batch,
            )
            >= batch
        ):
            pass
        return counts[0], counts[1]

    # -- delivery -------------------------------------------------------------------------

    async def enqueue_deliveries(self, items: Sequence[NewDelivery], *, ttl_ms: int) -> int:
        """Persist deliveries in one transaction; a repeat (activity, inbox) is dropped.

        A payload is stored once (``delivery_payloads``) however many rows send it: a
        fan-out is one activity to many inboxes. Rows go in as multi-row INSERTs (one
        statement per 256 rows), the activity id and the sender bound once per statement.
        """
        now = now_ms()
        added = 0
        async with self._db.transaction() as tx:
            payload_ids: dict[str, int] = {}
            for item in items:
                if item.payload not in payload_ids:
                    payload_ids[item.payload] = new_id()
                    await tx.execute(
                        "INSERT INTO delivery_payloads (id, payload) VALUES ($1, $2)",
                        payload_ids[item.payload],
                        item.payload,
                    )
            for start in range(0, len(items), 256):
                args: list[object] = [now, now + ttl_ms]
                shared: dict[tuple[str, int, int], tuple[int, int, int]] = {}
                rows = []
                for item in items[start : start + 256]:
                    key = (item.activity_id, item.sender_account_id, payload_ids[item.payload])
                    marks = shared.get(key)
                    if marks is None:
                        args += key
                        marks = shared[key] = (len(args) - 2, len(args) - 1, len(args))
                    args += [new_id(), item.inbox_url, item.peer]
                    last = len(args)
                    activity, sender, payload = marks
                    rows.append(
                        f"(${last - 2},${activity},${last - 1},${last},${sender},'',${payload},"
                        f"'{_QUEUED}',0,$1,$1,$2)"
                    )
                added += await tx.execute(
                    "INSERT INTO delivery_queue (id, activity_id, inbox_url, peer, sender_account_id,"
                    " payload, payload_id, state, attempts, next_attempt_at, created_at,"
                    " expires_at) VALUES "
                    + ",".join(rows)
                    + " ON CONFLICT (activity_id, inbox_url) DO NOTHING",
                    *args,
                )
        return added

    async def claim_deliveries(self, limit: int, *, lease_ms: int | None = None) -> list[Delivery]:
        """Lease up to ``limit`` due rows to this process (``delivery_lease_ms`` by default)."""
        lease = self.delivery_lease_ms if lease_ms is None else lease_ms
        rows = await self._claim(
            "delivery_queue", (_QUEUED, _RETRY, _SENDING), limit, lease, _SENDING
        )
        return await self._deliveries(rows)

    async def _deliveries(self, rows: Sequence[Row]) -> list[Delivery]:
        """Deliveries from their rows, each with its payload (read once per payload, and
        kept: a payload row never changes)."""
        wanted = {r["payload_id"] for r in rows if r["payload_id"] is not None}
        payloads = {i: self._payloads[i] for i in wanted if i in self._payloads}
        missing = wanted - payloads.keys()
        if missing:
            marks = ", ".join(f"${i}" for i in range(1, len(missing) + 1))
            found = await self._db.fetch(
                f"SELECT id, payload FROM delivery_payloads WHERE id IN ({marks})", *missing
            )
            payloads.update((r["id"], r["payload"]) for r in found)
            if len(self._payloads) + len(found) > 64:
                self._payloads.clear()
            self._payloads.update((r["id"], r["payload"]) for r in found)
        return [
            build(Delivery, row if row["payload_id"] is None
                  else {**row, "payload": payloads.get(row["payload_id"], row["payload"])})
            for row in rows
        ]  # fmt: skip

    async def finish_delivery(self, delivery_id: int) -> None:
        await self._db.execute(
            f"UPDATE delivery_queue SET state = '{_DONE}', {_NO_PAYLOAD}{_NO_LEASE} WHERE id = $1",
            delivery_id,
        )

    async def finish_deliveries(self, delivery_ids: Sequence[int]) -> None:
        """Mark several sent deliveries done in one statement (one commit on SQLite)."""
        if not delivery_ids:
            return
        marks = ", ".join(f"${i}" for i in range(1, len(delivery_ids) + 1))
        await self._db.execute(
            f"UPDATE delivery_queue SET state = '{_DONE}', {_NO_PAYLOAD}{_NO_LEASE}"
            f" WHERE id IN ({marks})",
            *delivery_ids,
        )

    async def inbox_by_state(self) -> dict[str, int]:
        rows = await self._db.fetch("SELECT state, COUNT(*) AS n FROM inbox_queue GROUP BY state")
        return {r["state"]: int(r["n"]) for r in rows}

    async def deliveries_for(self, activity_id: str) -> list[Delivery]:
        rows = await self._db.fetch(
            "SELECT * FROM delivery_queue WHERE activity_id = $1 ORDER BY id", activity_id
        )
        return await self._deliveries(rows)

    async def make_due(self, *, table: str = "delivery_queue") -> int:
        """Make every waiting row due now (operator "retry now"; tests)."""
        assert table in ("delivery_queue", "inbox_queue")
        states = f"('{_RETRY}', '{_QUEUED}')" if table == "delivery_queue" else f"('{_QUEUED}')"
        return await self._db.execute(
            f"UPDATE {table} SET next_attempt_at = $1 WHERE state IN {states}", now_ms()
        )

    async def retry_delivery(
        self, delivery_id: int, error: str, *, retry_at: int, dead: bool
    ) -> None:
        await self._db.execute(
            "UPDATE delivery_queue SET state = $1, attempts = attempts + 1, last_error = $2,"
            f" next_attempt_at = $3{_NO_LEASE} WHERE id = $4",
            str(_DEAD if dead else _RETRY),
            error[:1000],
            retry_at,
            delivery_id,
        )

    async def record_deliveries(
        self, done: Sequence[int], retries: Sequence[DeliveryRetry] = ()
    ) -> None:
        """Mark sent deliveries done and record failed attempts, in one transaction (one
        commit for a whole batch of outcomes, however many rows it holds)."""
        if not done and not retries:
            return
        async with self._db.transaction() as tx:
            for start in range(0, len(done), 500):
                chunk = done[start : start + 500]
                marks = ", ".join(f"${i}" for i in range(1, len(chunk) + 1))
                await tx.execute(
                    f"UPDATE delivery_queue SET state = '{_DONE}', {_NO_PAYLOAD}{_NO_LEASE}"
                    f" WHERE id IN ({marks})",
                    *chunk,
                )
            for retry in retries:
                await tx.execute(
                    "UPDATE delivery_queue SET state = $1, attempts = attempts + 1,"
                    f" last_error = $2, next_attempt_at = $3{_NO_LEASE} WHERE id = $4",
                    str(_DEAD if retry.dead else _RETRY),
                    retry.error[:1000],
                    retry.retry_at,
                    retry.delivery_id,
                )

    async def deliveries_due(self, now: int) -> bool:
        """Whether some delivery is waiting for its turn now."""
        row = await self._db.fetchval(
            f"SELECT 1 FROM delivery_queue WHERE state IN ('{_QUEUED}', '{_RETRY}')"
            " AND next_attempt_at <= $1 LIMIT 1",
            now,
        )
        return row is not None

    async def deliveries_claimable(self, now: int) -> bool:
        """Whether ``claim_deliveries`` would find a row now (a read: no write lock taken)."""
        row = await self._db.fetchval(
            f"SELECT 1 FROM delivery_queue WHERE state IN ('{_QUEUED}', '{_RETRY}', '{_SENDING}')"
            " AND next_attempt_at <= $1 LIMIT 1",
            now,
        )
        return row is not None

    async def deliveries_pending(self) -> int:
        return int(
            await self._db.fetchval(
                "SELECT COUNT(*) FROM delivery_queue"
                f" WHERE state IN ('{_QUEUED}', '{_RETRY}', '{_SENDING}')"
            )
        )

    async def deliveries_by_state(self) -> dict[str, int]:
        rows = await self._db.fetch(
            "SELECT state, COUNT(*) AS n FROM delivery_queue GROUP BY state"
        )
        return {r["state"]: int(r["n"]) for r in rows}

    async def _claim(
        self,
        table: str,
        states: tuple[QueueState, ...],
        limit: int,
        lease_ms: int,
        working: QueueState,
    ) -> list[Row]:
        """Claim ready rows. A claimed row carries a lease and its owner: if the worker
        dies, the row is taken again when the lease runs out, or at once when the same
        process starts again (``take_back_leases``), so a crash never loses queued work."""
        now = now_ms()
        marks = ", ".join(f"'{s}'" for s in states)
        # PostgreSQL: rows another worker is claiming right now are skipped, not waited
        # for. SQLite has one writer; the UPDATE … RETURNING is atomic on its own.
        skip = " FOR UPDATE SKIP LOCKED" if self._db.dialect == "postgres" else ""
        rows = await self._db.fetch(
            f"UPDATE {table} SET state = $1, next_attempt_at = $2, lease_owner = $5,"
            f" lease_boot = $6 WHERE id IN (SELECT id FROM {table} WHERE state IN ({marks})"
            f" AND next_attempt_at <= $3 ORDER BY next_attempt_at LIMIT $4{skip}) RETURNING *",
            str(working),
            now + lease_ms,
            now,
            limit,
            self.owner.name,
            self.owner.boot,
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
