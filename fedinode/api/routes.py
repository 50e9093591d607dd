"""The Mastodon client API route table: one flat list, path → handler."""

from __future__ import annotations

from aiohttp import web

from fedinode.api import apps, instance, oauth
from fedinode.api import media as media_api


def add_routes(app: web.Application) -> None:
    table = [
        ("GET", "/api/v1/instance", instance.get_instance_v1),
        ("GET", "/api/v2/instance", instance.get_instance_v2),
        ("GET", "/api/v1/instance/peers", instance.get_instance_peers),
        ("GET", "/api/v1/instance/rules", instance.get_instance_rules),
        # OAuth 2 and apps
        ("POST", "/api/v1/apps", apps.create_app),
        ("GET", "/api/v1/apps/verify_credentials", apps.verify_app_credentials),
        ("GET", "/oauth/authorize", oauth.authorize_form),
        ("POST", "/oauth/authorize", oauth.authorize_submit),
        ("POST", "/oauth/token", oauth.token),
        ("POST", "/oauth/revoke", oauth.revoke),
        ("GET", "/.well-known/oauth-authorization-server", oauth.authorization_server_metadata),
        # -- extras: media, streaming, search, lists, filters, markers, admin, pages --
        ("POST", "/api/v2/media", media_api.upload_media_v2),
        ("POST", "/api/v1/media", media_api.upload_media_v1),
        ("GET", "/api/v1/media/{id}", media_api.get_media),
        ("PUT", "/api/v1/media/{id}", media_api.update_media),
        ("GET", "/media/{path:.+}", media_api.serve_media_file),
        # -- end extras --
    ]
    for method, path, handler in table:
        app.router.add_route(method, path, handler)
        if method == "GET" and not path.endswith("/"):
            # Apps ask for /api/v2/instance/ too; answer both without a redirect.
            app.router.add_route(method, path + "/", handler)
