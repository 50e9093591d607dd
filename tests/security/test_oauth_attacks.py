"""A hostile app against OAuth: stolen codes, other apps' codes, scope creep, redirects."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from security.rig import PASSWORD, Api, register


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _hidden(html: str) -> dict[str, str]:
    return dict(re.findall(r"name='([^']+)' value='([^']*)'", html))


async def _code(api: Api, app: dict[str, Any], redirect_uri: str, scope: str = "read",
                challenge: str | None = None) -> str:  # fmt: skip
    query = {"response_type": "code", "client_id": app["client_id"],
             "redirect_uri": redirect_uri, "scope": scope}  # fmt: skip
    if challenge:
        query |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    page = await api.client.get("/oauth/authorize", params=query)
    assert page.status == 200
    form = _hidden(await page.text())
    ok = await api.client.post("/oauth/authorize", allow_redirects=False,
                               data={**form, "login": "alice", "password": PASSWORD,
                                     "decision": "approve"})  # fmt: skip
    assert ok.status == 302, await ok.text()
    return parse_qs(urlsplit(ok.headers["Location"]).query)["code"][0]


async def _exchange(api: Api, app: dict[str, Any], code: str, **extra: str) -> Any:
    return await api.client.post("/oauth/token", data={
        "grant_type": "authorization_code", "code": code, "client_id": app["client_id"],
        "client_secret": app["client_secret"], **extra})  # fmt: skip


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://evil.example/cb",
        "https://app.example/cb.evil.example",
        "https://app.example/cb/../../evil",
        "https://app.example/cb?next=https://evil.example",
        "https://app.example/cb#frag",
        "https://APP.example/cb",
        "https://app.example/CB",
        "https://app.example/cb ",
        "javascript:alert(1)",
        "urn:ietf:wg:oauth:2.0:oob",
    ],
)
async def test_unregistered_redirect_uri_is_refused_without_redirecting(
    api: Api, redirect_uri: str
) -> None:
    await api.user("alice")
    app = await register(api, redirect_uris="https://app.example/cb", scopes="read")
    query = {"response_type": "code", "client_id": app["client_id"],
             "redirect_uri": redirect_uri, "scope": "read"}  # fmt: skip
    page = await api.client.get("/oauth/authorize", params=query, allow_redirects=False)
    assert page.status == 400
    assert "Location" not in page.headers


async def test_code_of_app_a_cannot_be_exchanged_by_app_b(api: Api) -> None:
    await api.user("alice")
    app_a = await register(api, redirect_uris="https://a.example/cb", scopes="read")
    app_b = await register(api, redirect_uris="https://a.example/cb", scopes="read write")
    code = await _code(api, app_a, "https://a.example/cb")
    resp = await _exchange(api, app_b, code, redirect_uri="https://a.example/cb")
    assert resp.status in (400, 401)


async def test_code_is_single_use_and_scope_cannot_grow_at_exchange(api: Api) -> None:
    await api.user("alice")
    app = await register(api, redirect_uris="https://a.example/cb", scopes="read write")
    code = await _code(api, app, "https://a.example/cb", scope="read")
    resp = await _exchange(api, app, code, redirect_uri="https://a.example/cb",
                           scope="read write admin:write")  # fmt: skip
    body = await resp.json()
    assert resp.status == 200, body
    assert body["scope"] == "read"
    again = await _exchange(api, app, code, redirect_uri="https://a.example/cb")
    assert again.status == 400


async def test_pkce_verifier_must_match(api: Api) -> None:
    await api.user("alice")
    app = await register(api, redirect_uris="https://a.example/cb", scopes="read")
    _, challenge = _pkce()
    code = await _code(api, app, "https://a.example/cb", challenge=challenge)
    other_verifier, _ = _pkce()
    resp = await _exchange(api, app, code, redirect_uri="https://a.example/cb",
                           code_verifier=other_verifier)  # fmt: skip
    assert resp.status == 400


async def test_code_exchange_must_name_the_redirect_uri_it_was_issued_for(api: Api) -> None:
    await api.user("alice")
    app = await register(
        api, redirect_uris=["https://a.example/cb", "https://a.example/other"], scopes="read"
    )
    code = await _code(api, app, "https://a.example/cb")
    assert (await _exchange(api, app, code, redirect_uri="https://a.example/other")).status == 400
    code = await _code(api, app, "https://a.example/cb")
    # RFC 6749 §4.1.3: required when the authorization request carried one.
    assert (await _exchange(api, app, code)).status == 400


async def test_revoked_token_is_dead_and_other_apps_cannot_revoke_it(api: Api) -> None:
    await api.user("alice")
    app_a = await register(api, scopes="read")
    app_b = await register(api, scopes="read")
    resp = await api.client.post("/oauth/token", data={
        "grant_type": "password", "username": "alice", "password": PASSWORD,
        "client_id": app_a["client_id"], "client_secret": app_a["client_secret"],
        "scope": "read"})  # fmt: skip
    token = (await resp.json())["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    await api.client.post(
        "/oauth/revoke",
        data={
            "token": token,
            "client_id": app_b["client_id"],
            "client_secret": app_b["client_secret"],
        },
    )
    assert (
        await api.client.get("/api/v1/accounts/verify_credentials", headers=headers)
    ).status == 200
    await api.client.post(
        "/oauth/revoke",
        data={
            "token": token,
            "client_id": app_a["client_id"],
            "client_secret": app_a["client_secret"],
        },
    )
    assert (
        await api.client.get("/api/v1/accounts/verify_credentials", headers=headers)
    ).status == 401


async def test_password_grant_does_not_tell_which_logins_exist(api: Api) -> None:
    await api.user("alice")
    app = await register(api, scopes="read")
    answers = []
    for login in ("alice", "nobody-here", "alice@example.org", "nobody@example.org"):
        resp = await api.client.post("/oauth/token", data={
            "grant_type": "password", "username": login, "password": "wrong",
            "client_id": app["client_id"], "client_secret": app["client_secret"]})  # fmt: skip
        answers.append((resp.status, await resp.text()))
    assert len(set(answers)) == 1


async def test_password_grant_cannot_exceed_the_apps_scopes(api: Api) -> None:
    await api.user("alice", admin=True)
    app = await register(api, scopes="read")
    resp = await api.client.post("/oauth/token", data={
        "grant_type": "password", "username": "alice", "password": PASSWORD,
        "client_id": app["client_id"], "client_secret": app["client_secret"],
        "scope": "read admin:write"})  # fmt: skip
    assert resp.status == 400


async def test_consent_form_cannot_be_framed_or_replayed_for_other_parameters(api: Api) -> None:
    await api.user("alice")
    app = await register(api, redirect_uris="https://a.example/cb", scopes="read write")
    page = await api.client.get("/oauth/authorize", params={
        "response_type": "code", "client_id": app["client_id"],
        "redirect_uri": "https://a.example/cb", "scope": "read"})  # fmt: skip
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    form = _hidden(await page.text())
    # The signed form token is bound to scope, redirect and client: widening fails.
    for change in ({"scope": "read write"}, {"redirect_uri": "https://a.example/cb2"}):
        resp = await api.client.post(
            "/oauth/authorize",
            allow_redirects=False,
            data={**form, **change, "login": "alice", "password": PASSWORD, "decision": "approve"},
        )
        assert resp.status in (400, 403)
