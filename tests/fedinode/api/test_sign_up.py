"""Sign-up as Mastodon apps do it (POST /api/v1/accounts with an app token) under each
``[instance] registrations`` mode, the account states that follow, and invites."""

from __future__ import annotations

import dataclasses
import html
import re
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from api_helpers import Api
from signup_helpers import app_token, form, me, password_login, sign_up

from fedinode.app import create_app
from fedinode.config import Config
from storage.ids import now_ms

MakeApi = Callable[..., Awaitable[Api]]


@pytest.fixture
def make_api(aiohttp_client: Any, config: Config) -> MakeApi:
    async def make(mode: str, **email: Any) -> Api:
        cfg = dataclasses.replace(
            config,
            instance=dataclasses.replace(config.instance, registrations=mode),
            email=dataclasses.replace(config.email, **email),
        )
        client: TestClient[Any, Any] = await aiohttp_client(create_app(cfg))
        return Api(client=client, config=cfg)

    return make


@pytest.mark.parametrize(
    ("mode", "enabled", "approval"),
    [
        ("open", True, False),
        ("approval", True, True),
        ("invite", False, False),
        ("closed", False, False),
    ],
)
async def test_instance_and_nodeinfo_say_what_the_mode_is(
    make_api: MakeApi, mode: str, enabled: bool, approval: bool
) -> None:
    api = await make_api(mode)
    v2 = await api.anon("/api/v2/instance")
    assert v2["registrations"]["enabled"] is enabled
    assert v2["registrations"]["approval_required"] is approval
    v1 = await api.anon("/api/v1/instance")
    assert (v1["registrations"], v1["approval_required"]) == (enabled, approval)
    links = await api.anon("/.well-known/nodeinfo")
    nodeinfo = await api.anon(links["links"][0]["href"].split(api.config.domain, 1)[1])
    assert nodeinfo["openRegistrations"] is enabled


async def test_open_sign_up_answers_a_token_that_works(make_api: MakeApi) -> None:
    api = await make_api("open")
    status, body = await sign_up(api, await app_token(api), form())
    assert status == 200, body
    assert body["token_type"] == "Bearer" and body["access_token"]
    assert set(body["scope"].split()) == {"read", "write", "follow", "push"}
    assert isinstance(body["created_at"], int)
    status, account = await me(api, body["access_token"])
    assert status == 200, account
    assert account["username"] == "newbie"
    assert await password_login(api, "newbie@example.org", "a good password") == 200


async def test_closed_refuses_every_sign_up(make_api: MakeApi) -> None:
    api = await make_api("closed")
    status, body = await sign_up(api, await app_token(api), form())
    assert status == 403 and body["error"] == "This action is not allowed"
    assert await api.store.users.by_username("newbie") is None


async def test_sign_up_needs_an_app_token_with_write_accounts(make_api: MakeApi) -> None:
    api = await make_api("open")
    resp = await api.client.post("/api/v1/accounts", data=form())
    assert resp.status == 401
    status, body = await sign_up(api, await app_token(api, "read"), form())
    assert status == 403, body
    status, body = await sign_up(api, await app_token(api, "write:accounts"), form())
    assert status == 200, body


async def test_approval_queue_until_an_admin_approves(make_api: MakeApi) -> None:
    api = await make_api("approval")
    root = await api.user("root", admin=True, scopes="read write admin:read admin:write")
    status, body = await sign_up(api, await app_token(api), form(reason="I write poems"))
    assert status == 200, body
    token = body["access_token"]
    assert await me(api, token) == (403, {"error": "Your login is currently pending approval"})
    assert await password_login(api, "newbie", "a good password") == 400

    pending = await root.json("get", "/api/v2/admin/accounts?status=pending")
    assert [a["username"] for a in pending] == ["newbie"]
    assert pending[0]["invite_request"] == "I write poems"
    assert pending[0]["approved"] is False and pending[0]["confirmed"] is True
    assert pending[0]["locale"] == "fa"
    await root.json("post", f"/api/v1/admin/accounts/{pending[0]['id']}/approve")

    assert (await me(api, token))[0] == 200
    assert await password_login(api, "newbie", "a good password") == 200


async def test_invalid_fields_answer_mastodon_details(make_api: MakeApi) -> None:
    api = await make_api("open")
    token = await app_token(api)
    await api.user("taken")
    status, body = await sign_up(api, token, {
        "username": "taken", "email": "not an address", "password": "short"})  # fmt: skip
    assert status == 422
    assert body["error"].startswith("Validation failed: ")
    details = body["details"]
    assert details["username"] == [{"error": "ERR_TAKEN", "description": "is taken"}]
    assert details["email"][0]["error"] == "ERR_INVALID"
    assert details["password"][0]["error"] == "ERR_TOO_SHORT"
    assert details["agreement"] == [{"error": "ERR_ACCEPTED", "description": "must be accepted"}]

    status, body = await sign_up(api, token, form("other", email="taken@example.org"))
    assert status == 422 and body["details"]["email"][0]["error"] == "ERR_TAKEN"
    status, body = await sign_up(api, token, form("bad-name!"))
    assert status == 422 and body["details"]["username"][0]["error"] == "ERR_INVALID"
    status, body = await sign_up(api, token, form("TAKEN"))
    assert status == 422 and body["details"]["username"][0]["error"] == "ERR_TAKEN"
    status, body = await sign_up(api, token, {**form("x"), "username": ""})
    assert status == 422 and body["details"]["username"][0]["error"] == "ERR_BLANK"


async def test_invites_admit_within_their_limits(make_api: MakeApi) -> None:
    api = await make_api("invite")
    root = await api.user("root", admin=True, scopes="read write admin:read admin:write")
    token = await app_token(api)
    status, body = await sign_up(api, token, form("nocode"))
    assert status == 403, body

    invite = await root.json("post", "/api/v1/admin/invites",
                             json={"max_uses": 2, "comment": "book club"})  # fmt: skip
    assert invite["max_uses"] == 2 and invite["uses"] == 0 and invite["usable"] is True
    assert invite["url"] == f"{api.config.base_url}/invite/{invite['code']}"
    for name in ("first", "second"):
        status, body = await sign_up(api, token, form(name, invite_code=invite["code"]))
        assert status == 200, body
        assert (await me(api, body["access_token"]))[0] == 200  # invited: approved at once
    status, body = await sign_up(api, token, form("third", invite_code=invite["code"]))
    assert status == 403, body  # used up: as good as none
    shown = await root.json("get", f"/api/v1/admin/invites/{invite['id']}")
    assert shown["uses"] == 2 and shown["usable"] is False

    other = await root.json("post", "/api/v1/admin/invites", json={"expires_in": 3600})
    assert other["max_uses"] is None and other["expires_at"] is not None
    revoked = await root.json("delete", f"/api/v1/admin/invites/{other['id']}")
    assert revoked["revoked"] is True
    status, _ = await sign_up(api, token, form("fourth", invite_code=other["code"]))
    assert status == 403
    listed = await root.json("get", "/api/v1/admin/invites")
    assert [i["id"] for i in listed] == [invite["id"]]

    past = await api.store.invites.create("expired-code", created_by=None, max_uses=None,
                                          expires_at=now_ms() - 1)  # fmt: skip
    status, _ = await sign_up(api, token, form("fifth", invite_code=past.code))
    assert status == 403
    for bad in ({"max_uses": 0}, {"expires_in": 5}, {"max_uses": "many"}):
        resp = await root.post("/api/v1/admin/invites", json=bad)
        assert resp.status in (400, 422), bad


async def test_invite_in_approval_mode_skips_the_queue(make_api: MakeApi) -> None:
    api = await make_api("approval")
    root = await api.user("root", admin=True, scopes="read write admin:read admin:write")
    invite = await root.json("post", "/api/v1/admin/invites", json={})
    token = await app_token(api)
    status, body = await sign_up(api, token, form("friend", invite_code=invite["code"]))
    assert status == 200 and (await me(api, body["access_token"]))[0] == 200
    status, body = await sign_up(api, token, form("typo", invite_code="no-such-code"))
    assert status == 422 and body["details"]["invite_code"][0]["error"] == "ERR_INVALID"


async def test_invites_are_for_admins_only(make_api: MakeApi) -> None:
    api = await make_api("invite")
    alice = await api.user("alice", scopes="read write admin:read admin:write")
    assert (await alice.post("/api/v1/admin/invites", json={})).status == 403
    assert (await alice.get("/api/v1/admin/invites")).status == 403


async def test_invite_page_signs_up_in_a_browser(make_api: MakeApi) -> None:
    api = await make_api("invite")
    root = await api.user("root", admin=True, scopes="read write admin:read admin:write")
    invite = await root.json("post", "/api/v1/admin/invites", json={"max_uses": 1})
    page = await api.client.get(f"/invite/{invite['code']}")
    html = await page.text()
    assert page.status == 200 and invite["code"] in html and "<form" in html
    assert (await api.client.get("/invite/nonsense")).status == 404

    bad = await api.client.post(f"/invite/{invite['code']}", data={
        "username": "web", "email": "web@example.org", "password": "short"})  # fmt: skip
    assert bad.status == 422 and "too short" in await bad.text()
    ok = await api.client.post(f"/invite/{invite['code']}", data={
        "username": "web", "email": "web@example.org", "password": "a good password",
        "agreement": "true", "reason": "<b>hi</b>"})  # fmt: skip
    text = await ok.text()
    assert ok.status == 200, text
    assert "@web" in text and "log in now" in text
    assert await password_login(api, "web", "a good password") == 200
    assert (await api.client.get(f"/invite/{invite['code']}")).status == 404  # used up


async def test_invite_page_in_persian(make_api: MakeApi) -> None:
    api = await make_api("invite")
    root = await api.user("root", admin=True, scopes="read write admin:read admin:write")
    invite = await root.json("post", "/api/v1/admin/invites", json={})
    fa = {"Accept-Language": "fa-IR,fa;q=0.9,en;q=0.5"}
    page = await api.client.get(f"/invite/{invite['code']}", headers=fa)
    html = await page.text()
    assert "<html lang='fa' dir='rtl'>" in html
    assert "نام کاربری" in html and "نام‌نویسی" in html and invite["code"] in html
    ok = await api.client.post(f"/invite/{invite['code']}", headers=fa, data={
        "username": "sara", "email": "sara@example.org", "password": "a good password",
        "agreement": "true"})  # fmt: skip
    assert ok.status == 200 and "ساخته شد" in await ok.text()
    user = await api.store.users.by_username("sara")
    assert user is not None and user.locale == "fa"
    english = await (await api.client.get("/auth/password/reset")).text()
    assert "<html lang='en' dir='ltr'>" in english and "Reset your password" in english


async def test_login_page_tells_a_pending_user_why(make_api: MakeApi) -> None:
    api = await make_api("approval")
    status, _ = await sign_up(api, await app_token(api), form("waiting"))
    assert status == 200
    app = await (await api.client.post("/api/v1/apps", json={
        "client_name": "web", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"})).json()  # fmt: skip
    query = {"response_type": "code", "client_id": app["client_id"],
             "redirect_uri": "urn:ietf:wg:oauth:2.0:oob", "scope": "read"}  # fmt: skip
    page = await (await api.client.get("/oauth/authorize", params=query)).text()
    hidden = {
        m.group(1): html.unescape(m.group(2))
        for m in re.finditer(r"<input type='hidden' name='([^']+)' value='([^']*)'>", page)
    }

    async def attempt(password: str) -> str:
        resp = await api.client.post("/oauth/authorize", allow_redirects=False, data={
            **hidden, "login": "waiting", "password": password, "decision": "approve"})  # fmt: skip
        assert resp.status == 422
        return await resp.text()

    assert "pending approval" in await attempt("a good password")
    wrong = await attempt("not the password")  # without the password, nothing is told
    assert "pending" not in wrong and "Invalid email/username or password." in wrong
