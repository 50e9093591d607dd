"""GoToSocial's POST /api/v1/user/password_change as apps call it, and what a login does
with a password hashed at an older cost."""

from __future__ import annotations

from typing import Any

import pytest
from api_helpers import PASSWORD, Api, register

from fedinode.services.passwords import DEFAULT_COST, ScryptCost, hash_password

NEW = "a brand new passphrase"


async def _password_login(api: Api, app: dict[str, Any], login: str, password: str) -> Any:
    return await api.client.post("/oauth/token", data={
        "grant_type": "password", "client_id": app["client_id"],
        "client_secret": app["client_secret"], "username": login, "password": password,
        "scope": "read"})  # fmt: skip


@pytest.mark.parametrize("as_json", [False, True], ids=["form", "json"])
async def test_change_keeps_this_session_and_signs_out_the_others(api: Api, as_json: bool) -> None:
    alice = await api.user("alice")
    other = await api.token_for(alice.account)
    body = {"old_password": PASSWORD, "new_password": NEW}
    resp = await alice.post("/api/v1/user/password_change",
                            **({"json": body} if as_json else {"data": body}))  # fmt: skip
    assert resp.status == 200, await resp.text()
    assert await resp.json() == {"status": "OK"}

    assert (await alice.get("/api/v1/accounts/verify_credentials")).status == 200
    gone = await other.get("/api/v1/accounts/verify_credentials")
    assert gone.status == 401

    app = await register(api)
    assert (await _password_login(api, app, "alice", PASSWORD)).status == 400
    ok = await _password_login(api, app, "alice", NEW)
    assert ok.status == 200, await ok.text()


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"old_password": "not my password", "new_password": NEW}, 422, "incorrect"),
        ({"old_password": PASSWORD, "new_password": "short"}, 422, "at least 8"),
        ({"old_password": PASSWORD, "new_password": PASSWORD}, 422, "differ"),
        ({"old_password": PASSWORD, "new_password": "x" * 1025}, 422, "at most"),
        ({"new_password": NEW}, 400, "old_password"),
        ({"old_password": PASSWORD}, 400, "new_password"),
        ({"old_password": PASSWORD, "new_password": ""}, 400, "new_password"),
        ({"old_password": {"a": 1}, "new_password": NEW}, 422, "old_password"),
    ],
    ids=["wrong-old", "too-short", "same", "too-long", "no-old", "no-new", "empty-new", "object"],
)
async def test_refusals_change_nothing(
    api: Api, body: dict[str, Any], status: int, words: str
) -> None:
    alice = await api.user("alice")
    other = await api.token_for(alice.account)
    resp = await alice.post("/api/v1/user/password_change", json=body)
    assert resp.status == status, await resp.text()
    assert words in (await resp.json())["error"]
    # Still signed in everywhere, and the old password still works.
    assert (await other.get("/api/v1/accounts/verify_credentials")).status == 200
    app = await register(api)
    assert (await _password_login(api, app, "alice", PASSWORD)).status == 200


async def test_it_needs_a_user_token_with_write_accounts(api: Api) -> None:
    alice = await api.user("alice")
    body = {"old_password": PASSWORD, "new_password": NEW}
    anon = await api.client.post("/api/v1/user/password_change", data=body)
    assert anon.status == 401
    reader = await api.token_for(alice.account, scopes="read")
    assert (await reader.post("/api/v1/user/password_change", data=body)).status == 403
    narrow = await api.token_for(alice.account, scopes="write:accounts")
    app = await register(api)
    tok = await api.client.post("/oauth/token", data={
        "grant_type": "client_credentials", "client_id": app["client_id"],
        "client_secret": app["client_secret"], "scope": "write"})  # fmt: skip
    app_token = (await tok.json())["access_token"]
    resp = await api.client.post("/api/v1/user/password_change", data=body,
                                 headers={"Authorization": f"Bearer {app_token}"})  # fmt: skip
    assert resp.status == 401  # an app token acts for no user
    resp = await narrow.post("/api/v1/user/password_change", data=body)
    assert resp.status == 200, await resp.text()


async def test_a_login_stores_a_hash_at_the_configured_cost(api: Api) -> None:
    alice = await api.user("alice")
    user = await api.store.users.by_account(alice.account.id)
    assert user is not None
    old = hash_password(PASSWORD, ScryptCost(n=1024))
    await api.store.users.update(user.id, password_hash=old)
    app = await register(api)

    assert (await _password_login(api, app, "alice", "wrong password")).status == 400
    assert (await api.store.users.get(user.id)).password_hash == old  # type: ignore[union-attr]
    assert (await _password_login(api, app, "alice", PASSWORD)).status == 200
    stored = (await api.store.users.get(user.id)).password_hash  # type: ignore[union-attr]
    assert stored != old and stored.startswith(f"scrypt${DEFAULT_COST.n}$")
    assert (await _password_login(api, app, "alice", PASSWORD)).status == 200
