"""Follow, unfollow, follow requests, blocks and mutes between a local account and another."""

from __future__ import annotations

from fedinode.errors import ApiError, NotFoundError
from fedinode.services.activity_ids import new_activity_id
from fedinode.services.context import Ctx
from fedinode.services.surface import SideEffects
from storage import intents
from storage.ids import now_ms
from storage.models import Account
from storage.relationships import Relationship


async def target(ctx: Ctx, account_id: int | None) -> Account:
    found = await ctx.store.accounts.get(account_id) if account_id is not None else None
    if found is None or found.suspended:
        raise NotFoundError()
    return found


async def relationship(ctx: Ctx, account: Account, other: Account) -> Relationship:
    return (await ctx.store.relationships.relationships(account.id, [other.id]))[other.id]


async def follow(
    ctx: Ctx, account: Account, other: Account, *, reblogs: bool | None, notify_posts: bool | None
) -> Relationship:
    store = ctx.store
    if other.id == account.id:
        raise ApiError("Validation failed: You cannot follow yourself", 403)
    if await store.relationships.is_blocked_either_way(account.id, other.id):
        raise ApiError("This action is not allowed", 403)
    existing = await store.relationships.get_follow(account.id, other.id)
    show_reblogs = reblogs if reblogs is not None else (existing.show_reblogs if existing else True)
    notify_flag = (
        notify_posts if notify_posts is not None else (existing.notify if existing else False)
    )
    if existing is not None:
        await store.relationships.follow(
            account.id, other.id, show_reblogs=show_reblogs, notify=notify_flag
        )
    elif other.locked or not other.local:
        # Remote follows wait for the remote Accept; locked accounts decide themselves.
        pending = await store.relationships.get_request(account.id, other.id)
        follow_uri = (
            pending.uri
            if pending is not None and pending.uri
            else new_activity_id(ctx, account, "follow")
        )
        owed = None
        if pending is None and not other.local:
            owed = await store.intents.add(intents.FOLLOW, account.id, other.id, follow_uri)
        await store.relationships.request(
            account.id, other.id, uri=follow_uri, show_reblogs=show_reblogs, notify=notify_flag
        )
        if pending is None:
            await SideEffects(store).follow_requested(account, other)
            if owed is not None:
                await ctx.federation.followed(account, other, follow_uri)
                await store.intents.done(owed)
    else:
        await store.relationships.follow(
            account.id,
            other.id,
            uri=new_activity_id(ctx, account, "follow"),
            show_reblogs=show_reblogs,
            notify=notify_flag,
        )
        await SideEffects(store).followed(account, other)
    return await relationship(ctx, account, other)


async def unfollow(ctx: Ctx, account: Account, other: Account) -> Relationship:
    owed = None
    if not other.local:
        before = await ctx.store.relationships.get_follow(
            account.id, other.id
        ) or await ctx.store.relationships.get_request(account.id, other.id)
        if before is not None:
            owed = await ctx.store.intents.add(intents.UNFOLLOW, account.id, other.id, before.uri)
    # The request first: unfollow() clears it too, and a withdrawn request is undone as well.
    pending = await ctx.store.relationships.delete_request(account.id, other.id)
    removed = await ctx.store.relationships.unfollow(account.id, other.id)
    undone = removed or pending
    if undone is not None and not other.local:
        # The Undo names the Follow we sent: its id came back with the deleted row.
        await ctx.federation.unfollowed(account, other, undone.uri)
    if owed is not None:
        await ctx.store.intents.done(owed)
    return await relationship(ctx, account, other)


async def authorize_request(ctx: Ctx, account: Account, requester: Account) -> Relationship:
    req = await ctx.store.relationships.get_request(requester.id, account.id)
    if req is None:
        raise NotFoundError()
    owed = None
    if not requester.local:
        owed = await ctx.store.intents.add(intents.ACCEPT_FOLLOW, account.id, requester.id, req.uri)
    await ctx.store.relationships.follow(
        requester.id, account.id, uri=req.uri, show_reblogs=req.show_reblogs, notify=req.notify
    )
    await SideEffects(ctx.store).followed(requester, account)
    if owed is not None:
        await ctx.federation.follow_accepted(account, requester, req.uri)
        await ctx.store.intents.done(owed)
    return await relationship(ctx, account, requester)


async def reject_request(ctx: Ctx, account: Account, requester: Account) -> Relationship:
    if not await refuse_request(ctx, account, requester):
        raise NotFoundError()
    return await relationship(ctx, account, requester)


async def refuse_request(ctx: Ctx, account: Account, requester: Account) -> bool:
    """Reject the requester's pending follow request (its server is told); False if none."""
    owed = None
    if not requester.local:
        before = await ctx.store.relationships.get_request(requester.id, account.id)
        if before is not None:
            owed = await ctx.store.intents.add(
                intents.REJECT_FOLLOW, account.id, requester.id, before.uri
            )
    req = await ctx.store.relationships.delete_request(requester.id, account.id)
    if req is None:
        if owed is not None:
            await ctx.store.intents.done(owed)
        return False
    if not requester.local:
        await ctx.federation.follow_rejected(account, requester, req.uri)
    if owed is not None:
        await ctx.store.intents.done(owed)
    return True


async def remove_from_followers(ctx: Ctx, account: Account, follower: Account) -> Relationship:
    await remove_follower(ctx, account, follower)
    return await relationship(ctx, account, follower)


async def remove_follower(ctx: Ctx, account: Account, follower: Account) -> None:
    """End the follower's follow of the account; a remote follower's server gets a Reject."""
    follow = await ctx.store.relationships.get_follow(follower.id, account.id)
    if follow is not None:
        owed = None
        if not follower.local:
            owed = await ctx.store.intents.add(
                intents.REJECT_FOLLOW, account.id, follower.id, follow.uri
            )
        await ctx.store.relationships.remove_follower(account.id, follower.id)
        if owed is not None:
            await ctx.federation.follow_rejected(account, follower, follow.uri)
            await ctx.store.intents.done(owed)


async def block(ctx: Ctx, account: Account, other: Account) -> Relationship:
    if other.id == account.id:
        raise ApiError("Validation failed: You cannot block yourself", 403)
    await ctx.store.relationships.delete_request(account.id, other.id)
    await ctx.store.relationships.delete_request(other.id, account.id)
    # Blocking again re-sends the same Block (as Mastodon does), so it keeps its id.
    existing = await ctx.store.relationships.get_block(account.id, other.id)
    block_uri = (existing.uri if existing is not None else None) or new_activity_id(
        ctx, account, "block"
    )
    owed = None
    if not other.local:
        owed = await ctx.store.intents.add(intents.BLOCK, account.id, other.id, block_uri)
    await ctx.store.relationships.block(account.id, other.id, uri=block_uri)
    # As Mastodon, the blocker loses what the blocked account notified them of; after the
    # block is stored, so that none arrives between. A remote account's block of a local one
    # clears nothing (activitypub.processing), as Mastodon.
    await ctx.store.notifications.delete_from(account.id, other.id)
    if owed is not None:
        await ctx.federation.blocked(account, other, block_uri)
        await ctx.store.intents.done(owed)
    return await relationship(ctx, account, other)


async def unblock(ctx: Ctx, account: Account, other: Account) -> Relationship:
    owed = None
    if not other.local:
        before = await ctx.store.relationships.get_block(account.id, other.id)
        if before is not None:
            owed = await ctx.store.intents.add(intents.UNBLOCK, account.id, other.id, before.uri)
    removed = await ctx.store.relationships.unblock(account.id, other.id)
    if removed is not None and not other.local:
        await ctx.federation.unblocked(account, other, removed.uri)
    if owed is not None:
        await ctx.store.intents.done(owed)
    return await relationship(ctx, account, other)


async def mute(
    ctx: Ctx, account: Account, other: Account, *, notifications: bool, duration_s: int | None
) -> Relationship:
    if other.id == account.id:
        raise ApiError("Validation failed: You cannot mute yourself", 403)
    expires = now_ms() + duration_s * 1000 if duration_s else None
    await ctx.store.relationships.mute(
        account.id, other.id, notifications=notifications, expires_at=expires
    )
    return await relationship(ctx, account, other)


async def unmute(ctx: Ctx, account: Account, other: Account) -> Relationship:
    await ctx.store.relationships.unmute(account.id, other.id)
    return await relationship(ctx, account, other)
