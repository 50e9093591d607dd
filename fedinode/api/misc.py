"""Small endpoints apps call at start-up: preferences, announcements, trends,
instance activity, and the default avatar and header images."""

from __future__ import annotations

import struct
import zlib
from functools import cache

from aiohttp import web

from fedinode.api import schemas
from fedinode.api.auth import authenticated, principal, require_scopes
from fedinode.api.params import ctx_of, json_response, read_params
from fedinode.errors import Unauthorized
from storage.ids import now_ms


@require_scopes("read:accounts")
async def get_preferences(request: web.Request) -> web.Response:
    user = principal(request).user
    if user is None:
        raise Unauthorized("This method requires an authenticated user")
    return json_response(schemas.preferences_to_api(user))


@authenticated(optional=True)
async def announcements(request: web.Request) -> web.Response:
    # Announcements are not supported: there are none to show.
    return json_response([])


async def trends_tags(request: web.Request) -> web.Response:
    """Tags used on public statuses in the last week, ranked by distinct accounts."""
    params = await read_params(request)
    ctx = ctx_of(request)
    limit = max(1, min(params.int("limit", 10) or 10, 20))
    rows = await ctx.store.tags.trending_tags(now_ms() - 7 * 86_400_000, limit)
    return json_response(
        [schemas.trend_tag_to_api(t, uses, accts, ctx.config.base_url) for t, uses, accts in rows]
    )


async def trends_empty(request: web.Request) -> web.Response:
    # Trending statuses and links are not computed; an honest empty list.
    return json_response([])


async def instance_activity(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    return json_response(schemas.activity_to_api(await ctx.store.stats.weekly_activity()))


def _png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    row = b"\x00" + bytes(rgb) * width
    raw = zlib.compress(row * height, 9)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


@cache
def _default_image(name: str) -> bytes:
    if name == "avatar.png":
        return _png(120, 120, (0x9B, 0xA3, 0xB5))
    return _png(700, 235, (0x2B, 0x2E, 0x3A))


async def default_image(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in ("avatar.png", "header.png"):
        raise web.HTTPNotFound()
    return web.Response(
        body=_default_image(name),
        content_type="image/png",
        headers={"Cache-Control": "public, max-age=86400"},
    )
