"""/api/v1/markers: where the user stopped reading home and notifications."""

from __future__ import annotations

from aiohttp import web

from fedinode.api import schemas
from fedinode.api.auth import require_scopes, viewer_account
from fedinode.api.params import ctx_of, json_response, read_params
from fedinode.errors import ValidationFailed
from storage.models import Marker

TIMELINES = ("home", "notifications")


@require_scopes("read:statuses")
async def get_markers(request: web.Request) -> web.Response:
    params = await read_params(request)
    wanted = [t for t in params.str_list("timeline") if t in TIMELINES]
    markers = await ctx_of(request).store.markers.get(viewer_account(request).id, wanted)
    return json_response(schemas.markers_to_api(markers))


@require_scopes("write:statuses")
async def save_markers(request: web.Request) -> web.Response:
    params = await read_params(request)
    store = ctx_of(request).store
    account = viewer_account(request)
    saved: dict[str, Marker] = {}
    for timeline in TIMELINES:
        last_read = params.sub(timeline).str("last_read_id")
        if last_read is None:
            continue
        if not last_read.isdigit():
            raise ValidationFailed("Validation failed: last_read_id must be an id")
        saved[timeline] = await store.markers.set(account.id, timeline, last_read)
    if not saved:
        raise ValidationFailed("Validation failed: home or notifications last_read_id is required")
    return json_response(schemas.markers_to_api(saved))
