"""/api/v1/timelines/{home,public,tag/:hashtag}."""

from __future__ import annotations

from collections.abc import Sequence

from aiohttp import web

from fedinode.api import schemas
from fedinode.api.auth import authenticated, require_scopes, viewer_account, viewer_id
from fedinode.api.params import (
    ctx_of,
    page_from,
    paged_json_response,
    paged_response,
    read_params,
)
from fedinode.services import timelines as svc
from fedinode.services.context import Ctx
from fedinode.services.filters import filter_views, load_filter_set
from fedinode.services.render_cache import entry_views, render_cache
from storage.timelines import TimelineEntry


@require_scopes("read:statuses")
async def home_timeline(request: web.Request) -> web.Response:
    params = await read_params(request)
    ctx = ctx_of(request)
    page = page_from(params)
    account = viewer_account(request)
    entries = await svc.home(ctx, account.id, page)
    return paged_json_response(
        request,
        await _entries_json(ctx, entries, account.id, "home"),
        [e.id for e in entries],
        page,
    )


async def _entries_json(
    ctx: Ctx, entries: Sequence[TimelineEntry], viewer_id: int, context: str
) -> bytes:
    """A page's JSON: joined from the encodings the render cache keeps with each status
    version when the viewer has no filters and every row has one (a page asked again), else
    from the views built, filtered for ``context`` and encoded."""
    filters = await load_filter_set(ctx.store, viewer_id)
    if not filters:
        body = schemas.entries_to_json(entries, render_cache(ctx.store).get, viewer_id)
        if body is not None:
            return body
    views = await entry_views(ctx.store, entries, viewer_id)
    views = await filter_views(ctx.store, viewer_id, context, views, filters=filters)
    return schemas.statuses_to_json(views, ctx.config, viewer_id)


def _locality(local: bool, remote: bool) -> bool | None:
    if local and not remote:
        return True
    if remote and not local:
        return False
    return None


@authenticated(optional=True, scopes=("read:statuses",))
async def public_timeline(request: web.Request) -> web.Response:
    params = await read_params(request)
    ctx = ctx_of(request)
    page = page_from(params)
    viewer = viewer_id(request)
    views, ids = await svc.public(
        ctx,
        viewer,
        page,
        local=_locality(params.bool("local"), params.bool("remote")),
        only_media=params.bool("only_media"),
    )
    views = await filter_views(ctx.store, viewer, "public", views)
    return paged_response(request, schemas.statuses_to_api(views, ctx.config, viewer), ids, page)


@authenticated(optional=True, scopes=("read:statuses",))
async def tag_timeline(request: web.Request) -> web.Response:
    params = await read_params(request)
    ctx = ctx_of(request)
    page = page_from(params)
    viewer = viewer_id(request)
    views, ids = await svc.tag(
        ctx,
        viewer,
        request.match_info["hashtag"],
        page,
        any_=params.str_list("any"),
        all_=params.str_list("all"),
        none=params.str_list("none"),
        local=_locality(params.bool("local"), params.bool("remote")),
        only_media=params.bool("only_media"),
    )
    views = await filter_views(ctx.store, viewer, "public", views)
    return paged_response(request, schemas.statuses_to_api(views, ctx.config, viewer), ids, page)
