"""Sign-up as an app does it: an app token, the form, and what the new token can do."""

from __future__ import annotations

from typing import Any

from api_helpers import Api


async def app_token(api: Api, scopes: str = "read write follow push") -> str:
    resp = await api.client.post("/api/v1/apps", json={
        "client_name": "sign-up app", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
        "scopes": scopes})  # fmt: skip
    app = await resp.json()
    resp = await api.client.post("/oauth/token", data={
        "grant_type": "client_credentials", "client_id": app["client_id"],
        "client_secret": app["client_secret"], "scope": scopes})  # fmt: skip
    assert resp.status == 200, await resp.text()
    return str((await resp.json())["access_token"])


def form(name: str = "newbie", **extra: Any) -> dict[str, Any]:
    return {"username": name, "email": f"{name}@example.org", "password": "a good password",
            "agreement": "true", "locale": "fa", **extra}  # fmt: skip


async def sign_up(api: Api, token: str, body: dict[str, Any]) -> tuple[int, Any]:
    resp = await api.client.post(
        "/api/v1/accounts", data=body, headers={"Authorization": f"Bearer {token}"}
    )
    return resp.status, await resp.json()


async def me(api: Api, token: str) -> tuple[int, Any]:
    resp = await api.client.get(
        "/api/v1/accounts/verify_credentials", headers={"Authorization": f"Bearer {token}"}
    )
    return resp.status, await resp.json()


async def password_login(api: Api, login: str, password: str) -> int:
    resp = await api.client.post("/api/v1/apps", json={
        "client_name": "login", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"})  # fmt: skip
    app = await resp.json()
    resp = await api.client.post("/oauth/token", data={
        "grant_type": "password", "client_id": app["client_id"],
        "client_secret": app["client_secret"], "username": login, "password": password,
        "scope": "read"})  # fmt: skip
    return resp.status
