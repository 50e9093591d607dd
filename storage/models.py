"""Rows as frozen slotted dataclasses. Times are integer milliseconds since the epoch (UTC)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

Json = Any


class Visibility(StrEnum):
    """Who may read a status: Mastodon's four values, stored as these strings."""

    PUBLIC = "public"  # anyone, and listed on the public timelines
    UNLISTED = "unlisted"  # anyone, but off the public timelines
    PRIVATE = "private"  # followers (and the mentioned)
    DIRECT = "direct"  # the mentioned only


# Readable by anyone, listed or not.
OPEN_VISIBILITIES = frozenset({Visibility.PUBLIC, Visibility.UNLISTED})


class AccountStatus(StrEnum):
    """A moderation state an account is listed by (the admin API's ``status`` filter). An
    account is in several at once: the stored flags are ``Account.silenced``/``suspended``,
    ``User.approved``/``disabled`` and the moderation row's ``sensitized``."""

    ACTIVE = "active"  # not suspended
    PENDING = "pending"  # a local sign-up not yet approved
    DISABLED = "disabled"  # a local login refused
    SILENCED = "silenced"  # limited: off public timelines, followers only
    SUSPENDED = "suspended"  # gone from this instance
    SENSITIZED = "sensitized"  # media always behind a warning


class AccountAction(StrEnum):
    """A moderator's sanction (``type`` of POST /api/v1/admin/accounts/:id/action)."""

    NONE = "none"  # settle the report only
    SENSITIVE = "sensitive"
    DISABLE = "disable"
    SILENCE = "silence"
    SUSPEND = "suspend"


class AccountActionUndo(StrEnum):
    """Lifting a sanction: each names its own admin API route."""

    ENABLE = "enable"
    UNSILENCE = "unsilence"
    UNSUSPEND = "unsuspend"
    UNSENSITIVE = "unsensitive"


@dataclass(frozen=True, slots=True)
class Account:
    id: int
    username: str
    domain: str  # '' for local accounts
    uri: str
    url: str
    actor_type: str
    display_name: str
    note: str
    note_source: str
    avatar_url: str
    header_url: str
    locked: bool
    bot: bool
    discoverable: bool
    indexable: bool
    fields: list[dict[str, Any]]
    emojis: list[dict[str, Any]]
    also_known_as: list[str]
    moved_to_account_id: int | None
    inbox_url: str
    outbox_url: str
    shared_inbox_url: str
    followers_url: str
    following_url: str
    featured_url: str
    public_key_id: str
    public_key_pem: str
    private_key_pem: str
    statuses_count: int
    followers_count: int
    following_count: int
    last_status_at: int | None
    silenced: bool
    suspended: bool
    created_at: int
    updated_at: int
    fetched_at: int | None
    # Remote accounts: the cached copies of avatar and header (paths under the media
    # directory, named after the remote URL they copy; see storage.media_cache).
    avatar_cache: str
    header_cache: str

    @property
    def local(self) -> bool:
        return self.domain == ""

    @property
    def acct(self) -> str:
        return self.username if self.local else f"{self.username}@{self.domain}"


@dataclass(frozen=True, slots=True)
class User:
    id: int
    account_id: int
    email: str
    password_hash: str
    admin: bool
    approved: bool
    disabled: bool
    locale: str
    settings: dict[str, Any]
    created_at: int
    confirmed_at: int | None  # None: the e-mail address is not confirmed yet
    reason: str  # why they asked to join (sign-ups awaiting approval)
    invite_id: int | None  # the invite they signed up with

    @property
    def confirmed(self) -> bool:
        return self.confirmed_at is not None


@dataclass(frozen=True, slots=True)
class Status:
    id: int
    uri: str
    url: str
    account_id: int
    local: bool
    in_reply_to_id: int | None
    in_reply_to_uri: str | None
    in_reply_to_account_id: int | None
    reblog_of_id: int | None
    conversation: str | None
    content: str
    text: str
    spoiler_text: str
    sensitive: bool
    visibility: str
    language: str | None
    emojis: list[dict[str, Any]]
    application_id: int | None
    replies_count: int
    reblogs_count: int
    favourites_count: int
    created_at: int
    edited_at: int | None
    deleted_at: int | None


@dataclass(frozen=True, slots=True)
class StatusEdit:
    id: int
    status_id: int
    content: str
    text: str
    spoiler_text: str
    sensitive: bool
    media: list[dict[str, Any]]
    poll: dict[str, Any] | None
    created_at: int


@dataclass(frozen=True, slots=True)
class Mention:
    status_id: int
    account_id: int
    silent: bool


@dataclass(frozen=True, slots=True)
class Tag:
    id: int
    name: str
    display_name: str
    created_at: int


@dataclass(frozen=True, slots=True)
class MediaAttachment:
    id: int
    account_id: int
    status_id: int | None
    type: str
    content_type: str
    file_path: str
    preview_path: str
    remote_url: str
    description: str
    focus_x: float
    focus_y: float
    blurhash: str | None
    meta: dict[str, Any]
    size: int
    position: int
    created_at: int


@dataclass(frozen=True, slots=True)
class Poll:
    id: int
    status_id: int
    options: list[str]
    votes: list[int]
    multiple: bool
    hide_totals: bool
    voters_count: int
    expires_at: int | None
    created_at: int


@dataclass(frozen=True, slots=True)
class Follow:
    id: int
    account_id: int
    target_account_id: int
    uri: str | None
    show_reblogs: bool
    notify: bool
    languages: str | None
    created_at: int


@dataclass(frozen=True, slots=True)
class FollowRequest:
    id: int
    account_id: int
    target_account_id: int
    uri: str | None
    show_reblogs: bool
    notify: bool
    created_at: int


@dataclass(frozen=True, slots=True)
class Block:
    id: int
    account_id: int
    target_account_id: int
    uri: str | None
    created_at: int


@dataclass(frozen=True, slots=True)
class Favourite:
    id: int
    account_id: int
    status_id: int
    uri: str | None  # the Like's activity id (ours or the remote's); an Undo names it
    created_at: int


@dataclass(frozen=True, slots=True)
class Mute:
    id: int
    account_id: int
    target_account_id: int
    hide_notifications: bool
    expires_at: int | None
    created_at: int


@dataclass(frozen=True, slots=True)
class Notification:
    id: int
    account_id: int
    from_account_id: int
    type: str
    status_id: int | None
    report_id: int | None
    group_key: str
    created_at: int


@dataclass(frozen=True, slots=True)
class Report:
    id: int
    account_id: int
    target_account_id: int
    status_ids: list[int]
    comment: str
    category: str
    rule_ids: list[int]
    forwarded: bool
    uri: str | None
    assigned_account_id: int | None
    action_taken_at: int | None
    created_at: int
    updated_at: int


@dataclass(frozen=True, slots=True)
class OAuthApp:
    id: int
    name: str
    website: str | None
    redirect_uris: str
    scopes: str
    client_id: str
    client_secret_hash: str  # SHA-256 hex digest; the secret itself is shown once, at registration
    created_at: int


@dataclass(frozen=True, slots=True)
class OAuthToken:
    id: int
    token_hash: str
    app_id: int | None
    user_id: int | None
    scopes: str
    created_at: int
    revoked_at: int | None
    last_used_at: int | None


@dataclass(frozen=True, slots=True)
class OAuthCode:
    code_hash: str
    app_id: int
    user_id: int
    redirect_uri: str
    scopes: str
    code_challenge: str | None
    code_challenge_method: str | None
    expires_at: int


class QueueState(StrEnum):
    """Where an inbox or delivery row stands; stored as these strings.

    Inbox rows: queued → processing → done | queued again (retry) | failed.
    Delivery rows: queued → sending → done | retry → … | dead.
    """

    QUEUED = "queued"  # waiting for its turn (next_attempt_at)
    PROCESSING = "processing"  # an inbox row claimed by a worker (leased)
    SENDING = "sending"  # a delivery row claimed by a worker (leased)
    RETRY = "retry"  # a delivery that failed and waits for its next attempt
    DONE = "done"  # finished; pruned after a day
    DEAD = "dead"  # a delivery given up (permanent failure or too old)
    FAILED = "failed"  # an inbox row given up


@dataclass(frozen=True, slots=True)
class InboxItem:
    id: int
    activity_id: str
    payload: str
    peer: str
    actor: str
    recipient_account_id: int | None
    state: QueueState
    attempts: int
    next_attempt_at: int
    last_error: str | None
    created_at: int
    lease_owner: str | None  # the process holding the lease (while processing)


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    activity_id: str
    inbox_url: str
    peer: str
    sender_account_id: int
    payload: str
    state: QueueState
    attempts: int
    next_attempt_at: int
    last_error: str | None
    created_at: int
    expires_at: int
    lease_owner: str | None  # the process holding the lease (while sending)


@dataclass(frozen=True, slots=True)
class Peer:
    domain: str
    first_seen_at: int
    last_success_at: int | None
    failures: int
    unreachable_since: int | None
    software: str | None


@dataclass(frozen=True, slots=True)
class DomainBlockRow:
    id: int
    domain: str
    severity: str
    reject_media: bool
    reject_reports: bool
    federated_timeline_removal: bool
    followers_only: bool
    avatar_removal: bool
    banner_removal: bool
    reject_deletes: bool
    private_comment: str
    public_comment: str
    obfuscate: bool
    created_at: int


@dataclass(frozen=True, slots=True)
class DomainAllowRow:
    id: int
    domain: str
    created_at: int


@dataclass(frozen=True, slots=True)
class PolicyDecisionRow:
    id: int
    time: int
    direction: str
    peer: str
    actor: str | None
    activity_id: str | None
    activity_type: str | None
    rule: str
    action: str
    enforced: bool
    reason: str


@dataclass(frozen=True, slots=True)
class ListRow:
    id: int
    account_id: int
    title: str
    replies_policy: str
    exclusive: bool
    created_at: int


@dataclass(frozen=True, slots=True)
class Marker:
    account_id: int
    timeline: str
    last_read_id: str
    version: int
    updated_at: int


@dataclass(frozen=True, slots=True)
class FilterKeyword:
    id: int
    filter_id: int
    keyword: str
    whole_word: bool


@dataclass(frozen=True, slots=True)
class Filter:
    id: int
    account_id: int
    title: str
    contexts: list[str]
    action: str
    expires_at: int | None
    created_at: int
    keywords: tuple[FilterKeyword, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class InstanceStats:
    user_count: int
    local_posts: int
    domain_count: int
    active_month: int
    active_halfyear: int
