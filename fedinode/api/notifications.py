"""Notifications: /api/v1/notifications (flat) and /api/v2/notifications (grouped)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from fedinode.api import schemas
from fedinode.api.auth import require_scopes, viewer_account
from fedinode.api.params import (
    Params,
    ctx_of,
    json_response,
    page_from,
    paged_response,
    path_id,
    read_params,
)
from fedinode.errors import NotFoundError
from fedinode.services import notifications as svc
from fedinode.services.notifications import NotificationView
from storage.ids import parse_id


def _id(request: web.Request) -> int:
    return path_id(request)


def _filters(params: Params) -> dict[str, Any]:
    return {
        "types": params.str_list("types"),
        "exclude_types": params.str_list("exclude_types"),
        "account_id": params.id("account_id"),
    }


@require_scopes("read:notifications")
async def list_notifications(request: web.Request) -> web.Response:
    params = await read_params(request)
    ctx = ctx_of(request)
    account = viewer_account(request)
    page = page_from(params, default_limit=40, max_limit=80)
    views, ids = await svc.list_notifications(ctx, account.id, page, **_filters(params))
    return paged_response(
        request,
        [
            schemas.notification_to_api(
                v.notification, v.account, v.status, ctx.config, account.id, v.report
            )
            for v in views
        ],
        ids,
        page,
    )


@require_scopes("read:notifications")
async def get_notification(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    account = viewer_account(request)
    n = await ctx.store.notifications.get(account.id, _id(request))
    if n is None:
        raise NotFoundError()
    views = await svc.load_notification_views(ctx, [n], account.id)
    if not views:
        raise NotFoundError()
    v = views[0]
    return json_response(
        schemas.notification_to_api(
            v.notification, v.account, v.status, ctx.config, account.id, v.report
        )
    )


@require_scopes("write:notifications")
async def dismiss_notification(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    await ctx.store.notifications.dismiss(viewer_account(request).id, _id(request))
    return json_response({})


@require_scopes("write:notifications")
async def clear_notifications(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    await ctx.store.notifications.clear(viewer_account(request).id)
    return json_response({})


@require_scopes("read:notifications")
async def unread_count(request: web.Request) -> web.Response:
    params = await read_params(request)
    ctx = ctx_of(request)
    account = viewer_account(request)
    limit = max(1, min(params.int("limit", 100) or 100, 1000))
    last_read = await ctx.store.client_api.last_read_id(account.id, "notifications")
    count = await ctx.store.notifications.count_unread(account.id, last_read)
    return json_response({"count": min(count, limit)})


# -- v2 grouped ---------------------------------------------------------------------------


def _grouped(
    views: list[NotificationView], ctx: Any, viewer_id: int, grouped_types: set[str]
) -> dict[str, Any]:
    groups: dict[str, list[NotificationView]] = {}
    order: list[str] = []
    for v in views:
        n = v.notification
        groupable = n.type in svc.GROUPABLE and n.type in grouped_types and n.group_key
        key = n.group_key if groupable else f"ungrouped-{n.id}"
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append(v)
    accounts: dict[int, Any] = {}
    statuses: dict[int, Any] = {}
    out_groups = []
    for key in order:
        members = groups[key]
        sample = list(dict.fromkeys(m.account.id for m in members))[:8]
        for m in members:
            accounts.setdefault(m.account.id, m.account)
            if m.status is not None:
                statuses.setdefault(m.status.status.id, m.status)
        out_groups.append(
            schemas.notification_group_to_api(
                key,
                [m.notification for m in members],
                sample,
                members[0].notification.status_id,
                members[0].report,
                ctx.config.base_url,
            )
        )
    base = ctx.config.base_url
    return {
        "accounts": [schemas.account_to_api(a, base) for a in accounts.values()],
        "statuses": [schemas.status_to_api(s, ctx.config, viewer_id) for s in statuses.values()],
        "notification_groups": out_groups,
    }


@require_scopes("read:notifications")
async def list_grouped_notifications(request: web.Request) -> web.Response:
    params = await read_params(request)
    ctx = ctx_of(request)
    account = viewer_account(request)
    page = page_from(params, default_limit=40, max_limit=80)
    filters = _filters(params)
    grouped_types = set(params.str_list("grouped_types") or svc.GROUPABLE)
    views, ids = await svc.list_notifications(ctx, account.id, page, **filters)
    return paged_response(request, _grouped(views, ctx, account.id, grouped_types), ids, page)


@require_scopes("read:notifications")
async def grouped_unread_count(request: web.Request) -> web.Response:
    return await unread_count(request)


@require_scopes("write:notifications")
async def dismiss_group(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    key = request.match_info["group_key"]
    account = viewer_account(request)
    single = parse_id(key[10:]) if key.startswith("ungrouped-") else None
    if single is not None:
        await ctx.store.notifications.dismiss(account.id, single)
    else:
        await ctx.store.notifications.dismiss_group(account.id, key)
    return json_response({})
