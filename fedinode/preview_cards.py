"""The link preview card worker in the application (roles ``all`` and ``worker``)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from activitypub.fetch import make_client_session
from fedinode import appkeys
from fedinode.services.media_cache import policy_refusal
from fedinode.services.preview_cards import CardWorker
from fedinode.version import FEDINODE_VERSION

CARD_WORKER = web.AppKey("fedinode.card_worker", CardWorker)


async def card_worker_ctx(app: web.Application) -> AsyncIterator[None]:
    """Fetch the pages statuses link to, in the background, while the application runs."""
    config = app[appkeys.CONFIG]
    if app[appkeys.ROLE] not in ("all", "worker") or not config.media.preview_cards:
        yield
        return
    session = make_client_session(
        "http" if config.scheme == "http" else "https",
        config.federation.allow_private_addresses,
        config.federation.ca_file or None,
        user_agent=f"fedinode/{FEDINODE_VERSION} (+{config.base_url}/)",
        timeout=config.media.card_fetch_timeout_seconds,
    )
    worker = CardWorker(app[appkeys.STORE], config, session, policy_refusal(app[appkeys.POLICY]))
    app[CARD_WORKER] = worker
    task = asyncio.create_task(worker.run())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await session.close()
