"""Logging in on /oauth/authorize logs the browser in too (as on Mastodon): the next
authorization there asks only for consent and the settings open without a login; the
two-factor step likewise. The session comes only from our own form (its CSRF token binds it
to the browser), with the cookie flags of /auth/sign_in."""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pyotp
from api_helpers import PASSWORD, Api, authorize_form_fields, register

from fedinode.web import sessions

Site = Callable[..., Awaitable[Api]]
HTTP = {"scheme": "http"}  # the cookies are Secure on https; the test client speaks http
REDIRECT = "https://app.example/callback"
OOB = "urn:ietf:wg:oauth:2.0:oob"


def _query(app: dict[str, Any], **extra: str) -> dict[str, str]:
    return {"client_id": app["client_id"], "redirect_uri": REDIRECT, "response_type": "code",
            "scope": "read write:statuses", "state": "xyz", **extra}  # fmt: skip


async def _authorize_page(api: Api, query: dict[str, str]) -> str:
    resp = await api.client.get("/oauth/authorize", params=query)
    page = await resp.text()
    assert resp.status == 200, page
    return page


async def _settings_status(api: Api) -> int:
    resp = await api.client.get("/settings", allow_redirects=False)
    return resp.status


async def _code_works(api: Api, app: dict[str, Any], location: str) -> str:
    answer = parse_qs(urlsplit(location).query)
    assert answer["state"] == ["xyz"]
    token = await api.client.post("/oauth/token", data={
        "grant_type": "authorization_code", "code": answer["code"][0],
        "client_id": app["client_id"], "client_secret": app["client_secret"],
        "redirect_uri": REDIRECT})  # fmt: skip
    body = await token.json()
    assert token.status == 200, body
    me = await api.client.get("/api/v1/accounts/verify_credentials",
                              headers={"Authorization": f"Bearer {body['access_token']}"})  # fmt: skip
    return str((await me.json())["username"])


async def test_login_on_the_consent_page_logs_the_browser_in(site: Site) -> None:
    api = await site(federation=HTTP)
    await api.user("alice")
    app = await register(api, redirect_uris=REDIRECT)
    assert await _settings_status(api) == 302  # not logged in yet
    page = await _authorize_page(api, _query(app))
    assert "name='password'" in page
    form = authorize_form_fields(page)
    assert form["csrf_token"] and "consent" not in form
    resp = await api.client.post("/oauth/authorize", allow_redirects=False, data={
        **form, "login": "alice", "password": PASSWORD, "decision": "approve"})  # fmt: skip
    assert resp.status == 302, await resp.text()
    assert await _code_works(api, app, resp.headers["Location"]) == "alice"
    cookie = resp.cookies[sessions.COOKIE]
    assert cookie.value and cookie["httponly"] and cookie["samesite"] == "Lax"
    assert not cookie["secure"] and cookie["path"] == "/"
    assert int(cookie["max-age"]) == sessions.TTL_MS // 1000
    # The session shows where the user manages them, and works everywhere.
    assert await _settings_status(api) == 200
    listed = await (await api.client.get("/settings/sessions")).text()
    assert "Python" in listed  # the browser's user agent (aiohttp's)
    again = await _authorize_page(api, _query(app, state="xyz"))
    assert "name='password'" not in again and "id='account'>@alice<" in again
    consent = authorize_form_fields(again)
    assert consent["consent"] == "session"
    ok = await api.client.post(
        "/oauth/authorize", data={**consent, "decision": "approve"}, allow_redirects=False
    )
    assert ok.status == 302 and await _code_works(api, app, ok.headers["Location"]) == "alice"


async def test_a_wrong_password_or_a_denial_logs_nobody_in(site: Site) -> None:
    api = await site(federation=HTTP)
    await api.user("alice")
    app = await register(api, redirect_uris=REDIRECT)
    form = authorize_form_fields(await _authorize_page(api, _query(app)))
    wrong = await api.client.post("/oauth/authorize", data={
        **form, "login": "alice", "password": "not it", "decision": "approve"})  # fmt: skip
    assert wrong.status == 422 and sessions.COOKIE not in wrong.cookies
    denied = await api.client.post("/oauth/authorize", allow_redirects=False, data={
        **form, "login": "alice", "password": PASSWORD, "decision": "deny"})  # fmt: skip
    assert denied.status == 302 and sessions.COOKIE not in denied.cookies
    assert await _settings_status(api) == 302


async def test_a_login_without_the_browsers_csrf_token_plants_no_session(site: Site) -> None:
    api = await site(federation=HTTP)
    await api.user("alice")
    app = await register(api, redirect_uris=REDIRECT)
    form = authorize_form_fields(await _authorize_page(api, _query(app)))
    # A page elsewhere can post the form (the app still gets its code, as before) but
    # cannot read the token, so the browser is not logged in as whoever that page chose.
    for csrf in ({}, {"csrf_token": "0" * 64}):
        data = {k: v for k, v in form.items() if k != "csrf_token"}
        resp = await api.client.post("/oauth/authorize", allow_redirects=False, data={
            **data, **csrf, "login": "alice", "password": PASSWORD,
            "decision": "approve"})  # fmt: skip
        assert resp.status == 302 and "code=" in resp.headers["Location"]
        assert sessions.COOKIE not in resp.cookies
    assert await _settings_status(api) == 302


async def test_out_of_band_login_logs_in_too(site: Site) -> None:
    api = await site(federation=HTTP)
    await api.user("alice")
    app = await register(api, redirect_uris=OOB)
    form = authorize_form_fields(await _authorize_page(api, _query(app, redirect_uri=OOB)))
    shown = await api.client.post("/oauth/authorize", data={
        **form, "login": "alice@example.org", "password": PASSWORD,
        "decision": "approve"})  # fmt: skip
    assert shown.status == 200 and "id='code'" in await shown.text()
    assert sessions.COOKIE in shown.cookies
    assert await _settings_status(api) == 200


async def test_logging_in_as_another_account_replaces_the_session(site: Site) -> None:
    api = await site(federation=HTTP)
    await api.user("alice")
    await api.user("bob")
    app = await register(api, redirect_uris=REDIRECT)
    form = authorize_form_fields(await _authorize_page(api, _query(app)))
    first = await api.client.post("/oauth/authorize", allow_redirects=False, data={
        **form, "login": "alice", "password": PASSWORD, "decision": "approve"})  # fmt: skip
    alice_cookie = first.cookies[sessions.COOKIE].value
    alice = await api.store.users.by_username("alice")
    assert alice is not None and len(await api.store.web_sessions.for_user(alice.id)) == 1
    # "Use another account" (force_login) and log in as bob in the same browser.
    form = authorize_form_fields(await _authorize_page(api, _query(app, force_login="true")))
    second = await api.client.post("/oauth/authorize", allow_redirects=False, data={
        **form, "login": "bob", "password": PASSWORD, "decision": "approve"})  # fmt: skip
    assert await _code_works(api, app, second.headers["Location"]) == "bob"
    assert second.cookies[sessions.COOKIE].value != alice_cookie
    assert await api.store.web_sessions.for_user(alice.id) == []  # alice's ended
    page = await _authorize_page(api, _query(app))
    assert "id='account'>@bob<" in page


async def test_the_two_factor_step_logs_the_browser_in(site: Site) -> None:
    api = await site(federation=HTTP)
    await api.user("alice")
    app = await register(api, redirect_uris=REDIRECT)
    secret = await _turn_on_two_factor(api)
    api.client.session.cookie_jar.clear()
    form = authorize_form_fields(await _authorize_page(api, _query(app)))
    login = {"login": "alice", "password": PASSWORD, "decision": "approve"}
    ask = await api.client.post("/oauth/authorize", data={**form, **login})
    page = await ask.text()
    assert ask.status == 422 and "name='otp'" in page
    assert sessions.COOKIE not in ask.cookies  # the password alone is not enough
    assert await _settings_status(api) == 302
    wrong = await api.client.post(
        "/oauth/authorize", data={**authorize_form_fields(page), **login, "otp": "1"}
    )
    assert wrong.status == 422 and sessions.COOKIE not in wrong.cookies
    code = pyotp.TOTP(secret).now()
    ok = await api.client.post(
        "/oauth/authorize",
        allow_redirects=False,
        data={**authorize_form_fields(page), **login, "otp": code},
    )
    assert ok.status == 302, await ok.text()
    assert await _code_works(api, app, ok.headers["Location"]) == "alice"
    assert sessions.COOKIE in ok.cookies and await _settings_status(api) == 200
    again = await _authorize_page(api, _query(app))
    assert "name='otp'" not in again and "id='account'>@alice<" in again


async def _turn_on_two_factor(api: Api) -> str:
    page = await (await api.client.get("/auth/sign_in")).text()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    signed = await api.client.post("/auth/sign_in", allow_redirects=False, data={
        "csrf_token": token.group(1), "login": "alice", "password": PASSWORD})  # fmt: skip
    assert signed.status == 303
    setup = await (await api.client.post(
        "/settings/two_factor/setup", data={"csrf_token": token.group(1)})).text()  # fmt: skip
    secret = re.search(r"id='otp-secret'>([A-Z2-7]+)<", setup)
    assert secret
    on = await api.client.post("/settings/two_factor/confirm", data={
        "csrf_token": token.group(1),
        "otp": pyotp.TOTP(secret.group(1)).at(time.time() - 30)})  # fmt: skip
    assert on.status == 200
    return secret.group(1)


async def test_session_cookie_is_secure_on_https(site: Site) -> None:
    api = await site(domain="social.example")  # served as https://social.example
    await api.user("alice")
    app = await register(api, redirect_uris=REDIRECT)
    page = await api.client.get("/oauth/authorize", params=_query(app))
    form = authorize_form_fields(await page.text())
    # The test client speaks http and so keeps no Secure cookie: send the CSRF one back
    # by hand, as a browser on https would.
    browser = {"Cookie": f"fedinode_csrf={page.cookies['fedinode_csrf'].value}"}
    resp = await api.client.post("/oauth/authorize", allow_redirects=False, headers=browser,
                                 data={**form, "login": "alice", "password": PASSWORD,
                                       "decision": "approve"})  # fmt: skip
    assert resp.status == 302
    cookie = resp.cookies[sessions.COOKIE]
    assert cookie["secure"] and cookie["httponly"] and cookie["samesite"] == "Lax"
