"""Who is calling: bearer tokens, the Principal behind them, and scope checks.

Handlers declare what they need with a decorator::

    @require_scopes("write:statuses")
    async def post_status(request): principal(request) ...

    @authenticated(optional=True, scopes=("read:statuses",))
    async def get_status(request): current_cached(request) may be None

Scope semantics follow Mastodon: ``read`` covers every ``read:*``, ``write`` every
``write:*``, the legacy ``follow`` covers the follow/block/mute scopes, ``admin:read`` every
``admin:read:*`` and ``admin:write`` every ``admin:write:*``. Several scopes given to one
decorator mean "any of these".
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from aiohttp import web

from fedinode import appkeys
from fedinode.errors import Forbidden, Unauthorized
from storage.ids import now_ms
from storage.models import Account, OAuthToken, User

READ_SCOPES = frozenset(
    f"read:{s}"
    for s in (
        "accounts", "blocks", "bookmarks", "favourites", "filters", "follows", "lists",
        "mutes", "notifications", "search", "statuses",
    )
)  # fmt: skip
WRITE_SCOPES = frozenset(
    f"write:{s}"
    for s in (
        "accounts", "blocks", "bookmarks", "conversations", "favourites", "filters",
        "follows", "lists", "media", "mutes", "notifications", "reports", "statuses",
    )
)  # fmt: skip
FOLLOW_SCOPES = frozenset(
    {"read:blocks", "write:blocks", "read:follows", "write:follows", "read:mutes", "write:mutes"}
)
_ADMIN_OBJECTS = (
    "accounts", "reports", "domain_allows", "domain_blocks", "ip_blocks",
    "email_domain_blocks", "canonical_email_blocks",
)  # fmt: skip
ADMIN_READ_SCOPES = frozenset(f"admin:read:{s}" for s in _ADMIN_OBJECTS)
ADMIN_WRITE_SCOPES = frozenset(f"admin:write:{s}" for s in _ADMIN_OBJECTS)
TOP_SCOPES = frozenset({"read", "write", "follow", "push", "profile", "admin:read", "admin:write"})
KNOWN_SCOPES = TOP_SCOPES | READ_SCOPES | WRITE_SCOPES | ADMIN_READ_SCOPES | ADMIN_WRITE_SCOPES

INVALID_TOKEN = "The access token is invalid"
OUTSIDE_SCOPES = "This action is outside the authorized scopes"
_LAST_USED_EVERY_MS = 3_600_000


def parse_scopes(value: str | Iterable[str] | None) -> list[str]:
    """``"read write"`` or ``"read+write"`` or a list → ordered, de-duplicated scope names."""
    if value is None:
        return []
    if isinstance(value, str):
        items = value.replace("+", " ").replace(",", " ").split()
    else:
        items = [s for v in value for s in str(v).replace("+", " ").split()]
    return list(dict.fromkeys(items))


def unknown_scopes(scopes: Iterable[str]) -> list[str]:
    return [s for s in scopes if s not in KNOWN_SCOPES]


def scope_covers(granted: Iterable[str], required: str) -> bool:
    """Whether a token holding ``granted`` may act under ``required``."""
    have = granted if isinstance(granted, frozenset | set) else set(granted)
    if required in have:
        return True
    if required in READ_SCOPES and "read" in have:
        return True
    if required in WRITE_SCOPES and "write" in have:
        return True
    if required in FOLLOW_SCOPES and "follow" in have:
        return True
    if required in ADMIN_READ_SCOPES and "admin:read" in have:
        return True
    return required in ADMIN_WRITE_SCOPES and "admin:write" in have


def scopes_subset(requested: Iterable[str], allowed: Iterable[str]) -> bool:
    """Every requested scope is granted by (or implied by) the allowed set."""
    allowed_set = set(allowed)
    return all(scope_covers(allowed_set, s) for s in requested)


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller: a token, and the user and account it acts for (None for app tokens)."""

    token: OAuthToken
    scopes: frozenset[str]
    user: User | None
    account: Account | None
    app_id: int | None

    def allows(self, *required: str) -> bool:
        return not required or any(scope_covers(self.scopes, r) for r in required)

    @property
    def account_id(self) -> int | None:
        return None if self.account is None else self.account.id


_PRINCIPAL_KEY: web.RequestKey[Principal | None] = web.RequestKey("fedinode.principal")


def bearer_token(request: web.Request) -> str | None:
    """The token from ``Authorization: Bearer``, the ``access_token`` query parameter, or the
    WebSocket subprotocol header (how browsers pass it to the streaming API)."""
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        token = header[7:].strip()
        return token or None
    token = request.query.get("access_token", "").strip()
    if token:
        return token
    proto = request.headers.get("Sec-WebSocket-Protocol", "").strip()
    if proto and "," not in proto:
        return proto
    return None


async def _load(request: web.Request) -> Principal | None:
    raw = bearer_token(request)
    if raw is None:
        return None
    store = request.app[appkeys.STORE]
    found = await store.oauth.bearer(raw)
    if found is None:
        raise Unauthorized(INVALID_TOKEN)
    token, user, account = found
    if token.user_id is not None:
        if user is None or account is None:
            raise Unauthorized(INVALID_TOKEN)
        if user.confirmed_at is None:
            raise Forbidden("Your login is missing a confirmed e-mail address")
        if user.disabled:
            raise Forbidden("Your login is currently disabled")
        if account.suspended:
            raise Forbidden("Your login is currently disabled")
        if not user.approved:
            raise Forbidden("Your login is currently pending approval")
    now = now_ms()
    if token.last_used_at is None or now - token.last_used_at > _LAST_USED_EVERY_MS:
        await store.oauth.touch_token(token.id, now)
    made = _principals.get(token.id)
    if made is not None and made.token is token and made.user is user and made.account is account:
        return made  # the lookup gave the very objects of last time: nothing changed
    made = Principal(
        token=token,
        scopes=frozenset(parse_scopes(token.scopes)),
        user=user,
        account=account,
        app_id=token.app_id,
    )
    if len(_principals) >= _PRINCIPALS_LIMIT:
        _principals.clear()
    _principals[token.id] = made
    return made


# The Principal last made for each token (it is immutable; the token lookup gives the same
# objects while its cache keeps them, storage.token_cache).
_principals: dict[int, Principal] = {}
_PRINCIPALS_LIMIT = 1024


async def current(request: web.Request) -> Principal | None:
    """The caller, or None when no token was sent; 401 for a bad token. Cached per request."""
    if _PRINCIPAL_KEY in request:
        return request[_PRINCIPAL_KEY]
    found = await _load(request)
    request[_PRINCIPAL_KEY] = found
    return found


def current_cached(request: web.Request) -> Principal | None:
    """The caller after a decorator has authenticated the request."""
    return request.get(_PRINCIPAL_KEY)


def principal(request: web.Request) -> Principal:
    """The authenticated caller (the decorator guarantees one); a user token."""
    found = current_cached(request)
    if found is None:
        raise Unauthorized(INVALID_TOKEN)
    return found


def viewer_account(request: web.Request) -> Account:
    """The caller's account; for handlers decorated with ``require_scopes``."""
    found = principal(request)
    if found.account is None:
        raise Unauthorized("This method requires an authenticated user")
    return found.account


def viewer_id(request: web.Request) -> int | None:
    found = current_cached(request)
    return None if found is None else found.account_id


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
H = TypeVar("H", bound=Handler)


async def check(
    request: web.Request,
    scopes: Iterable[str] = (),
    *,
    optional: bool = False,
    user: bool = True,
) -> Principal | None:
    """Authenticate and authorise; the decorators call this, and handlers may too."""
    found = await current(request)
    required = tuple(scopes)
    if found is None:
        if optional:
            return None
        raise Unauthorized(INVALID_TOKEN)
    if not found.allows(*required):
        raise Forbidden(OUTSIDE_SCOPES)
    if user and found.user is None and not optional:
        raise Unauthorized("This method requires an authenticated user")
    return found


def require_scopes(*scopes: str, user: bool = True) -> Callable[[H], H]:
    """A handler that needs a token holding any of ``scopes`` (and a user, by default)."""

    def decorate(handler: H) -> H:
        @functools.wraps(handler)
        async def wrapper(request: web.Request) -> web.StreamResponse:
            await check(request, scopes, user=user)
            return await handler(request)

        return wrapper  # type: ignore[return-value]

    return decorate


def authenticated(
    *, optional: bool = False, scopes: tuple[str, ...] = (), user: bool = True
) -> Callable[[H], H]:
    """A handler open to anonymous callers when ``optional``; a sent token is still checked."""

    def decorate(handler: H) -> H:
        @functools.wraps(handler)
        async def wrapper(request: web.Request) -> web.StreamResponse:
            await check(request, scopes, optional=optional, user=user)
            return await handler(request)

        return wrapper  # type: ignore[return-value]

    return decorate
