"""Reports (a local user's, or a remote instance's Flag) about an account and its statuses."""

from __future__ import annotations

from collections.abc import Sequence

from storage.db import Database
from storage.ids import new_id, now_ms
from storage.models import Report
from storage.rows import build, build_opt, dumps


class ReportStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(
        self,
        account_id: int,
        target_account_id: int,
        *,
        status_ids: Sequence[int] = (),
        comment: str = "",
        category: str = "other",
        rule_ids: Sequence[int] = (),
        forwarded: bool = False,
        uri: str | None = None,
        report_id: int | None = None,
    ) -> Report:
        """``report_id``: an id taken beforehand (``new_id()``), for a caller that names the
        report before it exists."""
        now = now_ms()
        row = await self._db.fetchrow(
            "INSERT INTO reports (id, account_id, target_account_id, status_ids, comment, category, rule_ids,"
            " forwarded, uri, created_at, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$10) RETURNING *",
            report_id if report_id is not None else new_id(),
            account_id,
            target_account_id,
            dumps(list(status_ids)),
            comment,
            category,
            dumps(list(rule_ids)),
            forwarded,
            uri,
            now,
        )
        assert row is not None
        return build(Report, row)

    async def get(self, report_id: int) -> Report | None:
        return build_opt(
            Report, await self._db.fetchrow("SELECT * FROM reports WHERE id = $1", report_id)
        )

    async def by_uri(self, uri: str) -> Report | None:
        return build_opt(
            Report, await self._db.fetchrow("SELECT * FROM reports WHERE uri = $1", uri)
        )
