"""Subscribed policy lists on a schedule: the configuration's subscriptions are written
to the database at start, and (on ``all``/``worker``) due subscriptions are synced.

The loop runs in the one process of ``serve --workers N`` that runs periodic jobs; each
due sync is also claimed in the database (``next_sync_at`` moved on by one process), so
however many worker processes share a PostgreSQL a list is fetched once per period.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from fedinode import appkeys
from fedinode.services import policy_lists

log = logging.getLogger("fedinode.policy.lists")


async def policy_sync_ctx(app: web.Application) -> AsyncIterator[None]:
    store = app[appkeys.STORE]
    await policy_lists.reconcile_config(store, app[appkeys.CONFIG].policy.subscriptions)
    task: asyncio.Task[None] | None = None
    federation = app.get(appkeys.FEDERATION)
    periodic = app[appkeys.ROLE] in ("all", "worker") and app[appkeys.PERIODIC]
    if periodic and federation is not None:
        task = asyncio.create_task(
            policy_lists.sync_forever(store, app[appkeys.POLICY], federation.fetcher),
            name="fedinode-policy-lists",
        )
    yield
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
