"""Accounts and what describes them: Account, CredentialAccount, Relationship, FeaturedTag, Suggestion, Preferences."""

# No ``from __future__ import annotations``: TypedDict reads NotRequired from evaluated
# annotations (``__optional_keys__``), which the tests compare with the JSON sent.
from typing import NotRequired, TypedDict


class CustomEmoji(TypedDict):
    shortcode: str
    url: str
    static_url: str
    visible_in_picker: bool
    category: NotRequired[str | None]


class Field(TypedDict):
    name: str
    value: str
    verified_at: str | None


class AccountRole(TypedDict):
    id: str
    name: str
    color: str


class Role(TypedDict):
    id: str
    name: str
    color: str
    permissions: str
    highlighted: bool


class Account(TypedDict):
    id: str
    username: str
    acct: str
    url: str | None
    uri: str
    display_name: str
    note: str
    avatar: str
    avatar_static: str
    header: str
    header_static: str
    locked: bool
    fields: list[Field]
    emojis: list[CustomEmoji]
    bot: bool
    group: bool
    discoverable: bool | None
    indexable: bool
    noindex: NotRequired[bool | None]
    moved: NotRequired["Account | None"]
    suspended: NotRequired[bool]
    limited: NotRequired[bool]
    memorial: NotRequired[bool]
    created_at: str
    last_status_at: str | None
    statuses_count: int
    followers_count: int
    following_count: int
    hide_collections: bool | None
    roles: list[AccountRole]


class SourceField(TypedDict):
    name: str
    value: str
    verified_at: str | None


class AccountSource(TypedDict):
    note: str
    fields: list[SourceField]
    privacy: str
    sensitive: bool
    language: str | None
    follow_requests_count: int
    hide_collections: bool | None
    discoverable: bool | None
    indexable: bool


class CredentialAccount(Account):
    source: AccountSource
    role: Role


class Relationship(TypedDict):
    id: str
    following: bool
    showing_reblogs: bool
    notifying: bool
    languages: list[str] | None
    followed_by: bool
    blocking: bool
    blocked_by: bool
    muting: bool
    muting_notifications: bool
    muting_expires_at: NotRequired[str | None]
    requested: bool
    requested_by: bool
    domain_blocking: bool
    endorsed: bool
    note: str


class FamiliarFollowers(TypedDict):
    id: str
    accounts: list[Account]


class FeaturedTag(TypedDict):
    id: str
    name: str
    url: str
    statuses_count: str
    last_status_at: str | None


class Suggestion(TypedDict):
    source: str
    sources: list[str]
    account: Account


# Keys with colons: the functional form.
Preferences = TypedDict(
    "Preferences",
    {
        "posting:default:visibility": str,
        "posting:default:sensitive": bool,
        "posting:default:language": str | None,
        "reading:expand:media": str,
        "reading:expand:spoilers": bool,
        "reading:autoplay:gifs": NotRequired[bool],
    },
)
