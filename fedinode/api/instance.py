"""/api/v1/instance, /api/v2/instance and friends."""

from __future__ import annotations

from aiohttp import web

from fedinode import appkeys
from fedinode.api import schemas
from fedinode.api.auth import current
from fedinode.errors import NotFoundError
from fedinode.services import transparency


async def get_instance_v2(request: web.Request) -> web.Response:
    config = request.app[appkeys.CONFIG]
    stats = await request.app[appkeys.STORE].instance_stats()
    vapid_key = request.app[appkeys.VAPID].public_key
    return web.json_response(schemas.instance_v2_to_api(config, stats, None, vapid_key))


async def get_instance_v1(request: web.Request) -> web.Response:
    config = request.app[appkeys.CONFIG]
    stats = await request.app[appkeys.STORE].instance_stats()
    return web.json_response(schemas.instance_v1_to_api(config, stats, None))


async def get_instance_peers(request: web.Request) -> web.Response:
    return web.json_response(await request.app[appkeys.STORE].queues.peers())


async def get_instance_rules(request: web.Request) -> web.Response:
    config = request.app[appkeys.CONFIG]
    return web.json_response(schemas.rules_to_api(config))


async def get_instance_domain_blocks(request: web.Request) -> web.Response:
    """Mastodon's public list of moderated servers, obfuscated where the admin asked; 404
    for whoever ``[instance] show_domain_blocks`` does not show it to, as Mastodon answers."""
    i = request.app[appkeys.CONFIG].instance
    signed_in = False
    if transparency.needs_viewer(i):
        caller = await current(request)
        signed_in = caller is not None and caller.account is not None
    described = request.app[appkeys.POLICY].describe()
    servers = transparency.moderated_servers(
        i, described.get("domain_blocks", []), signed_in=signed_in
    )
    if servers is None:
        raise NotFoundError()
    return web.json_response(schemas.public_domain_blocks_to_api(servers))
