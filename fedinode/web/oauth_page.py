"""The OAuth login and consent page: server-rendered HTML, no JavaScript, in the visitor's
language (``fedinode.web.i18n``; English when we do not ship theirs)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from fedinode.web.i18n import DEFAULT_LOCALE, Translator, translator

_STYLE = """
body{font-family:system-ui,sans-serif;background:#f4f4f8;color:#222;margin:0}
main{max-width:26rem;margin:3rem auto;background:#fff;padding:2rem;border-radius:.5rem;
box-shadow:0 1px 4px rgba(0,0,0,.1)}
h1{font-size:1.3rem;margin-top:0}label{display:block;margin:.8rem 0 .2rem}
input[type=text],input[type=password]{width:100%;padding:.5rem;box-sizing:border-box}
.scopes{background:#f4f4f8;padding:.5rem 1rem;border-radius:.3rem}
.error{color:#a00;font-weight:bold}.buttons{margin-top:1.2rem;display:flex;gap:.5rem}
button{padding:.6rem 1rem;font-size:1rem}code{font-size:1.1rem;word-break:break-all}
"""

_SCOPE_TEXT = {
    "read": "read all your account's data",
    "write": "modify all your account's data",
    "follow": "modify account relationships",
    "push": "receive your push notifications",
    "profile": "read only your account's profile information",
    "admin:read": "read all data on the server",
    "admin:write": "modify all data on the server",
}


def _page(t: Translator, title: str, body: str) -> str:
    return (
        f"<!DOCTYPE html><html lang='{t.locale}' dir='{t.dir}'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<meta name='referrer' content='no-referrer'><title>{escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body><main>{body}</main></body></html>"
    )


def authorize_page(
    *,
    instance_title: str,
    app_name: str,
    app_website: str | None,
    scopes: Sequence[str],
    hidden: Mapping[str, str],
    error: str | None = None,
    login: str = "",
    locale: str = DEFAULT_LOCALE,
) -> str:
    """Login (email or username) and consent in one form."""
    t = translator(locale)
    items = "".join(
        f"<li><strong dir='ltr'>{escape(s)}</strong>: "
        f"{escape(t(_SCOPE_TEXT[s]) if s in _SCOPE_TEXT else s.replace(':', ' '))}</li>"
        for s in scopes
    )
    hidden_inputs = "".join(
        f"<input type='hidden' name='{escape(k)}' value='{escape(v)}'>" for k, v in hidden.items()
    )
    site = (
        f" (<a href='{escape(app_website)}' rel='noopener noreferrer'>{escape(app_website)}</a>)"
        if app_website and app_website.startswith(("https://", "http://"))
        else ""
    )
    err = f"<p class='error' role='alert'>{escape(t(error))}</p>" if error else ""
    app = f"<bdi>{escape(app_name)}</bdi>"
    instance = f"<bdi>{escape(instance_title)}</bdi>"
    heading = t.markup("{instance}: authorize {app}", instance=instance, app=app)
    asks = t.markup(
        "{app}{site} asks to access your account. It will be able to:",
        app=f"<strong>{app}</strong>",
        site=site,
    )
    body = (
        f"<h1>{heading}</h1><p>{asks}</p>"
        f"<ul class='scopes'>{items}</ul>{err}"
        "<form method='post' action='/oauth/authorize'>"
        f"{hidden_inputs}"
        f"<label for='login'>{escape(t('Email or username'))}</label>"
        f"<input type='text' id='login' name='login' dir='auto' autocomplete='username' required value='{escape(login)}'>"
        f"<label for='password'>{escape(t('Password'))}</label>"
        "<input type='password' id='password' name='password' autocomplete='current-password' required>"
        "<div class='buttons'>"
        f"<button type='submit' name='decision' value='approve'>{escape(t('Authorize'))}</button>"
        f"<button type='submit' name='decision' value='deny' formnovalidate>{escape(t('Deny'))}</button>"
        "</div></form>"
    )
    return _page(t, t("Authorize {app}", app=app_name), body)


def code_page(
    *, instance_title: str, app_name: str, code: str, locale: str = DEFAULT_LOCALE
) -> str:
    """Out-of-band flows: show the code for the user to paste into the app."""
    t = translator(locale)
    instance = f"<bdi>{escape(instance_title)}</bdi>"
    heading = t.markup("{instance}: authorization code", instance=instance)
    copy = t.markup("Copy this code and paste it into {app}:", app=f"<bdi>{escape(app_name)}</bdi>")
    body = f"<h1>{heading}</h1><p>{copy}</p><p dir='ltr'><code id='code'>{escape(code)}</code></p>"
    return _page(t, t("Authorization code"), body)


def error_page(*, title: str, message: str, locale: str = DEFAULT_LOCALE) -> str:
    """``title`` and ``message`` in English; shown in the locale where the catalogue has them."""
    t = translator(locale)
    return _page(t, t(title), f"<h1>{escape(t(title))}</h1><p>{escape(t(message))}</p>")
