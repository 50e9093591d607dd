"""CSRF protection for the HTML forms: a token bound to a per-browser cookie.

``render`` gives every page a token (``csrf_input()`` in a template) and sets the cookie
``fedinode_csrf`` (random, HttpOnly, SameSite=Lax) the first time. The token is an HMAC of
the cookie under an instance secret, so a page on another site can neither read nor forge
it. A POST handler calls ``await csrf.verify(request, params)`` (or ``require``) before
acting on the form.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from aiohttp import web

from fedinode import appkeys
from fedinode.api.params import Params

COOKIE = "fedinode_csrf"
FIELD = "csrf_token"
_SECRET = "csrf"
_NEW = web.RequestKey("fedinode.csrf_new_cookie", str)


def _cookie(request: web.Request) -> str:
    """The browser's CSRF cookie, or a new one to be set by ``set_cookie``."""
    value = request.cookies.get(COOKIE, "")
    if 32 <= len(value) <= 64 and value.replace("-", "").replace("_", "").isalnum():
        return value
    new = request.get(_NEW)
    if not isinstance(new, str):
        new = secrets.token_urlsafe(32)
        request[_NEW] = new
    return new


async def _mac(request: web.Request, cookie: str) -> str:
    secret = await request.app[appkeys.STORE].oauth.instance_secret(_SECRET)
    return hmac.new(secret.encode(), cookie.encode(), hashlib.sha256).hexdigest()


async def token(request: web.Request) -> str:
    """The token a form on this page must send back in ``csrf_token``."""
    return await _mac(request, _cookie(request))


def secure(request: web.Request) -> bool:
    return request.app[appkeys.CONFIG].base_url.startswith("https://")


def set_cookie(request: web.Request, response: web.StreamResponse) -> None:
    """Set the cookie that ``token`` was bound to, if the browser did not have one."""
    new = request.get(_NEW)
    if isinstance(new, str):
        response.set_cookie(
            COOKIE, new, path="/", httponly=True, samesite="Lax", secure=secure(request)
        )


async def verify(request: web.Request, params: Params) -> bool:
    """Whether the form carries the token bound to this browser's cookie."""
    cookie = request.cookies.get(COOKIE, "")
    sent = params.str(FIELD) or ""
    if not cookie or not sent:
        return False
    return hmac.compare_digest(await _mac(request, cookie), sent)


async def require(request: web.Request, params: Params) -> None:
    """``verify`` or 403."""
    if not await verify(request, params):
        raise web.HTTPForbidden(text="The form expired; reload the page and try again.")
