"""Wiring the protocol layer into the application: S2S routes and background workers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from aiohttp import web

from activitypub import nodeinfo
from activitypub.federation import Federation
from activitypub.fetch import make_client_session
from activitypub.routes import add_routes
from activitypub.settings import FederationSettings
from fedinode import appkeys
from fedinode.version import FEDINODE_VERSION


async def nodeinfo_discovery(request: web.Request) -> web.Response:
    settings: FederationSettings = request.app[FEDERATION_SETTINGS]
    return web.json_response(nodeinfo.discovery(settings))


async def nodeinfo_document(request: web.Request) -> web.Response:
    version = request.match_info["version"]
    if version not in nodeinfo.VERSIONS:
        raise web.HTTPNotFound()
    settings: FederationSettings = request.app[FEDERATION_SETTINGS]
    config = request.app[appkeys.CONFIG]
    stats = await request.app[appkeys.STORE].instance_stats()
    doc = nodeinfo.document(
        version,
        settings,
        stats,
        open_registrations=config.instance.registrations,
        policy=request.app[appkeys.POLICY].describe(),
    )
    profile = f"http://nodeinfo.diaspora.software/ns/schema/{version}#"
    return web.json_response(
        doc, content_type="application/json", headers={"Content-Profile": profile}
    )


FEDERATION_SETTINGS = web.AppKey("fedinode.federation_settings", FederationSettings)


def federation_of(request: web.Request) -> Federation:
    return request.app[appkeys.FEDERATION]


def _federation_ctx(
    settings: FederationSettings, role: str
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        session = make_client_session(
            "http" if settings.scheme == "http" else "https",
            settings.allow_private_addresses,
            settings.ca_file or None,
            user_agent=f"fedinode/{FEDINODE_VERSION} (+{settings.base_url}/)",
            timeout=settings.fetch_timeout_seconds,
        )
        federation = Federation(settings, app[appkeys.STORE], app[appkeys.POLICY], session)
        try:
            await federation.start()
            app[appkeys.FEDERATION] = federation
            if role in ("all", "worker"):
                federation.start_workers()
            yield
        finally:
            await federation.stop()
            await session.close()

    return ctx


def setup_federation(app: web.Application, settings: FederationSettings, *, role: str) -> None:
    """S2S routes on web/all; the Federation object (and, on worker/all, its queue
    workers) in a cleanup context that runs after the store's."""
    app[FEDERATION_SETTINGS] = settings
    app.cleanup_ctx.append(_federation_ctx(settings, role))
    if role in ("all", "web"):
        app.router.add_get("/.well-known/nodeinfo", nodeinfo_discovery)
        app.router.add_get("/nodeinfo/{version}", nodeinfo_document)
        add_routes(app.router, federation_of)
