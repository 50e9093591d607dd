"""Pages for joining and getting back in: /invite/CODE (sign-up with an invite),
/auth/confirm (the e-mailed confirmation link), /auth/password/reset and
/auth/password/edit (password reset by e-mail). Server-rendered HTML, no JavaScript, in the
viewer's language (``fedinode.web.render``).

These forms carry no CSRF token: the invite code and the reset token are the secrets that
bind them, and asking for a reset link only sends mail to the account's own address."""

from __future__ import annotations

from aiohttp import web

from fedinode.api.params import ctx_of, read_params
from fedinode.errors import ApiError
from fedinode.mail import poke_mail
from fedinode.services import registrations as svc
from fedinode.services.passwords import cost_from_config
from fedinode.web.i18n import N_, Translator
from fedinode.web.render import page_translator, render
from fedinode.web.sign_up import field_errors

BAD_LINK = N_("This link is invalid, already used or expired.")
RESET_TITLE = N_("Reset your password")


async def _message(
    request: web.Request, title: str, *paragraphs: str, error: bool = False, status: int = 200
) -> web.Response:
    return await render(
        request, "message.html", status=status, title=title, paragraphs=paragraphs, error=error
    )


def _join_title(t: Translator, request: web.Request) -> str:
    return t("Join {title}", title=ctx_of(request).config.instance.title)


async def invite_page(request: web.Request) -> web.Response:
    t = await page_translator(request)
    ctx = ctx_of(request)
    code = request.match_info["code"]
    title = _join_title(t, request)
    closed = ctx.config.instance.registrations == "closed"
    if closed or await svc.usable_invite(ctx, code) is None:
        used = t("This invite is used up, expired or revoked.")
        return await _message(request, title, used, error=True, status=404)
    return await render(
        request,
        "invite.html",
        title=title,
        intro=True,
        domain=ctx.config.domain,
        code=code,
        values={},
        errors=[],
    )


async def invite_submit(request: web.Request) -> web.Response:
    t = await page_translator(request)
    ctx = ctx_of(request)
    code = request.match_info["code"]
    title = _join_title(t, request)
    params = await read_params(request)
    values = {k: (params.str(k) or "") for k in ("username", "email", "reason")}
    form = svc.SignUp(
        username=values["username"].strip(),
        email=values["email"].strip(),
        password=params.str("password") or "",
        agreement=params.bool("agreement"),
        reason=values["reason"],
        invite_code=code,
        locale=t.locale,
    )
    try:
        user = await svc.sign_up(ctx, form, cost_from_config(ctx.config.passwords))
    except svc.SignUpInvalid as exc:
        # The API's problems in the page's words, as on /auth/sign_up.
        errors = [words for found in field_errors(t, exc.details).values() for words in found]
        return await render(
            request,
            "invite.html",
            status=422,
            title=title,
            intro=False,
            domain=ctx.config.domain,
            code=code,
            values=values,
            errors=errors,
        )
    except ApiError as exc:
        return await _message(request, title, exc.message, error=True, status=exc.status)
    poke_mail(request.app)
    lines = [t("Your account @{username} is created.", username=form.username)]
    if not user.confirmed:
        lines.append(
            t("We sent a link to {email}: open it to confirm your address.", email=user.email)
        )
    lines.append(_next_step(t, user.approved))
    return await _message(request, title, *lines)


def _next_step(t: Translator, approved: bool) -> str:
    if approved:
        return t("You can log in now from any Mastodon app.")
    return t("An administrator will review your sign-up.")


async def confirm_page(request: web.Request) -> web.Response:
    t = await page_translator(request)
    title = t("E-mail address confirmed")
    user = await svc.confirm_email(ctx_of(request), request.query.get("token", ""))
    if user is None:
        return await _message(request, title, t(BAD_LINK), error=True, status=404)
    thanks = t("Thank you: your e-mail address is confirmed.")
    return await _message(request, title, thanks, _next_step(t, user.approved))


async def reset_request_page(request: web.Request) -> web.Response:
    t = await page_translator(request)
    return await render(request, "password_reset.html", title=t(RESET_TITLE))


async def reset_request_submit(request: web.Request) -> web.Response:
    t = await page_translator(request)
    params = await read_params(request)
    await svc.request_password_reset(ctx_of(request), params.str("email") or "")
    poke_mail(request.app)
    sent = t("If an account has this address, a link is on its way. It works for an hour.")
    return await _message(request, t(RESET_TITLE), sent)


async def reset_edit_page(request: web.Request) -> web.Response:
    t = await page_translator(request)
    ctx = ctx_of(request)
    token = request.query.get("token", "")
    if not token or await ctx.store.user_tokens.peek(token, svc.RESET) is None:
        return await _message(request, t(RESET_TITLE), t(BAD_LINK), error=True, status=404)
    return await render(request, "password_edit.html", title=t(RESET_TITLE), token=token, error="")


async def reset_edit_submit(request: web.Request) -> web.Response:
    t = await page_translator(request)
    ctx = ctx_of(request)
    params = await read_params(request)
    token = params.str("token") or ""
    try:
        await svc.reset_password(
            ctx, token, params.str("password") or "", cost_from_config(ctx.config.passwords)
        )
    except ApiError as exc:
        if exc.status == 404:
            return await _message(request, t(RESET_TITLE), t(BAD_LINK), error=True, status=404)
        message = t("The password must be 8 to 1024 characters long.")
        return await render(
            request,
            "password_edit.html",
            status=exc.status,
            title=t(RESET_TITLE),
            token=token,
            error=message,
        )
    done = t("Your password is changed; every app was signed out. Log in again.")
    return await _message(request, t(RESET_TITLE), done)
