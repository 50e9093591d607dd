"""OAuth does what /.well-known/oauth-authorization-server says, and nothing weaker:
PKCE only with S256 (``plain`` puts the secret itself in the browser's address bar),
authorization codes only in the redirect's query."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from fedinode.services import oauth
from security.rig import PASSWORD, Api, register

REDIRECT = "https://app.example/cb"


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _hidden(html: str) -> dict[str, str]:
    return dict(re.findall(r"name='([^']+)' value='([^']*)'", html))


async def _authorize(api: Api, app: dict[str, Any], **extra: str) -> Any:
    query = {"response_type": "code", "client_id": app["client_id"],
             "redirect_uri": REDIRECT, "scope": "read", **extra}  # fmt: skip
    return await api.client.get("/oauth/authorize", params=query, allow_redirects=False)


async def test_metadata_advertises_only_what_is_implemented(api: Api) -> None:
    meta = await api.anon("/.well-known/oauth-authorization-server")
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["response_modes_supported"] == ["query"]
    assert meta["response_types_supported"] == ["code"]


@pytest.mark.parametrize(
    "pkce",
    [
        {"code_challenge_method": "plain"},
        {"code_challenge_method": "PLAIN"},
        {},  # no method: RFC 7636 says plain
        {"code_challenge_method": "S512"},
    ],
    ids=["plain", "PLAIN", "no-method", "unknown"],
)
async def test_a_challenge_other_than_s256_is_refused(api: Api, pkce: dict[str, str]) -> None:
    await api.user("alice")
    app = await register(api, redirect_uris=REDIRECT, scopes="read")
    page = await _authorize(api, app, code_challenge=secrets.token_urlsafe(48), **pkce)
    assert page.status == 400, await page.text()
    assert "S256" in await page.text()
    assert "Location" not in page.headers


@pytest.mark.parametrize("method", ["S256", "s256"])
async def test_s256_still_works_end_to_end(api: Api, method: str) -> None:
    await api.user("alice")
    app = await register(api, redirect_uris=REDIRECT, scopes="read")
    verifier = secrets.token_urlsafe(48)
    page = await _authorize(api, app, code_challenge=_s256(verifier), code_challenge_method=method)
    assert page.status == 200, await page.text()
    form = _hidden(await page.text())
    ok = await api.client.post("/oauth/authorize", allow_redirects=False,
                               data={**form, "login": "alice", "password": PASSWORD,
                                     "decision": "approve"})  # fmt: skip
    assert ok.status == 302, await ok.text()
    code = parse_qs(urlsplit(ok.headers["Location"]).query)["code"][0]
    resp = await api.client.post("/oauth/token", data={
        "grant_type": "authorization_code", "code": code, "client_id": app["client_id"],
        "client_secret": app["client_secret"], "redirect_uri": REDIRECT,
        "code_verifier": verifier})  # fmt: skip
    assert resp.status == 200, await resp.text()


async def test_a_code_kept_with_plain_cannot_be_exchanged(api: Api) -> None:
    """A code issued with ``plain`` before the refusal (still in the database) is dead."""
    alice = await api.user("alice")
    app = await register(api, redirect_uris=REDIRECT, scopes="read")
    stored = await api.store.oauth.app_by_client_id(app["client_id"])
    user = await api.store.users.by_account(alice.account.id)
    assert stored is not None and user is not None
    verifier = secrets.token_urlsafe(48)
    await api.store.oauth.create_code(
        "plain-code", app_id=stored.id, user_id=user.id, redirect_uri=REDIRECT,
        scopes="read", code_challenge=verifier, code_challenge_method="plain",
    )  # fmt: skip
    resp = await api.client.post("/oauth/token", data={
        "grant_type": "authorization_code", "code": "plain-code", "client_id": app["client_id"],
        "client_secret": app["client_secret"], "redirect_uri": REDIRECT,
        "code_verifier": verifier})  # fmt: skip
    assert resp.status == 400
    assert (await resp.json())["error"] == "invalid_grant"


def test_pkce_matches_only_s256() -> None:
    verifier = secrets.token_urlsafe(48)
    assert oauth.pkce_matches(verifier, _s256(verifier), "S256")
    assert not oauth.pkce_matches(verifier, verifier, "plain")
    assert not oauth.pkce_matches(verifier, verifier, None)


@pytest.mark.parametrize("mode", ["fragment", "form_post", "web_message"])
async def test_an_unimplemented_response_mode_is_refused(api: Api, mode: str) -> None:
    await api.user("alice")
    app = await register(api, redirect_uris=REDIRECT, scopes="read")
    page = await _authorize(api, app, response_mode=mode)
    assert page.status == 400, await page.text()
    assert "Location" not in page.headers


async def test_the_query_response_mode_is_taken(api: Api) -> None:
    await api.user("alice")
    app = await register(api, redirect_uris=REDIRECT, scopes="read")
    assert (await _authorize(api, app, response_mode="query")).status == 200
