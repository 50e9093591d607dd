"""Instance (v2 and v1), its rules, the public list of moderated servers, weekly activity."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from fedinode.api.schemas.accounts import account_to_api
from fedinode.config import Config
from fedinode.services.transparency import ModeratedServer
from fedinode.version import COMPAT_VERSION
from storage.models import Account, InstanceStats

if TYPE_CHECKING:
    from fedinode.api import entities as e

_SUPPORTED_MIME = [
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "image/avif",
    # Transcoded with ffmpeg (services/transcode.py): to H.264/AAC MP4, or MP3 / Opus.
    "video/mp4",
    "video/quicktime",
    "video/webm",
    "video/x-matroska",
    "video/ogg",
    "audio/mpeg",
    "audio/mp3",
    "audio/mp4",
    "audio/ogg",
    "audio/opus",
    "audio/wav",
    "audio/x-wav",
    "audio/flac",
    "audio/aac",
    "audio/webm",
]


def _configuration(config: Config, vapid_key: str) -> e.Configuration:
    i = config.instance
    return {
        "urls": {"streaming": config.base_url.replace("http", "ws", 1), "status": None},
        "vapid": {"public_key": vapid_key},
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
            "video_size_limit": config.media.video_max_bytes,
            "video_frame_rate_limit": config.media.video_max_fps,
            "video_matrix_limit": config.media.video_max_dimension**2,
        },
        "polls": {
            "max_options": i.max_poll_options,
            "max_characters_per_option": 50,
            "min_expiration": 300,
            "max_expiration": 2_629_746,
        },
        "translation": {"enabled": False},
    }


def rules_to_api(config: Config) -> list[e.Rule]:
    return [
        {"id": str(n), "text": rule.text, "hint": rule.hint}
        for n, rule in enumerate(config.instance.rules, start=1)
    ]


def instance_v2_to_api(
    config: Config, stats: InstanceStats, contact_account: Account | None, vapid_key: str
) -> e.Instance:
    """Instance (v2); ``vapid_key`` is the instance's Web Push key."""
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
        "configuration": _configuration(config, vapid_key),
        "registrations": {
            "enabled": i.registrations_enabled,
            "approval_required": i.approval_required,
            "message": None,
            "url": None,
        },
        "api_versions": {"mastodon": 2},
        "contact": {"email": i.contact_email, "account": _maybe_account(contact_account, config)},
        "rules": rules_to_api(config),
    }


def _maybe_account(account: Account | None, config: Config) -> e.Account | None:
    return None if account is None else account_to_api(account, config.base_url)


def instance_v1_to_api(
    config: Config, stats: InstanceStats, contact_account: Account | None
) -> e.V1Instance:
    i = config.instance
    conf = _configuration(config, "")  # v1 has no place for the Web Push key
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
        "thumbnail": f"{config.base_url}/static/thumbnail.png",
        "languages": list(i.languages),
        "registrations": i.registrations_enabled,
        "approval_required": i.approval_required,
        "invites_enabled": False,
        "configuration": {
            "accounts": conf["accounts"],
            "statuses": conf["statuses"],
            "media_attachments": conf["media_attachments"],
            "polls": conf["polls"],
        },
        "contact_account": _maybe_account(contact_account, config),
        "rules": rules_to_api(config),
    }


def public_domain_blocks_to_api(servers: Sequence[ModeratedServer]) -> list[e.DomainBlock]:
    """/api/v1/instance/domain_blocks from ``transparency.moderated_servers``."""
    return [
        {"domain": s.domain, "digest": s.digest, "severity": s.severity, "comment": s.comment}
        for s in servers
    ]


def activity_to_api(weeks: Sequence[Mapping[str, int]]) -> list[e.Activity]:
    return [
        {
            "week": str(w["week"]),
            "statuses": str(w["statuses"]),
            "logins": str(w["logins"]),
            "registrations": str(w["registrations"]),
        }
        for w in weeks
    ]
