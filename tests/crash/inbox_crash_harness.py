"""A fedinode server in a subprocess, killed with SIGKILL while signed Create{Note}
activities pour into its inbox, restarted on the same database; and the counts of what the
accepted activities became (statuses, mention notifications), read from the database.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import orjson

# remote_peer.py (the fake remote server with its actors' keys) lives beside the
# activitypub tests.
sys.path.append(str(Path(__file__).parents[1] / "activitypub"))

from process_group import kill_tree, wait_gone
from remote_peer import FakePeer, keypair, start_peer

from activitypub.keys import load_private
from activitypub.signatures import sign_request
from activitypub.urls import Urls
from fedinode.services.users import create_local_user
from storage.models import Account
from storage.store import Store

__all__ = ["FakePeer", "start_peer"]

ROOT = Path(__file__).resolve().parents[2]
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """``fedinode serve`` (web and workers in one process) on loopback."""

    port: int
    database_url: str
    directory: Path
    process: subprocess.Popen[bytes] | None = None
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.log = self.directory / "server.log"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "FEDINODE_INSTANCE__DOMAIN": f"127.0.0.1:{self.port}",
            "FEDINODE_SERVER__HOST": "127.0.0.1",
            "FEDINODE_SERVER__PORT": str(self.port),
            "FEDINODE_SERVER__ACCESS_LOG": "false",
            "FEDINODE_DATABASE__URL": self.database_url,
            "FEDINODE_FEDERATION__SCHEME": "http",
            "FEDINODE_FEDERATION__ALLOW_PRIVATE_ADDRESSES": "true",
            "FEDINODE_MEDIA__DIRECTORY": str(self.directory / "media"),
            "FEDINODE_RATE_LIMITS__ENABLED": "false",  # one peer sends the whole burst
        }

    async def start(self, within: float = 30.0) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(  # noqa: ASYNC220 (returns at once; not awaited)
                [sys.executable, "-m", "fedinode.cli", "--log-level", "WARNING", "serve"],
                env=self.env(),
                cwd=str(self.directory),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + within
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise AssertionError(f"server exited: {self.log.read_text()[-3000:]}")
                try:
                    async with session.get(f"{self.base_url}/.well-known/nodeinfo") as r:
                        if r.status < 500:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError(f"server did not come up: {self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL to every process of the server (supervisor and workers): no shutdown code
        runs, as when the machine stops; returns once none of them is left."""
        assert self.process is not None
        killed = kill_tree(self.process.pid)
        self.process.wait(timeout=10)
        wait_gone(killed)
        self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
            self.process = None


async def make_local_user(database_url: str, base_url: str, username: str) -> Account:
    store = await Store.open(database_url)
    try:
        _, account = await create_local_user(
            store,
            Urls(base_url),
            username=username,
            email=f"{username}@crash.test",
            password="correct horse battery",
        )
        return account
    finally:
        await store.close()


def mention_note(peer: FakePeer, actor: str, n: int, mentioned: Account) -> dict[str, Any]:
    uri = peer.actor_uri(actor)
    note_id = f"{uri}/statuses/{n}"
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{note_id}/activity",
        "type": "Create",
        "actor": uri,
        "to": [PUBLIC],
        "cc": [mentioned.uri],
        "object": {
            "id": note_id,
            "type": "Note",
            "attributedTo": uri,
            "content": f"<p>note {n} for @{mentioned.username}</p>",
            "to": [PUBLIC],
            "cc": [mentioned.uri],
            "tag": [{"type": "Mention", "href": mentioned.uri, "name": f"@{mentioned.username}"}],
            "published": f"2026-01-01T00:{n // 60 % 60:02d}:{n % 60:02d}Z",
        },
    }


@dataclass
class Burst:
    """Signed POSTs to one inbox, ``connections`` at a time; which ones were accepted."""

    inbox: str
    peer: FakePeer
    connections: int = 8
    accepted: set[str] = field(default_factory=set)
    refused: dict[str, int] = field(default_factory=dict)  # activity id → status (4xx/5xx)

    def _signed(self, activity: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
        body = orjson.dumps(activity)
        actor = str(activity["actor"]).rsplit("/", 1)[-1]
        headers = sign_request(
            "POST",
            self.inbox,
            {"Content-Type": "application/activity+json"},
            body,
            self.peer.key_id(actor),
            load_private(keypair(self.peer.actors[actor])[0]),
        )
        return body, headers

    async def send(
        self, activities: Sequence[dict[str, Any]], *, kill_after: int | None = None,
        server: Server | None = None,
    ) -> int:  # fmt: skip
        """POST every activity; with ``kill_after``, SIGKILL ``server`` as soon as that many
        of these were accepted (the rest fail to connect or are cut). Returns accepted."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        for activity in activities:
            queue.put_nowait(activity)
        accepted_here = 0
        killed = asyncio.Event()
        connector = aiohttp.TCPConnector(limit=self.connections)
        timeout = aiohttp.ClientTimeout(total=60)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

            async def worker() -> None:
                nonlocal accepted_here
                while not queue.empty():
                    activity = queue.get_nowait()
                    body, headers = self._signed(activity)
                    try:
                        async with session.post(self.inbox, data=body, headers=headers) as r:
                            await r.read()
                            status = r.status
                    except (TimeoutError, aiohttp.ClientError):
                        if not killed.is_set():
                            queue.put_nowait(activity)  # slow, not dead: a peer sends it again
                        continue  # the server died under it: not accepted
                    if 200 <= status < 300:
                        self.accepted.add(str(activity["id"]))
                        accepted_here += 1
                        if kill_after is not None and accepted_here >= kill_after:
                            if not killed.is_set() and server is not None:
                                killed.set()
                                server.kill()
                    else:
                        self.refused[str(activity["id"])] = status

            await asyncio.gather(*(worker() for _ in range(self.connections)))
        return accepted_here


@dataclass(frozen=True)
class Outcome:
    accepted: int
    statuses: int  # distinct accepted notes stored
    lost: int  # accepted notes with no status, or with no mention notification
    duplicated: int  # extra statuses or extra mention notifications
    failed_rows: int  # inbox rows that ended failed


async def wait_drained(database_url: str, within: float) -> None:
    """Until no inbox row waits, and no status's side effects are owed."""
    store = await Store.open(database_url, run_migrations=False)
    try:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            pending = await store.db.fetchval(
                "SELECT COUNT(*) FROM inbox_queue WHERE state IN ('queued', 'processing')"
            )
            if int(pending) == 0:
                return
            await asyncio.sleep(0.2)
        raise AssertionError(f"inbox not drained within {within} s ({pending} rows wait)")
    finally:
        await store.close()


async def take_back_leases(database_url: str) -> int:
    """Make the rows the killed process had claimed due now: what a restarted process does
    with the leases it held (by its boot token) instead of waiting for the 60 s lease."""
    store = await Store.open(database_url, run_migrations=False)
    try:
        return await store.db.execute(
            "UPDATE inbox_queue SET next_attempt_at = 0 WHERE state = 'processing'"
        )
    finally:
        await store.close()


async def outcome(database_url: str, accepted: set[str], mentioned: Account) -> Outcome:
    """Count, per accepted Create, its stored statuses and their mention notifications."""
    store = await Store.open(database_url, run_migrations=False)
    try:
        rows = await store.db.fetch(
            "SELECT s.uri AS uri, s.id AS id, (SELECT COUNT(*) FROM notifications n"
            " WHERE n.status_id = s.id AND n.account_id = $1 AND n.type = 'mention') AS n"
            " FROM statuses s WHERE s.local = FALSE",
            mentioned.id,
        )
        failed = await store.db.fetchval("SELECT COUNT(*) FROM inbox_queue WHERE state = 'failed'")
    finally:
        await store.close()
    by_note: dict[str, list[int]] = {}
    for r in rows:
        by_note.setdefault(str(r["uri"]), []).append(int(r["n"]))
    lost = duplicated = stored = 0
    for activity_id in accepted:
        note_id = activity_id.removesuffix("/activity")
        counts = by_note.get(note_id, [])
        if counts:
            stored += 1
        if not counts or sum(counts) == 0:
            lost += 1
        duplicated += max(0, len(counts) - 1) + max(0, sum(counts) - 1)
    return Outcome(len(accepted), stored, lost, duplicated, int(failed))
