"""Account, CredentialAccount, Relationship, FamiliarFollowers, FeaturedTag, Suggestion,
Preferences, and the custom emojis and roles they carry."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from fedinode.api.schemas.times import iso, iso_date
from storage.custom_emojis import CustomEmoji
from storage.media_cache import copies
from storage.models import Account, User
from storage.relationships import Relationship
from storage.tags import FeaturedTag
from storage.times import api_day_start

if TYPE_CHECKING:
    from fedinode.api import entities as e


def emojis_to_api(items: Sequence[Mapping[str, object]], base_url: str) -> list[e.CustomEmoji]:
    """Emojis a status or account shows; those with a copy here (``file``) point at it."""
    out: list[e.CustomEmoji] = []
    for item in items:
        code = item.get("shortcode")
        url = item.get("url")
        static = item.get("static_url")
        file, static_file = item.get("file"), item.get("static_file")
        if isinstance(file, str) and file:
            url = f"{base_url}/media/{file}"
            static = f"{base_url}/media/{static_file}" if isinstance(static_file, str) else url
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


def role_to_api(admin: bool) -> e.Role:
    return {**(_ADMIN_ROLE if admin else _USER_ROLE)}


def _image(cache: str, url: str, base_url: str) -> str:
    """Our cached copy of a remote avatar or header while it copies the current one, else
    the URL the account gives."""
    return f"{base_url}/media/{cache}" if copies(cache, url) else url


def account_to_api(account: Account, base_url: str) -> e.Account:
    """Account entity; a missing avatar or header gets the instance's default image."""
    avatar = _image(account.avatar_cache, account.avatar_url, base_url) or (
        f"{base_url}/static/avatar.png"
    )
    header = _image(account.header_cache, account.header_url, base_url) or (
        f"{base_url}/static/header.png"
    )
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
        "emojis": emojis_to_api(account.emojis, base_url),
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
    role: e.Role = role_to_api(user.admin)
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
        "domain_blocking": rel.domain_blocking,
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


def suggestion_to_api(source: str, account: Account, base_url: str) -> e.Suggestion:
    """Suggestion (v2): ``sources`` in 4.3 words, ``source`` in the older ones."""
    legacy = "past_interactions" if source == "friends_of_friends" else "global"
    return {"source": legacy, "sources": [source], "account": account_to_api(account, base_url)}


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


def custom_emoji_to_api(emoji: CustomEmoji, base_url: str) -> e.CustomEmoji:
    """CustomEmoji (``/api/v1/custom_emojis``): one of this instance's emojis."""
    url = f"{base_url}/media/{emoji.file_path}"
    out: e.CustomEmoji = {
        "shortcode": emoji.shortcode,
        "url": url,
        "static_url": f"{base_url}/media/{emoji.static_path}" if emoji.static_path else url,
        "visible_in_picker": emoji.visible_in_picker and not emoji.disabled,
    }
    if emoji.category:
        out["category"] = emoji.category
    return out
