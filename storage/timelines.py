"""Timelines: the statuses of a page (home, public, hashtag, an account's; replies), and
what a timeline page renders: its rows with their revisions and the viewer's marks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, NamedTuple

from storage.db import Database, placeholders
from storage.ids import now_ms
from storage.lists import timeline_where
from storage.models import ListRow, Status
from storage.paging import Page
from storage.rows import build_all
from storage.status_sql import (
    AUTHOR_NOT_LIMITED,
    GUARDED_NOT_DOMAIN_BLOCKED,
    HOME_RULE,
    NOT_BLOCKED,
    NOT_MUTED,
    VISIBLE_TO,
    domains_excluded,
    normalize_tag,
    not_blocked,
    visible_to,
)


@dataclass(frozen=True, slots=True)
class ViewerMarks:
    favourited: set[int]
    reblogged: set[int]
    bookmarked: set[int]
    pinned: set[int]


class TimelineEntry(NamedTuple):
    """One timeline row: a status or a reblog, the revisions of what it shows, the viewer's
    marks on the status shown (the reblogged one for a reblog). Immutable as a frozen
    dataclass, but built in a fifth of the time (1.3 µs → 0.3; twenty a page).

    ``version`` / ``reblog_version`` change whenever anything rendered from the status (its
    row, poll, mentions, tags, media), its author or its mentioned accounts changes; equal
    versions mean an equal rendering. ``shown`` is False for a reblog of a status the viewer
    may not see, or whose author the viewer blocks, is blocked by, mutes or blocks the
    domain of: its id still counts for paging.
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
    """The revisions of the status row ``alias`` and its author: every change of what they
    show bumps them, their counters' included (``storage.statuses``, ``interactions`` and
    ``relationships`` bump ``rev`` with the count). What the status's mentions show of the
    accounts they name is in its ``rev`` too (``storage.accounts`` bumps it when a
    mentioned account's URL changes or the account goes)."""
    return f"{alias}.rev AS {alias}_rev, {author}.rev AS {author}_rev"


def _any(table: str, where: str = "") -> str:
    """Whether the viewer (``$1``) has any row in ``table``: a subquery that does not depend
    on the page's rows, so it runs once per statement, and one index probe. Written before
    the per-row lookup of the same table, it spares a viewer without such rows (most have
    no bookmarks, pins, mutes or muted conversations) a probe per row."""
    return f"EXISTS (SELECT 1 FROM {table} WHERE account_id = $1{where})"


def _viewer_marks(shown: str) -> tuple[str, str, str, str]:
    """Whether the viewer favourited, reblogged, bookmarked, pinned the status ``shown``."""
    x = shown
    return (
        f"({_any('favourites')} AND EXISTS (SELECT 1 FROM favourites vf"
        f" WHERE vf.account_id = $1 AND vf.status_id = {x}))",
        # statuses_account_reblog: one probe, however many statuses the viewer has.
        f"({_any('statuses', ' AND reblog_of_id IS NOT NULL')} AND EXISTS (SELECT 1 FROM"
        f" statuses vr WHERE vr.account_id = $1 AND vr.reblog_of_id = {x}))",
        f"({_any('bookmarks')} AND EXISTS (SELECT 1 FROM bookmarks vb"
        f" WHERE vb.account_id = $1 AND vb.status_id = {x}))",
        f"({_any('status_pins')} AND EXISTS (SELECT 1 FROM status_pins vp"
        f" WHERE vp.account_id = $1 AND vp.status_id = {x}))",
    )


def _conversation_muted(alias: str) -> str:
    return (
        f"({alias}.conversation <> '' AND {_any('conversation_mutes')}"
        " AND EXISTS (SELECT 1 FROM conversation_mutes cm"
        f" WHERE cm.account_id = $1 AND cm.conversation = {alias}.conversation))"
    )


# What the inner query of a page selects from its status row ``s``: the outer one reads the
# row's own columns from it rather than looking the status up again.
_PAGE = "s.id, s.account_id, s.reblog_of_id, s.rev, s.conversation"

# The reblog side (``r``, ``ra``) is NULL for a status that is not a reblog: its lookups are
# guarded by ``r.id IS NOT NULL`` so that they do not run for it. Read by position
# (``_entry``): s.id, s.account_id, s.reblog_of_id, r.id, the row's version (2 values), the
# reblogged status's version (2), then the viewer's marks and the rest as bits of one value
# (a value costs the database and the driver more to hand over than the bits cost to pack).
_ENTRY_COLUMNS = (
    "s.id, s.account_id, s.reblog_of_id, r.id AS r_id, "
    + _status_version("s", "a")
    + ", "
    + _status_version("r", "ra")
    + ", "
    + " + ".join(
        f"(CASE WHEN {cond} THEN {1 << bit} ELSE 0 END)"
        for bit, cond in enumerate(
            (
                *_viewer_marks("COALESCE(r.id, s.id)"),
                f"r.id IS NOT NULL AND {visible_to('r')} AND {not_blocked('r')}"
                f" AND NOT ({_any('mutes')} AND EXISTS (SELECT 1 FROM mutes rmu"
                " WHERE rmu.account_id = $1 AND rmu.target_account_id = r.account_id"
                " AND (rmu.expires_at IS NULL OR rmu.expires_at > $2)))"
                f" AND NOT ({_any('account_domain_blocks')} AND EXISTS (SELECT 1 FROM"
                " account_domain_blocks rdb WHERE rdb.account_id = $1 AND rdb.domain = ra.domain))",
                "r.id IS NOT NULL AND " + _conversation_muted("r"),
                _conversation_muted("s"),
            )
        )
    )
    + " AS flags"
)
_by_id = itemgetter(0)  # TimelineEntry.id
_FAV, _REB, _BM, _PIN, _R_SHOWN, _R_MUTED, _S_MUTED = (1 << bit for bit in range(7))
_OWN_VERSION = slice(4, 6)
_REBLOG_VERSION = slice(6, 8)
_FLAGS = 8


_new = tuple.__new__  # builds the NamedTuple in C: its Python ``__new__`` took 12 arguments


def _entry(r: Sequence[Any]) -> TimelineEntry:
    # Positional, twenty a page: the ids are ints from either driver, a slice of a row is
    # a tuple on both, and a comparison gives a bool without calling ``bool``.
    flags = r[_FLAGS]
    reblog_of = r[2]
    if reblog_of is None:
        own_muted = flags & _S_MUTED != 0
        return _new(TimelineEntry, (
            r[0], r[1], None, r[_OWN_VERSION], None, True,
            flags & _FAV != 0, flags & _REB != 0, flags & _BM != 0, flags & _PIN != 0,
            own_muted, own_muted,
        ))  # fmt: skip
    shown = flags & _R_SHOWN != 0
    return _new(TimelineEntry, (
        r[0], r[1], reblog_of, r[_OWN_VERSION], r[_REBLOG_VERSION] if shown else None, shown,
        flags & _FAV != 0, flags & _REB != 0, flags & _BM != 0, flags & _PIN != 0,
        flags & _R_MUTED != 0, flags & _S_MUTED != 0,
    ))  # fmt: skip


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
    where = f"s.visibility = 'public' AND s.reblog_of_id IS NULL AND {AUTHOR_NOT_LIMITED}"
    where += domains_excluded(exclude_domains, args)
    if local is True:
        where += " AND s.local"
    elif local is False:
        where += " AND NOT s.local"
    if only_media:
        where += " AND EXISTS (SELECT 1 FROM media_attachments ma WHERE ma.status_id = s.id)"
    where += f" AND {NOT_BLOCKED} AND {NOT_MUTED} AND {GUARDED_NOT_DOMAIN_BLOCKED}"
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
    where = f"s.visibility = 'public' AND s.reblog_of_id IS NULL AND {AUTHOR_NOT_LIMITED}"
    where += domains_excluded(exclude_domains, args)

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
    where += f" AND {NOT_BLOCKED} AND {NOT_MUTED} AND {GUARDED_NOT_DOMAIN_BLOCKED}"
    return where, args


def _entries_sql(ids: str) -> str:
    """One query: the page (``ids``, an inner query selecting ``_PAGE`` whose plan is an
    index range scan), then for those rows only, the revisions of the statuses and
    accounts they show and the viewer's marks on them."""
    return (
        f"SELECT {_ENTRY_COLUMNS} FROM ({ids}) s JOIN accounts a ON a.id = s.account_id"
        " LEFT JOIN statuses r ON r.id = s.reblog_of_id"
        " LEFT JOIN accounts ra ON ra.id = r.account_id"
    )


# The home page statement by its shape (which paging keys, the limit): the same string each
# time, so neither it (4 kB) nor its hash, which the driver's statement cache looks up by,
# is made again for every request. Clients page with a few shapes.
_home_sql: dict[tuple[str, str, str, int], str] = {}
_HOME_SQL_LIMIT = 256


class TimelineStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def viewer_marks(self, account_id: int, status_ids: Sequence[int]) -> ViewerMarks:
        """Favourited / reblogged / bookmarked / pinned among the statuses, in one query."""
        marks = ViewerMarks(set(), set(), set(), set())
        if not status_ids:
            return marks
        ids = list(dict.fromkeys(status_ids))
        m = placeholders(2, len(ids))
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

    async def home_entries(
        self, account_id: int, page: Page, floor_id: int | None = None
    ) -> list[TimelineEntry]:
        """The home timeline's rows for one page, with what rendering them needs to know.

        The home timeline is ``HOME_RULE`` (own statuses, those of followed accounts, public
        ones with a followed tag; visibility applied), the
        same rule ``StatusStore.home_timeline`` returns statuses by. The page is read through
        the account's ``home_feed`` rows, newest first on their primary key, each checked
        against the rule: the feed is an index written on fan-out, never the authority.
        With ``floor_id`` only statuses newer than it are considered.
        """
        args: list[Any] = [account_id, now_ms()]
        where = "h.account_id = $1"
        if floor_id is not None:
            args.append(floor_id)
            where += f" AND h.status_id > ${len(args)}"
        cond, order, _ = page.clauses("h.status_id", args)
        shape = (where, cond, order, int(page.limit))
        sql = _home_sql.get(shape)
        if sql is None:
            if len(_home_sql) >= _HOME_SQL_LIMIT:
                _home_sql.clear()
            sql = _home_sql[shape] = _entries_sql(
                f"SELECT {_PAGE} FROM home_feed h JOIN statuses s ON s.id = h.status_id"
                f" WHERE {where} AND {cond} AND {HOME_RULE}"
                f" ORDER BY {order} LIMIT {int(page.limit)}"
            )
        return await self._fetch_entries(sql, args)

    async def public_entries(
        self,
        viewer_id: int | None,
        page: Page,
        *,
        local: bool | None = None,
        only_media: bool = False,
        exclude_domains: Sequence[str] = (),
    ) -> list[TimelineEntry]:
        """The public timeline's rows for one page (``StatusStore.public_timeline``'s rule);
        with no viewer (``$1`` = -1) every mark is False."""
        where, args = public_where(
            viewer_id, local=local, only_media=only_media, exclude_domains=exclude_domains
        )
        return await self._statuses_page(where, args, page)

    async def tag_entries(
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
    ) -> list[TimelineEntry]:
        """The hashtag timeline's rows for one page (``StatusStore.tag_timeline``'s rule)."""
        where, args = tag_where(
            viewer_id,
            tags_any,
            tags_all=tags_all,
            tags_none=tags_none,
            local=local,
            only_media=only_media,
            exclude_domains=exclude_domains,
        )
        return await self._statuses_page(where, args, page)

    async def list_entries(self, row: ListRow, page: Page) -> list[TimelineEntry]:
        """A list timeline's rows for one page (``ListStore.timeline``'s rule), for its owner;
        a reblog the owner may not see the original of is not ``shown``."""
        where, args = timeline_where(row)
        return await self._statuses_page(where, args, page)

    async def status_entries(
        self, viewer_id: int | None, status_ids: Sequence[int]
    ) -> list[TimelineEntry]:
        """Rows for the given statuses (those that still exist), newest first, in one
        query: what a notification page shows beside its notifications."""
        ids = list(dict.fromkeys(status_ids))
        if not ids:
            return []
        args: list[Any] = [viewer_id if viewer_id is not None else -1, now_ms(), *ids]
        inner = f"SELECT {_PAGE} FROM statuses s WHERE s.id IN ({placeholders(3, len(ids))})"
        return await self._entries(inner, args)

    async def _statuses_page(self, where: str, args: list[Any], page: Page) -> list[TimelineEntry]:
        cond, order, _ = page.clauses("s.id", args)
        ids = (
            f"SELECT {_PAGE} FROM statuses s WHERE {where} AND {cond}"
            f" ORDER BY {order} LIMIT {int(page.limit)}"
        )
        return await self._entries(ids, args)

    async def _entries(self, ids: str, args: list[Any]) -> list[TimelineEntry]:
        return await self._fetch_entries(_entries_sql(ids), args)

    async def _fetch_entries(self, sql: str, args: list[Any]) -> list[TimelineEntry]:
        # The limit is written out, not a parameter, so one generic plan fits every
        # execution; PostgreSQL would otherwise re-plan each one (3–4 ms here, more than the
        # statement takes) because a plan made for the viewer's own rows looks cheaper.
        rows = await self._db.fetch_generic(sql, *args)
        # Newest first, sorted here: an ORDER BY would have the database copy every value
        # of the twenty rows through a sorter to order what the page query already ordered.
        return sorted(map(_entry, rows), key=_by_id, reverse=True)


class StatusTimelines:
    """The timelines and reply lists read from statuses (``StatusStore`` has them)."""

    _db: Database

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
