"""``/livez`` (the process serves) and ``/readyz`` (it can do its work: the database answers
and its schema is current), for load balancers and orchestrators."""

from __future__ import annotations

import asyncio
import time

from aiohttp import web

from fedinode import appkeys
from storage.gauges import readiness

CHECK_TIMEOUT_S = 3.0


class Readiness:
    """The last readiness verdict, kept ``ttl`` seconds: probes from many balancers (or a
    flood of them: the endpoint is public) cost the database one check a second at most."""

    def __init__(self, ttl: float = 1.0) -> None:
        self.ttl = ttl
        self.stopping = False
        self._checked_at = -1e9
        self._reason: str | None = None

    async def reason(self, app: web.Application) -> str | None:
        """None when ready; else a short reason."""
        if self.stopping:
            return "shutting down"
        if time.monotonic() - self._checked_at >= self.ttl:
            store = app.get(appkeys.STORE)
            if store is None:
                self._reason = "database not open"
            else:
                try:
                    self._reason = await asyncio.wait_for(readiness(store.db), CHECK_TIMEOUT_S)
                except TimeoutError:
                    self._reason = "database unreachable"
            self._checked_at = time.monotonic()
        return self._reason


READINESS = web.AppKey("fedinode.readiness", Readiness)


async def livez(request: web.Request) -> web.Response:
    return web.json_response({"status": "live"}, headers={"Cache-Control": "no-store"})


async def readyz(request: web.Request) -> web.Response:
    reason = await request.app[READINESS].reason(request.app)
    headers = {"Cache-Control": "no-store"}
    if reason is None:
        return web.json_response({"status": "ready"}, headers=headers)
    return web.json_response(
        {"status": "unavailable", "reason": reason}, status=503, headers=headers
    )


def setup_health(app: web.Application) -> None:
    app[READINESS] = Readiness()
    app.router.add_get("/livez", livez)
    app.router.add_get("/readyz", readyz)
    # A stopping process says so while it finishes its requests, so balancers move on.
    app.on_shutdown.append(_mark_stopping)


async def _mark_stopping(app: web.Application) -> None:
    app[READINESS].stopping = True
