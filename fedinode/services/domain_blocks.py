"""A user's domain blocks (Mastodon's /api/v1/domain_blocks): the user no longer sees that
domain's public posts or notifications, loses its followers there and takes no new ones."""

from __future__ import annotations

from fedinode.errors import ValidationFailed
from fedinode.services import follows
from fedinode.services.context import Ctx
from policy.errors import PolicyConfigError
from policy.settings import normalize_domain
from storage.models import Account
from storage.paging import Page


def clean_domain(ctx: Ctx, value: str | None, *, own: bool = False) -> str:
    """The domain as accounts are stored with it (lowercase, IDNA, :port kept); neither
    empty, nor malformed, nor (unless ``own``) this instance's own."""
    if not value or not value.strip():
        raise ValidationFailed("Validation failed: Domain can't be blank")
    try:
        domain = normalize_domain(value, "domain", wildcard=False)
    except PolicyConfigError:
        raise ValidationFailed("Validation failed: Domain is not a valid domain name") from None
    if not own and domain == normalize_domain(ctx.config.domain, wildcard=False):
        raise ValidationFailed("Validation failed: Domain cannot be this server's own")
    return domain


async def listed(ctx: Ctx, account: Account, page: Page) -> list[tuple[int, str]]:
    """(paging id, domain) of the account's domain blocks, newest first."""
    return await ctx.store.account_domain_blocks.page(account.id, page)


async def block_domain(ctx: Ctx, account: Account, value: str | None) -> None:
    """Block the domain for the account: its followers there are removed and its follow
    requests from there rejected (their servers are told), as Mastodon; the account's own
    follows there stay. Blocking it again does it again (a follow may have slipped in)."""
    domain = clean_domain(ctx, value)
    await ctx.store.account_domain_blocks.block(account.id, domain)
    # After the block is stored: a Follow processed meanwhile is refused by the inbox.
    followers, requesters = await ctx.store.relationships.from_domain(account.id, domain)
    for follower in followers:
        await follows.remove_follower(ctx, account, follower)
    for requester in requesters:
        await follows.refuse_request(ctx, account, requester)


async def unblock_domain(ctx: Ctx, account: Account, value: str | None) -> None:
    """Lift the account's block of the domain, if it has one."""
    await ctx.store.account_domain_blocks.unblock(account.id, clean_domain(ctx, value, own=True))
