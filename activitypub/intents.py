"""Replaying the deliveries owed for local interactions (``storage.intents``).

An intent still there after its grace time means the use case that wrote it did not get
to the end (a crash, a failed enqueue). The worker does not trust what the intent says
happened: it reads the state now and sends what that state calls for. A favourite whose
row exists (with the intent's Like id) sends its Like; an unfavourite whose row is gone
sends the Undo of the stored Like id; and the same for follows (a follow request or a
follow), accepted or rejected followers, and blocks. A deleted status (or reblog) that is gone sends its Delete (or the Undo
of its Announce), from the row the intent kept. A profile change sends the profile as it
is then; a vote on a remote poll, the votes stored then; a forwarded report, its Flag if the
report was stored. A change that never committed sends nothing. Delivery rows are unique
per activity id and inbox, so replaying what was already enqueued adds nothing.
"""

from __future__ import annotations

import logging

from activitypub.outbox import Outbox
from storage import intents
from storage.intents import Intent
from storage.store import Store

log = logging.getLogger("fedinode.federation")

# An intent that failed this many times is given up (and logged).
MAX_ATTEMPTS = 10


class IntentReplayer:
    def __init__(self, store: Store, outbox: Outbox) -> None:
        self.store = store
        self.outbox = outbox

    async def replay(self, intent: Intent) -> None:
        """Send what the current state calls for, then delete the intent."""
        await self._send(intent)
        await self.store.intents.done(intent.id)

    async def _send(self, intent: Intent) -> None:
        store = self.store
        account = await store.accounts.get(intent.account_id)
        if account is None or not account.local:
            return
        kind, uri = intent.kind, intent.uri
        if kind == intents.DELETE_STATUS:
            # Still there: the delete never committed. Gone: its Delete (a reblog's Undo).
            if intent.payload is None or await store.statuses.get(intent.target_id) is not None:
                return
            deleted, mentioned_ids = intents.read_deleted_status(intent.payload)
            mentioned = await store.accounts.get_many(mentioned_ids)
            await self.outbox.status_deleted(deleted, list(mentioned.values()))
            return
        if kind in (intents.FAVOURITE, intents.UNFAVOURITE):
            status = await store.statuses.get(intent.target_id)
            if status is None:
                return
            fav = await store.interactions.get_favourite(account.id, status.id)
            if kind == intents.FAVOURITE and fav is not None and fav.uri == uri and uri:
                await self.outbox.favourited(account, status, uri)
            elif kind == intents.UNFAVOURITE and fav is None:
                await self.outbox.unfavourited(account, status, uri)
            return
        if kind == intents.POLL_VOTE:
            voted = await store.statuses.get(intent.target_id)
            poll = (await store.statuses.polls_for([intent.target_id])).get(intent.target_id)
            if voted is None or poll is None:
                return
            choices = (await store.polls.votes_of(account.id, [poll.id])).get(poll.id)
            if choices:
                await self.outbox.poll_voted(account, voted, choices)
            return
        if kind == intents.REPORT:
            report = await store.reports.get(intent.target_id)
            if report is not None and report.forwarded:
                # As the services' Federator does: from the instance, not the reporter.
                await self.outbox.reported(report, reporter_is_instance=True)
            return
        if kind == intents.PROFILE:
            # The profile as it is now (an unchanged one, if the change never committed).
            await self.outbox.profile_updated(account)
            return
        other = await store.accounts.get(intent.target_id)
        if other is None:
            return
        rel = store.relationships
        if kind in (intents.FOLLOW, intents.UNFOLLOW):
            request = await rel.get_request(account.id, other.id)
            follow = await rel.get_follow(account.id, other.id)
            current = request or follow
            if kind == intents.FOLLOW and current is not None and current.uri == uri and uri:
                await self.outbox.followed(account, other, uri)
            elif kind == intents.UNFOLLOW and current is None:
                await self.outbox.unfollowed(account, other, uri)
        elif kind in (intents.ACCEPT_FOLLOW, intents.REJECT_FOLLOW):
            # ``other`` follows (or asked to follow) the local ``account``.
            follow = await rel.get_follow(other.id, account.id)
            request = await rel.get_request(other.id, account.id)
            if kind == intents.ACCEPT_FOLLOW and follow is not None:
                await self.outbox.follow_accepted(account, other, uri)
            elif kind == intents.REJECT_FOLLOW and follow is None and request is None:
                await self.outbox.follow_rejected(account, other, uri)
        elif kind in (intents.BLOCK, intents.UNBLOCK):
            block = await rel.get_block(account.id, other.id)
            if kind == intents.BLOCK and block is not None and block.uri == uri and uri:
                await self.outbox.blocked(account, other, uri)
            elif kind == intents.UNBLOCK and block is None:
                await self.outbox.unblocked(account, other, uri)
        else:
            log.warning("unknown federation intent %r (%s)", kind, intent.id)

    async def run_due(self, limit: int = 50) -> int:
        """Replay the intents whose time has come; returns how many were taken. A failure
        leaves the intent for a later attempt (its lease grows), up to ``MAX_ATTEMPTS``."""
        due = await self.store.intents.claim_due(limit)
        for intent in due:
            try:
                await self.replay(intent)
            except Exception:
                if intent.attempts >= MAX_ATTEMPTS:
                    log.exception("federation intent %s %s failed %d times; given up",
                                  intent.kind, intent.id, intent.attempts)  # fmt: skip
                    await self.store.intents.done(intent.id)
                else:
                    log.exception("federation intent %s %s failed; retried later",
                                  intent.kind, intent.id)  # fmt: skip
        return len(due)
