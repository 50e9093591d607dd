"""The Note (or Question) of a local status, addressed as Mastodon addresses it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from activitypub import vocab
from activitypub.convert.emojis import emoji_tags_to_as
from activitypub.urls import Urls
from storage.models import Account, MediaAttachment, Poll, Status, Tag, Visibility
from storage.times import as2_datetime


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
        "tag": _tags_to_as(status, mentions, tags, urls, local_domain),
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
        doc.update(_poll_to_as(poll, now_ms))
    return doc


def _tags_to_as(
    status: Status,
    mentions: Sequence[Account],
    tags: Sequence[Tag],
    urls: Urls,
    local_domain: str,
) -> list[dict[str, Any]]:
    """The ``tag`` of a Note: its mentions, hashtags and custom emojis."""
    docs: list[dict[str, Any]] = []
    for account in mentions:
        acct = account.acct if not account.local else f"{account.username}@{local_domain}"
        docs.append({"type": vocab.MENTION, "href": account.uri, "name": f"@{acct}"})
    for tag in tags:
        docs.append(
            {"type": vocab.HASHTAG, "href": urls.tag(tag.name), "name": f"#{tag.display_name}"}
        )
    docs.extend(emoji_tags_to_as(status.emojis))
    return docs


def _poll_to_as(poll: Poll, now_ms: int | None) -> dict[str, Any]:
    """A Question's options with their counts, voters and end (``closed`` once it ended)."""
    options = [
        {
            "type": vocab.NOTE,
            "name": title,
            "replies": {"type": vocab.COLLECTION, "totalItems": count},
        }
        for title, count in zip(poll.options, _padded(poll.votes, len(poll.options)), strict=True)
    ]
    doc: dict[str, Any] = {"anyOf" if poll.multiple else "oneOf": options}
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
