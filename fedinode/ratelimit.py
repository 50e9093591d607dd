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

Counters live in the database by default (``storage = "database"``: every process and
worker serving it counts a limit once, so ``serve --workers N`` does not multiply a login
limit by N), in Redis (``storage = "redis://…"``, shared the same way, and the choice for
limits on reads, which the database would pay a write for each), or in this process's
memory (``memory://``: per process). If the storage fails, requests are let through and the
failure is logged: an outage of the counters must not take the instance down with it.
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
from limits.aio.storage.base import SlidingWindowCounterSupport
from limits.aio.strategies import (
    FixedWindowRateLimiter,
    MovingWindowRateLimiter,
    RateLimiter,
    SlidingWindowCounterRateLimiter,
)

from activitypub.signatures import key_id_host
from fedinode import appkeys
from fedinode.api import auth, schemas
from fedinode.client_ip import Networks, bucket, client_ip, parse_address
from fedinode.config import RATE_LIMIT_KEYS, Config, RateLimitsConfig
from fedinode.errors import ApiError
from fedinode.fleet_jobs import fleet_job_ctx
from storage.ids import now_ms
from storage.rate_counters import RateCounterStore
from storage.store import Store

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
SWEEP_JOB = "rate_counter_sweep"  # its lease row (activitypub.periodic)
SWEEP_EVERY_S = 600.0
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


class DatabaseStorage(Storage, SlidingWindowCounterSupport):
    """The ``limits`` storage over the database's ``rate_counters`` (``storage.rate_counters``):
    what the in-memory storage does, for every process at once. ``counters`` is set when the
    first request arrives (the middleware exists before the store is open)."""

    def __init__(self) -> None:
        super().__init__()
        self.counters: RateCounterStore | None = None

    @property
    def base_exceptions(self) -> type[Exception]:
        return Exception

    def store(self) -> RateCounterStore:
        if self.counters is None:
            raise RuntimeError("rate-limit counters used before the database was opened")
        return self.counters

    async def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        counter = await self.store().hit(key, amount, round(expiry * 1000), now_ms())
        return counter.count

    async def decr(self, key: str, amount: int = 1) -> int:
        return await self.store().take_back(key, amount, now_ms())

    async def get(self, key: str) -> int:
        counter = await self.store().get(key, now_ms())
        return 0 if counter is None else counter.count

    async def get_expiry(self, key: str) -> float:
        counter = await self.store().get(key, now_ms())
        return time.time() if counter is None else counter.expires_at / 1000

    async def check(self) -> bool:
        await self.store().get("", now_ms())
        return True

    async def reset(self) -> int | None:
        return await self.store().clear_all()

    async def clear(self, key: str) -> None:
        await self.store().clear(key)

    # -- the sliding window counter: the previous and the current window's counters, as
    # the in-memory storage keeps them (and under the same keys).

    async def acquire_sliding_window_entry(
        self, key: str, limit: int, expiry: int, amount: int = 1
    ) -> bool:
        if amount > limit:
            return False
        now = time.time()
        previous_key, current_key = MemoryStorage.sliding_window_keys(key, expiry, now)
        previous, previous_ttl, current, _ = await self._window(previous_key, current_key,
                                                                 expiry, now)  # fmt: skip
        if math.floor(previous * previous_ttl / expiry + current) + amount > limit:
            return False
        current = await self.incr(current_key, 2 * expiry, amount)
        if math.floor(previous * previous_ttl / expiry + current) > limit:
            await self.decr(current_key, amount)  # another process took the last room
            return False
        return True

    async def get_sliding_window(self, key: str, expiry: int) -> tuple[int, float, int, float]:
        now = time.time()
        previous_key, current_key = MemoryStorage.sliding_window_keys(key, expiry, now)
        return await self._window(previous_key, current_key, expiry, now)

    async def clear_sliding_window(self, key: str, expiry: int) -> None:
        for window_key in MemoryStorage.sliding_window_keys(key, expiry, time.time()):
            await self.clear(window_key)

    async def _window(
        self, previous_key: str, current_key: str, expiry: int, now: float
    ) -> tuple[int, float, int, float]:
        previous = await self.get(previous_key)
        current = await self.get(current_key)
        previous_ttl = 0.0 if previous == 0 else (1 - (((now - expiry) / expiry) % 1)) * expiry
        current_ttl = (1 - ((now / expiry) % 1)) * expiry + expiry
        return previous, previous_ttl, current, current_ttl


def open_storage(uri: str) -> Storage:
    """The counters' storage for ``[rate_limits] storage``: database, memory:// or redis://…"""
    if uri == "database":
        return DatabaseStorage()
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
        # A fixed window in the database is counted in one statement per limit: the hit
        # returns the count and the window's end, which the headers show.
        self._database = self.storage if isinstance(self.storage, DatabaseStorage) else None
        self._one_statement = self._database is not None and settings.strategy == "fixed-window"
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
        if self._one_statement:
            return await self._check_in_database(counts)
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

    async def _check_in_database(
        self, counts: list[_Count]
    ) -> tuple[RateLimitItem, float, int] | web.Response | None:
        """``_check`` for fixed windows in the database: each limit one statement."""
        assert self._database is not None
        store = self._database.store()
        tightest: tuple[RateLimitItem, float, int] | None = None
        for count in counts:
            for item in count.items:
                key = item.key_for(count.name, count.key)
                counter = await store.hit(key, 1, item.get_expiry() * 1000, now_ms())
                reset = counter.expires_at / 1000
                if counter.count > item.amount:
                    log.info("rate limit %s (%s) reached by %s", count.name, item, count.key)
                    return too_many(item, reset)
                remaining = item.amount - counter.count
                if tightest is None or remaining < tightest[2]:
                    tightest = (item, reset, remaining)
        return tightest

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if self._database is not None and self._database.counters is None:
            self._database.counters = request.config_dict[appkeys.STORE].rate_counters
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


async def prune_counters(store: Store) -> int:
    """Delete the database counters that expired: a counter is read only while live, and
    each address or account that ever hit a limit would otherwise leave a row behind."""
    pruned = await store.rate_counters.prune_expired(now_ms())
    if pruned:
        log.info("deleted %d expired rate-limit counter(s)", pruned)
    return pruned


# ``prune_counters`` once per ``SWEEP_EVERY_S`` across the fleet, until shutdown.
counters_sweep_ctx = fleet_job_ctx(
    SWEEP_JOB, SWEEP_EVERY_S, prune_counters, task="fedinode-rate-counter-sweep"
)
