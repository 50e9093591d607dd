"""Web Push end to end: a real instance on loopback pushes to a real receiver on loopback,
which decrypts each push with the subscriber's own private key (http_ece, as apps and
Mastodon.py do) and checks the VAPID signature against the instance's published key."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import os
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import http_ece
import mastodon
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from yarl import URL

from activitypub.urls import Urls
from fedinode import appkeys
from fedinode.app import create_app
from fedinode.config import Config, load_config
from fedinode.push import SENDER
from fedinode.services.users import create_local_user
from storage.push import NewPushSubscription
from storage.store import Store

PATH = "/api/v1/push/subscription"
PASSWORD = "push-test-password"
WAIT = 20.0


def _b64(value: str) -> bytes:
    value = value.strip().replace("+", "-").replace("/", "_").rstrip("=")
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A push service on loopback: records each POST and answers with ``status``."""

    server: TestServer
    got: asyncio.Queue[Received] = field(default_factory=asyncio.Queue)
    status: int = 201

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    async def next(self) -> Received:
        return await asyncio.wait_for(self.got.get(), WAIT)


@dataclass
class Device:
    """A phone's push keys: a P-256 key pair and an auth secret, made here."""

    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth: bytes = field(default_factory=lambda: os.urandom(16))

    @property
    def p256dh(self) -> str:
        raw = self.key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def keys_form(self) -> dict[str, str]:
        return {
            "subscription[keys][p256dh]": self.p256dh,
            "subscription[keys][auth]": base64.urlsafe_b64encode(self.auth).decode(),
        }

    def decrypt(self, push: Received) -> dict[str, Any]:
        encoding = push.headers["Content-Encoding"]
        if encoding == "aes128gcm":
            plain = http_ece.decrypt(
                push.body, private_key=self.key, auth_secret=self.auth, version="aes128gcm"
            )
        else:
            assert encoding == "aesgcm"
            salt = _b64(push.headers["Encryption"].split("salt=")[1])
            dh = _b64(push.headers["Crypto-Key"].split("dh=")[1].split(";")[0])
            plain = http_ece.decrypt(
                push.body,
                salt=salt,
                dh=dh,
                private_key=self.key,
                auth_secret=self.auth,
                keylabel="P-256",
                version="aesgcm",
            )
        decoded: dict[str, Any] = json.loads(plain)
        return decoded


def verify_vapid(push: Received, server_key: str) -> dict[str, Any]:
    """Check the JWT as a push service does (RFC 8292): ES256 by the published key, our origin."""
    auth = push.headers["Authorization"]
    if auth.startswith("vapid "):
        parts = dict(p.strip().split("=", 1) for p in auth[6:].split(","))
        token, k = parts["t"], parts["k"]
        assert _b64(k) == _b64(server_key)
    else:
        assert auth.startswith("WebPush ")
        token = auth[8:]
        assert _b64(push.headers["Crypto-Key"].split("p256ecdsa=")[1]) == _b64(server_key)
    head, claims, sig = token.split(".")
    raw = _b64(sig)
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), _b64(server_key))
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    public.verify(der, f"{head}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
    # ...and a tampered token does not verify.
    with pytest.raises(InvalidSignature):
        public.verify(der, f"{head}.{claims}x".encode(), ec.ECDSA(hashes.SHA256()))
    assert json.loads(_b64(head)) == {"typ": "JWT", "alg": "ES256"}
    decoded: dict[str, Any] = json.loads(_b64(claims))
    return decoded


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    holder: list[Receiver] = []

    async def handle(request: web.Request) -> web.Response:
        rec = holder[0]
        await rec.got.put(Received(request.path, dict(request.headers), await request.read()))
        return web.Response(status=rec.status)

    app = web.Application()
    app.router.add_post("/{tail:.*}", handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    holder.append(Receiver(server))
    yield holder[0]
    await server.close()


def _config(database_url: str, port: int = 8080, **push: object) -> Config:
    base = load_config(None, environ={})
    return dataclasses.replace(
        base,
        instance=dataclasses.replace(base.instance, domain=f"127.0.0.1:{port}",
                                     contact_email="admin@local.test"),
        database=dataclasses.replace(base.database, url=database_url),
        # The receiver is on loopback: this instance may reach private addresses.
        federation=dataclasses.replace(base.federation, scheme="http", allow_private_addresses=True),
        push=dataclasses.replace(base.push, **push),  # type: ignore[arg-type]
    )  # fmt: skip


@dataclass
class Person:
    account_id: int
    token: str
    client: TestClient[Any, Any]

    def h(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def call(self, method: str, path: str, expect: int = 200, **kw: Any) -> Any:
        resp = await self.client.request(method, path, headers=self.h(), **kw)
        body = await resp.json()
        assert resp.status == expect, (resp.status, body)
        return body


async def _person(client: TestClient[Any, Any], name: str, *, locale: str = "en") -> Person:
    store: Store = client.app[appkeys.STORE]
    config: Config = client.app[appkeys.CONFIG]
    user, account = await create_local_user(store, Urls(config.base_url), username=name,
                                            email=f"{name}@local.test", password=PASSWORD)  # fmt: skip
    if locale != "en":
        await store.users.update(user.id, locale=locale)
    from fedinode.services import oauth

    app, _ = await oauth.register_app(store, name="phone", redirect_uris=[oauth.OOB],
                                   scopes=["read", "write", "follow", "push"], website=None)  # fmt: skip
    raw, _ = await oauth.issue_token(store, app, user.id, ["read", "write", "follow", "push"])
    return Person(account.id, raw, client)


@pytest.fixture
async def client(aiohttp_client: Any, database_url: str) -> TestClient[Any, Any]:
    c: TestClient[Any, Any] = await aiohttp_client(
        create_app(_config(database_url, max_attempts=2))
    )
    return c


async def _server_key(client: TestClient[Any, Any]) -> str:
    resp = await client.get("/api/v2/instance")
    key: str = (await resp.json())["configuration"]["vapid"]["public_key"]
    return key


async def test_mention_arrives_encrypted_and_signed(
    client: TestClient[Any, Any], receiver: Receiver
) -> None:
    alice = await _person(client, "alice")
    bob = await _person(client, "bob")
    phone = Device()
    sub = await alice.call("POST", PATH, data={
        "subscription[endpoint]": receiver.url("/push/alice"), **phone.keys_form(),
        "data[alerts][mention]": "true", "data[alerts][favourite]": "true",
    })  # fmt: skip
    assert sub["standard"] is False
    started = time.time()
    posted = await bob.call("POST", "/api/v1/statuses", json={"status": "@alice tea at five?"})
    push = await receiver.next()
    assert push.path == "/push/alice"
    assert push.headers["Content-Encoding"] == "aesgcm" and int(push.headers["TTL"]) > 0
    assert b"tea at five" not in push.body  # the relay learns nothing
    payload = phone.decrypt(push)
    (note,) = await alice.call("GET", "/api/v1/notifications")
    assert payload["notification_id"] == int(note["id"]) and note["type"] == "mention"
    assert payload["notification_type"] == "mention"
    assert payload["access_token"] == alice.token
    assert payload["title"] == "bob mentioned you"
    assert "tea at five?" in payload["body"]
    assert payload["preferred_locale"] == "en" and payload["icon"].startswith("http")
    claims = verify_vapid(push, await _server_key(client))
    assert claims["aud"] == str(URL(receiver.url("/")).origin())
    assert claims["sub"] == "mailto:admin@local.test"
    assert started < int(claims["exp"]) <= started + 24 * 3600 + 5
    # A favourite arrives too; a follow (not asked for) does not.
    await alice.call("POST", "/api/v1/statuses", json={"status": "fav me"})
    mine = await alice.call("GET", f"/api/v1/accounts/{alice.account_id}/statuses")
    await bob.call("POST", f"/api/v1/statuses/{mine[0]['id']}/favourite")
    fav_push = await receiver.next()
    fav = phone.decrypt(fav_push)
    assert fav["notification_type"] == "favourite" and fav["title"] == "bob favourited your post"
    # Padded: two texts of different lengths make pushes of one size.
    assert len(fav_push.body) == len(push.body)
    await bob.call("POST", f"/api/v1/accounts/{alice.account_id}/follow")
    await asyncio.sleep(0.5)
    await client.app[SENDER].run_once()
    assert receiver.got.empty()
    store: Store = client.app[appkeys.STORE]
    assert {d.state for d in await store.push.deliveries()} == {"done"}
    assert posted["id"]


async def test_standard_subscription_in_persian(
    client: TestClient[Any, Any], receiver: Receiver
) -> None:
    sara = await _person(client, "sara", locale="fa")
    bob = await _person(client, "bob")
    phone = Device()
    await sara.call("POST", PATH, json={
        "subscription": {"endpoint": receiver.url("/p/sara"), "standard": True,
                         "keys": {"p256dh": phone.p256dh, "auth": base64.b64encode(phone.auth).decode()}},
        "data": {"alerts": {"follow": True}},
    })  # fmt: skip
    await bob.call("POST", f"/api/v1/accounts/{sara.account_id}/follow")
    push = await receiver.next()
    assert push.headers["Content-Encoding"] == "aes128gcm"
    assert "Encryption" not in push.headers
    payload = phone.decrypt(push)
    assert payload["notification_type"] == "follow"
    assert payload["title"] == "bob پیگیرتان شد" and payload["preferred_locale"] == "fa"
    verify_vapid(push, await _server_key(client))


async def test_gone_endpoint_drops_the_subscription(
    client: TestClient[Any, Any], receiver: Receiver
) -> None:
    alice = await _person(client, "alice")
    bob = await _person(client, "bob")
    receiver.status = 410
    await alice.call("POST", PATH, data={
        "subscription[endpoint]": receiver.url("/gone"), **Device().keys_form(),
        "data[alerts][follow]": "true",
    })  # fmt: skip
    await bob.call("POST", f"/api/v1/accounts/{alice.account_id}/follow")
    await receiver.next()
    store: Store = client.app[appkeys.STORE]
    for _ in range(100):
        if not await store.push.live_for_account(alice.account_id):
            break
        await asyncio.sleep(0.05)
    assert await store.push.live_for_account(alice.account_id) == []
    await alice.call("GET", PATH, expect=404)


async def test_dead_endpoint_is_retried_then_given_up(
    client: TestClient[Any, Any], receiver: Receiver
) -> None:
    alice = await _person(client, "alice")
    bob = await _person(client, "bob")
    receiver.status = 503
    await alice.call("POST", PATH, data={
        "subscription[endpoint]": receiver.url("/busy"), **Device().keys_form(),
        "data[alerts][follow]": "true",
    })  # fmt: skip
    await bob.call("POST", f"/api/v1/accounts/{alice.account_id}/follow")
    await receiver.next()
    store: Store = client.app[appkeys.STORE]
    sender = client.app[SENDER]
    for _ in range(100):
        (row,) = await store.push.deliveries()
        if row.state == "retry":
            break
        await asyncio.sleep(0.05)
    assert row.state == "retry" and row.attempts == 1 and row.next_attempt_at > time.time() * 1000
    assert row.last_error == "HTTP 503"
    await store.push.make_due()
    await sender.run_once()
    await receiver.next()  # tried again...
    (row,) = await store.push.deliveries()
    assert row.state == "dead" and row.attempts == 2  # ...and given up ([push] max_attempts = 2)
    assert len(await store.push.live_for_account(alice.account_id)) == 1  # kept: not a 404/410


async def test_policy_followed_filters_a_stranger(
    client: TestClient[Any, Any], receiver: Receiver
) -> None:
    alice = await _person(client, "alice")
    friend = await _person(client, "friend")
    stranger = await _person(client, "stranger")
    phone = Device()
    await alice.call("POST", f"/api/v1/accounts/{friend.account_id}/follow")
    await alice.call("POST", PATH, data={
        "subscription[endpoint]": receiver.url("/alice"), **phone.keys_form(),
        "data[alerts][mention]": "true", "data[policy]": "followed",
    })  # fmt: skip
    await stranger.call("POST", "/api/v1/statuses", json={"status": "@alice buy my stuff"})
    await friend.call("POST", "/api/v1/statuses", json={"status": "@alice lunch?"})
    payload = phone.decrypt(await receiver.next())
    assert "lunch?" in payload["body"]
    await client.app[SENDER].run_once()
    assert receiver.got.empty()
    store: Store = client.app[appkeys.STORE]
    assert len(await store.push.deliveries()) == 1  # the stranger's mention queued nothing
    assert len(await alice.call("GET", "/api/v1/notifications")) == 2  # but it notified


async def test_private_endpoints_refused_unless_allowed(
    aiohttp_client: Any, database_url: str, receiver: Receiver
) -> None:
    config = _config(database_url)
    config = dataclasses.replace(
        config, federation=dataclasses.replace(config.federation, allow_private_addresses=False)
    )
    c: TestClient[Any, Any] = await aiohttp_client(create_app(config))
    alice = await _person(c, "alice")
    body = await alice.call("POST", PATH, expect=422, data={
        "subscription[endpoint]": receiver.url("/x"), **Device().keys_form(),
    })  # fmt: skip
    assert "not allowed" in body["error"]


async def test_named_private_push_host_without_private_peers(
    aiohttp_client: Any, database_url: str, receiver: Receiver
) -> None:
    """A UnifiedPush server on the home network: reachable by name through [push]
    private_hosts, while every other private address stays refused."""
    config = _config(database_url, private_hosts=("localhost",))
    config = dataclasses.replace(
        config, federation=dataclasses.replace(config.federation, allow_private_addresses=False)
    )
    c: TestClient[Any, Any] = await aiohttp_client(create_app(config))
    alice = await _person(c, "alice")
    bob = await _person(c, "bob")
    phone = Device()
    await alice.call("POST", PATH, expect=422, data={
        "subscription[endpoint]": receiver.url("/up"), **phone.keys_form(),
    })  # fmt: skip
    home = str(URL(receiver.url("/up/alice")).with_host("localhost"))
    await alice.call("POST", PATH, data={
        "subscription[endpoint]": home, **phone.keys_form(), "data[alerts][follow]": "true",
    })  # fmt: skip
    await bob.call("POST", f"/api/v1/accounts/{alice.account_id}/follow")
    push = await receiver.next()
    assert push.path == "/up/alice"
    assert phone.decrypt(push)["notification_type"] == "follow"


async def test_send_time_guard_refuses_what_is_no_longer_allowed(
    aiohttp_client: Any, database_url: str, receiver: Receiver
) -> None:
    """A subscription to a private address (made while it was allowed) is refused when
    sending once it is not: no request leaves, the push is given up, the API unaffected."""
    config = _config(database_url)
    config = dataclasses.replace(
        config, federation=dataclasses.replace(config.federation, allow_private_addresses=False)
    )
    c: TestClient[Any, Any] = await aiohttp_client(create_app(config))
    alice = await _person(c, "alice")
    bob = await _person(c, "bob")
    store: Store = c.app[appkeys.STORE]
    token = await store.oauth.bearer(alice.token)
    assert token is not None
    phone = Device()
    await store.push.subscribe(NewPushSubscription(
        token_id=token[0].id, account_id=alice.account_id, endpoint=receiver.url("/x"),
        p256dh=phone.p256dh, auth=base64.urlsafe_b64encode(phone.auth).decode(), standard=True,
        alerts={"follow": True}, policy="all", access_token=alice.token,
    ))  # fmt: skip
    await bob.call("POST", f"/api/v1/accounts/{alice.account_id}/follow")
    for _ in range(100):
        rows = await store.push.deliveries()
        if rows and rows[0].state == "dead":
            break
        await asyncio.sleep(0.05)
    (row,) = await store.push.deliveries()
    assert row.state == "dead" and (row.last_error or "").startswith("refused")
    assert receiver.got.empty()


async def test_vapid_key_is_kept_across_restarts(database_url: str) -> None:
    keys = []
    for _ in range(2):
        app = create_app(_config(database_url))
        runner = web.AppRunner(app)
        await runner.setup()
        keys.append(app[appkeys.VAPID].public_key)
        await runner.cleanup()
    assert keys[0] == keys[1] != ""


# -- Mastodon.py, as an app would use it -------------------------------------------------


@pytest.fixture
async def instance(database_url: str) -> AsyncIterator[str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    config = _config(database_url, sock.getsockname()[1])
    app = create_app(config)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    for name in ("alice", "bob"):
        await create_local_user(app[appkeys.STORE], Urls(config.base_url), username=name,
                                email=f"{name}@local.test", password=PASSWORD)  # fmt: skip
    try:
        yield config.base_url
    finally:
        await runner.cleanup()


def _login(base: str, name: str) -> Any:
    scopes = ["read", "write", "follow", "push"]
    cid, secret = mastodon.Mastodon.create_app("phone", api_base_url=base, scopes=scopes)
    api = mastodon.Mastodon(client_id=cid, client_secret=secret, api_base_url=base)
    api.log_in(name, PASSWORD, scopes=scopes, allow_http=True)
    return api


async def test_mastodon_py_subscribes_and_decrypts(instance: str, receiver: Receiver) -> None:
    alice = await asyncio.to_thread(_login, instance, "alice")
    bob = await asyncio.to_thread(_login, instance, "bob")
    keys = alice.push_subscription_generate_keys()
    sub = await asyncio.to_thread(
        alice.push_subscription_set, receiver.url("/mpy"), keys[1],
        mention_events=True, follow_events=True, favourite_events=True,
    )  # fmt: skip
    assert sub.alerts.mention is True and sub.alerts.reblog is False
    assert (await asyncio.to_thread(alice.push_subscription)).id == sub.id
    me = await asyncio.to_thread(alice.me)
    await asyncio.to_thread(bob.account_follow, me.id)
    follow = await receiver.next()
    got = alice.push_subscription_decrypt_push(follow.body, keys[0], follow.headers["Encryption"],
                                               follow.headers["Crypto-Key"])  # fmt: skip
    assert got.notification_type == "follow" and got.title == "bob followed you"
    await asyncio.to_thread(bob.status_post, "@alice hello from Mastodon.py")
    mention = await receiver.next()
    got = alice.push_subscription_decrypt_push(mention.body, keys[0], mention.headers["Encryption"],
                                               mention.headers["Crypto-Key"])  # fmt: skip
    assert got.notification_type == "mention" and "hello from Mastodon.py" in got.body
    updated = await asyncio.to_thread(alice.push_subscription_update, mention_events=False,
                                      follow_events=True)  # fmt: skip
    assert updated.alerts.mention is False and updated.alerts.follow is True
    await asyncio.to_thread(alice.push_subscription_delete)
