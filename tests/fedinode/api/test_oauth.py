"""OAuth 2 as apps drive it: registration, authorization code + PKCE, password, client
credentials, revocation, and the failures apps must see."""

from __future__ import annotations

import base64
import hashlib
import html
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from api_helpers import PASSWORD, Api, register


def _hidden_fields(page: str) -> dict[str, str]:
    return {
        m.group(1): html.unescape(m.group(2))
        for m in re.finditer(r"<input type='hidden' name='([^']+)' value='([^']*)'>", page)
    }


def _pkce() -> tuple[str, str]:
    verifier = "v" * 20 + "-pkce-verifier-0123456789abcdefghij"
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    return verifier, challenge


async def test_authorization_code_with_pkce_and_state(api: Api) -> None:
    await api.user("alice")
    app = await register(
        api, redirect_uris=["https://app.example/cb", "myapp://oauth"], scopes="read write"
    )
    assert app["redirect_uris"] == ["https://app.example/cb", "myapp://oauth"]
    assert app["client_id"] and app["client_secret"]
    verifier, challenge = _pkce()
    query = {
        "response_type": "code",
        "client_id": app["client_id"],
        "redirect_uri": "myapp://oauth",
        "scope": "read write",
        "state": "xyz 1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    page = await api.client.get("/oauth/authorize", params=query)
    assert page.status == 200
    text = await page.text()
    assert "alice" not in text and "Email or username" in text
    form = _hidden_fields(text)
    assert form["authenticity_token"]

    # Wrong password: the form again, no redirect.
    bad = await api.client.post(
        "/oauth/authorize",
        data={**form, "login": "alice", "password": "nope", "decision": "approve"},
        allow_redirects=False,
    )
    assert bad.status == 422
    # A tampered form (wider scope) is refused.
    tampered = await api.client.post(
        "/oauth/authorize",
        data={
            **form,
            "scope": "read",
            "login": "alice",
            "password": PASSWORD,
            "decision": "approve",
        },
        allow_redirects=False,
    )
    assert tampered.status == 403

    ok = await api.client.post(
        "/oauth/authorize",
        data={**form, "login": "ALICE", "password": PASSWORD, "decision": "approve"},
        allow_redirects=False,
    )
    assert ok.status == 302
    location = urlsplit(ok.headers["Location"])
    assert (location.scheme, location.netloc) == ("myapp", "oauth")
    q = parse_qs(location.query)
    assert q["state"] == ["xyz 1"]
    code = q["code"][0]

    token_req = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": app["client_id"],
        "client_secret": app["client_secret"],
        "redirect_uri": "myapp://oauth",
    }
    # Without the verifier the code is refused, and a refused exchange consumes the code.
    resp = await api.client.post("/oauth/token", data=token_req)
    assert resp.status == 400
    assert (await resp.json())["error"] == "invalid_grant"

    # Start again and exchange properly (JSON body this time).
    ok = await api.client.post(
        "/oauth/authorize",
        data={**form, "login": "alice@example.org", "password": PASSWORD, "decision": "approve"},
        allow_redirects=False,
    )
    code = parse_qs(urlsplit(ok.headers["Location"]).query)["code"][0]
    resp = await api.client.post(
        "/oauth/token", json={**token_req, "code": code, "code_verifier": verifier}
    )
    body = await resp.json()
    assert resp.status == 200, body
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "read write"
    assert isinstance(body["created_at"], int)
    # A code works once.
    again = await api.client.post(
        "/oauth/token", json={**token_req, "code": code, "code_verifier": verifier}
    )
    assert again.status == 400

    me = await api.client.get(
        "/api/v1/apps/verify_credentials",
        headers={"Authorization": f"Bearer {body['access_token']}"},
    )
    assert me.status == 200
    assert (await me.json())["name"] == "test app"


async def test_oob_shows_code_and_deny_redirects(api: Api) -> None:
    await api.user("alice")
    app = await register(api, redirect_uris="urn:ietf:wg:oauth:2.0:oob")
    page = await api.client.get(
        "/oauth/authorize",
        params={
            "client_id": app["client_id"],
            "redirect_uri": "urn:ietf:wg:oauth:2.0:oob",
            "response_type": "code",
        },
    )
    form = _hidden_fields(await page.text())
    resp = await api.client.post(
        "/oauth/authorize",
        data={**form, "login": "alice", "password": PASSWORD, "decision": "approve"},
    )
    assert resp.status == 200
    code = re.search(r"<code id='code'>([^<]+)</code>", await resp.text())
    assert code is not None
    tok = await api.client.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": html.unescape(code.group(1)),
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "redirect_uri": "urn:ietf:wg:oauth:2.0:oob",
        },
    )
    assert tok.status == 200
    assert (await tok.json())["scope"] == "read"

    web_app = await register(api, redirect_uris="https://app.example/cb")
    page = await api.client.get(
        "/oauth/authorize",
        params={
            "client_id": web_app["client_id"],
            "redirect_uri": "https://app.example/cb",
            "state": "s",
        },
    )
    form = _hidden_fields(await page.text())
    denied = await api.client.post(
        "/oauth/authorize", data={**form, "decision": "deny"}, allow_redirects=False
    )
    assert denied.status == 302
    assert parse_qs(urlsplit(denied.headers["Location"]).query) == {
        "error": ["access_denied"],
        "error_description": ["The resource owner denied the request."],
        "state": ["s"],
    }


async def test_authorize_rejects_unknown_redirect_and_scope(api: Api) -> None:
    app = await register(api, redirect_uris="https://app.example/cb", scopes="read")
    wrong_uri = await api.client.get(
        "/oauth/authorize",
        params={"client_id": app["client_id"], "redirect_uri": "https://evil.example/cb"},
    )
    assert wrong_uri.status == 400
    wider = await api.client.get(
        "/oauth/authorize",
        params={
            "client_id": app["client_id"],
            "redirect_uri": "https://app.example/cb",
            "scope": "write",
        },
    )
    assert wider.status == 400


async def test_password_grant_email_or_username(api: Api) -> None:
    await api.user("alice")
    app = await register(api, scopes="read write follow")
    base = {
        "grant_type": "password",
        "client_id": app["client_id"],
        "client_secret": app["client_secret"],
        "scope": "read write",
    }
    for login in ("alice", "alice@example.org"):
        resp = await api.client.post(
            "/oauth/token", data={**base, "username": login, "password": PASSWORD}
        )
        assert resp.status == 200
        token = (await resp.json())["access_token"]
        me = await api.client.get(
            "/api/v1/accounts/verify_credentials", headers={"Authorization": f"Bearer {token}"}
        )
        assert (await me.json())["username"] == "alice"
    wrong = await api.client.post(
        "/oauth/token", data={**base, "username": "alice", "password": "wrong-password"}
    )
    assert wrong.status == 400
    assert (await wrong.json())["error"] == "invalid_grant"
    too_wide = await api.client.post(
        "/oauth/token",
        data={**base, "username": "alice", "password": PASSWORD, "scope": "admin:read"},
    )
    assert too_wide.status == 400
    assert (await too_wide.json())["error"] == "invalid_scope"


async def test_wrong_client_secret(api: Api) -> None:
    await api.user("alice")
    app = await register(api)
    resp = await api.client.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": app["client_id"],
            "client_secret": "nope",
            "username": "alice",
            "password": PASSWORD,
        },
    )
    assert resp.status == 401
    assert (await resp.json())["error"] == "invalid_client"
    unsupported = await api.client.post(
        "/oauth/token", data={"grant_type": "implicit", "client_id": app["client_id"]}
    )
    assert unsupported.status == 400
    assert (await unsupported.json())["error"] == "unsupported_grant_type"


async def test_client_credentials_and_basic_auth(api: Api) -> None:
    app = await register(api, scopes="read write")
    basic = base64.b64encode(f"{app['client_id']}:{app['client_secret']}".encode()).decode()
    resp = await api.client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "read"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert resp.status == 200
    token = (await resp.json())["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    ok = await api.client.get("/api/v1/apps/verify_credentials", headers=auth)
    assert ok.status == 200
    body: dict[str, Any] = await ok.json()
    assert "client_secret" not in body and body["name"] == "test app"
    # An app token is not a user: user endpoints refuse it.
    me = await api.client.get("/api/v1/accounts/verify_credentials", headers=auth)
    assert me.status in (401, 403)


async def test_revoke(api: Api) -> None:
    alice = await api.user("alice")
    app = await register(api)
    tok = await (
        await api.client.post(
            "/oauth/token",
            data={
                "grant_type": "password",
                "client_id": app["client_id"],
                "client_secret": app["client_secret"],
                "username": "alice",
                "password": PASSWORD,
            },
        )
    ).json()
    auth = {"Authorization": f"Bearer {tok['access_token']}"}
    assert (await api.client.get("/api/v1/accounts/verify_credentials", headers=auth)).status == 200
    # Another app cannot revoke it.
    other = await register(api)
    await api.client.post(
        "/oauth/revoke",
        data={
            "client_id": other["client_id"],
            "client_secret": other["client_secret"],
            "token": tok["access_token"],
        },
    )
    assert (await api.client.get("/api/v1/accounts/verify_credentials", headers=auth)).status == 200
    resp = await api.client.post(
        "/oauth/revoke",
        data={
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "token": tok["access_token"],
        },
    )
    assert resp.status == 200
    after = await api.client.get("/api/v1/accounts/verify_credentials", headers=auth)
    assert after.status == 401
    assert await after.json() == {"error": "The access token is invalid"}
    assert alice.token != tok["access_token"]


async def test_garbage_token_is_401_even_on_public_endpoints(api: Api) -> None:
    resp = await api.client.get(
        "/api/v1/timelines/public", headers={"Authorization": "Bearer garbage"}
    )
    assert resp.status == 401
    assert await resp.json() == {"error": "The access token is invalid"}


async def test_app_registration_validation_and_metadata(api: Api) -> None:
    resp = await api.client.post(
        "/api/v1/apps", data={"client_name": "", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"}
    )
    assert resp.status == 422
    resp = await api.client.post(
        "/api/v1/apps", data={"client_name": "x", "redirect_uris": "javascript:alert(1)"}
    )
    assert resp.status == 422
    resp = await api.client.post(
        "/api/v1/apps",
        data={
            "client_name": "x",
            "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
            "scopes": "read bogus",
        },
    )
    assert resp.status == 422
    meta = await api.anon("/.well-known/oauth-authorization-server")
    assert meta["token_endpoint"] == "https://local.test/oauth/token"
    assert "S256" in meta["code_challenge_methods_supported"]
    assert "read:statuses" in meta["scopes_supported"]
