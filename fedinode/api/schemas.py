"""The only place Mastodon JSON is built: one function per entity, named ``*_to_api``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fedinode.config import Config
from fedinode.version import COMPAT_VERSION
from storage.models import InstanceStats

_SUPPORTED_MIME = [
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "image/avif",
]


def iso(ms: int | None) -> str | None:
    """Milliseconds since the epoch → Mastodon's ISO 8601 with milliseconds and Z."""
    if ms is None:
        return None
    return (
        datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"
    )


def iso_date(ms: int | None) -> str | None:
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d")


def _configuration(config: Config) -> dict[str, Any]:
    i = config.instance
    return {
        "urls": {"streaming": config.base_url.replace("http", "ws", 1), "status": None},
        "vapid": {"public_key": ""},
        "accounts": {"max_featured_tags": 10, "max_pinned_statuses": 5},
        "statuses": {
            "max_characters": i.max_status_chars,
            "max_media_attachments": i.max_media_attachments,
            "characters_reserved_per_url": 23,
        },
        "media_attachments": {
            "supported_mime_types": _SUPPORTED_MIME,
            "description_limit": 1500,
            "image_size_limit": config.server.max_media_bytes,
            "image_matrix_limit": config.media.max_image_pixels,
            "video_size_limit": 0,
            "video_frame_rate_limit": 0,
            "video_matrix_limit": 0,
        },
        "polls": {
            "max_options": i.max_poll_options,
            "max_characters_per_option": 50,
            "min_expiration": 300,
            "max_expiration": 2_629_746,
        },
        "translation": {"enabled": False},
    }


def _rules(config: Config) -> list[dict[str, Any]]:
    return [
        {"id": str(n), "text": text, "hint": ""}
        for n, text in enumerate(config.instance.rules, start=1)
    ]


def instance_v2_to_api(
    config: Config, stats: InstanceStats, contact_account: dict[str, Any] | None
) -> dict[str, Any]:
    i = config.instance
    return {
        "domain": i.domain,
        "title": i.title,
        "version": COMPAT_VERSION,
        "source_url": "https://github.com/fedinode/fedinode",
        "description": i.description,
        "usage": {"users": {"active_month": stats.active_month}},
        "thumbnail": {
            "url": f"{config.base_url}/static/thumbnail.png",
            "blurhash": None,
            "versions": {},
        },
        "icon": [],
        "languages": list(i.languages),
        "configuration": _configuration(config),
        "registrations": {
            "enabled": i.registrations,
            "approval_required": i.approval_required,
            "message": None,
            "url": None,
        },
        "api_versions": {"mastodon": 2},
        "contact": {"email": i.contact_email, "account": contact_account},
        "rules": _rules(config),
    }


def instance_v1_to_api(
    config: Config, stats: InstanceStats, contact_account: dict[str, Any] | None
) -> dict[str, Any]:
    i = config.instance
    conf = _configuration(config)
    return {
        "uri": i.domain,
        "title": i.title,
        "short_description": i.description,
        "description": i.description,
        "email": i.contact_email,
        "version": COMPAT_VERSION,
        "urls": {"streaming_api": conf["urls"]["streaming"]},
        "stats": {
            "user_count": stats.user_count,
            "status_count": stats.local_posts,
            "domain_count": stats.domain_count,
        },
        "thumbnail": None,
        "languages": list(i.languages),
        "registrations": i.registrations,
        "approval_required": i.approval_required,
        "invites_enabled": False,
        "configuration": {
            k: v
            for k, v in conf.items()
            if k in ("statuses", "media_attachments", "polls", "accounts")
        },
        "contact_account": contact_account,
        "rules": _rules(config),
    }
