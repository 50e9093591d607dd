"""``[events] url = "redis://…"``: two ``fedinode serve`` processes (as on two machines) share
one database; a post made through one streams to a client of the other, through Redis."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import orjson
import pytest
import redis.asyncio as aioredis
from ports import free_port
from redis_rig import SKIP_REASON, redis_url

PASSWORD = "correct horse battery"
pytestmark = pytest.mark.skipif(redis_url() is None, reason=SKIP_REASON)


def fedinode(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fedinode.cli", "--config", str(config), *args],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def wait_live(base: str, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {proc.stderr.read() if proc.stderr else ''}")
        try:
            with urllib.request.urlopen(base + "/readyz", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{base} never became ready")


async def token(base: str, username: str) -> str:
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{base}/api/v1/apps", json={
            "client_name": "redis", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
            "scopes": "read write",
        }) as resp:  # fmt: skip
            app = await resp.json()
            assert resp.status == 200, app
        async with session.post(f"{base}/oauth/token", data={
            "grant_type": "password", "client_id": app["client_id"],
            "client_secret": app["client_secret"], "username": username, "password": PASSWORD,
            "scope": "read write",
        }) as resp:  # fmt: skip
            body = await resp.json()
            assert resp.status == 200, body
            return str(body["access_token"])


@pytest.fixture
def prefix() -> str:
    return f"fedinode-test-{secrets.token_hex(6)}:"


@pytest.fixture
def two_servers(tmp_path: Path, database_url: str, prefix: str) -> Iterator[list[str]]:
    ports = [free_port(), free_port()]
    config = tmp_path / "fedinode.toml"
    config.write_text(
        f'[instance]\ndomain = "127.0.0.1:{ports[0]}"\n'
        "[server]\naccess_log = false\nworkers = 1\n"
        f'[database]\nurl = "{database_url}"\n[federation]\nscheme = "http"\n'
        f'[media]\ndirectory = "{tmp_path / "media"}"\n'
        f'[events]\nurl = "{redis_url()}"\nprefix = "{prefix}"\n'
    )
    for name in ("alice", "bob"):
        made = fedinode(config, "user", "create", name, "--email", f"{name}@example.org",
                        "--password", PASSWORD)  # fmt: skip
        assert made.returncode == 0, made.stderr
    procs: list[subprocess.Popen[str]] = []
    try:
        for port in ports:
            proc = subprocess.Popen(
                [sys.executable, "-m", "fedinode.cli", "--config", str(config), "serve"],
                env={**os.environ, "FEDINODE_SERVER__PORT": str(port)},
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            )  # fmt: skip
            procs.append(proc)
            wait_live(f"http://127.0.0.1:{port}", proc)
        yield [f"http://127.0.0.1:{port}" for port in ports]
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            assert proc.wait(timeout=60) == 0, proc.stderr.read() if proc.stderr else ""
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


async def test_a_post_through_one_process_streams_from_the_other_through_redis(
    two_servers: list[str], prefix: str
) -> None:
    first, second = two_servers
    alice, bob = await token(first, "alice"), await token(second, "bob")
    watcher = aioredis.Redis.from_url(str(redis_url()), decode_responses=True)
    pubsub = watcher.pubsub(ignore_subscribe_messages=True)
    await pubsub.psubscribe(f"{prefix}*")  # what travels through Redis under this prefix
    try:
        async with aiohttp.ClientSession() as session:
            for stream_base, post_base, poster in ((second, first, alice), (first, second, bob)):
                ws = await session.ws_connect(
                    f"{stream_base.replace('http', 'ws')}/api/v1/streaming?stream=public:local",
                    headers={"Authorization": f"Bearer {alice}"},
                )
                await asyncio.sleep(0.3)  # the stream's subscription is in place
                async with session.post(f"{post_base}/api/v1/statuses",
                                        headers={"Authorization": f"Bearer {poster}"},
                                        json={"status": f"from {post_base}"}) as resp:  # fmt: skip
                    posted = await resp.json()
                    assert resp.status == 200, posted
                event = orjson.loads((await ws.receive(timeout=10)).data)
                assert event["event"] == "update" and event["stream"] == ["public:local"]
                assert orjson.loads(event["payload"])["id"] == posted["id"]
                await ws.close()
        # The event went through Redis on this instance's prefix.
        seen = []
        async with asyncio.timeout(10):
            while len(seen) < 2:
                message = await pubsub.get_message(timeout=1.0)
                if message and message["type"] == "pmessage":
                    seen.append(orjson.loads(message["data"]))
        assert {m["event"] for m in seen} <= {"status.created", "notification"}
        assert any(m["event"] == "status.created" for m in seen)
    finally:
        await pubsub.aclose()
        await watcher.aclose()
