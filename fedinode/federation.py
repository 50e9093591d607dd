"""Wiring the protocol layer into the application: S2S routes and background workers."""

from __future__ import annotations

from aiohttp import web

from activitypub import nodeinfo
from activitypub.settings import FederationSettings
from fedinode import appkeys


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


def setup_federation(app: web.Application, settings: FederationSettings, *, role: str) -> None:
    app[FEDERATION_SETTINGS] = settings
    if role in ("all", "web"):
        app.router.add_get("/.well-known/nodeinfo", nodeinfo_discovery)
        app.router.add_get("/nodeinfo/{version}", nodeinfo_document)
