"""The only place Mastodon JSON is built: one function per entity, named ``*_to_api``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fedinode.config import Config
from fedinode.version import COMPAT_VERSION
from storage.models import InstanceStats, OAuthApp, OAuthToken

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


# -- OAuth ------------------------------------------------------------------------------


def application_to_api(app: OAuthApp, *, with_secret: bool = False) -> dict[str, Any]:
    """Application entity; the credentials only in the registration response."""
    uris = app.redirect_uris.split()
    out: dict[str, Any] = {
        "id": str(app.id),
        "name": app.name,
        "website": app.website,
        "scopes": app.scopes.split(),
        "redirect_uri": "\n".join(uris),
        "redirect_uris": uris,
        "vapid_key": "",
    }
    if with_secret:
        out["client_id"] = app.client_id
        out["client_secret"] = app.client_secret
        out["client_secret_expires_at"] = 0
    return out


def status_application_to_api(app: OAuthApp | None) -> dict[str, Any] | None:
    if app is None:
        return None
    return {"name": app.name, "website": app.website}


def token_to_api(raw: str, token: OAuthToken) -> dict[str, Any]:
    return {
        "access_token": raw,
        "token_type": "Bearer",
        "scope": token.scopes,
        "created_at": token.created_at // 1000,
    }


def oauth_error_to_api(error: str, description: str) -> dict[str, Any]:
    return {"error": error, "error_description": description}


def oauth_metadata_to_api(base_url: str, scopes: list[str]) -> dict[str, Any]:
    return {
        "issuer": base_url + "/",
        "service_documentation": "https://docs.joinmastodon.org/",
        "authorization_endpoint": f"{base_url}/oauth/authorize",
        "token_endpoint": f"{base_url}/oauth/token",
        "revocation_endpoint": f"{base_url}/oauth/revoke",
        "app_registration_endpoint": f"{base_url}/api/v1/apps",
        "scopes_supported": scopes,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "fragment", "form_post"],
        "code_challenge_methods_supported": ["S256"],
        "grant_types_supported": ["authorization_code", "password", "client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
    }


# -- media, lists, filters, markers, streaming, admin --


from storage.models import MediaAttachment  # noqa: E402


def media_to_api(config: Config, media: MediaAttachment) -> dict[str, Any]:
    """MediaAttachment entity; ``url`` is set because processing is synchronous."""
    base = config.base_url + "/media/"
    local = bool(media.file_path)
    url = base + media.file_path if local else media.remote_url or None
    preview = base + media.preview_path if media.preview_path else url
    meta = dict(media.meta or {})
    meta["focus"] = {"x": media.focus_x, "y": media.focus_y}
    return {
        "id": str(media.id),
        "type": media.type,
        "url": url,
        "preview_url": preview,
        "remote_url": None if local else media.remote_url or None,
        "preview_remote_url": None,
        "text_url": None,
        "meta": meta,
        "description": media.description or None,
        "blurhash": media.blurhash,
    }


# -- end media, lists, filters, markers, streaming, admin --


# -- policy: domain blocks, allows, decisions --


import hashlib  # noqa: E402

from storage.models import DomainAllowRow, DomainBlockRow, PolicyDecisionRow  # noqa: E402

_POLICY_BLOCK_EXTRAS = (
    "federated_timeline_removal",
    "followers_only",
    "avatar_removal",
    "banner_removal",
    "reject_deletes",
)


def domain_block_to_api(row: DomainBlockRow) -> dict[str, Any]:
    """Admin::DomainBlock, plus fedinode's finer flags."""
    return {
        "id": str(row.id),
        "domain": row.domain,
        "digest": hashlib.sha256(row.domain.encode()).hexdigest(),
        "created_at": iso(row.created_at),
        "severity": row.severity,
        "reject_media": row.reject_media,
        "reject_reports": row.reject_reports,
        "private_comment": row.private_comment or None,
        "public_comment": row.public_comment or None,
        "obfuscate": row.obfuscate,
        **{name: getattr(row, name) for name in _POLICY_BLOCK_EXTRAS},
    }


def domain_allow_to_api(row: DomainAllowRow) -> dict[str, Any]:
    """Admin::DomainAllow."""
    return {"id": str(row.id), "domain": row.domain, "created_at": iso(row.created_at)}


def public_domain_blocks_to_api(described: dict[str, Any]) -> list[dict[str, Any]]:
    """/api/v1/instance/domain_blocks from ``Pipeline.describe()`` (already obfuscated);
    a noop block without any flag limits nothing and is left out."""
    out = []
    for block in described.get("domain_blocks", []):
        limits = block["severity"] != "noop" or any(
            block.get(name) for name in ("reject_media", "reject_reports", *_POLICY_BLOCK_EXTRAS)
        )
        if limits:
            out.append(
                {
                    "domain": block["domain"],
                    "digest": block["digest"],
                    "severity": block["severity"],
                    "comment": block["comment"] or None,
                }
            )
    return out


def policy_decision_to_api(row: PolicyDecisionRow) -> dict[str, Any]:
    """One audit record (fedinode extension: /api/v1/admin/policy/decisions)."""
    return {
        "id": str(row.id),
        "time": iso(row.time),
        "direction": row.direction,
        "peer": row.peer,
        "actor": row.actor,
        "activity_id": row.activity_id,
        "activity_type": row.activity_type,
        "rule": row.rule,
        "action": row.action,
        "enforced": row.enforced,
        "reason": row.reason,
    }


def domain_block_impact_to_api(impact: Any) -> dict[str, Any]:
    """What a suspension severs (fedinode extension), from services.policy.Impact."""
    return {
        "domain": impact.domain,
        "severity": impact.severity,
        "domains": list(impact.domains),
        "follows_severed": impact.follows_severed,
        "followers_severed": impact.followers_severed,
        "follow_requests_dropped": impact.follow_requests_dropped,
        "cached_statuses": impact.cached_statuses,
        "statuses_purged": impact.statuses_purged,
    }


# -- end policy --
