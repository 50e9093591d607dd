"""The panel's first page: what waits for an admin, and how the federation is set."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from fedinode import appkeys
from fedinode.api.params import ctx_of
from fedinode.federation import FEDERATION_SETTINGS
from fedinode.services import admin as admin_service
from fedinode.services import policy_lists
from fedinode.services import quarantine as quarantine_service
from fedinode.web.admin.approvals import pending
from fedinode.web.admin.panel import Admin, admin_page, page
from fedinode.web.i18n import N_
from storage.moderation import ReportFilter
from storage.paging import Page

_OPEN_REPORTS_SHOWN = 100
_PENDING_SHOWN = 100


@admin_page
async def overview_page(request: web.Request, admin: Admin) -> web.Response:
    store = request.app[appkeys.STORE]
    gate = request.app[appkeys.POLICY]
    config = request.app[appkeys.CONFIG]
    held = await quarantine_service.list_hosts(store, request.app[FEDERATION_SETTINGS], "held")
    drafts = await policy_lists.list_drafts(store)
    reports = await admin_service.reports(
        ctx_of(request), ReportFilter(resolved=False), Page(limit=_OPEN_REPORTS_SHOWN)
    )
    waiting = await pending(ctx_of(request), _PENDING_SHOWN)
    settings = gate.settings
    return await page(
        request,
        "admin/overview.html",
        title=N_("Administration"),
        section="/admin",
        admin_name=admin.name,
        held=len(held),
        drafts=len(drafts),
        reports=len(reports),
        reports_more=len(reports) == _OPEN_REPORTS_SHOWN,
        pending=len(waiting),
        pending_more=len(waiting) == _PENDING_SHOWN,
        approval=config.instance.registrations == "approval",
        blocks=len(settings.domain_blocks),
        allows=len(settings.domain_allows),
        mode=settings.mode,
        dry_run=settings.dry_run,
        first_contact=config.federation.first_contact,
    )


ROUTES: tuple[tuple[str, str, Any], ...] = (("GET", "/admin", overview_page),)
