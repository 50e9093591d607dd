"""/api/v1/admin/custom_emojis: upload, list, change and delete this instance's custom
emojis (admins only; GoToSocial's API, as Mastodon has none), and /api/v1/custom_emojis."""

from __future__ import annotations

from aiohttp import web
from aiohttp.web_request import FileField

from fedinode.api import schemas
from fedinode.api.auth import principal, require_scopes
from fedinode.api.params import ctx_of, json_response, path_id, read_params
from fedinode.errors import NotFoundError, ValidationFailed
from fedinode.services import admin as admin_service
from fedinode.services import custom_emojis as svc

READ = ("admin:read",)
WRITE = ("admin:write",)


async def custom_emojis(request: web.Request) -> web.Response:
    """The enabled emojis of this instance, for the apps' pickers."""
    ctx = ctx_of(request)
    emojis = await ctx.store.custom_emojis.listed(local_only=True, enabled_only=True)
    return json_response([schemas.custom_emoji_to_api(e, ctx.config.base_url) for e in emojis])


@require_scopes(*READ)
async def list_emojis(request: web.Request) -> web.Response:
    admin_service.require_admin(principal(request).user)
    ctx = ctx_of(request)
    params = await read_params(request)
    # GoToSocial's filter: "domain:local" (the default) or "domain:all".
    every = "domain:all" in (params.str("filter") or "")
    emojis = await ctx.store.custom_emojis.listed(local_only=not every)
    return json_response([schemas.admin_emoji_to_api(e, ctx.config.base_url) for e in emojis])


@require_scopes(*READ)
async def get_emoji(request: web.Request) -> web.Response:
    admin_service.require_admin(principal(request).user)
    ctx = ctx_of(request)
    emoji = await ctx.store.custom_emojis.get(path_id(request))
    if emoji is None:
        raise NotFoundError()
    return json_response(schemas.admin_emoji_to_api(emoji, ctx.config.base_url))


def _image(upload: FileField, limit: int) -> bytes:
    data: bytes = upload.file.read(limit + 1)
    if len(data) > limit:
        raise ValidationFailed(f"Validation failed: Image is too large (the limit is {limit} bytes)")
    return data


@require_scopes(*WRITE)
async def create_emoji(request: web.Request) -> web.Response:
    admin_service.require_admin(principal(request).user)
    ctx = ctx_of(request)
    params = await read_params(request)
    upload = params.file("image")
    if upload is None:
        raise ValidationFailed("Validation failed: Image can't be blank")
    emoji = await svc.add_local_emoji(
        ctx.store,
        ctx.config,
        params.str("shortcode") or "",
        _image(upload, ctx.config.media.emoji_max_bytes),
        params.str("category") or "",
    )
    return json_response(schemas.admin_emoji_to_api(emoji, ctx.config.base_url))


@require_scopes(*WRITE)
async def update_emoji(request: web.Request) -> web.Response:
    """GoToSocial's ``type``: ``disable``, ``enable`` or ``modify`` (category, image)."""
    admin_service.require_admin(principal(request).user)
    ctx = ctx_of(request)
    params = await read_params(request)
    action = params.str("type") or "modify"
    if action not in ("disable", "enable", "modify"):
        raise ValidationFailed("Validation failed: type must be disable, enable or modify")
    upload = params.file("image") if action == "modify" else None
    emoji = await svc.update_local_emoji(
        ctx.store,
        ctx.config,
        path_id(request),
        category=params.str("category") if action == "modify" else None,
        disabled={"disable": True, "enable": False}.get(action),
        image=None if upload is None else _image(upload, ctx.config.media.emoji_max_bytes),
    )
    return json_response(schemas.admin_emoji_to_api(emoji, ctx.config.base_url))


@require_scopes(*WRITE)
async def delete_emoji(request: web.Request) -> web.Response:
    admin_service.require_admin(principal(request).user)
    ctx = ctx_of(request)
    emoji = await svc.remove_local_emoji(ctx.store, ctx.config, path_id(request))
    return json_response(schemas.admin_emoji_to_api(emoji, ctx.config.base_url))
