"""Timelines: home, public (local / remote / media), hashtag; visibility applied exactly."""

from __future__ import annotations

from collections.abc import Sequence

from fedinode.services.context import Ctx
from fedinode.services.render_cache import entry_views
from fedinode.services.views import StatusView, load_status_views
from policy.text import tag_key
from storage.models import OPEN_VISIBILITIES, Status
from storage.paging import Page
from storage.timelines import TimelineEntry


async def drop_hidden(ctx: Ctx, statuses: Sequence[Status], viewer_id: int | None) -> list[Status]:
    """Remove reblogs whose original the viewer may not see, or whose author the viewer
    blocks, is blocked by or mutes (the SQL already applied this to the rebloggers)."""
    reblogs = [s for s in statuses if s.reblog_of_id is not None]
    if not reblogs:
        return list(statuses)
    targets = await ctx.store.statuses.get_many([s.reblog_of_id for s in reblogs if s.reblog_of_id])
    hidden: set[int] = set()
    if viewer_id is not None:
        hidden = await ctx.store.relationships.hidden_authors(
            viewer_id, [t.account_id for t in targets.values()]
        )
    out = []
    for s in statuses:
        if s.reblog_of_id is not None:
            t = targets.get(s.reblog_of_id)
            if t is None or t.account_id in hidden:
                continue
            if t.visibility not in OPEN_VISIBILITIES and not await ctx.store.statuses.visible_to(
                t, viewer_id
            ):
                continue
        out.append(s)
    return out


async def home(ctx: Ctx, viewer_id: int, page: Page) -> list[TimelineEntry]:
    # One query: the page is read through the viewer's home feed (fan-out on write).
    return await ctx.store.timelines.home_entries(viewer_id, page)


async def public_entries(
    ctx: Ctx,
    viewer_id: int | None,
    page: Page,
    *,
    local: bool | None,
    only_media: bool,
) -> list[TimelineEntry]:
    # One query for the page; its rows are rendered (or joined from kept encodings) after.
    return await ctx.store.timelines.public_entries(
        viewer_id,
        page,
        local=local,
        only_media=only_media,
        exclude_domains=await _limited_domains(ctx, local),
    )


async def views_of(
    ctx: Ctx, entries: Sequence[TimelineEntry], viewer_id: int | None
) -> tuple[list[StatusView], list[int]]:
    """A page's rows as views, rendered from the cache of what each status version shows,
    and the page's ids (for its links): for the HTML pages; the API joins kept encodings."""
    return await entry_views(ctx.store, entries, viewer_id), [e.id for e in entries]


async def tag_entries(
    ctx: Ctx,
    viewer_id: int | None,
    name: str,
    page: Page,
    *,
    any_: Sequence[str],
    all_: Sequence[str],
    none: Sequence[str],
    local: bool | None,
    only_media: bool,
) -> list[TimelineEntry]:
    return await ctx.store.timelines.tag_entries(
        viewer_id,
        [tag_key(t) for t in (name, *any_)],
        page,
        tags_all=[tag_key(t) for t in all_],
        tags_none=[tag_key(t) for t in none],
        local=local,
        only_media=only_media,
        exclude_domains=await _limited_domains(ctx, local),
    )


async def _limited_domains(ctx: Ctx, local: bool | None) -> Sequence[str]:
    """Peers whose posts the policy keeps out of public timelines (silence and the like)."""
    if local is True or ctx.policy is None:
        return ()
    return sorted(await ctx.policy.limited_domains())


async def marked(
    ctx: Ctx, viewer_id: int, table: str, page: Page
) -> tuple[list[StatusView], list[int]]:
    """The viewer's favourites or bookmarks, newest mark first; paged by the mark's id."""
    rows = await ctx.store.interactions.statuses_marked(table, viewer_id, page)
    visible = []
    for _, s in rows:
        if await ctx.store.statuses.visible_to(s, viewer_id):
            visible.append(s)
    return await load_status_views(ctx.store, visible, viewer_id), [k for k, _ in rows]
