"""Remote actors, keys and objects: looked up in the database first, fetched (signed) on a
miss, cached, and stored. Every fetch asks the policy first (direction "fetch")."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from activitypub import vocab
from activitypub.convert import (
    ParsedNote,
    actor_from_as,
    authority_of,
    note_from_as,
    note_origin,
    same_origin,
)
from activitypub.errors import FetchError, MalformedActivity, ObjectDeleted
from activitypub.fetch import Fetcher
from activitypub.fields import obj_type
from activitypub.keys import LRU, KeyCache
from activitypub.policy_gate import PolicyGate
from activitypub.settings import FederationSettings
from activitypub.signatures import ResolvedKey
from activitypub.surface import Surface
from policy.text import tag_key
from storage import effects
from storage.db import current_batch
from storage.errors import Tombstoned
from storage.ids import now_ms
from storage.media import NewMedia
from storage.models import Account, Mention, Status
from storage.statuses import NewPoll, NewStatus, TagName
from storage.store import Store

log = logging.getLogger("fedinode.federation")

# A key is refetched (rotation) at most this often.
_KEY_REFRESH_INTERVAL_S = 60.0
# How many unknown mentioned actors one incoming note may make us fetch.
_MAX_MENTION_FETCHES = 5


@dataclass(frozen=True, slots=True)
class PreparedNote:
    """A note converted before its write transaction (the inbox worker does that for a
    batch, so HTML sanitising is not done while the one SQLite writer is held). Valid for
    the object it was made from, with the author's followers collection it was made with."""

    obj: dict[str, Any]
    followers_url: str | None
    fallback_to: Any
    fallback_cc: Any
    note: ParsedNote

    def fits(self, obj: dict[str, Any], followers_url: str | None) -> bool:
        return obj is self.obj and followers_url == self.followers_url


@dataclass(frozen=True, slots=True)
class CachedKey:
    owner: str
    account_id: int
    first_seen_ms: int
    resolved: ResolvedKey


class Resolver:
    """Lookup → fetch → store for actors, keys and statuses."""

    def __init__(
        self,
        store: Store,
        fetcher: Fetcher,
        gate: PolicyGate,
        keys: KeyCache,
        settings: FederationSettings,
        surface: Surface,
    ) -> None:
        self.store = store
        self.surface = surface
        self.fetcher = fetcher
        self.gate = gate
        self.keys = keys
        self.settings = settings
        self.domain = settings.domain.lower()
        self._key_cache: LRU[CachedKey] = LRU(8192)
        self._key_refreshed: dict[str, float] = {}

    # -- helpers --------------------------------------------------------------------------

    def is_local(self, uri: str | None) -> bool:
        return authority_of(uri) == self.domain

    async def fetch_json(self, url: str) -> dict[str, Any]:
        """A signed GET, after the policy allows fetching from the host."""
        host = authority_of(url)
        if not host:
            raise FetchError("not an http(s) URL", status=400, detail=url)
        if host == self.domain:
            raise FetchError("refusing to fetch our own URL", status=400, detail=url)
        decision = await self.gate.check_host(host, "fetch")
        if not decision.allowed:
            raise FetchError("fetching from this host is refused by policy", status=403,
                             detail=host)  # fmt: skip
        return await self.fetcher.get_json(url, host_allowed=self._may_fetch_from)

    def _may_fetch_from(self, host: str) -> bool:
        return self.gate.pipeline.check_host(host, "fetch").allowed

    # -- actors ---------------------------------------------------------------------------

    async def actor(self, uri: str, *, fetch: bool = True) -> Account | None:
        """The account of an actor URI: stored, else fetched (remote only)."""
        account = await self.store.accounts.by_uri(uri)
        if account is not None:
            if fetch and self.stale(account):
                try:
                    return await self.refresh_actor(account)
                except (FetchError, MalformedActivity) as exc:
                    log.info("refresh of %s failed: %r", uri, exc)
            return account
        if not fetch or self.is_local(uri):
            return None
        return await self.fetch_actor(uri)

    def stale(self, account: Account) -> bool:
        """Whether a remote account is due to be fetched again (``actor`` does)."""
        if account.local:
            return False
        fetched = account.fetched_at or 0
        return now_ms() - fetched > self.settings.actor_refresh_hours * 3_600_000

    async def fetch_actor(self, uri: str) -> Account:
        doc = await self._fetch_filtered(uri)
        return await self.store_actor(doc)

    async def _fetch_filtered(self, url: str) -> dict[str, Any]:
        """fetch_json, then the content pipeline (avatar/banner removal, suspensions)."""
        doc = await self.fetch_json(url)
        filtered = await self.gate.filter_fetched(doc, peer=authority_of(url) or "")
        if filtered is None:
            raise FetchError("refused by policy", status=403, detail=url)
        return filtered

    async def store_actor(self, doc: dict[str, Any]) -> Account:
        """Store (or refresh) a remote actor from its document."""
        new = actor_from_as(doc)
        if new.domain == self.domain:
            raise MalformedActivity("a remote document claims one of our actors")
        account = await self.store.accounts.upsert_remote(new)
        if account.public_key_id:
            self._key_cache.pop(account.public_key_id)
        return account

    async def refresh_actor(self, account: Account) -> Account:
        if account.local:
            return account
        doc = await self._fetch_filtered(account.uri)
        if doc.get("id") != account.uri:
            raise FetchError("actor moved to another id", detail=f"{account.uri}")
        return await self.store_actor(doc)

    async def account_by_acct(self, acct: str) -> Account | None:
        """``user@host`` (also ``@user@host``, ``acct:…``) or a local ``user``."""
        handle = acct.strip()
        if handle.startswith("acct:"):
            handle = handle[5:]
        handle = handle.lstrip("@")
        user, sep, host = handle.rpartition("@")
        if not sep:
            return await self.store.accounts.by_handle(handle, "")
        host = host.lower()
        if host == self.domain:
            return await self.store.accounts.by_handle(user, "")
        known = await self.store.accounts.by_handle(user, host)
        if known is not None:
            return known
        decision = await self.gate.check_host(host, "fetch")
        if not decision.allowed:
            return None
        actor_url = await self.fetcher.webfinger(f"{user}@{host}")
        return await self.actor(actor_url)

    # -- keys -----------------------------------------------------------------------------

    async def key(self, key_id: str, refresh: bool) -> ResolvedKey | None:
        """The verified owner and key object of a keyId (for signature verification)."""
        cached = await self.cached_key(key_id, refresh=refresh)
        return cached.resolved if cached is not None else None

    def peek_key(self, key_id: str) -> CachedKey | None:
        return self._key_cache.get(key_id)

    async def cached_key(self, key_id: str, *, refresh: bool = False) -> CachedKey | None:
        if not refresh:
            hit = self._key_cache.get(key_id)
            if hit is not None:
                return hit
            account = await self.store.accounts.by_key_id(key_id)
            if account is not None and account.public_key_pem:
                return self._remember(key_id, account)
        else:
            last = self._key_refreshed.get(key_id, 0.0)
            if time.monotonic() - last < _KEY_REFRESH_INTERVAL_S:
                return self._key_cache.get(key_id)
            self._key_refreshed[key_id] = time.monotonic()
            if len(self._key_refreshed) > 10_000:
                self._key_refreshed.clear()
        account = await self._fetch_key_owner(key_id)
        if account is None or account.public_key_id != key_id or not account.public_key_pem:
            return None
        return self._remember(key_id, account)

    def _remember(self, key_id: str, account: Account) -> CachedKey | None:
        try:
            public = self.keys.public(key_id, account.public_key_pem)
        except ValueError:
            return None
        entry = CachedKey(
            owner=account.uri,
            account_id=account.id,
            first_seen_ms=account.created_at,
            resolved=ResolvedKey(owner=account.uri, public_key=public),
        )
        self._key_cache.put(key_id, entry)
        return entry

    async def _fetch_key_owner(self, key_id: str) -> Account | None:
        if self.is_local(key_id):
            return await self.store.accounts.by_key_id(key_id)
        doc = await self.fetch_json(key_id.split("#", 1)[0])
        if obj_type(doc) in vocab.ACTOR_TYPES:
            return await self.store_actor(doc)
        owner = doc.get("owner")
        if isinstance(owner, str) and same_origin(owner, key_id):
            return await self.fetch_actor(owner)
        return None

    # -- statuses -------------------------------------------------------------------------

    async def status(self, uri: str, *, depth: int = 0) -> Status | None:
        """A status by URI: stored, else fetched and stored (remote only)."""
        found = await self.store.statuses.by_uri(uri)
        if found is not None or self.is_local(uri):
            return found
        if await self.store.tombstones.exists(uri):
            return None
        doc = await self.fetch_json(uri)
        if obj_type(doc) not in vocab.STATUS_TYPES:
            return None
        filtered = await self.gate.filter_fetched(doc, peer=authority_of(uri) or "")
        if filtered is None:
            return None
        status, _ = await self.ingest_note(filtered, depth=depth)
        return status

    async def ingest_note(
        self,
        obj: dict[str, Any],
        *,
        depth: int = 0,
        fallback_to: Any = None,
        fallback_cc: Any = None,
        author: Account | None = None,
        prepared: PreparedNote | None = None,
    ) -> tuple[Status, bool]:
        """Store a remote note (idempotent by URI); fetches its author, mentions and, up to
        the configured depth, the post it replies to. Tells the surface it was created.
        Returns the status and whether this call stored it with every side effect made
        (False: it was stored before, and may owe some).

        ``author``: the account of the note's author when the caller has it already (the
        actor of the Create that carried it); looked up otherwise. ``prepared``: the
        conversion made ahead of time, used when it was made from this object for this
        author."""
        uri = obj.get("id")
        # In an inbox batch the insert is the look (``StatusStore.store_new``: a URI stored
        # before, or one deleted): one statement an activity fewer, and only the rare copy
        # of a note costs its conversion and lookups.
        if isinstance(uri, str) and current_batch(self.store.db) is None:
            existing, deleted = await self.store.statuses.by_uri_or_tombstone(uri)
            if existing is not None:
                return existing, False
            if deleted:
                raise ObjectDeleted("the note was deleted")
        note_uri, _, author_uri = note_origin(obj)
        if not same_origin(note_uri, author_uri):
            raise MalformedActivity("note and author are on different hosts")
        if self.is_local(note_uri):
            raise MalformedActivity("a remote document claims one of our statuses")
        if author is None or author.uri != author_uri:
            author = await self.actor(author_uri)
        if author is None:
            raise MalformedActivity("author unknown")
        if author.suspended:
            raise MalformedActivity("author is suspended")
        followers_url = author.followers_url or None
        if (
            prepared is not None
            and prepared.fits(obj, followers_url)
            and prepared.fallback_to is fallback_to
            and prepared.fallback_cc is fallback_cc
        ):
            parsed = prepared.note
        else:
            parsed = note_from_as(
                obj, followers_url=followers_url, fallback_to=fallback_to, fallback_cc=fallback_cc
            )
        return await self._create_note(parsed, author, depth)

    async def mention_ids(self, parsed: ParsedNote) -> list[int]:
        ids: list[int] = []
        fetched = 0
        for href in parsed.mentions:
            account = await self.store.accounts.by_uri(href)
            if account is None and not self.is_local(href) and fetched < _MAX_MENTION_FETCHES:
                fetched += 1
                try:
                    account = await self.fetch_actor(href)
                except (FetchError, MalformedActivity) as exc:
                    log.info("mentioned actor %s not fetched: %r", href, exc)
            if account is not None:
                ids.append(account.id)
        return ids

    async def _create_note(
        self, parsed: ParsedNote, author: Account, depth: int
    ) -> tuple[Status, bool]:
        batched = current_batch(self.store.db) is not None
        parent: Status | None = None
        if parsed.in_reply_to:
            parent = await self.store.statuses.by_uri(parsed.in_reply_to)
            if parent is None and depth < self.settings.reply_fetch_depth:
                try:
                    parent = await self.status(parsed.in_reply_to, depth=depth + 1)
                except (FetchError, MalformedActivity) as exc:
                    log.info("reply parent %s not fetched: %r", parsed.in_reply_to, exc)
        mention_ids = await self.mention_ids(parsed)
        # Stored with the status, in its transaction: a crash leaves no attachment behind.
        new_media = [
            NewMedia(
                account_id=author.id,
                type=media.type,
                content_type=media.media_type,
                remote_url=media.url,
                description=media.description,
                focus_x=media.focus[0],
                focus_y=media.focus[1],
                blurhash=media.blurhash,
                meta=media.meta(),
                position=position,
            )
            for position, media in enumerate(parsed.media)
        ]
        poll = None
        if parsed.poll is not None:
            poll = NewPoll(
                options=parsed.poll.options,
                multiple=parsed.poll.multiple,
                expires_at=parsed.poll.expires_at,
                votes=parsed.poll.votes,
                voters_count=parsed.poll.voters_count,
            )
        now = now_ms()
        created = parsed.published if parsed.published is not None else now
        new = NewStatus(
            account_id=author.id,
            local=False,
            uri=parsed.uri,
            url=parsed.url,
            content=parsed.content,
            spoiler_text=parsed.spoiler_text,
            sensitive=parsed.sensitive,
            visibility=parsed.visibility,
            language=parsed.language,
            in_reply_to_id=parent.id if parent is not None else None,
            in_reply_to_uri=parsed.in_reply_to,
            in_reply_to_account_id=parent.account_id if parent is not None else None,
            conversation=(parent.conversation if parent is not None else None)
            or parsed.conversation,
            emojis=parsed.emojis,
            mentions=mention_ids,
            tags=[TagName(tag_key(h), h) for h in parsed.hashtags],
            new_media=new_media,
            poll=poll,
            created_at=min(created, now),
            # In a batch (the inbox worker's transaction) the status, its side effects and
            # the item's "done" commit together: nothing can be left owed, so no mark.
            pending_effects=not batched,
        )
        # A Delete processed meanwhile (another inbox worker) records its tombstone before
        # looking the status up: the insert looks for it (``StatusStore.store_new``), so one
        # of the two sides sees the other, and it stays deleted.
        try:
            status, inserted = await self.store.statuses.store_new(new)
        except Tombstoned:
            raise ObjectDeleted("the note was deleted while it was stored") from None
        if not inserted:
            # Stored before (a copy of this Create, or a concurrent insert of the same URI,
            # which makes its side effects): the caller completes any still owed.
            return status, False
        # Its children are those just written: not read back.
        await self.surface.status_created(
            status,
            author,
            mentions=[Mention(status.id, a, False) for a in dict.fromkeys(mention_ids)],
            media=None if new_media else [],
        )
        # The mark stored with the status goes once its side effects are made; a crash
        # before this leaves it for the inbox activity run again (or the worker).
        if not batched:
            await self.store.effects.done(status.id, effects.CREATED)
        return status, True
