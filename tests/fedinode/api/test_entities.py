"""Every entity the API sends, checked against Mastodon's documented fields (4.3, from
https://docs.joinmastodon.org/entities/) and against fedinode's own TypedDicts
(fedinode.api.entities): walk the API of a populated instance, then for each answer check
that each documented key is there (unless Mastodon documents it as optional), that its JSON
type is the documented one, and that no key is sent that the TypedDict does not declare and
none it requires is missing."""

from __future__ import annotations

import io
import typing
from dataclasses import dataclass
from typing import Any

import aiohttp
from api_helpers import Actor, Api, register
from PIL import Image

from fedinode.api import entities, schemas
from storage.accounts import NewAccount
from storage.media import NewMedia
from storage.statuses import NewStatus

# -- the documented fields ---------------------------------------------------------------

NULL = None


@dataclass(frozen=True)
class Opt:
    """A key Mastodon documents as optional: absent or of these kinds."""

    kinds: tuple[Any, ...]


@dataclass(frozen=True)
class ListOf:
    kind: Any


def opt(*kinds: Any) -> Opt:
    return Opt(kinds)


Table = dict[str, Any]

CUSTOM_EMOJI: Table = {
    "shortcode": (str,),
    "url": (str,),
    "static_url": (str,),
    "visible_in_picker": (bool,),
    "category": opt(str, NULL),
}
FIELD: Table = {"name": (str,), "value": (str,), "verified_at": (str, NULL)}
ACCOUNT_ROLE: Table = {"id": (str,), "name": (str,), "color": (str,)}
ROLE: Table = {
    "id": (str,),
    "name": (str,),
    "color": (str,),
    "permissions": (str,),
    "highlighted": (bool,),
}
ACCOUNT: Table = {
    "id": (str,),
    "username": (str,),
    "acct": (str,),
    "url": (str, NULL),
    "uri": (str,),
    "display_name": (str,),
    "note": (str,),
    "avatar": (str,),
    "avatar_static": (str,),
    "header": (str,),
    "header_static": (str,),
    "locked": (bool,),
    "fields": (ListOf(FIELD),),
    "emojis": (ListOf(CUSTOM_EMOJI),),
    "bot": (bool,),
    "group": (bool,),
    "discoverable": (bool, NULL),
    "indexable": (bool,),
    "noindex": opt(bool, NULL),
    "moved": opt(dict, NULL),
    "suspended": opt(bool),
    "limited": opt(bool),
    "memorial": opt(bool),
    "created_at": (str,),
    "last_status_at": (str, NULL),
    "statuses_count": (int,),
    "followers_count": (int,),
    "following_count": (int,),
    "hide_collections": (bool, NULL),
    "roles": (ListOf(ACCOUNT_ROLE),),
}
CREDENTIAL_ACCOUNT: Table = {
    **ACCOUNT,
    "source": (
        {
            "note": (str,),
            "fields": (ListOf(FIELD),),
            "privacy": (str,),
            "sensitive": (bool,),
            "language": (str, NULL),
            "follow_requests_count": (int,),
            "hide_collections": (bool, NULL),
            "discoverable": (bool, NULL),
            "indexable": (bool,),
        },
    ),
    "role": (ROLE,),
}
MEDIA_SIZE: Table = {"width": (int,), "height": (int,), "size": (str,), "aspect": (float,)}
MEDIA_ATTACHMENT: Table = {
    "id": (str,),
    "type": (str,),
    "url": (str, NULL),
    "preview_url": (str, NULL),
    "remote_url": (str, NULL),
    "meta": (
        {
            "original": opt(MEDIA_SIZE),
            "small": opt(MEDIA_SIZE),
            "focus": opt({"x": (float,), "y": (float,)}, NULL),
        },
        NULL,
    ),
    "description": (str, NULL),
    "blurhash": (str, NULL),
    "text_url": opt(str, NULL),
}
POLL: Table = {
    "id": (str,),
    "expires_at": (str, NULL),
    "expired": (bool,),
    "multiple": (bool,),
    "votes_count": (int,),
    "voters_count": (int, NULL),
    "options": (ListOf({"title": (str,), "votes_count": (int, NULL)}),),
    "emojis": (ListOf(CUSTOM_EMOJI),),
    "voted": opt(bool),
    "own_votes": opt(ListOf(int)),
}
FILTER_KEYWORD: Table = {"id": (str,), "keyword": (str,), "whole_word": (bool,)}
FILTER_STATUS: Table = {"id": (str,), "status_id": (str,)}
FILTER: Table = {
    "id": (str,),
    "title": (str,),
    "context": (ListOf(str),),
    "expires_at": (str, NULL),
    "filter_action": (str,),
    "keywords": opt(ListOf(FILTER_KEYWORD)),
    "statuses": opt(ListOf(FILTER_STATUS)),
}
FILTER_RESULT: Table = {
    "filter": (FILTER,),
    "keyword_matches": (ListOf(str), NULL),
    "status_matches": (ListOf(str), NULL),
}
V1_FILTER: Table = {
    "id": (str,),
    "phrase": (str,),
    "context": (ListOf(str),),
    "expires_at": (str, NULL),
    "irreversible": (bool,),
    "whole_word": (bool,),
}
STATUS: Table = {
    "id": (str,),
    "uri": (str,),
    "created_at": (str,),
    "account": (ACCOUNT,),
    "content": (str,),
    "visibility": (str,),
    "sensitive": (bool,),
    "spoiler_text": (str,),
    "media_attachments": (ListOf(MEDIA_ATTACHMENT),),
    "application": opt({"name": (str,), "website": (str, NULL)}, NULL),
    "mentions": (ListOf({"id": (str,), "username": (str,), "url": (str,), "acct": (str,)}),),
    "tags": (ListOf({"name": (str,), "url": (str,)}),),
    "emojis": (ListOf(CUSTOM_EMOJI),),
    "reblogs_count": (int,),
    "favourites_count": (int,),
    "replies_count": (int,),
    "url": (str, NULL),
    "in_reply_to_id": (str, NULL),
    "in_reply_to_account_id": (str, NULL),
    "reblog": (dict, NULL),  # a Status: checked on its own below
    "poll": (POLL, NULL),
    "card": (dict, NULL),
    "language": (str, NULL),
    "text": opt(str, NULL),
    "edited_at": (str, NULL),
    "favourited": opt(bool),
    "reblogged": opt(bool),
    "muted": opt(bool),
    "bookmarked": opt(bool),
    "pinned": opt(bool),
    "filtered": opt(ListOf(FILTER_RESULT)),
}
STATUS_EDIT: Table = {
    "content": (str,),
    "spoiler_text": (str,),
    "sensitive": (bool,),
    "created_at": (str,),
    "account": (ACCOUNT,),
    "poll": opt({"options": (ListOf({"title": (str,)}),)}, NULL),
    "media_attachments": (ListOf(MEDIA_ATTACHMENT),),
    "emojis": (ListOf(CUSTOM_EMOJI),),
}
STATUS_SOURCE: Table = {"id": (str,), "text": (str,), "spoiler_text": (str,)}
CONTEXT: Table = {"ancestors": (ListOf(STATUS),), "descendants": (ListOf(STATUS),)}
TAG_HISTORY: Table = {"day": (str,), "uses": (str,), "accounts": (str,)}
TAG: Table = {
    "id": (str,),
    "name": (str,),
    "url": (str,),
    "history": (ListOf(TAG_HISTORY),),
    "following": opt(bool),
}
REPORT: Table = {
    "id": (str,),
    "action_taken": (bool,),
    "action_taken_at": (str, NULL),
    "category": (str,),
    "comment": (str,),
    "forwarded": (bool,),
    "created_at": (str,),
    "status_ids": (ListOf(str), NULL),
    "rule_ids": (ListOf(str), NULL),
    "target_account": (ACCOUNT,),
}
NOTIFICATION: Table = {
    "id": (str,),
    "type": (str,),
    "group_key": (str,),
    "created_at": (str,),
    "account": (ACCOUNT,),
    "status": opt(STATUS, NULL),  # fedinode sends null where Mastodon leaves the key out
    "report": opt(REPORT, NULL),
}
PARTIAL_ACCOUNT: Table = {
    "id": (str,),
    "acct": (str,),
    "url": (str, NULL),
    "avatar": (str,),
    "avatar_static": (str,),
    "locked": (bool,),
    "bot": (bool,),
}
NOTIFICATION_GROUP: Table = {
    "group_key": (str,),
    "notifications_count": (int,),
    "type": (str,),
    "most_recent_notification_id": (str,),
    "page_min_id": opt(str),
    "page_max_id": opt(str),
    "latest_page_notification_at": opt(str),
    "sample_account_ids": (ListOf(str),),
    "status_id": opt(str),
    "report": opt(REPORT),
}
GROUPED_NOTIFICATIONS: Table = {
    "accounts": (ListOf(ACCOUNT),),
    "partial_accounts": opt(ListOf(PARTIAL_ACCOUNT)),
    "statuses": (ListOf(STATUS),),
    "notification_groups": (ListOf(NOTIFICATION_GROUP),),
}
RELATIONSHIP: Table = {
    "id": (str,),
    "following": (bool,),
    "showing_reblogs": (bool,),
    "notifying": (bool,),
    "languages": (ListOf(str), NULL),
    "followed_by": (bool,),
    "blocking": (bool,),
    "blocked_by": (bool,),
    "muting": (bool,),
    "muting_notifications": (bool,),
    "requested": (bool,),
    "requested_by": (bool,),
    "domain_blocking": (bool,),
    "endorsed": (bool,),
    "note": (str,),
}
FAMILIAR_FOLLOWERS: Table = {"id": (str,), "accounts": (ListOf(ACCOUNT),)}
FEATURED_TAG: Table = {
    "id": (str,),
    "name": (str,),
    "url": (str,),
    "statuses_count": (str,),
    "last_status_at": (str, NULL),
}
LIST: Table = {"id": (str,), "title": (str,), "replies_policy": (str,), "exclusive": (bool,)}
MARKER: Table = {"last_read_id": (str,), "version": (int,), "updated_at": (str,)}
CONVERSATION: Table = {
    "id": (str,),
    "unread": (bool,),
    "accounts": (ListOf(ACCOUNT),),
    "last_status": (STATUS, NULL),
}
SEARCH: Table = {
    "accounts": (ListOf(ACCOUNT),),
    "statuses": (ListOf(STATUS),),
    "hashtags": (ListOf(TAG),),
}
PREFERENCES: Table = {
    "posting:default:visibility": (str,),
    "posting:default:sensitive": (bool,),
    "posting:default:language": (str, NULL),
    "reading:expand:media": (str,),
    "reading:expand:spoilers": (bool,),
}
SUGGESTION: Table = {"source": (str,), "sources": (ListOf(str),), "account": (ACCOUNT,)}
APPLICATION: Table = {
    "id": (str,),
    "name": (str,),
    "website": opt(str, NULL),
    "scopes": (ListOf(str),),
    "redirect_uris": (ListOf(str),),
    "redirect_uri": (str,),
    "vapid_key": (str,),
}
CREDENTIAL_APPLICATION: Table = {**APPLICATION, "client_id": (str,), "client_secret": (str,)}
TOKEN: Table = {"access_token": (str,), "token_type": (str,), "scope": (str,), "created_at": (int,)}
RULE: Table = {"id": (str,), "text": (str,), "hint": (str,)}
CONFIG_STATUSES: Table = {
    "max_characters": (int,),
    "max_media_attachments": (int,),
    "characters_reserved_per_url": (int,),
}
CONFIG_MEDIA: Table = {
    "supported_mime_types": (ListOf(str),),
    "image_size_limit": (int,),
    "image_matrix_limit": (int,),
    "video_size_limit": (int,),
    "video_frame_rate_limit": (int,),
    "video_matrix_limit": (int,),
}
CONFIG_POLLS: Table = {
    "max_options": (int,),
    "max_characters_per_option": (int,),
    "min_expiration": (int,),
    "max_expiration": (int,),
}
INSTANCE: Table = {
    "domain": (str,),
    "title": (str,),
    "version": (str,),
    "source_url": (str,),
    "description": (str,),
    "usage": ({"users": ({"active_month": (int,)},)},),
    "thumbnail": ({"url": (str,), "blurhash": opt(str, NULL), "versions": opt(dict)},),
    "icon": (ListOf({"src": (str,), "size": (str,)}),),
    "languages": (ListOf(str),),
    "configuration": (
        {
            "urls": ({"streaming": (str,)},),
            "vapid": ({"public_key": (str,)},),
            "accounts": ({"max_featured_tags": (int,), "max_pinned_statuses": (int,)},),
            "statuses": (CONFIG_STATUSES,),
            "media_attachments": (CONFIG_MEDIA,),
            "polls": (CONFIG_POLLS,),
            "translation": ({"enabled": (bool,)},),
        },
    ),
    "registrations": (
        {
            "enabled": (bool,),
            "approval_required": (bool,),
            "message": (str, NULL),
            "url": (str, NULL),
        },
    ),
    "api_versions": ({"mastodon": (int,)},),
    "contact": ({"email": (str,), "account": (ACCOUNT, NULL)},),
    "rules": (ListOf(RULE),),
}
V1_INSTANCE: Table = {
    "uri": (str,),
    "title": (str,),
    "short_description": (str,),
    "description": (str,),
    "email": (str,),
    "version": (str,),
    "urls": ({"streaming_api": (str,)},),
    "stats": ({"user_count": (int,), "status_count": (int,), "domain_count": (int,)},),
    "thumbnail": (str, NULL),
    "languages": (ListOf(str),),
    "registrations": (bool,),
    "approval_required": (bool,),
    "invites_enabled": (bool,),
    "configuration": (
        {
            "accounts": opt(dict),
            "statuses": (CONFIG_STATUSES,),
            "media_attachments": (CONFIG_MEDIA,),
            "polls": (CONFIG_POLLS,),
        },
    ),
    "contact_account": (ACCOUNT, NULL),
    "rules": (ListOf(RULE),),
}
DOMAIN_BLOCK: Table = {"domain": (str,), "digest": (str,), "severity": (str,), "comment": opt(str)}
ADMIN_ACCOUNT: Table = {
    "id": (str,),
    "username": (str,),
    "domain": (str, NULL),
    "created_at": (str,),
    "email": (str, NULL),  # null for remote accounts
    "ip": (str, NULL),
    "ips": (ListOf({"ip": (str,), "used_at": (str,)}),),
    "locale": (str, NULL),
    "invite_request": (str, NULL),
    "role": (ROLE,),
    "confirmed": (bool,),
    "approved": (bool,),
    "disabled": (bool,),
    "sensitized": (bool,),
    "silenced": (bool,),
    "suspended": (bool,),
    "account": (ACCOUNT,),
    "created_by_application_id": opt(str, NULL),
    "invited_by_account_id": opt(str, NULL),
}
ADMIN_REPORT: Table = {
    "id": (str,),
    "action_taken": (bool,),
    "action_taken_at": (str, NULL),
    "category": (str,),
    "comment": (str,),
    "forwarded": (bool,),
    "created_at": (str,),
    "updated_at": (str,),
    "account": (ADMIN_ACCOUNT,),
    "target_account": (ADMIN_ACCOUNT,),
    "assigned_account": (ADMIN_ACCOUNT, NULL),
    "action_taken_by_account": (ADMIN_ACCOUNT, NULL),
    "statuses": (ListOf(STATUS),),
    "rules": (ListOf(RULE),),
}
ADMIN_DOMAIN_BLOCK: Table = {
    "id": (str,),
    "domain": (str,),
    "digest": (str,),
    "created_at": (str,),
    "severity": (str,),
    "reject_media": (bool,),
    "reject_reports": (bool,),
    "private_comment": (str, NULL),
    "public_comment": (str, NULL),
    "obfuscate": (bool,),
}
ADMIN_DOMAIN_ALLOW: Table = {"id": (str,), "domain": (str,), "created_at": (str,)}


# -- checking ----------------------------------------------------------------------------


def _kind_error(value: Any, kind: Any, path: str) -> str | None:
    if kind is None:
        return None if value is None else f"{path}: {value!r} is not null"
    if kind is bool:
        return None if isinstance(value, bool) else f"{path}: {value!r} is not a boolean"
    if kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        return None if ok else f"{path}: {value!r} is not an integer"
    if kind is float:
        return None if isinstance(value, float) else f"{path}: {value!r} is not a float"
    if kind is str or kind is dict or kind is list:
        ok = isinstance(value, kind)
        return None if ok else f"{path}: {value!r} is not a {kind.__name__}"
    if isinstance(kind, ListOf):
        if not isinstance(value, list):
            return f"{path}: {value!r} is not an array"
        for i, item in enumerate(value):
            err = _error(item, (kind.kind,), f"{path}[{i}]")
            if err is not None:
                return err
        return None
    assert isinstance(kind, dict), kind
    if not isinstance(value, dict):
        return f"{path}: {value!r} is not a hash"
    for key, spec in kind.items():
        kinds = spec.kinds if isinstance(spec, Opt) else spec
        if key not in value:
            if isinstance(spec, Opt):
                continue
            return f"{path}.{key}: missing"
        err = _error(value[key], kinds, f"{path}.{key}")
        if err is not None:
            return err
    return None


def _error(value: Any, kinds: tuple[Any, ...], path: str) -> str | None:
    errors = [_kind_error(value, kind, path) for kind in kinds]
    if any(e is None for e in errors):
        return None
    return " / ".join(e for e in errors if e is not None)


def _typed_keys_error(value: Any, typed: Any, path: str) -> str | None:
    """Keys sent that the TypedDict does not declare, or required ones missing, recursing
    into nested entities that are TypedDicts too."""
    if not isinstance(value, dict):
        return None
    declared = typed.__required_keys__ | typed.__optional_keys__
    extra = set(value) - declared
    if extra:
        return f"{path}: keys {sorted(extra)} not declared in {typed.__name__}"
    missing = typed.__required_keys__ - set(value)
    if missing:
        return f"{path}: {typed.__name__} keys {sorted(missing)} not sent"
    hints = typing.get_type_hints(typed)
    for key, item in value.items():
        candidates = _typeddicts_in(hints[key])
        if not candidates:
            continue
        if isinstance(item, list):
            targets = [(t, f"{path}.{key}[{i}]") for i, t in enumerate(item)]
        else:
            targets = [(item, f"{path}.{key}")]
        for target, where in targets:
            if isinstance(target, dict):
                # A union of TypedDicts (``MediaSize | MediaAudioOriginal``): one must fit.
                errors = [_typed_keys_error(target, nested, where) for nested in candidates]
                if all(err is not None for err in errors):
                    return errors[0]
    return None


def _typeddicts_in(hint: Any) -> list[Any]:
    if typing.is_typeddict(hint):
        return [hint]
    return [t for arg in typing.get_args(hint) for t in _typeddicts_in(arg)]


def check(value: Any, table: Table, typed: Any, name: str) -> None:
    err = _error(value, (table,), name)
    assert err is None, err
    err = _typed_keys_error(value, typed, name)
    assert err is None, err


def check_all(values: Any, table: Table, typed: Any, name: str) -> None:
    assert isinstance(values, list) and values, (name, values)
    for i, v in enumerate(values):
        check(v, table, typed, f"{name}[{i}]")


# -- the walk ----------------------------------------------------------------------------


def _png(width: int, height: int) -> Any:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (20, 120, 200)).save(buf, "PNG")
    form = aiohttp.FormData()
    form.add_field("file", buf.getvalue(), filename="p.png", content_type="image/png")
    form.add_field("description", "blue")
    form.add_field("focus", "0.5,-0.25")
    return form


async def _populate(api: Api) -> tuple[Actor, Actor, Actor, dict[str, Any]]:
    admin = await api.user(
        "root", admin=True, scopes="read write follow push admin:read admin:write"
    )
    alice, bob = await api.user("alice"), await api.user("bob")
    await bob.json("post", f"/api/v1/accounts/{alice.id}/follow")
    await alice.json("post", f"/api/v1/accounts/{bob.id}/follow")
    await admin.json("post", f"/api/v1/accounts/{alice.id}/follow")
    media = await alice.json("post", "/api/v2/media", data=_png(64, 32))
    post = await alice.status("hello #entities @bob", media_ids=[media["id"]], language="en")
    await alice.status("a poll", poll={"options": ["yes", "no"], "expires_in": 3600})
    await bob.json("post", f"/api/v1/statuses/{post['id']}/favourite")
    await bob.json("post", f"/api/v1/statuses/{post['id']}/reblog")
    await bob.json("post", f"/api/v1/statuses/{post['id']}/bookmark")
    await bob.status("a reply", in_reply_to_id=post["id"])
    await bob.status("just for you @alice", visibility="direct")
    await alice.json(
        "put",
        f"/api/v1/statuses/{post['id']}",
        json={"status": "hello again #entities @bob", "media_ids": [media["id"]]},
    )
    await bob.json(
        "post",
        "/api/v2/filters",
        json={
            "title": "words",
            "context": ["home", "public"],
            "filter_action": "warn",
            "keywords_attributes": [{"keyword": "again"}],
        },
    )
    await bob.json("post", "/api/v1/tags/entities/follow")
    await alice.json("post", "/api/v1/featured_tags", json={"name": "entities"})
    await bob.json("post", "/api/v1/lists", json={"title": "friends"})
    await bob.json("post", "/api/v1/markers", json={"home": {"last_read_id": post["id"]}})
    await bob.json(
        "post",
        "/api/v1/reports",
        json={"account_id": alice.id, "status_ids": [post["id"]], "comment": "test"},
    )
    # A remote account with a remote attachment (stored width and height only).
    remote = await api.store.accounts.create(
        NewAccount(
            username="carol",
            domain="remote.test",
            uri="https://remote.test/users/carol",
            inbox_url="https://remote.test/users/carol/inbox",
        )
    )
    attached = await api.store.media.create(
        NewMedia(
            account_id=remote.id,
            type="image",
            remote_url="https://remote.test/m/1.png",
            meta={"width": 300, "height": 200},
        )
    )
    await api.store.statuses.create(
        NewStatus(
            account_id=remote.id,
            local=False,
            uri="https://remote.test/statuses/1",
            url="https://remote.test/@carol/1",
            content="<p>remote #entities</p>",
            text="remote #entities",
            tags=["entities"],
            media_ids=[attached.id],
        )
    )
    return admin, alice, bob, post


async def test_every_entity_has_mastodons_documented_fields(api: Api) -> None:
    admin, alice, bob, post = await _populate(api)
    sid = post["id"]

    check(
        await alice.json("get", "/api/v1/accounts/verify_credentials"),
        CREDENTIAL_ACCOUNT,
        entities.CredentialAccount,
        "CredentialAccount",
    )
    check(
        await bob.json("get", f"/api/v1/accounts/{alice.id}"), ACCOUNT, entities.Account, "Account"
    )
    check_all(
        await bob.json("get", f"/api/v1/accounts/relationships?id[]={alice.id}"),
        RELATIONSHIP,
        entities.Relationship,
        "Relationship",
    )
    check_all(
        await bob.json("get", f"/api/v1/accounts/familiar_followers?id[]={alice.id}"),
        FAMILIAR_FOLLOWERS,
        entities.FamiliarFollowers,
        "FamiliarFollowers",
    )
    check_all(
        await bob.json("get", f"/api/v1/accounts/{alice.id}/featured_tags"),
        FEATURED_TAG,
        entities.FeaturedTag,
        "FeaturedTag",
    )
    check_all(
        await bob.json("get", "/api/v1/accounts/search?q=ali"),
        ACCOUNT,
        entities.Account,
        "Account (search)",
    )

    status = await bob.json("get", f"/api/v1/statuses/{sid}")
    check(status, STATUS, entities.Status, "Status")
    assert status["media_attachments"], status
    check_all(status["media_attachments"], MEDIA_ATTACHMENT, entities.MediaAttachment, "Media")
    home = await bob.json("get", "/api/v1/timelines/home")
    check_all(home, STATUS, entities.Status, "Status (home)")
    reblogs = [s["reblog"] for s in home if s["reblog"] is not None]
    check_all(reblogs, STATUS, entities.Status, "Status (reblog)")
    assert any(s["filtered"] for s in home), "the warn filter matched nothing"
    polls = [s["poll"] for s in home if s["poll"] is not None]
    check_all(polls, POLL, entities.Poll, "Poll")
    check(await bob.json("get", f"/api/v1/polls/{polls[0]['id']}"), POLL, entities.Poll, "Poll")
    check(
        await bob.json("get", f"/api/v1/statuses/{sid}/context"),
        CONTEXT,
        entities.Context,
        "Context",
    )
    check_all(
        await bob.json("get", f"/api/v1/statuses/{sid}/history"),
        STATUS_EDIT,
        entities.StatusEdit,
        "StatusEdit",
    )
    reply = (await bob.json("get", f"/api/v1/statuses/{sid}/context"))["descendants"][0]
    check_all(
        await bob.json("get", f"/api/v1/statuses/{reply['id']}/history"),
        STATUS_EDIT,
        entities.StatusEdit,
        "StatusEdit (never edited)",
    )
    check(
        await alice.json("get", f"/api/v1/statuses/{sid}/source"),
        STATUS_SOURCE,
        entities.StatusSource,
        "StatusSource",
    )
    public = await bob.json("get", "/api/v1/timelines/public")
    remote = [s for s in public if s["account"]["acct"] == "carol@remote.test"]
    check_all(remote, STATUS, entities.Status, "Status (remote)")
    check_all(
        remote[0]["media_attachments"], MEDIA_ATTACHMENT, entities.MediaAttachment, "Media (remote)"
    )

    notes = await alice.json("get", "/api/v1/notifications")
    assert {"follow", "favourite", "reblog", "mention"} <= {n["type"] for n in notes}, notes
    check_all(notes, NOTIFICATION, entities.Notification, "Notification")
    grouped = await alice.json("get", "/api/v2/notifications")
    check(
        grouped,
        GROUPED_NOTIFICATIONS,
        entities.GroupedNotificationsResults,
        "GroupedNotificationsResults",
    )
    key = next(g["group_key"] for g in grouped["notification_groups"] if g["type"] == "favourite")
    partial = await alice.json("get", "/api/v2/notifications?expand_accounts=partial_avatars")
    check(
        partial,
        GROUPED_NOTIFICATIONS,
        entities.GroupedNotificationsResults,
        "GroupedNotificationsResults (partial_avatars)",
    )
    check(
        await alice.json("get", f"/api/v2/notifications/{key}"),
        GROUPED_NOTIFICATIONS,
        entities.GroupedNotificationsResults,
        "GroupedNotificationsResults (one group)",
    )
    check_all(
        await alice.json("get", f"/api/v2/notifications/{key}/accounts"),
        ACCOUNT,
        entities.Account,
        "Account (notification group)",
    )
    admin_notes = await admin.json("get", "/api/v1/notifications?types[]=admin.report")
    check_all(admin_notes, NOTIFICATION, entities.Notification, "Notification (report)")
    check_all([n["report"] for n in admin_notes], REPORT, entities.Report, "Report")

    check(await bob.json("get", "/api/v2/search?q=entities"), SEARCH, entities.Search, "Search")
    found = await bob.json("get", "/api/v2/search?q=entities&type=hashtags")
    check_all(found["hashtags"], TAG, entities.Tag, "Tag (search)")
    check(await bob.json("get", "/api/v1/tags/entities"), TAG, entities.Tag, "Tag")
    check_all(await bob.json("get", "/api/v1/followed_tags"), TAG, entities.Tag, "Tag (followed)")
    check_all(await bob.json("get", "/api/v1/trends/tags"), TAG, entities.Tag, "Tag (trend)")

    check_all(await bob.json("get", "/api/v1/lists"), LIST, entities.List, "List")
    markers = await bob.json("get", "/api/v1/markers?timeline[]=home")
    check(markers["home"], MARKER, entities.Marker, "Marker")
    check_all(await bob.json("get", "/api/v2/filters"), FILTER, entities.Filter, "Filter")
    check_all(await bob.json("get", "/api/v1/filters"), V1_FILTER, entities.V1Filter, "V1Filter")
    check_all(
        await alice.json("get", "/api/v1/conversations"),
        CONVERSATION,
        entities.Conversation,
        "Conversation",
    )
    check(
        await bob.json("get", "/api/v1/preferences"),
        PREFERENCES,
        entities.Preferences,
        "Preferences",
    )
    check_all(
        await admin.json("get", "/api/v2/suggestions"),
        SUGGESTION,
        entities.Suggestion,
        "Suggestion",
    )

    check(await api.anon("/api/v2/instance"), INSTANCE, entities.Instance, "Instance")
    check(await api.anon("/api/v1/instance"), V1_INSTANCE, entities.V1Instance, "V1Instance")
    app = await register(api)
    check(app, CREDENTIAL_APPLICATION, entities.Application, "CredentialApplication")
    token = await api.client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
        },
    )
    check(await token.json(), TOKEN, entities.Token, "Token")

    check_all(
        await admin.json("get", "/api/v1/admin/accounts"),
        ADMIN_ACCOUNT,
        entities.AdminAccount,
        "Admin::Account",
    )
    check_all(
        await admin.json("get", "/api/v1/admin/reports"),
        ADMIN_REPORT,
        entities.AdminReport,
        "Admin::Report",
    )
    block = await admin.json(
        "post", "/api/v1/admin/domain_blocks", json={"domain": "bad.example", "severity": "silence"}
    )
    check(block, ADMIN_DOMAIN_BLOCK, entities.AdminDomainBlock, "Admin::DomainBlock")
    allow = await admin.json("post", "/api/v1/admin/domain_allows", json={"domain": "ok.example"})
    check(allow, ADMIN_DOMAIN_ALLOW, entities.AdminDomainAllow, "Admin::DomainAllow")


async def test_grouped_notifications_leave_out_status_id_where_there_is_no_status(
    api: Api,
) -> None:
    """Mastodon's NotificationGroup has an optional String ``status_id``: a follow group has
    none, and sends no null in its place."""
    alice, bob = await api.user("alice"), await api.user("bob")
    await bob.json("post", f"/api/v1/accounts/{alice.id}/follow")
    grouped = await alice.json("get", "/api/v2/notifications")
    follow = next(g for g in grouped["notification_groups"] if g["type"] == "follow")
    assert "status_id" not in follow, follow


async def test_remote_attachment_meta_is_mastodons_original_size(api: Api) -> None:
    """A remote attachment stores its width and height; ``meta`` shows them the way Mastodon
    does, under ``original`` with ``size`` and ``aspect``, beside the focal point."""
    remote = await api.store.accounts.create(
        NewAccount(username="dave", domain="remote.test", uri="https://remote.test/users/dave")
    )
    media = await api.store.media.create(
        NewMedia(
            account_id=remote.id,
            type="image",
            remote_url="https://remote.test/m/2.png",
            focus_x=0.25,
            meta={"width": 640, "height": 480},
        )
    )
    meta = schemas.media_to_api(api.config, media)["meta"]
    assert meta == {
        "original": {"width": 640, "height": 480, "size": "640x480", "aspect": round(640 / 480, 6)},
        "focus": {"x": 0.25, "y": 0.0},
    }
