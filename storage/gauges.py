"""Operational figures read from the database: queue depths and ages, unreachable peers,
schema currency. Every query here is cheap (index-backed or over small tables): a
monitoring scrape must never load the database."""

from __future__ import annotations

from dataclasses import dataclass

from storage import events
from storage.db import Database
from storage.ids import now_ms
from storage.migrate import pending

# States worth watching. Finished rows ("done") are left out: they pile up between prunes,
# and counting them would scan the whole table; the outcome counters cover them.
INBOX_STATES = ("queued", "processing", "failed")
DELIVERY_STATES = ("queued", "retry", "sending", "dead")


@dataclass(frozen=True, slots=True)
class QueueGauges:
    """One reading of the queues and peers, shared by every process on the database."""

    inbox: dict[str, int]  # state → rows
    deliveries: dict[str, int]  # state → rows
    inbox_oldest_age_s: float  # the oldest waiting inbox row, 0 when none waits
    delivery_oldest_age_s: float  # the oldest waiting delivery, 0 when none waits
    unreachable_peers: int


@dataclass(frozen=True, slots=True)
class PoolUsage:
    size: int  # connections open
    idle: int
    max_size: int


async def queue_gauges(db: Database) -> QueueGauges:
    """Rows per state of both queues, the age of their oldest waiting row, failing peers."""
    now = now_ms()
    inbox = await _by_state(db, "inbox_queue", INBOX_STATES)
    deliveries = await _by_state(db, "delivery_queue", DELIVERY_STATES)
    inbox_oldest = await db.fetchval(
        "SELECT MIN(created_at) FROM inbox_queue WHERE state IN ('queued', 'processing')"
    )
    delivery_oldest = await db.fetchval(
        "SELECT MIN(created_at) FROM delivery_queue WHERE state IN ('queued', 'retry', 'sending')"
    )
    unreachable = await db.fetchval(
        "SELECT COUNT(*) FROM peers WHERE unreachable_since IS NOT NULL"
    )
    return QueueGauges(
        inbox=inbox,
        deliveries=deliveries,
        inbox_oldest_age_s=_age(now, inbox_oldest),
        delivery_oldest_age_s=_age(now, delivery_oldest),
        unreachable_peers=int(unreachable or 0),
    )


async def _by_state(db: Database, table: str, states: tuple[str, ...]) -> dict[str, int]:
    marks = ", ".join(f"'{s}'" for s in states)
    rows = await db.fetch(
        f"SELECT state, COUNT(*) AS n FROM {table} WHERE state IN ({marks}) GROUP BY state"
    )
    found = {str(r["state"]): int(r["n"]) for r in rows}
    return {state: found.get(state, 0) for state in states}


def _age(now: int, oldest: object) -> float:
    return max(0.0, (now - int(oldest)) / 1000) if isinstance(oldest, int) else 0.0


async def readiness(db: Database) -> str | None:
    """None when the database answers and every bundled migration is applied; else why not."""
    try:
        await db.fetchval("SELECT 1")
    except Exception:
        return "database unreachable"
    try:
        missing = await pending(db)
    except Exception:
        return "database unreachable"
    if missing:
        return "migrations pending: " + ", ".join(missing)
    bus = events.bus_of(db)  # [events] url: posts reach other processes' streams through it
    if bus is not None and not await bus.ready():
        return "events bus (Redis) unreachable"
    return None


def pool_usage(db: Database) -> PoolUsage | None:
    """The connection pool's use, on drivers that pool (PostgreSQL); None otherwise."""
    usage = getattr(db, "pool_usage", None)
    if usage is None:
        return None
    size, idle, max_size = usage()
    return PoolUsage(size=int(size), idle=int(idle), max_size=int(max_size))
