"""The side effects of what happened, local or remote: ``activitypub.surface.Surface``.

The use cases here and the inbox worker (injected by ``fedinode.federation``) call the
same ``SideEffects``, so a remote follow or favourite notifies exactly as a local one.

Every method may run twice for one change (an inbox activity run again after a crash, a
status's pending side effects completed by the worker): each notification carries the key
of the change that made it (``dedupe_key``), so it is stored, and streamed, once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fedinode.config import Config
from fedinode.services import notifications
from fedinode.services.custom_emojis import queue_remote_emojis
from fedinode.services.federator import NO_FEDERATION, Federator
from fedinode.services.media_cache import queue_account, queue_status
from fedinode.services.preview_cards import queue_card
from fedinode.services.push import queue_pushes
from storage import events
from storage.models import Account, MediaAttachment, Mention, Notification, Report, Status
from storage.polls import EndedPoll
from storage.store import Store

log = logging.getLogger("fedinode.services")

# The change events published here (storage.events), read by the streaming hub.
STATUS_CREATED = "status.created"
STATUS_UPDATED = "status.updated"
STATUS_DELETED = "status.deleted"
NOTIFICATION = "notification"


class SideEffects:
    """Notifications (stored) and streaming events (best effort) after a change, and the
    answers to peers an incoming activity calls for, through ``federator``. With
    ``cache_media`` the media of remote statuses and accounts is queued for the cache; with
    ``cards`` (the configuration) remote statuses get the preview card of their first link."""

    def __init__(
        self,
        store: Store,
        federator: Federator = NO_FEDERATION,
        *,
        cache_media: bool = False,
        cards: Config | None = None,
    ) -> None:
        self.store = store
        self.federator = federator
        self.cache_media = cache_media
        self.cards = cards

    async def _cache_account(self, account: Account) -> None:
        if self.cache_media and not account.local:
            await queue_account(self.store, account)
            if account.emojis:
                await queue_remote_emojis(
                    self.store, "account", account.id, account.domain, account.emojis
                )

    async def _cache_status(
        self,
        status: Status,
        author: Account,
        *,
        new: bool,
        media: list[MediaAttachment] | None = None,
    ) -> None:
        # Remote statuses, and local ones whose owed side effects the worker completes
        # after a crash (the statuses service queues a local status's card itself).
        remote = self.cache_media and not author.local
        if remote and media is None:
            # Read once for both: the cache queues them, the card skips their links.
            try:
                media = (await self.store.statuses.media_for([status.id])).get(status.id, [])
            except Exception:
                log.exception("reading the media of status %s failed", status.id)
        if self.cards is not None:
            await queue_card(self.store, self.cards, status, new=new, media=media)
        if remote:
            await queue_status(self.store, status.id, author, media)
            # A new status shows no emojis yet: only one with some has any to record.
            if status.emojis or not new:
                await queue_remote_emojis(
                    self.store, "status", status.id, author.domain, status.emojis
                )
            # An author whose emojis are all cached and shown already needs no writes.
            if any("file" not in e for e in author.emojis):
                await queue_remote_emojis(
                    self.store, "account", author.id, author.domain, author.emojis
                )

    async def _publish(self, event: str, **fields: Any) -> None:
        # Streaming events are not durable by design (a listener that misses one reads the
        # timeline): a failure to publish must not fail the change that was made.
        try:
            await events.publish(self.store.db, event, **fields)
        except Exception:
            log.exception("publishing %s failed", event)

    async def _notify(
        self,
        recipient: Account,
        sender: Account,
        type_: str,
        *,
        key: str,
        status_id: int | None = None,
        report_id: int | None = None,
    ) -> None:
        n = await notifications.create(
            self.store,
            recipient,
            sender,
            type_,
            status_id=status_id,
            report_id=report_id,
            dedupe_key=f"{type_}:{key}",
        )
        if n is not None:
            await self._push(n)
            await self._publish(NOTIFICATION, notification_id=n.id, account_id=recipient.id)

    async def _push(self, n: Notification) -> None:
        # Pushes are queued for the worker (which sends them); a failure to queue one must
        # not fail the change, as with streaming.
        try:
            await queue_pushes(self.store, n)
        except Exception:
            log.exception("queueing pushes for notification %s failed", n.id)

    # -- statuses ---------------------------------------------------------------------------

    async def status_created(
        self,
        status: Status,
        author: Account,
        *,
        mentions: Sequence[Mention] | None = None,
        media: list[MediaAttachment] | None = None,
    ) -> None:
        await self._cache_status(status, author, new=True, media=media)
        await self._publish(STATUS_CREATED, status_id=status.id)
        store = self.store
        if mentions is None:
            mentions = (await store.statuses.mentions_for([status.id])).get(status.id, [])
        mentioned = await store.accounts.get_many([m.account_id for m in mentions])
        for mention in mentions:
            account = mentioned.get(mention.account_id)
            if account is not None and account.id != author.id:
                await self._notify(
                    account, author, "mention", key=str(status.id), status_id=status.id
                )
        if status.visibility not in ("public", "unlisted", "private"):
            return
        # Followers who asked to be notified of this account's posts (a mention says more).
        asked = [
            f for f in await store.relationships.local_follower_ids(author.id, notified=True)
            if f not in mentioned
        ]  # fmt: skip
        if not asked:
            return
        followers = await store.accounts.get_many(asked)
        for follower_id in asked:
            follower = followers.get(follower_id)
            if follower is not None:
                await self._notify(
                    follower, author, "status", key=str(status.id), status_id=status.id
                )

    async def status_updated(self, status: Status, author: Account) -> None:
        await self._cache_status(status, author, new=False)
        await self._publish(STATUS_UPDATED, status_id=status.id)
        # "A status you interacted with has been edited": local accounts that reblogged or
        # favourited it. Mastodon's own code tells rebloggers only; a favourite is as
        # public an endorsement, so those hear of it too. Once per version.
        version = f"{status.id}:{status.edited_at or 0}"
        for interactor in await self.store.interactions.local_interactors(status.id):
            if interactor.id != author.id:
                await self._notify(interactor, author, "update", key=version, status_id=status.id)

    async def status_deleted(self, status: Status) -> None:
        await self._publish(STATUS_DELETED, status_id=status.id, account_id=status.account_id)

    async def poll_counts_changed(self, status: Status) -> None:
        await self._publish(STATUS_UPDATED, status_id=status.id)

    async def poll_vote_counted(self, status: Status) -> None:
        await self.poll_counts_changed(status)
        await self.federator.poll_votes_changed(status)

    async def poll_ended(self, ended: EndedPoll) -> None:
        for n in ended.notifications:
            await self._push(n)
            await self._publish(NOTIFICATION, notification_id=n.id, account_id=n.account_id)

    # -- interactions -----------------------------------------------------------------------

    async def reblogged(self, reblog: Status, original: Status, account: Account) -> None:
        await self._cache_account(account)
        await self._publish(STATUS_CREATED, status_id=reblog.id)
        author = await self.store.accounts.get(original.account_id)
        if author is not None:
            await self._notify(author, account, "reblog", key=str(reblog.id), status_id=original.id)

    async def favourited(self, account: Account, status: Status) -> None:
        await self._cache_account(account)
        author = await self.store.accounts.get(status.account_id)
        if author is None:
            return
        # Keyed by the favourite: one taken back and given again notifies again.
        fav = await self.store.interactions.get_favourite(account.id, status.id)
        key = str(fav.id) if fav is not None else f"{account.id}:{status.id}"
        await self._notify(author, account, "favourite", key=key, status_id=status.id)

    # -- relationships ----------------------------------------------------------------------

    async def followed(self, follower: Account, target: Account) -> None:
        await self._cache_account(follower)
        follow = await self.store.relationships.get_follow(follower.id, target.id)
        key = str(follow.id) if follow is not None else f"{follower.id}"
        await self._notify(target, follower, "follow", key=key)

    async def follow_requested(self, follower: Account, target: Account) -> None:
        await self._cache_account(follower)
        request = await self.store.relationships.get_request(follower.id, target.id)
        key = str(request.id) if request is not None else f"{follower.id}"
        await self._notify(target, follower, "follow_request", key=key)

    async def follow_accepted(self, target: Account, follower: Account, follow_uri: str) -> None:
        await self.federator.follow_accepted(target, follower, follow_uri)

    async def follow_rejected(self, target: Account, follower: Account, follow_uri: str) -> None:
        await self.federator.follow_rejected(target, follower, follow_uri)

    async def moved(self, account: Account, follower: Account) -> None:
        await self._notify(
            follower, account, "move", key=f"{account.id}:{account.moved_to_account_id}"
        )

    async def follow_moved(self, follower: Account, target: Account, follow_uri: str) -> None:
        await self.federator.followed(follower, target, follow_uri)

    # -- moderation -------------------------------------------------------------------------

    async def reported(self, report: Report, reporter: Account) -> None:
        admin_ids = await self.store.users.admin_account_ids()
        admins = await self.store.accounts.get_many(admin_ids)
        for admin_id in admin_ids:
            admin = admins.get(admin_id)
            if admin is not None and admin.id != reporter.id:
                await self._notify(
                    admin, reporter, "admin.report", key=str(report.id), report_id=report.id
                )
