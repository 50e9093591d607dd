"""OAuth 2 use cases: app registration, grants, PKCE, revocation, signed consent forms."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from fedinode.api.auth import scopes_subset, unknown_scopes
from fedinode.errors import ValidationFailed
from fedinode.services import two_factor
from fedinode.services.passwords import (
    ScryptCost,
    dummy_hash,
    hash_password,
    needs_rehash,
    verify_password,
)
from storage.models import OAuthApp, OAuthToken, User
from storage.store import Store

OOB = "urn:ietf:wg:oauth:2.0:oob"
DEFAULT_SCOPES = "read"
_FORM_SECRET = "oauth-form"
_FORM_TTL_S = 30 * 60


class OAuthError(Exception):
    """An RFC 6749 error: ``error`` code, human description, HTTP status."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


INVALID_CLIENT = (
    "Client authentication failed due to unknown client, no client authentication included,"
    " or unsupported authentication method."
)
INVALID_GRANT = (
    "The provided authorization grant is invalid, expired, revoked, does not match the"
    " redirection URI used in the authorization request, or was issued to another client."
)
INVALID_SCOPE = "The requested scope is invalid, unknown, or malformed."


def split_redirect_uris(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list) else value.split()
    return [u.strip() for u in items if isinstance(u, str) and u.strip()]


def valid_redirect_uri(uri: str) -> bool:
    if uri == OOB:
        return True
    if len(uri) > 2048 or not uri.isprintable():
        return False
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 -- raises ValueError for a port that is no port
    except ValueError:  # ``http://[::1`` and the like
        return False
    scheme = parts.scheme.lower()
    if not scheme or parts.fragment:
        return False
    if scheme in ("javascript", "data", "vbscript", "file"):
        return False
    # Native apps use custom schemes (``tusky://oauth``); web apps need a host.
    return bool(parts.hostname) or scheme not in ("http", "https")


async def register_app(
    store: Store,
    *,
    name: str,
    redirect_uris: list[str],
    scopes: list[str],
    website: str | None,
) -> tuple[OAuthApp, str]:
    """The new app and its client secret: only a digest is stored, so the caller shows the
    secret now or never."""
    if not name.strip():
        raise ValidationFailed("Validation failed: Application name can't be blank")
    if len(name) > 200:
        raise ValidationFailed("Validation failed: Application name is too long")
    if not redirect_uris:
        raise ValidationFailed("Validation failed: Redirect URI can't be blank")
    bad = [u for u in redirect_uris if not valid_redirect_uri(u)]
    if bad:
        raise ValidationFailed("Validation failed: Redirect URI must be an absolute URI.")
    if unknown_scopes(scopes):
        raise ValidationFailed("Validation failed: Scopes has an invalid value")
    secret = secrets.token_urlsafe(32)
    app = await store.oauth.create_app(
        name=name.strip(),
        website=website or None,
        redirect_uris="\n".join(redirect_uris),
        scopes=" ".join(scopes or [DEFAULT_SCOPES]),
        client_id=secrets.token_urlsafe(32),
        client_secret=secret,
    )
    return app, secret


async def authenticate_client(
    store: Store, client_id: str | None, client_secret: str | None
) -> OAuthApp:
    """The app whose id and secret were given; OAuthError(invalid_client) otherwise."""
    if not client_id or client_secret is None:
        raise OAuthError("invalid_client", INVALID_CLIENT, 401)
    app = await store.oauth.app_by_credentials(client_id, client_secret)
    if app is None:
        raise OAuthError("invalid_client", INVALID_CLIENT, 401)
    return app


def resolve_scopes(app: OAuthApp, requested: list[str]) -> list[str]:
    """Requested scopes (default: the app's) when every one is within the app's."""
    allowed = app.scopes.split()
    # Like Doorkeeper: no scope asked for means the default scope, "read".
    scopes = requested or (
        [DEFAULT_SCOPES] if scopes_subset([DEFAULT_SCOPES], allowed) else allowed
    )
    if unknown_scopes(scopes) or not scopes_subset(scopes, allowed):
        raise OAuthError("invalid_scope", INVALID_SCOPE)
    return scopes


async def issue_token(
    store: Store, app: OAuthApp | None, user_id: int | None, scopes: list[str]
) -> tuple[str, OAuthToken]:
    raw = secrets.token_urlsafe(32)
    token = await store.oauth.create_token(
        raw, app_id=None if app is None else app.id, user_id=user_id, scopes=" ".join(scopes)
    )
    return raw, token


INVALID_LOGIN = "Invalid email/username or password."
UNCONFIRMED_LOGIN = "Your login is missing a confirmed e-mail address"
PENDING_LOGIN = "Your login is currently pending approval"
DISABLED_LOGIN = "Your login is currently disabled"


async def check_login(store: Store, login: str, password: str, cost: ScryptCost) -> User | None:
    """The user with this email or username and password; None otherwise (also for disabled).
    A password hashed at another cost than ``cost`` is hashed again and stored."""
    user, _why = await login_outcome(store, login, password, cost)
    return user


async def login_outcome(
    store: Store, login: str, password: str, cost: ScryptCost
) -> tuple[User | None, str]:
    """``check_login`` with why a login is refused: the state of the account (unconfirmed,
    pending, disabled) is told only to someone who gave its password."""
    user = await store.users.by_login(login.strip())
    if user is None:
        # Spend the same time as a real check so timing does not reveal which logins exist.
        await asyncio.to_thread(verify_password, password, dummy_hash(cost))
        return None, INVALID_LOGIN
    if not await check_password(store, user, password, cost):
        return None, INVALID_LOGIN
    if user.confirmed_at is None:
        return None, UNCONFIRMED_LOGIN
    if user.disabled:
        return None, DISABLED_LOGIN
    if not user.approved:
        return None, PENDING_LOGIN
    account = await store.accounts.get(user.account_id)
    if account is None or account.suspended:
        return None, DISABLED_LOGIN
    return user, ""


async def check_password(store: Store, user: User, password: str, cost: ScryptCost) -> bool:
    """Whether ``password`` is the user's; when it is and its hash was made at another cost,
    the hash at ``cost`` replaces it (unless the password changed meanwhile)."""
    stored = user.password_hash
    if not await asyncio.to_thread(verify_password, password, stored):
        return False
    if needs_rehash(stored, cost):
        fresh = await asyncio.to_thread(hash_password, password, cost)
        await store.users.rehash_password(user.id, stored, fresh)
    return True


# RFC 7636's ``plain`` sends the secret itself through the browser; like Mastodon, only
# S256 is offered (``code_challenge_methods_supported``) and only S256 is taken.
PKCE_METHODS = ("S256",)
RESPONSE_MODES = ("query",)


def pkce_method(challenge: str, method: str) -> str:
    """The code challenge method to keep with the code ("" without a challenge); a challenge
    without a method is RFC 7636's ``plain``, refused like any method but S256."""
    if not challenge:
        return ""
    if method.upper() not in PKCE_METHODS:
        raise OAuthError("invalid_request", "The code challenge method must be S256.")
    return "S256"


def response_mode(value: str) -> str:
    """Codes come back in the redirect's query; ``fragment`` or ``form_post`` are refused
    rather than silently answered in the query."""
    if value and value not in RESPONSE_MODES:
        raise OAuthError("invalid_request", "The response mode is not supported.")
    return "query"


def pkce_matches(verifier: str, challenge: str, method: str | None) -> bool:
    if (method or "").upper() not in PKCE_METHODS:
        return False  # a code kept with ``plain`` (before it was refused) matches nothing
    digest = hashlib.sha256(verifier.encode()).digest()
    computed = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return hmac.compare_digest(computed, challenge)


async def create_code(
    store: Store,
    app: OAuthApp,
    user: User,
    *,
    redirect_uri: str,
    scopes: list[str],
    code_challenge: str | None,
    code_challenge_method: str | None,
) -> str:
    code = secrets.token_urlsafe(32)
    await store.oauth.create_code(
        code,
        app_id=app.id,
        user_id=user.id,
        redirect_uri=redirect_uri,
        scopes=" ".join(scopes),
        code_challenge=code_challenge or None,
        code_challenge_method=pkce_method(code_challenge or "", code_challenge_method or "")
        or None,
    )
    return code


async def exchange_code(
    store: Store,
    app: OAuthApp,
    *,
    code: str,
    redirect_uri: str | None,
    code_verifier: str | None,
) -> tuple[str, OAuthToken]:
    found = await store.oauth.take_code(code)
    if found is None or found.app_id != app.id:
        raise OAuthError("invalid_grant", INVALID_GRANT)
    # RFC 6749 §4.1.3: the exchange names the redirect the code was issued for (always
    # sent: /oauth/authorize requires one), so a code injected into another flow fails.
    if redirect_uri != found.redirect_uri:
        raise OAuthError("invalid_grant", INVALID_GRANT)
    if found.code_challenge:
        if not code_verifier or not pkce_matches(
            code_verifier, found.code_challenge, found.code_challenge_method
        ):
            raise OAuthError("invalid_grant", INVALID_GRANT)
    user = await store.users.get(found.user_id)
    if user is None or user.disabled:
        raise OAuthError("invalid_grant", INVALID_GRANT)
    return await issue_token(store, app, user.id, found.scopes.split())


async def password_grant(
    store: Store,
    app: OAuthApp,
    *,
    login: str,
    password: str,
    scopes: list[str],
    cost: ScryptCost,
) -> tuple[str, OAuthToken]:
    granted = resolve_scopes(app, scopes)
    user = await check_login(store, login, password, cost)
    # As Mastodon: an account with two-factor on cannot use the password grant (it has no
    # place for the code); it is refused like a wrong password, and logs in through
    # /oauth/authorize instead.
    if user is None or await two_factor.enabled(store, user):
        raise OAuthError("invalid_grant", INVALID_GRANT)
    return await issue_token(store, app, user.id, granted)


async def client_credentials_grant(
    store: Store, app: OAuthApp, scopes: list[str]
) -> tuple[str, OAuthToken]:
    return await issue_token(store, app, None, resolve_scopes(app, scopes))


async def revoke(store: Store, app: OAuthApp, token: str) -> None:
    """RFC 7009: revoking an unknown token (or another app's) is not an error, and does nothing."""
    await store.oauth.revoke_token(token, app_id=app.id)


# -- the consent form's token ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuthorizeRequest:
    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    state: str
    code_challenge: str
    code_challenge_method: str

    def canonical(self) -> str:
        return "\x1f".join(
            [
                self.client_id,
                self.redirect_uri,
                " ".join(self.scopes),
                self.state,
                self.code_challenge,
                self.code_challenge_method,
            ]
        )


async def sign_form(store: Store, request: AuthorizeRequest) -> str:
    """A token binding the consent form to exactly these parameters, valid for 30 minutes."""
    secret = await store.oauth.instance_secret(_FORM_SECRET)
    expires = str(int(time.time()) + _FORM_TTL_S)
    nonce = secrets.token_urlsafe(8)
    mac = hmac.new(
        secret.encode(), f"{expires}.{nonce}.{request.canonical()}".encode(), hashlib.sha256
    ).hexdigest()
    return f"{expires}.{nonce}.{mac}"


async def verify_form(store: Store, request: AuthorizeRequest, token: str) -> bool:
    try:
        expires, nonce, mac = token.split(".", 2)
        if int(expires) < time.time():
            return False
    except ValueError:
        return False
    secret = await store.oauth.instance_secret(_FORM_SECRET)
    expected = hmac.new(
        secret.encode(), f"{expires}.{nonce}.{request.canonical()}".encode(), hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(expected, mac)


async def app_for_authorize(store: Store, client_id: str, redirect_uri: str) -> OAuthApp:
    app = await store.oauth.app_by_client_id(client_id)
    if app is None:
        raise OAuthError("invalid_client", INVALID_CLIENT, 401)
    if redirect_uri not in app.redirect_uris.split():
        raise OAuthError(
            "invalid_redirect_uri",
            "The redirect uri included is not valid.",
        )
    return app
