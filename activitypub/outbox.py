"""Local actions → activities → delivery rows (one per distinct inbox; shared inbox when
the peer has one). Nothing here talks to a peer: rows are persisted and the delivery
worker sends them, so an unreachable peer never makes a local action fail."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import orjson

from activitypub import vocab
from activitypub.convert import activity, actor_to_as, authority_of, note_to_as
from activitypub.policy_gate import PolicyGate
from activitypub.settings import FederationSettings
from activitypub.urls import Urls
from storage import effects
from storage.ids import new_id, now_ms
from storage.models import Account, Report, Status
from storage.queues import NewDelivery
from storage.store import Store

log = logging.getLogger("fedinode.federation")

_DAY_MS = 86_400_000


def inbox_of(account: Account, *, personal: bool = False) -> str:
    """Where to deliver to an account: its shared inbox unless ``personal``."""
    if not personal and account.shared_inbox_url:
        return account.shared_inbox_url
    return account.inbox_url


class Outbox:
    """The methods the application calls after committing a local change."""

    # As Mastodon does, a local poll's new counts go out this long after a vote, once for
    # every vote in between (batching, and no vote can be told apart by its timing).
    poll_update_delay = 180.0

    def __init__(
        self,
        store: Store,
        urls: Urls,
        settings: FederationSettings,
        gate: PolicyGate,
        *,
        instance_actor: Callable[[], Account],
        on_enqueue: Callable[[], None] = lambda: None,
    ) -> None:
        self.store = store
        self.urls = urls
        self.settings = settings
        self.gate = gate
        self.domain = settings.domain.lower()
        self._instance_actor = instance_actor
        self._on_enqueue = on_enqueue
        self._poll_updates: dict[int, asyncio.TimerHandle] = {}
        self._poll_tasks: set[asyncio.Task[None]] = set()

    # -- building -------------------------------------------------------------------------

    async def note(self, status: Status, author: Account) -> tuple[dict[str, Any], list[Account]]:
        """The Note/Question of a local status and the accounts it mentions."""
        ids = [status.id]
        mentions = (await self.store.statuses.mentions_for(ids)).get(status.id, [])
        accounts = await self.store.accounts.get_many([m.account_id for m in mentions])
        mentioned = [accounts[m.account_id] for m in mentions if m.account_id in accounts]
        tags = (await self.store.statuses.tags_for(ids)).get(status.id, [])
        media = (await self.store.statuses.media_for(ids)).get(status.id, [])
        poll = (await self.store.statuses.polls_for(ids)).get(status.id)
        in_reply_to_uri = status.in_reply_to_uri
        if in_reply_to_uri is None and status.in_reply_to_id is not None:
            parent = await self.store.statuses.get(status.in_reply_to_id)
            in_reply_to_uri = parent.uri if parent is not None else None
        doc = note_to_as(
            status,
            author,
            self.urls,
            local_domain=self.domain,
            mentions=mentioned,
            tags=tags,
            media=media,
            poll=poll,
            in_reply_to_uri=in_reply_to_uri,
            now_ms=now_ms(),
        )
        return doc, mentioned

    async def _status_recipients(
        self, status: Status, mentioned: list[Account]
    ) -> tuple[bool, list[Account]]:
        """(deliver to followers?, individual recipients) for a status."""
        people = list(mentioned)
        if status.visibility != "direct" and status.in_reply_to_account_id is not None:
            parent_author = await self.store.accounts.get(status.in_reply_to_account_id)
            if parent_author is not None:
                people.append(parent_author)
        return status.visibility != "direct", people

    async def _author(self, status: Status) -> Account | None:
        author = await self.store.accounts.get(status.account_id)
        if author is None or not author.local:
            return None
        return author

    # -- sending --------------------------------------------------------------------------

    async def send(
        self,
        sender: Account,
        doc: dict[str, Any],
        *,
        followers_of: Account | None = None,
        recipients: Iterable[Account] = (),
        personal: bool = False,
    ) -> int:
        """Enqueue ``doc`` for the followers' inboxes and the recipients'; returns rows made."""
        inboxes: list[str] = []
        if followers_of is not None:
            inboxes.extend(await self.store.relationships.follower_inboxes(followers_of.id))
        for account in recipients:
            if account.local or account.suspended:
                continue
            inbox = inbox_of(account, personal=personal)
            if inbox:
                inboxes.append(inbox)
        return await self.enqueue(sender, doc, inboxes)

    async def enqueue(self, sender: Account, doc: dict[str, Any], inboxes: Iterable[str]) -> int:
        allowed: dict[str, bool] = {}
        payload: str | None = None
        rows: list[NewDelivery] = []
        activity_id = str(doc.get("id", ""))
        for inbox in dict.fromkeys(inboxes):
            host = authority_of(inbox)
            if not host or host == self.domain:
                continue
            if host not in allowed:
                decision = await self.gate.check_host(host, "outbound", activity=doc,
                                                      actor=sender.uri)  # fmt: skip
                allowed[host] = decision.allowed
            if not allowed[host]:
                continue
            if payload is None:
                payload = orjson.dumps(doc).decode()
            rows.append(NewDelivery(activity_id, inbox, host, sender.id, payload))
        if not rows:
            return 0
        added = await self.store.queues.enqueue_deliveries(
            rows, ttl_ms=self.settings.delivery_max_days * _DAY_MS
        )
        self._on_enqueue()
        return added

    # -- statuses -------------------------------------------------------------------------

    async def status_created(self, status: Status, author: Account | None = None) -> None:
        """``author``: the status's author when the caller has it (not read again)."""
        if status.reblog_of_id is not None:
            await self.reblogged(status)
            return
        if author is None or author.id != status.account_id:
            author = await self._author(status)
        if author is None or not author.local:
            return
        note, mentioned = await self.note(status, author)
        doc = activity(
            vocab.CREATE,
            f"{status.uri}/activity",
            author.uri,
            note,
            to=note["to"],
            cc=note["cc"],
            published=status.created_at,
        )
        followers, people = await self._status_recipients(status, mentioned)
        await self.send(author, doc, followers_of=author if followers else None, recipients=people)

    async def status_updated(self, status: Status) -> None:
        author = await self._author(status)
        if author is None or status.reblog_of_id is not None:
            return
        note, mentioned = await self.note(status, author)
        when = status.edited_at or now_ms()
        doc = activity(
            vocab.UPDATE,
            f"{status.uri}#updates/{when}",
            author.uri,
            note,
            to=note["to"],
            cc=note["cc"],
            published=when,
        )
        followers, people = await self._status_recipients(status, mentioned)
        await self.send(author, doc, followers_of=author if followers else None, recipients=people)

    async def status_deleted(
        self, status: Status, mentioned: Sequence[Account] | None = None
    ) -> None:
        """Delete a local status everywhere it went. The mention rows go with the status:
        a caller that deletes first passes ``mentioned`` (the accounts it mentioned)."""
        if status.reblog_of_id is not None:
            await self.unreblogged(status)
            return
        author = await self._author(status)
        if author is None:
            return
        if mentioned is None:
            mentions = (await self.store.statuses.mentions_for([status.id])).get(status.id, [])
            accounts = await self.store.accounts.get_many([m.account_id for m in mentions])
            mentioned = list(accounts.values())
        mentioned = list(mentioned)
        followers_url = author.followers_url or self.urls.followers(author.username)
        doc = activity(
            vocab.DELETE,
            f"{status.uri}#delete",
            author.uri,
            {"id": status.uri, "type": vocab.TOMBSTONE, "atomUri": status.uri},
            to=[vocab.PUBLIC],
            cc=[followers_url, *(a.uri for a in mentioned)],
        )
        followers, people = await self._status_recipients(status, mentioned)
        await self.send(author, doc, followers_of=author if followers else None, recipients=people)

    async def _announce(
        self, reblog: Status
    ) -> tuple[Account, dict[str, Any], list[Account]] | None:
        author = await self._author(reblog)
        if author is None or reblog.reblog_of_id is None:
            return None
        original = await self.store.statuses.get(reblog.reblog_of_id)
        if original is None:
            return None
        original_author = await self.store.accounts.get(original.account_id)
        followers_url = author.followers_url or self.urls.followers(author.username)
        cc = [followers_url]
        people = []
        if original_author is not None:
            cc.insert(0, original_author.uri)
            people.append(original_author)
        doc = activity(
            vocab.ANNOUNCE,
            f"{reblog.uri}/activity",
            author.uri,
            original.uri,
            to=[vocab.PUBLIC],
            cc=cc,
            published=reblog.created_at,
        )
        return author, doc, people

    async def reblogged(self, reblog: Status) -> None:
        built = await self._announce(reblog)
        if built is None:
            return
        author, doc, people = built
        await self.send(author, doc, followers_of=author, recipients=people)

    async def unreblogged(self, reblog: Status) -> None:
        built = await self._announce(reblog)
        if built is None:
            return
        author, announce, people = built
        announce.pop("@context", None)
        doc = activity(vocab.UNDO, f"{reblog.uri}#undo", author.uri, announce,
                       to=announce["to"], cc=announce["cc"])  # fmt: skip
        await self.send(author, doc, followers_of=author, recipients=people)

    # -- interactions ---------------------------------------------------------------------

    # Undo must embed exactly the activity it takes back: peers (GoToSocial, Misskey, Fedify
    # apps) find what to undo by the embedded object's id. So the ids of Follow, Like and
    # Block are stored with the rows they made and handed in here; ``None`` (a row from
    # before ids were stored and not back-filled) falls back to the id the old code used.
    # An Undo's own id is derived from the one it takes back, so sending it again (a replayed
    # intent, ``activitypub.intents``) writes no second delivery row.

    @staticmethod
    def _like(account: Account, status: Status, like_uri: str | None) -> dict[str, Any]:
        return {
            "id": like_uri or f"{account.uri}#likes/{status.id}",
            "type": vocab.LIKE,
            "actor": account.uri,
            "object": status.uri,
        }

    async def favourited(
        self, account: Account, status: Status, like_uri: str | None = None
    ) -> None:
        author = await self.store.accounts.get(status.account_id)
        if author is None or author.local or not account.local:
            return
        like = self._like(account, status, like_uri)
        doc = activity(vocab.LIKE, like["id"], account.uri, status.uri)
        await self.send(account, doc, recipients=[author])

    async def unfavourited(
        self, account: Account, status: Status, like_uri: str | None = None
    ) -> None:
        author = await self.store.accounts.get(status.account_id)
        if author is None or author.local or not account.local:
            return
        like = self._like(account, status, like_uri)
        doc = activity(vocab.UNDO, f"{like['id']}/undo", account.uri, like)
        await self.send(account, doc, recipients=[author])

    async def poll_voted(self, account: Account, status: Status, choices: list[int]) -> None:
        author = await self.store.accounts.get(status.account_id)
        poll = (await self.store.statuses.polls_for([status.id])).get(status.id)
        if author is None or author.local or poll is None or not account.local:
            return
        for choice in dict.fromkeys(choices):
            if not 0 <= choice < len(poll.options):
                continue
            vote_id = f"{account.uri}#votes/{poll.id}/{choice}"
            note = {
                "id": vote_id,
                "type": vocab.NOTE,
                "name": poll.options[choice],
                "attributedTo": account.uri,
                "inReplyTo": status.uri,
                "to": [author.uri],
            }
            doc = activity(vocab.CREATE, f"{vote_id}/activity", account.uri, note,
                           to=[author.uri])  # fmt: skip
            await self.send(account, doc, recipients=[author])

    async def poll_votes_changed(self, status: Status) -> None:
        """A vote was counted on a local poll: its counts go out as an Update of the
        Question after ``poll_update_delay`` (one pending update per poll). The update is
        owed in the database too: if this process dies first, the worker sends it."""
        if not status.local:
            return
        delay_ms = int(self.poll_update_delay * 1000)
        await self.store.effects.schedule(
            status.id, effects.POLL_COUNTS, after_ms=delay_ms + effects.GRACE_MS
        )
        if status.id in self._poll_updates:
            return
        loop = asyncio.get_running_loop()
        self._poll_updates[status.id] = loop.call_later(
            self.poll_update_delay, self._start_poll_update, status.id
        )

    def _start_poll_update(self, status_id: int) -> None:
        self._poll_updates.pop(status_id, None)
        task = asyncio.create_task(self._poll_update_logged(status_id))
        self._poll_tasks.add(task)
        task.add_done_callback(self._poll_tasks.discard)

    async def _poll_update_logged(self, status_id: int) -> None:
        try:
            await self.poll_updated(status_id)
            await self.store.effects.done(status_id, effects.POLL_COUNTS)
        except Exception:
            # The mark stays: the worker sends the update later.
            log.exception("poll update of status %s failed; retried later", status_id)

    async def flush_poll_updates(self) -> None:
        """Send every pending poll update now (shutdown, tests)."""
        pending = list(self._poll_updates)
        for status_id in pending:
            self._poll_updates.pop(status_id).cancel()
        for status_id in pending:
            await self._poll_update_logged(status_id)
        if self._poll_tasks:
            await asyncio.gather(*self._poll_tasks, return_exceptions=True)

    async def poll_updated(self, status_id: int) -> None:
        """Update{Question} with the current counts to the author's followers (unless
        direct) and the remote voters, rebloggers and mentioned accounts."""
        status = await self.store.statuses.get(status_id)
        if status is None or status.reblog_of_id is not None:
            return
        author = await self._author(status)
        poll = (await self.store.statuses.polls_for([status.id])).get(status.id)
        if author is None or poll is None or poll.hide_totals:
            return
        note, _ = await self.note(status, author)
        when = now_ms()
        doc = activity(vocab.UPDATE, f"{status.uri}#updates/polls/{when}", author.uri, note,
                       to=note["to"], cc=note["cc"], published=when)  # fmt: skip
        audience = await self.store.polls.remote_audience(poll.id, status.id)
        followers = author if status.visibility != "direct" else None
        await self.send(author, doc, followers_of=followers, recipients=audience)

    # -- relationships --------------------------------------------------------------------

    @staticmethod
    def _follow(follower: Account, target: Account, follow_uri: str | None) -> dict[str, Any]:
        return {
            "id": follow_uri or f"{follower.uri}#follows/{target.id}",
            "type": vocab.FOLLOW,
            "actor": follower.uri,
            "object": target.uri,
        }

    async def followed(self, follower: Account, target: Account, follow_uri: str) -> None:
        if target.local or not follower.local:
            return
        follow = self._follow(follower, target, follow_uri)
        doc = activity(vocab.FOLLOW, follow["id"], follower.uri, target.uri)
        await self.send(follower, doc, recipients=[target], personal=True)

    async def unfollowed(
        self, follower: Account, target: Account, follow_uri: str | None = None
    ) -> None:
        """Undo of the Follow whose id is ``follow_uri`` (the stored id of what we sent)."""
        if target.local or not follower.local:
            return
        follow = self._follow(follower, target, follow_uri)
        doc = activity(vocab.UNDO, f"{follow['id']}/undo", follower.uri, follow)
        await self.send(follower, doc, recipients=[target], personal=True)

    async def follow_accepted(
        self, target: Account, follower: Account, follow_uri: str | None
    ) -> None:
        await self._answer_follow(vocab.ACCEPT, target, follower, follow_uri)

    async def follow_rejected(
        self, target: Account, follower: Account, follow_uri: str | None
    ) -> None:
        await self._answer_follow(vocab.REJECT, target, follower, follow_uri)

    async def _answer_follow(
        self, kind: str, target: Account, follower: Account, follow_uri: str | None
    ) -> None:
        if follower.local or not target.local:
            return
        follow = self._follow(follower, target, follow_uri)
        # A fresh id each time (a time-ordered unique id, not the millisecond: a removal and
        # a rejection in the same millisecond would share one, and the second be dropped as
        # a repeat, here and by the peer).
        doc = activity(
            kind,
            f"{target.uri}#{kind.lower()}s/follows/{follower.id}/{new_id()}",
            target.uri,
            follow,
        )
        await self.send(target, doc, recipients=[follower], personal=True)

    @staticmethod
    def _block(account: Account, target: Account, block_uri: str | None) -> dict[str, Any]:
        return {
            "id": block_uri or f"{account.uri}#blocks/{target.id}",
            "type": vocab.BLOCK,
            "actor": account.uri,
            "object": target.uri,
        }

    async def blocked(
        self, account: Account, target: Account, block_uri: str | None = None
    ) -> None:
        if target.local or not account.local:
            return
        block = self._block(account, target, block_uri)
        doc = activity(vocab.BLOCK, block["id"], account.uri, target.uri)
        await self.send(account, doc, recipients=[target], personal=True)

    async def unblocked(
        self, account: Account, target: Account, block_uri: str | None = None
    ) -> None:
        if target.local or not account.local:
            return
        block = self._block(account, target, block_uri)
        doc = activity(vocab.UNDO, f"{block['id']}/undo", account.uri, block)
        await self.send(account, doc, recipients=[target], personal=True)

    # -- profile and reports --------------------------------------------------------------

    async def profile_updated(self, account: Account) -> None:
        if not account.local:
            return
        moved = None
        if account.moved_to_account_id is not None:
            target = await self.store.accounts.get(account.moved_to_account_id)
            moved = target.uri if target is not None else None
        actor_doc = actor_to_as(account, self.urls, moved_to_uri=moved)
        actor_doc.pop("@context", None)
        when = now_ms()
        doc = activity(vocab.UPDATE, f"{account.uri}#updates/{when}", account.uri, actor_doc,
                       to=[vocab.PUBLIC], cc=[account.followers_url], published=when)  # fmt: skip
        await self.send(account, doc, followers_of=account)

    async def reported(self, report: Report, reporter_is_instance: bool = True) -> None:
        target = await self.store.accounts.get(report.target_account_id)
        if target is None or target.local:
            return
        sender = self._instance_actor()
        if not reporter_is_instance:
            reporter = await self.store.accounts.get(report.account_id)
            if reporter is not None and reporter.local:
                sender = reporter
        statuses = await self.store.statuses.get_many(report.status_ids)
        objects = [target.uri, *(s.uri for s in statuses.values() if s.account_id == target.id)]
        doc = activity(
            vocab.FLAG,
            f"{sender.uri}#reports/{report.id}",
            sender.uri,
            objects,
            extra={"content": report.comment},
        )
        await self.send(sender, doc, recipients=[target])

    async def moved(self, account: Account, target: Account) -> None:
        """Move: tell followers that ``account`` now lives at ``target``."""
        if not account.local:
            return
        doc = activity(vocab.MOVE, f"{account.uri}#moves/{now_ms()}", account.uri, account.uri,
                       extra={"target": target.uri})  # fmt: skip
        await self.send(account, doc, followers_of=account)
