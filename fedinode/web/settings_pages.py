"""A logged-in user's settings: /settings (password, language), /settings/sessions (apps
and browsers signed in, each revocable) and /settings/two_factor (TOTP on or off; the key is shown as text, as an otpauth link and
as a QR code drawn on the server as inline SVG, so the page needs no script or image request).

Every page needs a web login (``fedinode.web.sessions``; otherwise a redirect to the login
page) and every form its CSRF token. Changing the password keeps this browser signed in and
signs out every other browser and every app, as Mastodon does.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web
from markupsafe import Markup

from fedinode import appkeys
from fedinode.api.params import read_params
from fedinode.errors import ValidationFailed
from fedinode.services import two_factor, users
from fedinode.services.passwords import MAX_LENGTH, MIN_LENGTH, cost_from_config, verify_password
from fedinode.web import csrf, sessions
from fedinode.web.i18n import LOCALES, N_
from fedinode.web.render import page_translator, render
from storage.ids import parse_id
from storage.models import User

_LANGUAGE_NAMES = {"en": "English", "fa": "فارسی"}


async def _page(
    request: web.Request, name: str, title: str, *, status: int = 200, **context: Any
) -> web.Response:
    t = await page_translator(request)
    return await render(request, name, status=status, title=t(title), **context)


async def _user_and_form(request: web.Request) -> tuple[User, Any]:
    user = await sessions.require_viewer(request)
    params = await read_params(request)
    await csrf.require(request, params)
    return user, params


# -- /settings: password and language -----------------------------------------------------


async def account_page(request: web.Request) -> web.Response:
    await sessions.require_viewer(request)
    return await _account(request)


async def _account(
    request: web.Request, *, notice: str = "", error: str = "", status: int = 200
) -> web.Response:
    return await _page(
        request,
        "settings_account.html",
        N_("Account settings"),
        status=status,
        notice=notice,
        error=error,
        languages=[(code, _LANGUAGE_NAMES.get(code, code)) for code in LOCALES],
        chosen=(viewer.locale if (viewer := await sessions.viewer(request)) else ""),
    )


async def password_submit(request: web.Request) -> web.Response:
    user, params = await _user_and_form(request)
    current = params.str("current_password") or ""
    new = params.str("new_password") or ""
    if new != (params.str("confirm_password") or ""):
        return await _account(request, error=N_("The new passwords do not match."), status=422)
    if not MIN_LENGTH <= len(new) <= MAX_LENGTH:
        error = N_("The password must be 8 to 1024 characters long.")
        return await _account(request, error=error, status=422)
    if new == current:
        error = N_("The new password must differ from the current one.")
        return await _account(request, error=error, status=422)
    session = await sessions.current_session(request)
    try:
        await users.change_password(
            request.app[appkeys.STORE],
            user,
            old_password=current,
            new_password=new,
            cost=cost_from_config(request.app[appkeys.CONFIG].passwords),
            keep_token_id=None,
            keep_session_id=None if session is None else session.id,
        )
    except ValidationFailed:
        error = N_("The current password is not right.")
        return await _account(request, error=error, status=422)
    notice = N_("Your password is changed. Every app and every other browser was signed out.")
    return await _account(request, notice=notice)


async def language_submit(request: web.Request) -> web.StreamResponse:
    user, params = await _user_and_form(request)
    locale = params.str("locale") or ""
    if locale and locale not in LOCALES:
        raise web.HTTPBadRequest(text="unknown language")
    await request.app[appkeys.STORE].users.update(user.id, locale=locale)
    raise web.HTTPSeeOther("/settings")


# -- /settings/sessions: apps and browsers --------------------------------------------------


async def sessions_page(request: web.Request) -> web.Response:
    user = await sessions.require_viewer(request)
    store = request.app[appkeys.STORE]
    tokens = await store.oauth.live_user_tokens(user.id)
    apps = await store.oauth.apps_many([tok.app_id for tok in tokens if tok.app_id is not None])
    current = await sessions.current_session(request)
    return await _page(
        request,
        "settings_sessions.html",
        N_("Sessions"),
        tokens=[
            {
                "id": tok.id,
                "app": apps[tok.app_id].name if tok.app_id in apps else "",
                "scopes": tok.scopes,
                "created_at": tok.created_at,
                "last_used_at": tok.last_used_at,
            }
            for tok in tokens
        ],
        browsers=[
            {
                "id": s.id,
                "user_agent": s.user_agent,
                "ip": s.ip,
                "last_seen_at": s.last_seen_at,
                "current": current is not None and s.id == current.id,
            }
            for s in await store.web_sessions.for_user(user.id)
        ],
    )


async def revoke_app_session(request: web.Request) -> web.StreamResponse:
    user, _ = await _user_and_form(request)
    token_id = parse_id(request.match_info["id"])
    if token_id is not None:
        await request.app[appkeys.STORE].oauth.revoke_user_token(user.id, token_id)
    raise web.HTTPSeeOther("/settings/sessions")


async def revoke_browser_session(request: web.Request) -> web.StreamResponse:
    user, _ = await _user_and_form(request)
    session_id = parse_id(request.match_info["id"])
    if session_id is not None:
        await request.app[appkeys.STORE].web_sessions.delete(session_id, user_id=user.id)
    raise web.HTTPSeeOther("/settings/sessions")


# -- /settings/two_factor -------------------------------------------------------------------


def qr_svg(text: str) -> Markup:
    """``text`` as a QR code: an inline SVG (dark on a white ground, so it scans on a dark page)."""
    import segno  # on the first two-factor set-up, not at start

    qr = segno.make(text, error="m", micro=False)
    return Markup(qr.svg_inline(scale=4, border=4, dark="#000", light="#fff", omitsize=False))


async def two_factor_page(request: web.Request) -> web.Response:
    user = await sessions.require_viewer(request)
    return await _two_factor(request, user)


async def _two_factor(
    request: web.Request,
    user: User,
    *,
    error: str = "",
    recovery_codes: list[str] | None = None,
    status: int = 200,
) -> web.Response:
    store = request.app[appkeys.STORE]
    config = request.app[appkeys.CONFIG]
    enabled = await two_factor.enabled(store, user)
    secret = None if enabled else await two_factor.pending_secret(store, user)
    uri = ""
    if secret:
        # As Mastodon: the app lists the account as user@domain under the issuer domain.
        account = await store.accounts.get(user.account_id)
        domain = config.instance.domain
        name = f"{account.username if account else user.email}@{domain}"
        uri = two_factor.provisioning_uri(secret, account=name, issuer=domain)
    return await _page(
        request,
        "settings_two_factor.html",
        N_("Two-factor authentication"),
        status=status,
        enabled=enabled,
        secret=secret or "",
        uri=uri,
        qr_code=qr_svg(uri) if uri else Markup(""),
        error=error,
        recovery_codes=recovery_codes or [],
        codes_left=await store.otp.recovery_codes_left(user.id) if enabled else 0,
    )


async def two_factor_setup(request: web.Request) -> web.Response:
    user, _ = await _user_and_form(request)
    store = request.app[appkeys.STORE]
    if not await two_factor.enabled(store, user):
        await two_factor.begin(store, user)
    return await _two_factor(request, user)


async def two_factor_confirm(request: web.Request) -> web.Response:
    user, params = await _user_and_form(request)
    codes = await two_factor.confirm(request.app[appkeys.STORE], user, params.str("otp") or "")
    if not codes:
        return await _two_factor(
            request, user, error=N_("That code does not match; try the current one."), status=422
        )
    return await _two_factor(request, user, recovery_codes=codes)


async def two_factor_disable(request: web.Request) -> web.Response:
    """Turning two-factor off takes the password, as Mastodon asks for it."""
    user, params = await _user_and_form(request)
    password = params.str("password") or ""
    if not await asyncio.to_thread(verify_password, password, user.password_hash):
        return await _two_factor(
            request, user, error=N_("The current password is not right."), status=422
        )
    await two_factor.disable(request.app[appkeys.STORE], user)
    return await _two_factor(request, user)
