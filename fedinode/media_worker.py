"""The media processing worker in the application: transcodes queued video, audio and GIF
uploads (roles ``all`` and ``worker``; a ``web`` process processes ``/api/v1/media`` uploads
inline and leaves the rest to a worker)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from fedinode import appkeys
from fedinode.services.media_processing import MediaProcessor


async def media_processing_ctx(app: web.Application) -> AsyncIterator[None]:
    processor = MediaProcessor(app[appkeys.STORE], app[appkeys.CONFIG])
    app[appkeys.MEDIA_PROCESSOR] = processor
    if app[appkeys.ROLE] not in ("all", "worker"):
        yield
        return
    # Jobs left by a process that died are taken again once their lease runs out.
    task = asyncio.create_task(processor.run())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
