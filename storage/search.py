"""Search over statuses the viewer may see, and account suggestions."""

from __future__ import annotations

from typing import Any

from storage.db import Database
from storage.ids import now_ms
from storage.models import Account, Status
from storage.rows import build_all
from storage.status_sql import GUARDED_NOT_DOMAIN_BLOCKED, NOT_BLOCKED, NOT_MUTED, VISIBLE_TO


def like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class SearchStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def status_candidates(
        self,
        viewer_id: int,
        needles: list[str],
        *,
        account_id: int | None = None,
        max_id: int | None = None,
        min_id: int | None = None,
        limit: int = 40,
        before: int | None = None,
    ) -> list[Status]:
        """Visible statuses whose text, HTML or content warning contains any needle (lower-cased
        by the database), newest first. The caller confirms matches on the plain text."""
        if not needles:
            return []
        args: list[Any] = [viewer_id, now_ms()]
        ors = []
        for needle in needles:
            args.append(like_pattern(needle))
            n = len(args)
            ors.append(
                f"lower(s.text) LIKE ${n} ESCAPE '\\' OR lower(s.content) LIKE ${n} ESCAPE '\\'"
                f" OR lower(s.spoiler_text) LIKE ${n} ESCAPE '\\'"
            )
        where = [
            "(" + " OR ".join(ors) + ")",
            "s.reblog_of_id IS NULL",
            VISIBLE_TO,
            NOT_BLOCKED,
            NOT_MUTED,
            GUARDED_NOT_DOMAIN_BLOCKED,
            "NOT EXISTS (SELECT 1 FROM accounts sa WHERE sa.id = s.account_id AND sa.suspended)",
        ]
        if account_id is not None:
            args.append(account_id)
            where.append(f"s.account_id = ${len(args)}")
        if max_id is not None:
            args.append(max_id)
            where.append(f"s.id < ${len(args)}")
        if min_id is not None:
            args.append(min_id)
            where.append(f"s.id > ${len(args)}")
        if before is not None:
            args.append(before)
            where.append(f"s.id < ${len(args)}")
        args.append(limit)
        rows = await self._db.fetch(
            f"SELECT s.* FROM statuses s WHERE {' AND '.join(where)} ORDER BY s.id DESC LIMIT ${len(args)}",
            *args,
        )
        return build_all(Status, rows)

    async def friends_of_friends(self, account_id: int, *, limit: int) -> list[Account]:
        """Accounts followed by the accounts ``account_id`` follows, the most shared first."""
        rows = await self._db.fetch(
            "SELECT a.*, x.n AS shared FROM (SELECT f2.target_account_id AS id, COUNT(*) AS n"
            " FROM follows f1 JOIN follows f2 ON f2.account_id = f1.target_account_id"
            " WHERE f1.account_id = $1 AND f2.target_account_id <> $1"
            " GROUP BY f2.target_account_id) x JOIN accounts a ON a.id = x.id"
            f" WHERE {_SUGGESTABLE} ORDER BY x.n DESC, a.followers_count DESC, a.id LIMIT $2",
            account_id,
            limit,
        )
        return build_all(Account, rows)

    async def popular_local(self, account_id: int, *, limit: int) -> list[Account]:
        rows = await self._db.fetch(
            "SELECT a.* FROM accounts a WHERE a.domain = '' AND a.id <> $1"
            " AND EXISTS (SELECT 1 FROM users u WHERE u.account_id = a.id AND u.approved AND NOT u.disabled)"
            f" AND {_SUGGESTABLE} ORDER BY a.followers_count DESC, a.last_status_at DESC, a.id LIMIT $2",
            account_id,
            limit,
        )
        return build_all(Account, rows)

    async def dismiss_suggestion(self, account_id: int, target_account_id: int) -> None:
        await self._db.execute(
            "INSERT INTO suggestion_dismissals (account_id, target_account_id, created_at)"
            " VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            account_id,
            target_account_id,
            now_ms(),
        )


# Not the viewer ($1), not followed, requested, blocked either way, muted, suspended or hidden.
_SUGGESTABLE = (
    "a.id <> $1 AND NOT a.suspended AND NOT a.silenced AND a.discoverable"
    " AND a.moved_to_account_id IS NULL"
    " AND NOT EXISTS (SELECT 1 FROM follows sf WHERE sf.account_id = $1 AND sf.target_account_id = a.id)"
    " AND NOT EXISTS (SELECT 1 FROM follow_requests sr WHERE sr.account_id = $1 AND sr.target_account_id = a.id)"
    " AND NOT EXISTS (SELECT 1 FROM blocks sb WHERE (sb.account_id = $1 AND sb.target_account_id = a.id)"
    "   OR (sb.account_id = a.id AND sb.target_account_id = $1))"
    " AND NOT EXISTS (SELECT 1 FROM mutes sm WHERE sm.account_id = $1 AND sm.target_account_id = a.id)"
    " AND NOT EXISTS (SELECT 1 FROM suggestion_dismissals sd WHERE sd.account_id = $1"
    "   AND sd.target_account_id = a.id)"
)
