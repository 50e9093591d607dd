"""The deploy files run: two machines behind nginx, federating with a peer over TLS.

Each "machine" is a Linux network namespace on one bridge, with its own address, host name
(a UTS namespace) and ``/etc/netns/<ns>/hosts`` (what ``ip netns exec`` shows a process as
``/etc/hosts``; the system's file is untouched):

- machine A (``web-a``): nginx with ``deploy/nginx-fedinode.conf``, a web process and a worker;
- machine B (``web-b``): a web process; nginx on A balances between both web processes;
- machine C (``peer``): a second instance (SQLite, ``--role all``) behind the same site file.

The first instance's processes share one PostgreSQL, reached through a small forwarder on the
bridge (the server listens on loopback only). TLS comes from a CA made here, which both
instances trust through ``[federation] ca_file``. Needs root, ``ip`` and nginx; without them it
skips saying why, unless ``FEDINODE_TEST_REQUIRE_NETNS`` is set (CI sets it): then it fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import ipaddress
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import orjson
import pytest
from aiohttp.abc import AbstractResolver, ResolveResult

REPO = Path(__file__).resolve().parents[2]
SITE_FILE = REPO / "deploy" / "nginx-fedinode.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
PASSWORD = "correct horse battery"
SOCIAL = "social.fedinode.test"
PEER = "peer.fedinode.test"


def _netns_unavailable() -> str | None:
    if not sys.platform.startswith("linux"):
        return "network namespaces are Linux-only"
    if os.geteuid() != 0:
        return "network namespaces need root (ip netns add)"
    for tool in ("ip", "unshare"):
        if shutil.which(tool) is None:
            return f"no `{tool}` command (iproute2 / util-linux)"
    if not os.access(NGINX, os.X_OK):
        return "no nginx (Debian: apt-get install nginx-light)"
    probe = f"fdnprobe{os.getpid()}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if made.returncode != 0:
        return f"cannot make a network namespace: {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


@pytest.fixture(scope="module")
def netns_ok() -> None:
    reason = _netns_unavailable()
    if reason is None:
        return
    if os.environ.get("FEDINODE_TEST_REQUIRE_NETNS"):
        pytest.fail(f"FEDINODE_TEST_REQUIRE_NETNS is set but {reason}")
    pytest.skip(reason)


def run(*cmd: str) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, f"{' '.join(cmd)}: {done.stderr}"


# -- the test CA ------------------------------------------------------------------------------


def make_ca(directory: Path, hosts: list[str]) -> Path:
    """A CA and, for each host, ``<host>.pem`` (leaf + CA) and ``<host>.key``; the CA's path."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.UTC)
    start, end = now - datetime.timedelta(hours=1), now + datetime.timedelta(days=1)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fedinode test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_pem = ca.public_bytes(serialization.Encoding.PEM)
    ca_path = directory / "ca.pem"
    ca_path.write_bytes(ca_pem)
    for host in hosts:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                critical=False,
            )
            .sign(ca_key, hashes.SHA256())
        )
        (directory / f"{host}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM) + ca_pem)
        (directory / f"{host}.key").write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return ca_path


# -- PostgreSQL for the namespaces ------------------------------------------------------------


class Forwarder:
    """Accepts TCP on ``listen`` (an address on the bridge) and relays to ``target``: the
    machines reach a PostgreSQL that listens on the host's loopback only."""

    def __init__(self, listen: str, target: tuple[str, int]) -> None:
        self.target = target
        self.server = socket.create_server((listen, 0))
        self.port = int(self.server.getsockname()[1])
        self.sockets: list[socket.socket] = []
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self.server.close()
        for s in self.sockets:
            s.close()


def free_subnet() -> str:
    """A 10.X.Y.0/24 that no route of the host covers yet; its prefix "10.X.Y."."""
    routes = subprocess.run(["ip", "-4", "route", "show", "table", "all"], capture_output=True,
                            text=True).stdout  # fmt: skip
    taken = [ipaddress.ip_network(word, strict=False) for word in re.findall(
        r"^(?:\S+ )?(\d+\.\d+\.\d+\.\d+(?:/\d+)?)", routes, re.MULTILINE)]  # fmt: skip
    while True:
        subnet = ipaddress.ip_network(
            f"10.{secrets.randbelow(200) + 20}.{secrets.randbelow(250) + 1}.0/24"
        )
        if not any(subnet.overlaps(other) for other in taken if other.prefixlen >= 8):
            return str(subnet.network_address)[:-1]


def url_via(url: str, host: str, port: int) -> str:
    parts = urlsplit(url)
    user = parts.netloc.rpartition("@")[0]
    return urlunsplit(parts._replace(netloc=f"{user}@{host}:{port}" if user else f"{host}:{port}"))


# -- machines ---------------------------------------------------------------------------------


@dataclass
class Net:
    """A bridge on the host and namespaces on it, all removed by ``close``."""

    tag: str
    prefix: str  # "10.X.Y."
    bridge: str = ""
    namespaces: list[str] = field(default_factory=list)
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def up(self) -> None:
        self.bridge = f"fdn{self.tag}br"
        run("ip", "link", "add", self.bridge, "type", "bridge")
        run("ip", "addr", "add", f"{self.host_address}/24", "dev", self.bridge)
        run("ip", "link", "set", self.bridge, "up")

    @property
    def host_address(self) -> str:
        return f"{self.prefix}1"

    def machine(self, letter: str, number: int, hostname: str, hosts: dict[str, str]) -> Machine:
        ns = f"fdn{self.tag}{letter}"
        veth = f"fdn{self.tag}v{letter}"
        run("ip", "netns", "add", ns)
        self.namespaces.append(ns)
        run("ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns)
        run("ip", "link", "set", veth, "master", self.bridge, "up")
        address = f"{self.prefix}{number}"
        run("ip", "-n", ns, "addr", "add", f"{address}/24", "dev", "eth0")
        run("ip", "-n", ns, "link", "set", "eth0", "up")
        run("ip", "-n", ns, "link", "set", "lo", "up")
        etc = Path("/etc/netns") / ns
        etc.mkdir(parents=True, exist_ok=True)
        lines = ["127.0.0.1 localhost", "::1 localhost", f"{address} {hostname}"]
        lines += [f"{ip} {name}" for name, ip in hosts.items()]
        (etc / "hosts").write_text("\n".join(lines) + "\n")
        return Machine(self, ns, address, hostname)

    def close(self) -> None:
        stop(self.procs)
        for ns in self.namespaces:
            # Anything still inside (a child that outlived its group) goes with it.
            pids = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True)
            for pid in pids.stdout.split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (OSError, ValueError):
                    pass
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
            shutil.rmtree(Path("/etc/netns") / ns, ignore_errors=True)
        if self.bridge:
            subprocess.run(["ip", "link", "del", self.bridge], capture_output=True)


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM to every process group, then SIGKILL to those still there after 10 s."""
    running = [p for p in procs if p.poll() is None]
    for proc in running:
        with contextlib.suppress(OSError):
            os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    for proc in running:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(OSError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@dataclass
class Machine:
    net: Net
    ns: str
    address: str
    hostname: str

    def start(self, args: list[str], log: Path) -> subprocess.Popen[bytes]:
        """``args`` in this machine: its network, its /etc/hosts, its host name."""
        with log.open("wb") as out:
            proc = subprocess.Popen(
                ["ip", "netns", "exec", self.ns, "unshare", "--uts", "sh", "-c",
                 f'hostname {self.hostname} && exec "$@"', "sh", *args],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True, cwd=log.parent,
            )  # fmt: skip
        self.net.procs.append(proc)
        return proc

    def fedinode(
        self, config: Path, *args: str, name: str
    ) -> tuple[subprocess.Popen[bytes], Path]:
        log = config.parent / f"{name}.log"
        cmd = [sys.executable, "-m", "fedinode.cli", "--config", str(config), *args]
        return self.start(cmd, log), log


# -- nginx ------------------------------------------------------------------------------------


def render_site(domain: str, cert: Path, key: Path, upstreams: list[str]) -> str:
    """``deploy/nginx-fedinode.conf`` with what an operator edits: host name, certificate,
    and the web processes of the upstream."""
    site = SITE_FILE.read_text()
    assert "social.example.org" in site and "ssl_certificate " in site
    site = re.sub(r"ssl_certificate\s+\S+;", f"ssl_certificate {cert};", site)
    site = re.sub(r"ssl_certificate_key\s+\S+;", f"ssl_certificate_key {key};", site)
    site = site.replace("social.example.org", domain)
    block = re.search(r"upstream fedinode \{[^}]*\}", site)
    assert block, "the site file has no `upstream fedinode` block"
    lines = [line for line in block.group(0).split("\n") if not re.match(r"\s*server ", line)]
    assert len(lines) < block.group(0).count("\n") + 1, "no `server` line in the upstream block"
    lines[1:1] = [f"    server {u};" for u in upstreams]
    return site.replace(block.group(0), "\n".join(lines))


def nginx_conf(directory: Path, site: Path) -> Path:
    """What Debian's /etc/nginx/nginx.conf provides around a site, in ``directory``."""
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (directory / sub).mkdir(exist_ok=True)
    conf = directory / "nginx.conf"
    conf.write_text(
        f"user root;\nworker_processes 1;\npid {directory}/nginx.pid;\n"
        f"error_log {directory}/error.log;\nevents {{ worker_connections 256; }}\n"
        "http {\n"
        "    log_format upstream '$request_method $uri $status $upstream_addr';\n"
        f"    access_log {directory}/access.log upstream;\n"
        f"    client_body_temp_path {directory}/body;\n    proxy_temp_path {directory}/proxy;\n"
        f"    fastcgi_temp_path {directory}/fastcgi;\n    uwsgi_temp_path {directory}/uwsgi;\n"
        f"    scgi_temp_path {directory}/scgi;\n"
        f"    include {site};\n}}\n"
    )
    return conf


def start_nginx(machine: Machine, directory: Path, site_text: str) -> Path:
    directory.mkdir()
    site = directory / "site.conf"
    site.write_text(site_text)
    conf = nginx_conf(directory, site)
    checked = subprocess.run(
        ["ip", "netns", "exec", machine.ns, NGINX, "-t", "-c", str(conf), "-p", str(directory)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert checked.returncode == 0, f"nginx -t rejects the rendered site file: {checked.stderr}"
    machine.start([NGINX, "-c", str(conf), "-p", str(directory), "-g", "daemon off;"],
                  directory / "nginx.out")  # fmt: skip
    return directory


# -- the client: names resolve to the machines, TLS trusts the test CA ------------------------


class FixedResolver(AbstractResolver):
    def __init__(self, names: dict[str, str]) -> None:
        self.names = names

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        address = self.names[host]
        return [{"hostname": host, "host": address, "port": port, "family": socket.AF_INET,
                 "proto": 0, "flags": socket.AI_NUMERICHOST}]  # fmt: skip

    async def close(self) -> None:
        pass


async def eventually(probe: Callable[[], Awaitable[Any]], what: str, within: float = 30.0) -> Any:
    deadline = time.monotonic() + within
    while True:
        value = await probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


@dataclass
class User:
    session: aiohttp.ClientSession
    domain: str
    username: str
    token: str = ""

    @property
    def base(self) -> str:
        return f"https://{self.domain}"

    async def call(self, method: str, path: str, expect: int = 200, **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        async with self.session.request(method, self.base + path, headers=headers, **kw) as resp:
            body = await resp.json(content_type=None)
            assert resp.status == expect, (method, path, resp.status, body)
            return body

    async def sign_up(self) -> None:
        """As an app signs a user up: an app token, then the form; the answer's token."""
        scopes = "read write follow"
        app = await self.call("POST", "/api/v1/apps", json={
            "client_name": "deploy", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": scopes,
        })  # fmt: skip
        token = await self.call("POST", "/oauth/token", data={
            "grant_type": "client_credentials", "client_id": app["client_id"],
            "client_secret": app["client_secret"], "scope": scopes,
        })  # fmt: skip
        self.token = token["access_token"]
        user = await self.call("POST", "/api/v1/accounts", data={
            "username": self.username, "email": f"{self.username}@example.org",
            "password": PASSWORD, "agreement": "true",
        })  # fmt: skip
        self.token = user["access_token"]

    async def follow(self, other: User) -> None:
        handle = f"{other.username}@{other.domain}"
        found = await self.call("GET", "/api/v2/search", params={
            "q": f"@{handle}", "resolve": "true", "type": "accounts",
        })  # fmt: skip
        accounts = [a for a in found["accounts"] if a["acct"] == handle]
        assert accounts, found
        await self.call("POST", f"/api/v1/accounts/{accounts[0]['id']}/follow")

        async def following() -> bool:
            rels = await self.call("GET", "/api/v1/accounts/relationships",
                                   params={"id[]": accounts[0]["id"]})  # fmt: skip
            return bool(rels[0]["following"])

        await eventually(following, f"{self.username}@{self.domain} following {handle}")

    async def home_has(self, uri: str) -> bool:
        home = await self.call("GET", "/api/v1/timelines/home", params={"limit": "40"})
        return any(s["uri"] == uri for s in home)


# -- the rig ----------------------------------------------------------------------------------


@dataclass
class Rig:
    net: Net
    session: aiohttp.ClientSession
    social_nginx: Path
    procs: dict[str, tuple[subprocess.Popen[bytes], Path]]

    def user(self, domain: str, username: str) -> User:
        return User(self.session, domain, username)

    def check_running(self) -> None:
        check_running(self.procs)


def check_running(procs: dict[str, tuple[subprocess.Popen[bytes], Path]]) -> None:
    for name, (proc, log_path) in procs.items():
        if proc.poll() is not None:
            log = log_path.read_text(errors="replace")[-3000:]
            raise AssertionError(f"{name} exited with {proc.returncode}:\n{log}")


def instance_config(
    path: Path, *, domain: str, database: str, host: str, trusted: list[str], ca: Path,
    metrics_allow: list[str],
) -> Path:  # fmt: skip
    def strings(items: list[str]) -> str:
        return "[" + ", ".join(f'"{i}"' for i in items) + "]"

    path.write_text(
        f'[instance]\ndomain = "{domain}"\ntitle = "{domain}"\nregistrations = "open"\n'
        f'[server]\nhost = "{host}"\nport = 8080\nworkers = 1\n'
        f"trusted_proxies = {strings(trusted)}\n"
        f'[database]\nurl = "{database}"\npool_size = 2\n'
        f'[federation]\nscheme = "https"\nallow_private_addresses = true\nca_file = "{ca}"\n'
        f'[media]\ndirectory = "{path.parent / "media"}"\n'
        f"[metrics]\nallow = {strings(metrics_allow)}\n"
        "[rate_limits]\nenabled = false\n"
    )
    return path


@pytest.fixture
async def rig(
    netns_ok: None, tmp_path: Path, database_url_factory: Callable[[str], Awaitable[str]]
) -> AsyncIterator[Rig]:
    database = await database_url_factory("postgres")
    net = Net(secrets.token_hex(2), free_subnet())
    forwarder: Forwarder | None = None
    session: aiohttp.ClientSession | None = None
    try:
        net.up()
        names = {SOCIAL: f"{net.prefix}2", PEER: f"{net.prefix}4"}
        machine_a = net.machine("a", 2, "web-a", names)
        machine_b = net.machine("b", 3, "web-b", names)
        machine_c = net.machine("c", 4, "peer", names)
        certs = tmp_path / "tls"
        certs.mkdir()
        ca = make_ca(certs, [SOCIAL, PEER])

        pg = urlsplit(database)
        forwarder = Forwarder(net.host_address, (pg.hostname or "127.0.0.1", pg.port or 5432))
        social_dir, peer_dir = tmp_path / "social", tmp_path / "peer"
        social_dir.mkdir()
        peer_dir.mkdir()
        # The web processes trust nginx on machine A; the client is the test, on the bridge.
        social_config = instance_config(
            social_dir / "fedinode.toml", domain=SOCIAL,
            database=url_via(database, net.host_address, forwarder.port), host="0.0.0.0",
            trusted=[machine_a.address], ca=ca, metrics_allow=[net.host_address],
        )  # fmt: skip
        peer_config = instance_config(
            peer_dir / "fedinode.toml", domain=PEER,
            database=f"sqlite:///{peer_dir}/fedinode.sqlite3", host="0.0.0.0",
            trusted=["127.0.0.1"], ca=ca, metrics_allow=[net.host_address],
        )  # fmt: skip
        # All at once on a fresh database, as machines that boot together: they take turns
        # migrating it, and one of them does the instance's first-start work.
        procs = {
            "web-a": machine_a.fedinode(social_config, "serve", "--role", "web", name="web-a"),
            "worker-a": machine_a.fedinode(social_config, "serve", "--role", "worker", name="worker-a"),
            "web-b": machine_b.fedinode(social_config, "serve", "--role", "web", name="web-b"),
            "peer": machine_c.fedinode(peer_config, "serve", name="peer"),
        }  # fmt: skip
        # nginx starts once the web processes answer (as an operator would start it): a
        # process it found down is skipped for 10 s (fail_timeout), which would only slow
        # the test down.
        await processes_ready(procs, [f"http://{m.address}:8080" for m in (machine_a, machine_b,
                                                                          machine_c)])  # fmt: skip
        social_nginx = start_nginx(machine_a, tmp_path / "nginx-social", render_site(
            SOCIAL, certs / f"{SOCIAL}.pem", certs / f"{SOCIAL}.key",
            [f"{machine_a.address}:8080", f"{machine_b.address}:8080"],
        ))  # fmt: skip
        start_nginx(machine_c, tmp_path / "nginx-peer", render_site(
            PEER, certs / f"{PEER}.pem", certs / f"{PEER}.key", ["127.0.0.1:8080"],
        ))  # fmt: skip

        tls = ssl.create_default_context(cafile=str(ca))
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=tls, resolver=FixedResolver(names), force_close=True)
        )
        rig = Rig(net, session, social_nginx, procs)
        yield rig
    finally:
        if session is not None:
            await session.close()
        net.close()
        if forwarder is not None:
            forwarder.close()


async def processes_ready(
    procs: dict[str, tuple[subprocess.Popen[bytes], Path]], bases: list[str]
) -> None:
    """Until ``/readyz`` of each web process answers 200 (database reachable, migrations
    applied), straight from the host."""

    async def ready(session: aiohttp.ClientSession) -> bool:
        check_running(procs)
        for base in bases:
            try:
                async with session.get(f"{base}/readyz") as resp:
                    if resp.status != 200:
                        return False
            except aiohttp.ClientError:
                return False
        return True

    async with aiohttp.ClientSession() as session:
        await eventually(lambda: ready(session), "the web processes ready", within=60.0)


async def wait_ready(rig: Rig, domain: str, upstreams: int) -> None:
    """Until ``/readyz`` answers 200 through nginx ``upstreams`` times in a row (nginx takes
    turns between the web processes, so each has answered)."""

    async def ready() -> bool:
        rig.check_running()
        for _ in range(upstreams):
            try:
                async with rig.session.get(f"https://{domain}/readyz") as resp:
                    if resp.status != 200:
                        return False
            except aiohttp.ClientError:
                return False
        return True

    await eventually(ready, f"{domain} ready through nginx", within=20.0)


def upstreams_of(access_log: Path, uri_prefix: str) -> list[str]:
    return [
        line.split()[3]
        for line in access_log.read_text().splitlines()
        if line.split()[1].startswith(uri_prefix)
    ]


async def test_two_machines_behind_nginx_federate_over_tls(rig: Rig) -> None:
    await wait_ready(rig, SOCIAL, 2)
    await wait_ready(rig, PEER, 1)
    session = rig.session

    # Plain http is sent to https; operations endpoints answer through nginx.
    async with session.get(f"http://{SOCIAL}/about", allow_redirects=False) as resp:
        assert resp.status == 301 and resp.headers["Location"] == f"https://{SOCIAL}/about"
    async with session.get(f"https://{SOCIAL}/livez") as resp:
        assert resp.status == 200
        assert resp.headers.get("Strict-Transport-Security")
    async with session.get(f"https://{SOCIAL}/metrics") as resp:
        metrics = await resp.text()
        # Allowed for the test's own address: the real client IP came through X-Forwarded-For.
        assert resp.status == 200, metrics
        assert "fedinode_http_requests_total" in metrics

    alice, bob = rig.user(SOCIAL, "alice"), rig.user(PEER, "bob")
    await asyncio.gather(alice.sign_up(), bob.sign_up())
    await alice.follow(bob)
    await bob.follow(alice)

    # Streams through nginx: it takes turns, so they are spread over both machines' web
    # processes (four: a peer's request between two connects cannot put them all on one).
    streams = []
    for _ in range(4):
        ws = await session.ws_connect(
            f"wss://{SOCIAL}/api/v1/streaming?stream=user&access_token={alice.token}"
        )
        streams.append(ws)  # subscribed before the 101 came back

    posted = await bob.call("POST", "/api/v1/statuses", json={"status": "from the peer machine"})
    for ws in streams:
        while True:
            message = await ws.receive(timeout=30)
            assert message.type == aiohttp.WSMsgType.TEXT, message
            event = orjson.loads(message.data)
            if event["event"] == "update" and orjson.loads(event["payload"])["uri"] == posted["uri"]:
                break
        await ws.close()
    assert await alice.home_has(posted["uri"])

    mine = await alice.call("POST", "/api/v1/statuses", json={"status": "from the two machines"})
    await eventually(lambda: bob.home_has(mine["uri"]), "alice's post on the peer")

    # Bodies above the site's cap stop at nginx; media uploads have their own, larger cap.
    big = b"x" * (2 * 1024 * 1024)
    async with session.post(f"https://{SOCIAL}/api/v1/statuses", data=big,
                            headers={"Authorization": f"Bearer {alice.token}",
                                     "Content-Type": "application/json"}) as resp:  # fmt: skip
        page = await resp.text()
        assert resp.status == 413 and "nginx" in page, (resp.status, page[:200])
    form = aiohttp.FormData()
    form.add_field("file", big, filename="big.png", content_type="image/png")
    async with session.post(f"https://{SOCIAL}/api/v2/media", data=form,
                            headers={"Authorization": f"Bearer {alice.token}"}) as resp:  # fmt: skip
        answer = await resp.json(content_type=None)
        assert resp.status == 422, (resp.status, answer)  # fedinode's answer: not an image

    async with session.get(f"https://{SOCIAL}/readyz") as resp:
        assert resp.status == 200
    rig.check_running()

    # nginx served the streams from both machines, and kept the large body to itself.
    access_log = rig.social_nginx / "access.log"

    async def both_streams_logged() -> list[str]:
        served = upstreams_of(access_log, "/api/v1/streaming")
        return served if len(served) == len(streams) else []

    served = await eventually(both_streams_logged, "nginx logging the closed streams")
    assert len(set(served)) == 2, served
    assert "POST /api/v1/statuses 413 -" in access_log.read_text()
