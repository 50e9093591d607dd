"""Notification, the grouped notifications of /api/v2/notifications, the unread count."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import orjson

from fedinode.api.schemas.accounts import account_to_api
from fedinode.api.schemas.reports import report_to_api
from fedinode.api.schemas.statuses import json_array, status_json, status_to_api
from fedinode.api.schemas.times import at, iso
from fedinode.config import Config
from fedinode.services.notifications import GROUPABLE
from fedinode.services.views import StatusView
from storage.models import Account, Notification, Report

if TYPE_CHECKING:
    from fedinode.api import entities as e

if TYPE_CHECKING:
    # Types only: services import this module (streaming), so no import cycle at run time.
    from fedinode.services.notifications import NotificationGroupView, NotificationView


def _group_key(n: Notification) -> str:
    """Mastodon's ``group_key``: the notification's own for the groupable types, else one of
    its own so that it is never grouped."""
    return n.group_key if n.type in GROUPABLE else f"ungrouped-{n.id}"


def notification_to_api(
    n: Notification,
    account: Account,
    status: StatusView | None,
    config: Config,
    viewer_id: int | None,
    report: tuple[Report, Account] | None = None,
) -> e.Notification:
    base_url = config.base_url
    return {
        "id": str(n.id),
        "type": n.type,
        "group_key": _group_key(n),
        "created_at": at(n.created_at),
        "account": account_to_api(account, base_url),
        "status": status_to_api(status, config, viewer_id) if status is not None else None,
        "report": report_to_api(report[0], report[1], base_url) if report is not None else None,
    }


def notification_view_to_api(
    view: NotificationView, config: Config, viewer_id: int | None
) -> e.Notification:
    return notification_to_api(
        view.notification, view.account, view.status, config, viewer_id, view.report
    )


def notification_group_to_api(group: NotificationGroupView, base_url: str) -> e.NotificationGroup:
    notifications: list[Notification] = [m.notification for m in group.members]
    newest = notifications[0]
    oldest = notifications[-1]
    out: e.NotificationGroup = {
        "group_key": group.key,
        "notifications_count": len(notifications) if group.total is None else group.total,
        "type": newest.type,
        "most_recent_notification_id": str(newest.id),
        "sample_account_ids": [str(a) for a in group.sample_account_ids],
    }
    if group.total is None:
        # Mastodon gives the page bounds only for a group cut from a page.
        out["page_min_id"] = str(oldest.id)
        out["page_max_id"] = str(newest.id)
        out["latest_page_notification_at"] = iso(newest.created_at)
    status_id = newest.status_id
    if status_id is not None:
        # Mastodon leaves the key out of groups that have no status (follows, reports).
        out["status_id"] = str(status_id)
    report = group.members[0].report
    if report is not None:
        # Mastodon attaches the Report only to admin.report groups.
        out["report"] = report_to_api(report[0], report[1], base_url)
    return out


def notifications_to_json(
    views: Sequence[NotificationView], config: Config, viewer_id: int
) -> bytes:
    """``notification_view_to_api`` of each, as one JSON array: each account encoded once a
    page (a page's notifications come from few accounts), each status's JSON as kept with
    its version for the viewer's marks (``status_json``), laid in after the rest."""
    base_url = config.base_url
    accounts: dict[int, bytes] = {}
    parts = []
    for view in views:
        n = view.notification
        account = accounts.get(view.account.id)
        if account is None:
            account = accounts[view.account.id] = orjson.dumps(
                account_to_api(view.account, base_url)
            )
        report = view.report
        head = orjson.dumps(
            {
                "id": str(n.id),
                "type": n.type,
                "group_key": _group_key(n),
                "created_at": at(n.created_at),
                "report": (
                    report_to_api(report[0], report[1], base_url) if report is not None else None
                ),
            }
        )
        status = b"null" if view.status is None else status_json(view.status, config, viewer_id)
        parts.append(b"".join((head[:-1], b',"account":', account, b',"status":', status, b"}")))
    return json_array(parts)


def partial_account_to_api(account: Account, base_url: str) -> e.PartialAccountWithAvatar:
    full = account_to_api(account, base_url)
    return {
        "id": full["id"],
        "acct": full["acct"],
        "url": full["url"],
        "avatar": full["avatar"],
        "avatar_static": full["avatar_static"],
        "locked": full["locked"],
        "bot": full["bot"],
    }


def grouped_notifications_to_json(
    groups: Sequence[NotificationGroupView],
    config: Config,
    viewer_id: int,
    *,
    partial_avatars: bool = False,
) -> bytes:
    """/api/v2/notifications (``GroupedNotificationsResults``) encoded: the groups, beside
    them each account of the page once and each status once, in order of first appearance,
    each status's JSON as kept with its version for the viewer's marks (``status_json``).
    With ``partial_avatars`` (``expand_accounts=partial_avatars``) only the newest account of
    each group is sent whole; the group's other sample accounts go in ``partial_accounts``."""
    accounts: dict[int, Account] = {}
    statuses: dict[int, StatusView] = {}
    for group in groups:
        for m in group.members:
            accounts.setdefault(m.account.id, m.account)
            if m.status is not None:
                statuses.setdefault(m.status.status.id, m.status)
    base = config.base_url
    partial = b""
    if partial_avatars:
        whole = dict.fromkeys(g.sample_account_ids[0] for g in groups if g.sample_account_ids)
        rest = [a for g in groups for a in g.sample_account_ids[1:] if a not in whole]
        partial = b',"partial_accounts":' + orjson.dumps(
            [partial_account_to_api(accounts[a], base) for a in dict.fromkeys(rest)]
        )
        accounts = {a: accounts[a] for a in whole}
    return b"".join(
        (
            b'{"accounts":',
            json_array([orjson.dumps(account_to_api(a, base)) for a in accounts.values()]),
            partial,
            b',"statuses":',
            json_array([status_json(s, config, viewer_id) for s in statuses.values()]),
            b',"notification_groups":',
            orjson.dumps([notification_group_to_api(g, base) for g in groups]),
            b"}",
        )
    )


def unread_count_to_api(count: int) -> e.UnreadCount:
    return {"count": count}
