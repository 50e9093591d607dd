"""/api/v1/push/subscription as Mastodon documents it: scopes, one per token, alerts, policy."""

from __future__ import annotations

import base64
import os
from typing import Any

from api_helpers import Actor, Api
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

PATH = "/api/v1/push/subscription"


def _keys(*, urlsafe: bool = True) -> tuple[str, str]:
    public = ec.generate_private_key(ec.SECP256R1()).public_key()
    raw = public.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    enc = base64.urlsafe_b64encode if urlsafe else base64.b64encode
    return enc(raw).decode().rstrip("="), enc(os.urandom(16)).decode()


def _form(endpoint: str = "https://push.example/sub/1", **extra: str) -> dict[str, str]:
    p256dh, auth = _keys(urlsafe=False)
    return {
        "subscription[endpoint]": endpoint,
        "subscription[keys][p256dh]": p256dh,
        "subscription[keys][auth]": auth,
        **extra,
    }


async def test_subscribe_with_a_form_reads_back_and_carries_the_instance_key(api: Api) -> None:
    alice = await api.user("alice")
    body = await alice.json("post", PATH, data=_form(**{
        "data[alerts][mention]": "true", "data[alerts][follow]": "1",
        "data[alerts][favourite]": "false", "data[policy]": "followed",
    }))  # fmt: skip
    instance = await api.anon("/api/v2/instance")
    server_key = instance["configuration"]["vapid"]["public_key"]
    assert server_key and body["server_key"] == server_key
    assert len(base64.urlsafe_b64decode(server_key)) == 65
    assert body["endpoint"] == "https://push.example/sub/1"
    assert body["policy"] == "followed" and body["standard"] is False
    assert body["alerts"]["mention"] is True and body["alerts"]["follow"] is True
    assert body["alerts"]["favourite"] is False and body["alerts"]["reblog"] is False
    assert set(body["alerts"]) >= {
        "mention",
        "status",
        "reblog",
        "follow",
        "follow_request",
        "favourite",
        "poll",
        "update",
        "admin.sign_up",
        "admin.report",
    }
    assert await alice.json("get", PATH) == body
    # Mastodon's v1 Instance has no place for it; the key is in v2 and on apps.
    v1 = await api.anon("/api/v1/instance")
    assert "vapid" not in v1["configuration"]


async def test_subscribe_with_json_and_standard(api: Api) -> None:
    alice = await api.user("alice")
    p256dh, auth = _keys()
    body = await alice.json("post", PATH, json={
        "subscription": {"endpoint": "https://push.example/u/2", "standard": True,
                         "keys": {"p256dh": p256dh, "auth": auth}},
        "data": {"alerts": {"reblog": True, "admin.report": True}, "policy": "all"},
    })  # fmt: skip
    assert body["standard"] is True and body["alerts"]["reblog"] is True
    assert body["alerts"]["admin.report"] is False  # admin alerts are for admins
    assert body["alerts"]["mention"] is False


async def test_admin_alerts_for_admins(api: Api) -> None:
    root = await api.user("root", admin=True)
    body = await root.json("post", PATH, data=_form(**{"data[alerts][admin.sign_up]": "true"}))
    assert body["alerts"]["admin.sign_up"] is True


async def test_one_subscription_per_token(api: Api) -> None:
    alice = await api.user("alice")
    other = await api.token_for(alice.account)  # the same account on a second app
    first = await alice.json("post", PATH, data=_form("https://push.example/a"))
    second = await alice.json("post", PATH, data=_form("https://push.example/b"))
    assert second["id"] != first["id"]
    assert (await alice.json("get", PATH))["endpoint"] == "https://push.example/b"
    await other.json("get", PATH, expect=404)
    mine = await other.json("post", PATH, data=_form("https://push.example/c"))
    assert (await alice.json("get", PATH))["endpoint"] == "https://push.example/b"
    assert (await other.json("get", PATH))["id"] == mine["id"]
    assert len(await api.store.push.live_for_account(alice.account.id)) == 2


async def test_update_alerts_and_policy_then_delete(api: Api) -> None:
    alice = await api.user("alice")
    await alice.json("post", PATH, data=_form(**{"data[alerts][mention]": "true"}))
    changed = await alice.json("put", PATH, data={
        "data[alerts][follow]": "true", "data[alerts][mention]": "false", "data[policy]": "none",
    })  # fmt: skip
    assert changed["alerts"]["follow"] is True and changed["alerts"]["mention"] is False
    assert changed["policy"] == "none"
    # Only the policy: the alerts stay as they were.
    again = await alice.json("put", PATH, json={"policy": "follower"})
    assert again["policy"] == "follower" and again["alerts"] == changed["alerts"]
    assert await alice.json("delete", PATH) == {}
    await alice.json("get", PATH, expect=404)
    await alice.json("put", PATH, data={"data[policy]": "all"}, expect=404)
    assert await alice.json("delete", PATH) == {}  # idempotent, as Mastodon


async def test_needs_the_push_scope(api: Api) -> None:
    reader = await api.user("alice", scopes="read write follow")
    for method in ("get", "post", "put", "delete"):
        body = await reader.json(method, PATH, expect=403, data=_form())
        assert "scope" in body["error"]
    resp = await api.client.get(PATH)
    assert resp.status == 401
    pusher = await api.token_for(reader.account, scopes="push")
    await pusher.json("post", PATH, data=_form())


async def test_bad_input_is_a_clear_422(api: Api) -> None:
    alice = await api.user("alice")
    cases: list[dict[str, Any]] = [
        {"subscription[endpoint]": "https://push.example/x"},  # no keys
        _form(**{"subscription[keys][p256dh]": "bm90IGEga2V5"}),  # not a P-256 point
        _form(**{"subscription[keys][auth]": "c2hvcnQ"}),  # not 16 bytes
        _form(**{"subscription[keys][p256dh]": "%%%"}),
        _form("ftp://push.example/x"),
        _form("https://127.0.0.1/x"),  # SSRF guard: no private addresses here
        _form("https://localhost/x"),
        _form("https://[::1]:8080/x"),
        _form("https://10.1.2.3/x"),
        _form("https://push.example/" + "a" * 3000),
        _form(**{"data[policy]": "everyone"}),
    ]
    for form in cases:
        resp = await alice.post(PATH, data=form)
        body = await resp.json()
        assert resp.status == 422, (form, resp.status, body)
        assert body["error"].startswith("Validation failed") or "required" in body["error"]
    await alice.json("get", PATH, expect=404)


async def test_apps_carry_the_vapid_key(api: Api) -> None:
    resp = await api.client.post("/api/v1/apps", json={
        "client_name": "phone", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": "read push",
    })  # fmt: skip
    app = await resp.json()
    instance = await api.anon("/api/v2/instance")
    assert app["vapid_key"] == instance["configuration"]["vapid"]["public_key"] != ""


async def test_revoked_token_loses_its_subscription(api: Api) -> None:
    alice: Actor = await api.user("alice")
    await alice.json("post", PATH, data=_form())
    assert await api.store.oauth.revoke_token(alice.token)
    assert await api.store.push.live_for_account(alice.account.id) == []
