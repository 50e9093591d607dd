"""Pages for joining and getting back in: /invite/CODE (sign-up with an invite),
/auth/confirm (the e-mailed confirmation link), /auth/password/reset and
/auth/password/edit (password reset by e-mail). Server-rendered HTML, no JavaScript.

Every word on these pages is in ``TEXT`` (one place, for the translation catalogue)."""

from __future__ import annotations

from html import escape

from aiohttp import web

from fedinode.api.params import ctx_of, read_params
from fedinode.errors import ApiError
from fedinode.mail import poke_mail
from fedinode.services import registrations as svc
from fedinode.services.passwords import cost_from_config

TEXT = {
    "invite_title": "Join {title}",
    "invite_intro": "You have been invited to {title}. Choose a username and a password.",
    "invite_apps": ("In an app, sign up at {domain} and give the invite code {code}."),
    "invite_unusable": "This invite is used up, expired or revoked.",
    "username": "Username",
    "email": "E-mail address",
    "password": "Password (at least 8 characters)",
    "reason": "Why do you want to join? (optional)",
    "agreement": "I accept the rules of this server",
    "sign_up": "Sign up",
    "signed_up": "Your account @{username} is created.",
    "check_mail": "We sent a link to {email}: open it to confirm your address.",
    "can_log_in": "You can log in now from any Mastodon app.",
    "wait_approval": "An administrator will review your sign-up.",
    "confirm_title": "E-mail address confirmed",
    "confirmed": "Thank you: your e-mail address is confirmed.",
    "confirm_bad": "This link is invalid, already used or expired.",
    "reset_title": "Reset your password",
    "reset_intro": "Give your account's e-mail address; we will send a link to choose a new password.",
    "reset_send": "Send the link",
    "reset_sent": "If an account has this address, a link is on its way. It works for an hour.",
    "new_password": "New password (at least 8 characters)",
    "set_password": "Set the password",
    "password_set": "Your password is changed; every app was signed out. Log in again.",
    "bad_link": "This link is invalid, already used or expired.",
}


def _t(key: str, **values: str) -> str:
    return escape(TEXT[key].format(**values))


def _page(title: str, body: str, status: int = 200) -> web.Response:
    html = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
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


def _field(name: str, label: str, kind: str = "text", value: str = "") -> str:
    return (
        f"<label for='{name}'>{_t(label)}</label>"
        f"<input id='{name}' name='{name}' type='{kind}' value='{escape(value)}'>"
    )


def _errors(details: dict[str, list[dict[str, str]]]) -> str:
    items = "".join(
        f"<li>{escape(name)} {escape(p['description'])}</li>"
        for name, problems in details.items()
        for p in problems
    )
    return f"<ul class='error'>{items}</ul>"


def _sign_up_form(code: str, values: dict[str, str], errors: str = "") -> str:
    return (
        f"{errors}<form method='post' action='/invite/{escape(code)}'>"
        + _field("username", "username", value=values.get("username", ""))
        + _field("email", "email", "email", values.get("email", ""))
        + _field("password", "password", "password")
        + f"<label for='reason'>{_t('reason')}</label>"
        f"<textarea id='reason' name='reason'>{escape(values.get('reason', ''))}</textarea>"
        f"<label><input type='checkbox' name='agreement' value='true'> {_t('agreement')}</label>"
        f"<button type='submit'>{_t('sign_up')}</button></form>"
    )


async def invite_page(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    code = request.match_info["code"]
    title = TEXT["invite_title"].format(title=ctx.config.instance.title)
    closed = ctx.config.instance.registrations == "closed"
    if closed or await svc.usable_invite(ctx, code) is None:
        return _page(title, f"<p class='error'>{_t('invite_unusable')}</p>", 404)
    body = (
        f"<p>{_t('invite_intro', title=ctx.config.instance.title)}</p>"
        f"<p>{_t('invite_apps', domain=ctx.config.domain, code=code)}</p>" + _sign_up_form(code, {})
    )
    return _page(title, body)


async def invite_submit(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    code = request.match_info["code"]
    title = TEXT["invite_title"].format(title=ctx.config.instance.title)
    params = await read_params(request)
    values = {k: (params.str(k) or "") for k in ("username", "email", "reason")}
    form = svc.SignUp(
        username=values["username"].strip(),
        email=values["email"].strip(),
        password=params.str("password") or "",
        agreement=params.bool("agreement"),
        reason=values["reason"],
        invite_code=code,
        locale=request.headers.get("Accept-Language", "").split(",")[0].split(";")[0],
    )
    try:
        user = await svc.sign_up(ctx, form, cost_from_config(ctx.config.passwords))
    except svc.SignUpInvalid as exc:
        return _page(title, _sign_up_form(code, values, _errors(exc.details)), 422)
    except ApiError as exc:
        return _page(title, f"<p class='error'>{escape(exc.message)}</p>", exc.status)
    poke_mail(request.app)
    lines = [_t("signed_up", username=form.username)]
    if not user.confirmed:
        lines.append(_t("check_mail", email=user.email))
    lines.append(_t("can_log_in") if user.approved else _t("wait_approval"))
    return _page(title, "".join(f"<p>{line}</p>" for line in lines))


async def confirm_page(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    user = await svc.confirm_email(ctx, request.query.get("token", ""))
    if user is None:
        return _page(TEXT["confirm_title"], f"<p class='error'>{_t('confirm_bad')}</p>", 404)
    after = _t("can_log_in") if user.approved else _t("wait_approval")
    return _page(TEXT["confirm_title"], f"<p>{_t('confirmed')}</p><p>{after}</p>")


def _reset_form() -> str:
    return (
        f"<p>{_t('reset_intro')}</p><form method='post' action='/auth/password/reset'>"
        + _field("email", "email", "email")
        + f"<button type='submit'>{_t('reset_send')}</button></form>"
    )


async def reset_request_page(request: web.Request) -> web.Response:
    return _page(TEXT["reset_title"], _reset_form())


async def reset_request_submit(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    params = await read_params(request)
    await svc.request_password_reset(ctx, params.str("email") or "")
    poke_mail(request.app)
    return _page(TEXT["reset_title"], f"<p>{_t('reset_sent')}</p>")


def _new_password_form(token: str, error: str = "") -> str:
    problem = f"<p class='error'>{escape(error)}</p>" if error else ""
    return (
        f"{problem}<form method='post' action='/auth/password/edit'>"
        f"<input type='hidden' name='token' value='{escape(token)}'>"
        + _field("password", "new_password", "password")
        + f"<button type='submit'>{_t('set_password')}</button></form>"
    )


async def reset_edit_page(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    token = request.query.get("token", "")
    if not token or await ctx.store.user_tokens.peek(token, svc.RESET) is None:
        return _page(TEXT["reset_title"], f"<p class='error'>{_t('bad_link')}</p>", 404)
    return _page(TEXT["reset_title"], _new_password_form(token))


async def reset_edit_submit(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    params = await read_params(request)
    token = params.str("token") or ""
    try:
        await svc.reset_password(
            ctx, token, params.str("password") or "", cost_from_config(ctx.config.passwords)
        )
    except ApiError as exc:
        if exc.status == 404:
            return _page(TEXT["reset_title"], f"<p class='error'>{_t('bad_link')}</p>", 404)
        return _page(TEXT["reset_title"], _new_password_form(token, exc.message), exc.status)
    return _page(TEXT["reset_title"], f"<p>{_t('password_set')}</p>")
