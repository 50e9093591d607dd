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
    paged_json_response,
    paged_response,
    path_id,
    read_params,
)
from fedinode.errors import ApiError, NotFoundError
from fedinode.services import notifications as svc
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
    body = schemas.notifications_to_json(views, ctx.config, account.id)
    return paged_json_response(request, body, ids, page)


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
    return json_response(schemas.notification_view_to_api(views[0], ctx.config, account.id))


@require_scopes("write:notifications")
async def dismiss_notification(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    await ctx.store.notifications.dismiss(viewer_account(request).id, _id(request))
    return json_response(schemas.empty_to_api())


@require_scopes("write:notifications")
async def clear_notifications(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    await ctx.store.notifications.clear(viewer_account(request).id)
    return json_response(schemas.empty_to_api())


@require_scopes("read:notifications")
async def unread_count(request: web.Request) -> web.Response:
    params = await read_params(request)
    ctx = ctx_of(request)
    account = viewer_account(request)
    limit = max(1, min(params.int("limit", 100) or 100, 1000))
    last_read = await ctx.store.markers.last_read_id(account.id, "notifications")
    count = await ctx.store.notifications.count_unread(account.id, last_read)
    return json_response(schemas.unread_count_to_api(min(count, limit)))


# -- v2 grouped ---------------------------------------------------------------------------


def _partial_avatars(params: Params) -> bool:
    """``expand_accounts``: "full" (the default) or "partial_avatars"."""
    expand = params.str("expand_accounts") or "full"
    if expand not in ("full", "partial_avatars"):
        raise ApiError(
            f"Invalid value for 'expand_accounts': '{expand}',"
            " allowed values are 'full' and 'partial_avatars'"
        )
    return expand == "partial_avatars"


@require_scopes("read:notifications")
async def list_grouped_notifications(request: web.Request) -> web.Response:
    params = await read_params(request)
    ctx = ctx_of(request)
    account = viewer_account(request)
    page = page_from(params, default_limit=40, max_limit=80)
    filters = _filters(params)
    grouped_types = params.str_list("grouped_types") or svc.GROUPABLE
    views, ids = await svc.list_notifications(ctx, account.id, page, **filters)
    groups = svc.group_notifications(views, grouped_types)
    body = schemas.grouped_notifications_to_json(
        groups, ctx.config, account.id, partial_avatars=_partial_avatars(params)
    )
    return paged_json_response(request, body, ids, page)


@require_scopes("read:notifications")
async def get_notification_group(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    account = viewer_account(request)
    group = await svc.notification_group(ctx, account.id, request.match_info["group_key"])
    if group is None:
        raise NotFoundError()
    body = schemas.grouped_notifications_to_json([group], ctx.config, account.id)
    return web.Response(body=body, content_type="application/json")


@require_scopes("read:notifications")
async def notification_group_accounts(request: web.Request) -> web.Response:
    params = await read_params(request)
    ctx = ctx_of(request)
    page = page_from(params, default_limit=40, max_limit=80)
    key = request.match_info["group_key"]
    found = await svc.group_accounts(ctx, viewer_account(request).id, key, page)
    if found is None:
        raise NotFoundError()
    accounts, ids = found
    body = [schemas.account_to_api(a, ctx.config.base_url) for a in accounts]
    return paged_response(request, body, ids, page)


@require_scopes("read:notifications")
async def grouped_unread_count(request: web.Request) -> web.Response:
    params = await read_params(request)
    ctx = ctx_of(request)
    limit = max(1, min(params.int("limit", 100) or 100, 1000))
    grouped_types = params.str_list("grouped_types") or svc.GROUPABLE
    count = await svc.count_unread_groups(ctx, viewer_account(request).id, grouped_types, limit)
    return json_response(schemas.unread_count_to_api(count))


@require_scopes("write:notifications")
async def dismiss_group(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    key = request.match_info["group_key"]
    account = viewer_account(request)
    single = parse_id(key[10:]) if key.startswith("ungrouped-") else None
    if single is not None:
        await ctx.store.notifications.dismiss(account.id, single)
    else:
        await ctx.store.notifications.dismiss_group(account.id, key, sorted(svc.GROUPABLE))
    return json_response(schemas.empty_to_api())
