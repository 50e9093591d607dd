"""The OAuth login and consent page: server-rendered HTML, no JavaScript, in the visitor's
language (``fedinode.web.render``; English when we do not ship theirs).

A browser logged in to this server (``fedinode.web.sessions``) sees only the consent, for
the account it is logged in as, with its CSRF token; any other browser sees the login form
(e-mail or username, password, then a two-factor code when the account has one)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aiohttp import web

from fedinode.web.i18n import N_
from fedinode.web.render import page_translator, render

_SCOPE_TEXT = {
    "read": N_("read all your account's data"),
    "write": N_("modify all your account's data"),
    "follow": N_("modify account relationships"),
    "push": N_("receive your push notifications"),
    "profile": N_("read only your account's profile information"),
    "admin:read": N_("read all data on the server"),
    "admin:write": N_("modify all data on the server"),
}

SESSION_ENDED = N_("This browser is no longer logged in; log in to continue.")

HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' *; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "Vary": "Accept-Language, Cookie",
}


async def authorize_page(
    request: web.Request,
    *,
    app_name: str,
    app_website: str | None,
    scopes: Sequence[str],
    hidden: Mapping[str, str],
    error: str | None = None,
    login: str = "",
    ask_otp: bool = False,
    account: str = "",
    other_account_url: str = "",
    status: int = 200,
) -> web.Response:
    """Login (email or username) and consent in one form; with ``account`` (the username
    this browser is logged in as), the consent alone, and a way to log in as someone else
    (``other_account_url``)."""
    t = await page_translator(request)
    website = (
        app_website if app_website and app_website.startswith(("https://", "http://")) else None
    )
    return await render(
        request,
        "oauth_authorize.html",
        status=status,
        headers=HEADERS,
        title=t("Authorize {app}", app=app_name),
        app_name=app_name,
        app_website=website,
        scopes=[(s, _SCOPE_TEXT.get(s)) for s in scopes],
        hidden=list(hidden.items()),
        error=error,
        login=login,
        ask_otp=ask_otp,
        account=account,
        other_account_url=other_account_url,
    )


async def code_page(request: web.Request, *, app_name: str, code: str) -> web.Response:
    """Out-of-band flows: show the code for the user to paste into the app."""
    t = await page_translator(request)
    return await render(
        request,
        "oauth_code.html",
        headers=HEADERS,
        title=t("Authorization code"),
        app_name=app_name,
        code=code,
    )


async def error_page(
    request: web.Request, *, title: str, message: str, status: int = 200
) -> web.Response:
    """``title`` and ``message`` in English; shown in the locale where the catalogue has them."""
    t = await page_translator(request)
    return await render(
        request,
        "message.html",
        status=status,
        headers=HEADERS,
        title=t(title),
        paragraphs=[t(message)],
    )
