"""/api/v1/media, /api/v2/media, and the media files themselves under /media/."""

from __future__ import annotations

from aiohttp import web

from fedinode import appkeys
from fedinode.api import schemas
from fedinode.api.auth import require_scopes, viewer_account
from fedinode.api.params import json_response, path_id, read_params
from fedinode.errors import NotFoundError, ValidationFailed
from fedinode.services import media as media_service
from fedinode.services import media_processing as processing
from fedinode.services.media_cache import access_log
from fedinode.services.media_files import (
    LocalMediaFiles,
    RangeNotSatisfiable,
    S3MediaFiles,
    content_type_for,
    media_files,
    safe_path,
)

MEDIA_SCOPES = ("write:media",)
CACHE_FOREVER = "public, max-age=31536000, immutable"


async def _upload(request: web.Request, *, wait: bool) -> web.Response:
    params = await read_params(request)
    upload = params.file("file")
    if upload is None:
        raise ValidationFailed("Validation failed: File can't be blank")
    config = request.app[appkeys.CONFIG]
    store = request.app[appkeys.STORE]
    uploaded = await processing.upload_any(
        store,
        config,
        viewer_account(request),
        upload,
        description=params.str("description"),
        focus=media_service.parse_focus(params.str("focus")),
        thumbnail=params.file("thumbnail"),
    )
    media = uploaded.media
    if uploaded.processing:
        processor = request.app.get(appkeys.MEDIA_PROCESSOR)
        if wait:
            # /api/v1/media answers once the file is processed (or refused), as Mastodon's.
            media = await (processor or processing.MediaProcessor(store, config)).process_now(media.id)
        else:
            if processor is not None:
                processor.wake()
            # Mastodon's async upload: 202, no url until processing is done.
            return json_response(schemas.media_to_api(config, media), status=202)
    return json_response(schemas.media_to_api(config, media))


@require_scopes(*MEDIA_SCOPES)
async def upload_media_v2(request: web.Request) -> web.Response:
    return await _upload(request, wait=False)


@require_scopes(*MEDIA_SCOPES)
async def upload_media_v1(request: web.Request) -> web.Response:
    return await _upload(request, wait=True)


@require_scopes(*MEDIA_SCOPES)
async def get_media(request: web.Request) -> web.Response:
    store = request.app[appkeys.STORE]
    media = await media_service.owned_unattached(store, viewer_account(request), _id(request))
    state = await processing.media_state(store, media)
    if state not in ("ready", "processing"):
        raise ValidationFailed(state)
    if state == "ready" and media.file_path == "" and not media.remote_url:
        # Processing finished between the two reads: the row now has its files.
        media = await media_service.owned_unattached(store, viewer_account(request), media.id)
    # 206 while processing (no url yet), 200 once done: what apps poll for.
    status = 206 if state == "processing" else 200
    return json_response(schemas.media_to_api(request.app[appkeys.CONFIG], media), status=status)


@require_scopes(*MEDIA_SCOPES)
async def update_media(request: web.Request) -> web.Response:
    params = await read_params(request)
    media = await processing.update_upload(
        request.app[appkeys.STORE],
        request.app[appkeys.CONFIG],
        viewer_account(request),
        _id(request),
        description=params.str("description"),
        focus=media_service.parse_focus(params.str("focus")),
        thumbnail=params.file("thumbnail"),
    )
    # As GET: 206 while the file is still being processed.
    state = await processing.media_state(request.app[appkeys.STORE], media)
    status = 206 if state == "processing" else 200
    return json_response(schemas.media_to_api(request.app[appkeys.CONFIG], media), status=status)


@require_scopes(*MEDIA_SCOPES)
async def delete_media(request: web.Request) -> web.Response:
    await media_service.delete_media(
        request.app[appkeys.STORE],
        request.app[appkeys.CONFIG],
        viewer_account(request),
        _id(request),
    )
    return json_response({})


_FILE_HEADERS = {
    "Cache-Control": CACHE_FOREVER,
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
}


async def serve_media_file(request: web.Request) -> web.StreamResponse:
    """A stored file; names are random and never rewritten, so caches may keep them forever."""
    config = request.app[appkeys.CONFIG]
    files = media_files(config)
    relative = request.match_info["path"]
    if not safe_path(relative):
        raise NotFoundError()
    if isinstance(files, LocalMediaFiles):
        found = files.resolve(relative)
        if found is None:
            raise NotFoundError()
        await access_log(request.app[appkeys.STORE]).served(relative)
        # Our own type for the extension: the system's table may not know .ogg or .weba,
        # and with nosniff a player refuses a file served as application/octet-stream.
        headers = {**_FILE_HEADERS, "Content-Type": content_type_for(relative)}
        return web.FileResponse(found, headers=headers)
    if config.media.public_url:
        # The bucket (or a CDN before it) serves the bytes; our URLs stay the same.
        await access_log(request.app[appkeys.STORE]).served(relative)
        target = f"{config.media.public_url.rstrip('/')}/{relative}"
        raise web.HTTPFound(target, headers={"Cache-Control": "public, max-age=86400"})
    assert isinstance(files, S3MediaFiles)
    return await _stream_object(request, files, relative)


async def _stream_object(
    request: web.Request, files: S3MediaFiles, relative: str
) -> web.StreamResponse:
    try:
        byte_range = request.http_range
    except ValueError:
        byte_range = None  # a malformed Range header is ignored, as for files on disk
    try:
        found = await files.open_read(relative, byte_range)
    except RangeNotSatisfiable as exc:
        return web.Response(status=416, headers={"Content-Range": f"bytes */{exc.size}"})
    if found is None:
        raise NotFoundError()
    await access_log(request.app[appkeys.STORE]).served(relative)
    partial = found.end - found.start < found.size
    response = web.StreamResponse(status=206 if partial else 200, headers=_FILE_HEADERS)
    response.content_type = content_type_for(relative)
    response.content_length = found.end - found.start
    response.headers["Accept-Ranges"] = "bytes"
    if partial:
        response.headers["Content-Range"] = f"bytes {found.start}-{found.end - 1}/{found.size}"
    await response.prepare(request)
    async for chunk in found.chunks:
        await response.write(chunk)
    await response.write_eof()
    return response


def _id(request: web.Request) -> int:
    return path_id(request)
