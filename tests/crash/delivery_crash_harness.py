"""A fedinode server as an OS process, and fake followers that record what reaches them.

The delivery crash test seeds a database (a local author with many followers, each with its
own inbox on one loopback peer), starts ``fedinode serve`` on it, kills it with SIGKILL in
the middle of a fan-out and starts it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import orjson
from aiohttp import web
from process_group import kill_tree, wait_gone

from activitypub.urls import Urls
from fedinode.services.users import create_local_user
from storage.accounts import NewAccount
from storage.store import Store

ROOT = Path(__file__).parents[2]
TOKEN = "crash-test-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True, slots=True)
class Arrival:
    inbox: str  # the path of the inbox it reached
    activity_id: str
    idempotency_key: str
    at: float  # time.monotonic()


@dataclass
class Followers:
    """One loopback peer with an inbox per follower; every POST is recorded on arrival
    (before it is answered, so one cut off by the kill counts as arrived)."""

    port: int
    delay: float
    arrivals: list[Arrival] = field(default_factory=list)
    runner: web.AppRunner | None = None
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def wait_for(self, done: Callable[[], bool], within: float) -> bool:
        """Wait until ``done()`` holds after some arrival (False after ``within`` s)."""
        async with self.changed:
            try:
                await asyncio.wait_for(self.changed.wait_for(done), within)
            except TimeoutError:
                return False
        return True

    def inbox(self, n: int) -> str:
        return f"/users/f{n}/inbox"

    async def _post(self, request: web.Request) -> web.Response:
        body = orjson.loads(await request.read())
        self.arrivals.append(
            Arrival(
                request.path,
                str(body.get("id")),
                request.headers.get("Idempotency-Key", ""),
                time.monotonic(),
            )
        )
        async with self.changed:
            self.changed.notify_all()
        await asyncio.sleep(self.delay)
        return web.Response(status=202)

    def reached(self) -> set[str]:
        return {a.inbox for a in self.arrivals}

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/users/{name}/inbox", self._post)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


async def seed(database_url: str, domain: str, peer_port: int, followers: int) -> str:
    """Migrate the database and make the author (``alice``, with an API token) and her
    followers; returns the author's actor URI."""
    store = await Store.open(database_url)
    try:
        _, alice = await create_local_user(
            store, Urls(f"http://{domain}"), username="alice", email="alice@crash.test",
            password="correct horse battery",
        )  # fmt: skip
        user = await store.users.by_account(alice.id)
        assert user is not None
        app = await store.oauth.create_app(
            name="crash", website=None, redirect_uris="urn:ietf:wg:oauth:2.0:oob",
            scopes="read write", client_id="crash-client", client_secret="crash-secret",
        )  # fmt: skip
        await store.oauth.create_token(TOKEN, app_id=app.id, user_id=user.id, scopes="read write")
        peer = f"127.0.0.1:{peer_port}"
        for n in range(followers):
            uri = f"http://{peer}/users/f{n}"
            account = await store.accounts.create(
                NewAccount(username=f"f{n}", domain=peer, uri=uri, inbox_url=f"{uri}/inbox")
            )
            await store.relationships.follow(account.id, alice.id)
        return alice.uri
    finally:
        await store.close()


def write_config(path: Path, *, port: int, database_url: str, media: Path, queue: str = "") -> None:
    """A config file; ``queue`` is the body of a ``[queue]`` table."""
    path.write_text(
        (f"[queue]\n{queue}\n" if queue else "") + "[instance]\n"
        f'domain = "127.0.0.1:{port}"\n'
        "[server]\n"
        f'host = "127.0.0.1"\nport = {port}\naccess_log = false\n'
        "[database]\n"
        f'url = "{database_url}"\n'
        "[federation]\n"
        # Followers on loopback: the setting that exists for tests and private federations.
        'scheme = "http"\nallow_private_addresses = true\nfetch_timeout_seconds = 5.0\n'
        "[media]\n"
        f'directory = "{media}"\n'
        "[rate_limits]\nenabled = false\n"
    )


@dataclass
class Server:
    """``fedinode serve`` in a process of its own."""

    config: Path
    port: int
    log: Path
    process: asyncio.subprocess.Process | None = None

    async def start(self) -> float:
        """Start it; returns when it was launched (time.monotonic())."""
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        }
        launched = time.monotonic()
        with self.log.open("ab") as out:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "fedinode.cli",
                "--config",
                str(self.config),
                "serve",
                env=env,
                stdout=out,
                stderr=out,
                cwd=str(self.config.parent),
            )
        return launched

    async def wait_ready(self, within: float = 30.0) -> None:
        deadline = time.monotonic() + within
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                assert self.process is not None and self.process.returncode is None, self.tail()
                with contextlib.suppress(aiohttp.ClientError):
                    async with session.get(f"http://127.0.0.1:{self.port}/api/v1/instance") as r:
                        if r.status == 200:
                            return
                await asyncio.sleep(0.05)
        raise AssertionError(f"the server did not answer within {within} s\n{self.tail()}")

    async def post(self, text: str) -> dict[str, object]:
        async with aiohttp.ClientSession() as session:
            async with session.post(
                f"http://127.0.0.1:{self.port}/api/v1/statuses",
                json={"status": text, "visibility": "public"},
                headers={"Authorization": f"Bearer {TOKEN}"},
            ) as r:
                assert r.status == 200, await r.text()
                result: dict[str, object] = await r.json()
                return result

    async def kill(self) -> None:
        """SIGKILL to the supervisor and its workers; returns once none of them is left."""
        assert self.process is not None
        killed = kill_tree(self.process.pid)
        await self.process.wait()
        await asyncio.to_thread(wait_gone, killed)

    async def stop(self) -> None:
        if self.process is None or self.process.returncode is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), 15)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""


@contextlib.asynccontextmanager
async def followers_peer(delay: float) -> AsyncIterator[Followers]:
    peer = Followers(free_port(), delay)
    await peer.start()
    try:
        yield peer
    finally:
        await peer.stop()
