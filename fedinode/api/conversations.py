"""/api/v1/conversations: direct-message threads, marked read or removed per user."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from fedinode.api import schemas
from fedinode.api.auth import require_scopes, viewer_account
from fedinode.api.params import ctx_of, json_response, link_header, page_from, path_id, read_params
from fedinode.errors import NotFoundError
from fedinode.services.conversations import load_conversation
from storage.conversations import ConversationRow

if TYPE_CHECKING:
    from fedinode.api import entities


def _id(request: web.Request) -> int:
    return path_id(request)


@require_scopes("read:statuses")
async def list_conversations(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    params = await read_params(request)
    page = page_from(params)
    account = viewer_account(request)
    rows = await ctx.store.conversations.page(account.id, page)
    out: list[entities.Conversation] = []
    for row in rows:
        view = await load_conversation(ctx.store, account.id, row)
        if view is not None:
            out.append(schemas.conversation_view_to_api(view, ctx.config, account.id))
    return json_response(out, headers=link_header(request, [r.last_status_id for r in rows], page))


async def _own(request: web.Request) -> ConversationRow:
    ident = _id(request)
    row = None
    if ident is not None:
        row = await ctx_of(request).store.conversations.get(viewer_account(request).id, ident)
    if row is None:
        raise NotFoundError()
    return row


@require_scopes("write:conversations")
async def read_conversation(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    account = viewer_account(request)
    row = await _own(request)
    await ctx.store.conversations.mark_read(account.id, row.id, row.last_status_id)
    fresh = await ctx.store.conversations.get(account.id, row.id)
    view = await load_conversation(ctx.store, account.id, fresh or row)
    if view is None:
        raise NotFoundError()
    return json_response(schemas.conversation_view_to_api(view, ctx.config, account.id))


@require_scopes("write:conversations")
async def remove_conversation(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    account = viewer_account(request)
    row = await _own(request)
    await ctx.store.conversations.remove(account.id, row.id, row.last_status_id)
    return json_response(schemas.empty_to_api())
