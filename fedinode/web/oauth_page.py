"""The OAuth login and consent page: server-rendered HTML, no JavaScript."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

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


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
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
) -> str:
    """Login (email or username) and consent in one form."""
    items = "".join(
        f"<li><strong>{escape(s)}</strong>: {escape(_SCOPE_TEXT.get(s, s.replace(':', ' ')))}</li>"
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
    err = f"<p class='error' role='alert'>{escape(error)}</p>" if error else ""
    body = (
        f"<h1>{escape(instance_title)}: authorize {escape(app_name)}</h1>"
        f"<p><strong>{escape(app_name)}</strong>{site} asks to access your account. It will be able to:</p>"
        f"<ul class='scopes'>{items}</ul>{err}"
        "<form method='post' action='/oauth/authorize'>"
        f"{hidden_inputs}"
        "<label for='login'>Email or username</label>"
        f"<input type='text' id='login' name='login' autocomplete='username' required value='{escape(login)}'>"
        "<label for='password'>Password</label>"
        "<input type='password' id='password' name='password' autocomplete='current-password' required>"
        "<div class='buttons'>"
        "<button type='submit' name='decision' value='approve'>Authorize</button>"
        "<button type='submit' name='decision' value='deny' formnovalidate>Deny</button>"
        "</div></form>"
    )
    return _page(f"Authorize {app_name}", body)


def code_page(*, instance_title: str, app_name: str, code: str) -> str:
    """Out-of-band flows: show the code for the user to paste into the app."""
    body = (
        f"<h1>{escape(instance_title)}: authorization code</h1>"
        f"<p>Copy this code and paste it into {escape(app_name)}:</p>"
        f"<p><code id='code'>{escape(code)}</code></p>"
    )
    return _page("Authorization code", body)


def error_page(*, title: str, message: str) -> str:
    return _page(title, f"<h1>{escape(title)}</h1><p>{escape(message)}</p>")
