"""One way to render an HTML page: ``await render(request, "name.html", **context)``.

Templates are Jinja2 files under ``fedinode/web/templates/`` with autoescaping on; every
page extends ``base.html`` (``lang`` and ``dir`` of the viewer's language, the stylesheet).
The page's language is the logged-in viewer's (their account's ``locale``) when we ship it,
else the best of ``Accept-Language``, else English (``fedinode.web.i18n``). A template sees:

- ``_("English text {field}", field=value)``: the translation, as escaped markup (values
  are escaped unless they are ``Markup``); ``_n(singular, plural, n)`` for counts;
- ``locale`` and ``dir``; ``format_datetime(epoch_ms)`` / ``format_date(epoch_ms)`` in the
  viewer's calendar (``fedinode.web.calendars``);
- ``csrf_input()``: the hidden field a POST form must carry (``fedinode.web.csrf``);
- ``viewer``: the logged-in ``User`` or ``None``; ``instance``: ``[instance]`` config.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

from aiohttp import web
from markupsafe import Markup

from fedinode import appkeys
from fedinode.web import calendars, sessions
from fedinode.web import csrf as csrf_tokens
from fedinode.web.i18n import Translator, negotiate, translator

if TYPE_CHECKING:
    import jinja2

# Pages that show a form or a person's settings: never cached, never framed.
PRIVATE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline';"
    " base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Vary": "Accept-Language, Cookie",
}


@cache
def environment() -> jinja2.Environment:
    import jinja2  # on the first page: an API-only process does not hold Jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("fedinode.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


async def page_locale(request: web.Request) -> str:
    """The viewer's account language when shipped, else the best of ``Accept-Language``."""
    user = await sessions.viewer(request)
    return negotiate(
        request.headers.get("Accept-Language"), preferred=user.locale if user else None
    )


async def page_translator(request: web.Request) -> Translator:
    return translator(await page_locale(request))


async def render(
    request: web.Request,
    name: str,
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    csrf: bool = True,
    **context: Any,
) -> web.Response:
    """The page ``name`` in the viewer's language, with a CSRF cookie set when new.

    ``csrf=False`` for a cacheable page without forms: no token, no cookie."""
    t = await page_translator(request)
    token = await csrf_tokens.token(request) if csrf else ""
    user = await sessions.viewer(request)

    def gettext(msgid: str, **values: object) -> Markup:
        return t.markup(msgid, **values)

    def ngettext(singular: str, plural: str, n: int, **values: object) -> Markup:
        return t.plural_markup(singular, plural, n, **values)

    def csrf_input() -> Markup:
        if not token:
            raise RuntimeError(f"{name} has a form: render it with csrf=True")
        return Markup('<input type="hidden" name="{}" value="{}">').format(csrf_tokens.FIELD, token)

    template = environment().get_template(name)
    html = template.render(
        _=gettext,
        _n=ngettext,
        t=t,
        locale=t.locale,
        dir=t.dir,
        format_datetime=lambda ms: calendars.format_datetime(ms, t.locale),
        format_date=lambda ms: calendars.format_date(ms, t.locale),
        csrf_input=csrf_input,
        csrf_token=token,
        viewer=user,
        instance=request.app[appkeys.CONFIG].instance,
        **context,
    )
    response = web.Response(
        text=html,
        status=status,
        content_type="text/html",
        charset="utf-8",
        headers=dict(PRIVATE_HEADERS if headers is None else headers),
    )
    if csrf:
        csrf_tokens.set_cookie(request, response)
    return response
