"""Admin pages for subscriptions to other instances' policy lists and the drafts they
leave for review: subscribe, sync now, unsubscribe; accept or reject a draft."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from fedinode import appkeys
from fedinode.api.params import path_id
from fedinode.errors import ValidationFailed
from fedinode.services import policy_lists as service
from fedinode.web.admin.panel import Admin, admin_page, done, failure, page
from fedinode.web.i18n import N_
from fedinode.web.policy_words import MODE_NAMES, SEVERITY_NAMES
from policy.settings import SEVERITIES

BASE = "/admin/subscriptions"
DRAFTS = "/admin/drafts"
_EMPTY_FORM: dict[str, Any] = {
    "url": "",
    "title": "",
    "mode": "review",
    "priority": 0,
    "excludes": "",
    "severities": list(SEVERITIES),
    "allow_unsigned": False,
}


async def _page(
    request: web.Request,
    admin: Admin,
    *,
    error: str = "",
    status: int = 200,
    values: dict[str, Any] | None = None,
) -> web.Response:
    store = request.app[appkeys.STORE]
    subs = await service.list_subscriptions(store)
    drafts = await service.list_drafts(store)
    return await page(
        request,
        "admin/subscriptions.html",
        title=N_("Subscriptions"),
        section=BASE,
        error=error,
        status=status,
        subs=subs,
        urls={s.id: s.url for s in subs},
        drafts=drafts,
        modes=MODE_NAMES,
        severity_names=SEVERITY_NAMES,
        severities=SEVERITIES,
        values=values or _EMPTY_FORM,
        federating=request.app.get(appkeys.FEDERATION) is not None,
    )


@admin_page
async def subscriptions_page(request: web.Request, admin: Admin) -> web.Response:
    return await _page(request, admin)


@admin_page
async def create_subscription(request: web.Request, admin: Admin) -> web.Response:
    params = admin.params
    severities = params.str_list("severities")
    values: dict[str, Any] = {
        "url": (params.str("url") or "").strip(),
        "title": (params.str("title") or "").strip(),
        "mode": params.str("mode") or "review",
        "priority": params.str("priority") or "0",
        "excludes": params.str("excludes") or "",
        "severities": severities,
        "allow_unsigned": params.bool("allow_unsigned"),
    }
    try:
        priority = int(values["priority"])
    except ValueError:
        error = "priority: expected an integer from 0 to 255"
        return await _page(request, admin, error=error, status=422, values=values)
    try:
        spec = service.clean_spec(
            {
                "url": values["url"],
                "title": values["title"],
                "mode": values["mode"],
                "priority": priority,
                "excludes": [x for x in values["excludes"].replace(",", " ").split() if x],
                "severities": severities,
                "allow_unsigned": values["allow_unsigned"],
            }
        )
        row = await service.create_subscription(request.app[appkeys.STORE], spec)
    except ValidationFailed as exc:
        return await _page(request, admin, error=failure(exc), status=422, values=values)
    raise done(BASE, "subscribed", row.url)


@admin_page
async def sync_subscription(request: web.Request, admin: Admin) -> web.Response:
    store = request.app[appkeys.STORE]
    row = await service.get_subscription(store, path_id(request))
    fed = request.app.get(appkeys.FEDERATION)
    if fed is None:
        return await _page(request, admin, error="federation is not running", status=503)
    result = await service.sync(store, request.app[appkeys.POLICY], fed.fetcher, row)
    if not result.ok:
        return await _page(request, admin, error=f"{row.url}: {result.error}", status=422)
    raise done(BASE, "synced", row.url)


@admin_page
async def delete_subscription(request: web.Request, admin: Admin) -> web.Response:
    try:
        row = await service.delete_subscription(request.app[appkeys.STORE], path_id(request))
    except ValidationFailed as exc:
        return await _page(request, admin, error=failure(exc), status=422)
    raise done(BASE, "unsubscribed", row.url)


@admin_page
async def accept_draft(request: web.Request, admin: Admin) -> web.Response:
    try:
        row = await service.accept_draft(
            request.app[appkeys.STORE], request.app[appkeys.POLICY], path_id(request)
        )
    except ValidationFailed as exc:
        return await _page(request, admin, error=failure(exc), status=422)
    raise done(BASE, "draft_accepted", row.domain)


@admin_page
async def reject_draft(request: web.Request, admin: Admin) -> web.Response:
    row = await service.reject_draft(request.app[appkeys.STORE], path_id(request))
    raise done(BASE, "draft_rejected", row.domain)


_ID = r"/{id:\d+}"
ROUTES: tuple[tuple[str, str, Any], ...] = (
    ("GET", BASE, subscriptions_page),
    ("POST", BASE, create_subscription),
    ("POST", BASE + _ID + "/sync", sync_subscription),
    ("POST", BASE + _ID + "/delete", delete_subscription),
    ("POST", DRAFTS + _ID + "/accept", accept_draft),
    ("POST", DRAFTS + _ID + "/reject", reject_draft),
)
