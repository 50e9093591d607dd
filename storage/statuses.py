"""Statuses, their mentions, tags, media, polls, edits; the timelines read from them."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from storage.db import Connection, Database
from storage.errors import NotFound
from storage.ids import new_id, now_ms
from storage.models import (
    MediaAttachment,
    Mention,
    Poll,
    Status,
    StatusEdit,
    Tag,
)
from storage.paging import Page
from storage.rows import build, build_all, build_opt, dumps


def normalize_tag(name: str) -> str:
    """Tags compare NFC-normalised and case-folded, in every script."""
    return unicodedata.normalize("NFC", name.lstrip("#")).casefold()


# Public and hashtag timelines leave out accounts an admin silenced or suspended (Mastodon's
# TagFeed is a PublicFeed).
_AUTHOR_NOT_LIMITED = (
    "NOT EXISTS (SELECT 1 FROM accounts pa WHERE pa.id = s.account_id"
    " AND (pa.silenced OR pa.suspended))"
)


@dataclass(frozen=True, slots=True)
class NewPoll:
    options: list[str]
    multiple: bool = False
    hide_totals: bool = False
    expires_at: int | None = None
    votes: list[int] | None = None
    voters_count: int = 0


@dataclass(frozen=True, slots=True)
class NewStatus:
    account_id: int
    local: bool
    uri: str = ""  # '' → filled from uri_template with the new id
    url: str = ""
    content: str = ""
    text: str = ""
    spoiler_text: str = ""
    sensitive: bool = False
    visibility: str = "public"
    language: str | None = None
    in_reply_to_id: int | None = None
    in_reply_to_uri: str | None = None
    in_reply_to_account_id: int | None = None
    reblog_of_id: int | None = None
    conversation: str | None = None
    emojis: list[dict[str, Any]] = field(default_factory=list)
    application_id: int | None = None
    mentions: Sequence[int] = ()
    tags: Sequence[str] = ()
    media_ids: Sequence[int] = ()
    poll: NewPoll | None = None
    created_at: int | None = None


def visible_to(alias: str) -> str:
    """Whether ``$1`` (the viewer, or -1 for anonymous) may see the status row ``alias``."""
    s = alias
    return (
        f"({s}.visibility IN ('public', 'unlisted')"
        f" OR {s}.account_id = $1"
        f" OR ({s}.visibility = 'private' AND EXISTS (SELECT 1 FROM follows f"
        f"     WHERE f.account_id = $1 AND f.target_account_id = {s}.account_id))"
        f" OR EXISTS (SELECT 1 FROM mentions mv WHERE mv.status_id = {s}.id AND mv.account_id = $1))"
    )


def not_blocked(alias: str) -> str:
    """No block either way between ``$1`` and the author of the status row ``alias``."""
    s = alias
    return (
        f"NOT EXISTS (SELECT 1 FROM blocks b WHERE (b.account_id = $1 AND b.target_account_id = {s}.account_id)"
        f" OR (b.account_id = {s}.account_id AND b.target_account_id = $1))"
    )


VISIBLE_TO = visible_to("s")
NOT_BLOCKED = not_blocked("s")
NOT_MUTED = "NOT EXISTS (SELECT 1 FROM mutes mu WHERE mu.account_id = $1 AND mu.target_account_id = s.account_id AND (mu.expires_at IS NULL OR mu.expires_at > $2))"

# For the home timeline: public statuses carrying a tag the viewer ($1) follows.
FOLLOWED_TAG_CLAUSE = (
    "(s.visibility = 'public' AND s.reblog_of_id IS NULL AND EXISTS (SELECT 1 FROM status_tags fst"
    " JOIN followed_tags fft ON fft.tag_id = fst.tag_id WHERE fst.status_id = s.id AND fft.account_id = $1))"
)

# The home timeline of $1 (now: $2), for the status row ``s``: its own statuses, those of
# accounts it follows (their reblogs only where the follow shows reblogs), those mentioning
# it and public ones with a tag it follows; visibility, blocks and mutes applied. This is the
# authority: ``home_feed`` is only the index the page is read through.
HOME_RULE = (
    "(s.account_id = $1"
    " OR s.account_id IN (SELECT target_account_id FROM follows WHERE account_id = $1)"
    f" OR {FOLLOWED_TAG_CLAUSE})"
    f" AND {VISIBLE_TO} AND {NOT_MUTED} AND {NOT_BLOCKED}"
    " AND (s.reblog_of_id IS NULL OR s.account_id = $1 OR EXISTS (SELECT 1 FROM follows fr"
    " WHERE fr.account_id = $1 AND fr.target_account_id = s.account_id AND fr.show_reblogs))"
)

# Fan-out on write, one statement: the home feeds a status ($1, by $2) belongs in: its author
# if local, the author's local followers, local followers of its tags. As in Mastodon, a
# mention alone does not put a status in home (it notifies; a direct message shows in home
# only for mentioned followers of its author). Rows that the home rule then filters (a direct status in a follower's feed, a
# reblog where reblogs are hidden) cost nothing but their place in the index.
_FEED_FAN_OUT = (
    "INSERT INTO home_feed (account_id, status_id) SELECT x.aid, CAST($1 AS BIGINT) FROM ("
    " SELECT a.id AS aid FROM accounts a WHERE a.id = $2 AND a.domain = ''"
    " UNION SELECT f.account_id FROM follows f JOIN accounts fa ON fa.id = f.account_id"
    "  WHERE f.target_account_id = $2 AND fa.domain = ''"
    " UNION SELECT ft.account_id FROM status_tags st JOIN followed_tags ft ON ft.tag_id = st.tag_id"
    "  JOIN accounts ta ON ta.id = ft.account_id WHERE st.status_id = $1 AND ta.domain = ''"
    ") x WHERE TRUE ON CONFLICT DO NOTHING"
)


def _domains_excluded(domains: Sequence[str], args: list[Any]) -> str:
    """A condition leaving out statuses by accounts of the given domains (exact names)."""
    if not domains:
        return ""
    marks = ", ".join(f"${len(args) + i}" for i in range(1, len(domains) + 1))
    args.extend(domains)
    return (
        " AND NOT EXISTS (SELECT 1 FROM accounts xa WHERE xa.id = s.account_id"
        f" AND xa.domain IN ({marks}))"
    )


def public_where(
    viewer_id: int | None,
    *,
    local: bool | None,
    only_media: bool,
    exclude_domains: Sequence[str],
) -> tuple[str, list[Any]]:
    """The public timeline's condition on the status row ``s`` and its arguments
    (``$1`` the viewer or -1, ``$2`` now)."""
    args: list[Any] = [viewer_id if viewer_id is not None else -1, now_ms()]
    where = f"s.visibility = 'public' AND s.reblog_of_id IS NULL AND {_AUTHOR_NOT_LIMITED}"
    where += _domains_excluded(exclude_domains, args)
    if local is True:
        where += " AND s.local"
    elif local is False:
        where += " AND NOT s.local"
    if only_media:
        where += " AND EXISTS (SELECT 1 FROM media_attachments ma WHERE ma.status_id = s.id)"
    where += f" AND {NOT_BLOCKED} AND {NOT_MUTED}"
    return where, args


def tag_where(
    viewer_id: int | None,
    tags_any: Sequence[str],
    *,
    tags_all: Sequence[str],
    tags_none: Sequence[str],
    local: bool | None,
    only_media: bool,
    exclude_domains: Sequence[str],
) -> tuple[str, list[Any]]:
    """The hashtag timeline's condition on the status row ``s`` and its arguments."""
    args: list[Any] = [viewer_id if viewer_id is not None else -1, now_ms()]
    where = f"s.visibility = 'public' AND s.reblog_of_id IS NULL AND {_AUTHOR_NOT_LIMITED}"
    where += _domains_excluded(exclude_domains, args)

    def tag_exists(name: str) -> str:
        args.append(normalize_tag(name))
        return (
            "EXISTS (SELECT 1 FROM status_tags st JOIN tags t ON t.id = st.tag_id"
            f" WHERE st.status_id = s.id AND t.name = ${len(args)})"
        )

    if tags_any:
        where += " AND (" + " OR ".join(tag_exists(t) for t in tags_any) + ")"
    for t in tags_all:
        where += " AND " + tag_exists(t)
    for t in tags_none:
        where += " AND NOT " + tag_exists(t)
    if local is True:
        where += " AND s.local"
    if only_media:
        where += " AND EXISTS (SELECT 1 FROM media_attachments ma WHERE ma.status_id = s.id)"
    where += f" AND {NOT_BLOCKED} AND {NOT_MUTED}"
    return where, args


class StatusStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, new: NewStatus, *, uri_template: str = "") -> Status:
        """Insert a status with its mentions, tags, media and poll in one transaction.

        ``uri_template`` with ``{id}`` builds the uri (and url) of a local status from its id.
        """
        created = new.created_at or now_ms()
        ident = new_id() if new.created_at is None else new_id(created)
        uri = new.uri or uri_template.format(id=ident)
        url = new.url or (uri if not new.local else uri_template.format(id=ident))
        async with self._db.transaction() as tx:
            row = await tx.fetchrow(
                "INSERT INTO statuses (id, uri, url, account_id, local, in_reply_to_id, in_reply_to_uri,"
                " in_reply_to_account_id, reblog_of_id, conversation, content, text, spoiler_text,"
                " sensitive, visibility, language, emojis, application_id, created_at)"
                " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19)"
                " RETURNING *",
                ident,
                uri,
                url,
                new.account_id,
                new.local,
                new.in_reply_to_id,
                new.in_reply_to_uri,
                new.in_reply_to_account_id,
                new.reblog_of_id,
                new.conversation or uri,
                new.content,
                new.text,
                new.spoiler_text,
                new.sensitive,
                new.visibility,
                new.language,
                dumps(new.emojis),
                new.application_id,
                created,
            )
            assert row is not None
            await self._write_children(tx, ident, new)
            await tx.execute(_FEED_FAN_OUT, ident, new.account_id)
            await tx.execute(
                "UPDATE accounts SET statuses_count = statuses_count + 1, last_status_at = $1 WHERE id = $2",
                created,
                new.account_id,
            )
            if new.in_reply_to_id is not None:
                await tx.execute(
                    "UPDATE statuses SET replies_count = replies_count + 1 WHERE id = $1",
                    new.in_reply_to_id,
                )
            if new.reblog_of_id is not None:
                await tx.execute(
                    "UPDATE statuses SET reblogs_count = reblogs_count + 1 WHERE id = $1",
                    new.reblog_of_id,
                )
        return build(Status, row)

    async def _write_children(self, tx: Connection, status_id: int, new: NewStatus) -> None:
        for account_id in dict.fromkeys(new.mentions):
            await tx.execute(
                "INSERT INTO mentions (status_id, account_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                status_id,
                account_id,
            )
        # Matching uses the NFC case-folded name; a new tag keeps the form it was written in.
        written: dict[str, str] = {}
        for t in new.tags:
            if t.strip("#"):
                display = unicodedata.normalize("NFC", t.lstrip("#"))
                written.setdefault(normalize_tag(display), display)
        for tag, display in written.items():
            tag_id = await self._tag_id(tx, tag, display)
            await tx.execute(
                "INSERT INTO status_tags (status_id, tag_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                status_id,
                tag_id,
            )
        for position, media_id in enumerate(new.media_ids):
            await tx.execute(
                "UPDATE media_attachments SET status_id = $1, position = $2 WHERE id = $3 AND account_id = $4",
                status_id,
                position,
                media_id,
                new.account_id,
            )
        if new.poll is not None:
            votes = new.poll.votes or [0] * len(new.poll.options)
            await tx.execute(
                "INSERT INTO polls (id, status_id, options, votes, multiple, hide_totals, voters_count,"
                " expires_at, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)",
                new_id(),
                status_id,
                dumps(new.poll.options),
                dumps(votes),
                new.poll.multiple,
                new.poll.hide_totals,
                new.poll.voters_count,
                new.poll.expires_at,
                now_ms(),
            )

    async def _tag_id(self, conn: Connection, name: str, display: str) -> int:
        existing = await conn.fetchval("SELECT id FROM tags WHERE name = $1", name)
        if existing is not None:
            return int(existing)
        ident = new_id()
        await conn.execute(
            "INSERT INTO tags (id, name, display_name, created_at) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT DO NOTHING",
            ident,
            name,
            display,
            now_ms(),
        )
        return int(await conn.fetchval("SELECT id FROM tags WHERE name = $1", name))

    async def edit(
        self,
        status_id: int,
        *,
        content: str,
        text: str,
        spoiler_text: str,
        sensitive: bool,
        language: str | None,
        mentions: Sequence[int] = (),
        tags: Sequence[str] = (),
        media_ids: Sequence[int] | None = None,
        poll: NewPoll | None = None,
        edited_at: int | None = None,
    ) -> Status:
        """Record the previous version in the history, then apply the new one."""
        current = await self.get(status_id)
        if current is None:
            raise NotFound("status")
        media_before = await self.media_for([status_id])
        when = edited_at or now_ms()
        async with self._db.transaction() as tx:
            if (
                await tx.fetchval(
                    "SELECT COUNT(*) FROM status_edits WHERE status_id = $1", status_id
                )
                == 0
            ):
                await tx.execute(
                    "INSERT INTO status_edits (id, status_id, content, text, spoiler_text, sensitive, media,"
                    " created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
                    new_id(current.edited_at or current.created_at),
                    status_id,
                    current.content,
                    current.text,
                    current.spoiler_text,
                    current.sensitive,
                    dumps([m.id for m in media_before.get(status_id, [])]),
                    current.edited_at or current.created_at,
                )
            row = await tx.fetchrow(
                "UPDATE statuses SET content = $1, text = $2, spoiler_text = $3, sensitive = $4,"
                " language = $5, edited_at = $6, rev = rev + 1 WHERE id = $7 RETURNING *",
                content,
                text,
                spoiler_text,
                sensitive,
                language,
                when,
                status_id,
            )
            assert row is not None
            await tx.execute("DELETE FROM mentions WHERE status_id = $1", status_id)
            await tx.execute("DELETE FROM status_tags WHERE status_id = $1", status_id)
            if media_ids is not None:
                await tx.execute(
                    "UPDATE media_attachments SET status_id = NULL WHERE status_id = $1", status_id
                )
            if poll is not None:
                await tx.execute("DELETE FROM polls WHERE status_id = $1", status_id)
            update = NewStatus(
                account_id=current.account_id,
                local=current.local,
                mentions=mentions,
                tags=tags,
                media_ids=media_ids or (),
                poll=poll,
            )
            await self._write_children(tx, status_id, update)
            # Newly mentioned accounts and tag followers get the status in their feeds too.
            await tx.execute(_FEED_FAN_OUT, status_id, current.account_id)
            await tx.execute(
                "INSERT INTO status_edits (id, status_id, content, text, spoiler_text, sensitive, media,"
                " created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
                new_id(),
                status_id,
                content,
                text,
                spoiler_text,
                sensitive,
                dumps(
                    list(media_ids)
                    if media_ids is not None
                    else [m.id for m in media_before.get(status_id, [])]
                ),
                when,
            )
        return build(Status, row)

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

    async def edits(self, status_id: int) -> list[StatusEdit]:
        rows = await self._db.fetch(
            "SELECT * FROM status_edits WHERE status_id = $1 ORDER BY id", status_id
        )
        return build_all(StatusEdit, rows)

    async def delete(self, status_id: int) -> Status | None:
        """Remove a status (and reblogs of it); counters follow. Returns what was removed."""
        status = await self.get(status_id)
        if status is None:
            return None
        async with self._db.transaction() as tx:
            await tx.execute("DELETE FROM statuses WHERE id = $1", status_id)
            await tx.execute(
                "UPDATE accounts SET statuses_count = statuses_count - 1 WHERE id = $1 AND statuses_count > 0",
                status.account_id,
            )
            if status.in_reply_to_id is not None:
                await tx.execute(
                    "UPDATE statuses SET replies_count = replies_count - 1 WHERE id = $1 AND replies_count > 0",
                    status.in_reply_to_id,
                )
            if status.reblog_of_id is not None:
                await tx.execute(
                    "UPDATE statuses SET reblogs_count = reblogs_count - 1 WHERE id = $1 AND reblogs_count > 0",
                    status.reblog_of_id,
                )
        return status

    async def backfill_home_feeds(self) -> None:
        """Write the home feed rows of every local account from the stored statuses, follows
        and followed tags: for bulk loads that bypass ``create``. Idempotent."""
        await self._db.execute(
            "INSERT INTO home_feed (account_id, status_id) SELECT x.aid, x.sid FROM ("
            " SELECT s.account_id AS aid, s.id AS sid FROM statuses s"
            "  JOIN accounts a ON a.id = s.account_id WHERE a.domain = ''"
            " UNION SELECT f.account_id, s.id FROM follows f JOIN accounts a ON a.id = f.account_id"
            "  JOIN statuses s ON s.account_id = f.target_account_id WHERE a.domain = ''"
            " UNION SELECT ft.account_id, st.status_id FROM followed_tags ft"
            "  JOIN accounts a ON a.id = ft.account_id JOIN status_tags st ON st.tag_id = ft.tag_id"
            "  WHERE a.domain = ''"
            ") x WHERE TRUE ON CONFLICT DO NOTHING"
        )
        await self._db.execute("ANALYZE home_feed")

    async def get(self, status_id: int) -> Status | None:
        return build_opt(
            Status, await self._db.fetchrow("SELECT * FROM statuses WHERE id = $1", status_id)
        )

    async def by_uri(self, uri: str) -> Status | None:
        return build_opt(
            Status, await self._db.fetchrow("SELECT * FROM statuses WHERE uri = $1", uri)
        )

    async def by_uri_or_url(self, uri: str) -> Status | None:
        row = await self._db.fetchrow(
            "SELECT * FROM statuses WHERE uri = $1 OR url = $1 LIMIT 1", uri
        )
        return build_opt(Status, row)

    async def get_many(self, ids: Sequence[int]) -> dict[int, Status]:
        if not ids:
            return {}
        unique = list(dict.fromkeys(ids))
        marks = ", ".join(f"${i}" for i in range(1, len(unique) + 1))
        rows = await self._db.fetch(f"SELECT * FROM statuses WHERE id IN ({marks})", *unique)
        return {s.id: s for s in build_all(Status, rows)}

    async def reblog_by(self, account_id: int, status_id: int) -> Status | None:
        row = await self._db.fetchrow(
            "SELECT * FROM statuses WHERE account_id = $1 AND reblog_of_id = $2",
            account_id,
            status_id,
        )
        return build_opt(Status, row)

    async def visible_to(self, status: Status, viewer_id: int | None) -> bool:
        """The one visibility rule, shared by every read path."""
        row = await self._db.fetchval(
            f"SELECT 1 FROM statuses s WHERE s.id = $2 AND {VISIBLE_TO} AND {NOT_BLOCKED}",
            viewer_id if viewer_id is not None else -1,
            status.id,
        )
        return row is not None

    # -- children -------------------------------------------------------------------------

    async def mentions_for(self, status_ids: Sequence[int]) -> dict[int, list[Mention]]:
        out: dict[int, list[Mention]] = {}
        if not status_ids:
            return out
        marks = ", ".join(f"${i}" for i in range(1, len(status_ids) + 1))
        rows = await self._db.fetch(
            f"SELECT * FROM mentions WHERE status_id IN ({marks})", *status_ids
        )
        for m in build_all(Mention, rows):
            out.setdefault(m.status_id, []).append(m)
        return out

    async def tags_for(self, status_ids: Sequence[int]) -> dict[int, list[Tag]]:
        out: dict[int, list[Tag]] = {}
        if not status_ids:
            return out
        marks = ", ".join(f"${i}" for i in range(1, len(status_ids) + 1))
        rows = await self._db.fetch(
            "SELECT st.status_id AS sid, t.* FROM status_tags st JOIN tags t ON t.id = st.tag_id"
            f" WHERE st.status_id IN ({marks})",
            *status_ids,
        )
        for r in rows:
            out.setdefault(int(r["sid"]), []).append(build(Tag, r))
        return out

    async def media_for(self, status_ids: Sequence[int]) -> dict[int, list[MediaAttachment]]:
        out: dict[int, list[MediaAttachment]] = {}
        if not status_ids:
            return out
        marks = ", ".join(f"${i}" for i in range(1, len(status_ids) + 1))
        rows = await self._db.fetch(
            f"SELECT * FROM media_attachments WHERE status_id IN ({marks}) ORDER BY position, id",
            *status_ids,
        )
        for m in build_all(MediaAttachment, rows):
            assert m.status_id is not None
            out.setdefault(m.status_id, []).append(m)
        return out

    async def polls_for(self, status_ids: Sequence[int]) -> dict[int, Poll]:
        if not status_ids:
            return {}
        marks = ", ".join(f"${i}" for i in range(1, len(status_ids) + 1))
        rows = await self._db.fetch(
            f"SELECT * FROM polls WHERE status_id IN ({marks})", *status_ids
        )
        return {p.status_id: p for p in build_all(Poll, rows)}

    async def tag_by_name(self, name: str) -> Tag | None:
        row = await self._db.fetchrow("SELECT * FROM tags WHERE name = $1", normalize_tag(name))
        return build_opt(Tag, row)

    async def count_public_tagged(self, tag_id: int) -> int:
        """Public originals carrying the tag, by accounts neither silenced nor suspended."""
        n = await self._db.fetchval(
            "SELECT COUNT(*) FROM status_tags st JOIN statuses s ON s.id = st.status_id"
            " JOIN accounts a ON a.id = s.account_id WHERE st.tag_id = $1"
            " AND s.visibility = 'public' AND s.reblog_of_id IS NULL"
            " AND NOT a.silenced AND NOT a.suspended",
            tag_id,
        )
        return int(n or 0)

    # -- timelines ------------------------------------------------------------------------

    async def _page(self, where: str, args: list[Any], page: Page) -> list[Status]:
        cond, order, ascending = page.clauses("s.id", args)
        args.append(page.limit)
        rows = await self._db.fetch(
            f"SELECT s.* FROM statuses s WHERE {where} AND {cond} ORDER BY {order} LIMIT ${len(args)}",
            *args,
        )
        statuses = build_all(Status, rows)
        if ascending:
            statuses.reverse()
        return statuses

    async def home_timeline(self, account_id: int, page: Page) -> list[Status]:
        """The account's home timeline (``HOME_RULE``), read through its ``home_feed`` rows."""
        args: list[Any] = [account_id, now_ms()]
        cond, order, ascending = page.clauses("h.status_id", args)
        rows = await self._db.fetch(
            "SELECT s.* FROM home_feed h JOIN statuses s ON s.id = h.status_id"
            f" WHERE h.account_id = $1 AND {cond} AND {HOME_RULE}"
            f" ORDER BY {order} LIMIT {int(page.limit)}",
            *args,
        )
        statuses = build_all(Status, rows)
        if ascending:
            statuses.reverse()
        return statuses

    async def public_timeline(
        self,
        viewer_id: int | None,
        page: Page,
        *,
        local: bool | None = None,
        only_media: bool = False,
        exclude_domains: Sequence[str] = (),
    ) -> list[Status]:
        where, args = public_where(
            viewer_id, local=local, only_media=only_media, exclude_domains=exclude_domains
        )
        return await self._page(where, args, page)

    async def tag_timeline(
        self,
        viewer_id: int | None,
        tags_any: Sequence[str],
        page: Page,
        *,
        tags_all: Sequence[str] = (),
        tags_none: Sequence[str] = (),
        local: bool | None = None,
        only_media: bool = False,
        exclude_domains: Sequence[str] = (),
    ) -> list[Status]:
        where, args = tag_where(
            viewer_id,
            tags_any,
            tags_all=tags_all,
            tags_none=tags_none,
            local=local,
            only_media=only_media,
            exclude_domains=exclude_domains,
        )
        return await self._page(where, args, page)

    async def account_statuses(
        self,
        account_id: int,
        viewer_id: int | None,
        page: Page,
        *,
        exclude_replies: bool = False,
        exclude_reblogs: bool = False,
        only_media: bool = False,
        pinned: bool = False,
        tagged: str | None = None,
    ) -> list[Status]:
        args: list[Any] = [viewer_id if viewer_id is not None else -1, account_id]
        where = f"s.account_id = $2 AND {VISIBLE_TO} AND {NOT_BLOCKED}"
        if exclude_replies:
            where += " AND (s.in_reply_to_id IS NULL OR s.in_reply_to_account_id = s.account_id)"
        if exclude_reblogs:
            where += " AND s.reblog_of_id IS NULL"
        if only_media:
            where += " AND EXISTS (SELECT 1 FROM media_attachments ma WHERE ma.status_id = s.id)"
        if pinned:
            where += " AND EXISTS (SELECT 1 FROM status_pins sp WHERE sp.status_id = s.id AND sp.account_id = $2)"
        if tagged:
            args.append(normalize_tag(tagged))
            where += (
                " AND EXISTS (SELECT 1 FROM status_tags st JOIN tags t ON t.id = st.tag_id"
                f" WHERE st.status_id = s.id AND t.name = ${len(args)})"
            )
        return await self._page(where, args, page)

    async def ancestors(
        self, status: Status, viewer_id: int | None, *, depth: int = 40
    ) -> list[Status]:
        chain: list[Status] = []
        current = status
        while current.in_reply_to_id is not None and len(chain) < depth:
            parent = await self.get(current.in_reply_to_id)
            if parent is None:
                break
            if await self.visible_to(parent, viewer_id):
                chain.append(parent)
            current = parent
        chain.reverse()
        return chain

    async def descendants(
        self, status: Status, viewer_id: int | None, *, limit: int = 200
    ) -> list[Status]:
        found: list[Status] = []
        frontier = [status.id]
        while frontier and len(found) < limit:
            marks = ", ".join(f"${i}" for i in range(2, len(frontier) + 2))
            rows = await self._db.fetch(
                f"SELECT s.* FROM statuses s WHERE s.in_reply_to_id IN ({marks}) AND {VISIBLE_TO}"
                f" AND {NOT_BLOCKED} ORDER BY s.id",
                viewer_id if viewer_id is not None else -1,
                *frontier,
            )
            children = build_all(Status, rows)
            found.extend(children)
            frontier = [c.id for c in children]
        return found[:limit]

    async def public_replies(
        self, status_id: int, *, after_id: int | None = None, limit: int = 20
    ) -> list[Status]:
        """Public and unlisted direct replies to a status, oldest first, after ``after_id``
        (the replies collection of a note)."""
        rows = await self._db.fetch(
            "SELECT s.* FROM statuses s WHERE s.in_reply_to_id = $1 AND s.id > $2"
            " AND s.visibility IN ('public', 'unlisted') AND s.reblog_of_id IS NULL"
            " AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.id = s.account_id AND a.suspended)"
            " ORDER BY s.id LIMIT $3",
            status_id,
            after_id if after_id is not None else 0,
            limit,
        )
        return build_all(Status, rows)

    async def count_public_replies(self, status_id: int) -> int:
        return int(
            await self._db.fetchval(
                "SELECT COUNT(*) FROM statuses s WHERE s.in_reply_to_id = $1"
                " AND s.visibility IN ('public', 'unlisted') AND s.reblog_of_id IS NULL"
                " AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.id = s.account_id AND a.suspended)",
                status_id,
            )
        )

    async def count_local(self) -> int:
        return int(
            await self._db.fetchval(
                "SELECT COUNT(*) FROM statuses WHERE local AND reblog_of_id IS NULL"
            )
        )

    async def count_by_domain(self, domain: str) -> int:
        """Cached statuses from a domain and its subdomains (suspension impact)."""
        return int(
            await self._db.fetchval(
                "SELECT COUNT(*) FROM statuses s JOIN accounts a ON a.id = s.account_id"
                " WHERE a.domain = $1 OR a.domain LIKE $2",
                domain,
                "%." + domain,
            )
        )
