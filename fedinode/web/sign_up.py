"""Signing up in a browser: /auth/sign_up (Mastodon's path), a form over the same sign-up
service as ``POST /api/v1/accounts`` (``fedinode.services.registrations.sign_up``): the
same rules, the same checks and the same mails, with the API's field errors shown beside
the fields in the page's language.

The form is offered while ``[instance] registrations`` is ``open`` or ``approval``, and in
``invite`` mode with a usable ``?invite=CODE``; otherwise the page says how to join
instead (a POST gets 403). The account's language is the page's. The form carries the
CSRF token; its POSTs are rate limited with the API's sign-ups (``[rate_limits] sign_up``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import quote

from aiohttp import web
from markupsafe import Markup

from fedinode.api.params import Params, ctx_of, read_params
from fedinode.errors import Forbidden
from fedinode.mail import poke_mail
from fedinode.services import registrations as svc
from fedinode.services.context import Ctx
from fedinode.services.passwords import cost_from_config
from fedinode.web import csrf, sessions
from fedinode.web.i18n import N_, Translator, digits
from fedinode.web.render import page_translator, render
from storage.models import User

# The fields as the form names them (and the API's ``details`` keys).
LABELS = {
    "username": N_("Username"),
    "email": N_("E-mail address"),
    "password": N_("Password"),
    "password_confirmation": N_("Password confirmation"),
    "agreement": N_("Agreement to the rules"),
    "reason": N_("Reason"),
    "invite_code": N_("Invite code"),
}
# The service's problems (``ERR_*`` codes, as in Mastodon's API) in words for the page.
# Where a code's description differs by field, the (field, code) entry wins.
PROBLEMS = {
    "ERR_BLANK": N_("{field} can't be blank"),
    "ERR_INVALID": N_("{field} is invalid"),
    "ERR_RESERVED": N_("{field} is reserved"),
    "ERR_TAKEN": N_("{field} is taken"),
    "ERR_TOO_SHORT": N_("{field} is too short (minimum is {n} characters)"),
    "ERR_TOO_LONG": N_("{field} is too long (maximum is {n} characters)"),
    "ERR_ACCEPTED": N_("{field} must be accepted"),
    "ERR_CONFIRMATION": N_("{field} doesn't match the password"),
}
FIELD_PROBLEMS = {
    ("username", "ERR_INVALID"): N_("{field} must contain only letters, numbers and underscores"),
    ("invite_code", "ERR_INVALID"): N_("{field} is invalid, used up or expired"),
}
_NUMBER = re.compile(r"\d+")
# What the form shows again after a problem (never the passwords).
_KEPT = ("username", "email", "reason", "invite", "agreement")


def problem_words(t: Translator, name: str, problem: Mapping[str, str]) -> str:
    """One problem of the service's ``details`` as the page says it."""
    code = problem.get("error", "")
    words = FIELD_PROBLEMS.get((name, code)) or PROBLEMS.get(code)
    label = t(LABELS[name]) if name in LABELS else name
    if words is None:  # a problem this page has no words for: the service's own
        return f"{label} {problem.get('description', '')}"
    number = _NUMBER.search(problem.get("description", ""))
    return t(words, field=label, n=digits(number.group(), t.locale) if number else "")


def field_errors(
    t: Translator, details: Mapping[str, list[dict[str, str]]]
) -> dict[str, list[str]]:
    return {name: [problem_words(t, name, p) for p in found] for name, found in details.items()}


def _join_title(t: Translator, ctx: Ctx) -> str:
    return t("Join {title}", title=ctx.config.instance.title)


async def _who_may_join(
    request: web.Request, ctx: Ctx, invite_code: str, *, status: int
) -> web.Response | None:
    """The page that says how to join when this request may not sign up here, else None."""
    mode = ctx.config.instance.registrations
    if mode in ("open", "approval"):
        return None
    if mode == "invite" and invite_code and await svc.usable_invite(ctx, invite_code):
        return None
    t = await page_translator(request)
    i = ctx.config.instance
    paragraphs: list[str | Markup] = []
    if mode == "invite":
        if invite_code:
            paragraphs.append(t("This invite is used up, expired or revoked."))
        paragraphs.append(t("Registrations are by invitation: an invite link lets you sign up."))
    else:
        paragraphs.append(t("Registrations are closed."))
    email = i.contact_email.strip()
    if email:
        mailto = Markup('<a href="mailto:{}">{}</a>').format(quote(email, safe="@.+-_"), email)
        paragraphs.append(
            t.markup(
                "Accounts are made by the administrator: to ask for one, write to {email}.",
                email=mailto,
            )
        )
    else:
        paragraphs.append(
            t(
                "Accounts are made by the administrator of {domain}: ask them for one.",
                domain=i.domain,
            )
        )
    return await render(
        request,
        "message.html",
        status=status,
        title=_join_title(t, ctx),
        paragraphs=paragraphs,
        error=status >= 400,
    )


async def _form(
    request: web.Request,
    ctx: Ctx,
    *,
    values: Mapping[str, str],
    errors: Mapping[str, list[str]] | None = None,
    error: str = "",
    status: int = 200,
) -> web.Response:
    t = await page_translator(request)
    values = {k: values.get(k, "") for k in _KEPT}
    found = dict(errors or {})
    form_fields = ("username", "email", "password", "password_confirmation", "agreement", "reason")
    # Problems of fields the form has no place for (an invite code from the link) go on top.
    general = [words for name, ws in found.items() if name not in form_fields for words in ws]
    return await render(
        request,
        "sign_up.html",
        status=status,
        title=_join_title(t, ctx),
        values=values,
        errors=found,
        general=([error] if error else []) + general,
        # An invite lets the account in at once: no reason to give then.
        ask_reason=ctx.config.instance.registrations == "approval" and not values.get("invite"),
    )


async def sign_up_page(request: web.Request) -> web.Response:
    if await sessions.viewer(request) is not None:
        raise web.HTTPFound("/settings")
    ctx = ctx_of(request)
    invite_code = request.query.get("invite", "").strip()
    refused = await _who_may_join(request, ctx, invite_code, status=200)
    if refused is not None:
        return refused
    return await _form(request, ctx, values={"invite": invite_code})


def _values(params: Params) -> dict[str, str]:
    """What the form sent, to show it again (never the passwords)."""
    values = {k: (params.str(k) or "") for k in _KEPT}
    values["agreement"] = "true" if params.bool("agreement") else ""
    return values


async def sign_up_submit(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    params = await read_params(request)
    values = _values(params)
    invite_code = values["invite"].strip()
    refused = await _who_may_join(request, ctx, invite_code, status=403)
    if refused is not None:
        return refused
    t = await page_translator(request)
    if not await csrf.verify(request, params):
        return await _form(request, ctx, values=values, error=t(csrf.EXPIRED), status=403)
    form = svc.SignUp(
        username=values["username"].strip(),
        email=values["email"].strip(),
        password=params.str("password") or "",
        password_confirmation=params.str("password_confirmation") or "",
        agreement=params.bool("agreement"),
        locale=t.locale,
        reason=values["reason"] if ctx.config.instance.registrations == "approval" else "",
        invite_code=invite_code,
    )
    try:
        user = await svc.sign_up(ctx, form, cost_from_config(ctx.config.passwords))
    except svc.SignUpInvalid as exc:
        errors = field_errors(t, exc.details)
        return await _form(request, ctx, values=values, errors=errors, status=422)
    except Forbidden as exc:  # the invite was used up since the form was shown
        refused = await _who_may_join(request, ctx, invite_code, status=403)
        if refused is not None:
            return refused
        title = _join_title(t, ctx)
        return await render(
            request, "message.html", status=403, title=title, paragraphs=[exc.message], error=True
        )
    poke_mail(request.app)
    return await _done(request, t, ctx, user, form.username)


async def _done(
    request: web.Request, t: Translator, ctx: Ctx, user: User, username: str
) -> web.Response:
    return await render(
        request,
        "sign_up_done.html",
        title=t("Check your e-mail") if not user.confirmed else _join_title(t, ctx),
        username=username,
        user=user,
        # An address in a right-to-left sentence: isolated, so it reads whole.
        email=Markup("<bdi>{}</bdi>").format(user.email),
        mail=ctx.config.email.enabled,
    )
