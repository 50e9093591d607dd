"""First-contact quarantine on a schedule: hosts held longer than ``[federation]
quarantine_hours`` are released or rejected (``quarantine_expiry``) by the one process of a
fleet that runs periodic jobs; each decision is one transaction, so a host is decided once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from fedinode import appkeys
from fedinode.services import quarantine

log = logging.getLogger("fedinode.quarantine")
EXPIRE_EVERY_S = 300.0


async def quarantine_ctx(app: web.Application) -> AsyncIterator[None]:
    federation = app.get(appkeys.FEDERATION)
    task: asyncio.Task[None] | None = None
    if federation is not None and federation.settings.first_contact == "quarantine":
        task = asyncio.create_task(_expire_forever(app), name="fedinode-quarantine")
    yield
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _expire_forever(app: web.Application) -> None:
    federation = app[appkeys.FEDERATION]
    while True:
        try:
            decided = await quarantine.expire(
                app[appkeys.STORE],
                app[appkeys.POLICY],
                federation.settings,
                wake=federation.inbox_wake.set,
            )
            for d in decided:
                log.info("quarantined host %s %sd after quarantine_hours (%d activities)",
                         d.host, d.action, len(d.activities))  # fmt: skip
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("quarantine expiry failed")
        await asyncio.sleep(EXPIRE_EVERY_S)
