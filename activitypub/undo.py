"""Undo from the inbox: of a Follow, Like, Announce or Block, by the actor that made it.

Run again after a crash, an Undo finds nothing left to take back and is ignored: it is
idempotent.
"""

from __future__ import annotations

from typing import Any

from activitypub import vocab
from activitypub.errors import Ignored, MalformedActivity
from activitypub.fields import id_of, obj_type
from activitypub.resolver import Resolver
from activitypub.surface import Surface
from storage.models import Account
from storage.store import Store


class UndoApplier:
    """The inbox worker's handler of Undo."""

    def __init__(self, store: Store, resolver: Resolver, surface: Surface) -> None:
        self.store = store
        self.resolver = resolver
        self.surface = surface

    async def local_account(self, uri: str | None) -> Account | None:
        if not uri or not self.resolver.is_local(uri):
            return None
        account = await self.store.accounts.by_uri(uri)
        return account if account is not None and account.local else None

    async def apply(self, act: dict[str, Any], actor: Account) -> None:
        """Undo of a Follow, Like, Announce or Block by its actor. The object may be the
        activity embedded, or only its id (a bare URI string, as Mastodon and GoToSocial
        sometimes send): the stored activity ids say what it was."""
        inner = act.get("object")
        inner_id = id_of(inner)
        kind = obj_type(inner)
        target_uri: str | None = None
        if isinstance(inner, dict):
            inner_actor = id_of(inner.get("actor"))
            if inner_actor is not None and inner_actor != actor.uri:
                raise MalformedActivity("undo of another actor's activity")
            target_uri = id_of(inner.get("object"))
        if kind is None and inner_id:
            kind = await self._stored_kind(inner_id, actor)
        if kind == vocab.FOLLOW:
            await self._undo_follow(inner_id, target_uri, actor)
        elif kind == vocab.ANNOUNCE:
            await self._undo_announce(inner_id, target_uri, actor)
        elif kind == vocab.LIKE:
            await self._undo_like(inner_id, target_uri, actor)
        elif kind == vocab.BLOCK:
            await self._undo_block(inner_id, target_uri, actor)
        else:
            raise Ignored(f"undo of {kind or 'an unknown activity'}")

    async def _stored_kind(self, activity_id: str, actor: Account) -> str | None:
        """Which of the actor's activities we keep has this id (follow, request, reblog,
        favourite, block), as its type; None when none does."""
        rel = self.store.relationships
        if await rel.follow_by_uri(activity_id, account_id=actor.id) is not None:
            return vocab.FOLLOW
        if await rel.request_by_uri(activity_id, account_id=actor.id) is not None:
            return vocab.FOLLOW
        reblog = await self.store.statuses.by_uri(activity_id)
        if reblog is not None and reblog.reblog_of_id is not None:
            return vocab.ANNOUNCE
        if await self.store.interactions.favourite_by_uri(activity_id, account_id=actor.id):
            return vocab.LIKE
        if await rel.block_by_uri(activity_id, account_id=actor.id) is not None:
            return vocab.BLOCK
        return None

    async def _undo_follow(self, follow_id: str | None, target_uri: str | None,
                           actor: Account) -> None:  # fmt: skip
        rel = self.store.relationships
        target_id: int | None = None
        if follow_id:
            found = await rel.follow_by_uri(follow_id, account_id=actor.id)
            found_request = (
                await rel.request_by_uri(follow_id, account_id=actor.id) if found is None else None
            )
            row = found or found_request
            target_id = row.target_account_id if row is not None else None
        if target_id is None:
            target = await self.local_account(target_uri)
            target_id = target.id if target is not None else None
        if target_id is None:
            raise Ignored("undo of an unknown follow")
        await rel.unfollow(actor.id, target_id)
        await rel.delete_request(actor.id, target_id)

    async def _undo_announce(self, announce_id: str | None, original_uri: str | None,
                             actor: Account) -> None:  # fmt: skip
        statuses = self.store.statuses
        reblog = await statuses.by_uri(announce_id) if announce_id else None
        if reblog is not None and reblog.account_id != actor.id:
            raise MalformedActivity("undo of another actor's announce")
        if reblog is None and original_uri:
            # An actor reblogs a status once: the Announce is found by what it announced
            # when its id is not one we kept.
            original = await statuses.by_uri(original_uri)
            if original is not None:
                reblog = await statuses.reblog_by(actor.id, original.id)
        if reblog is None or reblog.reblog_of_id is None:
            raise Ignored("undo of an unknown announce")
        await statuses.delete(reblog.id)
        await self.surface.status_deleted(reblog)

    async def _undo_like(self, like_id: str | None, status_uri: str | None,
                         actor: Account) -> None:  # fmt: skip
        interactions = self.store.interactions
        fav = await interactions.favourite_by_uri(like_id, account_id=actor.id) if like_id else None
        status_id = fav.status_id if fav is not None else None
        if status_id is None and status_uri:
            status = await self.store.statuses.by_uri(status_uri)
            status_id = status.id if status is not None else None
        if status_id is None or not await interactions.unfavourite(actor.id, status_id):
            raise Ignored("undo of an unknown like")

    async def _undo_block(self, block_id: str | None, target_uri: str | None,
                          actor: Account) -> None:  # fmt: skip
        rel = self.store.relationships
        block = await rel.block_by_uri(block_id, account_id=actor.id) if block_id else None
        target_id = block.target_account_id if block is not None else None
        if target_id is None:
            target = await self.local_account(target_uri)
            target_id = target.id if target is not None else None
        if target_id is None or await rel.unblock(actor.id, target_id) is None:
            raise Ignored("undo of an unknown block")
