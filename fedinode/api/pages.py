"""A timeline page's body from its rows (``TimelineEntry``): joined from the encodings the
render cache keeps with each status version when it can, else rendered."""

from __future__ import annotations

from collections.abc import Sequence

from fedinode.api import schemas
from fedinode.services.context import Ctx
from fedinode.services.filters import filter_views, load_filter_set
from fedinode.services.render_cache import entry_views, render_cache
from storage.timelines import TimelineEntry


async def entries_json(
    ctx: Ctx, entries: Sequence[TimelineEntry], viewer_id: int, context: str
) -> bytes:
    """The page's JSON for the viewer: joined from the encodings kept with each status
    version when the viewer has no filters and every row has one (a page asked again), else
    from the views built, filtered for ``context`` (``home``, ``public``…) and encoded."""
    filters = await load_filter_set(ctx.store, viewer_id)
    if not filters:
        body = schemas.entries_to_json(entries, render_cache(ctx.store), viewer_id)
        if body is not None:
            return body
    views = await entry_views(ctx.store, entries, viewer_id)
    views = await filter_views(ctx.store, viewer_id, context, views, filters=filters)
    return schemas.statuses_to_json(views, ctx.config, viewer_id)
