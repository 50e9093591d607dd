"""Local notifications: created for local recipients only, published to streams after commit."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from fedinode.services.context import Ctx
from fedinode.services.filters import filter_views
from fedinode.services.render_cache import status_views
from fedinode.services.views import StatusView
from storage.models import Account, Notification, Report
from storage.paging import Page
from storage.store import Store

TYPES = (
    "mention", "status", "reblog", "follow", "follow_request", "favourite", "poll", "update",
    "admin.sign_up", "admin.report", "severed_relationships", "moderation_warning",
)  # fmt: skip
# The types Mastodon groups (grouped notifications, /api/v2/notifications): each carries a
# group key; every other notification is a group of its own ("ungrouped-<id>").
GROUPABLE = frozenset({"favourite", "reblog", "follow"})


def group_key(type_: str, recipient_id: int, status_id: int | None) -> str:
    """The group of a notification in /api/v2/notifications, by Mastodon's rule
    (``Notification::Groups#set_group_key!``): favourites and reblogs group per status,
    follows per recipient, whoever and wherever the follower is. Mastodon also starts a new
    group after 12 hours; here a group spans all time. "" for a type that is not grouped."""
    if type_ not in GROUPABLE:
        return ""
    return f"{type_}-{status_id}" if status_id is not None else f"{type_}-{recipient_id}"


async def create(
    store: Store,
    recipient: Account,
    sender: Account,
    type_: str,
    *,
    status_id: int | None = None,
    report_id: int | None = None,
    dedupe_key: str | None = None,
) -> Notification | None:
    """Store a notification for a local account (remote ones learn through federation);
    None when the recipient is remote, blocks or mutes the sender, or already has the
    notification named ``dedupe_key``. The caller streams it (``fedinode.services.surface``)."""
    if not recipient.local:
        return None
    return await store.notifications.create(
        recipient.id,
        sender.id,
        type_,
        status_id=status_id,
        report_id=report_id,
        group_key=group_key(type_, recipient.id, status_id),
        dedupe_key=dedupe_key,
    )


@dataclass(frozen=True, slots=True)
class NotificationView:
    notification: Notification
    account: Account
    status: StatusView | None
    # admin.report: the report with its target account.
    report: tuple[Report, Account] | None = None


async def load_notification_views(
    ctx: Ctx, notifications: Sequence[Notification], viewer_id: int
) -> list[NotificationView]:
    reports: dict[int, Report] = {}
    for report_id in {n.report_id for n in notifications if n.report_id is not None}:
        report = await ctx.store.reports.get(report_id)
        if report is not None:
            reports[report_id] = report
    accounts = await ctx.store.accounts.get_many(
        [n.from_account_id for n in notifications] + [r.target_account_id for r in reports.values()]
    )
    status_ids = [n.status_id for n in notifications if n.status_id is not None]
    # One query for the statuses shown, rendered from the cache of status versions.
    loaded = await status_views(ctx.store, status_ids, viewer_id)
    # A "hide" filter in the notifications context drops the notification with its status.
    views = {
        v.status.id: v for v in await filter_views(ctx.store, viewer_id, "notifications", loaded)
    }
    out = []
    for n in notifications:
        account = accounts.get(n.from_account_id)
        if account is None:
            continue
        if n.status_id is not None and n.status_id not in views:
            continue  # the status is gone
        report = reports.get(n.report_id) if n.report_id is not None else None
        target = accounts.get(report.target_account_id) if report is not None else None
        out.append(
            NotificationView(
                n,
                account,
                views.get(n.status_id) if n.status_id else None,
                (report, target) if report is not None and target is not None else None,
            )
        )
    return out


async def list_notifications(
    ctx: Ctx,
    viewer_id: int,
    page: Page,
    *,
    types: Sequence[str] = (),
    exclude_types: Sequence[str] = (),
    account_id: int | None = None,
) -> tuple[list[NotificationView], list[int]]:
    rows = await ctx.store.notifications.list(
        viewer_id, page, types=types, exclude_types=exclude_types, from_account_id=account_id
    )
    return await load_notification_views(ctx, rows, viewer_id), [n.id for n in rows]


@dataclass(frozen=True, slots=True)
class NotificationGroupView:
    """One group of /api/v2/notifications: its members newest first."""

    key: str
    members: list[NotificationView]
    sample_account_ids: list[int]


def group_notifications(
    views: Sequence[NotificationView], grouped_types: Iterable[str]
) -> list[NotificationGroupView]:
    """Group a page of notifications by ``group_key`` in order of first appearance; a type
    that does not group, or that the app did not ask to group, stands alone."""
    wanted = set(grouped_types)
    groups: dict[str, list[NotificationView]] = {}
    for v in views:
        n = v.notification
        groupable = n.type in GROUPABLE and n.type in wanted and n.group_key
        key = n.group_key if groupable else f"ungrouped-{n.id}"
        groups.setdefault(key, []).append(v)
    return [
        NotificationGroupView(key, members, list(dict.fromkeys(m.account.id for m in members))[:8])
        for key, members in groups.items()
    ]
