"""/api/v1/admin/reports: list, view, assign, resolve and reopen reports (admins only)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from fedinode.api import schemas
from fedinode.api.admin_accounts import render as render_admin_account
from fedinode.api.auth import principal, require_scopes, viewer_account
from fedinode.api.params import ctx_of, json_response, link_header, page_from, path_id, read_params
from fedinode.services import admin as svc
from fedinode.services.context import Ctx
from fedinode.services.views import load_status_views
from storage.moderation import ReportFilter, ReportRow

if TYPE_CHECKING:
    from fedinode.api import entities

READ = ("admin:read:reports",)
WRITE = ("admin:write:reports",)


def _id(request: web.Request) -> int:
    return path_id(request)


async def _render(ctx: Ctx, row: ReportRow, viewer_id: int) -> entities.AdminReport:
    r = row.report
    base = ctx.config.base_url

    async def admin_account(account_id: int | None) -> entities.AdminAccount | None:
        if account_id is None:
            return None
        found = await ctx.store.moderation.account(account_id)
        return None if found is None else render_admin_account(found, base)

    statuses = await ctx.store.statuses.get_many(r.status_ids)
    views = await load_status_views(
        ctx.store, [statuses[i] for i in r.status_ids if i in statuses], viewer_id
    )
    account = await admin_account(r.account_id)
    target = await admin_account(r.target_account_id)
    assert account is not None and target is not None
    return schemas.admin_report_to_api(
        r,
        await admin_account(row.action_taken_by_account_id),
        account,
        target,
        await admin_account(r.assigned_account_id),
        views,
        ctx.config,
        viewer_id,
    )


@require_scopes(*READ)
async def list_reports(request: web.Request) -> web.Response:
    svc.require_admin(principal(request).user)
    ctx = ctx_of(request)
    params = await read_params(request)
    page = page_from(params, default_limit=100, max_limit=200)
    flt = ReportFilter(
        resolved=params.bool("resolved"),
        account_id=params.id("account_id"),
        target_account_id=params.id("target_account_id"),
    )
    rows = await svc.reports(ctx, flt, page)
    me = viewer_account(request).id
    return json_response(
        [await _render(ctx, r, me) for r in rows],
        headers=link_header(request, [r.report.id for r in rows], page),
    )


@require_scopes(*READ)
async def get_report(request: web.Request) -> web.Response:
    svc.require_admin(principal(request).user)
    ctx = ctx_of(request)
    row = await svc.report_row(ctx, _id(request))
    return json_response(await _render(ctx, row, viewer_account(request).id))


def _change(what: str) -> Any:
    @require_scopes(*WRITE)
    async def handler(request: web.Request) -> web.Response:
        svc.require_admin(principal(request).user)
        ctx = ctx_of(request)
        me = viewer_account(request)
        row = await svc.report_change(ctx, me, _id(request), what)
        return json_response(await _render(ctx, row, me.id))

    handler.__name__ = what + "_report"
    return handler


assign_report = _change("assign_to_self")
unassign_report = _change("unassign")
resolve_report = _change("resolve")
reopen_report = _change("reopen")
