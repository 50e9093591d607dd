"""Local notifications: created for local recipients only, published to streams after commit."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from fedinode.services.context import Ctx
from fedinode.services.filters import filter_views
from fedinode.services.render_cache import status_views
from fedinode.services.views import StatusView
from storage.ids import now_ms, parse_id
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
UNGROUPED = "ungrouped-"
# The accounts a group shows (``sample_account_ids``), as Mastodon.
SAMPLE_ACCOUNTS = 8
# A group takes new members for 12 hours from the hour it began, as Mastodon
# (``Notification::Groups::MAXIMUM_GROUP_SPAN_HOURS``).
GROUP_SPAN_HOURS = 12
HOUR_MS = 3_600_000


def group_keys(type_: str, status_id: int | None, at_ms: int) -> list[str]:
    """The keys of the groups of /api/v2/notifications a notification made at ``at_ms`` may
    join, by Mastodon's rule (``Notification::Groups#set_group_key!``): "<type>-<status id>-
    <hour>" for favourites and reblogs, "follow-<hour>" for follows (whoever and wherever the
    follower is), <hour> being the hour the group began (epoch seconds // 3600). A group takes
    new members for ``GROUP_SPAN_HOURS`` hours: the keys of the groups that may still be open,
    oldest first, end with the key of a group beginning now. Empty for a type not grouped.

    Keys made before groups closed ("favourite-<status id>", "follow-<recipient id>") are
    never among them: those groups take no new members."""
    if type_ not in GROUPABLE:
        return []
    prefix = f"{type_}-{status_id}" if type_ != "follow" and status_id is not None else type_
    hour = at_ms // HOUR_MS
    return [f"{prefix}-{h}" for h in range(hour - GROUP_SPAN_HOURS + 1, hour + 1)]


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
    keys = group_keys(type_, status_id, now_ms())
    return await store.notifications.create(
        recipient.id,
        sender.id,
        type_,
        status_id=status_id,
        report_id=report_id,
        group_key=keys[-1] if keys else "",
        open_group_keys=keys[:-1],
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
    # A group shown whole (GET /api/v2/notifications/:group_key): how many notifications it
    # holds, of which ``members`` are the newest; None for a group cut from a page.
    total: int | None = None


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
        key = n.group_key if groupable else f"{UNGROUPED}{n.id}"
        groups.setdefault(key, []).append(v)
    return [
        NotificationGroupView(
            key, members, list(dict.fromkeys(m.account.id for m in members))[:SAMPLE_ACCOUNTS]
        )
        for key, members in groups.items()
    ]


def _group_rows(key: str) -> dict[str, Any]:
    """The ``NotificationStore.list`` filters for the notifications of the group ``key``:
    "ungrouped-<id>" names one notification; any other key a group of a groupable type (the
    other types keep a group key in the database that no client is shown)."""
    if key.startswith(UNGROUPED):
        # An id that names no row selects nothing (-1 is never an id).
        single = parse_id(key[len(UNGROUPED) :])
        return {"notification_id": -1 if single is None else single}
    return {"group_key": key, "types": sorted(GROUPABLE)}


async def notification_group(ctx: Ctx, viewer_id: int, key: str) -> NotificationGroupView | None:
    """The viewer's group ``key`` with its newest notifications (enough for the sample
    accounts) and its count; None when the viewer has no such group."""
    where = _group_rows(key)
    rows = await ctx.store.notifications.list(viewer_id, Page(limit=SAMPLE_ACCOUNTS), **where)
    views = await load_notification_views(ctx, rows, viewer_id)
    if not views:
        return None
    # An "ungrouped-<id>" key stays one notification, whatever its type.
    [group] = group_notifications(views, () if "notification_id" in where else GROUPABLE)
    total = (
        len(rows)
        if "notification_id" in where
        else await ctx.store.notifications.count(viewer_id, types=where["types"], group_key=key)
    )
    return replace(group, total=total)


async def group_accounts(
    ctx: Ctx, viewer_id: int, key: str, page: Page
) -> tuple[list[Account], list[int]] | None:
    """A page of the accounts behind the viewer's group ``key``, newest notification first,
    with the notification ids to page by; None when the viewer has no such group."""
    where = _group_rows(key)
    rows = await ctx.store.notifications.list(viewer_id, page, **where)
    if not rows and not await ctx.store.notifications.count(viewer_id, **where):
        return None
    accounts = await ctx.store.accounts.get_many([n.from_account_id for n in rows])
    found = [accounts[n.from_account_id] for n in rows if n.from_account_id in accounts]
    return found, [n.id for n in rows]


async def count_unread_groups(
    ctx: Ctx, viewer_id: int, grouped_types: Iterable[str], limit: int
) -> int:
    """The viewer's unread notification groups (after the notifications marker), at most
    ``limit``, grouped as ``group_notifications`` groups them."""
    last_read = await ctx.store.markers.last_read_id(viewer_id, "notifications")
    return await ctx.store.notifications.count_unread_groups(
        viewer_id, last_read, sorted(GROUPABLE.intersection(grouped_types)), limit
    )
