"""Batch loading for rendering: statuses plus everything their entities show, in a fixed
number of queries whatever the page size (no N+1)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from storage.models import Account, MediaAttachment, OAuthApp, Poll, Status, Tag
from storage.preview_cards import PreviewCard
from storage.store import Store
from storage.timelines import ViewerMarks


@dataclass(slots=True)
class PollView:
    poll: Poll
    voted: bool
    own_votes: list[int]


@dataclass(slots=True)
class StatusView:
    status: Status
    account: Account
    reblog: StatusView | None = None
    mentions: list[Account] = field(default_factory=list)
    tags: list[Tag] = field(default_factory=list)
    media: list[MediaAttachment] = field(default_factory=list)
    poll: PollView | None = None
    application: OAuthApp | None = None
    card: PreviewCard | None = None
    favourited: bool = False
    reblogged: bool = False
    bookmarked: bool = False
    pinned: bool = False
    muted: bool = False
    # Filters (v2) that matched, set by services.filters.filter_views; ``filtered`` in JSON.
    filtered: list[Any] = field(default_factory=list)
    # Shared by every view of one version of this status (services.render_cache): where the
    # renderer keeps what does not depend on the viewer. None: render everything afresh.
    memo: RenderMemo | None = None


class RenderMemo:
    """A slot for the viewer-independent rendering of one version of a status, and one for
    its encoded JSON as viewers with the same marks see it (by those marks)."""

    __slots__ = ("encoded", "rendered")

    def __init__(self) -> None:
        self.rendered: Any = None
        self.encoded: dict[tuple[bool | None, ...], bytes] = {}


async def _nothing_marks() -> ViewerMarks:
    return ViewerMarks(set(), set(), set(), set())


async def load_status_views(
    store: Store, statuses: Sequence[Status], viewer_id: int | None
) -> list[StatusView]:
    """Views of ``statuses`` in order; a status whose author (or reblog target) is gone is dropped."""
    if not statuses:
        return []
    reblog_ids = [s.reblog_of_id for s in statuses if s.reblog_of_id is not None]
    targets = await store.statuses.get_many(reblog_ids) if reblog_ids else {}
    every = list(statuses) + [t for t in targets.values()]
    # Content (mentions, tags, media, polls) only matters for the statuses shown, i.e.
    # not for the reblog wrappers themselves.
    content_ids = [s.id for s in every if s.reblog_of_id is None]
    mentions_f = store.statuses.mentions_for(content_ids)
    tags_f = store.statuses.tags_for(content_ids)
    media_f = store.statuses.media_for(content_ids)
    polls_f = store.statuses.polls_for(content_ids)
    marks_f = (
        store.timelines.viewer_marks(viewer_id, content_ids)
        if viewer_id is not None
        else _nothing_marks()
    )
    apps_f = store.oauth.apps_many(
        [s.application_id for s in every if s.application_id is not None]
    )
    cards_f = store.preview_cards.for_statuses(content_ids)
    (mentions, tags, media, polls, marks, apps), cards = await asyncio.gather(
        asyncio.gather(mentions_f, tags_f, media_f, polls_f, marks_f, apps_f), cards_f
    )
    account_ids = [s.account_id for s in every]
    for ms in mentions.values():
        account_ids.extend(m.account_id for m in ms)
    accounts = await store.accounts.get_many(account_ids)
    own_votes: dict[int, list[int]] = {}
    if viewer_id is not None and polls:
        own_votes = await store.polls.votes_of(viewer_id, [p.id for p in polls.values()])
    muted_convs: set[str] = set()
    if viewer_id is not None:
        convs = [s.conversation for s in every if s.conversation]
        if convs:
            muted_convs = await store.interactions.muted_conversations(
                viewer_id, list(dict.fromkeys(convs))
            )

    def view(s: Status) -> StatusView | None:
        author = accounts.get(s.account_id)
        if author is None:
            return None
        poll = polls.get(s.id)
        pv = None
        if poll is not None:
            votes = own_votes.get(poll.id, [])
            pv = PollView(
                poll=poll,
                voted=bool(votes) or (viewer_id == s.account_id),
                own_votes=votes,
            )
        return StatusView(
            status=s,
            account=author,
            mentions=[
                accounts[m.account_id] for m in mentions.get(s.id, []) if m.account_id in accounts
            ],
            tags=tags.get(s.id, []),
            media=media.get(s.id, []),
            poll=pv,
            application=apps.get(s.application_id) if s.application_id is not None else None,
            card=cards.get(s.id),
            favourited=s.id in marks.favourited,
            reblogged=s.id in marks.reblogged,
            bookmarked=s.id in marks.bookmarked,
            pinned=s.id in marks.pinned,
            muted=bool(s.conversation) and s.conversation in muted_convs,
        )

    out = []
    for s in statuses:
        v = view(s)
        if v is None:
            continue
        if s.reblog_of_id is not None:
            target = targets.get(s.reblog_of_id)
            tv = view(target) if target is not None else None
            if tv is None:
                continue
            v.reblog = tv
        out.append(v)
    return out


async def load_status_view(store: Store, status: Status, viewer_id: int | None) -> StatusView:
    views = await load_status_views(store, [status], viewer_id)
    if not views:
        from storage.errors import NotFound

        raise NotFound("status")
    return views[0]
