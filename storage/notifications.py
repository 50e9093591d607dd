"""Notifications for local accounts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from storage.db import Database
from storage.ids import new_id, now_ms
from storage.models import Notification
from storage.paging import Page
from storage.rows import build_all, build_opt

# Notifications from an account an admin suspended are not shown, as Mastodon's
# ``without_suspended`` (they come back with an unsuspension): one primary-key probe a row.
# Nor are those from a domain the recipient (``$1``) blocks, as Mastodon: they come back with
# the unblock. A recipient who blocks no domain pays one probe a statement, not one a row.
_SENDER_SHOWN = (
    "NOT EXISTS (SELECT 1 FROM accounts fa WHERE fa.id = n.from_account_id AND fa.suspended)"
    " AND NOT (EXISTS (SELECT 1 FROM account_domain_blocks gd WHERE gd.account_id = $1)"
    " AND EXISTS (SELECT 1 FROM accounts da JOIN account_domain_blocks db ON db.domain = da.domain"
    " WHERE da.id = n.from_account_id AND db.account_id = $1))"
)


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
        open_group_keys: Sequence[str] = (),
        dedupe_key: str | None = None,
    ) -> Notification | None:
        """Create unless the recipient blocks, mutes (with notifications) or blocks the
        domain of the sender, or already has the notification named ``dedupe_key`` (then None: it is not made twice,
        so a change whose side effects are run again after a crash notifies once). It joins
        the group of ``open_group_keys`` the recipient has a notification of, if any, else
        begins ``group_key``."""
        if account_id == from_account_id and type_ not in ("poll", "update"):
            return None
        hidden = await self._db.fetchval(
            "SELECT 1 FROM blocks WHERE account_id = $1 AND target_account_id = $2"
            " UNION ALL SELECT 1 FROM mutes WHERE account_id = $1 AND target_account_id = $2"
            " AND hide_notifications AND (expires_at IS NULL OR expires_at > $3)"
            " UNION ALL SELECT 1 FROM account_domain_blocks d JOIN accounts a ON a.domain = d.domain"
            " WHERE d.account_id = $1 AND a.id = $2",
            account_id,
            from_account_id,
            now_ms(),
        )
        if hidden:
            return None
        args: list[Any] = [
            new_id(),
            account_id,
            from_account_id,
            type_,
            status_id,
            report_id,
            group_key or f"{type_}-{status_id or from_account_id}",
            dedupe_key,
            now_ms(),
        ]
        key = "$7"
        if marks := _in(args, open_group_keys):
            # At most one of them is the recipient's (a group begins only once the one before
            # it closed), so the first found is it: a few probes of notifications_group, not a
            # read of a large group's members.
            key = (
                "COALESCE((SELECT g.group_key FROM notifications g WHERE g.account_id = $2"
                f" AND g.group_key {marks} LIMIT 1), $7)"
            )
        row = await self._db.fetchrow(
            "INSERT INTO notifications (id, account_id, from_account_id, type, status_id, report_id, group_key,"
            f" dedupe_key, created_at) VALUES ($1,$2,$3,$4,$5,$6,{key},$8,$9)"
            " ON CONFLICT (account_id, dedupe_key) DO NOTHING RETURNING *",
            *args,
        )
        return build_opt(Notification, row)

    async def list(
        self,
        account_id: int,
        page: Page,
        *,
        types: Iterable[str] = (),
        exclude_types: Sequence[str] = (),
        from_account_id: int | None = None,
        group_key: str | None = None,
        notification_id: int | None = None,
    ) -> list[Notification]:
        """A page of the account's notifications, newest first, of ``types`` (all when
        empty) but not ``exclude_types``, and only those from ``from_account_id``, of the
        group ``group_key`` or with the id ``notification_id`` where given. As every read
        here, it leaves out those from suspended accounts and from domains the account blocks."""
        args: list[Any] = [account_id]
        where = _where(args, types, exclude_types, from_account_id, group_key, notification_id)
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

    async def count(
        self,
        account_id: int,
        *,
        types: Iterable[str] = (),
        group_key: str | None = None,
        notification_id: int | None = None,
    ) -> int:
        """How many of the account's notifications ``list`` would page through."""
        args: list[Any] = [account_id]
        where = _where(args, types, (), None, group_key, notification_id)
        return int(
            await self._db.fetchval(f"SELECT COUNT(*) FROM notifications n WHERE {where}", *args)
        )

    async def get(self, account_id: int, notification_id: int) -> Notification | None:
        row = await self._db.fetchrow(
            f"SELECT n.* FROM notifications n WHERE n.account_id = $1 AND n.id = $2 AND {_SENDER_SHOWN}",
            account_id,
            notification_id,
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

    async def dismiss_group(self, account_id: int, group_key: str, types: Iterable[str]) -> None:
        """Delete the account's notifications of the group ``group_key`` among ``types``
        (the grouped types: the others keep a key that names no group a client sees)."""
        args: list[Any] = [account_id, group_key]
        marks = _in(args, types)
        if not marks:
            return
        await self._db.execute(
            f"DELETE FROM notifications WHERE account_id = $1 AND group_key = $2 AND type {marks}",
            *args,
        )

    async def clear(self, account_id: int) -> None:
        await self._db.execute("DELETE FROM notifications WHERE account_id = $1", account_id)

    async def delete_from(self, account_id: int, from_account_id: int) -> None:
        """Delete the account's notifications from ``from_account_id`` (its block clears them)."""
        await self._db.execute(
            "DELETE FROM notifications WHERE account_id = $1 AND from_account_id = $2",
            account_id,
            from_account_id,
        )

    async def count_unread(self, account_id: int, since_id: int) -> int:
        return int(
            await self._db.fetchval(
                "SELECT COUNT(*) FROM notifications n WHERE n.account_id = $1 AND n.id > $2"
                f" AND {_SENDER_SHOWN}",
                account_id,
                since_id,
            )
        )

    async def count_unread_groups(
        self, account_id: int, since_id: int, grouped_types: Iterable[str], limit: int
    ) -> int:
        """The groups (at most ``limit``) among the notifications after ``since_id``: those
        of ``grouped_types`` count once per group key, every other one on its own."""
        args: list[Any] = [account_id, since_id]
        grouped = f"n.type {marks}" if (marks := _in(args, grouped_types)) else "1=0"
        args.append(limit)
        # A group key is never digits alone, so no key meets a notification's own id.
        return int(
            await self._db.fetchval(
                "SELECT COUNT(*) FROM (SELECT DISTINCT CASE WHEN"
                f" {grouped} AND n.group_key <> '' THEN n.group_key"
                " ELSE CAST(n.id AS TEXT) END AS g"
                f" FROM notifications n WHERE n.account_id = $1 AND n.id > $2 AND {_SENDER_SHOWN}"
                f" LIMIT ${len(args)}) u",
                *args,
            )
        )

    async def delete_for_status(self, status_id: int) -> None:
        await self._db.execute("DELETE FROM notifications WHERE status_id = $1", status_id)


def _in(args: list[Any], values: Iterable[str]) -> str:
    """``IN ($i, …)`` for ``values`` appended to ``args``; "" when there are none."""
    values = list(values)
    if not values:
        return ""
    start = len(args) + 1
    args.extend(values)
    return "IN (" + ", ".join(f"${i}" for i in range(start, start + len(values))) + ")"


def _where(
    args: list[Any],
    types: Iterable[str],
    exclude_types: Sequence[str],
    from_account_id: int | None,
    group_key: str | None,
    notification_id: int | None,
) -> str:
    """The conditions on ``notifications n`` of ``list``; ``args`` holds the account id."""
    where = f"n.account_id = $1 AND {_SENDER_SHOWN}"
    if included := _in(args, types):
        where += f" AND n.type {included}"
    if excluded := _in(args, exclude_types):
        where += f" AND n.type NOT {excluded}"
    if from_account_id is not None:
        args.append(from_account_id)
        where += f" AND n.from_account_id = ${len(args)}"
    if group_key is not None:
        args.append(group_key)
        where += f" AND n.group_key = ${len(args)}"
    if notification_id is not None:
        args.append(notification_id)
        where += f" AND n.id = ${len(args)}"
    return where
