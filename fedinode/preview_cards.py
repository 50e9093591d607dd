"""The link preview card worker in the application (roles ``all`` and ``worker``)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from fedinode import appkeys
from fedinode.remote_media import fetcher_session
from fedinode.services.media_cache import policy_refusal
from fedinode.services.preview_cards import CardWorker

CARD_WORKER = web.AppKey("fedinode.card_worker", CardWorker)


async def card_worker_ctx(app: web.Application) -> AsyncIterator[None]:
    """Fetch the pages statuses link to, in the background, while the application runs."""
    config = app[appkeys.CONFIG]
    if app[appkeys.ROLE] not in ("all", "worker") or not config.media.preview_cards:
        yield
        return
    session = fetcher_session(config, config.media.card_fetch_timeout_seconds)
    worker = CardWorker(app[appkeys.STORE], config, session, policy_refusal(app[appkeys.POLICY]))
    app[CARD_WORKER] = worker
    task = asyncio.create_task(worker.run())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await session.close()
