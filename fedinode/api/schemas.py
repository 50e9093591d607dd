"""The only place Mastodon JSON is built: one function per entity, named ``*_to_api``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from fedinode.config import Config
from fedinode.services.views import PollView, StatusView
from fedinode.version import COMPAT_VERSION
from storage.client_api import FeaturedTag, RelationshipRow
from storage.ids import now_ms
from storage.models import (
    Account,
    InstanceStats,
    MediaAttachment,
    Notification,
    OAuthApp,
    OAuthToken,
    Report,
    Status,
    StatusEdit,
    Tag,
    User,
)

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
        "thumbnail": f"{config.base_url}/static/thumbnail.png",
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


def oauth_metadata_to_api(
    base_url: str, scopes: list[str], *, response_modes: list[str], pkce_methods: list[str]
) -> dict[str, Any]:
    return {
        "issuer": base_url + "/",
        "service_documentation": "https://docs.joinmastodon.org/",
        "authorization_endpoint": f"{base_url}/oauth/authorize",
        "token_endpoint": f"{base_url}/oauth/token",
        "revocation_endpoint": f"{base_url}/oauth/revoke",
        "app_registration_endpoint": f"{base_url}/api/v1/apps",
        "scopes_supported": scopes,
        "response_types_supported": ["code"],
        "response_modes_supported": response_modes,
        "code_challenge_methods_supported": pkce_methods,
        "grant_types_supported": ["authorization_code", "password", "client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
    }


# -- media, lists, filters, markers, streaming, admin --


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


def tag_entity_to_api(
    tag: Tag, base_url: str, history: list[Any], *, following: bool | None
) -> dict[str, Any]:
    """The full Tag entity (id, usage history of the last days, and ``following`` for a user)."""
    out: dict[str, Any] = {
        "id": str(tag.id),
        "name": tag.display_name or tag.name,
        "url": f"{base_url}/tags/{tag.name}",
        "history": [
            {"day": str(d.day // 1000), "uses": str(d.uses), "accounts": str(d.accounts)}
            for d in history
        ],
    }
    if following is not None:
        out["following"] = following
    return out


def list_to_api(row: Any) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "title": row.title,
        "replies_policy": row.replies_policy,
        "exclusive": bool(row.exclusive),
    }


def marker_to_api(marker: Any) -> dict[str, Any]:
    return {
        "last_read_id": marker.last_read_id,
        "version": marker.version,
        "updated_at": iso(marker.updated_at),
    }


def filter_keyword_to_api(keyword: Any) -> dict[str, Any]:
    return {
        "id": str(keyword.id),
        "keyword": keyword.keyword,
        "whole_word": bool(keyword.whole_word),
    }


def filter_status_to_api(fs: Any) -> dict[str, Any]:
    return {"id": str(fs.id), "status_id": str(fs.status_id)}


def filter_to_api(f: Any, statuses: Any) -> dict[str, Any]:
    """Filter entity (v2)."""
    return {
        "id": str(f.id),
        "title": f.title,
        "context": list(f.contexts),
        "expires_at": iso(f.expires_at),
        "filter_action": f.action,
        "keywords": [filter_keyword_to_api(k) for k in f.keywords],
        "statuses": [filter_status_to_api(s) for s in statuses],
    }


def filter_v1_to_api(f: Any, keyword: Any) -> dict[str, Any]:
    """V1 Filter entity: one keyword of a v2 filter, as older apps expect."""
    return {
        "id": str(keyword.id),
        "phrase": keyword.keyword,
        "context": list(f.contexts),
        "whole_word": bool(keyword.whole_word),
        "expires_at": iso(f.expires_at),
        "irreversible": f.action == "hide",
    }


def filter_result_to_api(match: Any) -> dict[str, Any]:
    """FilterResult: which filter matched a status, by keyword or by the status itself."""
    return {
        "filter": filter_to_api(match.filter, match.statuses),
        "keyword_matches": match.keyword_matches,
        "status_matches": match.status_matches,
    }


def conversation_to_api(
    ident: int,
    unread: bool,
    accounts: list[Account],
    last_status: dict[str, Any] | None,
    base_url: str,
) -> dict[str, Any]:
    return {
        "id": str(ident),
        "unread": unread,
        "accounts": [account_to_api(a, base_url) for a in accounts],
        "last_status": last_status,
    }


def suggestion_to_api(source: str, account: Account, base_url: str) -> dict[str, Any]:
    """Suggestion (v2): ``sources`` in 4.3 words, ``source`` in the older ones."""
    legacy = "past_interactions" if source == "friends_of_friends" else "global"
    return {"source": legacy, "sources": [source], "account": account_to_api(account, base_url)}


def search_to_api(
    accounts: list[dict[str, Any]], statuses: list[dict[str, Any]], hashtags: list[dict[str, Any]]
) -> dict[str, Any]:
    return {"accounts": accounts, "statuses": statuses, "hashtags": hashtags}


def report_to_api(report: Report, target: Account, base_url: str) -> dict[str, Any]:
    """Report entity, as its reporter sees it."""
    return {
        "id": str(report.id),
        "action_taken": report.action_taken_at is not None,
        "action_taken_at": iso(report.action_taken_at),
        "category": report.category,
        "comment": report.comment,
        "forwarded": report.forwarded,
        "created_at": iso(report.created_at),
        "status_ids": [str(i) for i in report.status_ids] or None,
        "rule_ids": [str(i) for i in report.rule_ids] or None,
        "target_account": account_to_api(target, base_url),
    }


def admin_account_to_api(
    account: Account, user: User | None, sensitized: bool, base_url: str
) -> dict[str, Any]:
    """Admin::Account entity."""
    return {
        "id": str(account.id),
        "username": account.username,
        "domain": account.domain or None,
        "created_at": iso(account.created_at),
        "email": user.email if user is not None else None,
        "ip": None,
        "ips": [],
        "locale": user.locale if user is not None else None,
        "invite_request": None,
        "role": (
            {"id": "3", "name": "Admin", "color": "", "permissions": "1", "highlighted": True}
            if user is not None and user.admin
            else {
                "id": "-99",
                "name": "",
                "color": "",
                "permissions": "65536",
                "highlighted": False,
            }
        ),
        "confirmed": user is not None,
        "approved": user.approved if user is not None else True,
        "disabled": user.disabled if user is not None else False,
        "sensitized": sensitized,
        "silenced": account.silenced,
        "suspended": account.suspended,
        "account": account_to_api(account, base_url),
        "created_by_application_id": None,
        "invited_by_account_id": None,
    }


def admin_report_to_api(
    report: Report,
    action_taken_by: dict[str, Any] | None,
    account: dict[str, Any],
    target_account: dict[str, Any],
    assigned_account: dict[str, Any] | None,
    statuses: list[dict[str, Any]],
) -> dict[str, Any]:
    """Admin::Report entity (the accounts are Admin::Account entities)."""
    return {
        "id": str(report.id),
        "action_taken": report.action_taken_at is not None,
        "action_taken_at": iso(report.action_taken_at),
        "category": report.category,
        "comment": report.comment,
        "forwarded": report.forwarded,
        "created_at": iso(report.created_at),
        "updated_at": iso(report.updated_at),
        "account": account,
        "target_account": target_account,
        "assigned_account": assigned_account,
        "action_taken_by_account": action_taken_by,
        "statuses": statuses,
        "rules": [],
    }


# -- end media, lists, filters, markers, streaming, admin --


# -- accounts ---------------------------------------------------------------------------


def _midnight(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT00:00:00.000Z")


def _emojis(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for e in items:
        code = e.get("shortcode")
        url = e.get("url")
        if isinstance(code, str) and isinstance(url, str):
            out.append(
                {
                    "shortcode": code,
                    "url": url,
                    "static_url": e.get("static_url") or url,
                    "visible_in_picker": bool(e.get("visible_in_picker", False)),
                }
            )
    return out


def _fields(account: Account) -> list[dict[str, Any]]:
    out = []
    for f in account.fields:
        name, value = f.get("name"), f.get("value")
        if isinstance(name, str) and isinstance(value, str):
            out.append({"name": name, "value": value, "verified_at": f.get("verified_at")})
    return out


def account_to_api(account: Account, base_url: str) -> dict[str, Any]:
    """Account entity; a missing avatar or header gets the instance's default image."""
    avatar = account.avatar_url or f"{base_url}/static/avatar.png"
    header = account.header_url or f"{base_url}/static/header.png"
    return {
        "id": str(account.id),
        "username": account.username,
        "acct": account.acct,
        "display_name": account.display_name,
        "locked": account.locked,
        "bot": account.bot or account.actor_type in ("Service", "Application"),
        "discoverable": account.discoverable,
        "indexable": account.indexable,
        "group": account.actor_type == "Group",
        "created_at": _midnight(account.created_at),
        "note": account.note,
        "url": account.url or account.uri,
        "uri": account.uri,
        "avatar": avatar,
        "avatar_static": avatar,
        "header": header,
        "header_static": header,
        "followers_count": account.followers_count,
        "following_count": account.following_count,
        "statuses_count": account.statuses_count,
        "last_status_at": iso_date(account.last_status_at),
        "hide_collections": False,
        "noindex": not account.indexable,
        "emojis": _emojis(account.emojis),
        "roles": [],
        "fields": _fields(account),
        "moved": None,
    }


def credential_account_to_api(
    account: Account, user: User, base_url: str, follow_requests_count: int
) -> dict[str, Any]:
    out = account_to_api(account, base_url)
    settings = user.settings
    out["source"] = {
        "privacy": settings.get("default_privacy", "public"),
        "sensitive": bool(settings.get("default_sensitive", False)),
        "language": settings.get("default_language") or None,
        "note": account.note_source,
        "fields": [
            {
                "name": f.get("name", ""),
                "value": f.get("source", f.get("value", "")),
                "verified_at": None,
            }
            for f in account.fields
        ],
        "follow_requests_count": follow_requests_count,
        "hide_collections": False,
        "discoverable": account.discoverable,
        "indexable": account.indexable,
    }
    out["role"] = (
        {"id": "3", "name": "Admin", "color": "", "permissions": "1", "highlighted": True}
        if user.admin
        else {"id": "-99", "name": "", "color": "", "permissions": "65536", "highlighted": False}
    )
    return out


def relationship_to_api(target_id: int, rel: RelationshipRow) -> dict[str, Any]:
    f = rel.following
    return {
        "id": str(target_id),
        "following": f is not None,
        "showing_reblogs": f.show_reblogs if f is not None else (rel.requested and True),
        "notifying": f.notify if f is not None else False,
        "languages": None,
        "followed_by": rel.followed_by,
        "blocking": rel.blocking,
        "blocked_by": rel.blocked_by,
        "muting": rel.muting is not None,
        "muting_notifications": rel.muting is not None and rel.muting.hide_notifications,
        "muting_expires_at": iso(rel.muting.expires_at) if rel.muting is not None else None,
        "requested": rel.requested,
        "requested_by": rel.requested_by,
        "domain_blocking": False,
        "endorsed": False,
        "note": rel.note,
    }


def familiar_followers_to_api(
    account_id: int, accounts: list[Account], base_url: str
) -> dict[str, Any]:
    return {"id": str(account_id), "accounts": [account_to_api(a, base_url) for a in accounts]}


def featured_tag_to_api(ft: FeaturedTag, account: Account, base_url: str) -> dict[str, Any]:
    return {
        "id": str(ft.id),
        "name": ft.tag.display_name,
        "url": f"{account.url or account.uri}/tagged/{ft.tag.name}",
        "statuses_count": str(ft.statuses_count),
        "last_status_at": iso_date(ft.last_status_at),
    }


# -- statuses ---------------------------------------------------------------------------


def tag_to_api(tag: Tag, base_url: str, *, following: bool | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": tag.display_name or tag.name,
        "url": f"{base_url}/tags/{tag.name}",
    }
    if following is not None:
        out["following"] = following
        out["history"] = []
        out["id"] = str(tag.id)
    return out


def poll_to_api(pv: PollView, emojis: list[dict[str, Any]], *, show_totals: bool) -> dict[str, Any]:
    poll = pv.poll
    expired = poll.expires_at is not None and poll.expires_at <= now_ms()
    hide = poll.hide_totals and not expired and not show_totals
    votes = list(poll.votes) + [0] * (len(poll.options) - len(poll.votes))
    return {
        "id": str(poll.id),
        "expires_at": iso(poll.expires_at),
        "expired": expired,
        "multiple": poll.multiple,
        "votes_count": sum(votes),
        "voters_count": poll.voters_count if poll.multiple else sum(votes),
        "options": [
            {"title": title, "votes_count": None if hide else votes[i]}
            for i, title in enumerate(poll.options)
        ],
        "emojis": _emojis(emojis),
        "voted": pv.voted,
        "own_votes": pv.own_votes,
    }


def status_to_api(view: StatusView, config: Config, viewer_id: int | None) -> dict[str, Any]:
    s = view.status
    memo = view.memo
    if memo is None:
        out = _status_shared_to_api(view, config)
    else:
        # One version of a status renders the same for everyone but for the keys set below.
        shared = memo.rendered
        if shared is None:
            shared = memo.rendered = _status_shared_to_api(view, config)
        out = dict(shared)
    if view.poll is not None:
        out["poll"] = poll_to_api(view.poll, s.emojis, show_totals=viewer_id == s.account_id)
    out["filtered"] = [filter_result_to_api(m) for m in view.filtered]
    if viewer_id is not None:
        out["favourited"] = view.favourited
        out["reblogged"] = view.reblogged
        out["muted"] = view.muted
        out["bookmarked"] = view.bookmarked
        if s.account_id == viewer_id:
            out["pinned"] = view.pinned
    if view.reblog is not None:
        inner = status_to_api(view.reblog, config, viewer_id)
        out["reblog"] = inner
        if viewer_id is not None:
            for key in ("favourited", "reblogged", "bookmarked", "muted"):
                out[key] = inner.get(key, False)
    return out


def _status_shared_to_api(view: StatusView, config: Config) -> dict[str, Any]:
    """The Status entity without the viewer's marks; ``poll`` and ``filtered`` are set after."""
    s = view.status
    base_url = config.base_url
    account = account_to_api(view.account, base_url)
    return {
        "id": str(s.id),
        "uri": s.uri,
        "url": s.url or s.uri,
        "created_at": iso(s.created_at),
        "account": account,
        "content": s.content,
        "visibility": s.visibility,
        "sensitive": s.sensitive,
        "spoiler_text": s.spoiler_text,
        "media_attachments": [media_to_api(config, m) for m in view.media],
        "application": status_application_to_api(view.application) if s.local else None,
        "mentions": [
            {
                "id": str(m.id),
                "username": m.username,
                "url": m.url or m.uri,
                "acct": m.acct,
            }
            for m in view.mentions
        ],
        "tags": [tag_to_api(t, base_url) for t in view.tags],
        "emojis": _emojis(s.emojis),
        "reblogs_count": s.reblogs_count,
        "favourites_count": s.favourites_count,
        "replies_count": s.replies_count,
        "in_reply_to_id": str(s.in_reply_to_id) if s.in_reply_to_id is not None else None,
        "in_reply_to_account_id": (
            str(s.in_reply_to_account_id) if s.in_reply_to_account_id is not None else None
        ),
        "reblog": None,
        "poll": None,
        "card": None,
        "language": s.language,
        "edited_at": iso(s.edited_at),
        "filtered": [],
    }


def statuses_to_api(
    views: list[StatusView], config: Config, viewer_id: int | None
) -> list[dict[str, Any]]:
    return [status_to_api(v, config, viewer_id) for v in views]


def context_to_api(
    ancestors: list[StatusView],
    descendants: list[StatusView],
    config: Config,
    viewer_id: int | None,
) -> dict[str, Any]:
    return {
        "ancestors": statuses_to_api(ancestors, config, viewer_id),
        "descendants": statuses_to_api(descendants, config, viewer_id),
    }


def status_source_to_api(status: Status) -> dict[str, Any]:
    return {"id": str(status.id), "text": status.text, "spoiler_text": status.spoiler_text}


def status_edit_to_api(
    edit: StatusEdit, account: Account, media: dict[int, MediaAttachment], config: Config
) -> dict[str, Any]:
    base_url = config.base_url
    out: dict[str, Any] = {
        "content": edit.content,
        "spoiler_text": edit.spoiler_text,
        "sensitive": edit.sensitive,
        "created_at": iso(edit.created_at),
        "account": account_to_api(account, base_url),
        "media_attachments": [
            media_to_api(config, media[m])
            for m in cast(list[Any], edit.media)
            if isinstance(m, int) and m in media
        ],
        "emojis": [],
    }
    if edit.poll:
        out["poll"] = {"options": [{"title": t} for t in edit.poll.get("options", [])]}
    else:
        out["poll"] = None
    return out


def deleted_status_to_api(
    view: StatusView, config: Config, viewer_id: int | None
) -> dict[str, Any]:
    """The status as it was, with its source ``text`` so apps can redraft it."""
    out = status_to_api(view, config, viewer_id)
    out["text"] = view.status.text
    if view.poll is not None:
        out["poll"]["options"] = [{"title": t, "votes_count": None} for t in view.poll.poll.options]
    return out


# -- notifications ----------------------------------------------------------------------


_GROUPED_TYPES = frozenset({"favourite", "reblog", "follow"})


def notification_to_api(
    n: Notification,
    account: Account,
    status: StatusView | None,
    config: Config,
    viewer_id: int | None,
    report: tuple[Report, Account] | None = None,
) -> dict[str, Any]:
    base_url = config.base_url
    return {
        "id": str(n.id),
        "type": n.type,
        "group_key": n.group_key if n.type in _GROUPED_TYPES else f"ungrouped-{n.id}",
        "created_at": iso(n.created_at),
        "account": account_to_api(account, base_url),
        "status": status_to_api(status, config, viewer_id) if status is not None else None,
        "report": report_to_api(report[0], report[1], base_url) if report is not None else None,
    }


def notification_group_to_api(
    group_key: str,
    notifications: list[Notification],
    sample_account_ids: list[int],
    status_id: int | None,
    report: tuple[Report, Account] | None = None,
    base_url: str = "",
) -> dict[str, Any]:
    newest = notifications[0]
    oldest = notifications[-1]
    out = {
        "group_key": group_key,
        "notifications_count": len(notifications),
        "type": newest.type,
        "most_recent_notification_id": str(newest.id),
        "page_min_id": str(oldest.id),
        "page_max_id": str(newest.id),
        "latest_page_notification_at": iso(newest.created_at),
        "sample_account_ids": [str(a) for a in sample_account_ids],
        "status_id": str(status_id) if status_id is not None else None,
    }
    if report is not None:
        # Mastodon attaches the Report only to admin.report groups.
        out["report"] = report_to_api(report[0], report[1], base_url)
    return out


# -- misc -------------------------------------------------------------------------------


def preferences_to_api(user: User) -> dict[str, Any]:
    s = user.settings
    return {
        "posting:default:visibility": s.get("default_privacy", "public"),
        "posting:default:sensitive": bool(s.get("default_sensitive", False)),
        "posting:default:language": s.get("default_language") or None,
        "reading:expand:media": s.get("expand_media", "default"),
        "reading:expand:spoilers": bool(s.get("expand_spoilers", False)),
        "reading:autoplay:gifs": bool(s.get("autoplay_gifs", False)),
    }


def trend_tag_to_api(tag: Tag, uses: int, accounts: int, base_url: str) -> dict[str, Any]:
    day = now_ms() // 86_400_000 * 86_400
    return {
        "name": tag.display_name or tag.name,
        "url": f"{base_url}/tags/{tag.name}",
        "history": [{"day": str(day), "uses": str(uses), "accounts": str(accounts)}],
        "following": False,
    }


def activity_to_api(weeks: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [{k: str(v) for k, v in w.items()} for w in weeks]


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
