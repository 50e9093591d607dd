"""/api/v1/statuses/* and /api/v1/polls/*."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from fedinode.api import schemas
from fedinode.api.auth import authenticated, principal, require_scopes, viewer_account, viewer_id
from fedinode.api.params import (
    Params,
    ctx_of,
    json_response,
    page_from,
    paged_response,
    path_id,
    read_params,
)
from fedinode.services import scheduled_statuses as scheduled_svc
from fedinode.services import statuses as svc
from fedinode.services.render_cache import cached_status_view
from fedinode.services.views import StatusView, load_status_view

if TYPE_CHECKING:
    from fedinode.api import entities


def _status_id(request: web.Request) -> int:
    return path_id(request)


def _input(params: Params) -> svc.StatusInput:
    poll = None
    poll_params = params.sub("poll")
    options = poll_params.str_list("options")
    if options:
        poll = svc.PollInput(
            options=options,
            expires_in=poll_params.int("expires_in", 86400) or 86400,
            multiple=poll_params.bool("multiple"),
            hide_totals=poll_params.bool("hide_totals"),
        )
    return svc.StatusInput(
        text=params.str("status") or "",
        media_ids=params.id_list("media_ids"),
        poll=poll,
        in_reply_to_id=params.id("in_reply_to_id"),
        sensitive=params.bool("sensitive"),
        spoiler_text=params.str("spoiler_text") or "",
        visibility=svc.check_visibility_param(params.str("visibility") or None),
        language=params.str("language") or None,
    )


async def _one(request: web.Request, view: StatusView) -> web.Response:
    ctx = ctx_of(request)
    return json_response(schemas.status_to_api(view, ctx.config, viewer_id(request)))


@require_scopes("write:statuses")
async def post_status(request: web.Request) -> web.Response:
    params = await read_params(request)
    ctx = ctx_of(request)
    account = viewer_account(request)
    scheduled_at = scheduled_svc.parse_scheduled_at(params.str("scheduled_at"))
    if scheduled_at is not None:
        scheduled = await scheduled_svc.schedule_status(
            ctx,
            account,
            _input(params),
            scheduled_at,
            application_id=principal(request).app_id,
            idempotency_key=request.headers.get("Idempotency-Key") or None,
        )
        return json_response(schemas.scheduled_status_to_api(ctx.config, scheduled))
    status = await svc.post_status(
        ctx,
        account,
        _input(params),
        application_id=principal(request).app_id,
        idempotency_key=request.headers.get("Idempotency-Key") or None,
        user=principal(request).user,
    )
    # Through the render cache: the stream's events for this post then find it there.
    return await _one(request, await cached_status_view(ctx.store, status, account.id))


@authenticated(optional=True, scopes=("read:statuses",))
async def get_status(request: web.Request) -> web.Response:
    return await _one(
        request, await svc.get_view(ctx_of(request), _status_id(request), viewer_id(request))
    )


@authenticated(optional=True, scopes=("read:statuses",))
async def get_status_card(request: web.Request) -> web.Response:
    """The status's preview card; ``{}`` while it has none (as Mastodon answered)."""
    ctx = ctx_of(request)
    view = await svc.get_view(ctx, _status_id(request), viewer_id(request))
    if view.card is None:
        return json_response({})
    return json_response(schemas.card_to_api(view.card, ctx.config))


@require_scopes("write:statuses")
async def delete_status(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    view = await svc.delete_status(ctx, viewer_account(request), _status_id(request))
    return json_response(schemas.deleted_status_to_api(view, ctx.config, viewer_id(request)))


@require_scopes("write:statuses")
async def edit_status(request: web.Request) -> web.Response:
    params = await read_params(request)
    ctx = ctx_of(request)
    account = viewer_account(request)
    status = await svc.edit_status(ctx, account, _status_id(request), _input(params))
    return await _one(request, await load_status_view(ctx.store, status, account.id))


@authenticated(optional=True, scopes=("read:statuses",))
async def status_history(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    found = await svc.history(ctx, _status_id(request), viewer_id(request))
    return json_response(schemas.status_history_to_api(found, ctx.config))


@require_scopes("read:statuses")
async def status_source(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    status = await svc.own_status(ctx, viewer_account(request), _status_id(request))
    return json_response(schemas.status_source_to_api(status))


@authenticated(optional=True, scopes=("read:statuses",))
async def status_context(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    viewer = viewer_id(request)
    ancestors, descendants = await svc.context(ctx, _status_id(request), viewer)
    return json_response(schemas.context_to_api(ancestors, descendants, ctx.config, viewer))


async def _who(request: web.Request, table: str) -> web.Response:
    params = await read_params(request)
    page = page_from(params, default_limit=40, max_limit=80)
    ctx = ctx_of(request)
    accounts, ids = await svc.who_interacted(
        ctx, _status_id(request), viewer_id(request), table, page
    )
    return paged_response(
        request, [schemas.account_to_api(a, ctx.config.base_url) for a in accounts], ids, page
    )


@authenticated(optional=True, scopes=("read:accounts",))
async def reblogged_by(request: web.Request) -> web.Response:
    return await _who(request, "reblogs")


@authenticated(optional=True, scopes=("read:accounts",))
async def favourited_by(request: web.Request) -> web.Response:
    return await _who(request, "favourites")


@require_scopes("write:favourites")
async def favourite_status(request: web.Request) -> web.Response:
    return await _one(
        request, await svc.favourite(ctx_of(request), viewer_account(request), _status_id(request))
    )


@require_scopes("write:favourites")
async def unfavourite_status(request: web.Request) -> web.Response:
    return await _one(
        request,
        await svc.unfavourite(ctx_of(request), viewer_account(request), _status_id(request)),
    )


@require_scopes("write:statuses")
async def reblog_status(request: web.Request) -> web.Response:
    params = await read_params(request)
    return await _one(
        request,
        await svc.reblog(
            ctx_of(request), viewer_account(request), _status_id(request), params.str("visibility")
        ),
    )


@require_scopes("write:statuses")
async def unreblog_status(request: web.Request) -> web.Response:
    return await _one(
        request, await svc.unreblog(ctx_of(request), viewer_account(request), _status_id(request))
    )


@require_scopes("write:bookmarks")
async def bookmark_status(request: web.Request) -> web.Response:
    return await _one(
        request,
        await svc.mark(
            ctx_of(request), viewer_account(request), _status_id(request), "bookmarks", True
        ),
    )


@require_scopes("write:bookmarks")
async def unbookmark_status(request: web.Request) -> web.Response:
    return await _one(
        request,
        await svc.mark(
            ctx_of(request), viewer_account(request), _status_id(request), "bookmarks", False
        ),
    )


@require_scopes("write:accounts")
async def pin_status(request: web.Request) -> web.Response:
    return await _one(
        request,
        await svc.mark(
            ctx_of(request), viewer_account(request), _status_id(request), "status_pins", True
        ),
    )


@require_scopes("write:accounts")
async def unpin_status(request: web.Request) -> web.Response:
    return await _one(
        request,
        await svc.mark(
            ctx_of(request), viewer_account(request), _status_id(request), "status_pins", False
        ),
    )


@require_scopes("write:mutes")
async def mute_status(request: web.Request) -> web.Response:
    return await _one(
        request,
        await svc.mute_conversation(
            ctx_of(request), viewer_account(request), _status_id(request), True
        ),
    )


@require_scopes("write:mutes")
async def unmute_status(request: web.Request) -> web.Response:
    return await _one(
        request,
        await svc.mute_conversation(
            ctx_of(request), viewer_account(request), _status_id(request), False
        ),
    )


# -- polls --------------------------------------------------------------------------------


def _poll(request: web.Request, view: StatusView, viewer: int | None) -> entities.Poll:
    assert view.poll is not None
    return schemas.poll_to_api(
        view.poll,
        view.status.emojis,
        ctx_of(request).config.base_url,
        show_totals=viewer == view.status.account_id,
    )


@authenticated(optional=True, scopes=("read:statuses",))
async def get_poll(request: web.Request) -> web.Response:
    viewer = viewer_id(request)
    view = await svc.poll_view(ctx_of(request), _status_id(request), viewer)
    return json_response(_poll(request, view, viewer))


@require_scopes("write:statuses")
async def vote_poll(request: web.Request) -> web.Response:
    params = await read_params(request)
    account = viewer_account(request)
    choices = [int(c) for c in params.str_list("choices") if c.lstrip("-").isdigit()]
    view = await svc.vote(ctx_of(request), account, _status_id(request), choices)
    return json_response(_poll(request, view, account.id))
