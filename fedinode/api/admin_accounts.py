"""/api/v1/admin/accounts and /api/v2/admin/accounts: moderation of accounts (admins only)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from fedinode.api import schemas
from fedinode.api.auth import Handler, principal, require_scopes, viewer_account
from fedinode.api.params import (
    Params,
    ctx_of,
    json_response,
    link_header,
    page_from,
    path_id,
    read_params,
)
from fedinode.mail import poke_mail
from fedinode.services import admin as svc
from fedinode.services import registrations
from storage.models import AccountActionUndo, AccountStatus
from storage.moderation import AccountFilter, AdminAccountRow

if TYPE_CHECKING:
    from fedinode.api import entities

READ = ("admin:read:accounts",)
WRITE = ("admin:write:accounts",)


def _id(request: web.Request) -> int:
    return path_id(request)


def render(row: AdminAccountRow, base_url: str) -> entities.AdminAccount:
    return schemas.admin_account_to_api(row.account, row.user, row.sensitized, base_url)


_V1_STATUSES = (
    AccountStatus.PENDING,
    AccountStatus.DISABLED,
    AccountStatus.SILENCED,
    AccountStatus.SUSPENDED,
    AccountStatus.SENSITIZED,
    AccountStatus.ACTIVE,
)
# Mastodon's v2 ``status`` has no ``sensitized``.
_V2_STATUSES = frozenset(AccountStatus) - {AccountStatus.SENSITIZED}


def _filter_v1(params: Params) -> AccountFilter:
    origin = None
    if params.bool("local") and not params.bool("remote"):
        origin = "local"
    elif params.bool("remote") and not params.bool("local"):
        origin = "remote"
    # v1 takes each state as a flag; the first one set wins.
    status = next((state for state in _V1_STATUSES if params.bool(state)), None)
    return AccountFilter(
        origin=origin,
        status=status,
        staff=params.bool("staff"),
        by_domain=params.str("by_domain"),
        username=params.str("username"),
        display_name=params.str("display_name"),
        email=params.str("email"),
    )


def _filter_v2(params: Params) -> AccountFilter:
    origin = params.str("origin")
    status = params.str("status")
    return AccountFilter(
        origin=origin if origin in ("local", "remote") else None,
        status=AccountStatus(status) if status in _V2_STATUSES else None,
        staff=params.str("permissions") == "staff",
        by_domain=params.str("by_domain"),
        username=params.str("username"),
        display_name=params.str("display_name"),
        email=params.str("email"),
    )


async def _list(request: web.Request, v2: bool) -> web.Response:
    svc.require_admin(principal(request).user)
    ctx = ctx_of(request)
    params = await read_params(request)
    page = page_from(params, default_limit=100, max_limit=200)
    flt = _filter_v2(params) if v2 else _filter_v1(params)
    rows = await ctx.store.moderation.accounts(flt, page)
    return json_response(
        [render(r, ctx.config.base_url) for r in rows],
        headers=link_header(request, [r.account.id for r in rows], page),
    )


@require_scopes(*READ)
async def list_accounts_v1(request: web.Request) -> web.Response:
    return await _list(request, v2=False)


@require_scopes(*READ)
async def list_accounts_v2(request: web.Request) -> web.Response:
    return await _list(request, v2=True)


@require_scopes(*READ)
async def get_account(request: web.Request) -> web.Response:
    svc.require_admin(principal(request).user)
    ctx = ctx_of(request)
    return json_response(render(await svc.account_row(ctx, _id(request)), ctx.config.base_url))


@require_scopes(*WRITE)
async def approve_account(request: web.Request) -> web.Response:
    svc.require_admin(principal(request).user)
    ctx = ctx_of(request)
    row = await registrations.approve(ctx, viewer_account(request), _id(request))
    poke_mail(request.app)
    return json_response(render(row, ctx.config.base_url))


@require_scopes(*WRITE)
async def reject_account(request: web.Request) -> web.Response:
    svc.require_admin(principal(request).user)
    ctx = ctx_of(request)
    row = await svc.account_row(ctx, _id(request))
    body = render(row, ctx.config.base_url)
    await svc.reject(ctx, viewer_account(request), row.account.id)
    return json_response(body)


@require_scopes(*WRITE)
async def delete_account(request: web.Request) -> web.Response:
    """Erase a suspended account's data; the (suspended) account itself remains."""
    svc.require_admin(principal(request).user)
    ctx = ctx_of(request)
    row = await svc.delete_data(ctx, viewer_account(request), _id(request))
    return json_response(render(row, ctx.config.base_url))


@require_scopes(*WRITE)
async def account_action(request: web.Request) -> web.Response:
    svc.require_admin(principal(request).user)
    ctx = ctx_of(request)
    params = await read_params(request)
    await svc.act(
        ctx,
        viewer_account(request),
        _id(request),
        params.str("type"),
        report_id=params.id("report_id"),
        text=params.str("text") or "",
    )
    return json_response(schemas.empty_to_api())


def _undo(what: AccountActionUndo) -> Handler:
    @require_scopes(*WRITE)
    async def handler(request: web.Request) -> web.Response:
        svc.require_admin(principal(request).user)
        ctx = ctx_of(request)
        row = await svc.undo(ctx, viewer_account(request), _id(request), what)
        return json_response(render(row, ctx.config.base_url))

    handler.__name__ = f"{what.value}_account"
    return handler


enable_account = _undo(AccountActionUndo.ENABLE)
unsilence_account = _undo(AccountActionUndo.UNSILENCE)
unsuspend_account = _undo(AccountActionUndo.UNSUSPEND)
unsensitive_account = _undo(AccountActionUndo.UNSENSITIVE)
