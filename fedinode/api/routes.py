"""The Mastodon client API route table: one flat list, path → handler."""

from __future__ import annotations

from aiohttp import web

from fedinode.api import admin_domains, apps, instance, oauth
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
        # -- policy: domain blocks, allows, decisions --
        ("GET", "/api/v1/instance/domain_blocks", instance.get_instance_domain_blocks),
        ("GET", "/api/v1/admin/domain_blocks", admin_domains.list_domain_blocks),
        ("POST", "/api/v1/admin/domain_blocks", admin_domains.create_domain_block),
        ("GET", "/api/v1/admin/domain_blocks/preview", admin_domains.preview_domain_block),
        ("GET", "/api/v1/admin/domain_blocks/export", admin_domains.export_domain_blocks),
        ("POST", "/api/v1/admin/domain_blocks/import", admin_domains.import_domain_blocks),
        ("GET", r"/api/v1/admin/domain_blocks/{id:\d+}", admin_domains.get_domain_block),
        ("PUT", r"/api/v1/admin/domain_blocks/{id:\d+}", admin_domains.update_domain_block),
        ("DELETE", r"/api/v1/admin/domain_blocks/{id:\d+}", admin_domains.delete_domain_block),
        ("GET", "/api/v1/admin/domain_allows", admin_domains.list_domain_allows),
        ("POST", "/api/v1/admin/domain_allows", admin_domains.create_domain_allow),
        ("GET", r"/api/v1/admin/domain_allows/{id:\d+}", admin_domains.get_domain_allow),
        ("DELETE", r"/api/v1/admin/domain_allows/{id:\d+}", admin_domains.delete_domain_allow),
        ("GET", "/api/v1/admin/policy/decisions", admin_domains.list_policy_decisions),
        # -- end policy --
    ]
    for method, path, handler in table:
        app.router.add_route(method, path, handler)
        if method == "GET" and not path.endswith("/"):
            # Apps ask for /api/v2/instance/ too; answer both without a redirect.
            app.router.add_route(method, path + "/", handler)
