"""What every admin page shares: who may see it, the form checks, the layout, notices.

``@admin_page`` lets through a logged-in admin only (anonymous visitors go to the login
page, other users get 403); a POST must carry the form's CSRF token. A handler gets the
request and an ``Admin`` (the user, their account, the form's parameters). Validation
errors of the services come back as the page's error, not-found ones as a 404 page."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from markupsafe import Markup

from fedinode import appkeys
from fedinode.api.params import Params, read_params
from fedinode.errors import ApiError, NotFoundError
from fedinode.web import csrf, sessions
from fedinode.web.i18n import N_
from fedinode.web.render import page_translator, render
from storage.errors import NotFound
from storage.models import Account, User


@dataclass(frozen=True, slots=True)
class Admin:
    user: User
    account: Account
    params: Params

    @property
    def name(self) -> str:
        return self.account.username


AdminHandler = Callable[[web.Request, Admin], Awaitable[web.StreamResponse]]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# The panel's sections: path, menu text.
SECTIONS = (
    ("/admin", N_("Overview")),
    ("/admin/accounts/pending", N_("Sign-ups")),
    ("/admin/domain_blocks", N_("Domain blocks")),
    ("/admin/domain_allows", N_("Domain allows")),
    ("/admin/subscriptions", N_("Subscriptions")),
    ("/admin/quarantine", N_("Quarantine")),
    ("/admin/policy_log", N_("Policy log")),
    ("/admin/reports", N_("Reports")),
)
# What a finished action says on the page it leads to (``?done=KEY&subject=…``).
NOTICES = {
    "block_added": N_("{subject} is now blocked."),
    "block_changed": N_("The block of {subject} is changed."),
    "block_removed": N_("The block of {subject} is removed."),
    "allow_added": N_("{subject} is now allowed."),
    "allow_removed": N_("{subject} is no longer allowed."),
    "subscribed": N_("Subscribed to {subject}."),
    "unsubscribed": N_("Unsubscribed from {subject}."),
    "synced": N_("{subject} is synced."),
    "draft_accepted": N_("The draft for {subject} is in force."),
    "draft_rejected": N_("The draft for {subject} is dropped."),
    "released": N_("{subject} is released; what it sent is being processed in order."),
    "rejected": N_("{subject} is rejected and suspended; what it sent is dropped."),
    "report_resolved": N_("Report {subject} is resolved."),
    "report_reopened": N_("Report {subject} is open again."),
    "account_approved": N_("{subject} is approved and can log in."),
    "account_rejected": N_("The sign-up of {subject} is rejected and removed."),
}


def done(path: str, notice: str, subject: str = "") -> web.HTTPSeeOther:
    """After a POST: see the page that shows its result, with a notice."""
    query = urlencode({"done": notice, "subject": subject[:300]})
    return web.HTTPSeeOther(f"{path}?{query}")


async def message(
    request: web.Request, title: str, text: str, *, status: int, error: bool = True
) -> web.Response:
    t = await page_translator(request)
    return await render(
        request, "message.html", status=status, title=t(title), paragraphs=[t(text)], error=error
    )


def admin_page(handler: AdminHandler) -> Handler:
    @functools.wraps(handler)
    async def wrapper(request: web.Request) -> web.StreamResponse:
        user = await sessions.viewer(request)
        if user is None:
            back = request.path_qs if request.method == "GET" else "/admin"
            raise web.HTTPFound("/auth/sign_in?" + urlencode({"next": back}))
        if not user.admin:
            return await message(
                request,
                N_("Not allowed"),
                N_("These pages are for the administrators of this server."),
                status=403,
            )
        account = await request.app[appkeys.STORE].accounts.get(user.account_id)
        if account is None:  # pragma: no cover - a user always has an account
            raise web.HTTPForbidden()
        if request.method == "POST":
            params = await read_params(request)
            await csrf.require(request, params)
        else:
            params = Params(dict(request.query))
        try:
            return await handler(request, Admin(user, account, params))
        except (NotFound, NotFoundError):
            return await message(
                request, N_("Not found"), N_("This item does not exist (any more)."), status=404
            )

    return wrapper


async def page(
    request: web.Request,
    template: str,
    *,
    title: str,
    section: str,
    status: int = 200,
    error: str = "",
    title_values: Mapping[str, object] | None = None,
    **context: Any,
) -> web.Response:
    """An admin page in the panel's layout; ``title`` in English (translated here),
    ``error`` as shown, a notice from ``?done=`` when the page follows an action."""
    t = await page_translator(request)
    notice: str | Markup = ""
    key = request.query.get("done", "")
    if key in NOTICES:
        # A domain or URL in a right-to-left sentence: isolated, so it reads whole.
        subject = Markup("<bdi>{}</bdi>").format(request.query.get("subject", ""))
        notice = t.markup(NOTICES[key], subject=subject)
    return await render(
        request,
        template,
        status=status,
        title=t(title, **(title_values or {})),
        section=section,
        sections=SECTIONS,
        notice=notice,
        error=error,
        **context,
    )


def failure(exc: ApiError) -> str:
    """A service's refusal as the page shows it (the services write English)."""
    return exc.message.removeprefix("Validation failed: ")


def checked(params: Params, names: Mapping[str, str]) -> dict[str, bool]:
    """Checkboxes of a form: present is true, absent is false."""
    return {name: params.bool(name) for name in names}
