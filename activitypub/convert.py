"""Converters between storage models and ActivityStreams documents, named by direction.

``*_to_as`` build the documents we publish; ``*_from_as`` read what peers send, liberally
(string, object or list for every reference) and never trust remote HTML: it is
sanitised here, on the way in. Nothing in this module does I/O.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from yarl import URL

from activitypub import vocab
from activitypub.errors import MalformedActivity
from activitypub.fields import (
    as_list,
    content_of,
    first_str,
    id_of,
    ids_of,
    language_of,
    obj_type,
    parse_datetime,
    url_of,
)
from activitypub.html import html_to_text, sanitize_html
from activitypub.urls import Urls
from policy.activity import link_media_type, url_media
from storage.accounts import NewAccount
from storage.models import Account, MediaAttachment, Poll, Status, Tag, Visibility
from storage.times import as2_datetime

# --------------------------------------------------------------------------- helpers


def ms_from_iso(value: Any) -> int | None:
    parsed = parse_datetime(value)
    if parsed is None:
        return None
    try:
        return int(parsed.timestamp() * 1000)
    except (OverflowError, ValueError):
        return None


def authority_of(url: str | None) -> str:
    """Lower-case ``host[:port]`` of an absolute http(s) URL; "" when it has none."""
    if not url or not isinstance(url, str):
        return ""
    try:
        parsed = URL(url)
    except (ValueError, TypeError):
        return ""
    if parsed.scheme not in ("http", "https") or not parsed.host:
        return ""
    try:
        return (parsed.host_port_subcomponent or "").lower()
    except (ValueError, TypeError):
        return ""


def same_origin(a: str | None, b: str | None) -> bool:
    host = authority_of(a)
    return bool(host) and host == authority_of(b)


def activity(
    type_: str,
    id_: str,
    actor: str,
    obj: Any,
    *,
    to: Sequence[str] | None = None,
    cc: Sequence[str] | None = None,
    published: int | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An activity document with our @context."""
    doc: dict[str, Any] = {
        "@context": vocab.DEFAULT_CONTEXT,
        "id": id_,
        "type": type_,
        "actor": actor,
        "object": obj,
    }
    if to is not None:
        doc["to"] = list(to)
    if cc is not None:
        doc["cc"] = list(cc)
    if published is not None:
        doc["published"] = as2_datetime(published)
    if extra:
        doc.update(extra)
    return doc


def addressing(
    visibility: str, followers_url: str, mention_uris: Iterable[str]
) -> tuple[list[str], list[str]]:
    """(to, cc) for a status of the given visibility, as Mastodon addresses them."""
    mentions = list(dict.fromkeys(mention_uris))
    if visibility == Visibility.PUBLIC:
        return [vocab.PUBLIC], [followers_url, *mentions]
    if visibility == Visibility.UNLISTED:
        return [followers_url], [vocab.PUBLIC, *mentions]
    if visibility == Visibility.PRIVATE:
        return [followers_url, *mentions], []
    return mentions, []


# --------------------------------------------------------------------------- actors


def _emoji_tags(emojis: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for emoji in emojis:
        shortcode = str(emoji.get("shortcode", "")).strip(":")
        url = emoji.get("url")
        if not shortcode or not isinstance(url, str):
            continue
        out.append(
            {
                "id": url,
                "type": vocab.EMOJI,
                "name": f":{shortcode}:",
                "icon": {"type": vocab.IMAGE, "url": url},
            }
        )
    return out


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
        "tag": _emoji_tags(account.emojis),
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


def _image_url(value: Any) -> str:
    """The first http(s) image URL ("" if none): apps put it in src/href attributes."""
    for item in as_list(value):
        found = item if isinstance(item, str) else url_of(item) if isinstance(item, dict) else None
        if found and authority_of(found):
            return found
    return ""


# Mastodon's shortcode characters (plus Misskey's - and +): nothing that could break out of
# an attribute or into markup in a client that pastes the shortcode into HTML.
_SHORTCODE_RE = re.compile(r"[A-Za-z0-9_+-]{1,64}")


def emojis_from_as(tags: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for tag in as_list(tags):
        if obj_type(tag) != vocab.EMOJI:
            continue
        name = tag.get("name")
        icon = _image_url(tag.get("icon"))
        if isinstance(name, str) and _SHORTCODE_RE.fullmatch(name.strip(":")) and icon:
            shortcode = name.strip(":")
            out.append({"shortcode": shortcode, "url": icon, "static_url": icon,
                        "visible_in_picker": False})  # fmt: skip
    return out


def actor_from_as(doc: Any) -> NewAccount:
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
        avatar_url=_image_url(doc.get("icon")),
        header_url=_image_url(doc.get("image")),
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


# --------------------------------------------------------------------------- notes


def _media_url(media: MediaAttachment, urls: Urls) -> str:
    if media.remote_url and not media.file_path:
        return media.remote_url
    return urls.media(media.file_path) if media.file_path else media.remote_url


def note_to_as(
    status: Status,
    author: Account,
    urls: Urls,
    *,
    local_domain: str,
    mentions: Sequence[Account] = (),
    tags: Sequence[Tag] = (),
    media: Sequence[MediaAttachment] = (),
    poll: Poll | None = None,
    in_reply_to_uri: str | None = None,
    now_ms: int | None = None,
) -> dict[str, Any]:
    """The Note (or Question, with a poll) of a local status."""
    followers = author.followers_url or urls.followers(author.username)
    to, cc = addressing(status.visibility, followers, (m.uri for m in mentions))
    tag_docs: list[dict[str, Any]] = []
    for account in mentions:
        acct = account.acct if not account.local else f"{account.username}@{local_domain}"
        tag_docs.append({"type": vocab.MENTION, "href": account.uri, "name": f"@{acct}"})
    for tag in tags:
        tag_docs.append(
            {"type": vocab.HASHTAG, "href": urls.tag(tag.name), "name": f"#{tag.display_name}"}
        )
    tag_docs.extend(_emoji_tags(status.emojis))
    doc: dict[str, Any] = {
        "@context": vocab.DEFAULT_CONTEXT,
        "id": status.uri,
        "type": vocab.QUESTION if poll is not None else vocab.NOTE,
        "attributedTo": author.uri,
        "url": urls.status_page(author.username, status.id),
        "to": to,
        "cc": cc,
        "published": as2_datetime(status.created_at),
        "content": status.content,
        "summary": status.spoiler_text or None,
        "sensitive": status.sensitive,
        "inReplyTo": in_reply_to_uri,
        "conversation": status.conversation,
        "tag": tag_docs,
        "attachment": [
            _attachment_to_as(m, urls) for m in sorted(media, key=lambda m: (m.position, m.id))
        ],
        "replies": f"{status.uri}/replies",
    }
    if status.language:
        doc["contentMap"] = {status.language: status.content}
    if status.edited_at is not None:
        doc["updated"] = as2_datetime(status.edited_at)
    if poll is not None:
        options = [
            {
                "type": vocab.NOTE,
                "name": title,
                "replies": {"type": vocab.COLLECTION, "totalItems": count},
            }
            for title, count in zip(
                poll.options, _padded(poll.votes, len(poll.options)), strict=True
            )
        ]
        doc["anyOf" if poll.multiple else "oneOf"] = options
        doc["votersCount"] = poll.voters_count
        if poll.expires_at is not None:
            doc["endTime"] = as2_datetime(poll.expires_at)
            if now_ms is not None and poll.expires_at <= now_ms:
                doc["closed"] = as2_datetime(poll.expires_at)
    return doc


def _padded(votes: Sequence[int], n: int) -> list[int]:
    out = [int(v) for v in votes[:n]]
    return out + [0] * (n - len(out))


def _attachment_to_as(media: MediaAttachment, urls: Urls) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "type": vocab.DOCUMENT,
        "mediaType": media.content_type or None,
        "url": _media_url(media, urls),
        "name": media.description or None,
    }
    if media.blurhash:
        doc["blurhash"] = media.blurhash
    if media.focus_x or media.focus_y:
        doc["focalPoint"] = [media.focus_x, media.focus_y]
    original = media.meta.get("original") if isinstance(media.meta, dict) else None
    size = original if isinstance(original, dict) else media.meta
    if isinstance(size, dict):
        for key in ("width", "height"):
            if isinstance(size.get(key), int):
                doc[key] = size[key]
    return doc


@dataclass(frozen=True, slots=True)
class ParsedMedia:
    url: str
    type: str  # image | gifv | video | audio | unknown
    media_type: str
    description: str
    blurhash: str | None
    focus: tuple[float, float]
    width: int | None
    height: int | None


@dataclass(frozen=True, slots=True)
class ParsedPoll:
    options: list[str]
    votes: list[int]
    multiple: bool
    expires_at: int | None
    voters_count: int


@dataclass(frozen=True, slots=True)
class ParsedNote:
    """What we keep of a remote Note, Question or converted type (HTML already sanitised)."""

    uri: str
    type: str
    attributed_to: str
    url: str
    content: str
    spoiler_text: str
    sensitive: bool
    visibility: str
    language: str | None
    in_reply_to: str | None
    conversation: str | None
    mentions: list[str] = field(default_factory=list)  # actor URIs
    hashtags: list[str] = field(default_factory=list)
    emojis: list[dict[str, Any]] = field(default_factory=list)
    media: list[ParsedMedia] = field(default_factory=list)
    poll: ParsedPoll | None = None
    published: int | None = None
    updated: int | None = None
    name: str | None = None  # a poll vote is a Note with a name and no content
    audience: list[str] = field(default_factory=list)


def visibility_of(
    to: Sequence[str], cc: Sequence[str], followers_url: str | None, mentions: Sequence[str]
) -> Visibility:
    """Mastodon's reading of addressing: public, unlisted, private (followers) or direct."""
    if any(t in vocab.PUBLIC_ALIASES for t in to):
        return Visibility.PUBLIC
    if any(c in vocab.PUBLIC_ALIASES for c in cc):
        return Visibility.UNLISTED
    audience = [*to, *cc]
    if followers_url and followers_url in audience:
        return Visibility.PRIVATE
    mentioned = set(mentions)
    if any(a not in mentioned for a in audience):
        return Visibility.PRIVATE
    return Visibility.DIRECT


def _media_kind(type_: str | None, media_type: str) -> str:
    major = media_type.split("/", 1)[0].lower() if media_type else ""
    if major == "image" or (type_ == vocab.IMAGE and not major):
        return "image"
    if major == "video" or type_ == vocab.VIDEO:
        return "video"
    if major == "audio" or type_ == vocab.AUDIO:
        return "audio"
    return "unknown"


def _attachments_from_as(value: Any) -> list[ParsedMedia]:
    out: list[ParsedMedia] = []
    for item in as_list(value)[:16]:
        if isinstance(item, str):
            item = {"type": vocab.DOCUMENT, "url": item}
        if not isinstance(item, dict):
            continue
        url = url_of(item)
        if not url or not authority_of(url):
            continue
        media_type = first_str(item.get("mediaType")) or ""
        if not media_type and isinstance(item.get("url"), dict):
            media_type = first_str(item["url"].get("mediaType")) or ""
        focus = item.get("focalPoint")
        fx = fy = 0.0
        if isinstance(focus, list) and len(focus) == 2:
            try:
                fx, fy = (max(-1.0, min(1.0, float(v))) for v in focus)
            except (TypeError, ValueError):
                fx = fy = 0.0
        width = item.get("width")
        height = item.get("height")
        blurhash = item.get("blurhash")
        description = first_str(item.get("name")) or first_str(item.get("summary")) or ""
        out.append(
            ParsedMedia(
                url=url,
                type=_media_kind(obj_type(item), media_type),
                media_type=media_type[:255],
                description=html_to_text(description)[:1500],
                blurhash=blurhash if isinstance(blurhash, str) and len(blurhash) < 200 else None,
                focus=(fx, fy),
                width=width if isinstance(width, int) and not isinstance(width, bool) else None,
                height=height if isinstance(height, int) and not isinstance(height, bool) else None,
            )
        )
    return out


def _poll_from_as(obj: dict[str, Any]) -> ParsedPoll | None:
    multiple = "anyOf" in obj
    choices = as_list(obj.get("anyOf") if multiple else obj.get("oneOf"))
    options: list[str] = []
    votes: list[int] = []
    for choice in choices[:20]:
        if not isinstance(choice, dict):
            continue
        name = first_str(choice.get("name"))
        if name is None:
            continue
        replies = choice.get("replies")
        total = replies.get("totalItems") if isinstance(replies, dict) else 0
        options.append(html_to_text(name)[:200])
        votes.append(total if isinstance(total, int) and not isinstance(total, bool) else 0)
    if not options:
        return None
    voters = obj.get("votersCount")
    end = ms_from_iso(obj.get("endTime")) or ms_from_iso(obj.get("closed"))
    return ParsedPoll(
        options=options,
        votes=votes,
        multiple=multiple,
        expires_at=end,
        voters_count=voters
        if isinstance(voters, int) and not isinstance(voters, bool)
        else sum(votes),
    )


def _page_url(obj: dict[str, Any], uri: str) -> str:
    """The original's web page: the text/html entry of ``url``, else the first entry that is
    not a file (a PeerTube MP4, a Funkwhale stream, the photo itself), else the id."""
    own_type = link_media_type(obj)
    file_type = own_type if own_type.split("/", 1)[0] in ("image", "video", "audio") else ""
    fallback = ""
    for entry in as_list(obj.get("url")):
        href: Any = entry
        media_type = file_type
        if isinstance(entry, dict):
            href, media_type = entry.get("href"), link_media_type(entry)
        if not isinstance(href, str) or not authority_of(href):
            continue
        if media_type == "text/html":
            return href
        if not fallback and (not media_type or media_type.startswith("text/")):
            fallback = href
    return fallback or uri


def _first_text(obj: dict[str, Any], key: str) -> str:
    """``key`` as a string, else the first value of ``keyMap``; as plain text."""
    value = first_str(obj.get(key))
    if value is None:
        per_language = obj.get(f"{key}Map")
        if isinstance(per_language, dict):
            value = next((v for v in per_language.values() if isinstance(v, str) and v), None)
    return html_to_text(value or "")


def _declared_language(obj: dict[str, Any]) -> str | None:
    """The key of ``nameMap``, or PeerTube's ``language: {identifier, name}``."""
    names = obj.get("nameMap")
    if isinstance(names, dict):
        found = next(
            (k for k, v in names.items() if isinstance(k, str) and isinstance(v, str)), None
        )
        if found:
            return found
    declared = obj.get("language")
    identifier = declared.get("identifier") if isinstance(declared, dict) else None
    return identifier if isinstance(identifier, str) and identifier else None


_BARE_URL_RE = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)


def _linked(text: str) -> str:
    """Escaped text whose bare http(s) URLs are links (trailing punctuation left out)."""
    out: list[str] = []
    last = 0
    for match in _BARE_URL_RE.finditer(text):
        url = match.group(0).rstrip(".,;:!?)]}")
        end = match.start() + len(url)
        out.append(html.escape(text[last : match.start()], quote=False))
        out.append(f'<a href="{html.escape(url)}">{html.escape(url, quote=False)}</a>')
        last = end
    out.append(html.escape(text[last:], quote=False))
    return "".join(out)


def _text_to_html(text: str) -> str:
    """Plain text (PeerTube's markdown is shown as written) → paragraphs and line breaks."""
    paragraphs = [p.strip("\n") for p in re.split(r"\n\s*\n", text.replace("\r\n", "\n"))]
    body = "".join(
        "<p>" + "<br>".join(_linked(line) for line in p.split("\n")) + "</p>"
        for p in paragraphs
        if p.strip()
    )
    return sanitize_html(body)


def _when(obj: dict[str, Any]) -> str:
    start = parse_datetime(obj.get("startTime"))
    if start is None:
        return ""
    when = start.strftime("%Y-%m-%d %H:%M")
    end = parse_datetime(obj.get("endTime"))
    if end is not None and end >= start:
        when += " – " + end.strftime("%Y-%m-%d %H:%M")
    return when + " UTC"


def _where(obj: dict[str, Any]) -> str:
    """An event's place: its name and address (Mobilizon's schema.org Place), as text."""
    parts: list[str] = []
    for place in as_list(obj.get("location"))[:1]:
        if isinstance(place, str):
            parts.append(place)
            continue
        if not isinstance(place, dict):
            continue
        parts.append(first_str(place.get("name")) or "")
        address = place.get("address")
        if isinstance(address, dict):
            for key in ("streetAddress", "addressLocality", "addressCountry"):
                parts.append(first_str(address.get(key)) or "")
        elif isinstance(address, str):
            parts.append(address)
    texts = [html_to_text(p).strip() for p in parts]
    return ", ".join(dict.fromkeys(t for t in texts if t))[:500]


def _converted_content(obj: dict[str, Any], type_: str, url: str) -> str:
    """The text of an Article, Page, Image, Video, Audio or Event: its title, summary (and an
    event's time and place), its description, and a link to the original."""
    parts: list[str] = []
    title = _first_text(obj, "name")
    if title:
        parts.append(f"<p><strong>{html.escape(title, quote=False)}</strong></p>")
    summary = _first_text(obj, "summary")
    if summary:
        parts.append(_text_to_html(summary))
    if type_ == vocab.EVENT:
        parts.extend(
            f"<p>{html.escape(t, quote=False)}</p>" for t in (_when(obj), _where(obj)) if t
        )
    description = content_of(obj)
    if description:
        markdown = link_media_type(obj) == "text/markdown"
        parts.append(_text_to_html(description) if markdown else sanitize_html(description))
    link = html.escape(url, quote=True)
    parts.append(f'<p><a href="{link}">{link}</a></p>')
    return "".join(parts)


def note_from_as(
    obj: Any,
    *,
    followers_url: str | None = None,
    fallback_to: Any = None,
    fallback_cc: Any = None,
) -> ParsedNote:
    """A remote Note or Question, or a converted type (Article, Page, Image, Video, Audio,
    Event: title, summary and a link to the original, the media as attachments) → ParsedNote;
    MalformedActivity if unusable.

    ``followers_url`` is the author's followers collection (tells "private" from "direct");
    ``fallback_to``/``fallback_cc`` are the activity's addressing, used when the object
    carries none (some servers address only the Create).
    """
    if not isinstance(obj, dict):
        raise MalformedActivity("object is not a JSON object")
    uri = obj.get("id")
    if not isinstance(uri, str) or not authority_of(uri):
        raise MalformedActivity("object has no usable id")
    type_ = obj_type(obj) or ""
    if type_ not in vocab.STATUS_TYPES:
        raise MalformedActivity(f"unsupported object type {type_[:40]!r}")
    author = id_of(obj.get("attributedTo")) or ""
    if not author:
        raise MalformedActivity("object has no attributedTo")
    to_field = obj.get("to") if "to" in obj or "cc" in obj else fallback_to
    cc_field = obj.get("cc") if "to" in obj or "cc" in obj else fallback_cc
    to, cc = ids_of(to_field), ids_of(cc_field)
    mentions: list[str] = []
    hashtags: list[str] = []
    for tag in as_list(obj.get("tag")):
        kind = obj_type(tag)
        if kind == vocab.MENTION:
            href = id_of(tag.get("href")) if isinstance(tag, dict) else None
            if href and authority_of(href) and href not in mentions:
                mentions.append(href)
        elif kind == vocab.HASHTAG:
            name = first_str(tag.get("name")) if isinstance(tag, dict) else None
            if name and name.strip("#"):
                hashtags.append(name.strip().lstrip("#")[:100])
    name = first_str(obj.get("name"))
    summary = first_str(obj.get("summary")) or ""
    converted = type_ in vocab.CONVERTED_TYPES
    if converted:
        url = _page_url(obj, uri)
        content = _converted_content(obj, type_, url)
    else:
        content = sanitize_html(content_of(obj))
        url = url_of(obj) or uri
        if not authority_of(url):  # javascript:, data: … would end up in an href
            url = uri
    media = _attachments_from_as(obj.get("attachment"))
    if not media and (carried := url_media(obj)) is not None:
        media = _attachments_from_as([carried])
    return ParsedNote(
        uri=uri,
        type=type_,
        attributed_to=author,
        url=url if authority_of(url) else uri,
        content=content,
        # A converted type's summary is part of its text (as in Mastodon), not a warning.
        spoiler_text="" if converted else html_to_text(summary)[:1000],
        sensitive=obj.get("sensitive") is True or (bool(summary) and not converted),
        visibility=visibility_of(to, cc, followers_url, [*mentions, author]),
        language=(language_of(obj) or _declared_language(obj) or "")[:16] or None,
        in_reply_to=id_of(obj.get("inReplyTo")),
        conversation=first_str(obj.get("conversation")) or first_str(obj.get("context")),
        mentions=mentions,
        hashtags=list(dict.fromkeys(hashtags)),
        emojis=emojis_from_as(obj.get("tag")),
        media=media,
        poll=_poll_from_as(obj) if type_ == vocab.QUESTION else None,
        published=ms_from_iso(obj.get("published")),
        updated=ms_from_iso(obj.get("updated")),
        name=name if type_ == vocab.NOTE else None,
        audience=[*to, *cc],
    )


# --------------------------------------------------------------------------- collections


def ordered_collection(
    id_: str, total: int, first: str | dict[str, Any] | None = None
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@context": vocab.DEFAULT_CONTEXT,
        "id": id_,
        "type": vocab.ORDERED_COLLECTION,
        "totalItems": total,
    }
    if first is not None:
        doc["first"] = first
    return doc


def ordered_page(
    id_: str, part_of: str, items: list[Any], next_: str | None, total: int | None = None
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@context": vocab.DEFAULT_CONTEXT,
        "id": id_,
        "type": vocab.ORDERED_COLLECTION_PAGE,
        "partOf": part_of,
        "orderedItems": items,
    }
    if total is not None:
        doc["totalItems"] = total
    if next_ is not None:
        doc["next"] = next_
    return doc
