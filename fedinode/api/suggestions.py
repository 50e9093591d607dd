"""/api/v2/suggestions (and v1): accounts followed by those you follow, then popular locals."""

from __future__ import annotations

from aiohttp import web

from fedinode.api import schemas
from fedinode.api.auth import require_scopes, viewer_account
from fedinode.api.params import ctx_of, json_response, path_id, read_params
from fedinode.errors import NotFoundError
from storage.models import Account


async def _suggest(request: web.Request) -> list[tuple[str, Account]]:
    ctx = ctx_of(request)
    params = await read_params(request)
    limit = max(1, min(params.int("limit", 40) or 40, 80))
    account = viewer_account(request)
    friends = await ctx.store.search.friends_of_friends(account.id, limit=limit)
    out: list[tuple[str, Account]] = [("friends_of_friends", a) for a in friends]
    if len(out) < limit:
        seen = {a.id for a in friends}
        popular = await ctx.store.search.popular_local(account.id, limit=limit)
        out += [("most_followed", a) for a in popular if a.id not in seen][: limit - len(out)]
    return out


@require_scopes("read")
async def suggestions_v2(request: web.Request) -> web.Response:
    base = ctx_of(request).config.base_url
    pairs = await _suggest(request)
    return json_response([schemas.suggestion_to_api(src, a, base) for src, a in pairs])


@require_scopes("read")
async def suggestions_v1(request: web.Request) -> web.Response:
    base = ctx_of(request).config.base_url
    pairs = await _suggest(request)
    return json_response([schemas.account_to_api(a, base) for _, a in pairs])


@require_scopes("read")
async def dismiss_suggestion(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    target = await ctx.store.accounts.get(path_id(request, "account_id"))
    if target is None:
        raise NotFoundError()
    await ctx.store.search.dismiss_suggestion(viewer_account(request).id, target.id)
    return json_response(schemas.empty_to_api())
