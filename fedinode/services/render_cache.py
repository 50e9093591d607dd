"""Views for timeline rows from an in-process cache of what statuses show.

A timeline page arrives from storage as ``TimelineEntry`` rows: ids, the version of every
status and account shown (revisions bumped on each edit, profile update or poll change, plus
the counters), and the viewer's marks. What a status shows apart from those marks (its row,
author, mentions, tags, media, poll, application) is kept here per status id *with the version
it was loaded at*; a row whose version differs is loaded again. So the cache needs no
invalidation to stay exact: a deleted status is not in the page, an edited one comes with a
new version. Each cached version carries a ``RenderMemo`` where the renderer keeps its
viewer-independent JSON, so a status is turned into JSON once per version, not per request.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from collections.abc import Hashable, Sequence

from fedinode.services.views import (
    PollView,
    RenderMemo,
    StatusView,
    load_status_view,
    load_status_views,
)
from storage.models import Status
from storage.store import Store
from storage.timelines import TimelineEntry

Version = tuple[int | None, ...]
CAPACITY = 10_000
ROWS_CAPACITY = 20_000


class RenderCache:
    """Least-recently-used viewer-independent views of statuses, by id and version; and
    the encoded JSON of timeline rows by the row (``rows``, filled by the renderer)."""

    def __init__(self, capacity: int = CAPACITY, rows_capacity: int = ROWS_CAPACITY) -> None:
        self.capacity = capacity
        self._items: OrderedDict[int, tuple[Version, StatusView]] = OrderedDict()
        # A row (its status's id and version, its marks: all that its rendering depends
        # on) to the bytes it encodes to; any viewer whose row is equal shows the same.
        self.rows: dict[Hashable, bytes] = {}
        self.rows_capacity = rows_capacity

    def __len__(self) -> int:
        return len(self._items)

    def get(self, status_id: int, version: Version | None) -> StatusView | None:
        found = self._items.get(status_id)
        if found is None or found[0] != version:
            return None
        self._items.move_to_end(status_id)
        return found[1]

    def put(self, status_id: int, version: Version, view: StatusView) -> None:
        self._items[status_id] = (version, view)
        self._items.move_to_end(status_id)
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)

    def keep_row(self, key: Hashable, encoded: bytes) -> None:
        if len(self.rows) >= self.rows_capacity:
            self.rows.clear()  # refilled from the views' encodings, a row at a time
        self.rows[key] = encoded

    def clear(self) -> None:
        self._items.clear()
        self.rows.clear()


_caches: weakref.WeakKeyDictionary[Store, RenderCache] = weakref.WeakKeyDictionary()


def render_cache(store: Store) -> RenderCache:
    """The cache for one store (one per application, so one per database and config)."""
    cache = _caches.get(store)
    if cache is None:
        cache = _caches[store] = RenderCache()
    return cache


def _shared(view: StatusView) -> StatusView:
    """The viewer-independent part of a loaded view, with a fresh memo."""
    return StatusView(
        status=view.status,
        account=view.account,
        mentions=view.mentions,
        tags=view.tags,
        media=view.media,
        poll=view.poll,
        application=view.application,
        card=view.card,
        memo=RenderMemo(),
    )


async def _load_missing(
    store: Store,
    cache: RenderCache,
    missing: Sequence[TimelineEntry],
) -> None:
    """Load the rows not in the cache at their versions into it."""
    statuses = await store.statuses.get_many([e.id for e in missing])
    # Loaded as nobody in particular: the viewer's marks and votes come with each request.
    loaded = await load_status_views(
        store, [statuses[e.id] for e in missing if e.id in statuses], None
    )
    by_id = {v.status.id: v for v in loaded}
    for e in missing:
        view = by_id.get(e.id)
        if view is None:
            continue
        cache.put(e.id, e.version, _shared(view))
        if view.reblog is not None and e.reblog_version is not None:
            cache.put(view.reblog.status.id, e.reblog_version, _shared(view.reblog))


def _poll_view(
    shared: StatusView, viewer_id: int | None, votes: dict[int, list[int]]
) -> PollView | None:
    if shared.poll is None:
        return None
    own = votes.get(shared.poll.poll.id, [])
    return PollView(
        poll=shared.poll.poll,
        voted=bool(own) or viewer_id == shared.status.account_id,
        own_votes=own,
    )


def _view(
    shared: StatusView,
    viewer_id: int | None,
    votes: dict[int, list[int]],
    *,
    favourited: bool,
    reblogged: bool,
    bookmarked: bool,
    pinned: bool,
    muted: bool,
) -> StatusView:
    # Positional, in StatusView's field order (twenty of these a page, each request).
    return StatusView(
        shared.status,
        shared.account,
        None,  # reblog
        shared.mentions,
        shared.tags,
        shared.media,
        None if shared.poll is None else _poll_view(shared, viewer_id, votes),
        shared.application,
        shared.card,
        favourited,
        reblogged,
        bookmarked,
        pinned,
        muted,
        [],  # filtered
        shared.memo,
    )


async def entry_views(
    store: Store, entries: Sequence[TimelineEntry], viewer_id: int | None
) -> list[StatusView]:
    """Views of the shown rows, in order, as ``load_status_views`` would build them."""
    cache = render_cache(store)
    # One cache lookup per row and side: a page served from the cache (the common case)
    # asks nothing more of it.
    found: list[tuple[TimelineEntry, StatusView | None, StatusView | None]] = []
    missing = []
    for e in entries:
        if not e.shown:
            continue
        own = cache.get(e.id, e.version)
        target = None
        if e.reblog_of_id is not None:
            target = cache.get(e.reblog_of_id, e.reblog_version)
            if target is None:
                own = None
        if own is None:
            missing.append(e)
        found.append((e, own, target))
    if missing:
        await _load_missing(store, cache, missing)
    rows: list[tuple[TimelineEntry, StatusView, StatusView | None]] = []
    for e, own, target in found:
        if own is None:
            own = cache.get(e.id, e.version)
            if own is None:
                continue
            if e.reblog_of_id is not None:
                target = cache.get(e.reblog_of_id, e.reblog_version)
                if target is None:
                    continue
        rows.append((e, own, target))
    poll_ids = [
        shown.poll.poll.id for _, own, target in rows if (shown := target or own).poll is not None
    ]
    votes: dict[int, list[int]] = {}
    if poll_ids and viewer_id is not None:
        votes = await store.polls.votes_of(viewer_id, poll_ids)
    out = []
    for e, own, target in rows:
        if target is None:
            out.append(
                _view(
                    own,
                    viewer_id,
                    votes,
                    favourited=e.favourited,
                    reblogged=e.reblogged,
                    bookmarked=e.bookmarked,
                    pinned=e.pinned,
                    muted=e.muted,
                )
            )
            continue
        # A reblog's own marks are never loaded (only the reblogged status's are).
        view = _view(
            own,
            viewer_id,
            votes,
            favourited=False,
            reblogged=False,
            bookmarked=False,
            pinned=False,
            muted=e.own_muted,
        )
        view.reblog = _view(
            target,
            viewer_id,
            votes,
            favourited=e.favourited,
            reblogged=e.reblogged,
            bookmarked=e.bookmarked,
            pinned=e.pinned,
            muted=e.muted,
        )
        out.append(view)
    return out


async def status_views(
    store: Store, status_ids: Sequence[int], viewer_id: int | None
) -> list[StatusView]:
    """The statuses as the viewer sees them, newest first, through the cache: one query for
    the viewer's marks and the versions, the rest loaded only for a version not cached yet
    (a status shown again, in a timeline, a stream or on its own page, is read once). Those
    the entry query does not show (deleted, a reblog of what the viewer may not see) are
    left out."""
    entries = await store.timelines.status_entries(viewer_id, status_ids)
    return await entry_views(store, entries, viewer_id)


async def cached_status_view(store: Store, status: Status, viewer_id: int | None) -> StatusView:
    """``load_status_view`` through the cache (``status_views``); a status the entry query
    does not show is loaded as before."""
    views = await status_views(store, [status.id], viewer_id)
    if views:
        return views[0]
    return await load_status_view(store, status, viewer_id)
