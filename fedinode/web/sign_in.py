"""Logging in to the web pages (settings, admin panel): /auth/sign_in and /auth/sign_out.

The login is an e-mail address or username and the password (``oauth.login_outcome``: the
same rules and messages as the OAuth login page). An account with two-factor on is then
asked for a code on a second form that carries a short-lived token signed for this user
and this browser (no session exists until the code is right). Every form carries the
CSRF token of ``fedinode.web.csrf``.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from aiohttp import web

from fedinode import appkeys
from fedinode.api.params import read_params
from fedinode.services import oauth, two_factor
from fedinode.services.passwords import cost_from_config
from fedinode.web import csrf, sessions
from fedinode.web.i18n import N_
from fedinode.web.render import page_translator, render
from storage.models import User

ASK_CODE = N_("Enter the code from your two-factor app (or a recovery code).")
WRONG_CODE = N_("The two-factor code is wrong or was already used.")
_PENDING_SECRET = "web-login-otp"
_PENDING_TTL_S = 300


def safe_next(value: str | None) -> str:
    """Where to go after logging in: a path on this site, never another site."""
    if value and value.startswith("/") and not value.startswith(("//", "/\\")):
        return value
    return "/settings"


async def _pending_mac(request: web.Request, user_id: int, expires: int) -> str:
    secret = await request.app[appkeys.STORE].oauth.instance_secret(_PENDING_SECRET)
    browser = request.cookies.get(csrf.COOKIE, "")
    message = f"{user_id}.{expires}.{browser}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


async def _pending_token(request: web.Request, user: User) -> str:
    expires = int(time.time()) + _PENDING_TTL_S
    return f"{user.id}.{expires}.{await _pending_mac(request, user.id, expires)}"


async def _pending_user(request: web.Request, token: str) -> User | None:
    try:
        user_id_s, expires_s, mac = token.split(".", 2)
        user_id, expires = int(user_id_s), int(expires_s)
    except ValueError:
        return None
    if expires < time.time():
        return None
    if not hmac.compare_digest(await _pending_mac(request, user_id, expires), mac):
        return None
    return await request.app[appkeys.STORE].users.get(user_id)


async def _form(
    request: web.Request,
    *,
    next_url: str,
    login: str = "",
    error: str = "",
    pending: str = "",
    status: int = 200,
) -> web.Response:
    t = await page_translator(request)
    return await render(
        request,
        "sign_in.html",
        status=status,
        title=t("Log in"),
        next_url=next_url,
        login=login,
        error=error,
        pending=pending,
    )


async def sign_in_page(request: web.Request) -> web.Response:
    if await sessions.viewer(request) is not None:
        raise web.HTTPFound(safe_next(request.query.get("next")))
    return await _form(request, next_url=safe_next(request.query.get("next")))


async def sign_in_submit(request: web.Request) -> web.StreamResponse:
    params = await read_params(request)
    next_url = safe_next(params.str("next"))
    if not await csrf.verify(request, params):
        return await _form(request, next_url=next_url, error=csrf.EXPIRED, status=403)
    store = request.app[appkeys.STORE]
    pending = params.str("pending") or ""
    if pending:
        user = await _pending_user(request, pending)
        if user is None:
            return await _form(request, next_url=next_url, error=csrf.EXPIRED, status=403)
        if not await two_factor.check(store, user, params.str("otp") or ""):
            return await _form(
                request, next_url=next_url, error=WRONG_CODE, pending=pending, status=422
            )
        return await _logged_in(request, user, next_url)
    login = params.str("login") or ""
    cost = cost_from_config(request.app[appkeys.CONFIG].passwords)
    found, refused = await oauth.login_outcome(store, login, params.str("password") or "", cost)
    if found is None:
        return await _form(request, next_url=next_url, login=login, error=refused, status=422)
    if await two_factor.enabled(store, found):
        token = await _pending_token(request, found)
        return await _form(request, next_url=next_url, error=ASK_CODE, pending=token)
    return await _logged_in(request, found, next_url)


async def _logged_in(request: web.Request, user: User, next_url: str) -> web.StreamResponse:
    # A new session token at every login: a token planted before it is worth nothing.
    response = web.HTTPSeeOther(next_url)
    await sessions.log_in(request, response, user)
    raise response


async def sign_out(request: web.Request) -> web.StreamResponse:
    params = await read_params(request)
    await csrf.require(request, params)
    response = web.HTTPSeeOther("/auth/sign_in")
    await sessions.log_out(request, response)
    raise response
