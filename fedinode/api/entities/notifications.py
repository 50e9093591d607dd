"""Notification, grouped notifications (v2) and the unread count."""

# No ``from __future__ import annotations``: TypedDict reads NotRequired from evaluated
# annotations (``__optional_keys__``), which the tests compare with the JSON sent.
from typing import NotRequired, TypedDict

from fedinode.api.entities.accounts import Account
from fedinode.api.entities.reports import Report
from fedinode.api.entities.statuses import Status


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


class PartialAccountWithAvatar(TypedDict):
    """An account as ``expand_accounts=partial_avatars`` sends it: enough for an avatar."""

    id: str
    acct: str
    url: str | None
    avatar: str
    avatar_static: str
    locked: bool
    bot: bool


class GroupedNotificationsResults(TypedDict):
    accounts: list[Account]
    partial_accounts: NotRequired[list[PartialAccountWithAvatar]]
    statuses: list[Status]
    notification_groups: list[NotificationGroup]


class UnreadCount(TypedDict):
    count: int
