"""/api/v1/timelines/{home,public,tag/:hashtag}."""

from __future__ import annotations

from aiohttp import web

from fedinode.api.auth import authenticated, require_scopes, viewer_account, viewer_id
from fedinode.api.pages import entries_json
from fedinode.api.params import (
    ctx_of,
    page_from,
    paged_json_response,
    read_params,
)
from fedinode.services import timelines as svc


@require_scopes("read:statuses")
async def home_timeline(request: web.Request) -> web.Response:
    params = await read_params(request)
    ctx = ctx_of(request)
    page = page_from(params)
    account = viewer_account(request)
    entries = await svc.home(ctx, account.id, page)
    return paged_json_response(
        request,
        await entries_json(ctx, entries, account.id, "home"),
        [e.id for e in entries],
        page,
    )


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
    entries = await svc.public_entries(
        ctx,
        viewer,
        page,
        local=_locality(params.bool("local"), params.bool("remote")),
        only_media=params.bool("only_media"),
    )
    body = await entries_json(ctx, entries, viewer, "public")
    return paged_json_response(request, body, [e.id for e in entries], page)


@authenticated(optional=True, scopes=("read:statuses",))
async def tag_timeline(request: web.Request) -> web.Response:
    params = await read_params(request)
    ctx = ctx_of(request)
    page = page_from(params)
    viewer = viewer_id(request)
    entries = await svc.tag_entries(
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
    body = await entries_json(ctx, entries, viewer, "public")
    return paged_json_response(request, body, [e.id for e in entries], page)
