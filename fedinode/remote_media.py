"""The remote media cache's worker in the application (roles ``all`` and ``worker``)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from activitypub.fetch import make_client_session
from activitypub.peer_limits import PeerLimiter
from fedinode import appkeys
from fedinode.services.media_cache import MediaCacheWorker, policy_refusal
from fedinode.version import FEDINODE_VERSION

MEDIA_CACHE_WORKER = web.AppKey("fedinode.media_cache_worker", MediaCacheWorker)


async def media_cache_ctx(app: web.Application) -> AsyncIterator[None]:
    """Fetch queued remote media in the background while the application runs."""
    config = app[appkeys.CONFIG]
    if app[appkeys.ROLE] not in ("all", "worker") or not config.media.cache_remote:
        yield
        return
    session = make_client_session(
        "http" if config.scheme == "http" else "https",
        config.federation.allow_private_addresses,
        config.federation.ca_file or None,
        user_agent=f"fedinode/{FEDINODE_VERSION} (+{config.base_url}/)",
        timeout=config.media.remote_fetch_timeout_seconds,
    )
    store, gate = app[appkeys.STORE], app[appkeys.POLICY]
    worker = MediaCacheWorker(
        store, config, session, policy_refusal(gate), limiter=PeerLimiter(store, gate)
    )
    app[MEDIA_CACHE_WORKER] = worker
    task = asyncio.create_task(worker.run())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await session.close()
