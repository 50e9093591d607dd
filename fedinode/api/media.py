"""/api/v1/media, /api/v2/media, and the media files themselves under /media/."""

from __future__ import annotations

from aiohttp import web

from fedinode import appkeys
from fedinode.api import schemas
from fedinode.api.auth import require_scopes, viewer_account
from fedinode.api.params import json_response, path_id, read_params
from fedinode.errors import NotFoundError, ValidationFailed
from fedinode.services import media as media_service
from fedinode.services.media_cache import access_log

MEDIA_SCOPES = ("write:media",)
CACHE_FOREVER = "public, max-age=31536000, immutable"


async def _upload(request: web.Request) -> web.Response:
    params = await read_params(request)
    upload = params.file("file")
    if upload is None:
        raise ValidationFailed("Validation failed: File can't be blank")
    config = request.app[appkeys.CONFIG]
    media = await media_service.upload_media(
        request.app[appkeys.STORE],
        config,
        viewer_account(request),
        upload,
        description=params.str("description"),
        focus=media_service.parse_focus(params.str("focus")),
    )
    # Processing is synchronous, so the attachment is complete: 200 with a url, never 202.
    return json_response(schemas.media_to_api(config, media))


@require_scopes(*MEDIA_SCOPES)
async def upload_media_v2(request: web.Request) -> web.Response:
    return await _upload(request)


@require_scopes(*MEDIA_SCOPES)
async def upload_media_v1(request: web.Request) -> web.Response:
    return await _upload(request)


@require_scopes(*MEDIA_SCOPES)
async def get_media(request: web.Request) -> web.Response:
    media = await media_service.owned_unattached(
        request.app[appkeys.STORE], viewer_account(request), _id(request)
    )
    return json_response(schemas.media_to_api(request.app[appkeys.CONFIG], media))


@require_scopes(*MEDIA_SCOPES)
async def update_media(request: web.Request) -> web.Response:
    params = await read_params(request)
    media = await media_service.update_media(
        request.app[appkeys.STORE],
        viewer_account(request),
        _id(request),
        description=params.str("description"),
        focus=media_service.parse_focus(params.str("focus")),
    )
    return json_response(schemas.media_to_api(request.app[appkeys.CONFIG], media))


@require_scopes(*MEDIA_SCOPES)
async def delete_media(request: web.Request) -> web.Response:
    await media_service.delete_media(
        request.app[appkeys.STORE],
        request.app[appkeys.CONFIG],
        viewer_account(request),
        _id(request),
    )
    return json_response({})


async def serve_media_file(request: web.Request) -> web.StreamResponse:
    """A stored file; names are random and never rewritten, so caches may keep them forever."""
    files = media_service.MediaFiles(request.app[appkeys.CONFIG].media.directory)
    relative = request.match_info["path"]
    found = files.resolve(relative)
    if found is None:
        raise NotFoundError()
    await access_log(request.app[appkeys.STORE]).served(relative)
    return web.FileResponse(
        found,
        headers={
            "Cache-Control": CACHE_FOREVER,
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )


def _id(request: web.Request) -> int:
    return path_id(request)
