"""A remote Note, Question or converted type, read liberally into a ``ParsedNote`` (HTML
already sanitised), with its visibility, media and poll."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from activitypub import vocab
from activitypub.convert.converted import converted_content, declared_language, page_url_from_as
from activitypub.convert.emojis import emojis_from_as
from activitypub.convert.origins import authority_of
from activitypub.convert.times import ms_from_iso
from activitypub.errors import MalformedActivity
from activitypub.fields import (
    as_list,
    content_of,
    first_str,
    id_of,
    ids_of,
    language_of,
    obj_type,
    url_of,
)
from activitypub.html import html_to_text, sanitize_html
from policy.activity import url_media
from storage.models import Visibility


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
    duration: float | None = None  # seconds, when the peer says (PeerTube, Funkwhale)

    def meta(self) -> dict[str, Any]:
        """What is stored as the attachment's ``meta``: the peer's size and duration."""
        meta: dict[str, Any] = {}
        if self.width and self.height:
            meta.update(width=self.width, height=self.height)
        if self.duration is not None:
            meta["duration"] = self.duration
        return meta


_ISO_DURATION = re.compile(
    r"P(?:(?P<d>\d+(?:\.\d+)?)D)?(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<s>\d+(?:\.\d+)?)S)?)?"
)
MAX_DURATION_SECONDS = 366 * 86_400.0


def duration_from_as(value: object) -> float | None:
    """``duration`` of a media object: an xsd:duration (``PT1M30S``) or a number of seconds."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and len(value) < 40 and (m := _ISO_DURATION.fullmatch(value.strip())):
        if value.strip() in ("P", "PT"):
            return None
        parts = {k: float(v) for k, v in m.groupdict().items() if v}
        seconds = (parts.get("d", 0.0) * 86_400 + parts.get("h", 0.0) * 3600
                   + parts.get("m", 0.0) * 60 + parts.get("s", 0.0))  # fmt: skip
    else:
        return None
    return round(seconds, 3) if 0 <= seconds <= MAX_DURATION_SECONDS else None


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


def _attachments_from_as(value: object) -> list[ParsedMedia]:
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
                duration=duration_from_as(item.get("duration")),
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


def _tags_from_as(tags: object) -> tuple[list[str], list[str]]:
    """The mentioned actors' URIs and the hashtags' names (without ``#``), each once."""
    mentions: list[str] = []
    hashtags: list[str] = []
    for tag in as_list(tags):
        kind = obj_type(tag)
        if kind == vocab.MENTION:
            href = id_of(tag.get("href")) if isinstance(tag, dict) else None
            if href and authority_of(href) and href not in mentions:
                mentions.append(href)
        elif kind == vocab.HASHTAG:
            name = first_str(tag.get("name")) if isinstance(tag, dict) else None
            if name and name.strip("#"):
                hashtags.append(name.strip().lstrip("#")[:100])
    return mentions, list(dict.fromkeys(hashtags))


def _body_from_as(obj: dict[str, Any], type_: str, uri: str) -> tuple[str, str]:
    """(sanitised HTML content, web page URL); a converted type's content is made here."""
    if type_ in vocab.CONVERTED_TYPES:
        url = page_url_from_as(obj, uri)
        return converted_content(obj, type_, url), url
    url = url_of(obj) or uri
    if not authority_of(url):  # javascript:, data: … would end up in an href
        url = uri
    return sanitize_html(content_of(obj)), url


def note_origin(obj: object) -> tuple[str, str, str]:
    """(id, type, attributedTo) of a note-like object; MalformedActivity if unusable.

    What ``note_from_as`` checks first, without parsing the rest (the content is sanitised
    once, when the author, whose followers collection it needs, is known)."""
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
    return uri, type_, author


def note_from_as(
    obj: object,
    *,
    followers_url: str | None = None,
    fallback_to: object = None,
    fallback_cc: object = None,
) -> ParsedNote:
    """A remote Note or Question, or a converted type (Article, Page, Image, Video, Audio,
    Event: title, summary and a link to the original, the media as attachments) → ParsedNote;
    MalformedActivity if unusable.

    ``followers_url`` is the author's followers collection (tells "private" from "direct");
    ``fallback_to``/``fallback_cc`` are the activity's addressing, used when the object
    carries none (some servers address only the Create).
    """
    uri, type_, author = note_origin(obj)
    assert isinstance(obj, dict)
    to_field = obj.get("to") if "to" in obj or "cc" in obj else fallback_to
    cc_field = obj.get("cc") if "to" in obj or "cc" in obj else fallback_cc
    to, cc = ids_of(to_field), ids_of(cc_field)
    mentions, hashtags = _tags_from_as(obj.get("tag"))
    name = first_str(obj.get("name"))
    summary = first_str(obj.get("summary")) or ""
    converted = type_ in vocab.CONVERTED_TYPES
    content, url = _body_from_as(obj, type_, uri)
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
        language=(language_of(obj) or declared_language(obj) or "")[:16] or None,
        in_reply_to=id_of(obj.get("inReplyTo")),
        conversation=first_str(obj.get("conversation")) or first_str(obj.get("context")),
        mentions=mentions,
        hashtags=hashtags,
        emojis=emojis_from_as(obj.get("tag")),
        media=media,
        poll=_poll_from_as(obj) if type_ == vocab.QUESTION else None,
        published=ms_from_iso(obj.get("published")),
        updated=ms_from_iso(obj.get("updated")),
        name=name if type_ == vocab.NOTE else None,
        audience=[*to, *cc],
    )
