"""Scheduled statuses: a post held until its time (``scheduled_statuses``).

The row is also the job: due once ``next_attempt_at`` (which starts at ``scheduled_at``)
has passed; ``claim`` leases it by moving ``next_attempt_at`` ahead, so another process
(or this one after a restart) takes it only once the lease has run out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from storage.db import Database
from storage.ids import new_id, now_ms
from storage.paging import Page
from storage.rows import build_all, build_opt, dumps

DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class ScheduledStatus:
    id: int
    account_id: int
    scheduled_at: int
    params: dict[str, Any]
    attempts: int
    next_attempt_at: int
    last_error: str
    created_at: int


def publish_key(scheduled_id: int) -> str:
    """The idempotency key the scheduled status is posted with (one status per row)."""
    return f"scheduled-status-{scheduled_id}"


class ScheduledStatusStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, account_id: int, scheduled_at: int, params: dict[str, Any]) -> ScheduledStatus:
        now = now_ms()
        row = await self._db.fetchrow(
            "INSERT INTO scheduled_statuses (id, account_id, scheduled_at, params, next_attempt_at,"
            " created_at) VALUES ($1, $2, $3, $4, $3, $5) RETURNING *",
            new_id(),
            account_id,
            scheduled_at,
            dumps(params),
            now,
        )
        found = build_opt(ScheduledStatus, row)
        assert found is not None
        return found

    async def get(self, scheduled_id: int) -> ScheduledStatus | None:
        return build_opt(
            ScheduledStatus,
            await self._db.fetchrow("SELECT * FROM scheduled_statuses WHERE id = $1", scheduled_id),
        )

    async def for_account(self, account_id: int, page: Page) -> list[ScheduledStatus]:
        """The account's scheduled statuses, newest first, paged by id."""
        args: list[Any] = [account_id]
        cond, order, ascending = page.clauses("id", args)
        args.append(page.limit)
        rows = await self._db.fetch(
            f"SELECT * FROM scheduled_statuses WHERE account_id = $1 AND {cond}"
            f" ORDER BY {order} LIMIT ${len(args)}",
            *args,
        )
        found = build_all(ScheduledStatus, rows)
        if ascending:
            found.reverse()
        return found

    async def counts(self, account_id: int, day_of: int) -> tuple[int, int]:
        """(all of the account's scheduled statuses, those due within a day of ``day_of``)."""
        row = await self._db.fetchrow(
            "SELECT COUNT(*) AS total, COALESCE(SUM(CASE WHEN scheduled_at >= $2 AND"
            " scheduled_at < $3 THEN 1 ELSE 0 END), 0) AS same_day"
            " FROM scheduled_statuses WHERE account_id = $1",
            account_id,
            day_of - day_of % DAY_MS,
            day_of - day_of % DAY_MS + DAY_MS,
        )
        assert row is not None
        return int(row["total"]), int(row["same_day"])

    async def media_in_use(self, account_id: int) -> set[int]:
        """Ids of the account's media that a scheduled status will attach."""
        rows = await self._db.fetch(
            "SELECT params FROM scheduled_statuses WHERE account_id = $1", account_id
        )
        used: set[int] = set()
        for row in build_all(_Params, rows):
            for value in row.params.get("media_ids") or ():
                if isinstance(value, str) and value.isdigit():
                    used.add(int(value))
        return used

    async def reschedule(self, scheduled_id: int, scheduled_at: int) -> ScheduledStatus | None:
        return build_opt(
            ScheduledStatus,
            await self._db.fetchrow(
                "UPDATE scheduled_statuses SET scheduled_at = $1, next_attempt_at = $1,"
                " attempts = 0, last_error = '' WHERE id = $2 RETURNING *",
                scheduled_at,
                scheduled_id,
            ),
        )

    async def delete(self, scheduled_id: int) -> bool:
        return bool(
            await self._db.execute("DELETE FROM scheduled_statuses WHERE id = $1", scheduled_id)
        )

    async def claim(self, limit: int, *, lease_ms: int) -> list[ScheduledStatus]:
        """Take due rows for ``lease_ms``; one statement, so two workers never share a row."""
        now = now_ms()
        lock = " FOR UPDATE SKIP LOCKED" if self._db.dialect == "postgres" else ""
        rows = await self._db.fetch(
            "UPDATE scheduled_statuses SET next_attempt_at = $1, attempts = attempts + 1"
            " WHERE id IN (SELECT id FROM scheduled_statuses WHERE next_attempt_at <= $2"
            f" ORDER BY next_attempt_at LIMIT $3{lock}) RETURNING *",
            now + lease_ms,
            now,
            limit,
        )
        return build_all(ScheduledStatus, rows)

    async def retry(self, item: ScheduledStatus, error: str, *, retry_at: int) -> None:
        await self._db.execute(
            "UPDATE scheduled_statuses SET next_attempt_at = $1, last_error = $2 WHERE id = $3",
            retry_at,
            error[:500],
            item.id,
        )

    async def next_due(self) -> int | None:
        value = await self._db.fetchval("SELECT MIN(next_attempt_at) FROM scheduled_statuses")
        return None if value is None else int(value)

    async def make_due(self, scheduled_id: int | None = None) -> int:
        """Make a scheduled status (every one, with None) due now: tests, an operator's
        "publish now". ``scheduled_at`` keeps what the client asked for."""
        if scheduled_id is None:
            return await self._db.execute(
                "UPDATE scheduled_statuses SET next_attempt_at = $1", now_ms()
            )
        return await self._db.execute(
            "UPDATE scheduled_statuses SET next_attempt_at = $1 WHERE id = $2",
            now_ms(),
            scheduled_id,
        )

    async def published_status(self, item: ScheduledStatus) -> int | None:
        """The status already posted for this row (a worker died before deleting it)."""
        value = await self._db.fetchval(
            "SELECT status_id FROM idempotency_keys WHERE account_id = $1 AND key = $2",
            item.account_id,
            publish_key(item.id),
        )
        return None if value is None else int(value)


@dataclass(frozen=True, slots=True)
class _Params:
    params: dict[str, Any]
