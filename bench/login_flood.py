"""Login flood: wrong passwords to /oauth/token from one address, real logins from others.

    python bench/login_flood.py [--attempts 2000] [--connections 16] [--no-limits]

Starts one instance (`fedinode serve`, SQLite, in a subprocess; 127.0.0.1 is a trusted proxy
so X-Forwarded-For names the client), makes a user and an app, then floods /oauth/token
with wrong passwords from one address while a real user logs in from other addresses every
half second (the attacker is another process, niced: its CPU is not the server's).
Prints how the flood was answered (400 = a password was checked, 429 =
refused), the flood's rate, and the real logins' latency during the flood next to one
login alone. --no-limits runs the same with `[rate_limits] enabled = false`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery staple"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def instance_env(port: int, data: Path, limits: bool) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "FEDINODE_INSTANCE__DOMAIN": f"127.0.0.1:{port}",
        "FEDINODE_SERVER__PORT": str(port),
        "FEDINODE_SERVER__ACCESS_LOG": "false",
        "FEDINODE_DATABASE__URL": f"sqlite:///{data}/bench.sqlite3",
        "FEDINODE_FEDERATION__SCHEME": "http",
        "FEDINODE_MEDIA__DIRECTORY": str(data / "media"),
        "FEDINODE_RATE_LIMITS__ENABLED": "true" if limits else "false",
    }


async def wait_up(url: str, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    async with aiohttp.ClientSession() as session:
        while True:
            try:
                async with session.get(url) as resp:
                    if resp.status < 500:
                        return
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"instance did not come up at {url}")
            await asyncio.sleep(0.2)


async def run(base: str, attempts: int, connections: int) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{base}/api/v1/apps",
            json={
                "client_name": "bench",
                "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
                "scopes": "read",
            },
            headers={"X-Forwarded-For": "192.0.2.250"},
        ) as resp:
            app = await resp.json()
        form = {
            "grant_type": "password",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "username": "alice",
            "scope": "read",
        }

        async def login(ip: str, password: str) -> tuple[int, float]:
            began = time.perf_counter()
            async with session.post(
                f"{base}/oauth/token",
                data={**form, "password": password},
                headers={"X-Forwarded-For": ip},
            ) as resp:
                await resp.read()
                return resp.status, time.perf_counter() - began

        alone = [(await login(f"192.0.2.{n}", PASSWORD))[1] for n in range(1, 6)]
        # The attacker: another process, niced (its CPU is not the server's on shared cores).
        flood = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--attack", f"{base}/oauth/token",
            json.dumps({**form, "password": "wrong password"}),
            "--attempts", str(attempts), "--connections", str(connections),
            stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        began = time.perf_counter()
        during: list[float] = []
        refused_logins = 0
        n = 0
        while flood.returncode is None:
            n += 1
            status, elapsed = await login(f"198.51.{n // 250}.{n % 250 + 1}", PASSWORD)
            refused_logins += status != 200
            during.append(elapsed)
            try:
                await asyncio.wait_for(flood.wait(), 0.5)
            except TimeoutError:
                pass
        took = time.perf_counter() - began
        assert flood.stdout is not None
        statuses = json.loads(await flood.stdout.read())
    return {
        "statuses": statuses,
        "flood_seconds": took,
        "alone_ms": statistics.median(alone) * 1000,
        "during_ms": [round(d * 1000) for d in during],
        "refused_logins": refused_logins,
    }


async def attack(url: str, form: dict[str, str], attempts: int, connections: int) -> None:
    os.nice(19)
    statuses: Counter[int] = Counter()
    sent = 0
    async with aiohttp.ClientSession() as session:

        async def worker() -> None:
            nonlocal sent
            while sent < attempts:
                sent += 1
                headers = {"X-Forwarded-For": "203.0.113.66"}
                async with session.post(url, data=form, headers=headers) as resp:
                    await resp.read()
                    statuses[resp.status] += 1

        await asyncio.gather(*(worker() for _ in range(connections)))
    print(json.dumps(statuses))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--attempts", type=int, default=2000)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--no-limits", action="store_true")
    parser.add_argument("--attack", nargs=2, metavar=("URL", "FORM"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.attack:
        url, form = args.attack
        asyncio.run(attack(url, json.loads(form), args.attempts, args.connections))
        return
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        port = free_port()
        env = instance_env(port, data, limits=not args.no_limits)
        cli = [sys.executable, "-m", "fedinode.cli"]
        subprocess.run(
            [*cli, "user", "create", "alice", "--email", "alice@example.org", "--password", PASSWORD],
            env=env, cwd=tmp, check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        server = subprocess.Popen(
            [*cli, "--log-level", "WARNING", "serve"], env=env, cwd=tmp, stdout=subprocess.DEVNULL
        )
        try:
            base = f"http://127.0.0.1:{port}"
            asyncio.run(wait_up(f"{base}/api/v1/instance"))
            # ``serve`` runs one process per core: the flood starts once every one of them
            # listens, so that its connections are spread over them (each would count its
            # own attempts with ``[rate_limits] storage = "memory://"``).
            from workers import wait_all_listening  # bench/workers.py

            processes = os.cpu_count() or 1
            asyncio.run(wait_all_listening(server, port, processes))
            print(f"serving processes: {processes}; rate-limit counters:"
                  f" {os.environ.get('FEDINODE_RATE_LIMITS__STORAGE', 'database')}")  # fmt: skip
            result = asyncio.run(run(base, args.attempts, args.connections))
        finally:
            server.terminate()
            server.wait(10)
    during = result["during_ms"]
    print(f"rate limits: {'off' if args.no_limits else 'on (defaults)'}")
    print(
        f"flood: {args.attempts} wrong passwords on {args.connections} connections in "
        f"{result['flood_seconds']:.1f} s ({args.attempts / result['flood_seconds']:.0f}/s): "
        + ", ".join(f"{count} x {status}" for status, count in sorted(result["statuses"].items()))
    )
    print(f"one login alone: {result['alone_ms']:.0f} ms (median of 5)")
    if during:
        print(
            f"real logins during the flood: {len(during)}, median {statistics.median(during):.0f} ms, "
            f"max {max(during)} ms, refused {result['refused_logins']}"
        )


if __name__ == "__main__":
    main()
