"""Domains a user blocks (not the instance's domain blocks: those are policy)."""

from __future__ import annotations

from collections.abc import Sequence

from storage.db import Database, placeholders
from storage.ids import new_id, now_ms
from storage.paging import Page


class AccountDomainBlockStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def block(self, account_id: int, domain: str) -> bool:
        """Block ``domain`` (already normalised) for the account; False if it already was."""
        row = await self._db.fetchrow(
            "INSERT INTO account_domain_blocks (id, account_id, domain, created_at)"
            " VALUES ($1, $2, $3, $4) ON CONFLICT (account_id, domain) DO NOTHING RETURNING id",
            new_id(),
            account_id,
            domain,
            now_ms(),
        )
        return row is not None

    async def unblock(self, account_id: int, domain: str) -> bool:
        row = await self._db.fetchrow(
            "DELETE FROM account_domain_blocks WHERE account_id = $1 AND domain = $2 RETURNING id",
            account_id,
            domain,
        )
        return row is not None

    async def page(self, account_id: int, page: Page) -> list[tuple[int, str]]:
        """(paging id, domain) of the account's blocks, newest first (oldest first for min_id
        paging, reversed here as every page is)."""
        args: list[object] = [account_id]
        cond, order, ascending = page.clauses("id", args)
        args.append(page.limit)
        rows = await self._db.fetch(
            f"SELECT id, domain FROM account_domain_blocks WHERE account_id = $1 AND {cond}"
            f" ORDER BY {order} LIMIT ${len(args)}",
            *args,
        )
        out = [(int(r["id"]), str(r["domain"])) for r in rows]
        if ascending:
            out.reverse()
        return out

    async def blocks(self, account_id: int, domain: str) -> bool:
        return bool(
            await self._db.fetchval(
                "SELECT 1 FROM account_domain_blocks WHERE account_id = $1 AND domain = $2",
                account_id,
                domain,
            )
        )

    async def blocked_of(self, account_id: int, domains: Sequence[str]) -> set[str]:
        """Which of ``domains`` the account blocks, in one query."""
        wanted = [d for d in dict.fromkeys(domains) if d]
        if not wanted:
            return set()
        rows = await self._db.fetch(
            "SELECT domain FROM account_domain_blocks WHERE account_id = $1"
            f" AND domain IN ({placeholders(2, len(wanted))})",
            account_id,
            *wanted,
        )
        return {str(r["domain"]) for r in rows}
