"""Application, Token and the OAuth answers."""

# No ``from __future__ import annotations``: TypedDict reads NotRequired from evaluated
# annotations (``__optional_keys__``), which the tests compare with the JSON sent.
from typing import NotRequired, TypedDict


class Application(TypedDict):
    id: str
    name: str
    website: str | None
    scopes: list[str]
    redirect_uri: str
    redirect_uris: list[str]
    vapid_key: str
    client_id: NotRequired[str]
    client_secret: NotRequired[str]
    client_secret_expires_at: NotRequired[int]


class Token(TypedDict):
    access_token: str
    token_type: str
    scope: str
    created_at: int


class OAuthError(TypedDict):
    error: str
    error_description: str


class OAuthMetadata(TypedDict):
    issuer: str
    service_documentation: str
    authorization_endpoint: str
    token_endpoint: str
    revocation_endpoint: str
    app_registration_endpoint: str
    scopes_supported: list[str]
    response_types_supported: list[str]
    response_modes_supported: list[str]
    code_challenge_methods_supported: list[str]
    grant_types_supported: list[str]
    token_endpoint_auth_methods_supported: list[str]
