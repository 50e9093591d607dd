"""The Mastodon client API route table: one flat list, path → handler."""

from __future__ import annotations

from aiohttp import web

from fedinode.api import instance


def add_routes(app: web.Application) -> None:
    table = [
        ("GET", "/api/v1/instance", instance.get_instance_v1),
        ("GET", "/api/v2/instance", instance.get_instance_v2),
        ("GET", "/api/v1/instance/peers", instance.get_instance_peers),
        ("GET", "/api/v1/instance/rules", instance.get_instance_rules),
    ]
    for method, path, handler in table:
        app.router.add_route(method, path, handler)
        if method == "GET" and not path.endswith("/"):
            # Apps ask for /api/v2/instance/ too; answer both without a redirect.
            app.router.add_route(method, path + "/", handler)
