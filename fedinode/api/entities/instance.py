"""Instance (v2 and v1), its configuration and rules, the public domain blocks, weekly activity."""

# No ``from __future__ import annotations``: TypedDict reads NotRequired from evaluated
# annotations (``__optional_keys__``), which the tests compare with the JSON sent.
from typing import NotRequired, TypedDict

from fedinode.api.entities.accounts import Account


class Rule(TypedDict):
    id: str
    text: str
    hint: str


class ConfigurationUrls(TypedDict):
    streaming: str
    status: str | None


class ConfigurationVapid(TypedDict):
    public_key: str


class ConfigurationAccounts(TypedDict):
    max_featured_tags: int
    max_pinned_statuses: int


class ConfigurationStatuses(TypedDict):
    max_characters: int
    max_media_attachments: int
    characters_reserved_per_url: int


class ConfigurationMedia(TypedDict):
    supported_mime_types: list[str]
    description_limit: int
    image_size_limit: int
    image_matrix_limit: int
    video_size_limit: int
    video_frame_rate_limit: int
    video_matrix_limit: int


class ConfigurationPolls(TypedDict):
    max_options: int
    max_characters_per_option: int
    min_expiration: int
    max_expiration: int


class ConfigurationTranslation(TypedDict):
    enabled: bool


class Configuration(TypedDict):
    urls: ConfigurationUrls
    vapid: ConfigurationVapid
    accounts: ConfigurationAccounts
    statuses: ConfigurationStatuses
    media_attachments: ConfigurationMedia
    polls: ConfigurationPolls
    translation: ConfigurationTranslation


class V1Configuration(TypedDict):
    accounts: ConfigurationAccounts
    statuses: ConfigurationStatuses
    media_attachments: ConfigurationMedia
    polls: ConfigurationPolls


class InstanceUsers(TypedDict):
    active_month: int


class InstanceUsage(TypedDict):
    users: InstanceUsers


class InstanceThumbnail(TypedDict):
    url: str
    blurhash: NotRequired[str | None]
    versions: NotRequired[dict[str, str]]


class InstanceIcon(TypedDict):
    src: str
    size: str


class InstanceRegistrations(TypedDict):
    enabled: bool
    approval_required: bool
    message: str | None
    url: str | None


class InstanceContact(TypedDict):
    email: str
    account: Account | None


class ApiVersions(TypedDict):
    mastodon: int


class Instance(TypedDict):
    domain: str
    title: str
    version: str
    source_url: str
    description: str
    usage: InstanceUsage
    thumbnail: InstanceThumbnail
    icon: list[InstanceIcon]
    languages: list[str]
    configuration: Configuration
    registrations: InstanceRegistrations
    api_versions: ApiVersions
    contact: InstanceContact
    rules: list[Rule]


class V1InstanceUrls(TypedDict):
    streaming_api: str


class V1InstanceStats(TypedDict):
    user_count: int
    status_count: int
    domain_count: int


class V1Instance(TypedDict):
    uri: str
    title: str
    short_description: str
    description: str
    email: str
    version: str
    urls: V1InstanceUrls
    stats: V1InstanceStats
    thumbnail: str | None
    languages: list[str]
    registrations: bool
    approval_required: bool
    invites_enabled: bool
    configuration: V1Configuration
    contact_account: Account | None
    rules: list[Rule]


class DomainBlock(TypedDict):
    """The public list of moderated servers (/api/v1/instance/domain_blocks)."""

    domain: str
    digest: str
    severity: str
    comment: NotRequired[str | None]


class Activity(TypedDict):
    week: str
    statuses: str
    logins: str
    registrations: str
