"""Rate limits (fedinode.ratelimit) on a running app: what is counted, under which key, the
429 answer and its headers, and that a password flood is refused before any hashing.

The test client connects from 127.0.0.1, a trusted proxy by default, so each test picks
its clients' addresses with X-Forwarded-For (documentation ranges)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import secrets
import socket
import statistics
import sys
import threading
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import mastodon
import pytest
from aiohttp.test_utils import TestClient

from activitypub.urls import Urls
from fedinode import appkeys, ratelimit
from fedinode.app import create_app
from fedinode.config import Config, ConfigError, load_config
from fedinode.services import oauth as oauth_service
from fedinode.services.users import create_local_user
from storage.ids import now_ms
from storage.store import Store

PASSWORD = "correct horse battery"
Client = TestClient[Any, Any]


def limited(
    config: Config, *, trusted_proxies: tuple[str, ...] | None = None, **limits: Any
) -> Config:
    limits.setdefault("exempt", ())  # the tests' direct client is loopback
    rate_limits = dataclasses.replace(config.rate_limits, **limits)
    server = config.server
    if trusted_proxies is not None:
        server = dataclasses.replace(server, trusted_proxies=trusted_proxies)
    return dataclasses.replace(config, rate_limits=rate_limits, server=server)


def via(ip: str, **headers: str) -> dict[str, str]:
    return {"X-Forwarded-For": ip, **headers}


def random_ip() -> str:
    """A fresh client address (for counters that outlive the test, in Redis)."""
    return f"10.{secrets.randbelow(256)}.{secrets.randbelow(256)}.{secrets.randbelow(254) + 1}"


async def start(aiohttp_client: Any, config: Config) -> Client:
    client: Client = await aiohttp_client(create_app(config))
    return client


async def user(client: Client, username: str) -> None:
    config: Config = client.app[appkeys.CONFIG]
    await create_local_user(
        client.app[appkeys.STORE],
        Urls(config.base_url),
        username=username,
        email=f"{username}@example.org",
        password=PASSWORD,
    )


async def register(client: Client, ip: str = "192.0.2.200") -> dict[str, Any]:
    resp = await client.post(
        "/api/v1/apps",
        json={
            "client_name": "flood",
            "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
            "scopes": "read write",
        },
        headers=via(ip),
    )
    assert resp.status == 200, await resp.text()
    body: dict[str, Any] = await resp.json()
    return body


async def token(client: Client, app: dict[str, Any], username: str, ip: str) -> str:
    resp = await client.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "username": username,
            "password": PASSWORD,
            "scope": "read write",
        },
        headers=via(ip),
    )
    body = await resp.json()
    assert resp.status == 200, body
    return str(body["access_token"])


async def assert_429(resp: Any, limit: int) -> None:
    """Mastodon's answer beyond a limit, with Retry-After."""
    assert resp.status == 429, (resp.status, await resp.text())
    assert await resp.json() == {"error": "Too many requests"}
    assert resp.headers["X-RateLimit-Limit"] == str(limit)
    assert resp.headers["X-RateLimit-Remaining"] == "0"
    reset = datetime.strptime(resp.headers["X-RateLimit-Reset"], "%Y-%m-%dT%H:%M:%S.%fZ")
    sent = parsedate_to_datetime(resp.headers["Date"]).timestamp()  # whole seconds
    wait = reset.replace(tzinfo=UTC).timestamp() - sent
    retry_after = int(resp.headers["Retry-After"])
    assert 0 < wait <= 24 * 3600
    assert 1 <= retry_after <= wait + 1


# -- the login flood (issue: 2,000 wrong passwords all answered, a real login took 6.6 s) ----

# The attacker: another process (as it would be), 8 connections of wrong passwords to
# /oauth/token from one address. It prints "refused" once its attempts are refused (and
# every attempt let through has been answered), keeps flooding until its stdin closes and
# at least 200 were sent, then prints the statuses it got as JSON.
FLOOD = """
import asyncio, json, os, sys
import aiohttp

os.nice(19)  # the attacker's CPU is not the server's: on shared cores, the server comes first

async def main(url, ip, form):
    statuses, said = [], False
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.run_in_executor(None, lambda: (sys.stdin.read(), loop.call_soon_threadsafe(stop.set)))
    async with aiohttp.ClientSession() as session:
        async def worker():
            nonlocal said
            while not stop.is_set() or len(statuses) < 200:
                async with session.post(url, data=form, headers={"X-Forwarded-For": ip}) as r:
                    await r.read()
                    statuses.append(r.status)
                if not said and 429 in statuses and statuses.count(400) >= 25 or statuses.count(400) > 25:
                    said = True
                    print("refused" if 429 in statuses else "never refused", flush=True)
        await asyncio.gather(*(worker() for _ in range(8)))
    print(json.dumps(statuses), flush=True)

asyncio.run(main(sys.argv[1], sys.argv[2], json.loads(sys.argv[3])))
"""


async def test_login_flood_is_refused_before_hashing_while_others_log_in_fast(
    aiohttp_client: Any, config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    hashed: list[str] = []
    in_flight = [0, 0]  # attacker's password checks now, most at once
    guard = threading.Lock()
    real_verify = oauth_service.verify_password

    def counting_verify(password: str, stored: str) -> bool:  # runs in worker threads
        attack = password == "wrong password"
        with guard:
            hashed.append(password)
            if attack:
                in_flight[0] += 1
                in_flight[1] = max(in_flight)
        try:
            return real_verify(password, stored)
        finally:
            if attack:
                with guard:
                    in_flight[0] -= 1

    monkeypatch.setattr(oauth_service, "verify_password", counting_verify)
    client = await start(aiohttp_client, config)  # the defaults: 25 per 5 minutes per address
    await user(client, "alice")
    app = await register(client)
    form = {
        "grant_type": "password",
        "client_id": app["client_id"],
        "client_secret": app["client_secret"],
        "username": "alice",
        "scope": "read",
    }

    async def login(ip: str, password: str) -> tuple[Any, float]:
        began = time.perf_counter()
        resp = await client.post(
            "/oauth/token", data={**form, "password": password}, headers=via(ip)
        )
        await resp.read()
        return resp, time.perf_counter() - began

    # Logins alone: what one costs on this machine right now.
    alone = [await login(f"192.0.2.{n}", PASSWORD) for n in (1, 2, 3)]
    assert [resp.status for resp, _ in alone] == [200, 200, 200]
    baseline = statistics.median(elapsed for _, elapsed in alone)

    attacker = "203.0.113.66"
    flood = await asyncio.create_subprocess_exec(
        sys.executable, "-c", FLOOD, str(client.make_url("/oauth/token")), attacker,
        json.dumps({**form, "password": "wrong password"}),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert flood.stdin is not None and flood.stdout is not None
    try:
        said = await asyncio.wait_for(flood.stdout.readline(), 180)
        assert said == b"refused\n", said
        # Normal logins from elsewhere while the flood goes on.
        during = [await login(f"198.51.100.{n}", PASSWORD) for n in (1, 2, 3)]
    finally:
        flood.stdin.close()
        out, _ = await asyncio.wait_for(flood.communicate(), 180)
    statuses: list[int] = json.loads(out)
    assert [resp.status for resp, _ in during] == [200, 200, 200]
    assert all(["access_token" in await resp.json() for resp, _ in during])
    assert len(statuses) >= 200
    assert statuses.count(400) == 25, statuses
    assert statuses.count(429) == len(statuses) - 25
    # Refused attempts never reached the password hash: 6 real logins + 25 let through,
    # and those 25 were checked one at a time, never a pool of hashes beside real logins.
    assert len(hashed) == 31, len(hashed)
    assert in_flight[1] == 1
    # < 200 ms; on a machine so loaded that one login alone takes longer, the flood (its
    # client included, a process on the same cores) must not make it more than 3x slower.
    elapsed = statistics.median(elapsed for _, elapsed in during)
    assert elapsed < max(0.2, 3 * baseline), (elapsed, baseline)
    # The attacker stays refused, even with the right password, with Mastodon's answer.
    again, _ = await login(attacker, PASSWORD)
    await assert_429(again, 25)


async def test_x_forwarded_for_from_an_untrusted_peer_does_not_escape_the_limit(
    aiohttp_client: Any, config: Config
) -> None:
    client = await start(
        aiohttp_client, limited(config, trusted_proxies=(), oauth_token="3/minute")
    )
    form = {
        "grant_type": "password",
        "client_id": "x",
        "client_secret": "y",
        "username": "a",
        "password": "b",
    }
    seen = []
    for _ in range(5):
        resp = await client.post("/oauth/token", data=form, headers=via(random_ip()))
        seen.append(resp.status)
    assert seen[:3] == [401, 401, 401] and seen[3:] == [429, 429], seen


async def test_what_the_client_prepends_to_x_forwarded_for_is_ignored(
    aiohttp_client: Any, config: Config
) -> None:
    client = await start(aiohttp_client, limited(config, oauth_token="3/minute"))
    form = {
        "grant_type": "password",
        "client_id": "x",
        "client_secret": "y",
        "username": "a",
        "password": "b",
    }
    seen = []
    for _ in range(5):
        # What our (trusted, loopback) proxy forwards: the client's own header + its peer.
        resp = await client.post(
            "/oauth/token", data=form, headers=via(f"{random_ip()}, 203.0.113.9")
        )
        seen.append(resp.status)
    assert seen[3:] == [429, 429], seen
    other = await client.post("/oauth/token", data=form, headers=via("203.0.113.10"))
    assert other.status == 401


async def test_login_form_apps_and_sign_up_are_limited_per_address(
    aiohttp_client: Any, config: Config
) -> None:
    client = await start(
        aiohttp_client,
        limited(config, oauth_authorize="2/minute", apps="2/minute", sign_up="2/minute"),
    )
    for path in (
        "/oauth/authorize",
        "/auth/sign_in",
        "/api/v1/apps",
        "/api/v1/accounts",
        "/auth/sign_up",
    ):
        ip = random_ip()
        statuses = [(await client.post(path, data={}, headers=via(ip))).status for _ in range(2)]
        assert 429 not in statuses, (path, statuses)
        await assert_429(await client.post(path, data={}, headers=via(ip)), 2)
        # Trailing slashes reach the same handler, so they count in the same bucket.
        await assert_429(await client.post(path + "/", data={}, headers=via(ip)), 2)
        assert (await client.post(path, data={}, headers=via(random_ip()))).status != 429
    # GET /oauth/authorize (the page) is not the login form.
    ip = random_ip()
    for _ in range(2):
        await client.post("/oauth/authorize", data={}, headers=via(ip))
    assert (await client.get("/oauth/authorize", headers=via(ip))).status != 429


async def test_anonymous_api_requests_per_address_with_headers_clients_read(
    aiohttp_client: Any, config: Config
) -> None:
    client = await start(aiohttp_client, limited(config, api_unauthenticated="3/minute"))
    ip = random_ip()
    remaining = []
    for _ in range(3):
        resp = await client.get("/api/v1/instance", headers=via(ip))
        assert resp.status == 200
        assert resp.headers["X-RateLimit-Limit"] == "3"
        remaining.append(int(resp.headers["X-RateLimit-Remaining"]))
        reset = datetime.strptime(resp.headers["X-RateLimit-Reset"], "%Y-%m-%dT%H:%M:%S.%fZ")
        assert 0 < reset.replace(tzinfo=UTC).timestamp() - time.time() <= 61
    assert remaining == [2, 1, 0]
    await assert_429(await client.get("/api/v1/instance", headers=via(ip)), 3)
    # A made-up token is no way out: it counts as no token.
    bogus = {"Authorization": f"Bearer {secrets.token_urlsafe(16)}"}
    await assert_429(await client.get("/api/v1/instance", headers=via(ip, **bogus)), 3)
    # Another address, and pages outside the API, are not affected.
    assert (await client.get("/api/v1/instance", headers=via(random_ip()))).status == 200
    assert "X-RateLimit-Limit" not in (await client.get("/nodeinfo/2.0", headers=via(ip))).headers


async def test_ipv6_clients_count_by_64(aiohttp_client: Any, config: Config) -> None:
    client = await start(aiohttp_client, limited(config, api_unauthenticated="2/minute"))
    for suffix in ("1", "2"):
        assert (
            await client.get("/api/v1/instance", headers=via(f"2001:db8:7:7::{suffix}"))
        ).status == 200
    await assert_429(await client.get("/api/v1/instance", headers=via("2001:db8:7:7:ffff::3")), 2)
    assert (await client.get("/api/v1/instance", headers=via("2001:db8:7:8::1"))).status == 200


async def test_tokens_and_accounts_have_their_own_limits(
    aiohttp_client: Any, config: Config
) -> None:
    client = await start(
        aiohttp_client,
        limited(
            config,
            api_per_token="6/minute",
            writes_per_account="3/minute",
            api_unauthenticated="2/minute",
        ),
    )
    await user(client, "alice")
    await user(client, "bob")
    app = await register(client)
    ip = random_ip()
    alice1 = {"Authorization": f"Bearer {await token(client, app, 'alice', ip)}"}
    alice2 = {"Authorization": f"Bearer {await token(client, app, 'alice', ip)}"}
    bob = {"Authorization": f"Bearer {await token(client, app, 'bob', ip)}"}
    # Authenticated requests do not count against the address (2 a minute here).
    for n in range(3):
        resp = await client.post(
            "/api/v1/statuses", json={"status": f"hi {n}"}, headers=via(ip, **alice1)
        )
        assert resp.status == 200, await resp.text()
    # Writes: per account, across its tokens.
    await assert_429(
        await client.post("/api/v1/statuses", json={"status": "4"}, headers=via(ip, **alice2)), 3
    )
    await assert_429(await client.delete("/api/v1/statuses/1", headers=via(ip, **alice1)), 3)
    resp = await client.post("/api/v1/statuses", json={"status": "bob's"}, headers=via(ip, **bob))
    assert resp.status == 200
    # Reads still go, up to the token's own limit: 6, of which 3 writes and a refused one.
    for left in ("1", "0"):
        resp = await client.get("/api/v1/accounts/verify_credentials", headers=via(ip, **alice1))
        assert resp.status == 200
        assert (resp.headers["X-RateLimit-Limit"], resp.headers["X-RateLimit-Remaining"]) == (
            "6",
            left,
        )
    await assert_429(
        await client.get("/api/v1/accounts/verify_credentials", headers=via(ip, **alice1)), 6
    )
    resp = await client.get("/api/v1/accounts/verify_credentials", headers=via(ip, **alice2))
    assert resp.status == 200


async def test_inbox_posts_are_limited_per_peer_host(aiohttp_client: Any, config: Config) -> None:
    client = await start(aiohttp_client, limited(config, inbox="2/minute"))

    def signed(key_id: str) -> dict[str, str]:
        # Never verified: the limit only reads the keyId's host (the inbox then refuses it).
        return {
            "Content-Type": "application/activity+json",
            "Signature": f'keyId="{key_id}",headers="date",signature="AAAA"',
        }

    for path in ("/inbox", "/users/nobody/inbox"):
        assert (
            await client.post(path, data=b"{}", headers=signed("https://peer.example/actor#k"))
        ).status != 429
    for key_id in ("https://PEER.example/users/other#main-key", "https://peer.example:8443/k"):
        await assert_429(await client.post("/inbox", data=b"{}", headers=signed(key_id)), 2)
    # RFC 9421 signatures name the key in Signature-Input.
    rfc9421 = {
        "Content-Type": "application/activity+json",
        "Signature-Input": 'sig1=("@method");keyid="https://peer.example/k";created=1',
        "Signature": "sig1=:AAAA:",
    }
    await assert_429(await client.post("/inbox", data=b"{}", headers=rfc9421), 2)
    # Another peer host is not affected; unsigned posts count per address.
    assert (
        await client.post("/inbox", data=b"{}", headers=signed("https://b.example/k"))
    ).status != 429
    ip = random_ip()
    for _ in range(2):
        assert (await client.post("/inbox", data=b"{}", headers=via(ip))).status != 429
    await assert_429(await client.post("/inbox", data=b"{}", headers=via(ip)), 2)


async def test_zero_turns_one_limit_off_and_enabled_false_all(
    aiohttp_client: Any, config: Config
) -> None:
    client = await start(aiohttp_client, limited(config, api_unauthenticated="0", apps="1/minute"))
    ip = random_ip()
    for _ in range(5):
        resp = await client.get("/api/v1/instance", headers=via(ip))
        assert resp.status == 200 and "X-RateLimit-Limit" not in resp.headers
    await register(client, ip)
    assert (await client.post("/api/v1/apps", json={}, headers=via(ip))).status == 429

    off = await start(aiohttp_client, limited(config, enabled=False, apps="1/minute"))
    for _ in range(3):
        assert (await off.post("/api/v1/apps", json={}, headers=via(ip))).status == 422


def test_settings_are_validated_and_set_from_the_environment() -> None:
    env = {
        "FEDINODE_RATE_LIMITS__OAUTH_TOKEN": "10 per 2 minutes",
        "FEDINODE_RATE_LIMITS__INBOX": "0",
        "FEDINODE_RATE_LIMITS__ENABLED": "false",
        "FEDINODE_SERVER__TRUSTED_PROXIES": "10.0.0.0/8,::1",
    }
    config = load_config(None, environ=env)
    assert config.rate_limits.oauth_token == "10 per 2 minutes"
    assert config.rate_limits.inbox == "0"
    assert config.rate_limits.enabled is False
    assert config.server.trusted_proxies == ("10.0.0.0/8", "::1")
    for key, value, named in (
        ("FEDINODE_RATE_LIMITS__APPS", "lots", "rate_limits.apps"),
        ("FEDINODE_RATE_LIMITS__STRATEGY", "leaky", "rate_limits.strategy"),
        ("FEDINODE_RATE_LIMITS__STORAGE", "memcached://x", "rate_limits.storage"),
        ("FEDINODE_RATE_LIMITS__EXEMPT", "10.0.0.0/33", "rate_limits.exempt"),
        ("FEDINODE_SERVER__TRUSTED_PROXIES", "proxy.local", "server.trusted_proxies"),
    ):
        with pytest.raises(ConfigError) as caught:
            load_config(None, environ={key: value})
        assert caught.value.key == named


async def test_exempt_addresses_are_never_limited(aiohttp_client: Any, config: Config) -> None:
    client = await start(
        aiohttp_client, limited(config, api_unauthenticated="1/minute", exempt=("192.0.2.0/24",))
    )
    for _ in range(3):
        assert (await client.get("/api/v1/instance", headers=via("192.0.2.77"))).status == 200
    ip = random_ip()
    await client.get("/api/v1/instance", headers=via(ip))
    assert (await client.get("/api/v1/instance", headers=via(ip))).status == 429


async def test_mastodon_py_reads_the_headers(aiohttp_client: Any, config: Config) -> None:
    """The real client library: it paces itself by our headers and raises on 429."""
    client = await start(aiohttp_client, limited(config, api_unauthenticated="2/minute"))
    base = str(client.make_url("")).rstrip("/")

    def drive() -> tuple[int, int, float, type[BaseException] | None]:
        api = mastodon.Mastodon(
            api_base_url=base, ratelimit_method="throw", version_check_mode="none"
        )
        api.instance_v1()
        seen = (api.ratelimit_limit, api.ratelimit_remaining, api.ratelimit_reset)
        api.instance_v1()
        try:
            api.instance_v1()
        except mastodon.MastodonRatelimitError as exc:
            return (*seen, type(exc))
        return (*seen, None)

    limit, remaining, reset, raised = await asyncio.to_thread(drive)
    assert (limit, remaining) == (2, 1)
    assert 0 < reset - time.time() <= 61
    assert raised is mastodon.MastodonRatelimitError


# -- Redis: counters shared by processes; an outage lets requests through -------------------


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


needs_redis = pytest.mark.skipif(not _redis_up(), reason="no Redis on 127.0.0.1:6379")


@needs_redis
async def test_redis_counters_are_shared_between_processes(
    aiohttp_client: Any, config: Config
) -> None:
    shared = limited(config, storage="redis://127.0.0.1:6379/0", api_unauthenticated="3/minute")
    one = await start(aiohttp_client, shared)
    two = await start(aiohttp_client, shared)
    ip = random_ip()
    statuses = [(await c.get("/api/v1/instance", headers=via(ip))).status for c in (one, two, one)]
    assert statuses == [200, 200, 200]
    await assert_429(await two.get("/api/v1/instance", headers=via(ip)), 3)


async def test_database_counters_hold_one_limit_for_every_process(
    aiohttp_client: Any, config: Config
) -> None:
    """The default: two apps on one database (as ``serve --workers 2`` runs them) count a
    login limit once; with memory:// each would let the whole limit through."""
    assert config.rate_limits.storage == "database"
    shared = limited(config, oauth_token="3/minute", writes_per_account="0")
    one = await start(aiohttp_client, shared)
    two = await start(aiohttp_client, shared)
    app = await register(one)
    wrong = {"grant_type": "password", "client_id": app["client_id"],
             "client_secret": app["client_secret"], "username": "nobody", "password": "x"}  # fmt: skip
    ip = random_ip()
    seen = [(await c.post("/oauth/token", data=wrong, headers=via(ip))).status
            for c in (one, two, one)]  # fmt: skip
    assert seen == [400, 400, 400]
    await assert_429(await two.post("/oauth/token", data=wrong, headers=via(ip)), 3)
    await assert_429(await one.post("/oauth/token", data=wrong, headers=via(ip)), 3)
    assert (await two.post("/oauth/token", data=wrong, headers=via(random_ip()))).status == 400
    # Per process, as before, with memory://.
    apart = limited(config, storage="memory://", oauth_token="3/minute")
    three, four = await start(aiohttp_client, apart), await start(aiohttp_client, apart)
    ip = random_ip()
    seen = [(await c.post("/oauth/token", data=wrong, headers=via(ip))).status
            for c in (three, four) * 3]  # fmt: skip
    assert seen == [400] * 6


async def test_database_counters_with_a_sliding_window_and_the_api_headers(
    aiohttp_client: Any, config: Config
) -> None:
    shared = limited(config, strategy="sliding-window-counter", api_unauthenticated="2/hour")
    one = await start(aiohttp_client, shared)
    two = await start(aiohttp_client, shared)
    ip = random_ip()
    first = await one.get("/api/v1/instance", headers=via(ip))
    assert first.status == 200
    assert (first.headers["X-RateLimit-Limit"], first.headers["X-RateLimit-Remaining"]) == ("2", "1")
    assert (await two.get("/api/v1/instance", headers=via(ip))).status == 200
    await assert_429(await one.get("/api/v1/instance", headers=via(ip)), 2)
    await assert_429(await two.get("/api/v1/instance", headers=via(ip)), 2)
    with pytest.raises(ConfigError) as caught:
        load_config(None, environ={"FEDINODE_RATE_LIMITS__STRATEGY": "moving-window"})
    assert caught.value.key == "rate_limits.strategy"
    moving = load_config(None, environ={"FEDINODE_RATE_LIMITS__STRATEGY": "moving-window",
                                        "FEDINODE_RATE_LIMITS__STORAGE": "memory://"})  # fmt: skip
    assert moving.rate_limits.strategy == "moving-window"


async def test_expired_database_counters_are_swept_by_one_process(
    aiohttp_client: Any, config: Config
) -> None:
    # Counters left by an earlier run: one long expired, one live.
    earlier = await Store.open(config.database.url)
    try:
        await earlier.rate_counters.hit("gone", 1, 60_000, now=1_000)
        await earlier.rate_counters.hit("live", 1, 3_600_000, now=now_ms())
    finally:
        await earlier.close()
    client = await start(aiohttp_client, limited(config))
    store = client.app[appkeys.STORE]

    async def keys() -> list[str]:
        return sorted(r["key"] for r in await store.db.fetch("SELECT key FROM rate_counters"))

    deadline = time.monotonic() + 15
    while await keys() != ["live"]:
        assert time.monotonic() < deadline, await keys()
        await asyncio.sleep(0.05)
    lease = await store.jobs.get(ratelimit.SWEEP_JOB)
    assert lease is not None and lease.runs == 1
    assert lease.due_at - lease.started_at == int(ratelimit.SWEEP_EVERY_S * 1000)


async def test_a_storage_outage_lets_requests_through(aiohttp_client: Any, config: Config) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = await start(
        aiohttp_client,
        limited(config, storage=f"redis://127.0.0.1:{port}/0", api_unauthenticated="1/minute"),
    )
    for _ in range(3):
        resp = await client.get("/api/v1/instance", headers=via("192.0.2.5"))
        assert resp.status == 200


async def test_loopback_is_exempt_by_default_but_not_a_client_behind_a_local_proxy(
    aiohttp_client: Any, config: Config
) -> None:
    """Mastodon safelists localhost: tools on the machine are never limited, while a client
    that a local proxy forwards is limited by its own address."""
    app_config = dataclasses.replace(
        config, rate_limits=dataclasses.replace(config.rate_limits, apps="2/minute")
    )
    client = await start(aiohttp_client, app_config)
    form = {"client_name": "x", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"}
    for _ in range(5):
        resp = await client.post("/api/v1/apps", data=form)
        assert resp.status == 200
    statuses = [
        (await client.post("/api/v1/apps", data=form, headers=via("203.0.113.9"))).status
        for _ in range(3)
    ]
    assert statuses == [200, 200, 429]
