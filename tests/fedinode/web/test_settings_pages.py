"""The web login and the settings pages: change the password, see and revoke the apps and
browsers signed in, turn TOTP two-factor on and off; every form needs its CSRF token."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pyotp
from api_helpers import PASSWORD, Api, register

from fedinode.web import sessions

Site = Callable[..., Awaitable[Api]]
NEW_PASSWORD = "a brand new passphrase"
# The cookies are Secure on an https instance; the test client speaks plain http.
HTTP = {"scheme": "http"}


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


async def form(api: Api, path: str) -> str:
    resp = await api.client.get(path)
    assert resp.status == 200, await resp.text()
    return csrf_of(await resp.text())


async def log_in(api: Api, login: str, password: str, **extra: str) -> Any:
    token = await form(api, "/auth/sign_in")
    return await api.client.post(
        "/auth/sign_in",
        data={"csrf_token": token, "login": login, "password": password, **extra},
        allow_redirects=False,
    )


async def test_settings_need_a_login(site: Site) -> None:
    api = await site(federation=HTTP)
    resp = await api.client.get("/settings", allow_redirects=False)
    assert resp.status == 302
    assert resp.headers["Location"] in ("/auth/sign_in?next=/settings", "/auth/sign_in?next=%2Fsettings")
    await api.user("alice")
    bad = await log_in(api, "alice", "not it")
    assert bad.status == 422 and "Invalid email/username or password." in await bad.text()
    # Somewhere else after login? Only a path on this site.
    ok = await log_in(api, "alice@example.org", PASSWORD, next="//evil.example/x")
    assert ok.status == 303 and ok.headers["Location"] == "/settings"
    cookie = ok.cookies[sessions.COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    page = await (await api.client.get("/settings")).text()
    assert "Change password" in page and "no-store" in (await api.client.get("/settings")).headers[
        "Cache-Control"
    ]
    # Logging out ends the session.
    out = await api.client.post(
        "/auth/sign_out", data={"csrf_token": csrf_of(page)}, allow_redirects=False
    )
    assert out.status == 303
    assert (await api.client.get("/settings", allow_redirects=False)).status == 302


async def test_forms_refuse_a_missing_or_foreign_csrf_token(site: Site) -> None:
    api = await site(federation=HTTP)
    await api.user("alice")
    assert (await log_in(api, "alice", PASSWORD)).status == 303
    data = {"current_password": PASSWORD, "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD}  # fmt: skip
    assert (await api.client.post("/settings/password", data=data)).status == 403
    forged = {**data, "csrf_token": "0" * 64}
    assert (await api.client.post("/settings/password", data=forged)).status == 403
    no_token = await api.client.post("/auth/sign_in", data={"login": "alice", "password": PASSWORD})
    assert no_token.status == 403


async def test_change_password_signs_out_apps_and_other_browsers(site: Site) -> None:
    api = await site(federation=HTTP)
    alice = await api.user("alice")
    user = await api.store.users.by_username("alice")
    assert user is not None
    elsewhere = await api.store.web_sessions.create(user.id, "x" * 43, ttl_ms=sessions.TTL_MS)
    assert (await log_in(api, "alice", PASSWORD)).status == 303
    token = await form(api, "/settings")
    mismatch = await api.client.post("/settings/password", data={
        "csrf_token": token, "current_password": PASSWORD, "new_password": NEW_PASSWORD,
        "confirm_password": "something else"})  # fmt: skip
    assert mismatch.status == 422 and "do not match" in await mismatch.text()
    wrong = await api.client.post("/settings/password", data={
        "csrf_token": token, "current_password": "not it", "new_password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD})  # fmt: skip
    assert wrong.status == 422 and "current password is not right" in await wrong.text()
    assert (await alice.get("/api/v1/accounts/verify_credentials")).status == 200
    done = await api.client.post("/settings/password", data={
        "csrf_token": token, "current_password": PASSWORD, "new_password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD})  # fmt: skip
    assert done.status == 200 and "Your password is changed" in await done.text()
    assert (await alice.get("/api/v1/accounts/verify_credentials")).status == 401
    assert await api.store.web_sessions.by_token("x" * 43) is None
    assert elsewhere.id not in [s.id for s in await api.store.web_sessions.for_user(user.id)]
    assert (await api.client.get("/settings")).status == 200  # this browser stays in
    api.client.session.cookie_jar.clear()
    assert (await log_in(api, "alice", PASSWORD)).status == 422
    assert (await log_in(api, "alice", NEW_PASSWORD)).status == 303


async def test_sessions_page_lists_and_revokes(site: Site) -> None:
    api = await site(federation=HTTP)
    alice = await api.user("alice")
    assert (await log_in(api, "alice", PASSWORD)).status == 303
    await alice.get("/api/v1/accounts/verify_credentials")
    page = await (await api.client.get("/settings/sessions")).text()
    assert "tests" in page and "read write follow push" in page and "This browser" in page
    found = re.search(r"/settings/sessions/(\d+)/revoke", page)
    assert found
    revoke = await api.client.post(
        f"/settings/sessions/{found.group(1)}/revoke",
        data={"csrf_token": csrf_of(page)},
        allow_redirects=False,
    )
    assert revoke.status == 303
    assert (await alice.get("/api/v1/accounts/verify_credentials")).status == 401
    # Another user's token cannot be revoked from here.
    bob = await api.user("bob")
    tokens = await api.store.oauth.live_user_tokens(
        (await api.store.users.by_username("bob")).id  # type: ignore[union-attr]
    )
    await api.client.post(
        f"/settings/sessions/{tokens[0].id}/revoke", data={"csrf_token": csrf_of(page)}
    )
    assert (await bob.get("/api/v1/accounts/verify_credentials")).status == 200


async def test_language_setting_wins_over_accept_language(site: Site) -> None:
    api = await site(federation=HTTP)
    await api.user("alice")
    assert (await log_in(api, "alice", PASSWORD)).status == 303
    token = await form(api, "/settings")
    resp = await api.client.post("/settings/language", data={"csrf_token": token, "locale": "fa"})
    assert resp.status == 200
    page = await resp.text()
    assert "<html lang='fa' dir='rtl'>" in page and "تغییر گذرواژه" in page
    landing = await (await api.client.get("/", headers={"Accept-Language": "en"})).text()
    assert "چگونه بپیوندید" in landing
    # Back to "the browser's language": Accept-Language decides again.
    await api.client.post("/settings/language", data={"csrf_token": token, "locale": ""})
    user = await api.store.users.by_username("alice")
    assert user is not None and user.locale == ""
    landing = await (await api.client.get("/", headers={"Accept-Language": "en"})).text()
    assert "How to join" in landing
    bad = await api.client.post("/settings/language", data={"csrf_token": token, "locale": "xx"})
    assert bad.status == 400


async def _enable_two_factor(api: Api) -> tuple[str, list[str]]:
    token = await form(api, "/settings/two_factor")
    setup = await (await api.client.post(
        "/settings/two_factor/setup", data={"csrf_token": token})).text()  # fmt: skip
    secret_match = re.search(r"id='otp-secret'>([A-Z2-7]+)<", setup)
    uri_match = re.search(r"id='otp-uri'>([^<]+)<", setup)
    assert secret_match and uri_match
    secret = secret_match.group(1)
    assert html.unescape(uri_match.group(1)).startswith("otpauth://totp/")
    wrong = await api.client.post(
        "/settings/two_factor/confirm", data={"csrf_token": token, "otp": "000000"}
    )
    assert wrong.status == 422
    code = pyotp.TOTP(secret).at(time.time() - 30)  # the last step: drift is allowed
    on = await api.client.post(
        "/settings/two_factor/confirm", data={"csrf_token": token, "otp": code}
    )
    page = await on.text()
    assert on.status == 200, page
    codes = re.findall(r"<li><code>([0-9a-f]{10})</code></li>", page)
    assert len(codes) == 10
    return secret, codes


async def test_two_factor_login(site: Site) -> None:
    api = await site(federation=HTTP)
    await api.user("alice")
    assert (await log_in(api, "alice", PASSWORD)).status == 303
    secret, recovery = await _enable_two_factor(api)
    api.client.session.cookie_jar.clear()
    # Password right: the second step asks for a code; no session yet.
    step = await log_in(api, "alice", PASSWORD)
    page = await step.text()
    assert step.status == 200 and "name='pending'" in page
    assert sessions.COOKIE not in step.cookies
    pending = re.search(r"name='pending' value='([^']+)'", page)
    assert pending
    base = {"csrf_token": csrf_of(page), "pending": html.unescape(pending.group(1))}
    wrong = await api.client.post("/auth/sign_in", data={**base, "otp": "123456"})
    assert wrong.status == 422 and "wrong or was already used" in await wrong.text()
    code = pyotp.TOTP(secret).now()
    ok = await api.client.post(
        "/auth/sign_in", data={**base, "otp": code}, allow_redirects=False
    )
    assert ok.status == 303
    # The same code does not work twice.
    api.client.session.cookie_jar.clear()
    page = await (await log_in(api, "alice", PASSWORD)).text()
    pending = re.search(r"name='pending' value='([^']+)'", page)
    assert pending
    base = {"csrf_token": csrf_of(page), "pending": html.unescape(pending.group(1))}
    again = await api.client.post("/auth/sign_in", data={**base, "otp": code})
    assert again.status == 422
    # A recovery code works, once.
    rescued = await api.client.post(
        "/auth/sign_in", data={**base, "otp": recovery[0]}, allow_redirects=False
    )
    assert rescued.status == 303
    api.client.session.cookie_jar.clear()
    page = await (await log_in(api, "alice", PASSWORD)).text()
    pending = re.search(r"name='pending' value='([^']+)'", page)
    assert pending
    base = {"csrf_token": csrf_of(page), "pending": html.unescape(pending.group(1))}
    reused = await api.client.post("/auth/sign_in", data={**base, "otp": recovery[0]})
    assert reused.status == 422


async def test_two_factor_and_oauth(site: Site) -> None:
    api = await site(federation=HTTP)
    await api.user("alice")
    assert (await log_in(api, "alice", PASSWORD)).status == 303
    secret, _ = await _enable_two_factor(api)
    app = await register(api)
    # The password grant has no place for a code: refused as Mastodon refuses it.
    grant = await api.client.post("/oauth/token", data={
        "grant_type": "password", "client_id": app["client_id"],
        "client_secret": app["client_secret"], "username": "alice@example.org",
        "password": PASSWORD, "scope": "read"})  # fmt: skip
    assert grant.status == 400 and (await grant.json())["error"] == "invalid_grant"
    # The login form (asked for although this browser is logged in) wants the code with
    # the password.
    query = {"client_id": app["client_id"], "redirect_uri": "urn:ietf:wg:oauth:2.0:oob",
             "response_type": "code", "scope": "read", "force_login": "true"}  # fmt: skip
    page = await (await api.client.get("/oauth/authorize", params=query)).text()
    hidden = {
        m.group(1): html.unescape(m.group(2))
        for m in re.finditer(r"<input type='hidden' name='([^']+)' value='([^']*)'>", page)
    }
    form_data = {**hidden, "login": "alice", "password": PASSWORD, "decision": "approve"}
    ask = await api.client.post("/oauth/authorize", data=form_data)
    text = await ask.text()
    assert ask.status == 422 and "name='otp'" in text and "two-factor app" in text
    hidden = {
        m.group(1): html.unescape(m.group(2))
        for m in re.finditer(r"<input type='hidden' name='([^']+)' value='([^']*)'>", text)
    }
    code = pyotp.TOTP(secret).now()
    ok = await api.client.post(
        "/oauth/authorize", data={**form_data, **hidden, "otp": code}
    )
    assert ok.status == 200 and "id='code'" in await ok.text()


async def test_two_factor_off_needs_the_password(site: Site) -> None:
    api = await site(federation=HTTP)
    await api.user("alice")
    assert (await log_in(api, "alice", PASSWORD)).status == 303
    await _enable_two_factor(api)
    token = await form(api, "/settings/two_factor")
    wrong = await api.client.post(
        "/settings/two_factor/disable", data={"csrf_token": token, "password": "nope"}
    )
    assert wrong.status == 422
    off = await api.client.post(
        "/settings/two_factor/disable", data={"csrf_token": token, "password": PASSWORD}
    )
    assert off.status == 200 and "Set up" in await off.text()
    api.client.session.cookie_jar.clear()
    assert (await log_in(api, "alice", PASSWORD)).status == 303
