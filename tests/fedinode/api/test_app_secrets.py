"""An app's client secret is shown once, at registration, and kept only as a digest: every
place that takes it (token grants, revocation, Basic or form) still knows it."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from api_helpers import PASSWORD, Api, register


def _basic(app: dict[str, Any], secret: str | None = None) -> dict[str, str]:
    pair = f"{app['client_id']}:{app['client_secret'] if secret is None else secret}"
    return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}


async def test_the_database_holds_a_digest_not_the_secret(api: Api) -> None:
    app = await register(api)
    secret = app["client_secret"]
    assert len(secret) >= 32 and app["client_secret_expires_at"] == 0
    row = await api.store.db.fetchrow(
        "SELECT * FROM oauth_apps WHERE client_id = $1", app["client_id"]
    )
    assert row is not None
    assert secret not in [str(v) for v in row.values()]
    assert row["client_secret_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    # Nothing after registration shows it again.
    tok = await api.client.post("/oauth/token", data={"grant_type": "client_credentials"},
                                headers=_basic(app))  # fmt: skip
    assert tok.status == 200, await tok.text()
    token = (await tok.json())["access_token"]
    seen = await api.client.get("/api/v1/apps/verify_credentials",
                                headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert seen.status == 200
    body = await seen.json()
    assert body["name"] == "test app" and "client_secret" not in body
    assert secret not in await seen.text()


async def test_every_grant_and_auth_method_advertised_takes_the_secret(api: Api) -> None:
    await api.user("alice")
    app = await register(api)
    meta = await api.anon("/.well-known/oauth-authorization-server")
    assert sorted(meta["token_endpoint_auth_methods_supported"]) == [
        "client_secret_basic", "client_secret_post"]  # fmt: skip
    assert "password" in meta["grant_types_supported"]
    post = {"client_id": app["client_id"], "client_secret": app["client_secret"]}
    for creds in ({"data": post}, {"headers": _basic(app)}):
        data = {**creds.get("data", {}), "grant_type": "password", "username": "alice",
                "password": PASSWORD, "scope": "read"}  # fmt: skip
        resp = await api.client.post("/oauth/token", data=data, headers=creds.get("headers"))
        assert resp.status == 200, await resp.text()
        token = (await resp.json())["access_token"]
        # Revocation authenticates the app the same way.
        gone = await api.client.post("/oauth/revoke", data={**creds.get("data", {}),
                                     "token": token}, headers=creds.get("headers"))  # fmt: skip
        assert gone.status == 200
        me = await api.client.get("/api/v1/accounts/verify_credentials",
                                  headers={"Authorization": f"Bearer {token}"})  # fmt: skip
        assert me.status == 401


async def test_a_wrong_secret_or_the_digest_is_invalid_client(api: Api) -> None:
    app = await register(api)
    digest = hashlib.sha256(app["client_secret"].encode()).hexdigest()
    for secret in ("wrong", app["client_secret"][:-1], digest, ""):
        for creds in ({"data": {"client_id": app["client_id"], "client_secret": secret}},
                      {"headers": _basic(app, secret)}):  # fmt: skip
            resp = await api.client.post(
                "/oauth/token",
                data={**creds.get("data", {}), "grant_type": "client_credentials"},
                headers=creds.get("headers"),
            )
            assert resp.status == 401, (secret, await resp.text())
            assert (await resp.json())["error"] == "invalid_client"
            revoke = await api.client.post(
                "/oauth/revoke", data={**creds.get("data", {}), "token": "t"},
                headers=creds.get("headers"),
            )  # fmt: skip
            assert revoke.status == 401


async def test_every_advertised_endpoint_and_scope_is_served(api: Api) -> None:
    meta = await api.anon("/.well-known/oauth-authorization-server")
    base = api.config.base_url
    for key in ("authorization_endpoint", "token_endpoint", "revocation_endpoint",
                "app_registration_endpoint"):  # fmt: skip
        assert meta[key].startswith(base + "/"), key
        path = meta[key][len(base) :]
        method = "GET" if key == "authorization_endpoint" else "POST"
        resp = await api.client.request(method, path, data={})
        assert resp.status not in (404, 405) and resp.status < 500, (key, resp.status)
    app = await register(api, scopes=" ".join(meta["scopes_supported"]))
    assert app["scopes"] == meta["scopes_supported"]
