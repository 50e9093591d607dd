"""Notifications for local accounts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from storage.db import Database
from storage.ids import new_id, now_ms
from storage.models import Notification
from storage.paging import Page
from storage.rows import build_all, build_opt


class NotificationStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(
        self,
        account_id: int,
        from_account_id: int,
        type_: str,
        *,
        status_id: int | None = None,
        report_id: int | None = None,
        group_key: str = "",
        dedupe_key: str | None = None,
    ) -> Notification | None:
        """Create unless the recipient blocks or mutes (with notifications) the sender, or
        already has the notification named ``dedupe_key`` (then None: it is not made twice,
        so a change whose side effects are run again after a crash notifies once)."""
        if account_id == from_account_id and type_ not in ("poll", "update"):
            return None
        hidden = await self._db.fetchval(
            "SELECT 1 FROM blocks WHERE account_id = $1 AND target_account_id = $2"
            " UNION ALL SELECT 1 FROM mutes WHERE account_id = $1 AND target_account_id = $2"
            " AND hide_notifications AND (expires_at IS NULL OR expires_at > $3)",
            account_id,
            from_account_id,
            now_ms(),
        )
        if hidden:
            return None
        row = await self._db.fetchrow(
            "INSERT INTO notifications (id, account_id, from_account_id, type, status_id, report_id, group_key,"
            " dedupe_key, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)"
            " ON CONFLICT (account_id, dedupe_key) DO NOTHING RETURNING *",
            new_id(),
            account_id,
            from_account_id,
            type_,
            status_id,
            report_id,
            group_key or f"{type_}-{status_id or from_account_id}",
            dedupe_key,
            now_ms(),
        )
        return build_opt(Notification, row)

    async def list(
        self,
        account_id: int,
        page: Page,
        *,
        types: Sequence[str] = (),
        exclude_types: Sequence[str] = (),
        from_account_id: int | None = None,
    ) -> list[Notification]:
        args: list[Any] = [account_id]
        where = "n.account_id = $1"
        if types:
            marks = ", ".join(f"${i}" for i in range(len(args) + 1, len(args) + len(types) + 1))
            args.extend(types)
            where += f" AND n.type IN ({marks})"
        if exclude_types:
            marks = ", ".join(
                f"${i}" for i in range(len(args) + 1, len(args) + len(exclude_types) + 1)
            )
            args.extend(exclude_types)
            where += f" AND n.type NOT IN ({marks})"
        if from_account_id is not None:
            args.append(from_account_id)
            where += f" AND n.from_account_id = ${len(args)}"
        cond, order, ascending = page.clauses("n.id", args)
        args.append(page.limit)
        rows = await self._db.fetch(
            f"SELECT n.* FROM notifications n WHERE {where} AND {cond} ORDER BY {order} LIMIT ${len(args)}",
            *args,
        )
        out = build_all(Notification, rows)
        if ascending:
            out.reverse()
        return out

    async def get(self, account_id: int, notification_id: int) -> Notification | None:
        row = await self._db.fetchrow(
            "SELECT * FROM notifications WHERE id = $1 AND account_id = $2",
            notification_id,
            account_id,
        )
        return build_opt(Notification, row)

    async def dismiss(self, account_id: int, notification_id: int) -> bool:
        return (
            await self._db.execute(
                "DELETE FROM notifications WHERE id = $1 AND account_id = $2",
                notification_id,
                account_id,
            )
            > 0
        )

    async def dismiss_group(self, account_id: int, group_key: str) -> None:
        await self._db.execute(
            "DELETE FROM notifications WHERE account_id = $1 AND group_key = $2",
            account_id,
            group_key,
        )

    async def clear(self, account_id: int) -> None:
        await self._db.execute("DELETE FROM notifications WHERE account_id = $1", account_id)

    async def count_unread(self, account_id: int, since_id: int) -> int:
        return int(
            await self._db.fetchval(
                "SELECT COUNT(*) FROM notifications WHERE account_id = $1 AND id > $2",
                account_id,
                since_id,
            )
        )

    async def delete_for_status(self, status_id: int) -> None:
        await self._db.execute("DELETE FROM notifications WHERE status_id = $1", status_id)
