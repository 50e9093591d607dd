"""Admin pages for the first-contact quarantine: the hosts waiting (or decided), what one
host sent, release (its activities are processed in order) or reject (dropped, suspended)."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from fedinode import appkeys
from fedinode.errors import ValidationFailed
from fedinode.federation import FEDERATION_SETTINGS
from fedinode.services import quarantine as service
from fedinode.web.admin.panel import Admin, admin_page, done, failure, page
from fedinode.web.i18n import N_
from fedinode.web.policy_words import QUARANTINE_STATES

BASE = "/admin/quarantine"


def _wake(request: web.Request) -> Any:
    fed = request.app.get(appkeys.FEDERATION)
    return fed.inbox_wake.set if fed is not None else (lambda: None)


def _pretty(payload: str) -> str:
    try:
        return orjson.dumps(orjson.loads(payload), option=orjson.OPT_INDENT_2).decode()
    except orjson.JSONDecodeError:
        return payload


async def _list(request: web.Request, admin: Admin, *, error: str = "", status: int = 200) -> web.Response:
    state = admin.params.str("state") or "held"
    if state not in service.STATES:
        state = "held"
    views = await service.list_hosts(
        request.app[appkeys.STORE], request.app[FEDERATION_SETTINGS], state
    )
    return await page(
        request,
        "admin/quarantine.html",
        title=N_("Quarantine"),
        section=BASE,
        error=error,
        status=status,
        state=state,
        states=QUARANTINE_STATES,
        views=views,
        first_contact=request.app[appkeys.CONFIG].federation.first_contact,
    )


@admin_page
async def quarantine_page(request: web.Request, admin: Admin) -> web.Response:
    return await _list(request, admin)


@admin_page
async def host_page(request: web.Request, admin: Admin) -> web.Response:
    try:
        view, activities = await service.get_host(
            request.app[appkeys.STORE], request.app[FEDERATION_SETTINGS], request.match_info["host"]
        )
    except ValidationFailed as exc:
        return await _list(request, admin, error=failure(exc), status=422)
    return await page(
        request,
        "admin/quarantine_host.html",
        title=N_("Held from {host}"),
        title_values={"host": view.row.host},
        section=BASE,
        view=view,
        states=QUARANTINE_STATES,
        activities=[(a, _pretty(a.payload)) for a in activities],
    )


@admin_page
async def release_host(request: web.Request, admin: Admin) -> web.Response:
    try:
        decided = await service.release(
            request.app[appkeys.STORE],
            request.app[appkeys.POLICY],
            request.match_info["host"],
            by=admin.name,
            wake=_wake(request),
        )
    except ValidationFailed as exc:
        return await _list(request, admin, error=failure(exc), status=422)
    raise done(BASE, "released", decided.host)


@admin_page
async def reject_host(request: web.Request, admin: Admin) -> web.Response:
    try:
        decided = await service.reject(
            request.app[appkeys.STORE],
            request.app[appkeys.POLICY],
            request.match_info["host"],
            by=admin.name,
        )
    except ValidationFailed as exc:
        return await _list(request, admin, error=failure(exc), status=422)
    raise done(BASE, "rejected", decided.host)


_HOST = "/{host:[^/]+}"
ROUTES: tuple[tuple[str, str, Any], ...] = (
    ("GET", BASE, quarantine_page),
    ("GET", BASE + _HOST, host_page),
    ("POST", BASE + _HOST + "/release", release_host),
    ("POST", BASE + _HOST + "/reject", reject_host),
)
