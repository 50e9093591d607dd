"""The inbox worker: takes verified activities from the intake queue and applies them.

Handlers are small, one per activity type, and idempotent: an item is marked done only
after its handler returned, so after a crash it runs again over whatever the first run
stored. Every write is an upsert or checks first, and a handler that finds its change
already stored still completes the side effects that may be missing (a status's owed
side effects are marked with it, ``storage.effects``; notifications carry a key, so none
is made twice). Transient failures (a fetch that timed out) are retried with backoff;
malformed input is dropped.

Items are applied in batches: the claimed items run in one database transaction
(``Database.batch``), each in a savepoint of its own, and the transaction also marks them
done, so an item's changes and its "done" commit together or not at all. An item that
needs the network (an unknown actor, a reply's parent) or fails is rolled back to its
savepoint and run again alone after the commit, as before batching: no transaction waits
on a peer, and one bad item does not undo the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from activitypub import vocab
from activitypub.convert import ms_from_iso, note_from_as, same_origin
from activitypub.effects import EffectsCompleter
from activitypub.errors import FetchError, Ignored, MalformedActivity, NetworkDeferred
from activitypub.fetch import offline
from activitypub.fields import content_of, first_str, id_of, ids_of, is_public, obj_type
from activitypub.html import html_to_text
from activitypub.keys import LRU
from activitypub.outbox import Outbox
from activitypub.resolver import PreparedNote, Resolver
from activitypub.settings import FederationSettings
from activitypub.surface import Surface
from activitypub.undo import UndoApplier
from activitypub.urls import Urls
from policy.text import tag_key
from storage import effects
from storage.db import batch_memo, wait_patiently
from storage.ids import now_ms
from storage.media import NewMedia
from storage.models import OPEN_VISIBILITIES, Account, InboxItem, Status, Visibility
from storage.statuses import NewPoll, NewStatus, TagName
from storage.store import Store

log = logging.getLogger("fedinode.inbox")

Handler = Callable[[dict[str, Any], Account, InboxItem | None], Awaitable[None]]


def _by_actor(item: InboxItem) -> str:
    return item.actor


# The key of an actor in the open inbox batch's memo (``storage.db.batch_memo``: forgotten
# at any rolled-back savepoint; on PostgreSQL as old as the batch at most). A batch takes
# each actor's items in a row, and a Create changes nothing of its actor that a Create reads
# (its counters only); any other type empties the memo.
_ACTOR = "inbox_actor"


class InboxProcessor:
    """Applies activities; ``run`` is the worker loop over the intake queue."""

    max_attempts = 6
    retry_base_ms = 30_000
    poll_interval = 1.0
    batch_size = 64
    # How long one transaction of a batch may last before it commits and the next begins;
    # and how long when another writer waits for it (SQLite's one writer: the intake's
    # commits, which the 202s wait for).
    transaction_seconds = 0.02
    contended_transaction_seconds = 0.002
    # While this process's own intake is committing (a burst of POSTs to its inboxes), a
    # transaction lasts this long at most: applying items holds this process's event loop,
    # and the POSTs it serves wait behind it for their 202s. Once the intake has been quiet
    # for ``intake_quiet_seconds``, transactions are long again and the queue drains faster.
    # bench/inbox.py (SQLite, 2 processes): 2,623–2,789 accepted/s and 1,583–1,637
    # processed/s with 20 ms throughout; 3,078–3,196 and 1,596–1,773 so. SQLite only: what
    # the 202s wait for there is the one writer a transaction holds; on PostgreSQL the
    # intake's commits wait for no transaction of the inbox, and a short one costs a commit
    # (a WAL flush) every two or three activities.
    busy_transaction_seconds = 0.005
    intake_quiet_seconds = 0.05
    # Items a transaction takes at least before it gives way to a waiting writer: a commit
    # costs about as much as applying an item, and with the clock alone a loaded machine
    # let 2.3 items in a transaction (bench/inbox.py, serve --workers 2).
    contended_transaction_items = 8
    # How often the loop looks for status side effects left owed (``storage.effects``).
    effects_interval = 5.0

    def __init__(
        self,
        store: Store,
        resolver: Resolver,
        outbox: Outbox,
        settings: FederationSettings,
        urls: Urls,
        wake: asyncio.Event,
        surface: Surface,
    ) -> None:
        self.store = store
        self.surface = surface
        self.resolver = resolver
        self.outbox = outbox
        self.settings = settings
        self.urls = urls
        self.wake = wake
        self.effects = EffectsCompleter(store, surface, outbox)
        self.undo = UndoApplier(store, resolver, surface)
        self._stopping = False
        self._effects_checked = 0.0
        self.processed = 0
        self._intake_at = float("-inf")  # loop time of this process's last intake commit
        # Items of the batch being applied, parsed and converted before its transaction.
        self._documents: dict[int, dict[str, Any]] = {}
        self._prepared: dict[int, PreparedNote] = {}
        # Item id → the stored accounts of its batch's actors, read in one statement before
        # the batch's transactions (``_prepare``); a Create uses its actor's (unless due for
        # a refresh), and any other type empties the batch's, which it may change.
        self._actors: dict[int, dict[str, Account]] = {}
        # Author URI → followers collection ("" for none), as last read: a note is converted
        # ahead with it, and used only if the author read in the transaction has the same
        # (``PreparedNote.fits``), so a stale entry costs a conversion, never a wrong one.
        self._followers_urls: LRU[str] = LRU(4096)
        self._handlers: dict[str, Handler] = {
            vocab.FOLLOW: self.on_follow,
            vocab.ACCEPT: self.on_accept,
            vocab.REJECT: self.on_reject,
            vocab.UNDO: self.on_undo,
            vocab.CREATE: self.on_create,
            vocab.UPDATE: self.on_update,
            vocab.DELETE: self.on_delete,
            vocab.ANNOUNCE: self.on_announce,
            vocab.LIKE: self.on_like,
            vocab.BLOCK: self.on_block,
            vocab.FLAG: self.on_flag,
            vocab.MOVE: self.on_move,
        }

    # -- worker loop ----------------------------------------------------------------------

    async def run(self) -> None:
        # This loop's waits for the writer (the other loop's batch) need not be short: only
        # the intake's commits, which 202s wait for, make a batch commit early.
        wait_patiently()
        self._stopping = False
        loop = asyncio.get_running_loop()
        while not self._stopping:
            try:
                if loop.time() - self._effects_checked >= self.effects_interval:
                    self._effects_checked = loop.time()
                    await self.effects.run_due()
                worked = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("inbox loop error")
                worked = 0
                await asyncio.sleep(1.0)
            if not worked:
                self.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), self.poll_interval)

    def stop(self) -> None:
        self._stopping = True
        self.wake.set()

    async def run_once(self) -> int:
        """Process one claimed batch; returns how many items were taken."""
        items = await self.store.queues.claim_inbox(self.batch_size)
        if not items:
            return 0
        alone = await self.apply_batched(items)
        done: list[int] = []
        for item in alone:
            if await self.process(item):
                done.append(item.id)
        await self.store.queues.finish_inbox_many(done)
        self.processed += len(done)
        return len(items)

    async def apply_batched(self, items: list[InboxItem]) -> list[InboxItem]:
        """Apply ``items`` in transactions that also mark them done; returns the items left
        to run alone (they needed the network, or failed; or all of a transaction that did).

        The items are parsed, and the notes they create converted (HTML sanitised),
        before any transaction opens: on SQLite a transaction holds the one writer that
        every process shares, so it should hold it for the writes alone. A transaction
        takes items until it has lasted ``transaction_seconds``, and the intake's commits
        (the 202s) do not wait long: when they wait, it commits after
        ``contended_transaction_seconds`` and ``contended_transaction_items``.

        Items are applied by actor (stable: each actor's activities keep their order), so
        every transaction locks the authors' rows (their counters) in one order: two
        processes' batches on PostgreSQL would otherwise deadlock, each holding an author
        the other wants next (a second lost per deadlock, and the item run again alone)."""
        items = sorted(items, key=_by_actor)
        await self._prepare(items)
        try:
            alone: list[InboxItem] = []
            rest = items
            while rest:
                rest, failed = await self._apply_in_one_transaction(rest)
                alone += failed
            return alone
        finally:  # only this batch's: ``inbox_workers`` loops share the processor
            for item in items:
                self._documents.pop(item.id, None)
                self._prepared.pop(item.id, None)
                self._actors.pop(item.id, None)

    async def _prepare(self, items: list[InboxItem]) -> None:
        """Parse each item, read the stored accounts of their actors (one statement), and
        convert the note of each Create whose author is stored (reads; whatever fails here
        is met again, and reported, when the item runs)."""
        for item in items:
            try:
                document = orjson.loads(item.payload)
            except orjson.JSONDecodeError:
                continue
            if isinstance(document, dict):
                self._documents[item.id] = document
        actor_uris = [
            uri
            for document in map(self._documents.get, (item.id for item in items))
            if document is not None and (uri := id_of(document.get("actor"))) is not None
        ]
        actors = await self.store.accounts.by_uris(actor_uris)
        for item in items:
            self._actors[item.id] = actors
            document = self._documents.get(item.id)
            if document is None or document.get("type") != vocab.CREATE:
                continue
            obj = document.get("object")
            if not isinstance(obj, dict) or obj_type(obj) not in vocab.STATUS_TYPES:
                continue
            author_uri = id_of(obj.get("attributedTo"))
            if author_uri is None or author_uri != id_of(document.get("actor")):
                continue
            known = self._followers_urls.get(author_uri)
            if known is None:
                author = actors.get(author_uri)
                if author is None:
                    continue
                known = author.followers_url or ""
                self._followers_urls.put(author_uri, known)
            followers_url = known or None
            fallback_to, fallback_cc = document.get("to"), document.get("cc")
            try:
                note = note_from_as(
                    obj, followers_url=followers_url, fallback_to=fallback_to,
                    fallback_cc=fallback_cc,
                )  # fmt: skip
            except Exception:
                continue
            self._prepared[item.id] = PreparedNote(obj, followers_url, fallback_to,
                                                   fallback_cc, note)  # fmt: skip

    async def _apply_in_one_transaction(
        self, items: list[InboxItem]
    ) -> tuple[list[InboxItem], list[InboxItem]]:
        """(items not reached, items to run alone)."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        alone: list[InboxItem] = []
        done: list[int] = []
        taken = 0
        try:
            async with self.store.db.batch():
                for item in items:
                    taken += 1
                    try:
                        async with self.store.db.transaction():  # a savepoint
                            with offline():
                                await self._apply_item(item)
                    except asyncio.CancelledError:
                        raise
                    except NetworkDeferred as deferred:
                        log.debug("inbox item %s needs %s: run alone", item.id, deferred)
                        alone.append(item)
                    except Exception:
                        log.debug("inbox item %s failed in a batch; run alone", item.id,
                                  exc_info=True)  # fmt: skip
                        alone.append(item)
                    else:
                        done.append(item.id)
                    now = loop.time()
                    lasted = now - started
                    if (
                        lasted >= self.transaction_seconds
                        or (
                            lasted >= self.busy_transaction_seconds
                            and now - self._intake_at < self.intake_quiet_seconds
                            and self.store.db.dialect == "sqlite"
                        )
                        or (
                            lasted >= self.contended_transaction_seconds
                            and taken >= self.contended_transaction_items
                            and self.store.db.writers_waiting()
                        )
                    ):
                        break
                await self.store.queues.finish_inbox_many(done)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.warning("an inbox batch failed; its items run one by one", exc_info=True)
            return items[taken:], items[:taken]
        self.processed += len(done)
        return items[taken:], alone

    def intake_committed(self) -> None:
        """This process's intake committed activities: keep transactions short a while."""
        self._intake_at = asyncio.get_running_loop().time()

    async def _apply_item(self, item: InboxItem) -> None:
        """Apply one item; raises what ``process`` would retry (Ignored input is done)."""
        try:
            document = self._documents.get(item.id)
            if document is None:
                document = orjson.loads(item.payload)
            if not isinstance(document, dict):
                raise MalformedActivity("payload is not an object")
            await self.apply(document, item)
        except (Ignored, MalformedActivity) as exc:
            log.debug("inbox item %s (%s) not applied: %s", item.id, item.activity_id, exc)

    async def run_until_idle(self, within: float = 30.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while loop.time() < deadline and await self.run_once():
            pass

    async def process(self, item: InboxItem) -> bool:
        """Apply one item; True when it is finished (done or dropped), False if retried."""
        try:
            document = orjson.loads(item.payload)
            if not isinstance(document, dict):
                raise MalformedActivity("payload is not an object")
            await self.apply(document, item)
            return True
        except (Ignored, MalformedActivity) as exc:
            log.debug("inbox item %s (%s) not applied: %s", item.id, item.activity_id, exc)
            return True
        except FetchError as exc:
            error = f"{exc.reason}: {exc.detail}"
            gone = exc.remote_status in (404, 410)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("inbox item %s (%s) failed", item.id, item.activity_id)
            error, gone = repr(exc), False
        attempts = item.attempts + 1
        if gone or attempts >= self.max_attempts:
            await self.store.queues.fail_inbox(item.id, error, retry_at=None)
        else:
            delay = self.retry_base_ms * (2 ** (attempts - 1))
            await self.store.queues.fail_inbox(item.id, error, retry_at=now_ms() + delay)
        return False

    async def apply(self, document: dict[str, Any], item: InboxItem | None = None) -> None:
        """Dispatch one verified activity by type."""
        type_ = obj_type(document) or ""
        handler = self._handlers.get(type_)
        if handler is None:
            raise Ignored(f"unsupported type {type_[:40]}")
        actor_uri = id_of(document.get("actor"))
        if actor_uri is None:
            raise MalformedActivity("no actor")
        memo = batch_memo(self.store.db)
        read_before = self._actors.get(item.id) if item is not None else None
        if type_ != vocab.CREATE:
            # It may change an account (Update, Delete, Move, Block, ...).
            if memo is not None:
                memo.clear()
                memo = None
            if read_before is not None:
                read_before.clear()
                read_before = None
        actor = memo.get((_ACTOR, actor_uri)) if memo is not None else None
        if not isinstance(actor, Account) and read_before is not None:
            known = read_before.get(actor_uri)
            if known is not None and not self.resolver.stale(known):
                actor = known
        if not isinstance(actor, Account):
            actor = await self.resolver.actor(actor_uri, fetch=type_ != vocab.DELETE)
            if memo is not None and actor is not None:
                memo[(_ACTOR, actor_uri)] = actor
        if actor is None:
            raise Ignored("unknown actor")
        if actor.suspended:
            raise Ignored("actor is suspended")
        await handler(document, actor, item)

    # -- helpers --------------------------------------------------------------------------

    async def local_account(self, uri: str | None) -> Account | None:
        if not uri or not self.resolver.is_local(uri):
            return None
        account = await self.store.accounts.by_uri(uri)
        return account if account is not None and account.local else None

    async def embedded_or_fetched(self, value: Any, actor: Account) -> dict[str, Any]:
        """The object of an activity: embedded, or fetched from its origin by id."""
        if isinstance(value, dict) and obj_type(value) is not None:
            return value
        ref = id_of(value)
        if ref is None:
            raise MalformedActivity("activity has no object")
        if not same_origin(ref, actor.uri):
            raise MalformedActivity("object is not on the actor's host")
        return await self.resolver.fetch_json(ref)

    # -- follows --------------------------------------------------------------------------

    async def on_follow(self, act: dict[str, Any], actor: Account, item: InboxItem | None) -> None:
        target = await self.local_account(id_of(act.get("object")))
        if target is None:
            raise Ignored("follow of an unknown local account")
        follow_id = str(act["id"])
        rel = self.store.relationships
        if await rel.is_blocked_either_way(target.id, actor.id) or await rel.blocks_domain_of(
            target.id, actor.id
        ):  # a user's domain block refuses new followers there, as Mastodon
            await self.surface.follow_rejected(target, actor, follow_id)
            return
        existing = await rel.get_follow(actor.id, target.id)
        if existing is not None:
            # A Follow repeated under a new id (the peer lost our Accept, or its state was
            # reset): its Undo will name the new id, so that is the one kept.
            if existing.uri != follow_id:
                await rel.set_follow_uri(actor.id, target.id, follow_id)
            else:
                # This Follow run again (a crash after the follow was stored): its
                # notification may be missing; one made already is not made twice.
                await self.surface.followed(actor, target)
            await self.surface.follow_accepted(target, actor, follow_id)
            return
        if target.locked:
            pending = await rel.get_request(actor.id, target.id)
            await rel.request(actor.id, target.id, uri=follow_id)
            if pending is None or pending.uri == follow_id:
                await self.surface.follow_requested(actor, target)
            return
        await rel.follow(actor.id, target.id, uri=follow_id)
        await self.surface.followed(actor, target)
        await self.surface.follow_accepted(target, actor, follow_id)

    async def _our_follow_request(self, obj: Any, actor: Account) -> tuple[int, str | None] | None:
        """(local follower id, follow uri) of our pending Follow that ``obj`` answers."""
        rel = self.store.relationships
        if isinstance(obj, dict):
            follower = await self.local_account(id_of(obj.get("actor")))
            target_uri = id_of(obj.get("object"))
            if follower is None or (target_uri is not None and target_uri != actor.uri):
                return None
            request = await rel.get_request(follower.id, actor.id)
            if request is not None:
                return request.account_id, request.uri
            follow = await rel.get_follow(follower.id, actor.id)
            return (follower.id, follow.uri) if follow is not None else None
        ref = id_of(obj)
        if ref is None:
            return None
        request = await rel.request_by_uri(ref, target_id=actor.id)
        if request is not None:
            return request.account_id, request.uri
        follow = await rel.follow_by_uri(ref, target_id=actor.id)
        if follow is not None:
            return follow.account_id, follow.uri
        return None

    async def on_accept(self, act: dict[str, Any], actor: Account, item: InboxItem | None) -> None:
        obj = act.get("object")
        if isinstance(obj, dict) and obj_type(obj) not in (None, vocab.FOLLOW):
            raise Ignored("accept of something other than a follow")
        found = await self._our_follow_request(obj, actor)
        if found is None:
            raise Ignored("accept of no pending follow")
        follower_id, uri = found
        request = await self.store.relationships.get_request(follower_id, actor.id)
        await self.store.relationships.follow(
            follower_id,
            actor.id,
            uri=uri,
            show_reblogs=request.show_reblogs if request is not None else True,
            notify=request.notify if request is not None else False,
        )
        follower = await self.store.accounts.get(follower_id)
        if follower is not None:
            await self.surface.followed(follower, actor)

    async def on_reject(self, act: dict[str, Any], actor: Account, item: InboxItem | None) -> None:
        found = await self._our_follow_request(act.get("object"), actor)
        if found is None:
            raise Ignored("reject of no follow")
        follower_id, _ = found
        await self.store.relationships.delete_request(follower_id, actor.id)
        await self.store.relationships.unfollow(follower_id, actor.id)

    # -- undo -----------------------------------------------------------------------------

    async def on_undo(self, act: dict[str, Any], actor: Account, item: InboxItem | None) -> None:
        await self.undo.apply(act, actor)

    # -- statuses -------------------------------------------------------------------------

    async def on_create(self, act: dict[str, Any], actor: Account, item: InboxItem | None) -> None:
        obj = await self.embedded_or_fetched(act.get("object"), actor)
        if obj_type(obj) not in vocab.STATUS_TYPES:
            raise Ignored(f"create of {obj_type(obj)}")
        if id_of(obj.get("attributedTo")) != actor.uri:
            raise MalformedActivity("object is not attributed to the actor")
        # Only a Note is a vote: a titled Image or Video with no description is a post.
        if obj_type(obj) == vocab.NOTE and await self._maybe_poll_vote(obj, actor):
            return
        self._followers_urls.put(actor.uri, actor.followers_url or "")
        status, complete = await self.resolver.ingest_note(
            obj,
            fallback_to=act.get("to"),
            fallback_cc=act.get("cc"),
            author=actor,
            prepared=self._prepared.get(item.id) if item is not None else None,
        )
        if not complete:
            # Stored by an earlier run that died before its notifications: made now.
            await self.effects.finish(status)

    async def _maybe_poll_vote(self, obj: dict[str, Any], actor: Account) -> bool:
        """A vote on one of our polls is a Note with a name, no content, replying to it."""
        name = first_str(obj.get("name"))
        reply_to = id_of(obj.get("inReplyTo"))
        if not name or content_of(obj) or not reply_to or not self.resolver.is_local(reply_to):
            return False
        status = await self.store.statuses.by_uri(reply_to)
        # Only a voter who may see the poll votes, once per option (once at all when single).
        if status is None or not await self.store.statuses.visible_to(status, actor.id):
            return True
        poll = (await self.store.statuses.polls_for([status.id])).get(status.id)
        if poll is None or (poll.expires_at is not None and poll.expires_at < now_ms()):
            return True
        if name not in poll.options:
            return True
        await self.store.polls.record_remote_vote(poll.id, actor.id, poll.options.index(name))
        # Also when the vote was stored already: this may be the same vote run again after a
        # crash that came before the new counts were owed (one update more at most).
        await self.surface.poll_vote_counted(status)
        return True

    async def on_update(self, act: dict[str, Any], actor: Account, item: InboxItem | None) -> None:
        obj = await self.embedded_or_fetched(act.get("object"), actor)
        kind = obj_type(obj)
        if kind in vocab.ACTOR_TYPES:
            if obj.get("id") != actor.uri:
                raise MalformedActivity("update of another actor")
            await self.resolver.store_actor(obj)
            return
        if kind not in vocab.STATUS_TYPES:
            raise Ignored(f"update of {kind}")
        uri = obj.get("id")
        status = await self.store.statuses.by_uri(uri) if isinstance(uri, str) else None
        if status is None:
            raise Ignored("update of an unknown status")
        if status.account_id != actor.id:
            raise MalformedActivity("update of another actor's status")
        await self.apply_edit(status, obj, actor)
        # An earlier run stored the edit and died before telling those who interacted.
        await self.effects.finish(status)

    async def apply_edit(self, status: Status, obj: dict[str, Any], actor: Account) -> None:
        parsed = note_from_as(obj, followers_url=actor.followers_url or None)
        store = self.store.statuses
        current_media = (await store.media_for([status.id])).get(status.id, [])
        current_poll = (await store.polls_for([status.id])).get(status.id)
        media_same = [m.remote_url for m in current_media] == [m.url for m in parsed.media]
        poll_same = (current_poll is None and parsed.poll is None) or (
            current_poll is not None
            and parsed.poll is not None
            and current_poll.options == parsed.poll.options
        )
        text_same = (
            status.content == parsed.content
            and status.spoiler_text == parsed.spoiler_text
            and status.sensitive == parsed.sensitive
        )
        # As Mastodon: only an Update whose ``updated`` is newer than the edit we hold edits;
        # any other (an old, replayed Update; one without a time) may only bring poll counts.
        newer = parsed.updated is not None and (
            status.edited_at is None or parsed.updated > status.edited_at
        )
        if not newer or (text_same and media_same and poll_same):
            if not poll_same:
                return
            if parsed.poll is not None:
                await self.store.polls.take_remote_counts(
                    status.id, parsed.poll.votes, parsed.poll.voters_count
                )
                await self.surface.poll_counts_changed(status)
            return
        media_ids: list[int] | None = None
        if not media_same:
            media_ids = []
            for position, media in enumerate(parsed.media):
                row = await self.store.media.create(
                    NewMedia(account_id=actor.id, type=media.type, content_type=media.media_type,
                             remote_url=media.url, description=media.description,
                             focus_x=media.focus[0], focus_y=media.focus[1],
                             blurhash=media.blurhash, meta=media.meta(), position=position)
                )  # fmt: skip
                media_ids.append(row.id)
        poll = None
        if parsed.poll is not None and not poll_same:
            poll = NewPoll(options=parsed.poll.options, multiple=parsed.poll.multiple,
                           expires_at=parsed.poll.expires_at, votes=parsed.poll.votes,
                           voters_count=parsed.poll.voters_count)  # fmt: skip
        edited = await store.edit(
            status.id,
            content=parsed.content,
            text="",
            spoiler_text=parsed.spoiler_text,
            sensitive=parsed.sensitive,
            language=parsed.language,
            mentions=await self.resolver.mention_ids(parsed),
            tags=[TagName(tag_key(h), h) for h in parsed.hashtags],
            media_ids=media_ids,
            poll=poll,
            edited_at=min(parsed.updated or now_ms(), now_ms()),
            pending_effects=True,
            emojis=parsed.emojis,
        )
        await self.surface.status_updated(edited, actor)
        await self.store.effects.done(edited.id, effects.UPDATED)

    async def on_delete(self, act: dict[str, Any], actor: Account, item: InboxItem | None) -> None:
        target = id_of(act.get("object"))
        if target is None:
            raise MalformedActivity("delete of nothing")
        if target == actor.uri:
            await self.store.accounts.delete(actor.id)
            return
        status = await self.store.statuses.by_uri(target)
        if status is not None and status.account_id != actor.id:
            raise MalformedActivity("delete of another actor's status")
        if status is None and not same_origin(target, actor.uri):
            raise Ignored("delete of an unknown status")
        # The tombstone first, the lookup after: a Create processed concurrently by another
        # worker either sees the tombstone (resolver.ingest_note) or is found here.
        if same_origin(target, actor.uri):
            await self.store.tombstones.add(target, actor.id)
        if status is None:
            status = await self.store.statuses.by_uri(target)
            if status is None or status.account_id != actor.id:
                return
        await self.store.statuses.delete(status.id)
        await self.surface.status_deleted(status)

    async def on_announce(
        self, act: dict[str, Any], actor: Account, item: InboxItem | None
    ) -> None:
        announce_id = str(act["id"])
        existing = await self.store.statuses.by_uri(announce_id)
        if existing is not None:
            await self.effects.finish(existing)
            return
        obj = act.get("object")
        ref = id_of(obj)
        if ref is None:
            raise MalformedActivity("announce of nothing")
        original = await self.store.statuses.by_uri(ref)
        if original is None and not self.resolver.is_local(ref):
            original = await self.resolver.status(ref)
        if original is None:
            raise Ignored("announce of an unknown status")
        if original.reblog_of_id is not None or original.visibility not in OPEN_VISIBILITIES:
            raise Ignored("announce of a status that cannot be reblogged")
        to, cc = act.get("to"), act.get("cc")
        visibility = (
            Visibility.PUBLIC
            if is_public(to)
            else Visibility.UNLISTED
            if is_public(cc)
            else Visibility.PRIVATE
        )
        published = ms_from_iso(act.get("published")) or now_ms()
        try:
            reblog = await self.store.statuses.create(
                NewStatus(
                    account_id=actor.id,
                    local=False,
                    uri=announce_id,
                    url=announce_id,
                    visibility=visibility,
                    reblog_of_id=original.id,
                    created_at=min(published, now_ms()),
                    pending_effects=True,
                )
            )
        except Exception:
            if await self.store.statuses.by_uri(announce_id) is not None:
                return
            raise
        await self.surface.reblogged(reblog, original, actor)
        await self.store.effects.done(reblog.id, effects.CREATED)

    async def on_like(self, act: dict[str, Any], actor: Account, item: InboxItem | None) -> None:
        ref = id_of(act.get("object"))
        status = await self.store.statuses.by_uri(ref) if ref else None
        if status is None or not status.local:
            raise Ignored("like of a status that is not ours")
        like_id = str(act["id"])
        interactions = self.store.interactions
        if await interactions.favourite(actor.id, status.id, uri=like_id):
            await self.surface.favourited(actor, status)
            return
        existing = await interactions.get_favourite(actor.id, status.id)
        if existing is not None and existing.uri == like_id:
            # This Like run again (a crash after the favourite was stored): its
            # notification may be missing; one made already is not made twice.
            await self.surface.favourited(actor, status)
        else:
            # Liked again under a new id: a later Undo names the newest Like.
            await interactions.set_favourite_uri(actor.id, status.id, like_id)

    async def on_block(self, act: dict[str, Any], actor: Account, item: InboxItem | None) -> None:
        target = await self.local_account(id_of(act.get("object")))
        if target is None:
            raise Ignored("block of an unknown local account")
        await self.store.relationships.block(actor.id, target.id, uri=str(act["id"]))

    async def on_flag(self, act: dict[str, Any], actor: Account, item: InboxItem | None) -> None:
        existing = await self.store.reports.by_uri(str(act["id"]))
        if existing is not None:
            # Run again after a crash: the admins' notifications (made once) are completed.
            await self.surface.reported(existing, actor)
            return
        target: Account | None = None
        status_ids: list[int] = []
        for ref in ids_of(act.get("object")):
            if not self.resolver.is_local(ref):
                continue
            account = await self.local_account(ref)
            if account is not None:
                target = target or account
                continue
            status = await self.store.statuses.by_uri(ref)
            if status is not None and status.local:
                status_ids.append(status.id)
                if target is None:
                    target = await self.store.accounts.get(status.account_id)
        if target is None:
            raise Ignored("report about nobody here")
        comment = html_to_text(content_of(act))[:5000]
        report = await self.store.reports.create(
            actor.id,
            target.id,
            status_ids=status_ids,
            comment=comment,
            forwarded=True,
            uri=str(act["id"]),
        )
        await self.surface.reported(report, actor)

    async def on_move(self, act: dict[str, Any], actor: Account, item: InboxItem | None) -> None:
        if id_of(act.get("object")) != actor.uri:
            raise MalformedActivity("move of another actor")
        target_uri = id_of(act.get("target"))
        if target_uri is None:
            raise MalformedActivity("move without target")
        known = await self.store.accounts.by_uri(target_uri)
        if known is not None and known.local:
            new = known
        else:
            new = await self.resolver.fetch_actor(target_uri)
        if actor.uri not in new.also_known_as:
            raise MalformedActivity("move target does not list the actor in alsoKnownAs")
        moved = await self.store.accounts.update(actor.id, moved_to_account_id=new.id)
        rel = self.store.relationships
        # Each follower follows (or asks to follow) the new account before it leaves the
        # old one: a crash in between leaves it following the old one, and the Move run
        # again takes it over then (the same Follow id, the notification once).
        for follower_id in await rel.local_follower_ids(actor.id):
            follower = await self.store.accounts.get(follower_id)
            if follower is None or await rel.is_blocked_either_way(follower_id, new.id):
                continue
            if new.local:
                await rel.follow(follower_id, new.id)
                await rel.unfollow(follower_id, actor.id)
                continue
            pending = await rel.get_request(follower_id, new.id)
            follow_uri = (pending.uri if pending is not None else None) or (
                f"{follower.uri}#follows/{new.id}/{now_ms()}"
            )
            await rel.request(follower_id, new.id, uri=follow_uri)
            await self.surface.follow_moved(follower, new, follow_uri)
            await self.surface.moved(moved, follower)
            await rel.unfollow(follower_id, actor.id)
