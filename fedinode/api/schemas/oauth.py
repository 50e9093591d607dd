"""Application, Token, the OAuth errors and metadata, and a status's application."""

from __future__ import annotations

from typing import TYPE_CHECKING

from storage.models import OAuthApp, OAuthToken

if TYPE_CHECKING:
    from fedinode.api import entities as e


def application_to_api(
    app: OAuthApp, *, vapid_key: str, client_secret: str | None = None
) -> e.Application:
    """Application entity with the instance's Web Push key; the credentials only in the
    registration response."""
    uris = app.redirect_uris.split()
    out: e.Application = {
        "id": str(app.id),
        "name": app.name,
        "website": app.website,
        "scopes": app.scopes.split(),
        "redirect_uri": "\n".join(uris),
        "redirect_uris": uris,
        "vapid_key": vapid_key,
    }
    if client_secret is not None:  # only stored hashed: the registration response has it
        out["client_id"] = app.client_id
        out["client_secret"] = client_secret
        out["client_secret_expires_at"] = 0
    return out


def status_application_to_api(app: OAuthApp | None) -> e.StatusApplication | None:
    if app is None:
        return None
    return {"name": app.name, "website": app.website}


def token_to_api(raw: str, token: OAuthToken) -> e.Token:
    return {
        "access_token": raw,
        "token_type": "Bearer",
        "scope": token.scopes,
        "created_at": token.created_at // 1000,
    }


def oauth_error_to_api(error: str, description: str) -> e.OAuthError:
    return {"error": error, "error_description": description}


def oauth_metadata_to_api(
    base_url: str, scopes: list[str], *, response_modes: list[str], pkce_methods: list[str]
) -> e.OAuthMetadata:
    return {
        "issuer": base_url + "/",
        "service_documentation": "https://docs.joinmastodon.org/",
        "authorization_endpoint": f"{base_url}/oauth/authorize",
        "token_endpoint": f"{base_url}/oauth/token",
        "revocation_endpoint": f"{base_url}/oauth/revoke",
        "app_registration_endpoint": f"{base_url}/api/v1/apps",
        "scopes_supported": scopes,
        "response_types_supported": ["code"],
        "response_modes_supported": response_modes,
        "code_challenge_methods_supported": pkce_methods,
        "grant_types_supported": ["authorization_code", "password", "client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
    }
