"""A job the fleet runs once per period (``activitypub.periodic``: a lease row decides which
process), as an aiohttp cleanup context: started with the app, stopped with it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from aiohttp import web

from activitypub import periodic
from fedinode import appkeys
from storage.store import Store

CleanupContext = Callable[[web.Application], AsyncIterator[None]]


def fleet_job_ctx(
    name: str, every: float, job: Callable[[Store], Awaitable[Any]], *, task: str
) -> CleanupContext:
    """The cleanup context running ``job(store)`` once per ``every`` seconds across the
    fleet (lease row ``name``), in a task named ``task``, until the app stops."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        store = app[appkeys.STORE]
        stop = asyncio.Event()
        running = asyncio.create_task(
            periodic.run_forever(store, name, every, lambda: job(store), stop), name=task
        )
        yield
        stop.set()
        try:
            await asyncio.wait_for(running, 10.0)
        except TimeoutError:
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running

    return ctx
