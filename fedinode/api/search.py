"""/api/v2/search."""

from __future__ import annotations

from aiohttp import web

from fedinode.api import schemas
from fedinode.api.auth import authenticated, current_cached
from fedinode.api.params import ctx_of, json_response, read_params
from fedinode.errors import ValidationFailed
from fedinode.services import search as svc


@authenticated(optional=True, scopes=("read:search",))
async def search_v2(request: web.Request) -> web.Response:
    params = await read_params(request)
    ctx = ctx_of(request)
    who = current_cached(request)
    viewer = who.account if who is not None else None
    kind = params.str("type")
    if kind is not None and kind not in svc.TYPES:
        kind = None
    limit = max(1, min(params.int("limit", 20) or 20, 40))
    offset = max(0, params.int("offset", 0) or 0)
    if viewer is None and offset:
        raise ValidationFailed("Search queries with an offset require authentication")
    query = svc.SearchQuery(
        q=params.str("q") or "",
        type=kind,
        resolve=params.bool("resolve"),
        following=params.bool("following"),
        account_id=params.id("account_id"),
        max_id=params.id("max_id"),
        min_id=params.id("min_id"),
        limit=limit,
        offset=offset,
    )
    found = await svc.search_page(ctx, viewer, query)
    viewer_id = viewer.id if viewer is not None else None
    return json_response(schemas.search_to_api(found, ctx.config, viewer_id))
