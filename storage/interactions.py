"""Favourites, bookmarks and pins: one account's mark on one status."""

from __future__ import annotations

from typing import Any

from storage.db import Database
from storage.ids import new_id, now_ms
from storage.models import Account, Favourite, Status
from storage.paging import Page
from storage.rows import build, build_all, build_opt

_TABLES = {"favourites", "bookmarks", "status_pins"}


class InteractionStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def favourite(self, account_id: int, status_id: int, *, uri: str | None = None) -> bool:
        """Mark a favourite; True when it is new (counters move only then)."""
        async with self._db.transaction() as tx:
            row = await tx.fetchrow(
                "INSERT INTO favourites (id, account_id, status_id, uri, created_at) VALUES ($1,$2,$3,$4,$5)"
                " ON CONFLICT (account_id, status_id) DO NOTHING RETURNING id",
                new_id(),
                account_id,
                status_id,
                uri,
                now_ms(),
            )
            if row is not None:
                await tx.execute(
                    "UPDATE statuses SET favourites_count = favourites_count + 1, rev = rev + 1 WHERE id = $1",
                    status_id,
                )
            return row is not None

    async def unfavourite(self, account_id: int, status_id: int) -> Favourite | None:
        """Remove a favourite; the removed row (its ``uri`` is what an Undo names), or None."""
        async with self._db.transaction() as tx:
            row = await tx.fetchrow(
                "DELETE FROM favourites WHERE account_id = $1 AND status_id = $2 RETURNING *",
                account_id,
                status_id,
            )
            if row is not None:
                await tx.execute(
                    "UPDATE statuses SET favourites_count = favourites_count - 1, rev = rev + 1"
                    " WHERE id = $1 AND favourites_count > 0",
                    status_id,
                )
            return build_opt(Favourite, row)

    async def get_favourite(self, account_id: int, status_id: int) -> Favourite | None:
        row = await self._db.fetchrow(
            "SELECT * FROM favourites WHERE account_id = $1 AND status_id = $2",
            account_id,
            status_id,
        )
        return build_opt(Favourite, row)

    async def favourite_by_uri(
        self, uri: str, *, account_id: int | None = None
    ) -> Favourite | None:
        """The favourite whose Like had this id (of ``account_id`` only, when given)."""
        if account_id is None:
            row = await self._db.fetchrow("SELECT * FROM favourites WHERE uri = $1 LIMIT 1", uri)
        else:
            row = await self._db.fetchrow(
                "SELECT * FROM favourites WHERE uri = $1 AND account_id = $2", uri, account_id
            )
        return build_opt(Favourite, row)

    async def set_favourite_uri(self, account_id: int, status_id: int, uri: str) -> None:
        """A repeated Like names the existing favourite anew: a later Undo names the newest."""
        await self._db.execute(
            "UPDATE favourites SET uri = $1 WHERE account_id = $2 AND status_id = $3",
            uri,
            account_id,
            status_id,
        )

    async def mark(self, table: str, account_id: int, status_id: int) -> bool:
        assert table in _TABLES and table != "favourites"
        row = await self._db.fetchrow(
            f"INSERT INTO {table} (id, account_id, status_id, created_at) VALUES ($1,$2,$3,$4)"
            " ON CONFLICT (account_id, status_id) DO NOTHING RETURNING id",
            new_id(),
            account_id,
            status_id,
            now_ms(),
        )
        return row is not None

    async def unmark(self, table: str, account_id: int, status_id: int) -> bool:
        assert table in _TABLES and table != "favourites"
        count = await self._db.execute(
            f"DELETE FROM {table} WHERE account_id = $1 AND status_id = $2", account_id, status_id
        )
        return count > 0

    async def marked(self, table: str, account_id: int, status_ids: list[int]) -> set[int]:
        """Which of the statuses the account has favourited / bookmarked / pinned."""
        assert table in _TABLES
        if not status_ids:
            return set()
        marks = ", ".join(f"${i}" for i in range(2, len(status_ids) + 2))
        rows = await self._db.fetch(
            f"SELECT status_id FROM {table} WHERE account_id = $1 AND status_id IN ({marks})",
            account_id,
            *status_ids,
        )
        return {int(r["status_id"]) for r in rows}

    async def reblogged(self, account_id: int, status_ids: list[int]) -> set[int]:
        if not status_ids:
            return set()
        marks = ", ".join(f"${i}" for i in range(2, len(status_ids) + 2))
        rows = await self._db.fetch(
            f"SELECT reblog_of_id FROM statuses WHERE account_id = $1 AND reblog_of_id IN ({marks})",
            account_id,
            *status_ids,
        )
        return {int(r["reblog_of_id"]) for r in rows}

    async def statuses_marked(
        self, table: str, account_id: int, page: Page
    ) -> list[tuple[int, Status]]:
        """(mark id, status) newest mark first, for /favourites and /bookmarks paging."""
        assert table in _TABLES
        args: list[Any] = [account_id]
        cond, order, ascending = page.clauses("x.id", args)
        args.append(page.limit)
        rows = await self._db.fetch(
            f"SELECT x.id AS x_id, s.* FROM {table} x JOIN statuses s ON s.id = x.status_id"
            f" WHERE x.account_id = $1 AND {cond} ORDER BY {order} LIMIT ${len(args)}",
            *args,
        )
        out = [(int(r["x_id"]), build(Status, r)) for r in rows]
        if ascending:
            out.reverse()
        return out

    async def accounts_who(
        self, table: str, status_id: int, page: Page
    ) -> list[tuple[int, Account]]:
        """Accounts that favourited (table='favourites') or reblogged (table='reblogs') a status."""
        args: list[Any] = [status_id]
        if table == "reblogs":
            cond, order, ascending = page.clauses("x.id", args)
            args.append(page.limit)
            sql = (
                "SELECT x.id AS x_id, a.* FROM statuses x JOIN accounts a ON a.id = x.account_id"
                f" WHERE x.reblog_of_id = $1 AND {cond} ORDER BY {order} LIMIT ${len(args)}"
            )
        else:
            assert table == "favourites"
            cond, order, ascending = page.clauses("x.id", args)
            args.append(page.limit)
            sql = (
                "SELECT x.id AS x_id, a.* FROM favourites x JOIN accounts a ON a.id = x.account_id"
                f" WHERE x.status_id = $1 AND {cond} ORDER BY {order} LIMIT ${len(args)}"
            )
        rows = await self._db.fetch(sql, *args)
        out = [(int(r["x_id"]), build(Account, r)) for r in rows]
        if ascending:
            out.reverse()
        return out

    async def local_interactors(self, status_id: int) -> list[Account]:
        """Local accounts that reblogged or favourited a status, each once."""
        rows = await self._db.fetch(
            "SELECT a.* FROM accounts a WHERE a.domain = '' AND a.id IN ("
            " SELECT account_id FROM statuses WHERE reblog_of_id = $1"
            " UNION SELECT account_id FROM favourites WHERE status_id = $1) ORDER BY a.id",
            status_id,
        )
        return [build(Account, r) for r in rows]

    async def pinned_ids(self, account_id: int) -> list[int]:
        rows = await self._db.fetch(
            "SELECT status_id FROM status_pins WHERE account_id = $1 ORDER BY id DESC", account_id
        )
        return [int(r["status_id"]) for r in rows]

    async def muted_conversations(self, account_id: int, conversations: list[str]) -> set[str]:
        if not conversations:
            return set()
        marks = ", ".join(f"${i}" for i in range(2, len(conversations) + 2))
        rows = await self._db.fetch(
            f"SELECT conversation FROM conversation_mutes WHERE account_id = $1 AND conversation IN ({marks})",
            account_id,
            *conversations,
        )
        return {r["conversation"] for r in rows}

    async def mute_conversation(self, account_id: int, conversation: str, muted: bool) -> None:
        if muted:
            await self._db.execute(
                "INSERT INTO conversation_mutes (account_id, conversation) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                account_id,
                conversation,
            )
        else:
            await self._db.execute(
                "DELETE FROM conversation_mutes WHERE account_id = $1 AND conversation = $2",
                account_id,
                conversation,
            )


__all__ = ["InteractionStore", "build_all"]
