"""Account use cases: profile updates, lookups, an account's statuses, its collections."""

from __future__ import annotations

from dataclasses import dataclass

from fedinode.errors import NotFoundError, ValidationFailed
from fedinode.services import media as media_service
from fedinode.services import text as text_service
from fedinode.services.context import Ctx
from fedinode.services.custom_emojis import local_emoji_items
from fedinode.services.filters import filter_views
from fedinode.services.timelines import drop_hidden
from fedinode.services.views import StatusView, load_status_views
from policy.text import tag_key
from storage import intents
from storage.models import Account, User, Visibility
from storage.paging import Page

MAX_FIELDS = 4


@dataclass(frozen=True, slots=True)
class ProfileUpdate:
    display_name: str | None = None
    note: str | None = None
    locked: bool | None = None
    bot: bool | None = None
    discoverable: bool | None = None
    indexable: bool | None = None
    fields: list[tuple[str, str]] | None = None
    privacy: str | None = None
    sensitive: bool | None = None
    language: str | None = None
    avatar: media_service.Upload | None = None
    header: media_service.Upload | None = None


async def update_credentials(
    ctx: Ctx, user: User, account: Account, update: ProfileUpdate
) -> tuple[User, Account]:
    changes: dict[str, object] = {}
    if update.display_name is not None:
        if len(update.display_name) > 30:
            raise ValidationFailed(
                "Validation failed: Display name is too long (maximum is 30 characters)"
            )
        changes["display_name"] = update.display_name
    if update.note is not None:
        if len(update.note) > 500:
            raise ValidationFailed(
                "Validation failed: Note is too long (maximum is 500 characters)"
            )
        changes["note"] = text_service.plain_to_html(update.note)
        changes["note_source"] = update.note
    if update.locked is not None:
        changes["locked"] = update.locked
    if update.bot is not None:
        changes["bot"] = update.bot
        changes["actor_type"] = "Service" if update.bot else "Person"
    if update.discoverable is not None:
        changes["discoverable"] = update.discoverable
    if update.indexable is not None:
        changes["indexable"] = update.indexable
    if update.fields is not None:
        if len(update.fields) > MAX_FIELDS:
            raise ValidationFailed(f"Validation failed: at most {MAX_FIELDS} profile fields")
        changes["fields"] = [
            {"name": n[:255], "value": _field_html(v[:255]), "source": v[:255]}
            for n, v in update.fields
            if n.strip() or v.strip()
        ]
    if update.avatar is not None:
        changes["avatar_url"] = await media_service.store_avatar(
            ctx.store, ctx.config, account, update.avatar
        )
    if update.header is not None:
        changes["header_url"] = await media_service.store_header(
            ctx.store, ctx.config, account, update.header
        )
    if update.display_name is not None or update.note is not None:
        changes["emojis"] = await local_emoji_items(
            ctx.store,
            ctx.config,
            account.display_name if update.display_name is None else update.display_name,
            account.note_source if update.note is None else update.note,
        )
    settings = dict(user.settings)
    if update.privacy is not None:
        if update.privacy not in tuple(Visibility):
            raise ValidationFailed("Validation failed: Privacy is not included in the list")
        settings["default_privacy"] = update.privacy
    if update.sensitive is not None:
        settings["default_sensitive"] = update.sensitive
    if update.language is not None:
        settings["default_language"] = update.language
    if settings != user.settings:
        user = await ctx.store.users.update(user.id, settings=settings)
    if changes:
        # The principal's account may be cached: read the replaced images from the store.
        old = await ctx.store.accounts.get(account.id) or account
        owed = await ctx.store.intents.add(intents.PROFILE, account.id, account.id, None)
        account = await ctx.store.accounts.update(account.id, **changes)
        for key in ("avatar_url", "header_url"):
            if key in changes and getattr(old, key) != changes[key]:
                await media_service.remove_profile_image(ctx.config, getattr(old, key))
        await ctx.federation.profile_updated(account)
        await ctx.store.intents.done(owed)
    return user, account


def _field_html(value: str) -> str:
    html = text_service.plain_to_html(value)
    # Field values are inline: no paragraph wrapper.
    if html.startswith("<p>") and html.endswith("</p>"):
        html = html[3:-4]
    return html


async def lookup(ctx: Ctx, acct: str) -> Account:
    username, _, domain = acct.lstrip("@").partition("@")
    if domain.lower() == ctx.config.instance.domain:
        domain = ""
    account = await ctx.store.accounts.by_handle(username, domain)
    if account is None and domain:
        account = await ctx.federation.resolve_account(f"{username}@{domain}")
    if account is None or account.suspended:
        raise NotFoundError()
    return account


async def account_statuses(
    ctx: Ctx,
    account: Account,
    viewer_id: int | None,
    page: Page,
    *,
    exclude_replies: bool,
    exclude_reblogs: bool,
    only_media: bool,
    pinned: bool,
    tagged: str | None,
) -> tuple[list[StatusView], list[int]]:
    if viewer_id is not None and await ctx.store.relationships.is_blocked_either_way(
        viewer_id, account.id
    ):
        return [], []
    statuses = await ctx.store.statuses.account_statuses(
        account.id,
        viewer_id,
        page,
        exclude_replies=exclude_replies,
        exclude_reblogs=exclude_reblogs,
        only_media=only_media,
        pinned=pinned,
        tagged=tag_key(tagged) if tagged else None,
    )
    kept = await drop_hidden(ctx, statuses, viewer_id)
    views = await load_status_views(ctx.store, kept, viewer_id)
    return await filter_views(ctx.store, viewer_id, "account", views), [s.id for s in statuses]
