"""Admin pages for reports: the open (or resolved) ones, newest first, and resolving or
reopening one, through the same moderation service as the admin API."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from fedinode.api.params import ctx_of, path_id
from fedinode.errors import NotFoundError
from fedinode.services import admin as admin_service
from fedinode.services.context import Ctx
from fedinode.web.admin.panel import Admin, admin_page, done, page
from fedinode.web.i18n import N_
from storage.moderation import ReportFilter
from storage.paging import Page

BASE = "/admin/reports"
_PAGE = 50


async def _handle(ctx: Ctx, account_id: int | None, cache: dict[int, str]) -> str:
    if account_id is None:
        return ""
    if account_id not in cache:
        try:
            account = (await admin_service.account_row(ctx, account_id)).account
        except NotFoundError:
            cache[account_id] = "?"
        else:
            domain = account.domain or ctx.config.instance.domain
            cache[account_id] = f"@{account.username}@{domain}"
    return cache[account_id]


@admin_page
async def reports_page(request: web.Request, admin: Admin) -> web.Response:
    ctx = ctx_of(request)
    resolved = admin.params.bool("resolved")
    rows = await admin_service.reports(
        ctx,
        ReportFilter(resolved=resolved),
        Page(max_id=admin.params.int("max_id"), limit=_PAGE),
    )
    names: dict[int, str] = {}
    items = []
    for row in rows:
        r = row.report
        items.append(
            {
                "report": r,
                "reporter": await _handle(ctx, r.account_id, names),
                "target": await _handle(ctx, r.target_account_id, names),
                "assigned": await _handle(ctx, r.assigned_account_id, names),
                "resolved_by": await _handle(ctx, row.action_taken_by_account_id, names),
            }
        )
    query = "resolved=true&" if resolved else ""
    return await page(
        request,
        "admin/reports.html",
        title=N_("Reports"),
        section=BASE,
        items=items,
        resolved=resolved,
        older=f"{BASE}?{query}max_id={rows[-1].report.id}" if len(rows) == _PAGE else "",
    )


def _change(what: str, notice: str) -> Any:
    @admin_page
    async def handler(request: web.Request, admin: Admin) -> web.Response:
        row = await admin_service.report_change(
            ctx_of(request), admin.account, path_id(request), what
        )
        back = BASE + ("?resolved=true" if what == "reopen" else "")
        raise done(back, notice, str(row.report.id))

    handler.__name__ = f"{what}_report_page"
    return handler


ROUTES: tuple[tuple[str, str, Any], ...] = (
    ("GET", BASE, reports_page),
    ("POST", BASE + r"/{id:\d+}/resolve", _change("resolve", "report_resolved")),
    ("POST", BASE + r"/{id:\d+}/reopen", _change("reopen", "report_reopened")),
)
