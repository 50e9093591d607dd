"""Shared policy lists over HTTP: the published list (public, signed JSON and Mastodon's
CSV), and the admin API for what is published, subscriptions (GoToSocial's
``/api/v1/admin/domain_permission_subscriptions``) and drafts
(``/api/v1/admin/domain_permission_drafts``)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from activitypub.federation import Federation
from activitypub.policy_lists import signed_list
from fedinode import appkeys
from fedinode.api.admin_domains import admin
from fedinode.api.params import Params, json_response, path_id, read_params
from fedinode.api.schemas.policy_lists import (
    adopt_result_to_api,
    draft_to_api,
    list_entry_to_api,
    publish_result_to_api,
    subscription_test_to_api,
    subscription_to_api,
    sync_result_to_api,
)
from fedinode.errors import ValidationFailed
from fedinode.services import policy_lists as service
from fedinode.services.policy import clean_domain
from policy.lists import render_csv

_SPEC_FIELDS = ("title", "mode", "excludes", "severities", "allow_unsigned", "priority")


def _federation(request: web.Request) -> Federation:
    fed = request.app.get(appkeys.FEDERATION)
    if fed is None:
        raise web.HTTPServiceUnavailable(text="federation is not running")
    return fed


# -- the published list (public) ---------------------------------------------------------


async def get_list_json(request: web.Request) -> web.Response:
    """The chosen blocks and allows, signed by the instance actor's Ed25519 key."""
    fed = _federation(request)
    key = fed.list_key
    if key is None:
        raise web.HTTPServiceUnavailable(text="the signing key is not loaded yet")
    entries = await service.published_entries(
        request.app[appkeys.STORE], request.app[appkeys.POLICY]
    )
    doc = signed_list(fed.urls.base + "/policy/list.json", entries, key)
    return json_response(doc, headers={"Cache-Control": "public, max-age=300"})


async def get_list_csv(request: web.Request) -> web.Response:
    """The chosen blocks as Mastodon's domain block CSV (unsigned)."""
    entries = await service.published_entries(
        request.app[appkeys.STORE], request.app[appkeys.POLICY]
    )
    return web.Response(
        text=render_csv(entries),
        content_type="text/csv",
        charset="utf-8",
        headers={"Cache-Control": "public, max-age=300"},
    )


# -- what is published -------------------------------------------------------------------


@admin("admin:read")
async def get_published(request: web.Request) -> web.Response:
    entries = await service.published_entries(
        request.app[appkeys.STORE], request.app[appkeys.POLICY]
    )
    return json_response([list_entry_to_api(e) for e in entries])


async def _publish(request: web.Request, published: bool) -> web.Response:
    params = await read_params(request)
    kind = params.str("permission_type") or params.str("kind") or "block"
    domain = None if params.bool("all") else (params.str("domain") or "")
    changed = await service.set_published(
        request.app[appkeys.STORE], request.app[appkeys.POLICY], kind, domain, published
    )
    return json_response(publish_result_to_api(kind, published, changed))


@admin("admin:write")
async def publish(request: web.Request) -> web.Response:
    return await _publish(request, True)


@admin("admin:write")
async def unpublish(request: web.Request) -> web.Response:
    return await _publish(request, False)


@admin("admin:write")
async def adopt(request: web.Request) -> web.Response:
    """Claim a rule a subscription made: it is no longer removed when retracted upstream."""
    params = await read_params(request)
    kind = params.str("permission_type") or "block"
    domain = clean_domain(params.str("domain"))
    adopted = await service.adopt(request.app[appkeys.STORE], kind, domain)
    return json_response(adopt_result_to_api(kind, domain, adopted))


# -- subscriptions -----------------------------------------------------------------------


def _changes(params: Params) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in _SPEC_FIELDS:
        if name not in params:
            continue
        if name in ("excludes", "severities"):
            raw = params.raw(name)
            out[name] = raw if isinstance(raw, list) else params.str_list(name)
        elif name == "allow_unsigned":
            out[name] = params.bool(name)
        elif name == "priority":
            out[name] = params.int(name)
        else:
            out[name] = params.str(name)
    if "as_draft" in params and "mode" not in out:  # GoToSocial's spelling
        out["mode"] = "review" if params.bool("as_draft") else "apply"
    return out


@admin("admin:read")
async def list_subscriptions(request: web.Request) -> web.Response:
    rows = await service.list_subscriptions(request.app[appkeys.STORE])
    return json_response([subscription_to_api(r) for r in rows])


@admin("admin:read")
async def get_subscription(request: web.Request) -> web.Response:
    row = await service.get_subscription(request.app[appkeys.STORE], path_id(request))
    return json_response(subscription_to_api(row))


@admin("admin:write")
async def create_subscription(request: web.Request) -> web.Response:
    params = await read_params(request)
    url = params.str("uri") or params.str("url")
    if not url:
        raise ValidationFailed("Validation failed: uri is required")
    spec = service.clean_spec({"url": url, **_changes(params)})
    row = await service.create_subscription(request.app[appkeys.STORE], spec)
    return json_response(subscription_to_api(row))


@admin("admin:write")
async def update_subscription(request: web.Request) -> web.Response:
    params = await read_params(request)
    row = await service.update_subscription(
        request.app[appkeys.STORE], path_id(request), _changes(params)
    )
    return json_response(subscription_to_api(row))


@admin("admin:write")
async def delete_subscription(request: web.Request) -> web.Response:
    row = await service.delete_subscription(request.app[appkeys.STORE], path_id(request))
    return json_response(subscription_to_api(row))


@admin("admin:write")
async def test_subscription(request: web.Request) -> web.Response:
    """GoToSocial's dry run: fetch and check the list, say what a sync would change."""
    fetched, plan = await service.test_subscription(
        request.app[appkeys.STORE],
        request.app[appkeys.POLICY],
        _federation(request).fetcher,
        path_id(request),
    )
    return json_response(subscription_test_to_api(fetched, plan))


@admin("admin:write")
async def sync_subscription(request: web.Request) -> web.Response:
    """Extension: sync now (the schedule does it hourly)."""
    store = request.app[appkeys.STORE]
    row = await service.get_subscription(store, path_id(request))
    result = await service.sync(
        store, request.app[appkeys.POLICY], _federation(request).fetcher, row
    )
    body = sync_result_to_api(result.subscription, result.changed, result.error)
    return json_response(body, status=200 if result.ok else 422)


# -- drafts ------------------------------------------------------------------------------


async def _draft_json(request: web.Request, rows: list[Any]) -> list[dict[str, Any]]:
    subs = {s.id: s.url for s in await service.list_subscriptions(request.app[appkeys.STORE])}
    return [draft_to_api(r, subs.get(r.subscription_id)) for r in rows]


@admin("admin:read")
async def list_drafts(request: web.Request) -> web.Response:
    params = await read_params(request)
    rows = await service.list_drafts(request.app[appkeys.STORE], params.int("subscription_id"))
    return json_response(await _draft_json(request, rows))


@admin("admin:read")
async def get_draft(request: web.Request) -> web.Response:
    row = await service.get_draft(request.app[appkeys.STORE], path_id(request))
    return json_response((await _draft_json(request, [row]))[0])


@admin("admin:write")
async def accept_draft(request: web.Request) -> web.Response:
    row = await service.accept_draft(
        request.app[appkeys.STORE], request.app[appkeys.POLICY], path_id(request)
    )
    return json_response(draft_to_api(row, None))


@admin("admin:write")
async def remove_draft(request: web.Request) -> web.Response:
    row = await service.reject_draft(request.app[appkeys.STORE], path_id(request))
    return json_response(draft_to_api(row, None))


_SUBS = "/api/v1/admin/domain_permission_subscriptions"
_DRAFTS = "/api/v1/admin/domain_permission_drafts"
_ID = r"/{id:\d+}"
ROUTES: tuple[tuple[str, str, Any], ...] = (
    ("GET", "/policy/list.json", get_list_json),
    ("GET", "/policy/list.csv", get_list_csv),
    ("GET", "/api/v1/admin/policy/published", get_published),
    ("POST", "/api/v1/admin/policy/publish", publish),
    ("POST", "/api/v1/admin/policy/unpublish", unpublish),
    ("POST", "/api/v1/admin/policy/adopt", adopt),
    ("GET", _SUBS, list_subscriptions),
    ("POST", _SUBS, create_subscription),
    ("GET", _SUBS + _ID, get_subscription),
    ("PATCH", _SUBS + _ID, update_subscription),
    ("DELETE", _SUBS + _ID, delete_subscription),
    ("POST", _SUBS + _ID + "/test", test_subscription),
    ("POST", _SUBS + _ID + "/sync", sync_subscription),
    ("GET", _DRAFTS, list_drafts),
    ("GET", _DRAFTS + _ID, get_draft),
    ("POST", _DRAFTS + _ID + "/accept", accept_draft),
    ("POST", _DRAFTS + _ID + "/remove", remove_draft),
)
