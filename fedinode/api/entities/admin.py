"""The admin API's entities: Admin::Account, Admin::Report, domain blocks and allows, policy decisions."""

# No ``from __future__ import annotations``: TypedDict reads NotRequired from evaluated
# annotations (``__optional_keys__``), which the tests compare with the JSON sent.
from typing import NotRequired, TypedDict

from fedinode.api.entities.accounts import Account, CustomEmoji, Role
from fedinode.api.entities.instance import Rule
from fedinode.api.entities.statuses import Status


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


class AdminDomainBlockConflict(TypedDict):
    """422 to a block of a domain that has one: the error and the block in force."""

    error: str
    existing_domain_block: AdminDomainBlock


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


class AdminEmoji(CustomEmoji):
    """GoToSocial's admin view of a custom emoji (Mastodon has no admin emoji API)."""

    id: str
    disabled: bool
    domain: str | None
    updated_at: str
    total_file_size: int
    content_type: str
    uri: str
