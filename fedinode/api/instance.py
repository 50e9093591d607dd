"""/api/v1/instance, /api/v2/instance and friends."""

from __future__ import annotations

from aiohttp import web

from fedinode import appkeys
from fedinode.api import schemas


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
    """Mastodon's public list of moderated servers, obfuscated where the admin asked."""
    described = request.app[appkeys.POLICY].describe()
    return web.json_response(
        schemas.public_domain_blocks_to_api(described.get("domain_blocks", []))
    )
