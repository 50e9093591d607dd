"""Home timeline throughput: seed accounts and statuses, then GET /api/v1/timelines/home at
N concurrent connections against a server running in a separate process.

    python bench/timeline.py                         # 10k accounts, 1M statuses, SQLite
    python bench/timeline.py --statuses 100000 --backend both \
        --postgres-url postgresql://postgres@127.0.0.1:5432/postgres

Prints req/s, p50 and p99 per backend.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from storage.ids import new_id, now_ms
from storage.oauth import token_digest
from storage.store import Store

DOMAIN = "bench.test"


async def seed(url: str, *, accounts: int, statuses: int, follows: int) -> str:
    """Bulk-load accounts, statuses and one viewer following ``follows`` accounts; return a token."""
    store = await Store.open(url)
    db = store.db
    rng = random.Random(7)
    now = now_ms()
    t0 = time.perf_counter()
    account_rows = []
    account_ids = []
    for i in range(accounts):
        aid = new_id()
        account_ids.append(aid)
        local = i < accounts // 10
        domain = "" if local else f"remote{i % 50}.example"
        uri = f"https://{domain or DOMAIN}/users/u{i}"
        account_rows.append((aid, f"u{i}", domain, uri, uri, f"User {i}", now, now))
    await db.executemany(
        "INSERT INTO accounts (id, username, domain, uri, url, display_name, created_at, updated_at)"
        " VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
        account_rows,
    )
    viewer = account_ids[0]
    user_id = new_id()
    await db.execute(
        "INSERT INTO users (id, account_id, email, password_hash, created_at) VALUES ($1,$2,$3,$4,$5)",
        user_id,
        viewer,
        "viewer@bench.test",
        "x",
        now,
    )
    followed = rng.sample(account_ids[1:], min(follows, len(account_ids) - 1))
    await db.executemany(
        "INSERT INTO follows (id, account_id, target_account_id, created_at) VALUES ($1,$2,$3,$4)",
        [(new_id(), viewer, t, now) for t in followed],
    )
    # Statuses spread over the last 30 days, ids time-ordered like real ones.
    span = 30 * 86_400_000
    batch: list[tuple[object, ...]] = []
    visibilities = ["public"] * 8 + ["unlisted", "private"]
    times = sorted(now - rng.randrange(span) for _ in range(statuses))
    for n, at in enumerate(times):
        sid = (at << 16) | (n & 0xFFFF)
        author = account_ids[rng.randrange(len(account_ids))]
        uri = f"https://{DOMAIN}/s/{sid}"
        batch.append(
            (
                sid,
                uri,
                uri,
                author,
                True,
                f"<p>status {n} with some text</p>",
                rng.choice(visibilities),
                at,
            )
        )
        if len(batch) >= 20_000:
            await _insert_statuses(store, batch)
            batch = []
    if batch:
        await _insert_statuses(store, batch)
    token = secrets.token_urlsafe(32)
    await db.execute(
        "INSERT INTO oauth_tokens (id, token_hash, user_id, scopes, created_at) VALUES ($1,$2,$3,$4,$5)",
        new_id(),
        token_digest(token),
        user_id,
        "read",
        now,
    )
    if store.dialect == "postgres":
        await db.execute("ANALYZE")
    else:
        await db.execute("ANALYZE")
    print(
        f"  seeded {accounts} accounts, {statuses} statuses, {len(followed)} follows"
        f" in {time.perf_counter() - t0:.1f}s",
        flush=True,
    )
    await store.close()
    return token


async def _insert_statuses(store: Store, rows: list[tuple[object, ...]]) -> None:
    await store.db.executemany(
        "INSERT INTO statuses (id, uri, url, account_id, local, content, visibility, created_at)"
        " VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
        rows,
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(url: str, port: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update(
        {
            "FEDINODE_DATABASE__URL": url,
            "FEDINODE_SERVER__PORT": str(port),
            "FEDINODE_SERVER__ACCESS_LOG": "false",
            "FEDINODE_INSTANCE__DOMAIN": DOMAIN,
        }
    )
    return subprocess.Popen(
        [sys.executable, "-m", "fedinode.cli", "--log-level", "WARNING", "serve", "--role", "web"],
        env=env,
    )


async def wait_ready(base: str, within_s: float = 60.0) -> None:
    deadline = time.monotonic() + within_s
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            try:
                async with session.get(base + "/api/v1/instance") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError("server did not start")


async def load(
    base: str, token: str, *, concurrency: int, duration: float
) -> tuple[int, list[float], int]:
    latencies: list[float] = []
    errors = 0
    headers = {"Authorization": f"Bearer {token}"}
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        # Warm-up: caches, connections, query plans.
        for _ in range(20):
            async with session.get(base + "/api/v1/timelines/home", headers=headers) as resp:
                await resp.read()
                assert resp.status == 200, await resp.text()
        stop_at = time.perf_counter() + duration

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < stop_at:
                t = time.perf_counter()
                async with session.get(base + "/api/v1/timelines/home", headers=headers) as resp:
                    body = await resp.read()
                    if resp.status != 200 or not body.startswith(b"["):
                        errors += 1
                latencies.append(time.perf_counter() - t)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return int(len(latencies) / elapsed), sorted(latencies), errors


def _pct(values: list[float], p: float) -> float:
    return values[min(len(values) - 1, int(len(values) * p))] * 1000


async def run_backend(name: str, url: str, args: argparse.Namespace) -> None:
    print(f"[{name}]", flush=True)
    token = await seed(url, accounts=args.accounts, statuses=args.statuses, follows=args.follows)
    port = _free_port()
    server = start_server(url, port)
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_ready(base)
        rps, lat, errors = await load(
            base, token, concurrency=args.concurrency, duration=args.duration
        )
        print(
            f"  GET /api/v1/timelines/home x{args.concurrency} for {args.duration:.0f}s:"
            f" {rps} req/s, p50 {_pct(lat, 0.5):.1f} ms, p99 {_pct(lat, 0.99):.1f} ms,"
            f" errors {errors}",
            flush=True,
        )
    finally:
        server.terminate()
        server.wait(timeout=30)


async def _pg_database(admin_url: str) -> tuple[str, str]:
    import asyncpg

    name = "bench_" + secrets.token_hex(4)
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f"CREATE DATABASE {name}")
    finally:
        await conn.close()
    base, _, _ = admin_url.rpartition("/")
    return name, f"{base}/{name}"


async def _drop_pg(admin_url: str, name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await conn.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="sqlite")
    parser.add_argument("--statuses", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--follows", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "FEDINODE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
    )
    args = parser.parse_args()
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            await run_backend("sqlite", f"sqlite:///{tmp}/bench.sqlite3", args)
    if args.backend in ("postgres", "both"):
        name, url = await _pg_database(args.postgres_url)
        try:
            await run_backend("postgres", url, args)
        finally:
            await _drop_pg(args.postgres_url, name)


if __name__ == "__main__":
    asyncio.run(main())
