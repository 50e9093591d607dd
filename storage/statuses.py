"""Statuses, their mentions, tags, media, polls and edits; threads. The timelines read from
them are ``storage.timelines``; the SQL visibility rules, ``storage.status_sql``."""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from storage import effects
from storage.db import Connection, Database, owe
from storage.errors import Conflict, NotFound, Tombstoned
from storage.ids import new_id, now_ms
from storage.media import NewMedia, insert_media
from storage.models import (
    MediaAttachment,
    Mention,
    Poll,
    Status,
    StatusEdit,
    Tag,
)
from storage.rows import build, build_all, build_opt, dumps
from storage.status_sql import NOT_BLOCKED, VISIBLE_TO
from storage.status_sql import normalize_tag as normalize_tag  # callers import it from here
from storage.timelines import StatusTimelines


@dataclass(frozen=True, slots=True)
class TagName:
    """A hashtag as written (``display``) and the key it is stored and matched by."""

    key: str
    display: str


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
    tags: Sequence[str | TagName] = ()  # a bare str is its own display name (see normalize_tag)
    media_ids: Sequence[int] = ()
    # Attachments made with the status (a remote note's), after those of ``media_ids``.
    new_media: Sequence[NewMedia] = ()
    poll: NewPoll | None = None
    created_at: int | None = None
    # Stored with the status, in its transaction: the client's Idempotency-Key (local
    # posts), and a mark that its side effects are owed (``storage.effects``).
    idempotency_key: str | None = None
    pending_effects: bool = False


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


async def _remember_idempotent(conn: Connection, account_id: int, key: str, status_id: int) -> None:
    await conn.execute(
        "INSERT INTO idempotency_keys (account_id, key, status_id, created_at) VALUES ($1,$2,$3,$4)"
        " ON CONFLICT (account_id, key) DO UPDATE SET status_id = excluded.status_id,"
        " created_at = excluded.created_at",
        account_id,
        key,
        status_id,
        now_ms(),
    )


# An id already taken inserts nothing (and returns no row): the caller draws another. So
# do a URI stored already and a URI with a tombstone (its object was deleted; a Delete
# processed meanwhile by another worker records the tombstone before it looks the status
# up, so one of the two sees the other): the caller tells them apart, rarely, by looking.
_INSERT_STATUS = (
    "INSERT INTO statuses (id, uri, url, account_id, local, in_reply_to_id, in_reply_to_uri,"
    " in_reply_to_account_id, reblog_of_id, conversation, content, text, spoiler_text,"
    " sensitive, visibility, language, emojis, application_id, created_at)"
    " SELECT $1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19"
    " WHERE NOT EXISTS (SELECT 1 FROM tombstones WHERE uri = $2)"
    " ON CONFLICT DO NOTHING RETURNING *"
)
# The status stored at a URI, if any, and whether a tombstone says it was deleted.
_BY_URI_OR_TOMBSTONE = (
    "SELECT s.*, EXISTS (SELECT 1 FROM tombstones t WHERE t.uri = $1) AS tombstoned"
    " FROM (SELECT 1 AS one) o LEFT JOIN statuses s ON s.uri = $1"
)
# PostgreSQL: the status, its mentions ($21), its links to tags already known ($20, names;
# ``tags_found`` says which were) and its home-feed fan-out (``_FEED_FAN_OUT``, the followed
# tags read by name: a sibling's rows are not seen) in one statement, one round trip for
# four; nothing but the status when it inserts none.
_INSERT_STATUS_WITH_CHILDREN = (
    "WITH s AS (" + _INSERT_STATUS + "),"
    " m AS (INSERT INTO mentions (status_id, account_id)"
    "  SELECT s.id, u.aid FROM s, unnest($21::bigint[]) AS u(aid) ON CONFLICT DO NOTHING),"
    " t AS (INSERT INTO status_tags (status_id, tag_id)"
    "  SELECT s.id, tg.id FROM s JOIN tags tg ON tg.name = ANY($20::text[]) ON CONFLICT DO NOTHING),"
    " f AS (INSERT INTO home_feed (account_id, status_id) SELECT x.aid, s.id FROM s, ("
    "  SELECT a.id AS aid FROM accounts a WHERE a.id = $4 AND a.domain = ''"
    "  UNION SELECT f.account_id FROM follows f JOIN accounts fa ON fa.id = f.account_id"
    "   WHERE f.target_account_id = $4 AND fa.domain = ''"
    "  UNION SELECT ft.account_id FROM tags tg JOIN followed_tags ft ON ft.tag_id = tg.id"
    "   JOIN accounts ta ON ta.id = ft.account_id WHERE tg.name = ANY($20::text[]) AND ta.domain = ''"
    " ) x ON CONFLICT DO NOTHING)"
    " SELECT s.*, ARRAY(SELECT tg.name FROM tags tg WHERE tg.name = ANY($20::text[])) AS tags_found"
    " FROM s"
)


def _tag_names(tags: Sequence[TagName | str]) -> dict[str, str]:
    """A status's tags by the name they match on (NFC case-folded), each with the form it
    was first written in (a new tag keeps it)."""
    written: dict[str, str] = {}
    for t in tags:
        if isinstance(t, TagName):
            if normalize_tag(t.key):
                written.setdefault(normalize_tag(t.key), t.display.lstrip("#") or t.key)
        elif t.strip("#"):
            display = unicodedata.normalize("NFC", t.lstrip("#"))
            written.setdefault(normalize_tag(display), display)
    return written


async def _count_authors(tx: Connection, posts: list[tuple[int, int]]) -> None:
    """Add statuses (author id, created at) to their authors' counters: one statement an
    author, in the order of their ids (two batches lock shared authors in one order)."""
    by_author: dict[int, tuple[int, int]] = {}
    for account_id, created in posts:
        count, _ = by_author.get(account_id, (0, 0))
        by_author[account_id] = (count + 1, created)  # the last one's time, as one by one
    await _each(
        tx,
        "UPDATE accounts SET statuses_count = statuses_count + $1, last_status_at = $2,"
        " rev = rev + 1 WHERE id = $3",
        [(count, at, account_id) for account_id, (count, at) in sorted(by_author.items())],
    )


def _parents_counter(column: str) -> Callable[[Connection, list[int]], Awaitable[None]]:
    """Adds replies (or reblogs) to their parents' ``column``, one statement a parent."""

    async def count(tx: Connection, parent_ids: list[int]) -> None:
        added = Counter(parent_ids)
        await _each(
            tx,
            f"UPDATE statuses SET {column} = {column} + $1, rev = rev + 1 WHERE id = $2",
            [(n, parent_id) for parent_id, n in sorted(added.items())],
        )

    return count


async def _each(tx: Connection, sql: str, rows: list[tuple[int, ...]]) -> None:
    if len(rows) == 1:
        await tx.execute(sql, *rows[0])
    else:
        await tx.executemany(sql, rows)


_COUNT_PARENTS = {column: _parents_counter(column) for column in ("replies_count", "reblogs_count")}


class StatusStore(StatusTimelines):
    """Statuses and their children; the timeline reads come from ``StatusTimelines``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, new: NewStatus, *, uri_template: str = "") -> Status:
        """Insert a status with its mentions, tags, media and poll in one transaction.

        ``uri_template`` with ``{id}`` builds the uri (and url) of a local status from its id.
        Raises ``Conflict`` when a status has its URI already, ``Tombstoned`` when its URI
        was deleted."""
        status, inserted = await self.store_new(new, uri_template=uri_template)
        if not inserted:
            raise Conflict(f"a status with the URI {status.uri} is stored already")
        return status

    async def store_new(self, new: NewStatus, *, uri_template: str = "") -> tuple[Status, bool]:
        """``create``, but a status stored with the URI already is no error: (the status,
        whether this call stored it). Raises ``Tombstoned`` when its URI was deleted."""
        created = new.created_at or now_ms()
        ident = new_id() if new.created_at is None else new_id(created)
        tags = _tag_names(new.tags)
        async with self._db.transaction() as tx:
            together = tx.dialect == "postgres"
            extra: tuple[Any, ...] = (
                (list(tags), list(dict.fromkeys(new.mentions))) if together else ()
            )
            row = None
            while row is None:
                uri = new.uri or uri_template.format(id=ident)
                url = new.url or (uri if not new.local else uri_template.format(id=ident))
                row = await tx.fetchrow(
                    _INSERT_STATUS_WITH_CHILDREN if together else _INSERT_STATUS,
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
                    *extra,
                )
                # A back-dated id can meet one this process's id slot made for the same
                # millisecond before a restart (never one of another process's slot).
                if row is None:
                    found = await tx.fetchrow(_BY_URI_OR_TOMBSTONE, uri)
                    assert found is not None  # the select always yields its one row
                    if found["id"] is not None:
                        return build(Status, found), False
                    if found["tombstoned"]:
                        raise Tombstoned(uri)
                    ident = new_id(created)
            if together:  # tags new to the instance are made and linked now
                known = set(row["tags_found"])
                await self._write_children(
                    tx, ident, new, {k: v for k, v in tags.items() if k not in known}, False
                )
            else:
                await self._write_children(tx, ident, new, tags, True)
                await tx.execute(_FEED_FAN_OUT, ident, new.account_id)
            # In an inbox batch the counters are added at its commit (``owe``).
            if not owe(self._db, _count_authors, (new.account_id, created)):
                await _count_authors(tx, [(new.account_id, created)])
            for parent_id, column in (
                (new.in_reply_to_id, "replies_count"),
                (new.reblog_of_id, "reblogs_count"),
            ):
                if parent_id is not None and not owe(
                    self._db, _COUNT_PARENTS[column], parent_id
                ):
                    await _COUNT_PARENTS[column](tx, [parent_id])
            if new.idempotency_key:
                await _remember_idempotent(tx, new.account_id, new.idempotency_key, ident)
            if new.pending_effects:
                await effects.mark(tx, ident, effects.CREATED)
        return build(Status, row), True

    async def _write_children(
        self,
        tx: Connection,
        status_id: int,
        new: NewStatus,
        tags: dict[str, str],
        mentions: bool,
    ) -> None:
        """The status's ``mentions`` (when asked), links to ``tags`` (name → how it was
        written), media and poll."""
        for account_id in dict.fromkeys(new.mentions) if mentions else ():
            await tx.execute(
                "INSERT INTO mentions (status_id, account_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                status_id,
                account_id,
            )
        for tag, display in tags.items():
            # A tag used before (most are): one statement finds it and links it.
            if await tx.execute(
                "INSERT INTO status_tags (status_id, tag_id) SELECT CAST($1 AS BIGINT), id FROM tags"
                " WHERE name = $2 ON CONFLICT DO NOTHING",
                status_id,
                tag,
            ):
                continue
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
        for position, media in enumerate(new.new_media, start=len(new.media_ids)):
            await insert_media(tx, replace(media, status_id=status_id, position=position))
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
        tags: Sequence[str | TagName] = (),
        media_ids: Sequence[int] | None = None,
        poll: NewPoll | None = None,
        edited_at: int | None = None,
        pending_effects: bool = False,
        emojis: list[dict[str, Any]] | None = None,
    ) -> Status:
        """Record the previous version in the history, then apply the new one (with a mark
        that the edit's side effects are owed, when ``pending_effects``)."""
        current = await self.get(status_id)
        if current is None:
            raise NotFound("status")
        media_before = await self.media_for([status_id])
        # Each version is later than the one before (an edit in the millisecond of the post
        # would otherwise tie with it, and the history could list them the wrong way round).
        when = max(edited_at or now_ms(), (current.edited_at or current.created_at) + 1)
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
            if emojis is not None:
                row = await tx.fetchrow(
                    "UPDATE statuses SET emojis = $1 WHERE id = $2 RETURNING *",
                    dumps(emojis),
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
            await self._write_children(tx, status_id, update, _tag_names(tags), True)
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
            if pending_effects:
                await effects.mark(tx, status_id, effects.UPDATED)
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
        await _remember_idempotent(self._db, account_id, key, status_id)

    async def edits(self, status_id: int) -> list[StatusEdit]:
        rows = await self._db.fetch(
            "SELECT * FROM status_edits WHERE status_id = $1 ORDER BY created_at, id", status_id
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
                "UPDATE accounts SET statuses_count = statuses_count - 1, rev = rev + 1"
                " WHERE id = $1 AND statuses_count > 0",
                status.account_id,
            )
            if status.in_reply_to_id is not None:
                await tx.execute(
                    "UPDATE statuses SET replies_count = replies_count - 1, rev = rev + 1"
                    " WHERE id = $1 AND replies_count > 0",
                    status.in_reply_to_id,
                )
            if status.reblog_of_id is not None:
                await tx.execute(
                    "UPDATE statuses SET reblogs_count = reblogs_count - 1, rev = rev + 1"
                    " WHERE id = $1 AND reblogs_count > 0",
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

    async def by_uri_or_tombstone(self, uri: str) -> tuple[Status | None, bool]:
        """(the status stored at ``uri``, whether a tombstone says it was deleted): what
        ``by_uri`` and ``TombstoneStore.exists`` answer, in one statement (a remote note
        arriving: is it known, was it deleted)."""
        row = await self._db.fetchrow(_BY_URI_OR_TOMBSTONE, uri)
        assert row is not None  # the select always yields its one row
        status = build(Status, row) if row["id"] is not None else None
        return status, bool(row["tombstoned"])

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

    # -- threads --------------------------------------------------------------------------

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
