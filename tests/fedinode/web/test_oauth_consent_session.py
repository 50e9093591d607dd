"""/oauth/authorize in a browser already logged in: the consent alone (Authorize or Deny,
CSRF protected), no password again; a browser whose session ended gets the login form."""

from __future__ import annotations

import html
import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from api_helpers import PASSWORD, Api, authorize_form_fields, register

from fedinode.web import sessions

Site = Callable[..., Awaitable[Api]]
HTTP = {"scheme": "http"}  # the cookies are Secure on https; the test client speaks http
REDIRECT = "https://app.example/callback"


async def _log_in(api: Api, login: str) -> None:
    page = await (await api.client.get("/auth/sign_in")).text()
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    resp = await api.client.post(
        "/auth/sign_in",
        data={"csrf_token": found.group(1), "login": login, "password": PASSWORD},
        allow_redirects=False,
    )
    assert resp.status == 303, await resp.text()


def _query(app: dict[str, Any], **extra: str) -> dict[str, str]:
    return {
        "client_id": app["client_id"],
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "scope": "read write:statuses",
        "state": "s t&8",
        **extra,
    }


async def _consent(api: Api, query: dict[str, str], **headers: str) -> str:
    resp = await api.client.get("/oauth/authorize", params=query, headers=headers)
    page = await resp.text()
    assert resp.status == 200, page
    assert "Cookie" in resp.headers["Vary"] and resp.headers["Cache-Control"] == "no-store"
    return page


async def test_logged_in_browser_authorizes_without_password(site: Site) -> None:
    api = await site(federation=HTTP)
    await api.user("alice")
    app = await register(api, redirect_uris=REDIRECT)
    await _log_in(api, "alice")
    page = await _consent(api, _query(app))
    assert "name='password'" not in page and "name='login'" not in page
    assert "id='account'>@alice<" in page and "test app" in page
    assert "<strong dir='ltr'>read</strong>" in page
    assert "<strong dir='ltr'>write:statuses</strong>" in page
    assert "follow" not in page  # only the scopes asked for
    form = authorize_form_fields(page)
    assert form["csrf_token"] and form["consent"] == "session"
    resp = await api.client.post(
        "/oauth/authorize", data={**form, "decision": "approve"}, allow_redirects=False
    )
    assert resp.status == 302, await resp.text()
    location = urlsplit(resp.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    answer = parse_qs(location.query)
    assert answer["state"] == ["s t&8"]
    token = await api.client.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": answer["code"][0],
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "redirect_uri": REDIRECT,
        },
    )
    body = await token.json()
    assert token.status == 200, body
    assert body["scope"] == "read write:statuses"
    me = await api.client.get(
        "/api/v1/accounts/verify_credentials",
        headers={"Authorization": f"Bearer {body['access_token']}"},
    )
    assert me.status == 200 and (await me.json())["username"] == "alice"


async def test_deny_and_out_of_band(site: Site) -> None:
    api = await site(federation=HTTP)
    await api.user("alice")
    app = await register(api, redirect_uris=[REDIRECT, "urn:ietf:wg:oauth:2.0:oob"])
    await _log_in(api, "alice")
    form = authorize_form_fields(await _consent(api, _query(app)))
    denied = await api.client.post(
        "/oauth/authorize", data={**form, "decision": "deny"}, allow_redirects=False
    )
    assert denied.status == 302
    answer = parse_qs(urlsplit(denied.headers["Location"]).query)
    assert answer["error"] == ["access_denied"] and answer["state"] == ["s t&8"]
    assert "code" not in answer
    oob = _query(app, redirect_uri="urn:ietf:wg:oauth:2.0:oob")
    form = authorize_form_fields(await _consent(api, oob))
    shown = await api.client.post("/oauth/authorize", data={**form, "decision": "deny"})
    assert shown.status == 200 and "You denied access." in await shown.text()
    form = authorize_form_fields(await _consent(api, oob))
    code = await api.client.post("/oauth/authorize", data={**form, "decision": "approve"})
    assert code.status == 200 and "id='code'" in await code.text()


async def test_consent_needs_the_csrf_token(site: Site) -> None:
    api = await site(federation=HTTP)
    await api.user("alice")
    app = await register(api, redirect_uris=REDIRECT)
    await _log_in(api, "alice")
    form = authorize_form_fields(await _consent(api, _query(app)))
    missing = {k: v for k, v in form.items() if k != "csrf_token"}
    for data in (missing, {**form, "csrf_token": "0" * 64}):
        resp = await api.client.post(
            "/oauth/authorize", data={**data, "decision": "approve"}, allow_redirects=False
        )
        assert resp.status == 403 and "The form expired" in await resp.text()
        assert "Location" not in resp.headers


async def test_ended_session_falls_back_to_the_password_form(site: Site) -> None:
    api = await site(federation=HTTP)
    await api.user("alice")
    app = await register(api, redirect_uris=REDIRECT)
    user = await api.store.users.by_username("alice")
    assert user is not None
    await _log_in(api, "alice")
    page = await _consent(api, _query(app))
    form = authorize_form_fields(page)
    # Expired (its last use 30 days ago): the page asks for the password again.
    (session,) = await api.store.web_sessions.for_user(user.id)
    await api.store.web_sessions.touch(session.id, ttl_ms=-1)
    page = await _consent(api, _query(app))
    assert "name='password'" in page and "id='account'" not in page
    # A consent form sent after the session ended gives no code; it asks for a login.
    late = await api.client.post(
        "/oauth/authorize", data={**form, "decision": "approve"}, allow_redirects=False
    )
    text = await late.text()
    assert late.status == 200 and "no longer logged in" in text and "name='password'" in text
    # Revoked from the settings' list of browsers: the same.
    await _log_in(api, "alice")
    assert "id='account'>@alice<" in await _consent(api, _query(app))
    for s in await api.store.web_sessions.for_user(user.id):
        await api.store.web_sessions.delete(s.id, user_id=user.id)
    page = await _consent(api, _query(app))
    assert "name='password'" in page and "id='account'" not in page
    # The login form still works as before.
    form = authorize_form_fields(page)
    ok = await api.client.post(
        "/oauth/authorize",
        data={**form, "login": "alice", "password": PASSWORD, "decision": "approve"},
        allow_redirects=False,
    )
    assert ok.status == 302 and "code=" in ok.headers["Location"]


async def test_not_you_logs_out_or_logs_in_as_another(site: Site) -> None:
    api = await site(federation=HTTP)
    await api.user("alice")
    await api.user("bob")
    app = await register(api, redirect_uris=REDIRECT)
    await _log_in(api, "alice")
    page = await _consent(api, _query(app))
    # Another account: the login form for this request; alice's session stays until bob
    # logs in there, which logs this browser in as bob instead.
    other = re.search(r"<a href='([^']+)' id='other-account'>", page)
    assert other
    again = await api.client.get(html.unescape(other.group(1)))
    text = await again.text()
    assert "name='password'" in text and "id='account'" not in text
    form = authorize_form_fields(text)
    assert form["state"] == "s t&8" and form["scope"] == "read write:statuses"
    as_bob = await api.client.post(
        "/oauth/authorize",
        data={**form, "login": "bob", "password": PASSWORD, "decision": "approve"},
        allow_redirects=False,
    )
    assert as_bob.status == 302
    page = await _consent(api, _query(app))
    assert "id='account'>@bob<" in page
    alice = await api.store.users.by_username("alice")
    assert alice is not None and await api.store.web_sessions.for_user(alice.id) == []
    # Log out: back to the same request's page, which now asks for a login.
    out = await api.client.post(
        "/oauth/authorize",
        data={**authorize_form_fields(page, 1), "decision": "sign_out"},
        allow_redirects=False,
    )
    assert out.status == 303
    assert out.headers["Location"].startswith("/oauth/authorize?")
    bob = await api.store.users.by_username("bob")
    assert bob is not None and await api.store.web_sessions.for_user(bob.id) == []
    followed = await (await api.client.get(out.headers["Location"])).text()
    assert "name='password'" in followed and "write:statuses" in followed
    assert sessions.COOKIE not in {c.key for c in api.client.session.cookie_jar}


async def test_persian_consent(site: Site) -> None:
    api = await site(federation=HTTP)
    await api.user("alice")
    app = await register(api, redirect_uris=REDIRECT)
    await _log_in(api, "alice")
    page = await _consent(api, _query(app), **{"Accept-Language": "fa"})
    assert "<html lang='fa' dir='rtl'>" in page
    assert "می‌خواهد به حساب شما" in page and "id='account'>@alice<" in page
    assert "اجازه می‌دهم" in page and "حساب دیگری" in page
    assert "Use another account" not in page and "asks to access" not in page
