"""Scheduled statuses: ``scheduled_at`` on posting holds the status until its time, when
the worker posts it as the client would have (``publish_due``), once, whichever process
takes it and however often one dies on the way."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fedinode.errors import ApiError, NotFoundError, ValidationFailed
from fedinode.services import statuses as status_service
from fedinode.services.context import Ctx
from storage.ids import now_ms
from storage.models import Account, MediaAttachment
from storage.paging import Page
from storage.scheduled import ScheduledStatus, publish_key

log = logging.getLogger("fedinode.scheduled")

# Mastodon's rules: at least five minutes ahead, 25 a day and 300 in all per account.
MIN_AHEAD_MS = 5 * 60_000
DAILY_LIMIT = 25
TOTAL_LIMIT = 300
LEASE_MS = 120_000
BATCH = 16
SWEEP_SECONDS = 30.0
MAX_RETRY_MS = 3_600_000


@dataclass(frozen=True, slots=True)
class ScheduledView:
    """A scheduled status with the attachments it will carry."""

    row: ScheduledStatus
    media: list[MediaAttachment]


def parse_scheduled_at(value: str | None) -> int | None:
    """ISO 8601 (``2026-12-01T10:00:00Z``, any offset) → epoch ms; None when absent."""
    if value is None or value == "":
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValidationFailed("Validation failed: Scheduled at is not a valid time") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp() * 1000)


def _check_time(scheduled_at: int) -> None:
    if scheduled_at < now_ms() + MIN_AHEAD_MS:
        raise ValidationFailed(
            "Validation failed: Scheduled at The scheduled date must be at least 5 minutes in the future"
        )


def _params(data: status_service.StatusInput, media_ids: list[int], *,
            application_id: int | None, idempotency_key: str | None) -> dict[str, Any]:  # fmt: skip
    poll = None
    if data.poll is not None:
        poll = {
            "options": list(data.poll.options),
            "expires_in": data.poll.expires_in,
            "multiple": data.poll.multiple,
            "hide_totals": data.poll.hide_totals,
        }
    return {
        "text": data.text,
        "poll": poll,
        "media_ids": [str(m) for m in media_ids] or None,
        "sensitive": data.sensitive,
        "spoiler_text": data.spoiler_text or None,
        "visibility": data.visibility,
        "language": data.language,
        "in_reply_to_id": data.in_reply_to_id,
        "application_id": application_id,
        "idempotency": idempotency_key,
        "scheduled_at": None,
        "with_rate_limit": False,
    }


def _input_from(params: dict[str, Any]) -> status_service.StatusInput:
    poll = params.get("poll")
    return status_service.StatusInput(
        text=str(params.get("text") or ""),
        media_ids=[int(m) for m in params.get("media_ids") or ()],
        poll=status_service.PollInput(
            options=list(poll["options"]),
            expires_in=int(poll["expires_in"]),
            multiple=bool(poll.get("multiple")),
            hide_totals=bool(poll.get("hide_totals")),
        )
        if isinstance(poll, dict)
        else None,
        in_reply_to_id=params.get("in_reply_to_id"),
        sensitive=bool(params.get("sensitive")),
        spoiler_text=str(params.get("spoiler_text") or ""),
        visibility=params.get("visibility"),
        language=params.get("language"),
    )


async def schedule_status(
    ctx: Ctx,
    account: Account,
    data: status_service.StatusInput,
    scheduled_at: int,
    *,
    application_id: int | None,
    idempotency_key: str | None,
) -> ScheduledView:
    """Check the post as posting would, then hold it until ``scheduled_at``."""
    _check_time(scheduled_at)
    media_ids = await status_service.check_input(ctx, account, data)
    total, same_day = await ctx.store.scheduled_statuses.counts(account.id, scheduled_at)
    if total >= TOTAL_LIMIT:
        raise ValidationFailed(
            f"Validation failed: You have exceeded the limit of {TOTAL_LIMIT} scheduled statuses"
        )
    if same_day >= DAILY_LIMIT:
        raise ValidationFailed(
            f"Validation failed: You have exceeded the limit of {DAILY_LIMIT} scheduled statuses for that day"
        )
    params = _params(data, media_ids, application_id=application_id,
                     idempotency_key=idempotency_key)  # fmt: skip
    row = await ctx.store.scheduled_statuses.create(account.id, scheduled_at, params)
    return await _view(ctx, row)


async def _view(ctx: Ctx, row: ScheduledStatus) -> ScheduledView:
    media = []
    for value in row.params.get("media_ids") or ():
        found = await ctx.store.media.get(int(value))
        if found is not None and found.account_id == row.account_id:
            media.append(found)
    return ScheduledView(row=row, media=media)


async def _own(ctx: Ctx, account: Account, scheduled_id: int) -> ScheduledStatus:
    row = await ctx.store.scheduled_statuses.get(scheduled_id)
    if row is None or row.account_id != account.id:
        raise NotFoundError()
    return row


async def list_scheduled(ctx: Ctx, account: Account, page: Page) -> list[ScheduledView]:
    rows = await ctx.store.scheduled_statuses.for_account(account.id, page)
    return [await _view(ctx, row) for row in rows]


async def get_scheduled(ctx: Ctx, account: Account, scheduled_id: int) -> ScheduledView:
    return await _view(ctx, await _own(ctx, account, scheduled_id))


async def reschedule(ctx: Ctx, account: Account, scheduled_id: int,
                     scheduled_at: int | None) -> ScheduledView:  # fmt: skip
    row = await _own(ctx, account, scheduled_id)
    if scheduled_at is None:
        return await _view(ctx, row)
    _check_time(scheduled_at)
    updated = await ctx.store.scheduled_statuses.reschedule(row.id, scheduled_at)
    if updated is None:  # published or deleted meanwhile
        raise NotFoundError()
    return await _view(ctx, updated)


async def cancel(ctx: Ctx, account: Account, scheduled_id: int) -> None:
    row = await _own(ctx, account, scheduled_id)
    if not await ctx.store.scheduled_statuses.delete(row.id):
        raise NotFoundError()


async def media_reserved(ctx: Ctx, account: Account, media_id: int) -> bool:
    """True when a scheduled status of the account will attach this media."""
    return media_id in await ctx.store.scheduled_statuses.media_in_use(account.id)


# -- the worker ------------------------------------------------------------------------------


async def publish(ctx: Ctx, item: ScheduledStatus) -> int | None:
    """Post one claimed scheduled status; returns the status id (None: it was dropped)."""
    store = ctx.store
    done = await store.scheduled_statuses.published_status(item)
    if done is not None:  # posted by a worker that died before deleting the row
        await store.scheduled_statuses.delete(item.id)
        return done
    account = await store.accounts.get(item.account_id)
    if account is None or account.suspended:
        await store.scheduled_statuses.delete(item.id)
        return None
    params = item.params
    try:
        status = await status_service.post_status(
            ctx,
            account,
            _input_from(params),
            application_id=params.get("application_id"),
            idempotency_key=publish_key(item.id),
        )
    except ApiError as exc:
        # What can no longer be posted (the replied-to status or the media are gone) is
        # dropped, as Mastodon drops it.
        log.warning("scheduled status %d dropped: %s", item.id, exc)
        await store.scheduled_statuses.delete(item.id)
        return None
    await store.scheduled_statuses.delete(item.id)
    return status.id


async def publish_due(ctx: Ctx) -> int:
    """Post every due scheduled status; returns how many were taken."""
    total = 0
    while items := await ctx.store.scheduled_statuses.claim(BATCH, lease_ms=LEASE_MS):
        for item in items:
            try:
                await publish(ctx, item)
            except Exception as exc:
                log.exception("scheduled status %d failed", item.id)
                retry = min(MAX_RETRY_MS, 30_000 << min(item.attempts, 10))
                await ctx.store.scheduled_statuses.retry(item, repr(exc), retry_at=now_ms() + retry)
        total += len(items)
    return total


async def publish_forever(ctx: Ctx) -> None:
    """Publish scheduled statuses as they fall due, until cancelled."""
    while True:
        try:
            await publish_due(ctx)
            due = await ctx.store.scheduled_statuses.next_due()
        except Exception:
            log.exception("scheduled statuses sweep failed")
            due = None
        wait = SWEEP_SECONDS
        if due is not None:
            wait = min(wait, max((due - now_ms()) / 1000, 0.0) + 0.05)
        await asyncio.sleep(wait)
