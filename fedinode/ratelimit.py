"""Rate limits (``[rate_limits]``), one middleware in front of every handler.

What is counted, and under which key (Mastodon's defaults, see config.RateLimitsConfig):

- per client address (``client_ip``; IPv6 by /64): ``POST /oauth/token``,
  ``POST /oauth/authorize`` (the login form), ``POST /api/v1/apps``, ``POST /api/v1/accounts``
  and every other ``/api/`` request made without a valid token;
- per token and per account: every ``/api/`` request made with a token; per account again
  for writes (POST/PUT/PATCH/DELETE) and media uploads;
- per peer host: inbox POSTs, keyed by the host of the signature's keyId, read from the
  header without verifying anything (a request without one counts under its address).

The check runs before the handler, so a refused request costs a counter increment: a
password flood is answered 429 without hashing the password, and the attempts it lets
through from one address are checked one at a time (never a pool of hashes beside real
users' logins). Beyond a limit the answer is
429 ``{"error": "Too many requests"}`` with ``Retry-After`` (seconds) and the headers
Mastodon sends and clients read: ``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and
``X-RateLimit-Reset`` (ISO 8601). ``/api/`` answers carry the ``X-RateLimit-*`` headers
of the tightest limit they counted against, so clients can pace themselves.

Counters live in memory (per process) or in Redis (``storage = "redis://…"``, shared by
every process and worker). If the storage fails, requests are let through and the failure
is logged: a Redis outage must not take the instance down with it.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
from aiohttp import web
from aiohttp.typedefs import Middleware
from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import (
    FixedWindowRateLimiter,
    MovingWindowRateLimiter,
    RateLimiter,
    SlidingWindowCounterRateLimiter,
)

from activitypub.signatures import key_id_host
from fedinode.api import auth, schemas
from fedinode.client_ip import Networks, bucket, client_ip, parse_address
from fedinode.config import RATE_LIMIT_KEYS, Config, RateLimitsConfig
from fedinode.errors import ApiError

log = logging.getLogger("fedinode.ratelimit")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_PER_IP_POSTS = {
    "/oauth/token": "oauth_token",
    "/oauth/authorize": "oauth_authorize",
    # The web login and the settings forms that check a password or a two-factor code are
    # guesses like the OAuth login form, counted with it.
    "/auth/sign_in": "oauth_authorize",
    "/settings/password": "oauth_authorize",
    "/settings/two_factor/confirm": "oauth_authorize",
    "/settings/two_factor/disable": "oauth_authorize",
    "/api/v1/apps": "apps",
    "/api/v1/accounts": "sign_up",
    "/auth/sign_up": "sign_up",
    # Each of these sends a mail: counted with sign-ups, so nobody floods a mailbox.
    "/api/v1/emails/confirmations": "sign_up",
    "/auth/password/reset": "sign_up",
}
_LOGINS = frozenset({"oauth_token", "oauth_authorize"})
_MEDIA_PATHS = frozenset({"/api/v1/media", "/api/v2/media"})
_INBOX = re.compile(r"^/(?:inbox|actor/inbox|users/[^/]+/inbox)$")
_KEY_ID = re.compile(r"""keyid\s*=\s*"([^"]{1,2048})\"""", re.IGNORECASE)
_LOG_EVERY_SECONDS = 60.0
_STRATEGIES: dict[str, Callable[[Storage], RateLimiter]] = {
    "fixed-window": FixedWindowRateLimiter,
    "moving-window": MovingWindowRateLimiter,
    "sliding-window-counter": SlidingWindowCounterRateLimiter,
}


def parse_limit(text: str) -> tuple[RateLimitItem, ...]:
    """``"25/5minutes"`` → the items; ``"0"`` or ``""`` → none (the limit is off)."""
    value = text.strip()
    if value in ("", "0"):
        return ()
    return tuple(parse_many(value))


def open_storage(uri: str) -> Storage:
    """The counters' storage for ``[rate_limits] storage``: memory:// or redis://…"""
    if uri.startswith("memory://"):
        return MemoryStorage()
    return RedisStorage(f"async+{uri}", implementation="redispy", wrap_exceptions=True)


def reset_header(reset: float) -> str:
    """Mastodon's ``X-RateLimit-Reset``: UTC, ISO 8601 with microseconds."""
    return datetime.fromtimestamp(reset, UTC).isoformat(timespec="microseconds")[:-6] + "Z"


def peer_host(request: web.Request) -> str:
    """The keyId host of an inbox POST's signature (draft-cavage ``Signature`` or
    ``Authorization: Signature``, RFC 9421 ``Signature-Input``), "" if there is none.
    Nothing is verified here; the inbox does that."""
    headers = request.headers
    for name in ("Signature-Input", "Signature", "Authorization"):
        value = headers.get(name)
        if value:
            found = _KEY_ID.search(value)
            if found:
                return key_id_host(found.group(1))
    return ""


@dataclass(frozen=True, slots=True)
class _Count:
    """One limit counted for one request: the setting's name and the key it counts under."""

    name: str
    items: tuple[RateLimitItem, ...]
    key: str


class RateLimits:
    """The configured limits and their counters; ``middleware`` enforces them."""

    def __init__(self, settings: RateLimitsConfig, trusted_proxies: tuple[str, ...]) -> None:
        self.trusted = Networks(trusted_proxies)
        self.exempt = Networks(settings.exempt)
        self.limits = {key: parse_limit(getattr(settings, key)) for key in RATE_LIMIT_KEYS}
        self.storage = open_storage(settings.storage)
        self.limiter = _STRATEGIES[settings.strategy](self.storage)
        self._last_failure_log = 0.0
        self._logins: dict[str, tuple[asyncio.Lock, int]] = {}

    def _count(self, name: str, key: str) -> _Count | None:
        items = self.limits[name]
        return _Count(name, items, key) if items else None

    async def counts(self, request: web.Request, ip: str) -> list[_Count]:
        """The limits this request counts against, cheapest first."""
        method = request.method
        path = request.path.rstrip("/") or "/"
        by_ip = bucket(ip)
        found: list[_Count | None] = []
        if method == "POST":
            name = _PER_IP_POSTS.get(path)
            if name is not None:
                found.append(self._count(name, by_ip))
            elif _INBOX.match(path):
                host = peer_host(request)
                found.append(self._count("inbox", f"host:{host}" if host else f"ip:{by_ip}"))
        if path.startswith("/api/"):
            found.extend(await self._api_counts(request, method, path, by_ip))
        return [c for c in found if c is not None]

    async def _api_counts(
        self, request: web.Request, method: str, path: str, by_ip: str
    ) -> list[_Count | None]:
        principal = None
        if auth.bearer_token(request) is not None:
            try:
                # Cached on the request: the handler does not look the token up again.
                principal = await auth.current(request)
            except ApiError:
                principal = None  # an invalid token counts as no token (by address)
        if principal is None:
            return [self._count("api_unauthenticated", by_ip)]
        token = f"token:{principal.token.id}"
        owner = token if principal.account_id is None else f"account:{principal.account_id}"
        found = [self._count("api_per_token", token)]
        if principal.account_id is not None:
            found.append(self._count("api_per_account", owner))
        if method in _WRITE_METHODS:
            found.append(self._count("writes_per_account", owner))
            if method == "POST" and path in _MEDIA_PATHS:
                found.append(self._count("media", owner))
        return found

    async def _check(
        self, counts: list[_Count], *, stats: bool
    ) -> tuple[RateLimitItem, float, int] | web.Response | None:
        """Count the request: a 429 response when over a limit, else (with ``stats``) the
        tightest (item, reset, remaining) for the headers."""
        tightest: tuple[RateLimitItem, float, int] | None = None
        for count in counts:
            for item in count.items:
                if not await self.limiter.hit(item, count.name, count.key):
                    reset, _ = await self.limiter.get_window_stats(item, count.name, count.key)
                    log.info("rate limit %s (%s) reached by %s", count.name, item, count.key)
                    return too_many(item, reset)
                if stats:
                    reset, remaining = await self.limiter.get_window_stats(
                        item, count.name, count.key
                    )
                    if tightest is None or remaining < tightest[2]:
                        tightest = (item, reset, remaining)
        return tightest

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        ip = client_ip(request, self.trusted)
        if self.exempt and parse_address(ip) in self.exempt:
            return await handler(request)
        counts = await self.counts(request, ip)
        if not counts:
            return await handler(request)
        api = request.path.startswith("/api/")
        try:
            outcome = await self._check(counts, stats=api)
        except Exception:  # the storage is down: serve rather than fail every request
            self._log_failure()
            return await handler(request)
        if isinstance(outcome, web.Response):
            return outcome
        if request.method == "POST" and counts[0].name in _LOGINS:
            response = await self._one_at_a_time(counts[0].key, handler, request)
        else:
            response = await handler(request)
        if outcome is not None and api and not response.prepared:
            item, reset, remaining = outcome
            response.headers.update(limit_headers(item, reset, remaining))
        return response

    async def _one_at_a_time(
        self, key: str, handler: Handler, request: web.Request
    ) -> web.StreamResponse:
        """Password checks from one address run one after the other: the attempts a limit
        lets through cost one hash at a time, not a pool of them beside real users' logins."""
        lock, waiting = self._logins.get(key) or (asyncio.Lock(), 0)
        self._logins[key] = (lock, waiting + 1)
        try:
            async with lock:
                return await handler(request)
        finally:
            lock, waiting = self._logins[key]
            if waiting == 1:
                del self._logins[key]
            else:
                self._logins[key] = (lock, waiting - 1)

    def _log_failure(self) -> None:
        now = time.monotonic()
        if now - self._last_failure_log >= _LOG_EVERY_SECONDS:
            self._last_failure_log = now
            log.exception("rate limit storage failed; requests are not limited meanwhile")


def limit_headers(item: RateLimitItem, reset: float, remaining: int) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(item.amount),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": reset_header(reset),
    }


def too_many(item: RateLimitItem, reset: float) -> web.Response:
    retry_after = max(1, math.ceil(reset - time.time()))
    return web.Response(
        status=429,
        body=orjson.dumps(schemas.error_to_api("Too many requests")),
        content_type="application/json",
        headers={"Retry-After": str(retry_after), **limit_headers(item, reset, 0)},
    )


def rate_limit_middlewares(config: Config) -> list[Middleware]:
    """The middleware for ``create_app`` (none when ``[rate_limits] enabled = false``)."""
    if not config.rate_limits.enabled:
        return []
    limits = RateLimits(config.rate_limits, config.server.trusted_proxies)
    return [limits.middleware]
