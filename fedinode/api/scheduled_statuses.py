"""/api/v1/scheduled_statuses: statuses held until their ``scheduled_at``."""

from __future__ import annotations

from aiohttp import web

from fedinode.api import schemas
from fedinode.api.auth import require_scopes, viewer_account
from fedinode.api.params import (
    ctx_of,
    json_response,
    page_from,
    paged_response,
    path_id,
    read_params,
)
from fedinode.services import scheduled_statuses as svc


@require_scopes("read:statuses")
async def list_scheduled_statuses(request: web.Request) -> web.Response:
    params = await read_params(request)
    page = page_from(params, default_limit=20, max_limit=40)
    ctx = ctx_of(request)
    views = await svc.list_scheduled(ctx, viewer_account(request), page)
    return paged_response(
        request,
        [schemas.scheduled_status_to_api(ctx.config, v) for v in views],
        [v.row.id for v in views],
        page,
    )


@require_scopes("read:statuses")
async def get_scheduled_status(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    view = await svc.get_scheduled(ctx, viewer_account(request), path_id(request))
    return json_response(schemas.scheduled_status_to_api(ctx.config, view))


@require_scopes("write:statuses")
async def update_scheduled_status(request: web.Request) -> web.Response:
    params = await read_params(request)
    ctx = ctx_of(request)
    view = await svc.reschedule(
        ctx,
        viewer_account(request),
        path_id(request),
        svc.parse_scheduled_at(params.str("scheduled_at")),
    )
    return json_response(schemas.scheduled_status_to_api(ctx.config, view))


@require_scopes("write:statuses")
async def delete_scheduled_status(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    await svc.cancel(ctx, viewer_account(request), path_id(request))
    return json_response(schemas.empty_to_api())
