"""``fedinode serve --workers N``: several processes on one port, as an operator runs them.

Which process answered a connection is read from the kernel (``/proc``): the server end of
the test's TCP connection is a socket in exactly one child's descriptor table.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
from ports import free_port

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads /proc to see which process answered"
)

PASSWORD = "correct horse battery"


def fedinode(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fedinode.cli", *args], capture_output=True, text=True, timeout=120
    )


def children_of(pid: int) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces, so split after its ")"
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            found.add(int(entry))
    return found


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    except OSError:
        pass
    return inodes


def _tcp_rows() -> Iterator[list[str]]:
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            next(f)
            for line in f:
                yield line.split()


def listeners(port: int, pids: set[int]) -> set[int]:
    """Which of ``pids`` hold a socket listening on ``port``."""
    inodes = {
        row[9]
        for row in _tcp_rows()
        if row[3] == "0A" and int(row[1].rsplit(":", 1)[1], 16) == port
    }
    return {pid for pid in pids if _socket_inodes(pid) & inodes}


def owner(server_port: int, client_port: int, pids: set[int]) -> int:
    """The process holding the server end of the connection from ``client_port``."""
    for row in _tcp_rows():
        local, remote, state = row[1], row[2], row[3]
        if state == "01" and int(local.rsplit(":", 1)[1], 16) == server_port \
                and int(remote.rsplit(":", 1)[1], 16) == client_port:  # fmt: skip
            holders = [pid for pid in pids if row[9] in _socket_inodes(pid)]
            assert len(holders) == 1, holders
            return holders[0]
    raise AssertionError(f"no connection from port {client_port}")


class Fleet:
    def __init__(self, config: Path, port: int, workers: int, *, flag: bool = True) -> None:
        self.config, self.port, self.base = config, port, f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "fedinode.cli", "--config", str(config), "serve",
             *(["--workers", str(workers)] if flag else [])],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.workers = workers

    def children(self) -> set[int]:
        return children_of(self.proc.pid)

    def wait_serving(self, timeout: float = 90.0) -> set[int]:
        """Until ``workers`` children listen on the port; their pids."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"fleet exited: {self.proc.stderr.read() if self.proc.stderr else ''}"
                )
            serving = listeners(self.port, self.children())
            if len(serving) == self.workers:
                return serving
            time.sleep(0.1)
        raise AssertionError("the workers never all listened")

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=60)


@pytest.fixture
def config_file(tmp_path: Path, database_url: str) -> Path:
    port = free_port()
    path = tmp_path / "fedinode.toml"
    path.write_text(
        f'[instance]\ndomain = "127.0.0.1:{port}"\ntitle = "Workers"\n'
        f"[server]\nport = {port}\naccess_log = false\n"
        f'[database]\nurl = "{database_url}"\n[federation]\nscheme = "http"\n'
    )
    for name, admin in (("alice", ["--admin"]), ("bob", [])):
        made = fedinode("--config", str(path), "user", "create", name, "--email", f"{name}@example.org",
                        "--password", PASSWORD, *admin)  # fmt: skip
        assert made.returncode == 0, made.stderr
    return path


@pytest.fixture
def fleet(config_file: Path) -> Iterator[Fleet]:
    port = int(config_file.read_text().split("port = ")[1].split("\n")[0])
    running = Fleet(config_file, port, workers=2)
    try:
        yield running
    finally:
        if running.proc.poll() is None:
            running.proc.kill()
            running.proc.wait()
        for pid in running.children():
            os.kill(pid, signal.SIGKILL)


async def token(base: str, username: str) -> str:
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{base}/api/v1/apps", json={
            "client_name": "workers", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
            "scopes": "read write admin:read admin:write",
        }) as resp:  # fmt: skip
            app = await resp.json()
            assert resp.status == 200, app
        async with session.post(f"{base}/oauth/token", data={
            "grant_type": "password", "client_id": app["client_id"],
            "client_secret": app["client_secret"], "username": username, "password": PASSWORD,
            "scope": "read write admin:read admin:write",
        }) as resp:  # fmt: skip
            body = await resp.json()
            assert resp.status == 200, body
            return str(body["access_token"])


class Pinned:
    """A client whose one keep-alive connection is served by a known process."""

    def __init__(self, fleet: Fleet, pids: set[int], bearer: str) -> None:
        self.fleet, self.pids = fleet, pids
        # Its own port, so the server end of its connection can be found in /proc.
        self.port = free_port()
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=1, local_addr=("127.0.0.1", self.port)),
            headers={"Authorization": f"Bearer {bearer}"},
        )
        self.pid = 0

    async def request(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        async with self.session.request(method, self.fleet.base + path, **kwargs) as resp:
            body = await resp.json()
        pid = owner(self.fleet.port, self.port, self.pids)
        assert self.pid in (0, pid), "the connection moved to another process"
        self.pid = pid
        return resp.status, body


@pytest.fixture
async def pinned() -> AsyncIterator[list[Pinned]]:
    made: list[Pinned] = []
    yield made
    for client in made:
        await client.session.close()


async def pinned_to(fleet: Fleet, pids: set[int], bearer: str, made: list[Pinned], *,
                    other_than: int) -> Pinned:  # fmt: skip
    """A client served by a process other than ``other_than`` (SO_REUSEPORT picks by hash)."""
    for _ in range(64):
        client = Pinned(fleet, pids, bearer)
        made.append(client)
        status, _ = await client.request("GET", "/api/v1/accounts/verify_credentials")
        assert status == 200
        if client.pid != other_than:
            return client
    raise AssertionError("every connection went to one process")


async def test_two_processes_serve_and_a_post_streams_across_them(
    fleet: Fleet, pinned: list[Pinned]
) -> None:
    pids = fleet.wait_serving()
    assert len(pids) == 2
    alice, bob = await token(fleet.base, "alice"), await token(fleet.base, "bob")
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(
            f"{fleet.base.replace('http', 'ws')}/api/v1/streaming?stream=public:local",
            headers={"Authorization": f"Bearer {alice}"},
        )
        stream_pid = owner(fleet.port, ws.get_extra_info("sockname")[1], pids)
        poster = await pinned_to(fleet, pids, bob, pinned, other_than=stream_pid)
        assert poster.pid in pids and poster.pid != stream_pid  # both processes serve
        await asyncio.sleep(0.2)  # the stream's subscription is in place
        started = time.monotonic()
        status, posted = await poster.request("POST", "/api/v1/statuses", json={"status": "across"})
        assert status == 200, posted
        message = await ws.receive(timeout=5)
        latency = time.monotonic() - started
        event = orjson.loads(message.data)
        assert event["event"] == "update" and event["stream"] == ["public:local"]
        assert orjson.loads(event["payload"])["id"] == posted["id"]
        assert latency < 2.0, latency
        # A delete made in the poster's process reaches the stream too.
        status, _ = await poster.request("DELETE", f"/api/v1/statuses/{posted['id']}")
        assert status == 200
        deleted = orjson.loads((await ws.receive(timeout=5)).data)
        assert deleted == {"stream": ["public:local"], "event": "delete", "payload": posted["id"]}
        await ws.close()
    # Server-sent events, served by the process the poster is not on.
    sse_port, sse_session, sse = await sse_served_by(fleet, pids, alice, stream_pid)
    try:
        status, again = await poster.request("POST", "/api/v1/statuses", json={"status": "sse"})
        assert status == 200, again
        seen = b""
        async with asyncio.timeout(5):
            while b"event: update" not in seen or again["id"].encode() not in seen:
                seen += await sse.content.readany()
        assert owner(fleet.port, sse_port, pids) == stream_pid != poster.pid
    finally:
        sse.close()
        await sse_session.close()
    assert fleet.stop() == 0


async def sse_served_by(
    fleet: Fleet, pids: set[int], bearer: str, pid: int
) -> tuple[int, aiohttp.ClientSession, aiohttp.ClientResponse]:
    """An open ``/api/v1/streaming/public/local`` response whose connection ``pid`` serves."""
    for _ in range(64):
        port = free_port()
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(local_addr=("127.0.0.1", port)),
            headers={"Authorization": f"Bearer {bearer}"},
        )
        resp = await session.get(fleet.base + "/api/v1/streaming/public/local")
        assert resp.status == 200
        if owner(fleet.port, port, pids) == pid:
            await resp.content.readany()  # ":)": the stream is subscribed
            return port, session, resp
        resp.close()
        await session.close()
    raise AssertionError("no connection reached that process")


async def test_a_domain_block_made_in_one_process_applies_in_the_other(
    fleet: Fleet, pinned: list[Pinned]
) -> None:
    pids = fleet.wait_serving()
    admin = await token(fleet.base, "alice")
    first = await pinned_to(fleet, pids, admin, pinned, other_than=0)
    second = await pinned_to(fleet, pids, admin, pinned, other_than=first.pid)
    status, before = await second.request("GET", "/api/v1/instance/domain_blocks")
    assert status == 200 and before == []
    status, made = await first.request(
        "POST", "/api/v1/admin/domain_blocks", json={"domain": "bad.example", "severity": "suspend"}
    )
    assert status == 200, made
    # Without word from the first process the second would re-read its rules in 30 s.
    deadline = time.monotonic() + 3.0
    while True:
        status, blocks = await second.request("GET", "/api/v1/instance/domain_blocks")
        if [b["domain"] for b in blocks] == ["bad.example"]:
            break
        assert time.monotonic() < deadline, blocks
        await asyncio.sleep(0.05)
    assert blocks[0]["severity"] == "suspend"
    assert fleet.stop() == 0


def _with_login_limit(config_file: Path, limit: str) -> int:
    """Limit logins (from loopback too) in the config file; the port it serves."""
    with config_file.open("a") as out:
        out.write(f'[rate_limits]\nexempt = []\noauth_token = "{limit}"\n')
    return int(config_file.read_text().split("port = ")[1].split("\n")[0])


async def test_a_login_limit_holds_once_across_the_processes(config_file: Path) -> None:
    """Wrong passwords from one address through connections to both processes: the limit
    counts them once (the default counters are in the database), not once per process."""
    port = _with_login_limit(config_file, "4/minute")
    fleet = Fleet(config_file, port, workers=2)
    sessions: dict[int, aiohttp.ClientSession] = {}
    try:
        pids = fleet.wait_serving()
        for _ in range(64):  # one keep-alive connection served by each process
            local = free_port()
            session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=1, local_addr=("127.0.0.1", local))
            )
            async with session.get(fleet.base + "/api/v1/instance") as resp:
                assert resp.status == 200
            pid = owner(port, local, pids)
            if pid in sessions:
                await session.close()
            else:
                sessions[pid] = session
            if len(sessions) == 2:
                break
        assert len(sessions) == 2, "every connection went to one process"
        first, second = sessions.values()
        async with first.post(fleet.base + "/api/v1/apps", json={
            "client_name": "flood", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
        }) as resp:  # fmt: skip
            app = await resp.json()
            assert resp.status == 200, app
        wrong = {"grant_type": "password", "client_id": app["client_id"],
                 "client_secret": app["client_secret"], "username": "alice", "password": "no"}  # fmt: skip
        seen = []
        for session in (first, second, first, second, first, second):
            async with session.post(fleet.base + "/oauth/token", data=wrong) as resp:
                seen.append(resp.status)
        assert seen == [400, 400, 400, 400, 429, 429], seen
    finally:
        for session in sessions.values():
            await session.close()
        fleet.proc.kill()
        fleet.proc.wait()
        for pid in fleet.children():
            os.kill(pid, signal.SIGKILL)


def test_a_dead_worker_is_started_again_and_sigterm_stops_all(fleet: Fleet) -> None:
    pids = fleet.wait_serving()
    victim = min(pids)
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 90
    while True:
        serving = listeners(fleet.port, fleet.children())
        if len(serving) == 2 and victim not in serving:
            break
        assert time.monotonic() < deadline, "the killed worker was not started again"
        time.sleep(0.2)
    assert serving - pids and pids - {victim} <= serving
    assert fleet.stop() == 0
    for pid in serving:
        assert (
            not Path(f"/proc/{pid}").exists()
            or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]
        )
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", fleet.port)) != 0  # nothing listens any more


def test_workers_stop_when_the_supervisor_is_killed(fleet: Fleet) -> None:
    pids = fleet.wait_serving()
    fleet.proc.kill()
    fleet.proc.wait()
    deadline = time.monotonic() + 30
    while any(Path(f"/proc/{pid}").exists() for pid in pids):
        assert time.monotonic() < deadline, "workers outlived their supervisor"
        time.sleep(0.1)


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("role", ["web", "worker"])
def test_roles_need_postgresql(config_file: Path, role: str) -> None:
    refused = fedinode("--config", str(config_file), "serve", "--role", role)
    assert refused.returncode == 2
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and "needs PostgreSQL" in lines[0], refused.stderr


def test_workers_must_be_a_count(config_file: Path) -> None:
    refused = fedinode("--config", str(config_file), "serve", "--workers", "many")
    assert refused.returncode == 2 and "--workers" in refused.stderr


@pytest.mark.parametrize("backend", ["sqlite"])
def test_server_workers_in_the_config_and_one_process_without_a_supervisor(
    config_file: Path,
) -> None:
    port = int(config_file.read_text().split("port = ")[1].split("\n")[0])
    text = config_file.read_text()
    config_file.write_text(
        text.replace("access_log = false\n", "access_log = false\nworkers = 2\n")
    )
    fleet = Fleet(config_file, port, 2, flag=False)
    try:
        assert len(fleet.wait_serving()) == 2
        assert fleet.stop() == 0
    finally:
        if fleet.proc.poll() is None:
            fleet.proc.kill()
            fleet.proc.wait()
    single = Fleet(config_file, port, 1)  # --workers overrides the file
    try:
        deadline = time.monotonic() + 90
        while listeners(port, {single.proc.pid}) != {single.proc.pid}:
            assert single.proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
        assert single.children() == set()  # no supervisor, no children
        assert single.stop() == 0
    finally:
        if single.proc.poll() is None:
            single.proc.kill()
            single.proc.wait()


def test_bad_worker_counts_are_refused(tmp_path: Path) -> None:
    config = tmp_path / "fedinode.toml"
    config.write_text("[server]\nworkers = -1\n")
    refused = fedinode("--config", str(config), "serve")
    assert refused.returncode == 2
    assert "server.workers" in refused.stderr


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_worker_restarted_over_a_broken_config_file_waits_while_the_other_serves(
    fleet: Fleet,
) -> None:
    import urllib.request

    pids = fleet.wait_serving()
    good = fleet.config.read_text()
    fleet.config.write_text(good + "[server]\nworkers = -1\n")  # broken: a duplicate table
    victim = min(pids)
    os.kill(victim, signal.SIGKILL)
    time.sleep(2.0)  # it was started again, refused the file, and waits to try again
    assert fleet.proc.poll() is None
    for _ in range(10):
        with urllib.request.urlopen(fleet.base + "/api/v1/instance", timeout=5) as resp:
            assert resp.status == 200
    fleet.config.write_text(good)
    deadline = time.monotonic() + 120
    while len(listeners(fleet.port, fleet.children())) < 2:
        assert time.monotonic() < deadline, "the worker never came back"
        time.sleep(0.2)
    assert fleet.stop() == 0


def test_a_configured_worker_name_is_one_per_worker(config_file: Path) -> None:
    # [queue] worker_name names the fleet: each worker leases rows as "<name>#worker<index>",
    # so a worker starting takes back only what its own predecessor held, never the rows a
    # sibling is sending (one name for all made each starting worker resend them).
    port = int(config_file.read_text().split("port = ")[1].split("\n")[0])
    config_file.write_text(config_file.read_text() + '[queue]\nworker_name = "web"\n')
    fleet = Fleet(config_file, port, 2)
    try:
        assert len(fleet.wait_serving()) == 2
        assert fleet.stop() == 0
        log = fleet.proc.stderr.read() if fleet.proc.stderr else ""
    finally:
        if fleet.proc.poll() is None:
            fleet.proc.kill()
            fleet.proc.wait()
    assert "queue leases held as web#worker0" in log, log
    assert "queue leases held as web#worker1" in log, log
    assert "queue leases held as web\n" not in log
