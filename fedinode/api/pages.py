"""A timeline page's body from its rows (``TimelineEntry``): joined from the encodings the
render cache keeps with each status version when it can, else rendered."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from fedinode.api import schemas
from fedinode.services.context import Ctx
from fedinode.services.filters import filter_views, load_filter_set
from fedinode.services.render_cache import entry_views, render_cache
from storage.timelines import TimelineEntry


async def entries_json(
    ctx: Ctx, entries: Sequence[TimelineEntry], viewer_id: int | None, context: str
) -> bytes:
    """The page's JSON for the viewer (None: signed out). Without filters, each row as kept from an earlier
    page (``kept_rows``) and only the others rendered (a reblog, a poll, a version or marks
    not seen yet); with filters, every row rendered and filtered for ``context`` (``home``,
    ``public``…)."""
    store = ctx.store
    filters = await load_filter_set(store, viewer_id)
    if filters:
        views = await entry_views(store, entries, viewer_id)
        views = await filter_views(store, viewer_id, context, views, filters=filters)
        return schemas.statuses_to_json(views, ctx.config, viewer_id)
    kept, not_kept = schemas.kept_rows(entries, render_cache(store), viewer_id)
    if not not_kept:
        return schemas.json_array(cast("list[bytes]", kept))
    shown = [e for e in entries if e.shown]
    missing = [e for e, encoded in zip(shown, kept, strict=True) if encoded is None]
    # A row whose status or author went meanwhile has no view: left out, as entry_views does.
    rendered = {v.status.id: v for v in await entry_views(store, missing, viewer_id)}
    parts = []
    for e, encoded in zip(shown, kept, strict=True):
        if encoded is None:
            view = rendered.get(e.id)
            if view is None:
                continue
            encoded = schemas.status_json(view, ctx.config, viewer_id)
        parts.append(encoded)
    return schemas.json_array(parts)
