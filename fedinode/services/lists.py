"""Lists: named groups of followed accounts with their own timeline."""

from __future__ import annotations

from collections.abc import Sequence

from fedinode.errors import NotFoundError, ValidationFailed
from fedinode.services.context import Ctx
from storage.lists import REPLIES_POLICIES
from storage.models import Account, ListRow
from storage.paging import Page
from storage.timelines import TimelineEntry

TITLE_LIMIT = 256


def _check(title: str | None, replies_policy: str | None, *, creating: bool) -> None:
    if creating and not (title or "").strip():
        raise ValidationFailed("Validation failed: Title can't be blank")
    if title is not None and len(title) > TITLE_LIMIT:
        raise ValidationFailed("Validation failed: Title is too long")
    if title is not None and not creating and not title.strip():
        raise ValidationFailed("Validation failed: Title can't be blank")
    if replies_policy is not None and replies_policy not in REPLIES_POLICIES:
        raise ValidationFailed("Validation failed: Replies policy is not included in the list")


async def own_list(ctx: Ctx, account: Account, list_id: int | None) -> ListRow:
    found = None if list_id is None else await ctx.store.lists.get(account.id, list_id)
    if found is None:
        raise NotFoundError()
    return found


async def create(
    ctx: Ctx, account: Account, title: str | None, replies_policy: str | None, exclusive: bool
) -> ListRow:
    _check(title, replies_policy, creating=True)
    return await ctx.store.lists.create(
        account.id,
        (title or "").strip(),
        replies_policy=replies_policy or "list",
        exclusive=exclusive,
    )


async def update(
    ctx: Ctx,
    account: Account,
    list_id: int | None,
    *,
    title: str | None,
    replies_policy: str | None,
    exclusive: bool | None,
) -> ListRow:
    row = await own_list(ctx, account, list_id)
    _check(title, replies_policy, creating=False)
    updated = await ctx.store.lists.update(
        row.id,
        title=title.strip() if title is not None else None,
        replies_policy=replies_policy,
        exclusive=exclusive,
    )
    if updated is None:
        raise NotFoundError()
    return updated


async def delete(ctx: Ctx, account: Account, list_id: int | None) -> None:
    row = await own_list(ctx, account, list_id)
    await ctx.store.lists.delete(row.id)


async def add_accounts(ctx: Ctx, account: Account, list_id: int | None, ids: Sequence[int]) -> None:
    """Only accounts the owner follows may be added, as in Mastodon."""
    row = await own_list(ctx, account, list_id)
    if not ids:
        raise ValidationFailed("Validation failed: account_ids can't be blank")
    followed = await ctx.store.relationships.follows_of(account.id, list(ids))
    missing = [i for i in ids if i not in followed]
    if missing:
        if not await ctx.store.accounts.get_many(missing):
            raise NotFoundError()
        raise ValidationFailed(
            "Validation failed: You must follow this account to add it to a list"
        )
    await ctx.store.lists.add_accounts(row.id, ids)


async def remove_accounts(
    ctx: Ctx, account: Account, list_id: int | None, ids: Sequence[int]
) -> None:
    row = await own_list(ctx, account, list_id)
    await ctx.store.lists.remove_accounts(row.id, ids)


async def timeline(
    ctx: Ctx, account: Account, list_id: int | None, page: Page
) -> list[TimelineEntry]:
    row = await own_list(ctx, account, list_id)
    # One query for the page, rendered from the cache of what each status version shows.
    return await ctx.store.timelines.list_entries(row, page)
