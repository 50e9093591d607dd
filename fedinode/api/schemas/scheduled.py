"""ScheduledStatus: what will be posted, when, with which attachments."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fedinode.api.schemas.media import media_to_api
from fedinode.api.schemas.times import at
from fedinode.config import Config
from fedinode.services.scheduled_statuses import ScheduledView

if TYPE_CHECKING:
    from fedinode.api import entities as e


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _poll(value: Any) -> e.ScheduledPoll | None:
    if not isinstance(value, dict):
        return None
    return {
        "options": [str(o) for o in value.get("options") or ()],
        # Mastodon keeps the form's string here.
        "expires_in": str(value.get("expires_in", "")),
        "multiple": bool(value.get("multiple")),
        "hide_totals": bool(value.get("hide_totals")),
    }


def scheduled_status_to_api(config: Config, view: ScheduledView) -> e.ScheduledStatus:
    p = view.row.params
    reply = p.get("in_reply_to_id")
    app = p.get("application_id")
    sensitive = p.get("sensitive")
    media_ids = p.get("media_ids")
    return {
        "id": str(view.row.id),
        "scheduled_at": at(view.row.scheduled_at),
        "params": {
            "text": str(p.get("text") or ""),
            "poll": _poll(p.get("poll")),
            "media_ids": [str(m) for m in media_ids] if isinstance(media_ids, list) else None,
            "sensitive": bool(sensitive) if sensitive is not None else None,
            "spoiler_text": _str_or_none(p.get("spoiler_text")),
            "visibility": _str_or_none(p.get("visibility")),
            "in_reply_to_id": int(reply) if reply is not None else None,
            "language": _str_or_none(p.get("language")),
            "application_id": int(app) if app is not None else None,
            "scheduled_at": None,
            "idempotency": _str_or_none(p.get("idempotency")),
            "with_rate_limit": False,
        },
        "media_attachments": [media_to_api(config, m) for m in view.media],
    }
