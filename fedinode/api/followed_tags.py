"""/api/v1/tags/:name (+ follow/unfollow) and /api/v1/followed_tags."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from fedinode.api import schemas
from fedinode.api.auth import authenticated, current_cached, require_scopes, viewer_account
from fedinode.api.params import ctx_of, json_response, link_header, page_from, read_params
from fedinode.errors import NotFoundError, ValidationFailed
from fedinode.services.text import tag_char
from policy.text import tag_key
from storage.models import Tag
from storage.store import Store

if TYPE_CHECKING:
    from fedinode.api import entities

_TAG_NAME_MAX = 100


async def _entity(store: Store, base_url: str, tag: Tag, viewer_id: int | None) -> entities.Tag:
    history = await store.tags.history([tag.id])
    following = None
    if viewer_id is not None:
        following = tag.id in await store.tags.following(viewer_id, [tag.id])
    return schemas.tag_entity_to_api(tag, base_url, history.get(tag.id, []), following=following)


def _name(request: web.Request) -> str:
    name = request.match_info.get("name", "").strip().lstrip("#")
    if not name or len(name) > _TAG_NAME_MAX or not all(tag_char(c) for c in name):
        raise NotFoundError()
    return name


@authenticated(optional=True, scopes=("read:statuses",))
async def get_tag(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    tag = await ctx.store.tags.get(tag_key(_name(request)))
    if tag is None:
        raise NotFoundError()
    found = current_cached(request)
    viewer_id = found.account_id if found is not None else None
    return json_response(await _entity(ctx.store, ctx.config.base_url, tag, viewer_id))


@require_scopes("write:follows")
async def follow_tag(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    account = viewer_account(request)
    name = _name(request)
    if tag_key(name) == "":
        raise ValidationFailed("Validation failed: Name can't be blank")
    tag = await ctx.store.tags.get_or_create(name, key=tag_key(name))
    await ctx.store.tags.follow(account.id, tag.id)
    return json_response(await _entity(ctx.store, ctx.config.base_url, tag, account.id))


@require_scopes("write:follows")
async def unfollow_tag(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    account = viewer_account(request)
    tag = await ctx.store.tags.get(tag_key(_name(request)))
    if tag is None:
        raise NotFoundError()
    await ctx.store.tags.unfollow(account.id, tag.id)
    return json_response(await _entity(ctx.store, ctx.config.base_url, tag, account.id))


@require_scopes("read:follows")
async def followed_tags(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    params = await read_params(request)
    page = page_from(params, default_limit=100, max_limit=200)
    account = viewer_account(request)
    tags = await ctx.store.tags.followed(account.id, page)
    history = await ctx.store.tags.history([t.id for t in tags])
    data = [
        schemas.tag_entity_to_api(t, ctx.config.base_url, history.get(t.id, []), following=True)
        for t in tags
    ]
    return json_response(data, headers=link_header(request, [t.id for t in tags], page))
