"""The only place Mastodon JSON is built: one function per entity, named ``*_to_api``,
from typed inputs (storage rows and service views) to the TypedDicts of
``fedinode.api.entities``."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from fedinode.api import entities as e
from fedinode.config import Config
from fedinode.services.notifications import GROUPABLE
from fedinode.services.views import PollView, StatusView
from fedinode.version import COMPAT_VERSION
from policy.settings import LIMITING_BLOCK_FLAGS
from storage.filters import FilterStatus
from storage.ids import now_ms
from storage.models import (
    Account,
    DomainAllowRow,
    DomainBlockRow,
    Filter,
    FilterKeyword,
    InstanceStats,
    ListRow,
    Marker,
    MediaAttachment,
    Notification,
    OAuthApp,
    OAuthToken,
    PolicyDecisionRow,
    Report,
    Status,
    StatusEdit,
    Tag,
    User,
)
from storage.relationships import Relationship
from storage.tags import FeaturedTag, TagDay
from storage.times import api_date, api_datetime, api_day_start

if TYPE_CHECKING:
    # Types only: services import this module (streaming), so no import cycle at run time.
    from fedinode.services.conversations import ConversationView
    from fedinode.services.filters import FilterMatch
    from fedinode.services.notifications import NotificationGroupView, NotificationView
    from fedinode.services.policy import Impact
    from fedinode.services.search import SearchPage, TagView
    from fedinode.services.statuses import StatusHistory

_SUPPORTED_MIME = [
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "image/avif",
]


# The API's timestamps (Mastodon's ISO 8601 with milliseconds and Z) and dates, under the
# names the entities below use; storage.times names them by what they produce.
iso = api_datetime
iso_date = api_date


def _at(ms: int) -> str:
    """A time that is always set (``created_at``)."""
    return api_datetime(ms)


def _configuration(config: Config) -> e.Configuration:
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


def rules_to_api(config: Config) -> list[e.Rule]:
    return [
        {"id": str(n), "text": text, "hint": ""}
        for n, text in enumerate(config.instance.rules, start=1)
    ]


def instance_v2_to_api(
    config: Config, stats: InstanceStats, contact_account: Account | None
) -> e.Instance:
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
        "contact": {"email": i.contact_email, "account": _maybe_account(contact_account, config)},
        "rules": rules_to_api(config),
    }


def _maybe_account(account: Account | None, config: Config) -> e.Account | None:
    return None if account is None else account_to_api(account, config.base_url)


def instance_v1_to_api(
    config: Config, stats: InstanceStats, contact_account: Account | None
) -> e.V1Instance:
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
            "accounts": conf["accounts"],
            "statuses": conf["statuses"],
            "media_attachments": conf["media_attachments"],
            "polls": conf["polls"],
        },
        "contact_account": _maybe_account(contact_account, config),
        "rules": rules_to_api(config),
    }


# -- OAuth ------------------------------------------------------------------------------


def application_to_api(app: OAuthApp, *, with_secret: bool = False) -> e.Application:
    """Application entity; the credentials only in the registration response."""
    uris = app.redirect_uris.split()
    out: e.Application = {
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


def status_application_to_api(app: OAuthApp | None) -> e.StatusApplication | None:
    if app is None:
        return None
    return {"name": app.name, "website": app.website}


def token_to_api(raw: str, token: OAuthToken) -> e.Token:
    return {
        "access_token": raw,
        "token_type": "Bearer",
        "scope": token.scopes,
        "created_at": token.created_at // 1000,
    }


def oauth_error_to_api(error: str, description: str) -> e.OAuthError:
    return {"error": error, "error_description": description}


def oauth_metadata_to_api(
    base_url: str, scopes: list[str], *, response_modes: list[str], pkce_methods: list[str]
) -> e.OAuthMetadata:
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


def _size(stored: object) -> e.MediaSize | None:
    """Mastodon's size block from stored dimensions (``{"width", "height"}`` at least)."""
    if not isinstance(stored, Mapping):
        return None
    width, height = stored.get("width"), stored.get("height")
    if not isinstance(width, int) or not isinstance(height, int) or width <= 0 or height <= 0:
        return None
    return {
        "width": width,
        "height": height,
        "size": f"{width}x{height}",
        "aspect": round(width / height, 6),
    }


def _media_meta(media: MediaAttachment) -> e.MediaMeta:
    """``meta``: ``original`` and ``small`` sizes and the focal point. Local uploads store
    ``{"original": {...}, "small": {...}}``; remote attachments store their width and height
    at the top level, which becomes ``original`` here as Mastodon has it."""
    stored = media.meta or {}
    meta: e.MediaMeta = {}
    original = _size(stored.get("original")) or _size(stored)
    if original is not None:
        meta["original"] = original
    small = _size(stored.get("small"))
    if small is not None:
        meta["small"] = small
    meta["focus"] = {"x": float(media.focus_x), "y": float(media.focus_y)}
    return meta


def media_to_api(config: Config, media: MediaAttachment) -> e.MediaAttachment:
    """MediaAttachment entity; ``url`` is set because processing is synchronous."""
    base = config.base_url + "/media/"
    local = bool(media.file_path)
    url = base + media.file_path if local else media.remote_url or None
    preview = base + media.preview_path if media.preview_path else url
    meta = _media_meta(media)
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
    tag: Tag, base_url: str, history: Sequence[TagDay], *, following: bool | None
) -> e.Tag:
    """The full Tag entity (id, usage history of the last days, and ``following`` for a user)."""
    out: e.Tag = {
        "id": str(tag.id),
        "name": tag.display_name or tag.name,
        "url": f"{base_url}/tags/{_tag_path(tag)}",
        "history": [
            {"day": str(d.day // 1000), "uses": str(d.uses), "accounts": str(d.accounts)}
            for d in history
        ],
    }
    if following is not None:
        out["following"] = following
    return out


def list_to_api(row: ListRow) -> e.List:
    return {
        "id": str(row.id),
        "title": row.title,
        "replies_policy": row.replies_policy,
        "exclusive": bool(row.exclusive),
    }


def marker_to_api(marker: Marker) -> e.Marker:
    return {
        "last_read_id": marker.last_read_id,
        "version": marker.version,
        "updated_at": iso(marker.updated_at),
    }


def markers_to_api(markers: Mapping[str, Marker]) -> dict[str, e.Marker]:
    """The markers by timeline name (``home``, ``notifications``)."""
    return {name: marker_to_api(m) for name, m in markers.items()}


def filter_keyword_to_api(keyword: FilterKeyword) -> e.FilterKeyword:
    return {
        "id": str(keyword.id),
        "keyword": keyword.keyword,
        "whole_word": bool(keyword.whole_word),
    }


def filter_status_to_api(fs: FilterStatus) -> e.FilterStatus:
    return {"id": str(fs.id), "status_id": str(fs.status_id)}


def filter_to_api(f: Filter, statuses: Sequence[FilterStatus]) -> e.Filter:
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


def filter_v1_to_api(f: Filter, keyword: FilterKeyword) -> e.V1Filter:
    """V1 Filter entity: one keyword of a v2 filter, as older apps expect."""
    return {
        "id": str(keyword.id),
        "phrase": keyword.keyword,
        "context": list(f.contexts),
        "whole_word": bool(keyword.whole_word),
        "expires_at": iso(f.expires_at),
        "irreversible": f.action == "hide",
    }


def filter_result_to_api(match: FilterMatch) -> e.FilterResult:
    """FilterResult: which filter matched a status, by keyword or by the status itself."""
    return {
        "filter": filter_to_api(match.filter, match.statuses),
        "keyword_matches": match.keyword_matches,
        "status_matches": match.status_matches,
    }


def conversation_view_to_api(
    view: ConversationView, config: Config, viewer_id: int | None
) -> e.Conversation:
    return {
        "id": str(view.row.id),
        "unread": view.row.unread,
        "accounts": [account_to_api(a, config.base_url) for a in view.accounts],
        "last_status": status_to_api(view.last_status, config, viewer_id),
    }


def suggestion_to_api(source: str, account: Account, base_url: str) -> e.Suggestion:
    """Suggestion (v2): ``sources`` in 4.3 words, ``source`` in the older ones."""
    legacy = "past_interactions" if source == "friends_of_friends" else "global"
    return {"source": legacy, "sources": [source], "account": account_to_api(account, base_url)}


def tag_view_to_api(view: TagView, base_url: str) -> e.Tag:
    return tag_entity_to_api(view.tag, base_url, view.history, following=view.following)


def search_to_api(found: SearchPage, config: Config, viewer_id: int | None) -> e.Search:
    base = config.base_url
    return {
        "accounts": [account_to_api(a, base) for a in found.accounts],
        "statuses": statuses_to_api(found.statuses, config, viewer_id),
        "hashtags": [tag_view_to_api(t, base) for t in found.hashtags],
    }


def report_to_api(report: Report, target: Account, base_url: str) -> e.Report:
    """Report entity, as its reporter sees it."""
    return {
        "id": str(report.id),
        "action_taken": report.action_taken_at is not None,
        "action_taken_at": iso(report.action_taken_at),
        "category": report.category,
        "comment": report.comment,
        "forwarded": report.forwarded,
        "created_at": _at(report.created_at),
        "status_ids": [str(i) for i in report.status_ids] or None,
        "rule_ids": [str(i) for i in report.rule_ids] or None,
        "target_account": account_to_api(target, base_url),
    }


_ADMIN_ROLE: e.Role = {
    "id": "3",
    "name": "Admin",
    "color": "",
    "permissions": "1",
    "highlighted": True,
}
_USER_ROLE: e.Role = {
    "id": "-99",
    "name": "",
    "color": "",
    "permissions": "65536",
    "highlighted": False,
}


def admin_account_to_api(
    account: Account, user: User | None, sensitized: bool, base_url: str
) -> e.AdminAccount:
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
        "role": {**(_ADMIN_ROLE if user is not None and user.admin else _USER_ROLE)},
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
    action_taken_by: e.AdminAccount | None,
    account: e.AdminAccount,
    target_account: e.AdminAccount,
    assigned_account: e.AdminAccount | None,
    statuses: Sequence[StatusView],
    config: Config,
    viewer_id: int | None,
) -> e.AdminReport:
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
        "statuses": statuses_to_api(statuses, config, viewer_id),
        "rules": [],
    }


# -- end media, lists, filters, markers, streaming, admin --


# -- accounts ---------------------------------------------------------------------------


def _emojis(items: Sequence[Mapping[str, object]]) -> list[e.CustomEmoji]:
    out: list[e.CustomEmoji] = []
    for item in items:
        code = item.get("shortcode")
        url = item.get("url")
        static = item.get("static_url")
        if isinstance(code, str) and isinstance(url, str):
            out.append(
                {
                    "shortcode": code,
                    "url": url,
                    "static_url": static if isinstance(static, str) and static else url,
                    "visible_in_picker": bool(item.get("visible_in_picker", False)),
                }
            )
    return out


def _fields(account: Account) -> list[e.Field]:
    out: list[e.Field] = []
    for f in account.fields:
        name, value, verified = f.get("name"), f.get("value"), f.get("verified_at")
        if isinstance(name, str) and isinstance(value, str):
            out.append(
                {
                    "name": name,
                    "value": value,
                    "verified_at": verified if isinstance(verified, str) else None,
                }
            )
    return out


def account_to_api(account: Account, base_url: str) -> e.Account:
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
        "created_at": api_day_start(account.created_at),
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
) -> e.CredentialAccount:
    plain = account_to_api(account, base_url)
    settings = user.settings
    source: e.AccountSource = {
        "privacy": settings.get("default_privacy", "public"),
        "sensitive": bool(settings.get("default_sensitive", False)),
        "language": settings.get("default_language") or None,
        "note": account.note_source,
        "fields": [
            {
                "name": str(f.get("name", "")),
                "value": str(f.get("source", f.get("value", ""))),
                "verified_at": None,
            }
            for f in account.fields
        ],
        "follow_requests_count": follow_requests_count,
        "hide_collections": False,
        "discoverable": account.discoverable,
        "indexable": account.indexable,
    }
    role: e.Role = {**(_ADMIN_ROLE if user.admin else _USER_ROLE)}
    return {**plain, "source": source, "role": role}


def relationship_to_api(target_id: int, rel: Relationship) -> e.Relationship:
    f = rel.following
    return {
        "id": str(target_id),
        "following": f is not None,
        "showing_reblogs": f.show_reblogs if f is not None else rel.requested,
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
    account_id: int, accounts: Sequence[Account], base_url: str
) -> e.FamiliarFollowers:
    return {"id": str(account_id), "accounts": [account_to_api(a, base_url) for a in accounts]}


def featured_tag_to_api(ft: FeaturedTag, account: Account, base_url: str) -> e.FeaturedTag:
    return {
        "id": str(ft.id),
        "name": ft.tag.display_name,
        "url": f"{account.url or account.uri}/tagged/{ft.tag.name}",
        "statuses_count": str(ft.statuses_count),
        "last_status_at": iso_date(ft.last_status_at),
    }


# -- statuses ---------------------------------------------------------------------------


def tag_to_api(tag: Tag, base_url: str) -> e.StatusTag:
    """Status::Tag: name and URL (the full Tag is ``tag_entity_to_api``)."""
    return {"name": tag.display_name or tag.name, "url": f"{base_url}/tags/{_tag_path(tag)}"}


def _tag_path(tag: Tag) -> str:
    """The name as first written, case-folded: a readable URL (/tags/été) its key finds."""
    return (tag.display_name or tag.name).casefold()


def poll_to_api(
    pv: PollView, emojis: Sequence[Mapping[str, object]], *, show_totals: bool
) -> e.Poll:
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


def status_to_api(
    view: StatusView,
    config: Config,
    viewer_id: int | None,
    *,
    filtered: Sequence[FilterMatch] | None = None,
) -> e.Status:
    """Status entity for ``viewer_id``; ``filtered`` (the filters that matched in the
    context it is shown in) replaces the view's own when given."""
    s = view.status
    memo = view.memo
    out: e.Status
    if memo is None:
        out = _status_shared_to_api(view, config)
    else:
        # One version of a status renders the same for everyone but for the keys set below.
        shared: e.Status | None = memo.rendered
        if shared is None:
            shared = memo.rendered = _status_shared_to_api(view, config)
        out = shared.copy()
    if view.poll is not None:
        out["poll"] = poll_to_api(view.poll, s.emojis, show_totals=viewer_id == s.account_id)
    matches = view.filtered if filtered is None else filtered
    out["filtered"] = [filter_result_to_api(m) for m in matches]
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
            out["favourited"] = inner.get("favourited", False)
            out["reblogged"] = inner.get("reblogged", False)
            out["bookmarked"] = inner.get("bookmarked", False)
            out["muted"] = inner.get("muted", False)
    return out


def _status_shared_to_api(view: StatusView, config: Config) -> e.Status:
    """The Status entity without the viewer's marks; ``poll`` and ``filtered`` are set after."""
    s = view.status
    base_url = config.base_url
    account = account_to_api(view.account, base_url)
    return {
        "id": str(s.id),
        "uri": s.uri,
        "url": s.url or s.uri,
        "created_at": _at(s.created_at),
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
    views: Sequence[StatusView], config: Config, viewer_id: int | None
) -> list[e.Status]:
    return [status_to_api(v, config, viewer_id) for v in views]


def context_to_api(
    ancestors: Sequence[StatusView],
    descendants: Sequence[StatusView],
    config: Config,
    viewer_id: int | None,
) -> e.Context:
    return {
        "ancestors": statuses_to_api(ancestors, config, viewer_id),
        "descendants": statuses_to_api(descendants, config, viewer_id),
    }


def status_source_to_api(status: Status) -> e.StatusSource:
    return {"id": str(status.id), "text": status.text, "spoiler_text": status.spoiler_text}


def status_edit_to_api(
    edit: StatusEdit, account: Account, media: Mapping[int, MediaAttachment], config: Config
) -> e.StatusEdit:
    stored: list[object] = list(edit.media)
    options = edit.poll.get("options") if edit.poll else None
    return {
        "content": edit.content,
        "spoiler_text": edit.spoiler_text,
        "sensitive": edit.sensitive,
        "created_at": _at(edit.created_at),
        "account": account_to_api(account, config.base_url),
        "poll": (
            {"options": [{"title": str(t)} for t in options]} if isinstance(options, list) else None
        ),
        "media_attachments": [
            media_to_api(config, media[m]) for m in stored if isinstance(m, int) and m in media
        ],
        "emojis": [],
    }


def status_history_to_api(history: StatusHistory, config: Config) -> list[e.StatusEdit]:
    """The versions of a status, oldest first; a status never edited has one, itself."""
    if history.edits:
        return [
            status_edit_to_api(edit, history.account, history.media, config)
            for edit in history.edits
        ]
    s = history.status
    return [
        {
            "content": s.content,
            "spoiler_text": s.spoiler_text,
            "sensitive": s.sensitive,
            "created_at": _at(s.created_at),
            "account": account_to_api(history.account, config.base_url),
            "poll": None,
            "media_attachments": [media_to_api(config, m) for m in history.current_media],
            "emojis": _emojis(s.emojis),
        }
    ]


def deleted_status_to_api(view: StatusView, config: Config, viewer_id: int | None) -> e.Status:
    """The status as it was, with its source ``text`` so apps can redraft it."""
    out = status_to_api(view, config, viewer_id)
    out["text"] = view.status.text
    poll = out["poll"]
    if poll is not None:
        poll["options"] = [{"title": o["title"], "votes_count": None} for o in poll["options"]]
    return out


# -- notifications ----------------------------------------------------------------------




def notification_to_api(
    n: Notification,
    account: Account,
    status: StatusView | None,
    config: Config,
    viewer_id: int | None,
    report: tuple[Report, Account] | None = None,
) -> e.Notification:
    base_url = config.base_url
    return {
        "id": str(n.id),
        "type": n.type,
        "group_key": n.group_key if n.type in GROUPABLE else f"ungrouped-{n.id}",
        "created_at": _at(n.created_at),
        "account": account_to_api(account, base_url),
        "status": status_to_api(status, config, viewer_id) if status is not None else None,
        "report": report_to_api(report[0], report[1], base_url) if report is not None else None,
    }


def notification_view_to_api(
    view: NotificationView, config: Config, viewer_id: int | None
) -> e.Notification:
    return notification_to_api(
        view.notification, view.account, view.status, config, viewer_id, view.report
    )


def notification_group_to_api(group: NotificationGroupView, base_url: str) -> e.NotificationGroup:
    notifications: list[Notification] = [m.notification for m in group.members]
    newest = notifications[0]
    oldest = notifications[-1]
    out: e.NotificationGroup = {
        "group_key": group.key,
        "notifications_count": len(notifications),
        "type": newest.type,
        "most_recent_notification_id": str(newest.id),
        "page_min_id": str(oldest.id),
        "page_max_id": str(newest.id),
        "latest_page_notification_at": iso(newest.created_at),
        "sample_account_ids": [str(a) for a in group.sample_account_ids],
    }
    status_id = newest.status_id
    if status_id is not None:
        # Mastodon leaves the key out of groups that have no status (follows, reports).
        out["status_id"] = str(status_id)
    report = group.members[0].report
    if report is not None:
        # Mastodon attaches the Report only to admin.report groups.
        out["report"] = report_to_api(report[0], report[1], base_url)
    return out


def grouped_notifications_to_api(
    groups: Sequence[NotificationGroupView], config: Config, viewer_id: int
) -> e.GroupedNotificationsResults:
    """/api/v2/notifications: the groups, each account and status once beside them."""
    accounts: dict[int, Account] = {}
    statuses: dict[int, StatusView] = {}
    for group in groups:
        for m in group.members:
            accounts.setdefault(m.account.id, m.account)
            if m.status is not None:
                statuses.setdefault(m.status.status.id, m.status)
    base = config.base_url
    return {
        "accounts": [account_to_api(a, base) for a in accounts.values()],
        "statuses": statuses_to_api(list(statuses.values()), config, viewer_id),
        "notification_groups": [notification_group_to_api(g, base) for g in groups],
    }


def unread_count_to_api(count: int) -> e.UnreadCount:
    return {"count": count}


def empty_to_api() -> e.Empty:
    return {}


def error_to_api(message: str) -> e.Error:
    return {"error": message}


def stream_error_to_api(message: str, status: int | None = None) -> e.StreamError:
    out: e.StreamError = {"error": message}
    if status is not None:
        out["status"] = status
    return out


def stream_message_to_api(stream: list[str], event: str, payload: str | None) -> e.StreamMessage:
    """A WebSocket frame; the payload (an entity, or an id for ``delete``) is JSON text."""
    out: e.StreamMessage = {"stream": stream, "event": event}
    if payload is not None:
        out["payload"] = payload
    return out


# -- misc -------------------------------------------------------------------------------


def preferences_to_api(user: User) -> e.Preferences:
    s = user.settings
    return {
        "posting:default:visibility": s.get("default_privacy", "public"),
        "posting:default:sensitive": bool(s.get("default_sensitive", False)),
        "posting:default:language": s.get("default_language") or None,
        "reading:expand:media": s.get("expand_media", "default"),
        "reading:expand:spoilers": bool(s.get("expand_spoilers", False)),
        "reading:autoplay:gifs": bool(s.get("autoplay_gifs", False)),
    }


def trend_tag_to_api(tag: Tag, uses: int, accounts: int, base_url: str) -> e.Tag:
    day = now_ms() // 86_400_000 * 86_400
    return {
        "id": str(tag.id),
        "name": tag.display_name or tag.name,
        "url": f"{base_url}/tags/{_tag_path(tag)}",
        "history": [{"day": str(day), "uses": str(uses), "accounts": str(accounts)}],
        "following": False,
    }


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


# -- policy: domain blocks, allows, decisions --



def domain_block_to_api(row: DomainBlockRow, impact: Impact | None = None) -> e.AdminDomainBlock:
    """Admin::DomainBlock, plus fedinode's finer flags and, when a change severed anything,
    what (``severed``, an extension apps ignore)."""
    out: e.AdminDomainBlock = {
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
        "federated_timeline_removal": row.federated_timeline_removal,
        "followers_only": row.followers_only,
        "avatar_removal": row.avatar_removal,
        "banner_removal": row.banner_removal,
        "reject_deletes": row.reject_deletes,
    }
    if impact is not None and impact.domains:
        out["severed"] = domain_block_impact_to_api(impact)
    return out


def domain_import_to_api(
    created: Sequence[DomainBlockRow],
    updated: Sequence[DomainBlockRow],
    skipped: Sequence[str],
    severed: Sequence[Impact],
) -> e.AdminDomainImport:
    return {
        "created": [domain_block_to_api(r) for r in created],
        "updated": [domain_block_to_api(r) for r in updated],
        "skipped": list(skipped),
        "severed": [domain_block_impact_to_api(i) for i in severed],
    }


def domain_allow_to_api(row: DomainAllowRow) -> e.AdminDomainAllow:
    """Admin::DomainAllow."""
    return {"id": str(row.id), "domain": row.domain, "created_at": iso(row.created_at)}


def public_domain_blocks_to_api(blocks: Sequence[Mapping[str, object]]) -> list[e.DomainBlock]:
    """/api/v1/instance/domain_blocks from the ``domain_blocks`` of ``Pipeline.describe()``
    (already obfuscated); a noop block without any flag limits nothing and is left out."""
    out: list[e.DomainBlock] = []
    for block in blocks:
        limits = block.get("severity") != "noop" or any(
            block.get(name) for name in LIMITING_BLOCK_FLAGS
        )
        if limits:
            comment = block.get("comment")
            out.append(
                {
                    "domain": str(block.get("domain", "")),
                    "digest": str(block.get("digest", "")),
                    "severity": str(block.get("severity", "")),
                    "comment": comment if isinstance(comment, str) and comment else None,
                }
            )
    return out


def policy_decision_to_api(row: PolicyDecisionRow) -> e.PolicyDecision:
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


def domain_block_impact_to_api(impact: Impact) -> e.AdminDomainImpact:
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
