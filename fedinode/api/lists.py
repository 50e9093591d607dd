"""/api/v1/lists, their members, /api/v1/timelines/list/:id and /api/v1/accounts/:id/lists."""

from __future__ import annotations

from aiohttp import web

from fedinode.api import schemas
from fedinode.api.auth import require_scopes, viewer_account
from fedinode.api.pages import entries_json
from fedinode.api.params import (
    ctx_of,
    json_response,
    link_header,
    page_from,
    paged_json_response,
    path_id,
    read_params,
)
from fedinode.errors import NotFoundError
from fedinode.services import lists as svc
from storage.paging import Page


def _id(request: web.Request, name: str = "id") -> int:
    return path_id(request, name)


@require_scopes("read:lists")
async def get_lists(request: web.Request) -> web.Response:
    rows = await ctx_of(request).store.lists.all(viewer_account(request).id)
    return json_response([schemas.list_to_api(r) for r in rows])


@require_scopes("read:lists")
async def get_list(request: web.Request) -> web.Response:
    row = await svc.own_list(ctx_of(request), viewer_account(request), _id(request))
    return json_response(schemas.list_to_api(row))


@require_scopes("write:lists")
async def create_list(request: web.Request) -> web.Response:
    params = await read_params(request)
    row = await svc.create(
        ctx_of(request),
        viewer_account(request),
        params.str("title"),
        params.str("replies_policy"),
        params.bool("exclusive"),
    )
    return json_response(schemas.list_to_api(row))


@require_scopes("write:lists")
async def update_list(request: web.Request) -> web.Response:
    params = await read_params(request)
    row = await svc.update(
        ctx_of(request),
        viewer_account(request),
        _id(request),
        title=params.str("title"),
        replies_policy=params.str("replies_policy"),
        exclusive=params.opt_bool("exclusive"),
    )
    return json_response(schemas.list_to_api(row))


@require_scopes("write:lists")
async def delete_list(request: web.Request) -> web.Response:
    await svc.delete(ctx_of(request), viewer_account(request), _id(request))
    return json_response(schemas.empty_to_api())


@require_scopes("read:lists")
async def list_accounts(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    params = await read_params(request)
    row = await svc.own_list(ctx, viewer_account(request), _id(request))
    limit = params.int("limit", 40)
    # limit=0 means every member, as in Mastodon.
    page = Page(
        max_id=params.id("max_id"),
        since_id=params.id("since_id"),
        min_id=params.id("min_id"),
        limit=0 if limit == 0 else max(1, min(limit or 40, 80)),
    )
    accounts = await ctx.store.lists.accounts(row.id, page)
    data = [schemas.account_to_api(a, ctx.config.base_url) for a in accounts]
    headers = link_header(request, [a.id for a in accounts], page) if page.limit else {}
    return json_response(data, headers=headers)


@require_scopes("write:lists")
async def add_list_accounts(request: web.Request) -> web.Response:
    params = await read_params(request)
    await svc.add_accounts(
        ctx_of(request), viewer_account(request), _id(request), params.id_list("account_ids")
    )
    return json_response(schemas.empty_to_api())


@require_scopes("write:lists")
async def remove_list_accounts(request: web.Request) -> web.Response:
    params = await read_params(request)
    await svc.remove_accounts(
        ctx_of(request), viewer_account(request), _id(request), params.id_list("account_ids")
    )
    return json_response(schemas.empty_to_api())


@require_scopes("read:lists")
async def list_timeline(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    params = await read_params(request)
    page = page_from(params)
    account = viewer_account(request)
    entries = await svc.timeline(ctx, account, _id(request), page)
    # Lists filter as the home timeline does.
    body = await entries_json(ctx, entries, account.id, "home")
    return paged_json_response(request, body, [e.id for e in entries], page)


@require_scopes("read:lists")
async def account_lists(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    target = _id(request)
    if target is None or await ctx.store.accounts.get(target) is None:
        raise NotFoundError()
    rows = await ctx.store.lists.containing(viewer_account(request).id, target)
    return json_response([schemas.list_to_api(r) for r in rows])
