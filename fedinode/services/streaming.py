"""Streaming: one event subscriber per process, fanned out in memory to open streams.

Writers publish small facts on ``storage.events`` (``status.created``, ``status.updated``,
``status.deleted``, ``notification``, ``filters_changed``); the hub reads them once and,
for each connected viewer, decides with the same rules as the timelines (visibility,
blocks and mutes, follows for home, list membership and replies policy, filters) whether
and how the viewer sees the event, renders it once per viewer and queues it on each of
that viewer's matching streams.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import unicodedata
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from fedinode.api import schemas
from fedinode.config import Config
from fedinode.services import filters as filter_service
from fedinode.services.conversations import load_conversation
from fedinode.services.render_cache import status_views
from fedinode.services.views import StatusView
from policy.text import tag_key
from storage import events
from storage.conversations import ConversationRow
from storage.ids import parse_id
from storage.models import Account, Status
from storage.store import Store

if TYPE_CHECKING:
    from fedinode.api.entities import Conversation

log = logging.getLogger("fedinode.streaming")

PUBLIC_STREAMS = frozenset(
    {
        "public", "public:media", "public:local", "public:local:media",
        "public:remote", "public:remote:media",
    }
)  # fmt: skip
HASHTAG_STREAMS = frozenset({"hashtag", "hashtag:local"})
USER_STREAMS = frozenset({"user", "user:notification", "list", "direct"})
STREAMS = PUBLIC_STREAMS | HASHTAG_STREAMS | USER_STREAMS
QUEUE_SIZE = 1000
FILTER_CACHE_SECONDS = 30.0


class StreamError(Exception):
    """A subscription the caller may not make (unknown stream, missing tag or list, no login)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True, slots=True)
class Subscription:
    stream: str
    param: str | None = None  # the hashtag (as subscribed, lower case) or the list id
    key: str | None = None  # the hashtag's key (policy.text.tag_key), what statuses match by

    def label(self) -> list[str]:
        return [self.stream] if self.param is None else [self.stream, self.param]


@dataclass(frozen=True, slots=True)
class Message:
    stream: list[str]
    event: str
    payload: str | None

    def websocket_json(self) -> str:
        return orjson.dumps(
            schemas.stream_message_to_api(self.stream, self.event, self.payload)
        ).decode()


@dataclass(eq=False)
class Listener:
    """One open connection (a WebSocket with many subscriptions, or one SSE stream)."""

    viewer: Account | None
    scopes: frozenset[str]
    subscriptions: set[Subscription] = field(default_factory=set)
    queue: asyncio.Queue[Message | None] = field(
        default_factory=lambda: asyncio.Queue(maxsize=QUEUE_SIZE)
    )
    overflowed: bool = False

    @property
    def viewer_id(self) -> int | None:
        return None if self.viewer is None else self.viewer.id

    def send(self, message: Message) -> None:
        if self.overflowed:
            return
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            # A client that does not read is cut off rather than buffered without bound.
            self.overflowed = True
            with contextlib.suppress(asyncio.QueueEmpty):
                self.queue.get_nowait()
            self.queue.put_nowait(None)

    def close(self) -> None:
        """End the stream (the app is stopping)."""
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait(None)

    async def messages(self) -> AsyncIterator[Message]:
        while True:
            message = await self.queue.get()
            if message is None:
                return
            yield message


async def resolve_subscription(
    store: Store,
    listener: Listener,
    stream: str | None,
    *,
    tag: str | None = None,
    list_id: str | None = None,
) -> Subscription:
    """Check a requested stream against the caller; StreamError says why not."""
    if not stream:
        raise StreamError("Missing stream parameter")
    if stream not in STREAMS:
        raise StreamError("Unknown stream type", 400)
    if stream in USER_STREAMS and listener.viewer is None:
        raise StreamError("Missing access token", 401)
    if stream in HASHTAG_STREAMS:
        if not tag or not tag.strip("#"):
            raise StreamError("No tag for stream provided")
        name = unicodedata.normalize("NFC", tag.strip().lstrip("#")).lower()
        return Subscription(stream, name, key=tag_key(tag))
    if stream == "list":
        ident = parse_id(list_id)
        if ident is None or listener.viewer is None:
            raise StreamError("List not found", 404)
        if await store.lists.get(listener.viewer.id, ident) is None:
            raise StreamError("List not found", 404)
        return Subscription("list", list_id)
    return Subscription(stream)


@dataclass(slots=True)
class _Cached:
    filters: filter_service.FilterSet
    at: float


class StreamHub:
    """Every open stream of this process, fed from the one event subscription."""

    def __init__(self, store: Store, config: Config) -> None:
        self.store = store
        self.config = config
        self.listeners: set[Listener] = set()
        self._filters: dict[int, _Cached] = {}
        self.ready = asyncio.Event()

    def add(self, listener: Listener) -> None:
        self.listeners.add(listener)

    def remove(self, listener: Listener) -> None:
        self.listeners.discard(listener)

    async def run(self) -> None:
        """Read events until cancelled; reconnect after a lost subscription."""
        while True:
            try:
                async with events.subscribe(self.store.db) as messages:
                    self.ready.set()
                    async for raw in messages:
                        try:
                            await self.dispatch(orjson.loads(raw))
                        except Exception:
                            log.exception("streaming: dispatching %.200s failed", raw)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("streaming: event subscription lost; retrying")
                self.ready.clear()
                await asyncio.sleep(1.0)

    # -- dispatch -----------------------------------------------------------------------

    async def dispatch(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if not self.listeners:
            return
        if kind in ("status.created", "status.updated"):
            await self._status(event, "update" if kind == "status.created" else "status.update")
        elif kind == "status.deleted":
            self._deleted(event)
        elif kind == "notification":
            await self._notification(event)
        elif kind == "filters_changed":
            account_id = event.get("account_id")
            if isinstance(account_id, int):
                self._filters.pop(account_id, None)
                for listener in self._of_viewer(account_id):
                    for sub in listener.subscriptions:
                        if sub.stream == "user":
                            listener.send(Message(sub.label(), "filters_changed", None))

    def _of_viewer(self, account_id: int) -> list[Listener]:
        return [x for x in self.listeners if x.viewer_id == account_id]

    async def _filter_set(self, viewer_id: int) -> filter_service.FilterSet:
        cached = self._filters.get(viewer_id)
        now = time.monotonic()
        if cached is not None and now - cached.at < FILTER_CACHE_SECONDS:
            return cached.filters
        loaded = await filter_service.load_filter_set(self.store, viewer_id)
        self._filters[viewer_id] = _Cached(loaded, now)
        return loaded

    async def _status(self, event: dict[str, Any], name: str) -> None:
        status_id = event.get("status_id")
        if not isinstance(status_id, int):
            return
        status = await self.store.statuses.get(status_id)
        if status is None:
            return
        original = status
        if status.reblog_of_id is not None:
            target = await self.store.statuses.get(status.reblog_of_id)
            if target is None:
                return
            original = target
        author = await self.store.accounts.get(status.account_id)
        if author is None or author.suspended:
            return
        facts = await _StatusFacts.load(self.store, status, original, author)
        by_viewer: dict[int | None, list[Listener]] = {}
        for listener in list(self.listeners):
            if listener.subscriptions:
                by_viewer.setdefault(listener.viewer_id, []).append(listener)
        await asyncio.gather(
            *(
                self._status_for(viewer_id, group, facts, name)
                for viewer_id, group in by_viewer.items()
            )
        )

    async def _status_for(
        self, viewer_id: int | None, listeners: list[Listener], facts: _StatusFacts, name: str
    ) -> None:
        routes: list[
            tuple[Listener, Subscription, str]
        ] = []  # (listener, subscription, filter context)
        for listener in listeners:
            # A copy: a subscribe message may change the set while a route awaits a lookup.
            for sub in list(listener.subscriptions):
                context = await facts.route(self.store, viewer_id, sub)
                if context is not None:
                    routes.append((listener, sub, context))
        if not routes:
            return
        s, o = facts.status, facts.original
        if viewer_id is not None:
            hidden, of_blocked_domain = await self.store.relationships.hidden_authors_and_domains(
                viewer_id, [s.account_id, o.account_id]
            )
            if hidden:
                return
            if of_blocked_domain:
                routes = [
                    r
                    for r in routes
                    if _domain_route_kept(r[1], facts, viewer_id, of_blocked_domain)
                ]
                if not routes:
                    return
        if not await self.store.statuses.visible_to(s, viewer_id):
            return
        if o is not s and not await self.store.statuses.visible_to(o, viewer_id):
            return
        # One query for this viewer (marks, versions), the status itself from the render
        # cache: loaded for the first viewer, shared by the others and by timeline pages
        # (load_status_views read it all again, ~10 queries, for every viewer of an event).
        views = await status_views(self.store, [s.id], viewer_id)
        if not views:
            return
        view = views[0]
        filters = (
            await self._filter_set(viewer_id)
            if viewer_id is not None and o.account_id != viewer_id
            else filter_service.FilterSet()
        )
        rendered: dict[str, str | None] = {}
        for listener, sub, context in routes:
            if context not in rendered:
                rendered[context] = self._render(view, viewer_id, filters, context)
            payload = rendered[context]
            if payload is None:
                continue
            if sub.stream == "direct":
                conversation = await self._conversation(viewer_id, s)
                if conversation is not None:
                    listener.send(Message(sub.label(), "conversation", conversation))
                continue
            listener.send(Message(sub.label(), name, payload))

    def _render(
        self,
        view: StatusView,
        viewer_id: int | None,
        filters: filter_service.FilterSet,
        context: str,
    ) -> str | None:
        matches = filter_service.match_view(filters, context, view)
        if filter_service.hides(matches):
            return None
        body = schemas.status_to_api(view, self.config, viewer_id, filtered=matches)
        return orjson.dumps(body).decode()

    async def _conversation(self, viewer_id: int | None, status: Status) -> str | None:
        if viewer_id is None or not status.conversation:
            return None
        row = await self.store.conversations.for_status(viewer_id, status.conversation)
        if row is None:
            return None
        body = await conversation_entity(self.store, self.config, viewer_id, row)
        return None if body is None else orjson.dumps(body).decode()

    def _deleted(self, event: dict[str, Any]) -> None:
        """A delete names only ids, so it goes to every stream that may have shown the status."""
        status_id = event.get("status_id")
        if not isinstance(status_id, int):
            return
        for listener in list(self.listeners):
            for sub in listener.subscriptions:
                if sub.stream in ("user:notification", "direct"):
                    continue
                listener.send(Message(sub.label(), "delete", str(status_id)))

    async def _notification(self, event: dict[str, Any]) -> None:
        account_id, notification_id = event.get("account_id"), event.get("notification_id")
        if not isinstance(account_id, int) or not isinstance(notification_id, int):
            return
        targets = [
            (listener, sub)
            for listener in self._of_viewer(account_id)
            for sub in listener.subscriptions
            if sub.stream in ("user", "user:notification")
        ]
        if not targets:
            return
        payload = await notification_payload(self.store, self.config, account_id, notification_id)
        if payload is None:
            return
        for listener, sub in targets:
            listener.send(Message(sub.label(), "notification", payload))


def _domain_route_kept(
    sub: Subscription, facts: _StatusFacts, viewer_id: int, of_blocked_domain: set[int]
) -> bool:
    """Whether a route stays when the status is by an author of a domain the viewer blocks:
    as in the timelines (``storage.status_sql``), only for a followed author, in home or a
    list, or a direct one. (A reblog of a status from there has no view for the viewer:
    ``status_views`` leaves it out, as the timelines do.)"""
    if facts.status.account_id not in of_blocked_domain or sub.stream in ("list", "direct"):
        return True
    return sub.stream == "user" and viewer_id in facts.followers


@dataclass(slots=True)
class _StatusFacts:
    """What routing needs about one status, loaded once per event."""

    status: Status
    original: Status
    author: Account
    tags: set[str]
    has_media: bool
    followers: set[int]
    tag_followers: set[int]
    lists: dict[int, list[tuple[int, str]]]  # owner → [(list id, replies policy)]
    participants: set[int]
    show_reblogs: dict[int, bool] = field(default_factory=dict)

    @classmethod
    async def load(
        cls, store: Store, status: Status, original: Status, author: Account
    ) -> _StatusFacts:
        tags = await store.statuses.tags_for([original.id])
        media = await store.statuses.media_for([original.id])
        tag_objs = tags.get(original.id, [])
        followers = set(await store.relationships.local_follower_ids(author.id))
        tag_followers: set[int] = set()
        if status.visibility == "public" and status.reblog_of_id is None and tag_objs:
            tag_followers = await store.tags.local_followers([t.id for t in tag_objs])
        lists: dict[int, list[tuple[int, str]]] = {}
        for m in await store.lists.memberships(author.id):
            lists.setdefault(m.owner_id, []).append((m.list_id, m.replies_policy))
        participants: set[int] = set()
        if status.visibility == "direct":
            mentions = await store.statuses.mentions_for([status.id])
            participants = {m.account_id for m in mentions.get(status.id, [])} | {author.id}
        return cls(
            status=status,
            original=original,
            author=author,
            tags={t.name for t in tag_objs},
            has_media=bool(media.get(original.id)),
            followers=followers,
            tag_followers=tag_followers,
            lists=lists,
            participants=participants,
        )

    async def route(self, store: Store, viewer_id: int | None, sub: Subscription) -> str | None:
        """The filter context under which ``sub`` shows the status, or None when it does not."""
        s = self.status
        is_public = s.visibility == "public" and s.reblog_of_id is None
        stream = sub.stream
        if stream in PUBLIC_STREAMS:
            if not is_public or self.author.silenced:
                return None
            if ":local" in stream and not s.local:
                return None
            if ":remote" in stream and s.local:
                return None
            if stream.endswith(":media") and not self.has_media:
                return None
            return "public"
        if stream in HASHTAG_STREAMS:
            if not is_public or sub.key not in self.tags:
                return None
            if stream == "hashtag:local" and not s.local:
                return None
            return "public"
        if viewer_id is None:
            return None
        if stream == "user":
            if s.account_id == viewer_id:
                return "home"
            if viewer_id in self.followers:
                if s.reblog_of_id is not None and not await self._shows_reblogs(store, viewer_id):
                    return None
                return "home"
            if viewer_id in self.tag_followers:
                return "home"
            return None
        if stream == "list":
            for list_id, policy in self.lists.get(viewer_id, []):
                if str(list_id) == sub.param and await self._reply_allowed(
                    store, viewer_id, list_id, policy
                ):
                    return "home"
            return None
        if stream == "direct":
            return "thread" if viewer_id in self.participants else None
        return None

    async def _shows_reblogs(self, store: Store, viewer_id: int) -> bool:
        if viewer_id not in self.show_reblogs:
            follow = await store.relationships.get_follow(viewer_id, self.author.id)
            self.show_reblogs[viewer_id] = follow is not None and follow.show_reblogs
        return self.show_reblogs[viewer_id]

    async def _reply_allowed(self, store: Store, owner_id: int, list_id: int, policy: str) -> bool:
        s = self.status
        if s.in_reply_to_id is None or s.in_reply_to_account_id in (None, s.account_id, owner_id):
            return True
        if policy == "none":
            return False
        target = s.in_reply_to_account_id
        assert target is not None
        if policy == "followed":
            return await store.relationships.get_follow(owner_id, target) is not None
        members = await store.lists.accounts_in(list_id, [target])
        return bool(members)


async def notification_payload(
    store: Store, config: Config, account_id: int, notification_id: int
) -> str | None:
    from activitypub.urls import Urls
    from fedinode.services.context import Ctx
    from fedinode.services.notifications import load_notification_views

    n = await store.notifications.get(account_id, notification_id)
    if n is None:
        return None
    ctx = Ctx(store=store, config=config, urls=Urls(config.base_url))
    views = await load_notification_views(ctx, [n], account_id)
    if not views:
        return None
    v = views[0]
    if v.status is not None:
        filters = await filter_service.load_filter_set(store, account_id)
        if filter_service.hides(filter_service.match_view(filters, "notifications", v.status)):
            return None
    body = schemas.notification_to_api(
        v.notification, v.account, v.status, config, account_id, v.report
    )
    return orjson.dumps(body).decode()


async def conversation_entity(
    store: Store, config: Config, viewer_id: int, row: ConversationRow
) -> Conversation | None:
    """The Conversation entity for one of the viewer's conversations."""
    view = await load_conversation(store, viewer_id, row)
    return None if view is None else schemas.conversation_view_to_api(view, config, viewer_id)


def stream_labels(subscriptions: Iterable[Subscription]) -> list[list[str]]:
    return [s.label() for s in subscriptions]
