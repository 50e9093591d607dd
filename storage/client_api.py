"""Reads and writes the client API needs beyond the core repositories: batch loading of a
viewer's marks on many statuses, poll votes, private notes, featured tags, idempotency keys,
relationships for many accounts in a few queries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from storage.db import Database, Row
from storage.errors import Conflict, NotFound
from storage.ids import new_id, now_ms
from storage.models import Account, Follow, Mute, OAuthApp, Poll, Status, Tag
from storage.paging import Page
from storage.rows import build, build_all, build_opt, dumps
from storage.statuses import (
    HOME_RULE,
    normalize_tag,
    not_blocked,
    visible_to,
)


def _marks(start: int, count: int) -> str:
    return ", ".join(f"${i}" for i in range(start, start + count))


@dataclass(frozen=True, slots=True)
class ViewerMarks:
    favourited: set[int]
    reblogged: set[int]
    bookmarked: set[int]
    pinned: set[int]


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One timeline row: a status or a reblog, the revisions of what it shows, the viewer's
    marks on the status shown (the reblogged one for a reblog).

    ``version`` / ``reblog_version`` change whenever anything rendered from the status (its
    row, poll, mentions, tags, media), its author or its mentioned accounts changes; equal
    versions mean an equal rendering. ``shown`` is False for a reblog of a status the viewer
    may not see, or whose author the viewer blocks, is blocked by or mutes: its id still
    counts for paging.
    """

    id: int
    account_id: int
    reblog_of_id: int | None
    version: tuple[int | None, ...]
    reblog_version: tuple[int | None, ...] | None
    shown: bool
    favourited: bool
    reblogged: bool
    bookmarked: bool
    pinned: bool
    muted: bool  # the conversation of the status shown
    own_muted: bool  # the conversation of the row itself (a reblog's own)


def _status_version(alias: str, author: str) -> str:
    s, a = alias, author
    return (
        f"{s}.rev AS {s}_rev, {s}.replies_count AS {s}_rc, {s}.reblogs_count AS {s}_bc,"
        f" {s}.favourites_count AS {s}_fc, {a}.rev AS {a}_rev, {a}.statuses_count AS {a}_sc,"
        f" {a}.followers_count AS {a}_frc, {a}.following_count AS {a}_fgc,"
        f" {a}.last_status_at AS {a}_lsa,"
        f" (SELECT CAST(COALESCE(SUM(ma.rev), 0) AS BIGINT) FROM mentions m JOIN accounts ma ON ma.id = m.account_id"
        f"  WHERE m.status_id = {s}.id) AS {s}_mrev"
    )


def _viewer_marks(shown: str) -> str:
    x = shown
    return (
        f"EXISTS (SELECT 1 FROM favourites vf WHERE vf.account_id = $1 AND vf.status_id = {x}) AS fav,"
        # statuses_account_reblog: one probe, however many statuses the viewer has.
        f" EXISTS (SELECT 1 FROM statuses vr WHERE vr.account_id = $1 AND vr.reblog_of_id = {x}) AS reb,"
        f" EXISTS (SELECT 1 FROM bookmarks vb WHERE vb.account_id = $1 AND vb.status_id = {x}) AS bm,"
        f" EXISTS (SELECT 1 FROM status_pins vp WHERE vp.account_id = $1 AND vp.status_id = {x}) AS pin"
    )


def _conversation_muted(alias: str) -> str:
    return (
        f"({alias}.conversation <> '' AND EXISTS (SELECT 1 FROM conversation_mutes cm"
        f" WHERE cm.account_id = $1 AND cm.conversation = {alias}.conversation))"
    )


_ENTRY_COLUMNS = (
    "s.id, s.account_id, s.reblog_of_id, r.id AS r_id, "
    + _status_version("s", "a")
    + ", "
    + _status_version("r", "ra")
    + ", "
    + _viewer_marks("COALESCE(r.id, s.id)")
    + f", (r.id IS NOT NULL AND {visible_to('r')} AND {not_blocked('r')}"
    " AND NOT EXISTS (SELECT 1 FROM mutes rmu WHERE rmu.account_id = $1"
    " AND rmu.target_account_id = r.account_id AND (rmu.expires_at IS NULL OR rmu.expires_at > $2)))"
    " AS r_shown, "
    + _conversation_muted("r")
    + " AS r_muted, "
    + _conversation_muted("s")
    + " AS s_muted"
)


def _version(r: Row, s: str, a: str) -> tuple[int | None, ...]:
    return (
        r[f"{s}_rev"], r[f"{s}_rc"], r[f"{s}_bc"], r[f"{s}_fc"], r[f"{s}_mrev"],
        r[f"{a}_rev"], r[f"{a}_sc"], r[f"{a}_frc"], r[f"{a}_fgc"], r[f"{a}_lsa"],
    )  # fmt: skip


def _entry(r: Row) -> TimelineEntry:
    reblog_of = r["reblog_of_id"]
    own_muted = bool(r["s_muted"])
    if reblog_of is None:
        return TimelineEntry(
            id=int(r["id"]),
            account_id=int(r["account_id"]),
            reblog_of_id=None,
            version=_version(r, "s", "a"),
            reblog_version=None,
            shown=True,
            favourited=bool(r["fav"]),
            reblogged=bool(r["reb"]),
            bookmarked=bool(r["bm"]),
            pinned=bool(r["pin"]),
            muted=own_muted,
            own_muted=own_muted,
        )
    shown = bool(r["r_shown"])
    return TimelineEntry(
        id=int(r["id"]),
        account_id=int(r["account_id"]),
        reblog_of_id=int(reblog_of),
        version=_version(r, "s", "a"),
        reblog_version=_version(r, "r", "ra") if shown else None,
        shown=shown,
        favourited=bool(r["fav"]),
        reblogged=bool(r["reb"]),
        bookmarked=bool(r["bm"]),
        pinned=bool(r["pin"]),
        muted=bool(r["r_muted"]),
        own_muted=own_muted,
    )


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

    async def home_entries(
        self, account_id: int, page: Page, floor_id: int | None = None
    ) -> list[TimelineEntry]:
        """The home timeline's rows for one page, with what rendering them needs to know.

        The home timeline is ``HOME_RULE`` (own statuses, those of followed accounts, those
        mentioning the account, public ones with a followed tag; visibility applied), the
        same rule ``StatusStore.home_timeline`` returns statuses by. The page is read through
        the account's ``home_feed`` rows, newest first on their primary key, each checked
        against the rule: the feed is an index written on fan-out, never the authority.
        With ``floor_id`` only statuses newer than it are considered.

        One query: the page of ids (an inner query whose plan is the feed range scan), then
        for those rows only, the revisions and counters of the statuses and accounts they
        show and the viewer's marks on them.
        """
        args: list[Any] = [account_id, now_ms()]
        where = ["h.account_id = $1"]
        if floor_id is not None:
            args.append(floor_id)
            where.append(f"h.status_id > ${len(args)}")
        cond, order, ascending = page.clauses("h.status_id", args)
        # The limit is written out, not a parameter: PostgreSQL then plans the statement
        # once (a generic plan costed for this limit) instead of planning every execution
        # (~4 ms each), which it does when an unknown LIMIT makes the generic plan look dear.
        ids = (
            "SELECT s.id FROM home_feed h JOIN statuses s ON s.id = h.status_id"
            f" WHERE {' AND '.join(where)} AND {cond} AND {HOME_RULE}"
            f" ORDER BY {order} LIMIT {int(page.limit)}"
        )
        rows = await self._db.fetch(
            f"SELECT {_ENTRY_COLUMNS} FROM ({ids}) p"
            " JOIN statuses s ON s.id = p.id JOIN accounts a ON a.id = s.account_id"
            " LEFT JOIN statuses r ON r.id = s.reblog_of_id"
            " LEFT JOIN accounts ra ON ra.id = r.account_id"
            f" ORDER BY s.id {'ASC' if ascending else 'DESC'}",
            *args,
        )
        entries = [_entry(r) for r in rows]
        if ascending:
            entries.reverse()
        return entries

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
            await tx.execute("UPDATE statuses SET rev = rev + 1 WHERE id = $1", poll.status_id)
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
