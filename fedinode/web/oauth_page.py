"""The OAuth login and consent page: server-rendered HTML, no JavaScript, in the visitor's
language (``fedinode.web.render``; English when we do not ship theirs).

A browser logged in to this server (``fedinode.web.sessions``) sees only the consent, for
the account it is logged in as, with its CSRF token; any other browser sees the login form
(e-mail or username, password, then a two-factor code when the account has one), and is
logged in by it. Every scope Mastodon documents is described in words (``SCOPE_TEXT``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aiohttp import web

from fedinode.web.i18n import N_
from fedinode.web.render import page_translator, render

# Mastodon's words for its scopes (its doorkeeper.scopes strings).
SCOPE_TEXT = {
    "read": N_("read all your account's data"),
    "write": N_("modify all your account's data"),
    "follow": N_("modify account relationships"),
    "push": N_("receive your push notifications"),
    "profile": N_("read only your account's profile information"),
    "admin:read": N_("read all data on the server"),
    "admin:write": N_("modify all data on the server"),
    "read:accounts": N_("see accounts information"),
    "read:blocks": N_("see your blocks"),
    "read:bookmarks": N_("see your bookmarks"),
    "read:favourites": N_("see your favourites"),
    "read:filters": N_("see your filters"),
    "read:follows": N_("see your follows"),
    "read:lists": N_("see your lists"),
    "read:mutes": N_("see your mutes"),
    "read:notifications": N_("see your notifications"),
    "read:search": N_("search on your behalf"),
    "read:statuses": N_("see all posts"),
    "write:accounts": N_("modify your profile"),
    "write:blocks": N_("block accounts and domains"),
    "write:bookmarks": N_("bookmark posts"),
    "write:conversations": N_("mute and delete conversations"),
    "write:favourites": N_("favourite posts"),
    "write:filters": N_("create filters"),
    "write:follows": N_("follow people"),
    "write:lists": N_("create lists"),
    "write:media": N_("upload media files"),
    "write:mutes": N_("mute people and conversations"),
    "write:notifications": N_("clear your notifications"),
    "write:reports": N_("report other people"),
    "write:statuses": N_("publish posts"),
    "admin:read:accounts": N_("read sensitive information of all accounts"),
    "admin:read:reports": N_("read sensitive information of all reports and reported accounts"),
    "admin:read:domain_allows": N_("read sensitive information of all domain allows"),
    "admin:read:domain_blocks": N_("read sensitive information of all domain blocks"),
    "admin:read:ip_blocks": N_("read sensitive information of all IP blocks"),
    "admin:read:email_domain_blocks": N_("read sensitive information of all e-mail domain blocks"),
    "admin:read:canonical_email_blocks": N_(
        "read sensitive information of all canonical e-mail blocks"
    ),
    "admin:write:accounts": N_("perform moderation actions on accounts"),
    "admin:write:reports": N_("perform moderation actions on reports"),
    "admin:write:domain_allows": N_("perform moderation actions on domain allows"),
    "admin:write:domain_blocks": N_("perform moderation actions on domain blocks"),
    "admin:write:ip_blocks": N_("perform moderation actions on IP blocks"),
    "admin:write:email_domain_blocks": N_("perform moderation actions on e-mail domain blocks"),
    "admin:write:canonical_email_blocks": N_(
        "perform moderation actions on canonical e-mail blocks"
    ),
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
        scopes=[(s, SCOPE_TEXT.get(s)) for s in scopes],
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
