"""The admin panel's approval queue: local sign-ups waiting for an admin (``[instance]
registrations = "approval"``), newest first, each approved or rejected through the same
services as ``POST /api/v1/admin/accounts/:id/approve|reject`` (an approval mails the
user the same notice)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from fedinode.api.params import ctx_of, path_id
from fedinode.errors import Forbidden
from fedinode.mail import poke_mail
from fedinode.services import admin as admin_service
from fedinode.services import registrations
from fedinode.services.context import Ctx
from fedinode.web.admin.panel import Admin, admin_page, done, page
from fedinode.web.i18n import N_
from fedinode.web.render import page_translator
from storage.models import AccountStatus
from storage.moderation import AccountFilter, AdminAccountRow
from storage.paging import Page

BASE = "/admin/accounts/pending"
PENDING = AccountFilter(origin="local", status=AccountStatus.PENDING)
NOT_PENDING = N_("This account is not pending approval.")
_PAGE = 50


async def pending(ctx: Ctx, limit: int, max_id: int | None = None) -> list[AdminAccountRow]:
    """Local accounts awaiting approval, newest first."""
    return await ctx.store.moderation.accounts(PENDING, Page(max_id=max_id, limit=limit))


async def _queue(request: web.Request, admin: Admin, *, error: str = "") -> web.Response:
    rows = await pending(ctx_of(request), _PAGE, admin.params.int("max_id"))
    return await page(
        request,
        "admin/approvals.html",
        title=N_("Sign-ups awaiting approval"),
        section=BASE,
        status=409 if error else 200,
        error=error,
        rows=[r for r in rows if r.user is not None],
        older=f"{BASE}?max_id={rows[-1].account.id}" if len(rows) == _PAGE else "",
    )


@admin_page
async def approvals_page(request: web.Request, admin: Admin) -> web.Response:
    return await _queue(request, admin)


@admin_page
async def approve_page(request: web.Request, admin: Admin) -> web.Response:
    ctx = ctx_of(request)
    try:
        row = await registrations.approve(ctx, admin.account, path_id(request))
    except Forbidden:
        return await _not_pending(request, admin)
    poke_mail(request.app)
    raise done(BASE, "account_approved", f"@{row.account.username}")


@admin_page
async def reject_page(request: web.Request, admin: Admin) -> web.Response:
    ctx = ctx_of(request)
    row = await admin_service.account_row(ctx, path_id(request))
    try:
        await admin_service.reject(ctx, admin.account, row.account.id)
    except Forbidden:
        return await _not_pending(request, admin)
    raise done(BASE, "account_rejected", f"@{row.account.username}")


async def _not_pending(request: web.Request, admin: Admin) -> web.Response:
    t = await page_translator(request)
    return await _queue(request, admin, error=t(NOT_PENDING))


ROUTES: tuple[tuple[str, str, Any], ...] = (
    ("GET", BASE, approvals_page),
    ("POST", r"/admin/accounts/{id:\d+}/approve", approve_page),
    ("POST", r"/admin/accounts/{id:\d+}/reject", reject_page),
)
