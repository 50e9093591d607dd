"""Reads and writes the client API needs beyond the core repositories: batch loading of a
viewer's marks on many statuses, poll votes, private notes, featured tags, idempotency keys,
relationships for many accounts in a few queries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from storage.db import Database
from storage.errors import Conflict, NotFound
from storage.ids import new_id, now_ms
from storage.models import Account, Follow, Mute, OAuthApp, Poll, Status, Tag
from storage.paging import Page
from storage.rows import build, build_all, build_opt, dumps
from storage.statuses import NOT_BLOCKED, NOT_MUTED, VISIBLE_TO, normalize_tag


def _marks(start: int, count: int) -> str:
    return ", ".join(f"${i}" for i in range(start, start + count))


@dataclass(frozen=True, slots=True)
class ViewerMarks:
    favourited: set[int]
    reblogged: set[int]
    bookmarked: set[int]
    pinned: set[int]


@dataclass(frozen=True, slots=True)
class RelationshipRow:
    following: Follow | None
    followed_by: bool
    requested: bool
    requested_by: bool
    blocking: bool
    blocked_by: bool
    muting: Mute | None
    note: str


@dataclass(frozen=True, slots=True)
class FeaturedTag:
    id: int
    tag: Tag
    statuses_count: int
    last_status_at: int | None


class ClientApiStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- batch reads for rendering ----------------------------------------------------------

    async def viewer_marks(self, account_id: int, status_ids: Sequence[int]) -> ViewerMarks:
        """Favourited / reblogged / bookmarked / pinned among the statuses, in one query."""
        marks = ViewerMarks(set(), set(), set(), set())
        if not status_ids:
            return marks
        ids = list(dict.fromkeys(status_ids))
        m = _marks(2, len(ids))
        rows = await self._db.fetch(
            f"SELECT 'f' AS k, status_id AS sid FROM favourites WHERE account_id = $1 AND status_id IN ({m})"
            f" UNION ALL SELECT 'b', status_id FROM bookmarks WHERE account_id = $1 AND status_id IN ({m})"
            f" UNION ALL SELECT 'p', status_id FROM status_pins WHERE account_id = $1 AND status_id IN ({m})"
            f" UNION ALL SELECT 'r', reblog_of_id FROM statuses WHERE account_id = $1 AND reblog_of_id IN ({m})",
            account_id,
            *ids,
        )
        target = {
            "f": marks.favourited,
            "b": marks.bookmarked,
            "p": marks.pinned,
            "r": marks.reblogged,
        }
        for r in rows:
            target[r["k"]].add(int(r["sid"]))
        return marks

    async def apps_many(self, app_ids: Sequence[int]) -> dict[int, OAuthApp]:
        ids = list(dict.fromkeys(app_ids))
        if not ids:
            return {}
        rows = await self._db.fetch(
            f"SELECT * FROM oauth_apps WHERE id IN ({_marks(1, len(ids))})", *ids
        )
        return {a.id: a for a in build_all(OAuthApp, rows)}

    async def poll_votes_of(self, account_id: int, poll_ids: Sequence[int]) -> dict[int, list[int]]:
        ids = list(dict.fromkeys(poll_ids))
        if not ids:
            return {}
        rows = await self._db.fetch(
            f"SELECT poll_id, choice FROM poll_votes WHERE account_id = $1 AND poll_id IN ({_marks(2, len(ids))})"
            " ORDER BY choice",
            account_id,
            *ids,
        )
        out: dict[int, list[int]] = {}
        for r in rows:
            out.setdefault(int(r["poll_id"]), []).append(int(r["choice"]))
        return out

    async def hidden_authors(self, viewer_id: int, account_ids: Sequence[int]) -> set[int]:
        """Which of the accounts the viewer blocks, is blocked by, or mutes (unexpired)."""
        ids = list(dict.fromkeys(account_ids))
        if not ids:
            return set()
        m = _marks(3, len(ids))
        rows = await self._db.fetch(
            f"SELECT target_account_id AS aid FROM blocks WHERE account_id = $1 AND target_account_id IN ({m})"
            f" UNION SELECT account_id FROM blocks WHERE target_account_id = $1 AND account_id IN ({m})"
            f" UNION SELECT target_account_id FROM mutes WHERE account_id = $1 AND target_account_id IN ({m})"
            " AND (expires_at IS NULL OR expires_at > $2)",
            viewer_id,
            now_ms(),
            *ids,
        )
        return {int(r["aid"]) for r in rows}

    async def follows_of(self, viewer_id: int, account_ids: Sequence[int]) -> set[int]:
        """Which of the accounts the viewer follows."""
        ids = list(dict.fromkeys(account_ids))
        if not ids:
            return set()
        rows = await self._db.fetch(
            f"SELECT target_account_id FROM follows WHERE account_id = $1 AND target_account_id IN ({_marks(2, len(ids))})",
            viewer_id,
            *ids,
        )
        return {int(r["target_account_id"]) for r in rows}

    async def relationships(
        self, account_id: int, target_ids: Sequence[int]
    ) -> dict[int, RelationshipRow]:
        """Relationships with many accounts in six queries, whatever their number."""
        ids = list(dict.fromkeys(target_ids))
        if not ids:
            return {}
        m = _marks(2, len(ids))
        following = {
            f.target_account_id: f
            for f in build_all(
                Follow,
                await self._db.fetch(
                    f"SELECT * FROM follows WHERE account_id = $1 AND target_account_id IN ({m})",
                    account_id,
                    *ids,
                ),
            )
        }
        followed_by = {
            int(r["account_id"])
            for r in await self._db.fetch(
                f"SELECT account_id FROM follows WHERE target_account_id = $1 AND account_id IN ({m})",
                account_id,
                *ids,
            )
        }
        req_rows = await self._db.fetch(
            f"SELECT account_id, target_account_id FROM follow_requests WHERE (account_id = $1 AND target_account_id IN ({m}))"
            f" OR (target_account_id = $1 AND account_id IN ({m}))",
            account_id,
            *ids,
        )
        requested = {
            int(r["target_account_id"]) for r in req_rows if int(r["account_id"]) == account_id
        }
        requested_by = {
            int(r["account_id"]) for r in req_rows if int(r["target_account_id"]) == account_id
        }
        block_rows = await self._db.fetch(
            f"SELECT account_id, target_account_id FROM blocks WHERE (account_id = $1 AND target_account_id IN ({m}))"
            f" OR (target_account_id = $1 AND account_id IN ({m}))",
            account_id,
            *ids,
        )
        blocking = {
            int(r["target_account_id"]) for r in block_rows if int(r["account_id"]) == account_id
        }
        blocked_by = {
            int(r["account_id"]) for r in block_rows if int(r["target_account_id"]) == account_id
        }
        mutes = {
            mu.target_account_id: mu
            for mu in build_all(
                Mute,
                await self._db.fetch(
                    f"SELECT * FROM mutes WHERE account_id = $1 AND target_account_id IN ({m})"
                    f" AND (expires_at IS NULL OR expires_at > ${len(ids) + 2})",
                    account_id,
                    *ids,
                    now_ms(),
                ),
            )
        }
        notes = {
            int(r["target_account_id"]): str(r["comment"])
            for r in await self._db.fetch(
                f"SELECT target_account_id, comment FROM account_notes WHERE account_id = $1 AND target_account_id IN ({m})",
                account_id,
                *ids,
            )
        }
        return {
            t: RelationshipRow(
                following=following.get(t),
                followed_by=t in followed_by,
                requested=t in requested,
                requested_by=t in requested_by,
                blocking=t in blocking,
                blocked_by=t in blocked_by,
                muting=mutes.get(t),
                note=notes.get(t, ""),
            )
            for t in ids
        }

    async def familiar_followers(
        self, viewer_id: int, account_id: int, limit: int = 10
    ) -> list[Account]:
        """Accounts the viewer follows that follow ``account_id``."""
        rows = await self._db.fetch(
            "SELECT a.* FROM follows f1 JOIN follows f2 ON f2.account_id = f1.target_account_id"
            " JOIN accounts a ON a.id = f1.target_account_id"
            " WHERE f1.account_id = $1 AND f2.target_account_id = $2 AND NOT a.suspended"
            " ORDER BY f2.id DESC LIMIT $3",
            viewer_id,
            account_id,
            limit,
        )
        return build_all(Account, rows)

    async def last_read_id(self, account_id: int, timeline: str) -> int:
        value = await self._db.fetchval(
            "SELECT last_read_id FROM markers WHERE account_id = $1 AND timeline = $2",
            account_id,
            timeline,
        )
        return int(value) if isinstance(value, str) and value.isdigit() else 0

    async def home_window(self, account_id: int, page: Page, floor_id: int) -> list[Status]:
        """The home timeline among statuses newer than ``floor_id``, newest first.

        Scans statuses by id (newest first) and keeps those of followed accounts, rather than
        gathering every status of every followed account and sorting: with hundreds of
        follows this stops after a few hundred rows. The floor bounds the scan for viewers
        whose follows rarely post; callers fall back to ``StatusStore.home_timeline`` when
        the window holds less than a page.
        """
        args: list[Any] = [account_id, now_ms(), floor_id]
        where = [
            "s.id > $3",
            # The unary plus keeps the planner on the id order instead of the account index.
            "(s.account_id = $1 OR +s.account_id IN (SELECT target_account_id FROM follows WHERE account_id = $1))",
            VISIBLE_TO,
            NOT_MUTED,
            NOT_BLOCKED,
            "(s.reblog_of_id IS NULL OR s.account_id = $1 OR EXISTS (SELECT 1 FROM follows fr"
            " WHERE fr.account_id = $1 AND fr.target_account_id = s.account_id AND fr.show_reblogs))",
        ]
        if page.max_id is not None:
            args.append(page.max_id)
            where.append(f"s.id < ${len(args)}")
        if page.since_id is not None:
            args.append(page.since_id)
            where.append(f"s.id > ${len(args)}")
        args.append(page.limit)
        rows = await self._db.fetch(
            f"SELECT s.* FROM statuses s WHERE {' AND '.join(where)} ORDER BY s.id DESC LIMIT ${len(args)}",
            *args,
        )
        return build_all(Status, rows)

    # -- notes ----------------------------------------------------------------------------

    async def set_note(self, account_id: int, target_id: int, comment: str) -> None:
        if comment:
            await self._db.execute(
                "INSERT INTO account_notes (account_id, target_account_id, comment, updated_at) VALUES ($1,$2,$3,$4)"
                " ON CONFLICT (account_id, target_account_id) DO UPDATE SET comment = excluded.comment,"
                " updated_at = excluded.updated_at",
                account_id,
                target_id,
                comment,
                now_ms(),
            )
        else:
            await self._db.execute(
                "DELETE FROM account_notes WHERE account_id = $1 AND target_account_id = $2",
                account_id,
                target_id,
            )

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

    async def feature_tag(self, account_id: int, name: str) -> int:
        norm = normalize_tag(name)
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

    # -- idempotency ----------------------------------------------------------------------

    async def idempotent_status(self, account_id: int, key: str) -> int | None:
        value = await self._db.fetchval(
            "SELECT status_id FROM idempotency_keys WHERE account_id = $1 AND key = $2 AND created_at > $3",
            account_id,
            key,
            now_ms() - 3_600_000,
        )
        return None if value is None else int(value)

    async def remember_idempotent(self, account_id: int, key: str, status_id: int) -> None:
        await self._db.execute(
            "INSERT INTO idempotency_keys (account_id, key, status_id, created_at) VALUES ($1,$2,$3,$4)"
            " ON CONFLICT (account_id, key) DO UPDATE SET status_id = excluded.status_id,"
            " created_at = excluded.created_at",
            account_id,
            key,
            status_id,
            now_ms(),
        )

    # -- polls ----------------------------------------------------------------------------

    async def poll(self, poll_id: int) -> Poll | None:
        return build_opt(
            Poll, await self._db.fetchrow("SELECT * FROM polls WHERE id = $1", poll_id)
        )

    async def vote(self, poll_id: int, account_id: int, choices: Sequence[int]) -> Poll:
        """Record a local vote and move the counts; Conflict when the account already voted."""
        async with self._db.transaction() as tx:
            row = await tx.fetchrow("SELECT * FROM polls WHERE id = $1", poll_id)
            if row is None:
                raise NotFound("poll")
            poll = build(Poll, row)
            if await tx.fetchval(
                "SELECT 1 FROM poll_votes WHERE poll_id = $1 AND account_id = $2",
                poll_id,
                account_id,
            ):
                raise Conflict("You have already voted on this poll")
            votes = list(poll.votes) + [0] * (len(poll.options) - len(poll.votes))
            for choice in dict.fromkeys(choices):
                await tx.execute(
                    "INSERT INTO poll_votes (id, poll_id, account_id, choice, created_at) VALUES ($1,$2,$3,$4,$5)",
                    new_id(),
                    poll_id,
                    account_id,
                    choice,
                    now_ms(),
                )
                votes[choice] += 1
            updated = await tx.fetchrow(
                "UPDATE polls SET votes = $1, voters_count = voters_count + 1 WHERE id = $2 RETURNING *",
                dumps(votes),
                poll_id,
            )
            assert updated is not None
            return build(Poll, updated)

    # -- statuses -------------------------------------------------------------------------

    async def status_by_id_or_none(self, status_id: int) -> Status | None:
        return build_opt(
            Status, await self._db.fetchrow("SELECT * FROM statuses WHERE id = $1", status_id)
        )

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

    async def weekly_activity(self, weeks: int = 12) -> list[dict[str, Any]]:
        """Local statuses, logins (token use) and registrations per week, newest first."""
        week = 7 * 86_400_000
        now = now_ms()
        start = now - now % week
        out = []
        for i in range(weeks):
            lo, hi = start - i * week, start - i * week + week
            statuses = await self._db.fetchval(
                "SELECT COUNT(*) FROM statuses WHERE local AND id >= $1 AND id < $2",
                lo << 16,
                hi << 16,
            )
            logins = await self._db.fetchval(
                "SELECT COUNT(DISTINCT user_id) FROM oauth_tokens WHERE last_used_at >= $1 AND last_used_at < $2",
                lo,
                hi,
            )
            registrations = await self._db.fetchval(
                "SELECT COUNT(*) FROM users WHERE created_at >= $1 AND created_at < $2", lo, hi
            )
            out.append(
                {
                    "week": lo // 1000,
                    "statuses": int(statuses or 0),
                    "logins": int(logins or 0),
                    "registrations": int(registrations or 0),
                }
            )
        return out
