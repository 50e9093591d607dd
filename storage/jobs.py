"""Leases of periodic jobs: which process runs a fleet-wide job, and when it is due again.

A job (``"queue_prune"``) is run by the process that claims its row: the claim succeeds
only when the job is due and no run holds it, and moves ``due_at`` one period on, in one
statement (an upsert whose update is conditional), so of any number of processes that ask
at once exactly one gets it. Times are milliseconds since the epoch on the claimer's clock.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.db import Database, Row
from storage.ids import now_ms


@dataclass(frozen=True, slots=True)
class JobLease:
    name: str
    holder: str
    due_at: int
    held_until: int  # 0: no run in progress
    started_at: int
    finished_at: int | None
    runs: int


class JobLeaseStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def claim(
        self, name: str, holder: str, *, every_ms: int, hold_ms: int, now: int | None = None
    ) -> bool:
        """Take the job's run for ``holder`` if it is due and free: True when this caller
        runs it now (and nobody else until ``every_ms`` has passed, or ``hold_ms`` if the run
        never finishes). False: another process ran it within the period, or runs it now."""
        at = now_ms() if now is None else now
        row = await self._db.fetchrow(
            "INSERT INTO job_leases (name, holder, due_at, held_until, started_at, runs)"
            " VALUES ($1, $2, $3, $4, $5, 1)"
            " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder,"
            " due_at = excluded.due_at, held_until = excluded.held_until,"
            " started_at = excluded.started_at, finished_at = NULL, runs = job_leases.runs + 1"
            " WHERE job_leases.due_at <= $5 AND job_leases.held_until <= $5"
            " RETURNING runs",
            name,
            holder,
            at + every_ms,
            at + max(hold_ms, 1),
            at,
        )
        return row is not None

    async def finish(self, name: str, holder: str, now: int | None = None) -> None:
        """The run ``holder`` claimed is over: the job is next due at its ``due_at``."""
        await self._db.execute(
            "UPDATE job_leases SET held_until = 0, finished_at = $3"
            " WHERE name = $1 AND holder = $2",
            name,
            holder,
            now_ms() if now is None else now,
        )

    async def get(self, name: str) -> JobLease | None:
        row = await self._db.fetchrow("SELECT * FROM job_leases WHERE name = $1", name)
        return None if row is None else _lease(row)

    async def all(self) -> list[JobLease]:
        return [_lease(r) for r in await self._db.fetch("SELECT * FROM job_leases ORDER BY name")]


def _lease(row: Row) -> JobLease:
    return JobLease(
        name=str(row["name"]),
        holder=str(row["holder"]),
        due_at=int(row["due_at"]),
        held_until=int(row["held_until"]),
        started_at=int(row["started_at"]),
        finished_at=None if row["finished_at"] is None else int(row["finished_at"]),
        runs=int(row["runs"]),
    )
