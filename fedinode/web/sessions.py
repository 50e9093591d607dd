"""Web login sessions: who is logged in to the settings pages and the admin panel.

Logging in on ``/auth/sign_in`` makes a session whose random token is the HttpOnly cookie
``fedinode_session`` (SameSite=Lax; Secure on https); the database keeps only its digest.
``await viewer(request)`` is the logged-in ``User`` (cached on the request), or None.
Sessions last 30 days after their last use; logging out, changing or resetting the
password, or revoking a session in the settings ends them. Expired sessions (and expired
e-mail confirmation and password reset tokens) are deleted once an hour by one process of
the fleet (``sweep_ctx``, a periodic job with a lease row), not only at the user's next login.
"""

from __future__ import annotations

import logging
import secrets
from urllib.parse import urlencode

from aiohttp import web

from fedinode import appkeys
from fedinode.client_ip import Networks, client_ip
from fedinode.fleet_jobs import fleet_job_ctx
from storage.ids import now_ms
from storage.models import User
from storage.store import Store
from storage.web_sessions import WebSession

COOKIE = "fedinode_session"
TTL_MS = 30 * 24 * 3600 * 1000
_TOUCH_EVERY_MS = 3600 * 1000
SWEEP_JOB = "web_session_sweep"  # its lease row (activitypub.periodic)
SWEEP_EVERY_S = 3600.0
log = logging.getLogger("fedinode.web.sessions")
_LOADED: web.RequestKey[tuple[WebSession | None, User | None]] = web.RequestKey(
    "fedinode.web_session"
)


async def _load(request: web.Request) -> tuple[WebSession | None, User | None]:
    if _LOADED in request:
        return request[_LOADED]
    session: WebSession | None = None
    user: User | None = None
    raw = request.cookies.get(COOKIE, "")
    if raw and len(raw) <= 100:
        store = request.app[appkeys.STORE]
        session = await store.web_sessions.by_token(raw)
        if session is not None:
            user = await store.users.get(session.user_id)
            if user is None or user.disabled or not user.approved:
                session, user = None, None
            else:
                account = await store.accounts.get(user.account_id)
                if account is None or account.suspended:
                    session, user = None, None
        if session is not None and session.last_seen_at + _TOUCH_EVERY_MS < now_ms():
            await store.web_sessions.touch(session.id, ttl_ms=TTL_MS)
    request[_LOADED] = (session, user)
    return session, user


async def viewer(request: web.Request) -> User | None:
    """The logged-in user of this request, or None."""
    return (await _load(request))[1]


async def current_session(request: web.Request) -> WebSession | None:
    return (await _load(request))[0]


async def log_in(request: web.Request, response: web.StreamResponse, user: User) -> None:
    """Start a session for ``user`` and set its cookie on ``response``; a session this
    browser had (as anyone) ends."""
    raw = secrets.token_urlsafe(32)
    store = request.app[appkeys.STORE]
    previous = await current_session(request)
    if previous is not None:
        await store.web_sessions.delete(previous.id, user_id=previous.user_id)
    request[_LOADED] = (None, None)
    await store.web_sessions.prune(user.id)
    await store.web_sessions.create(
        user.id,
        raw,
        ttl_ms=TTL_MS,
        user_agent=request.headers.get("User-Agent", ""),
        ip=client_ip(request, Networks(request.app[appkeys.CONFIG].server.trusted_proxies)),
    )
    response.set_cookie(
        COOKIE,
        raw,
        path="/",
        httponly=True,
        samesite="Lax",
        secure=request.app[appkeys.CONFIG].base_url.startswith("https://"),
        max_age=TTL_MS // 1000,
    )


async def log_out(request: web.Request, response: web.StreamResponse) -> None:
    session = await current_session(request)
    if session is not None:
        await request.app[appkeys.STORE].web_sessions.delete(session.id, user_id=session.user_id)
    request[_LOADED] = (None, None)
    response.del_cookie(COOKIE, path="/")


async def require_viewer(request: web.Request) -> User:
    """The logged-in user, or a redirect to the login page that comes back here."""
    user = await viewer(request)
    if user is None:
        raise web.HTTPFound("/auth/sign_in?" + urlencode({"next": request.path_qs}))
    return user


async def sweep_expired(store: Store, now: int | None = None) -> tuple[int, int]:
    """Delete expired web sessions and e-mail tokens; (sessions, tokens) deleted."""
    at = now_ms() if now is None else now
    swept = await store.web_sessions.prune_expired(at), await store.user_tokens.prune_expired(at)
    if any(swept):
        log.info("deleted %d expired web session(s) and %d expired e-mail token(s)", *swept)
    return swept


# Run ``sweep_expired`` once per ``SWEEP_EVERY_S`` across the fleet, until shutdown.
sweep_ctx = fleet_job_ctx(SWEEP_JOB, SWEEP_EVERY_S, sweep_expired, task="fedinode-web-session-sweep")
