"""Filters v2: an account's keyword and status filters with contexts, action and expiry."""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any

from storage import token_cache
from storage.db import Connection, Database
from storage.ids import new_id, now_ms
from storage.models import Filter, FilterKeyword
from storage.rows import build, build_all, build_opt, dumps

_UNSET: Any = object()


@dataclass(frozen=True, slots=True)
class FilterStatus:
    id: int
    filter_id: int
    status_id: int
    created_at: int


@dataclass(frozen=True, slots=True)
class KeywordChange:
    """One entry of ``keywords_attributes``: add (no id), change (id) or remove (id, destroy)."""

    id: int | None = None
    keyword: str | None = None
    whole_word: bool | None = None
    destroy: bool = False


@dataclass(frozen=True, slots=True)
class _Filterless:
    account_id: int
    at: float  # time.monotonic()


# What this task's token lookup (``OAuthStore.bearer``, which asks in the same statement)
# saw: the account had no filters. The request's own filter lookup then needs no round trip
# (most accounts have none). Trusted only briefly, so that a long-lived task (a streaming
# connection) reads its filters again; a filter this task creates clears it.
_filterless: ContextVar[_Filterless | None] = ContextVar("fedinode_filterless", default=None)
FILTERLESS_TRUSTED_S = 1.0


def note_filterless(account_id: int | None, filterless: bool) -> None:
    """Record, for the rest of this request, whether ``account_id`` has no filters."""
    known = _Filterless(account_id, time.monotonic()) if account_id and filterless else None
    _filterless.set(known)


def _known_filterless(account_id: int) -> bool:
    known = _filterless.get()
    return (
        known is not None
        and known.account_id == account_id
        and time.monotonic() - known.at < FILTERLESS_TRUSTED_S
    )


class FilterStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def _with_keywords(self, filters: list[Filter]) -> list[Filter]:
        if not filters:
            return filters
        marks = ", ".join(f"${i}" for i in range(1, len(filters) + 1))
        rows = await self._db.fetch(
            f"SELECT * FROM filter_keywords WHERE filter_id IN ({marks}) ORDER BY id",
            *[f.id for f in filters],
        )
        by_filter: dict[int, list[FilterKeyword]] = {}
        for k in build_all(FilterKeyword, rows):
            by_filter.setdefault(k.filter_id, []).append(k)
        return [replace(f, keywords=tuple(by_filter.get(f.id, ()))) for f in filters]

    async def all(self, account_id: int, *, active_at: int | None = None) -> list[Filter]:
        """The account's filters, oldest first; only unexpired ones when ``active_at`` is given."""
        if _known_filterless(account_id):
            return []
        if active_at is None:
            rows = await self._db.fetch(
                "SELECT * FROM filters WHERE account_id = $1 ORDER BY id", account_id
            )
        else:
            rows = await self._db.fetch(
                "SELECT * FROM filters WHERE account_id = $1 AND (expires_at IS NULL OR expires_at > $2)"
                " ORDER BY id",
                account_id,
                active_at,
            )
        return await self._with_keywords(build_all(Filter, rows))

    async def get(self, account_id: int, filter_id: int) -> Filter | None:
        row = await self._db.fetchrow(
            "SELECT * FROM filters WHERE id = $1 AND account_id = $2", filter_id, account_id
        )
        found = build_opt(Filter, row)
        if found is None:
            return None
        return (await self._with_keywords([found]))[0]

    async def create(
        self,
        account_id: int,
        *,
        title: str,
        contexts: Sequence[str],
        action: str,
        expires_at: int | None,
        keywords: Sequence[tuple[str, bool]] = (),
    ) -> Filter:
        ident = new_id()
        _filterless.set(None)
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO filters (id, account_id, title, contexts, action, expires_at, created_at)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7)",
                ident,
                account_id,
                title,
                dumps(list(contexts)),
                action,
                expires_at,
                now_ms(),
            )
            for keyword, whole_word in keywords:
                await self._add_keyword(tx, ident, keyword, whole_word)
        await token_cache.changed(self._db)  # the bearer lookup says whether there are any
        found = await self.get(account_id, ident)
        assert found is not None
        return found

    async def update(
        self,
        account_id: int,
        filter_id: int,
        *,
        title: str | None = None,
        contexts: Sequence[str] | None = None,
        action: str | None = None,
        expires_at: int | None = _UNSET,
        keyword_changes: Sequence[KeywordChange] = (),
    ) -> Filter | None:
        async with self._db.transaction() as tx:
            row = await tx.fetchrow(
                "UPDATE filters SET title = COALESCE($1, title), contexts = COALESCE($2, contexts),"
                " action = COALESCE($3, action),"
                " expires_at = CASE WHEN $4 THEN $5 ELSE expires_at END"
                " WHERE id = $6 AND account_id = $7 RETURNING id",
                title,
                None if contexts is None else dumps(list(contexts)),
                action,
                expires_at is not _UNSET,
                None if expires_at is _UNSET else expires_at,
                filter_id,
                account_id,
            )
            if row is None:
                return None
            for change in keyword_changes:
                if change.id is None:
                    if change.keyword and not change.destroy:
                        await self._add_keyword(
                            tx,
                            filter_id,
                            change.keyword,
                            True if change.whole_word is None else change.whole_word,
                        )
                elif change.destroy:
                    await tx.execute(
                        "DELETE FROM filter_keywords WHERE id = $1 AND filter_id = $2",
                        change.id,
                        filter_id,
                    )
                else:
                    await tx.execute(
                        "UPDATE filter_keywords SET keyword = COALESCE($1, keyword),"
                        " whole_word = COALESCE($2, whole_word) WHERE id = $3 AND filter_id = $4",
                        change.keyword,
                        change.whole_word,
                        change.id,
                        filter_id,
                    )
        return await self.get(account_id, filter_id)

    async def delete(self, account_id: int, filter_id: int) -> bool:
        deleted = await self._db.execute(
            "DELETE FROM filters WHERE id = $1 AND account_id = $2", filter_id, account_id
        )
        if deleted:
            await token_cache.changed(self._db)
        return deleted > 0

    # -- keywords --------------------------------------------------------------------------

    async def _add_keyword(
        self, conn: Connection, filter_id: int, keyword: str, whole_word: bool
    ) -> FilterKeyword:
        row = await conn.fetchrow(
            "INSERT INTO filter_keywords (id, filter_id, keyword, whole_word) VALUES ($1, $2, $3, $4)"
            " RETURNING *",
            new_id(),
            filter_id,
            keyword,
            whole_word,
        )
        assert row is not None
        return build(FilterKeyword, row)

    async def add_keyword(self, filter_id: int, keyword: str, whole_word: bool) -> FilterKeyword:
        return await self._add_keyword(self._db, filter_id, keyword, whole_word)

    async def keyword(self, account_id: int, keyword_id: int) -> FilterKeyword | None:
        """A keyword of one of the account's filters."""
        row = await self._db.fetchrow(
            "SELECT k.* FROM filter_keywords k JOIN filters f ON f.id = k.filter_id"
            " WHERE k.id = $1 AND f.account_id = $2",
            keyword_id,
            account_id,
        )
        return build_opt(FilterKeyword, row)

    async def update_keyword(
        self, keyword_id: int, *, keyword: str | None, whole_word: bool | None
    ) -> FilterKeyword | None:
        row = await self._db.fetchrow(
            "UPDATE filter_keywords SET keyword = COALESCE($1, keyword), whole_word = COALESCE($2, whole_word)"
            " WHERE id = $3 RETURNING *",
            keyword,
            whole_word,
            keyword_id,
        )
        return build_opt(FilterKeyword, row)

    async def delete_keyword(self, keyword_id: int) -> None:
        await self._db.execute("DELETE FROM filter_keywords WHERE id = $1", keyword_id)

    # -- statuses --------------------------------------------------------------------------

    async def statuses(self, filter_ids: Sequence[int]) -> list[FilterStatus]:
        if not filter_ids:
            return []
        marks = ", ".join(f"${i}" for i in range(1, len(filter_ids) + 1))
        rows = await self._db.fetch(
            f"SELECT * FROM filter_statuses WHERE filter_id IN ({marks}) ORDER BY id", *filter_ids
        )
        return build_all(FilterStatus, rows)

    async def add_status(self, filter_id: int, status_id: int) -> FilterStatus:
        row = await self._db.fetchrow(
            "INSERT INTO filter_statuses (id, filter_id, status_id, created_at) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT (filter_id, status_id) DO UPDATE SET filter_id = excluded.filter_id"
            " RETURNING *",
            new_id(),
            filter_id,
            status_id,
            now_ms(),
        )
        assert row is not None
        return build(FilterStatus, row)

    async def status(self, account_id: int, filter_status_id: int) -> FilterStatus | None:
        row = await self._db.fetchrow(
            "SELECT fs.* FROM filter_statuses fs JOIN filters f ON f.id = fs.filter_id"
            " WHERE fs.id = $1 AND f.account_id = $2",
            filter_status_id,
            account_id,
        )
        return build_opt(FilterStatus, row)

    async def delete_status(self, filter_status_id: int) -> None:
        await self._db.execute("DELETE FROM filter_statuses WHERE id = $1", filter_status_id)
