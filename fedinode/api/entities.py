"""The Mastodon entities fedinode answers with, one TypedDict per type (Mastodon 4.3's docs,
https://docs.joinmastodon.org/entities/). ``NotRequired`` marks keys Mastodon leaves out of
some answers; ``X | None`` keys are always present and may be null. Only
``fedinode.api.schemas`` builds them; tests/fedinode/api/test_entities.py checks the JSON
the API sends against the same documented fields."""

# No ``from __future__ import annotations``: TypedDict reads NotRequired from evaluated
# annotations (``__optional_keys__``), which the tests compare with the JSON sent.
from typing import NotRequired, TypedDict

# -- accounts ---------------------------------------------------------------------------


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


# -- statuses ---------------------------------------------------------------------------


class MediaSize(TypedDict):
    width: int
    height: int
    size: str
    aspect: float


class MediaFocus(TypedDict):
    x: float
    y: float


class MediaMeta(TypedDict):
    original: NotRequired[MediaSize]
    small: NotRequired[MediaSize]
    focus: NotRequired[MediaFocus | None]


class MediaAttachment(TypedDict):
    id: str
    type: str
    url: str | None
    preview_url: str | None
    remote_url: str | None
    preview_remote_url: str | None
    text_url: str | None
    meta: MediaMeta | None
    description: str | None
    blurhash: str | None


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


class TagHistory(TypedDict):
    day: str
    uses: str
    accounts: str


class StatusTag(TypedDict):
    """Status::Tag: a hashtag as it appears in a status."""

    name: str
    url: str


class Tag(TypedDict):
    id: str
    name: str
    url: str
    history: list[TagHistory]
    following: NotRequired[bool]


class StatusApplication(TypedDict):
    name: str
    website: str | None


class FilterKeyword(TypedDict):
    id: str
    keyword: str
    whole_word: bool


class FilterStatus(TypedDict):
    id: str
    status_id: str


class Filter(TypedDict):
    id: str
    title: str
    context: list[str]
    expires_at: str | None
    filter_action: str
    keywords: NotRequired[list[FilterKeyword]]
    statuses: NotRequired[list[FilterStatus]]


class FilterResult(TypedDict):
    filter: Filter
    keyword_matches: list[str] | None
    status_matches: list[str] | None


class V1Filter(TypedDict):
    id: str
    phrase: str
    context: list[str]
    expires_at: str | None
    irreversible: bool
    whole_word: bool


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
    card: None
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


# -- notifications, reports -------------------------------------------------------------


class Report(TypedDict):
    id: str
    action_taken: bool
    action_taken_at: str | None
    category: str
    comment: str
    forwarded: bool
    created_at: str
    status_ids: list[str] | None
    rule_ids: list[str] | None
    target_account: Account


class Notification(TypedDict):
    """``status`` and ``report`` are null (not absent) where they do not apply: fedinode
    always sends both keys, which apps read the same way."""

    id: str
    type: str
    group_key: str
    created_at: str
    account: Account
    status: NotRequired[Status | None]
    report: NotRequired[Report | None]


class NotificationGroup(TypedDict):
    group_key: str
    notifications_count: int
    type: str
    most_recent_notification_id: str
    page_min_id: NotRequired[str]
    page_max_id: NotRequired[str]
    latest_page_notification_at: NotRequired[str | None]
    sample_account_ids: list[str]
    status_id: NotRequired[str]
    report: NotRequired[Report]


class GroupedNotificationsResults(TypedDict):
    accounts: list[Account]
    statuses: list[Status]
    notification_groups: list[NotificationGroup]


class UnreadCount(TypedDict):
    count: int


# -- lists, markers, conversations, search, misc ----------------------------------------


class List(TypedDict):
    id: str
    title: str
    replies_policy: str
    exclusive: bool


class Marker(TypedDict):
    last_read_id: str
    version: int
    updated_at: str | None


class Conversation(TypedDict):
    id: str
    unread: bool
    accounts: list[Account]
    last_status: Status | None


class Search(TypedDict):
    accounts: list[Account]
    statuses: list[Status]
    hashtags: list[Tag]


class Activity(TypedDict):
    week: str
    statuses: str
    logins: str
    registrations: str


# -- OAuth ------------------------------------------------------------------------------


class Application(TypedDict):
    id: str
    name: str
    website: str | None
    scopes: list[str]
    redirect_uri: str
    redirect_uris: list[str]
    vapid_key: str
    client_id: NotRequired[str]
    client_secret: NotRequired[str]
    client_secret_expires_at: NotRequired[int]


class Token(TypedDict):
    access_token: str
    token_type: str
    scope: str
    created_at: int


class OAuthError(TypedDict):
    error: str
    error_description: str


class OAuthMetadata(TypedDict):
    issuer: str
    service_documentation: str
    authorization_endpoint: str
    token_endpoint: str
    revocation_endpoint: str
    app_registration_endpoint: str
    scopes_supported: list[str]
    response_types_supported: list[str]
    response_modes_supported: list[str]
    code_challenge_methods_supported: list[str]
    grant_types_supported: list[str]
    token_endpoint_auth_methods_supported: list[str]


# -- instance ---------------------------------------------------------------------------


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


# -- admin ------------------------------------------------------------------------------


class AdminIp(TypedDict):
    ip: str
    used_at: str


class AdminAccount(TypedDict):
    id: str
    username: str
    domain: str | None
    created_at: str | None
    email: str | None
    ip: str | None
    ips: list[AdminIp]
    locale: str | None
    invite_request: str | None
    role: Role
    confirmed: bool
    approved: bool
    disabled: bool
    sensitized: bool
    silenced: bool
    suspended: bool
    account: Account
    created_by_application_id: NotRequired[str | None]
    invited_by_account_id: NotRequired[str | None]


class AdminReport(TypedDict):
    id: str
    action_taken: bool
    action_taken_at: str | None
    category: str
    comment: str
    forwarded: bool
    created_at: str | None
    updated_at: str | None
    account: AdminAccount
    target_account: AdminAccount
    assigned_account: AdminAccount | None
    action_taken_by_account: AdminAccount | None
    statuses: list[Status]
    rules: list[Rule]


class AdminDomainImpact(TypedDict):
    """What a suspension severs (fedinode extension)."""

    domain: str
    severity: str
    domains: list[str]
    follows_severed: int
    followers_severed: int
    follow_requests_dropped: int
    cached_statuses: int
    statuses_purged: int


class AdminDomainBlock(TypedDict):
    """Admin::DomainBlock, plus fedinode's finer flags and, after a change, what it severed."""

    id: str
    domain: str
    digest: str
    created_at: str | None
    severity: str
    reject_media: bool
    reject_reports: bool
    private_comment: str | None
    public_comment: str | None
    obfuscate: bool
    federated_timeline_removal: bool
    followers_only: bool
    avatar_removal: bool
    banner_removal: bool
    reject_deletes: bool
    severed: NotRequired[AdminDomainImpact]


class AdminDomainAllow(TypedDict):
    id: str
    domain: str
    created_at: str | None


class AdminDomainImport(TypedDict):
    """Result of a CSV import of domain blocks (fedinode extension)."""

    created: list[AdminDomainBlock]
    updated: list[AdminDomainBlock]
    skipped: list[str]
    severed: list[AdminDomainImpact]


class PolicyDecision(TypedDict):
    """One audit record (fedinode extension: /api/v1/admin/policy/decisions)."""

    id: str
    time: str | None
    direction: str
    peer: str
    actor: str | None
    activity_id: str | None
    activity_type: str | None
    rule: str
    action: str
    enforced: bool
    reason: str | None


class Error(TypedDict):
    error: str
    error_description: NotRequired[str]


class StreamError(TypedDict):
    """An error on a streaming connection (``status`` over WebSocket)."""

    error: str
    status: NotRequired[int]


class StreamMessage(TypedDict):
    """One WebSocket frame of the streaming API: ``payload`` is JSON text (an entity)."""

    stream: list[str]
    event: str
    payload: NotRequired[str]


class Empty(TypedDict):
    """``{}``: what Mastodon answers to a dismissal, an unfollow-tag and the like."""
