"""Admin API of the first-contact quarantine (fedinode's):

- ``GET /api/v1/admin/quarantine?state=held|released|rejected|all`` — hosts, oldest first
- ``GET /api/v1/admin/quarantine/{host}`` — one host and what it sent, in arrival order
- ``POST /api/v1/admin/quarantine/{host}/release`` — process what it sent, let it in
- ``POST /api/v1/admin/quarantine/{host}/reject`` — drop what it sent, suspend it

An admin user's token with ``admin:read`` / ``admin:write`` (or the domain-allow scopes,
the nearest Mastodon has to "let this server in").
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from fedinode import appkeys
from fedinode.api.admin_domains import admin
from fedinode.api.auth import principal
from fedinode.api.params import json_response, read_params
from fedinode.api.schemas.quarantine import (
    held_activity_to_api,
    quarantine_decision_to_api,
    quarantine_host_to_api,
)
from fedinode.federation import FEDERATION_SETTINGS
from fedinode.services import quarantine as service

_READ = ("admin:read", "admin:read:domain_allows")
_WRITE = ("admin:write", "admin:write:domain_allows")


def _admin_name(request: web.Request) -> str:
    account = principal(request).account
    return account.username if account is not None else "admin"


def _wake(request: web.Request) -> Any:
    fed = request.app.get(appkeys.FEDERATION)
    return fed.inbox_wake.set if fed is not None else (lambda: None)


@admin(*_READ)
async def list_quarantine(request: web.Request) -> web.Response:
    params = await read_params(request)
    views = await service.list_hosts(
        request.app[appkeys.STORE],
        request.app[FEDERATION_SETTINGS],
        params.str("state") or "held",
    )
    return json_response([quarantine_host_to_api(v) for v in views])


@admin(*_READ)
async def get_quarantined_host(request: web.Request) -> web.Response:
    view, activities = await service.get_host(
        request.app[appkeys.STORE], request.app[FEDERATION_SETTINGS], request.match_info["host"]
    )
    body = quarantine_host_to_api(view)
    body["activities"] = [held_activity_to_api(a) for a in activities]
    return json_response(body)


@admin(*_WRITE)
async def release_host(request: web.Request) -> web.Response:
    decided = await service.release(
        request.app[appkeys.STORE],
        request.app[appkeys.POLICY],
        request.match_info["host"],
        by=_admin_name(request),
        wake=_wake(request),
    )
    return json_response(quarantine_decision_to_api(decided))


@admin(*_WRITE)
async def reject_host(request: web.Request) -> web.Response:
    decided = await service.reject(
        request.app[appkeys.STORE],
        request.app[appkeys.POLICY],
        request.match_info["host"],
        by=_admin_name(request),
    )
    return json_response(quarantine_decision_to_api(decided))


_BASE = "/api/v1/admin/quarantine"
_HOST = "/{host:[^/]+}"
ROUTES: tuple[tuple[str, str, Any], ...] = (
    ("GET", _BASE, list_quarantine),
    ("GET", _BASE + _HOST, get_quarantined_host),
    ("POST", _BASE + _HOST + "/release", release_host),
    ("POST", _BASE + _HOST + "/reject", reject_host),
)
