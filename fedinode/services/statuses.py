"""Status use cases: post, read (visibility exact), edit, delete, context, interactions, polls."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fedinode.errors import ApiError, NotFoundError, ValidationFailed
from fedinode.services import text as text_service
from fedinode.services.activity_ids import new_activity_id
from fedinode.services.context import Ctx
from fedinode.services.custom_emojis import local_emoji_items
from fedinode.services.filters import filter_views
from fedinode.services.language import status_language
from fedinode.services.preview_cards import queue_card
from fedinode.services.render_cache import cached_status_view
from fedinode.services.surface import SideEffects
from fedinode.services.views import StatusView, load_status_view, load_status_views
from storage import effects, intents
from storage.errors import Conflict
from storage.ids import now_ms
from storage.models import (
    Account,
    MediaAttachment,
    Mention,
    Poll,
    Status,
    StatusEdit,
    User,
    Visibility,
)
from storage.paging import Page
from storage.statuses import NewPoll, NewStatus

VISIBILITIES = tuple(Visibility)


@dataclass(frozen=True, slots=True)
class PollInput:
    options: list[str]
    expires_in: int
    multiple: bool = False
    hide_totals: bool = False


@dataclass(frozen=True, slots=True)
class StatusInput:
    text: str
    media_ids: list[int]
    poll: PollInput | None
    in_reply_to_id: int | None
    sensitive: bool
    spoiler_text: str
    visibility: str | None
    language: str | None


async def resolve_mention(ctx: Ctx, username: str, domain: str) -> Account | None:
    account = await ctx.store.accounts.by_handle(username, domain)
    if account is not None or not domain:
        return account if account is None or not account.suspended else None
    return await ctx.federation.resolve_account(f"{username}@{domain}")


async def render_text(ctx: Ctx, text: str) -> text_service.Rendered:
    return await text_service.render(
        text,
        local_domain=ctx.config.instance.domain,
        resolve=lambda u, d: resolve_mention(ctx, u, d),
        tag_url=ctx.urls.tag,
    )


async def visible_status(ctx: Ctx, status_id: int | None, viewer_id: int | None) -> Status:
    """The status if the viewer may see it; 404 otherwise (never 403: that would leak it)."""
    if status_id is None:
        raise NotFoundError()
    status = await ctx.store.statuses.get(status_id)
    if status is None or not await ctx.store.statuses.visible_to(status, viewer_id):
        raise NotFoundError()
    author = await ctx.store.accounts.get(status.account_id)
    if author is None or author.suspended:
        raise NotFoundError()
    if status.reblog_of_id is not None:
        await visible_status(ctx, status.reblog_of_id, viewer_id)
    return status


def _validate(ctx: Ctx, data: StatusInput, *, media_count: int) -> None:
    limits = ctx.config.instance
    if not data.text.strip() and not media_count and data.poll is None:
        raise ValidationFailed("Validation failed: Text can't be blank")
    if len(data.text) + len(data.spoiler_text) > limits.max_status_chars:
        raise ValidationFailed(
            f"Validation failed: Text character limit of {limits.max_status_chars} exceeded"
        )
    if data.visibility is not None and data.visibility not in VISIBILITIES:
        raise ValidationFailed("Validation failed: Visibility is not included in the list")
    if media_count > limits.max_media_attachments:
        raise ValidationFailed("Validation failed: Media attachments is too long")
    if data.poll is not None:
        if media_count:
            raise ValidationFailed("Validation failed: Cannot attach both media and a poll")
        options = data.poll.options
        if len(options) < 2 or len(options) > limits.max_poll_options:
            raise ValidationFailed(
                f"Validation failed: Poll must have between 2 and {limits.max_poll_options} options"
            )
        if any(not o.strip() or len(o) > 50 for o in options):
            raise ValidationFailed("Validation failed: Poll options must be 1 to 50 characters")
        if not 300 <= data.poll.expires_in <= 2_629_746:
            raise ValidationFailed("Validation failed: Poll expiration is out of range")


async def _own_media(ctx: Ctx, account: Account, media_ids: Sequence[int]) -> list[int]:
    out = []
    for mid in dict.fromkeys(media_ids):
        media = await ctx.store.media.get(mid)
        if media is None or media.account_id != account.id:
            raise ValidationFailed("Validation failed: media not found")
        if await ctx.store.media_jobs.get(mid) is not None:  # being (or failed) transcoding
            raise ValidationFailed(
                "Cannot attach files that have not finished processing. Try again in a moment!"
            )
        out.append(mid)
    return out


async def check_input(ctx: Ctx, account: Account, data: StatusInput) -> list[int]:
    """What posting would refuse, refused now (a scheduled status): the media ids to use."""
    media_ids = await _own_media(ctx, account, data.media_ids)
    _validate(ctx, data, media_count=len(media_ids))
    if data.in_reply_to_id is not None:
        await visible_status(ctx, data.in_reply_to_id, account.id)
    return media_ids


async def post_status(
    ctx: Ctx,
    account: Account,
    data: StatusInput,
    *,
    application_id: int | None,
    idempotency_key: str | None,
    user: User | None = None,
) -> Status:
    """``user``: the author's, when the caller has it (the request's token lookup); read
    otherwise (for its default visibility and language)."""
    store = ctx.store
    if idempotency_key:
        existing_id = await store.statuses.idempotent_status(account.id, idempotency_key)
        if existing_id is not None:
            existing = await store.statuses.get(existing_id)
            if existing is not None:
                return existing
    media_ids = await _own_media(ctx, account, data.media_ids)
    _validate(ctx, data, media_count=len(media_ids))
    if user is None or user.account_id != account.id:
        user = await store.users.by_account(account.id)
    visibility = data.visibility or (
        str(user.settings.get("default_privacy", "public")) if user is not None else "public"
    )
    parent: Status | None = None
    if data.in_reply_to_id is not None:
        parent = await visible_status(ctx, data.in_reply_to_id, account.id)
        if parent.reblog_of_id is not None:
            raise ValidationFailed("Validation failed: cannot reply to a reblog")
        if await store.relationships.is_blocked_either_way(account.id, parent.account_id):
            raise NotFoundError()
    rendered = await render_text(ctx, data.text)
    mentions = list(rendered.mentions)
    if parent is not None and parent.account_id != account.id:
        # Replying implies mentioning the author, so a direct reply reaches them.
        if all(m.id != parent.account_id for m in mentions):
            author = await store.accounts.get(parent.account_id)
            if author is not None and visibility == "direct":
                mentions.append(author)
    blocked_by = [
        m for m in mentions if await store.relationships.is_blocked_either_way(account.id, m.id)
    ]
    mentions = [m for m in mentions if m not in blocked_by]
    poll = None
    if data.poll is not None:
        poll = NewPoll(
            options=[o.strip() for o in data.poll.options],
            multiple=data.poll.multiple,
            hide_totals=data.poll.hide_totals,
            expires_at=now_ms() + data.poll.expires_in * 1000,
        )
    status = await store.statuses.create(
        NewStatus(
            account_id=account.id,
            local=True,
            content=rendered.html,
            text=data.text,
            spoiler_text=data.spoiler_text,
            sensitive=data.sensitive or bool(data.spoiler_text),
            visibility=visibility,
            language=data.language or status_language(data, user, ctx.config),
            in_reply_to_id=parent.id if parent else None,
            in_reply_to_uri=parent.uri if parent else None,
            in_reply_to_account_id=parent.account_id if parent else None,
            conversation=parent.conversation if parent else None,
            application_id=application_id,
            mentions=[m.id for m in mentions],
            tags=rendered.tags,
            media_ids=media_ids,
            poll=poll,
            emojis=await local_emoji_items(store, ctx.config, data.text, data.spoiler_text),
            # One transaction: the status, its mentions, the Idempotency-Key and the mark
            # that its notifications and deliveries are owed. If what follows fails (or
            # the process dies), the mark stays and the worker makes them from it.
            idempotency_key=idempotency_key or None,
            pending_effects=True,
        ),
        uri_template=ctx.urls.status_template(account.username),
    )
    # The mention rows were written from ``mentions``: not read back.
    written = [
        Mention(status_id=status.id, account_id=i, silent=False)
        for i in dict.fromkeys(m.id for m in mentions)
    ]
    await SideEffects(store).status_created(status, account, mentions=written)
    await queue_card(store, ctx.config, status, new=True)
    if status.visibility != Visibility.DIRECT or any(not m.local for m in mentions):
        await ctx.federation.status_created(status, account)
    await store.effects.done(status.id, effects.CREATED)
    return status


async def get_view(ctx: Ctx, status_id: int | None, viewer_id: int | None) -> StatusView:
    status = await visible_status(ctx, status_id, viewer_id)
    return await cached_status_view(ctx.store, status, viewer_id)


async def own_status(ctx: Ctx, account: Account, status_id: int | None) -> Status:
    status = await visible_status(ctx, status_id, account.id)
    if status.account_id != account.id or status.reblog_of_id is not None:
        raise NotFoundError()
    return status


async def delete_status(ctx: Ctx, account: Account, status_id: int | None) -> StatusView:
    status = await own_status(ctx, account, status_id)
    view = await load_status_view(ctx.store, status, account.id)
    owed = None
    if status.visibility != "direct" or any(not m.local for m in view.mentions):
        payload = intents.deleted_status(status, [m.id for m in view.mentions])
        owed = await ctx.store.intents.add(
            intents.DELETE_STATUS, account.id, status.id, status.uri, payload=payload
        )
    await ctx.store.statuses.delete(status.id)
    await SideEffects(ctx.store).status_deleted(status)
    if owed is not None:
        # The mention rows are gone with the status: the outbox gets the accounts.
        await ctx.federation.status_deleted(status, view.mentions)
        await ctx.store.intents.done(owed)
    return view


async def edit_status(
    ctx: Ctx, account: Account, status_id: int | None, data: StatusInput
) -> Status:
    status = await own_status(ctx, account, status_id)
    media_ids = await _own_media(ctx, account, data.media_ids)
    _validate(ctx, data, media_count=len(media_ids))
    rendered = await render_text(ctx, data.text)
    poll = None
    if data.poll is not None:
        poll = NewPoll(
            options=[o.strip() for o in data.poll.options],
            multiple=data.poll.multiple,
            hide_totals=data.poll.hide_totals,
            expires_at=now_ms() + data.poll.expires_in * 1000,
        )
    old_mentions = await ctx.store.statuses.mentions_for([status.id])
    mention_ids = [m.id for m in rendered.mentions]
    if status.visibility == "direct":
        # Editing never widens a direct status's audience by dropping its original recipients.
        for m in old_mentions.get(status.id, []):
            if m.account_id not in mention_ids:
                mention_ids.append(m.account_id)
    edited = await ctx.store.statuses.edit(
        status.id,
        content=rendered.html,
        text=data.text,
        spoiler_text=data.spoiler_text,
        sensitive=data.sensitive or bool(data.spoiler_text),
        language=data.language or status.language,
        mentions=mention_ids,
        tags=rendered.tags,
        media_ids=media_ids,
        poll=poll,
        emojis=await local_emoji_items(ctx.store, ctx.config, data.text, data.spoiler_text),
        pending_effects=True,
    )
    await SideEffects(ctx.store).status_updated(edited, account)
    await queue_card(ctx.store, ctx.config, edited)
    await ctx.federation.status_updated(edited)
    await ctx.store.effects.done(edited.id, effects.UPDATED)
    return edited


async def context(
    ctx: Ctx, status_id: int | None, viewer_id: int | None
) -> tuple[list[StatusView], list[StatusView]]:
    status = await visible_status(ctx, status_id, viewer_id)
    ancestors = await ctx.store.statuses.ancestors(status, viewer_id)
    descendants = await ctx.store.statuses.descendants(status, viewer_id)
    if viewer_id is not None:
        # As Mastodon's thread filter: authors the viewer blocks, is blocked by or mutes,
        # and those of a domain the viewer blocks.
        hidden, of_blocked_domain = await ctx.store.relationships.hidden_authors_and_domains(
            viewer_id, [s.account_id for s in ancestors + descendants]
        )
        hidden |= of_blocked_domain
        ancestors = [s for s in ancestors if s.account_id not in hidden]
        descendants = [s for s in descendants if s.account_id not in hidden]
    before = await load_status_views(ctx.store, ancestors, viewer_id)
    after = await load_status_views(ctx.store, descendants, viewer_id)
    # One pass over both lists so the viewer's filters are loaded once.
    kept = {id(v) for v in await filter_views(ctx.store, viewer_id, "thread", before + after)}
    return [v for v in before if id(v) in kept], [v for v in after if id(v) in kept]


# -- interactions -------------------------------------------------------------------------


async def _fresh_view(ctx: Ctx, status: Status, viewer_id: int) -> StatusView:
    """The view after a change: counters are read again."""
    fresh = await ctx.store.statuses.get(status.id)
    return await load_status_view(ctx.store, fresh or status, viewer_id)


async def favourite(ctx: Ctx, account: Account, status_id: int | None) -> StatusView:
    status = await visible_status(ctx, status_id, account.id)
    if status.reblog_of_id is not None:
        status = await visible_status(ctx, status.reblog_of_id, account.id)
    like_uri = new_activity_id(ctx, account, "like")
    owed = None
    if (
        not status.local
        and await ctx.store.interactions.get_favourite(account.id, status.id) is None
    ):
        owed = await ctx.store.intents.add(intents.FAVOURITE, account.id, status.id, like_uri)
    if await ctx.store.interactions.favourite(account.id, status.id, uri=like_uri):
        await SideEffects(ctx.store).favourited(account, status)
        author = await ctx.store.accounts.get(status.account_id)
        if author is not None and not author.local:
            await ctx.federation.favourited(account, status, like_uri)
    if owed is not None:
        await ctx.store.intents.done(owed)
    return await _fresh_view(ctx, status, account.id)


async def unfavourite(ctx: Ctx, account: Account, status_id: int | None) -> StatusView:
    status = await visible_status(ctx, status_id, account.id)
    if status.reblog_of_id is not None:
        status = await visible_status(ctx, status.reblog_of_id, account.id)
    owed = None
    before = (
        None if status.local else await ctx.store.interactions.get_favourite(account.id, status.id)
    )
    if before is not None:
        owed = await ctx.store.intents.add(intents.UNFAVOURITE, account.id, status.id, before.uri)
    removed = await ctx.store.interactions.unfavourite(account.id, status.id)
    if removed is not None:
        author = await ctx.store.accounts.get(status.account_id)
        if author is not None and not author.local:
            await ctx.federation.unfavourited(account, status, removed.uri)
    if owed is not None:
        await ctx.store.intents.done(owed)
    return await _fresh_view(ctx, status, account.id)


async def reblog(
    ctx: Ctx, account: Account, status_id: int | None, visibility: str | None
) -> StatusView:
    status = await visible_status(ctx, status_id, account.id)
    if status.reblog_of_id is not None:
        status = await visible_status(ctx, status.reblog_of_id, account.id)
    if status.visibility == Visibility.DIRECT or (
        status.visibility == Visibility.PRIVATE and status.account_id != account.id
    ):
        raise ApiError("This action is not allowed", 422)
    existing = await ctx.store.statuses.reblog_by(account.id, status.id)
    if existing is not None:
        return await load_status_view(ctx.store, existing, account.id)
    vis = visibility if visibility in VISIBILITIES and visibility != Visibility.DIRECT else "public"
    if status.visibility == Visibility.PRIVATE:
        vis = Visibility.PRIVATE
    wrapper = await ctx.store.statuses.create(
        NewStatus(account_id=account.id, local=True, reblog_of_id=status.id, visibility=vis,
                  pending_effects=True),
        uri_template=ctx.urls.status_template(account.username) + "/activity",
    )  # fmt: skip
    await SideEffects(ctx.store).reblogged(wrapper, status, account)
    await ctx.federation.reblogged(wrapper)
    await ctx.store.effects.done(wrapper.id, effects.CREATED)
    return await load_status_view(ctx.store, wrapper, account.id)


async def unreblog(ctx: Ctx, account: Account, status_id: int | None) -> StatusView:
    status = await visible_status(ctx, status_id, account.id)
    if status.reblog_of_id is not None:
        status = await visible_status(ctx, status.reblog_of_id, account.id)
    wrapper = await ctx.store.statuses.reblog_by(account.id, status.id)
    if wrapper is not None:
        owed = await ctx.store.intents.add(
            intents.DELETE_STATUS, account.id, wrapper.id, wrapper.uri,
            payload=intents.deleted_status(wrapper, []),
        )  # fmt: skip
        await ctx.store.statuses.delete(wrapper.id)
        await SideEffects(ctx.store).status_deleted(wrapper)
        await ctx.federation.unreblogged(wrapper)
        await ctx.store.intents.done(owed)
    return await _fresh_view(ctx, status, account.id)


async def mark(
    ctx: Ctx, account: Account, status_id: int | None, table: str, on: bool
) -> StatusView:
    status = await visible_status(ctx, status_id, account.id)
    if status.reblog_of_id is not None:
        status = await visible_status(ctx, status.reblog_of_id, account.id)
    if table == "status_pins":
        if status.account_id != account.id:
            raise ApiError("Validation failed: You can only pin your own statuses", 422)
        if on and status.visibility in ("private", "direct"):
            raise ApiError(
                "Validation failed: Only public and unlisted statuses can be pinned", 422
            )
        if on and len(await ctx.store.interactions.pinned_ids(account.id)) >= 5:
            raise ApiError(
                "Validation failed: You have already pinned the maximum number of statuses", 422
            )
    if on:
        await ctx.store.interactions.mark(table, account.id, status.id)
    else:
        await ctx.store.interactions.unmark(table, account.id, status.id)
    return await load_status_view(ctx.store, status, account.id)


async def mute_conversation(
    ctx: Ctx, account: Account, status_id: int | None, on: bool
) -> StatusView:
    status = await visible_status(ctx, status_id, account.id)
    if status.conversation:
        await ctx.store.interactions.mute_conversation(account.id, status.conversation, on)
    return await load_status_view(ctx.store, status, account.id)


async def who_interacted(
    ctx: Ctx, status_id: int | None, viewer_id: int | None, table: str, page: Page
) -> tuple[list[Account], list[int]]:
    status = await visible_status(ctx, status_id, viewer_id)
    rows = await ctx.store.interactions.accounts_who(table, status.id, page)
    hidden: set[int] = set()
    if viewer_id is not None:
        hidden = await ctx.store.relationships.hidden_authors(viewer_id, [a.id for _, a in rows])
    return [a for _, a in rows if a.id not in hidden and not a.suspended], [k for k, _ in rows]


@dataclass(frozen=True, slots=True)
class StatusHistory:
    """The versions of a status: its edits (oldest first) with the media they name, or,
    for a status never edited, the status with its current media."""

    status: Status
    account: Account
    edits: list[StatusEdit]
    media: dict[int, MediaAttachment]
    current_media: list[MediaAttachment]


async def history(ctx: Ctx, status_id: int | None, viewer_id: int | None) -> StatusHistory:
    status = await visible_status(ctx, status_id, viewer_id)
    account = await ctx.store.accounts.get(status.account_id)
    if account is None:
        raise NotFoundError()
    edits = list(await ctx.store.statuses.edits(status.id))
    if not edits:
        view = await load_status_view(ctx.store, status, viewer_id)
        return StatusHistory(status, account, [], {}, list(view.media))
    media: dict[int, MediaAttachment] = {}
    stored: list[object] = [m for e in edits for m in e.media]
    for mid in dict.fromkeys(m for m in stored if isinstance(m, int)):
        found = await ctx.store.media.get(mid)
        if found is not None:
            media[mid] = found
    return StatusHistory(status, account, edits, media, [])


# -- polls --------------------------------------------------------------------------------


async def poll_view(ctx: Ctx, poll_id: int | None, viewer_id: int | None) -> StatusView:
    poll = await ctx.store.polls.get(poll_id) if poll_id is not None else None
    if poll is None:
        raise NotFoundError()
    view = await get_view(ctx, poll.status_id, viewer_id)
    if view.poll is None:
        raise NotFoundError()
    return view


async def vote(ctx: Ctx, account: Account, poll_id: int | None, choices: list[int]) -> StatusView:
    view = await poll_view(ctx, poll_id, account.id)
    assert view.poll is not None
    poll: Poll = view.poll.poll
    if poll.expires_at is not None and poll.expires_at <= now_ms():
        raise ValidationFailed("Validation failed: The poll has already ended")
    if not choices or any(c < 0 or c >= len(poll.options) for c in choices):
        raise ValidationFailed("Validation failed: invalid choice")
    if not poll.multiple and len(set(choices)) > 1:
        raise ValidationFailed("Validation failed: this poll allows only one choice")
    if view.status.account_id == account.id:
        raise ValidationFailed("Validation failed: You cannot vote in your own poll")
    owed = None
    if not view.account.local:
        owed = await ctx.store.intents.add(intents.POLL_VOTE, account.id, view.status.id, None)
    try:
        await ctx.store.polls.vote(poll.id, account.id, choices)
    except Conflict:
        if owed is not None:
            await ctx.store.intents.done(owed)
        raise ValidationFailed("Validation failed: You have already voted on this poll") from None
    await SideEffects(ctx.store).poll_counts_changed(view.status)
    if owed is not None:
        await ctx.federation.poll_voted(account, view.status, choices)
        await ctx.store.intents.done(owed)
    else:
        await ctx.federation.poll_votes_changed(view.status)
    return await get_view(ctx, view.status.id, account.id)


def check_visibility_param(value: str | None) -> str | None:
    if value is not None and value not in VISIBILITIES:
        raise ValidationFailed("Validation failed: Visibility is not included in the list")
    return value
