"""/robots.txt: which parts of this server crawlers may read.

Public pages (the landing page, ``/@user`` profiles and posts, ``/tags/``) are open unless
``[instance] robots = "deny"``; machine endpoints never are: the client API, OAuth, inboxes,
outboxes and the operations endpoints. An account that opted out of indexing is marked on
its own pages (``<meta name="robots" content="noindex">``, see ``pages``), as Mastodon does.
"""

from __future__ import annotations

from aiohttp import web

from fedinode import appkeys
from fedinode.config import Config

# Paths no crawler has business with, whatever the setting.
DISALLOWED = (
    "/api/",
    "/oauth/",
    "/inbox",
    "/actor/inbox",
    "/users/*/inbox",
    "/users/*/outbox",
    "/admin",
    "/livez",
    "/readyz",
    "/metrics",
)


def robots_text(config: Config) -> str:
    if config.instance.robots == "deny":
        return "# This server asks crawlers to stay away.\nUser-agent: *\nDisallow: /\n"
    rules = "".join(f"Disallow: {path}\n" for path in DISALLOWED)
    return (
        "# Public profiles, posts and tags may be crawled; accounts that opted out carry noindex.\n"
        f"User-agent: *\n{rules}"
    )


async def robots_txt(request: web.Request) -> web.Response:
    return web.Response(
        text=robots_text(request.app[appkeys.CONFIG]),
        content_type="text/plain",
        charset="utf-8",
        headers={"Cache-Control": "public, max-age=3600"},
    )
