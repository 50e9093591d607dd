"""ScheduledStatus and its ``params``."""

# No ``from __future__ import annotations``: TypedDict reads NotRequired from evaluated
# annotations (``__optional_keys__``), which the tests compare with the JSON sent.
from typing import TypedDict

from fedinode.api.entities.media import MediaAttachment


class ScheduledPoll(TypedDict):
    options: list[str]
    expires_in: str
    multiple: bool
    hide_totals: bool


class ScheduledParams(TypedDict):
    text: str
    poll: ScheduledPoll | None
    media_ids: list[str] | None
    sensitive: bool | None
    spoiler_text: str | None
    visibility: str | None
    in_reply_to_id: int | None
    language: str | None
    application_id: int | None
    scheduled_at: None
    idempotency: str | None
    with_rate_limit: bool


class ScheduledStatus(TypedDict):
    id: str
    scheduled_at: str
    params: ScheduledParams
    media_attachments: list[MediaAttachment]
