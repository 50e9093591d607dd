"""Lists: an account's named groups of followed accounts, and the timeline of each."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from storage.db import Database
from storage.ids import new_id, now_ms
from storage.models import Account, ListRow, Status
from storage.paging import Page
from storage.rows import build, build_all, build_opt
from storage.status_sql import NOT_BLOCKED, NOT_MUTED, VISIBLE_TO

REPLIES_POLICIES = ("followed", "list", "none")


@dataclass(frozen=True, slots=True)
class ListMembership:
    """One list that contains an account (for routing new statuses to list streams)."""

    list_id: int
    owner_id: int
    replies_policy: str


class ListStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(
        self, account_id: int, title: str, *, replies_policy: str = "list", exclusive: bool = False
    ) -> ListRow:
        row = await self._db.fetchrow(
            "INSERT INTO lists (id, account_id, title, replies_policy, exclusive, created_at)"
            " VALUES ($1, $2, $3, $4, $5, $6) RETURNING *",
            new_id(),
            account_id,
            title,
            replies_policy,
            exclusive,
            now_ms(),
        )
        assert row is not None
        return build(ListRow, row)

    async def get(self, account_id: int, list_id: int) -> ListRow | None:
        """The list if it belongs to ``account_id``."""
        row = await self._db.fetchrow(
            "SELECT * FROM lists WHERE id = $1 AND account_id = $2", list_id, account_id
        )
        return build_opt(ListRow, row)

    async def all(self, account_id: int) -> list[ListRow]:
        rows = await self._db.fetch(
            "SELECT * FROM lists WHERE account_id = $1 ORDER BY id", account_id
        )
        return build_all(ListRow, rows)

    async def update(
        self,
        list_id: int,
        *,
        title: str | None = None,
        replies_policy: str | None = None,
        exclusive: bool | None = None,
    ) -> ListRow | None:
        row = await self._db.fetchrow(
            "UPDATE lists SET title = COALESCE($1, title), replies_policy = COALESCE($2, replies_policy),"
            " exclusive = COALESCE($3, exclusive) WHERE id = $4 RETURNING *",
            title,
            replies_policy,
            exclusive,
            list_id,
        )
        return build_opt(ListRow, row)

    async def delete(self, list_id: int) -> bool:
        return await self._db.execute("DELETE FROM lists WHERE id = $1", list_id) > 0

    async def accounts(self, list_id: int, page: Page) -> list[Account]:
        """Members, paged by account id (newest account first)."""
        args: list[Any] = [list_id]
        cond, order, ascending = page.clauses("a.id", args)
        limit_sql = ""
        if page.limit > 0:
            args.append(page.limit)
            limit_sql = f" LIMIT ${len(args)}"
        rows = await self._db.fetch(
            "SELECT a.* FROM list_accounts la JOIN accounts a ON a.id = la.account_id"
            f" WHERE la.list_id = $1 AND {cond} ORDER BY {order}{limit_sql}",
            *args,
        )
        found = build_all(Account, rows)
        if ascending:
            found.reverse()
        return found

    async def accounts_in(self, list_id: int, account_ids: Sequence[int]) -> set[int]:
        """Which of the accounts are members of the list."""
        if not account_ids:
            return set()
        marks = ", ".join(f"${i}" for i in range(2, len(account_ids) + 2))
        rows = await self._db.fetch(
            f"SELECT account_id FROM list_accounts WHERE list_id = $1 AND account_id IN ({marks})",
            list_id,
            *account_ids,
        )
        return {int(r["account_id"]) for r in rows}

    async def add_accounts(self, list_id: int, account_ids: Sequence[int]) -> None:
        async with self._db.transaction() as tx:
            for account_id in dict.fromkeys(account_ids):
                await tx.execute(
                    "INSERT INTO list_accounts (list_id, account_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    list_id,
                    account_id,
                )

    async def remove_accounts(self, list_id: int, account_ids: Sequence[int]) -> None:
        async with self._db.transaction() as tx:
            for account_id in dict.fromkeys(account_ids):
                await tx.execute(
                    "DELETE FROM list_accounts WHERE list_id = $1 AND account_id = $2",
                    list_id,
                    account_id,
                )

    async def remove_from_owner_lists(self, owner_id: int, account_id: int) -> None:
        """After an unfollow or a block: the account leaves every list of the owner."""
        await self._db.execute(
            "DELETE FROM list_accounts WHERE account_id = $2"
            " AND list_id IN (SELECT id FROM lists WHERE account_id = $1)",
            owner_id,
            account_id,
        )

    async def containing(self, owner_id: int, account_id: int) -> list[ListRow]:
        """The owner's lists that include ``account_id``."""
        rows = await self._db.fetch(
            "SELECT l.* FROM lists l JOIN list_accounts la ON la.list_id = l.id"
            " WHERE l.account_id = $1 AND la.account_id = $2 ORDER BY l.id",
            owner_id,
            account_id,
        )
        return build_all(ListRow, rows)

    async def memberships(self, account_id: int) -> list[ListMembership]:
        """Every list (of any owner) that includes ``account_id``."""
        rows = await self._db.fetch(
            "SELECT l.id, l.account_id, l.replies_policy FROM lists l"
            " JOIN list_accounts la ON la.list_id = l.id WHERE la.account_id = $1",
            account_id,
        )
        return [
            ListMembership(int(r["id"]), int(r["account_id"]), str(r["replies_policy"]))
            for r in rows
        ]

    async def timeline(self, row: ListRow, page: Page) -> list[Status]:
        """Statuses by the list's members, as the owner may see them, replies per the policy."""
        where, args = timeline_where(row)
        cond, order, ascending = page.clauses("s.id", args)
        args.append(page.limit)
        rows = await self._db.fetch(
            f"SELECT s.* FROM statuses s WHERE {where} AND {cond} ORDER BY {order} LIMIT ${len(args)}",
            *args,
        )
        found = build_all(Status, rows)
        if ascending:
            found.reverse()
        return found


def timeline_where(row: ListRow) -> tuple[str, list[Any]]:
    """The list timeline's condition on the status row ``s`` and its arguments
    (``$1`` the owner, ``$2`` now, ``$3`` the list)."""
    args: list[Any] = [row.account_id, now_ms(), row.id]
    where = (
        "s.account_id IN (SELECT account_id FROM list_accounts WHERE list_id = $3)"
        f" AND {VISIBLE_TO} AND {NOT_BLOCKED} AND {NOT_MUTED}"
    )
    return where + " AND " + replies_clause(row.replies_policy), args


def replies_clause(policy: str) -> str:
    """SQL over ``s`` with the owner as ``$1`` and the list as ``$3``; self-replies always pass."""
    base = "(s.in_reply_to_id IS NULL OR s.in_reply_to_account_id = s.account_id"
    if policy == "none":
        return base + ")"
    if policy == "followed":
        return (
            base
            + " OR s.in_reply_to_account_id = $1 OR EXISTS (SELECT 1 FROM follows rf WHERE rf.account_id = $1"
            " AND rf.target_account_id = s.in_reply_to_account_id))"
        )
    return (
        base
        + " OR s.in_reply_to_account_id = $1 OR EXISTS (SELECT 1 FROM list_accounts rl WHERE rl.list_id = $3"
        " AND rl.account_id = s.in_reply_to_account_id))"
    )
