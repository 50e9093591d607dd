"""Hashtags as things people follow and search for; usage history for the Tag entity."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from storage.db import Database
from storage.errors import Conflict, NotFound
from storage.ids import id_floor, new_id, now_ms
from storage.models import Tag
from storage.paging import Page
from storage.rows import build, build_all, build_opt
from storage.status_sql import FOLLOWED_TAG_CLAUSE, normalize_tag

__all__ = ["FOLLOWED_TAG_CLAUSE", "FeaturedTag", "TagDay", "TagStore"]

_DAY_MS = 86_400_000
# How many of a tag's newest statuses a new follower of it gets in its home feed.
FEED_BACKFILL = 400


@dataclass(frozen=True, slots=True)
class TagDay:
    day: int  # midnight UTC, milliseconds
    uses: int
    accounts: int


@dataclass(frozen=True, slots=True)
class FeaturedTag:
    id: int
    tag: Tag
    statuses_count: int
    last_status_at: int | None


class TagStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, name: str) -> Tag | None:
        row = await self._db.fetchrow("SELECT * FROM tags WHERE name = $1", normalize_tag(name))
        return build_opt(Tag, row)

    async def get_or_create(self, name: str, *, key: str | None = None) -> Tag:
        """The tag by ``key`` (default: ``name`` NFC, case-folded); created with ``name`` as
        its display form."""
        key = normalize_tag(key if key is not None else name)
        found = await self.get(key)
        if found is not None:
            return found
        await self._db.execute(
            "INSERT INTO tags (id, name, display_name, created_at) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT DO NOTHING",
            new_id(),
            key,
            name.lstrip("#"),
            now_ms(),
        )
        created = await self.get(key)
        assert created is not None
        return created

    async def search(self, query: str, *, limit: int = 20, offset: int = 0) -> list[Tag]:
        """Tags starting with the query, the most used first."""
        key = normalize_tag(query).replace("%", "").replace("_", "")
        if not key:
            return []
        rows = await self._db.fetch(
            "SELECT t.* FROM tags t WHERE t.name LIKE $1"
            " ORDER BY (t.name = $2) DESC,"
            " (SELECT COUNT(*) FROM status_tags st WHERE st.tag_id = t.id) DESC, t.name"
            " LIMIT $3 OFFSET $4",
            key + "%",
            key,
            limit,
            offset,
        )
        return build_all(Tag, rows)

    # -- re-keying ---------------------------------------------------------------------------

    async def rekey(self, key: Callable[[str], str], version: int) -> int:
        """Give every tag the key ``key`` computes, once per ``version``: tags whose names
        now share a key become one (the oldest, keeping the display name first written), with
        the statuses, followers and featurings of all. Returns how many tags were merged away."""
        async with self._db.transaction() as tx:
            # Claims the re-keying: a second process waits on the row, then finds it done.
            claimed = await tx.execute(
                "UPDATE key_versions SET version = $1, updated_at = $2"
                " WHERE name = 'tags' AND version < $1",
                version,
                now_ms(),
            )
            if not claimed:
                return 0
            rows = await tx.fetch("SELECT id, name FROM tags ORDER BY created_at, id")
            groups: dict[str, list[int]] = {}
            renamed: list[tuple[int, str]] = []
            for r in rows:
                new = normalize_tag(key(str(r["name"])))
                if not new:
                    continue
                groups.setdefault(new, []).append(int(r["id"]))
                if new != r["name"]:
                    renamed.append((int(r["id"]), new))
            merged = 0
            for ids in groups.values():
                keeper, losers = ids[0], ids[1:]
                for loser in losers:
                    for table, other in (
                        ("status_tags", "status_id"),
                        ("followed_tags", "account_id"),
                        ("featured_tags", "account_id"),
                    ):
                        await tx.execute(
                            f"UPDATE {table} SET tag_id = $1 WHERE tag_id = $2 AND NOT EXISTS"
                            f" (SELECT 1 FROM {table} k WHERE k.tag_id = $1"
                            f" AND k.{other} = {table}.{other})",
                            keeper,
                            loser,
                        )
                        # What is left duplicated a row the keeper already has.
                        await tx.execute(f"DELETE FROM {table} WHERE tag_id = $1", loser)
                    await tx.execute("DELETE FROM tags WHERE id = $1", loser)
                    merged += 1
            gone = {i for ids in groups.values() for i in ids[1:]}
            keep = [(i, new) for i, new in renamed if i not in gone]
            # Two steps, so that no new name collides with an old one not yet renamed.
            for ident, _ in keep:
                await tx.execute("UPDATE tags SET name = $1 WHERE id = $2", f"#{ident}", ident)
            for ident, new in keep:
                await tx.execute("UPDATE tags SET name = $1 WHERE id = $2", new, ident)
            return merged

    # -- following ---------------------------------------------------------------------------

    async def follow(self, account_id: int, tag_id: int) -> None:
        """Follow a tag; a local follower gets the tag's recent statuses in its home feed."""
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO followed_tags (account_id, tag_id, created_at) VALUES ($1, $2, $3)"
                " ON CONFLICT DO NOTHING",
                account_id,
                tag_id,
                now_ms(),
            )
            await tx.execute(
                "INSERT INTO home_feed (account_id, status_id) SELECT CAST($1 AS BIGINT), x.status_id"
                " FROM (SELECT st.status_id FROM status_tags st WHERE st.tag_id = $2"
                f"  ORDER BY st.status_id DESC LIMIT {FEED_BACKFILL}) x"
                " WHERE EXISTS (SELECT 1 FROM accounts a WHERE a.id = $1 AND a.domain = '')"
                " ON CONFLICT DO NOTHING",
                account_id,
                tag_id,
            )

    async def unfollow(self, account_id: int, tag_id: int) -> None:
        await self._db.execute(
            "DELETE FROM followed_tags WHERE account_id = $1 AND tag_id = $2", account_id, tag_id
        )

    async def following(self, account_id: int, tag_ids: Sequence[int]) -> set[int]:
        if not tag_ids:
            return set()
        marks = ", ".join(f"${i}" for i in range(2, len(tag_ids) + 2))
        rows = await self._db.fetch(
            f"SELECT tag_id FROM followed_tags WHERE account_id = $1 AND tag_id IN ({marks})",
            account_id,
            *tag_ids,
        )
        return {int(r["tag_id"]) for r in rows}

    async def followed(self, account_id: int, page: Page) -> list[Tag]:
        """Tags the account follows, paged by tag id."""
        args: list[Any] = [account_id]
        cond, order, ascending = page.clauses("t.id", args)
        args.append(page.limit)
        rows = await self._db.fetch(
            "SELECT t.* FROM followed_tags ft JOIN tags t ON t.id = ft.tag_id"
            f" WHERE ft.account_id = $1 AND {cond} ORDER BY {order} LIMIT ${len(args)}",
            *args,
        )
        found = build_all(Tag, rows)
        if ascending:
            found.reverse()
        return found

    async def local_followers(self, tag_ids: Sequence[int]) -> set[int]:
        """Accounts following any of the tags (for routing a new status to home streams)."""
        if not tag_ids:
            return set()
        marks = ", ".join(f"${i}" for i in range(1, len(tag_ids) + 1))
        rows = await self._db.fetch(
            f"SELECT DISTINCT account_id FROM followed_tags WHERE tag_id IN ({marks})", *tag_ids
        )
        return {int(r["account_id"]) for r in rows}

    # -- usage -------------------------------------------------------------------------------

    async def history(self, tag_ids: Sequence[int], *, days: int = 7) -> dict[int, list[TagDay]]:
        """Per tag, uses and distinct accounts per UTC day, newest day first, ``days`` long."""
        now = now_ms()
        today = now - now % _DAY_MS
        start = today - (days - 1) * _DAY_MS
        out: dict[int, list[TagDay]] = {}
        if not tag_ids:
            return out
        marks = ", ".join(f"${i}" for i in range(2, len(tag_ids) + 2))
        rows = await self._db.fetch(
            "SELECT st.tag_id, s.created_at, s.account_id FROM status_tags st"
            " JOIN statuses s ON s.id = st.status_id"
            f" WHERE st.status_id >= $1 AND st.tag_id IN ({marks})",
            id_floor(start),
            *tag_ids,
        )
        counts: dict[tuple[int, int], tuple[int, set[int]]] = {}
        for r in rows:
            day = int(r["created_at"]) - int(r["created_at"]) % _DAY_MS
            if day < start:
                continue
            uses, accounts = counts.get((int(r["tag_id"]), day), (0, set()))
            accounts.add(int(r["account_id"]))
            counts[(int(r["tag_id"]), day)] = (uses + 1, accounts)
        for tag_id in tag_ids:
            out[tag_id] = [
                TagDay(
                    day=day,
                    uses=counts.get((tag_id, day), (0, set()))[0],
                    accounts=len(counts.get((tag_id, day), (0, set()))[1]),
                )
                for day in range(today, start - 1, -_DAY_MS)
            ]
        return out

    async def trending_tags(self, since_ms: int, limit: int = 10) -> list[tuple[Tag, int, int]]:
        """(tag, uses, accounts) for tags on public statuses since ``since_ms``, most used first."""
        rows = await self._db.fetch(
            "SELECT t.*, COUNT(*) AS uses, COUNT(DISTINCT s.account_id) AS accounts"
            " FROM status_tags st JOIN statuses s ON s.id = st.status_id JOIN tags t ON t.id = st.tag_id"
            " WHERE s.id >= $1 AND s.visibility = 'public' GROUP BY t.id, t.name, t.display_name, t.created_at"
            " ORDER BY COUNT(DISTINCT s.account_id) DESC, COUNT(*) DESC LIMIT $2",
            since_ms << 16,
            limit,
        )
        return [(build(Tag, r), int(r["uses"]), int(r["accounts"])) for r in rows]

    # -- featured tags ----------------------------------------------------------------------

    async def featured_tags(self, account_id: int) -> list[FeaturedTag]:
        rows = await self._db.fetch(
            "SELECT ft.id AS ft_id, t.*,"
            " (SELECT COUNT(*) FROM status_tags st JOIN statuses s ON s.id = st.status_id"
            "   WHERE st.tag_id = t.id AND s.account_id = ft.account_id AND s.visibility IN ('public', 'unlisted')) AS n,"
            " (SELECT MAX(s.created_at) FROM status_tags st JOIN statuses s ON s.id = st.status_id"
            "   WHERE st.tag_id = t.id AND s.account_id = ft.account_id AND s.visibility IN ('public', 'unlisted')) AS last_at"
            " FROM featured_tags ft JOIN tags t ON t.id = ft.tag_id WHERE ft.account_id = $1 ORDER BY ft.id",
            account_id,
        )
        return [
            FeaturedTag(
                id=int(r["ft_id"]),
                tag=build(Tag, r),
                statuses_count=int(r["n"] or 0),
                last_status_at=None if r["last_at"] is None else int(r["last_at"]),
            )
            for r in rows
        ]

    async def feature_tag(self, account_id: int, name: str, *, key: str | None = None) -> int:
        norm = normalize_tag(key if key is not None else name)
        if not norm:
            raise NotFound("tag")
        async with self._db.transaction() as tx:
            tag_id = await tx.fetchval("SELECT id FROM tags WHERE name = $1", norm)
            if tag_id is None:
                tag_id = new_id()
                await tx.execute(
                    "INSERT INTO tags (id, name, display_name, created_at) VALUES ($1, $2, $3, $4)",
                    tag_id,
                    norm,
                    name.lstrip("#"),
                    now_ms(),
                )
            row = await tx.fetchrow(
                "INSERT INTO featured_tags (id, account_id, tag_id, created_at) VALUES ($1,$2,$3,$4)"
                " ON CONFLICT (account_id, tag_id) DO NOTHING RETURNING id",
                new_id(),
                account_id,
                tag_id,
                now_ms(),
            )
            if row is None:
                raise Conflict("tag is already featured")
            return int(row["id"])

    async def unfeature_tag(self, account_id: int, featured_id: int) -> bool:
        return (
            await self._db.execute(
                "DELETE FROM featured_tags WHERE id = $1 AND account_id = $2",
                featured_id,
                account_id,
            )
            > 0
        )
