"""Status and what it carries (Poll, mentions, tags), Context, StatusSource, StatusEdit."""

# No ``from __future__ import annotations``: TypedDict reads NotRequired from evaluated
# annotations (``__optional_keys__``), which the tests compare with the JSON sent.
from typing import NotRequired, TypedDict

from fedinode.api.entities.accounts import Account, CustomEmoji
from fedinode.api.entities.filters import FilterResult
from fedinode.api.entities.media import MediaAttachment


class PollOption(TypedDict):
    title: str
    votes_count: int | None


class Poll(TypedDict):
    id: str
    expires_at: str | None
    expired: bool
    multiple: bool
    votes_count: int
    voters_count: int | None
    options: list[PollOption]
    emojis: list[CustomEmoji]
    voted: NotRequired[bool]
    own_votes: NotRequired[list[int]]


class StatusMention(TypedDict):
    id: str
    username: str
    url: str
    acct: str


class StatusTag(TypedDict):
    """Status::Tag: a hashtag as it appears in a status."""

    name: str
    url: str


class StatusApplication(TypedDict):
    name: str
    website: str | None


class PreviewCardAuthor(TypedDict):
    name: str
    url: str
    account: None


class PreviewCard(TypedDict):
    """A link's preview card (Mastodon 4.3's PreviewCard)."""

    url: str
    title: str
    description: str
    type: str
    author_name: str
    author_url: str
    provider_name: str
    provider_url: str
    html: str
    width: int
    height: int
    image: str | None
    image_description: str
    embed_url: str
    blurhash: str | None
    published_at: str | None
    language: str | None
    authors: list[PreviewCardAuthor]


class Status(TypedDict):
    id: str
    uri: str
    created_at: str
    account: Account
    content: str
    visibility: str
    sensitive: bool
    spoiler_text: str
    media_attachments: list[MediaAttachment]
    application: NotRequired[StatusApplication | None]
    mentions: list[StatusMention]
    tags: list[StatusTag]
    emojis: list[CustomEmoji]
    reblogs_count: int
    favourites_count: int
    replies_count: int
    url: str | None
    in_reply_to_id: str | None
    in_reply_to_account_id: str | None
    reblog: "Status | None"
    poll: Poll | None
    card: PreviewCard | None
    language: str | None
    text: NotRequired[str | None]
    edited_at: str | None
    favourited: NotRequired[bool]
    reblogged: NotRequired[bool]
    muted: NotRequired[bool]
    bookmarked: NotRequired[bool]
    pinned: NotRequired[bool]
    filtered: NotRequired[list[FilterResult]]


class Context(TypedDict):
    ancestors: list[Status]
    descendants: list[Status]


class StatusSource(TypedDict):
    id: str
    text: str
    spoiler_text: str


class StatusEditPollOption(TypedDict):
    title: str


class StatusEditPoll(TypedDict):
    options: list[StatusEditPollOption]


class StatusEdit(TypedDict):
    content: str
    spoiler_text: str
    sensitive: bool
    created_at: str
    account: Account
    poll: NotRequired[StatusEditPoll | None]
    media_attachments: list[MediaAttachment]
    emojis: list[CustomEmoji]

