"""Pages for joining and getting back in: /invite/CODE (sign-up with an invite),
/auth/confirm (the e-mailed confirmation link), /auth/password/reset and
/auth/password/edit (password reset by e-mail). Server-rendered HTML, no JavaScript.

Their words are English message ids translated through ``fedinode.web.i18n`` into the
visitor's language (``Accept-Language``)."""

from __future__ import annotations

from html import escape

from aiohttp import web

from fedinode.api.params import ctx_of, read_params
from fedinode.errors import ApiError
from fedinode.mail import poke_mail
from fedinode.services import registrations as svc
from fedinode.services.passwords import cost_from_config
from fedinode.web.i18n import Translator, negotiate, translator


def _translator(request: web.Request) -> Translator:
    return translator(negotiate(request.headers.get("Accept-Language")))


def _page(t: Translator, title: str, body: str, status: int = 200) -> web.Response:
    html = (
        f"<!DOCTYPE html><html lang='{t.locale}' dir='{t.dir}'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        "<meta name='referrer' content='no-referrer'><meta name='robots' content='noindex'>"
        f"<title>{escape(title)}</title><style>"
        "body{font-family:system-ui,sans-serif;background:#f4f4f8;color:#222;margin:0}"
        "main{max-width:28rem;margin:3rem auto;background:#fff;padding:2rem;border-radius:.5rem;"
        "box-shadow:0 1px 4px rgba(0,0,0,.1)}h1{font-size:1.3rem;margin-top:0}"
        "label{display:block;margin:.8rem 0 .2rem}input,textarea{width:100%;padding:.5rem;"
        "box-sizing:border-box}input[type=checkbox]{width:auto}.error{color:#a00}"
        "button{margin-top:1rem;padding:.6rem 1rem;font-size:1rem}"
        f"</style></head><body><main><h1>{escape(title)}</h1>{body}</main></body></html>"
    )
    return web.Response(
        text=html,
        status=status,
        content_type="text/html",
        headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY"},
    )


def _field(t: Translator, name: str, label: str, kind: str = "text", value: str = "") -> str:
    return (
        f"<label for='{name}'>{escape(t(label))}</label>"
        f"<input id='{name}' name='{name}' type='{kind}' value='{escape(value)}' dir='auto'>"
    )


def _p(text: str, error: bool = False) -> str:
    return f"<p class='error'>{escape(text)}</p>" if error else f"<p>{escape(text)}</p>"


def _errors(details: dict[str, list[dict[str, str]]]) -> str:
    items = "".join(
        f"<li>{escape(name)} {escape(p['description'])}</li>"
        for name, problems in details.items()
        for p in problems
    )
    return f"<ul class='error' dir='ltr'>{items}</ul>"


def _sign_up_form(t: Translator, code: str, values: dict[str, str], errors: str = "") -> str:
    return (
        f"{errors}<form method='post' action='/invite/{escape(code)}'>"
        + _field(t, "username", "Username", value=values.get("username", ""))
        + _field(t, "email", "E-mail address", "email", values.get("email", ""))
        + _field(t, "password", "Password (at least 8 characters)", "password")
        + f"<label for='reason'>{escape(t('Why do you want to join? (optional)'))}</label>"
        f"<textarea id='reason' name='reason' dir='auto'>{escape(values.get('reason', ''))}"
        "</textarea><label><input type='checkbox' name='agreement' value='true'> "
        f"{escape(t('I accept the rules of this server'))}</label>"
        f"<button type='submit'>{escape(t('Sign up'))}</button></form>"
    )


def _join_title(t: Translator, request: web.Request) -> str:
    return t("Join {title}", title=ctx_of(request).config.instance.title)


async def invite_page(request: web.Request) -> web.Response:
    t = _translator(request)
    ctx = ctx_of(request)
    code = request.match_info["code"]
    title = _join_title(t, request)
    closed = ctx.config.instance.registrations == "closed"
    if closed or await svc.usable_invite(ctx, code) is None:
        return _page(t, title, _p(t("This invite is used up, expired or revoked."), True), 404)
    instance = ctx.config.instance.title
    body = (
        _p(t("You have been invited to {title}. Choose a username and a password.", title=instance))
        + _p(
            t(
                "In an app, sign up at {domain} and give the invite code {code}.",
                domain=ctx.config.domain,
                code=code,
            )
        )
        + _sign_up_form(t, code, {})
    )
    return _page(t, title, body)


async def invite_submit(request: web.Request) -> web.Response:
    t = _translator(request)
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
        return _page(t, title, _sign_up_form(t, code, values, _errors(exc.details)), 422)
    except ApiError as exc:
        return _page(t, title, _p(exc.message, True), exc.status)
    poke_mail(request.app)
    lines = [t("Your account @{username} is created.", username=form.username)]
    if not user.confirmed:
        lines.append(
            t("We sent a link to {email}: open it to confirm your address.", email=user.email)
        )
    lines.append(_next_step(t, user.approved))
    return _page(t, title, "".join(_p(line) for line in lines))


def _next_step(t: Translator, approved: bool) -> str:
    if approved:
        return t("You can log in now from any Mastodon app.")
    return t("An administrator will review your sign-up.")


async def confirm_page(request: web.Request) -> web.Response:
    t = _translator(request)
    title = t("E-mail address confirmed")
    user = await svc.confirm_email(ctx_of(request), request.query.get("token", ""))
    if user is None:
        return _page(t, title, _p(t(BAD_LINK), True), 404)
    body = _p(t("Thank you: your e-mail address is confirmed.")) + _p(_next_step(t, user.approved))
    return _page(t, title, body)


BAD_LINK = "This link is invalid, already used or expired."
RESET_TITLE = "Reset your password"


async def reset_request_page(request: web.Request) -> web.Response:
    t = _translator(request)
    body = (
        _p(t("Give your account's e-mail address; we will send a link to choose a new password."))
        + "<form method='post' action='/auth/password/reset'>"
        + _field(t, "email", "E-mail address", "email")
        + f"<button type='submit'>{escape(t('Send the link'))}</button></form>"
    )
    return _page(t, t(RESET_TITLE), body)


async def reset_request_submit(request: web.Request) -> web.Response:
    t = _translator(request)
    params = await read_params(request)
    await svc.request_password_reset(ctx_of(request), params.str("email") or "")
    poke_mail(request.app)
    sent = t("If an account has this address, a link is on its way. It works for an hour.")
    return _page(t, t(RESET_TITLE), _p(sent))


def _new_password_form(t: Translator, token: str, error: str = "") -> str:
    return (
        (_p(error, True) if error else "") + "<form method='post' action='/auth/password/edit'>"
        f"<input type='hidden' name='token' value='{escape(token)}'>"
        + _field(t, "password", "New password (at least 8 characters)", "password")
        + f"<button type='submit'>{escape(t('Set the password'))}</button></form>"
    )


async def reset_edit_page(request: web.Request) -> web.Response:
    t = _translator(request)
    ctx = ctx_of(request)
    token = request.query.get("token", "")
    if not token or await ctx.store.user_tokens.peek(token, svc.RESET) is None:
        return _page(t, t(RESET_TITLE), _p(t(BAD_LINK), True), 404)
    return _page(t, t(RESET_TITLE), _new_password_form(t, token))


async def reset_edit_submit(request: web.Request) -> web.Response:
    t = _translator(request)
    ctx = ctx_of(request)
    params = await read_params(request)
    token = params.str("token") or ""
    try:
        await svc.reset_password(
            ctx, token, params.str("password") or "", cost_from_config(ctx.config.passwords)
        )
    except ApiError as exc:
        if exc.status == 404:
            return _page(t, t(RESET_TITLE), _p(t(BAD_LINK), True), 404)
        message = t("The password must be 8 to 1024 characters long.")
        return _page(t, t(RESET_TITLE), _new_password_form(t, token, message), exc.status)
    done = t("Your password is changed; every app was signed out. Log in again.")
    return _page(t, t(RESET_TITLE), _p(done))
