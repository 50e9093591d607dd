"""The web login: ``/auth/sign_in`` (email or username and password, the instance's rules
beside the form) and ``/auth/sign_out``. A login starts a web session
(``fedinode.web.sessions``) for the pages that need one: settings and the admin panel.

Both forms carry the CSRF token (a login form without one lets another site log a visitor
in to an account of its choosing). Logins are counted per address with the OAuth login
form (``[rate_limits]``)."""

from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp import web

from fedinode import appkeys
from fedinode.api.params import read_params
from fedinode.services import oauth
from fedinode.services.passwords import cost_from_config
from fedinode.web import csrf, sessions
from fedinode.web.render import page_translator, render


def safe_next(value: str | None) -> str:
    """Where to go after logging in: a path on this server only, never another site."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return "/"
    return value


async def _page(
    request: web.Request, *, login: str = "", error: str = "", status: int = 200
) -> web.Response:
    t = await page_translator(request)
    return await render(
        request,
        "sign_in.html",
        status=status,
        title=t("Log in to {title}", title=request.app[appkeys.CONFIG].instance.title),
        login=login,
        error=error,
        next=safe_next(request.query.get("next")),
    )


async def sign_in_page(request: web.Request) -> web.Response:
    user = await sessions.viewer(request)
    if user is not None:
        raise web.HTTPFound(safe_next(request.query.get("next")))
    return await _page(request)


async def sign_in_submit(request: web.Request) -> web.Response:
    params = await read_params(request)
    await csrf.require(request, params)
    login = (params.str("login") or "").strip()
    store = request.app[appkeys.STORE]
    config = request.app[appkeys.CONFIG]
    user, refused = await oauth.login_outcome(
        store, login, params.str("password") or "", cost_from_config(config.passwords)
    )
    if user is None:
        return await _page(request, login=login, error=refused, status=422)
    response = web.HTTPSeeOther(safe_next(params.str("next")))
    await sessions.log_in(request, response, user)
    raise response


async def sign_out(request: web.Request) -> web.Response:
    params = await read_params(request)
    await csrf.require(request, params)
    response = web.HTTPSeeOther("/")
    await sessions.log_out(request, response)
    raise response


ROUTES = (
    ("GET", "/auth/sign_in", sign_in_page),
    ("POST", "/auth/sign_in", sign_in_submit),
    ("POST", "/auth/sign_out", sign_out),
)
