"""Actors: a local account's actor document, and a remote actor to the account row we keep."""

from __future__ import annotations

from typing import Any

from yarl import URL

from activitypub import vocab
from activitypub.convert.emojis import emoji_tags_to_as, emojis_from_as, image_url_from_as
from activitypub.convert.origins import authority_of
from activitypub.errors import MalformedActivity
from activitypub.fields import as_list, content_of, first_str, id_of, ids_of, obj_type, url_of
from activitypub.html import html_to_text, sanitize_html
from activitypub.urls import Urls
from storage.accounts import NewAccount
from storage.models import Account
from storage.times import as2_datetime


def actor_to_as(account: Account, urls: Urls, *, moved_to_uri: str | None = None) -> dict[str, Any]:
    """The actor document of a local account."""
    doc: dict[str, Any] = {
        "@context": vocab.DEFAULT_CONTEXT,
        "id": account.uri,
        "type": account.actor_type or vocab.PERSON,
        "preferredUsername": account.username,
        "name": account.display_name,
        "summary": account.note,
        "url": account.url or urls.profile_page(account.username),
        "inbox": account.inbox_url or urls.inbox(account.username),
        "outbox": account.outbox_url or urls.outbox(account.username),
        "followers": account.followers_url or urls.followers(account.username),
        "following": account.following_url or urls.following(account.username),
        "featured": account.featured_url or urls.featured(account.username),
        "featuredTags": urls.featured_tags(account.username),
        "endpoints": {"sharedInbox": urls.shared_inbox},
        "manuallyApprovesFollowers": account.locked,
        "discoverable": account.discoverable,
        "indexable": account.indexable,
        "published": as2_datetime(account.created_at),
        "publicKey": {
            "id": account.public_key_id,
            "owner": account.uri,
            "publicKeyPem": account.public_key_pem,
        },
        "attachment": [
            {
                "type": vocab.PROPERTY_VALUE,
                "name": str(f.get("name", "")),
                "value": str(f.get("value", "")),
            }
            for f in account.fields
            if isinstance(f, dict)
        ],
        "alsoKnownAs": list(account.also_known_as),
        "tag": emoji_tags_to_as(account.emojis),
    }
    if account.avatar_url:
        doc["icon"] = {"type": vocab.IMAGE, "url": account.avatar_url}
    if account.header_url:
        doc["image"] = {"type": vocab.IMAGE, "url": account.header_url}
    if moved_to_uri:
        doc["movedTo"] = moved_to_uri
    return doc


def _public_key(doc: dict[str, Any]) -> tuple[str, str]:
    """(key id, PEM) of the actor's first usable key whose owner is the actor."""
    actor_id = doc.get("id")
    for key in as_list(doc.get("publicKey")):
        if not isinstance(key, dict):
            continue
        key_id = key.get("id")
        pem = key.get("publicKeyPem")
        owner = id_of(key.get("owner")) or actor_id
        if isinstance(key_id, str) and isinstance(pem, str) and owner == actor_id:
            return key_id, pem
    return "", ""


def actor_from_as(doc: object) -> NewAccount:
    """A remote actor document → the account row to store; MalformedActivity if unusable."""
    if not isinstance(doc, dict):
        raise MalformedActivity("actor is not an object")
    actor_id = doc.get("id")
    if not isinstance(actor_id, str) or not authority_of(actor_id):
        raise MalformedActivity("actor has no usable id")
    actor_type = obj_type(doc) or ""
    if actor_type not in vocab.ACTOR_TYPES:
        raise MalformedActivity("not an actor type")
    inbox = id_of(doc.get("inbox"))
    if not inbox:
        raise MalformedActivity("actor has no inbox")
    username = (
        first_str(doc.get("preferredUsername")) or URL(actor_id).path.rstrip("/").split("/")[-1]
    )
    if not username:
        raise MalformedActivity("actor has no username")
    key_id, pem = _public_key(doc)
    endpoints = doc.get("endpoints")
    shared = id_of(endpoints.get("sharedInbox")) if isinstance(endpoints, dict) else None
    fields = []
    for item in as_list(doc.get("attachment")):
        if obj_type(item) == vocab.PROPERTY_VALUE:
            name = item.get("name")
            value = item.get("value")
            if isinstance(name, str) and isinstance(value, str):
                fields.append({"name": html_to_text(name)[:255], "value": sanitize_html(value)})
    name = first_str(doc.get("name")) or ""
    return NewAccount(
        username=username[:255],
        domain=authority_of(actor_id),
        uri=actor_id,
        url=url if (url := url_of(doc)) and authority_of(url) else actor_id,
        actor_type=actor_type,
        display_name=html_to_text(name)[:255],
        note=sanitize_html(content_of({"content": doc.get("summary")})),
        avatar_url=image_url_from_as(doc.get("icon")),
        header_url=image_url_from_as(doc.get("image")),
        locked=doc.get("manuallyApprovesFollowers") is True,
        bot=actor_type in (vocab.SERVICE, vocab.APPLICATION),
        discoverable=doc.get("discoverable") is True,
        indexable=doc.get("indexable") is True,
        fields=fields[:16],
        emojis=emojis_from_as(doc.get("tag")),
        also_known_as=[u for u in ids_of(doc.get("alsoKnownAs")) if authority_of(u)][:20],
        inbox_url=inbox,
        outbox_url=id_of(doc.get("outbox")) or "",
        shared_inbox_url=shared or "",
        followers_url=id_of(doc.get("followers")) or "",
        following_url=id_of(doc.get("following")) or "",
        featured_url=id_of(doc.get("featured")) or "",
        public_key_id=key_id,
        public_key_pem=pem,
    )
