"""Home timeline throughput: seed accounts and statuses, then GET /api/v1/timelines/home at
N concurrent connections against a server (``fedinode serve``) running in a separate process.

    python bench/timeline.py                      # 10k accounts, 1M statuses, SQLite + PostgreSQL
    python bench/timeline.py --backend sqlite --statuses 100000 --duration 5

The load comes from wrk when it is installed (Debian: ``apt install wrk``; ``--load`` chooses),
else from a Python client, which costs about as much CPU as the server it loads. Prints
req/s, p50 and p99 per backend, beside the target (≥ 2,500 req/s and p99 < 50 ms
at 1M statuses; ``--target-rps``/``--target-p99`` for other sizes). Seeds are kept between runs (the SQLite file under
``--data-dir``, the PostgreSQL database ``fedinode_bench_<accounts>_<statuses>_<follows>``);
``--fresh`` seeds again.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from storage.db import sqlite_path
from storage.ids import new_id, now_ms
from storage.oauth import token_digest
from storage.store import Store

DOMAIN = "bench.test"
HOME = "/api/v1/timelines/home"


def _seed_rows(
    *, accounts: int, statuses: int, follows: int
) -> tuple[list[tuple[object, ...]], int, list[tuple[object, ...]], list[tuple[object, ...]]]:
    """Deterministic rows: accounts, the viewer's id, follows and statuses (ids time-ordered)."""
    rng = random.Random(7)
    now = now_ms()
    account_rows: list[tuple[object, ...]] = []
    account_ids = []
    for i in range(accounts):
        aid = new_id()
        account_ids.append(aid)
        local = i < accounts // 10
        domain = "" if local else f"remote{i % 50}.example"
        uri = f"https://{domain or DOMAIN}/users/u{i}"
        account_rows.append((aid, f"u{i}", domain, uri, uri, f"User {i}", now, now))
    viewer = account_ids[0]
    followed = rng.sample(account_ids[1:], min(follows, len(account_ids) - 1))
    follow_rows: list[tuple[object, ...]] = [(new_id(), viewer, t, now) for t in followed]
    # Statuses spread over the last 30 days, ids time-ordered like real ones.
    span = 30 * 86_400_000
    visibilities = ["public"] * 8 + ["unlisted", "private"]
    times = sorted(now - rng.randrange(span) for _ in range(statuses))
    status_rows: list[tuple[object, ...]] = []
    for n, at in enumerate(times):
        sid = (at << 16) | (n & 0xFFFF)
        uri = f"https://{DOMAIN}/s/{sid}"
        status_rows.append(
            (
                sid,
                uri,
                uri,
                account_ids[rng.randrange(len(account_ids))],
                True,
                f"<p>status {n} with some text</p>",
                rng.choice(visibilities),
                at,
            )
        )
    return account_rows, viewer, follow_rows, status_rows


_STATUS_COLUMNS = ("id", "uri", "url", "account_id", "local", "content", "visibility", "created_at")
_ACCOUNT_COLUMNS = (
    "id", "username", "domain", "uri", "url", "display_name", "created_at", "updated_at"
)  # fmt: skip
_FOLLOW_COLUMNS = ("id", "account_id", "target_account_id", "created_at")
VIEWER_EMAIL = "viewer@bench.test"


async def seed(url: str, *, accounts: int, statuses: int, follows: int) -> None:
    """Bulk-load accounts, statuses and one viewer following ``follows`` accounts.

    The viewer's user row goes in last: its presence marks a complete seed, so an interrupted
    one is redone and a finished one is reused by later runs.
    """
    t0 = time.perf_counter()
    store = await Store.open(url)  # migrations
    dialect = store.dialect
    await store.close()
    account_rows, viewer, follow_rows, status_rows = _seed_rows(
        accounts=accounts, statuses=statuses, follows=follows
    )
    user_row = (new_id(), viewer, VIEWER_EMAIL, "x", now_ms())
    if dialect == "sqlite":
        _seed_sqlite(sqlite_path(url), account_rows, follow_rows, status_rows, user_row)
    else:
        await _seed_postgres(url, account_rows, follow_rows, status_rows, user_row)
    # The bulk load bypasses StatusStore.create: write the home feeds it would have written.
    store = await Store.open(url)
    try:
        await store.statuses.backfill_home_feeds()
        # Statistics and (PostgreSQL) the visibility map for the feeds just written, as
        # autovacuum would have them soon after (it may be off, as on the development
        # machine's cluster): without them the page query read every feed row's heap tuple
        # and PostgreSQL spent ~25% more CPU a request (0.42 ms, not 0.33) at 1M statuses.
        await store.db.execute(
            "VACUUM ANALYZE home_feed" if dialect == "postgres" else "ANALYZE home_feed"
        )
    finally:
        await store.close()
    print(
        f"  seeded {accounts} accounts, {statuses} statuses, {len(follow_rows)} follows"
        f" in {time.perf_counter() - t0:.1f}s",
        flush=True,
    )


def _insert_sql(table: str, columns: tuple[str, ...]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


def _seed_sqlite(
    path: str,
    account_rows: list[tuple[object, ...]],
    follow_rows: list[tuple[object, ...]],
    status_rows: list[tuple[object, ...]],
    user_row: tuple[object, ...],
) -> None:
    import sqlite3

    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("BEGIN")
        conn.executemany(_insert_sql("accounts", _ACCOUNT_COLUMNS), account_rows)
        conn.executemany(_insert_sql("follows", _FOLLOW_COLUMNS), follow_rows)
        conn.executemany(_insert_sql("statuses", _STATUS_COLUMNS), status_rows)
        conn.execute(
            "INSERT INTO users (id, account_id, email, password_hash, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            user_row,
        )
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


async def _seed_postgres(
    url: str,
    account_rows: list[tuple[object, ...]],
    follow_rows: list[tuple[object, ...]],
    status_rows: list[tuple[object, ...]],
    user_row: tuple[object, ...],
) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            await conn.copy_records_to_table(
                "accounts", records=account_rows, columns=list(_ACCOUNT_COLUMNS)
            )
            await conn.copy_records_to_table(
                "follows", records=follow_rows, columns=list(_FOLLOW_COLUMNS)
            )
            await conn.copy_records_to_table(
                "statuses", records=status_rows, columns=list(_STATUS_COLUMNS)
            )
            await conn.execute(
                "INSERT INTO users (id, account_id, email, password_hash, created_at)"
                " VALUES ($1, $2, $3, $4, $5)",
                *user_row,
            )
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


async def prepare(url: str, args: argparse.Namespace) -> str:
    """A seeded database (reused when a previous run finished seeding it) and a fresh token."""
    store = await Store.open(url)
    try:
        user = await store.db.fetchrow("SELECT id FROM users WHERE email = $1", VIEWER_EMAIL)
    finally:
        await store.close()
    if user is None:
        await seed(url, accounts=args.accounts, statuses=args.statuses, follows=args.follows)
    else:
        print("  reusing the seeded database", flush=True)
    store = await Store.open(url)
    try:
        user = await store.db.fetchrow("SELECT id FROM users WHERE email = $1", VIEWER_EMAIL)
        assert user is not None
        token = secrets.token_urlsafe(32)
        await store.db.execute(
            "INSERT INTO oauth_tokens (id, token_hash, user_id, scopes, created_at)"
            " VALUES ($1,$2,$3,$4,$5)",
            new_id(),
            token_digest(token),
            user["id"],
            "read",
            now_ms(),
        )
    finally:
        await store.close()
    return token


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    url: str, port: int, *, access_log: bool = False, workers: int = 0, role: str = "all"
) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update(
        {
            "FEDINODE_DATABASE__URL": url,
            "FEDINODE_SERVER__PORT": str(port),
            "FEDINODE_SERVER__ACCESS_LOG": "true" if access_log else "false",
            "FEDINODE_INSTANCE__DOMAIN": DOMAIN,
            "FEDINODE_RATE_LIMITS__ENABLED": "false",  # throughput, not 300 a token
        }
    )
    command = [sys.executable, "-m", "fedinode.cli", "--log-level", "WARNING", "serve"]
    return subprocess.Popen(
        [*command, "--workers", str(workers), "--role", role],
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
    base: str, token: str, *, concurrency: int, duration: float, path: str = HOME
) -> tuple[int, list[float], int]:
    latencies: list[float] = []
    errors = 0
    headers = {"Authorization": f"Bearer {token}"}
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        # Warm-up: caches, connections, query plans.
        for _ in range(20):
            async with session.get(base + path, headers=headers) as resp:
                await resp.read()
                assert resp.status == 200, await resp.text()
        stop_at = time.perf_counter() + duration

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < stop_at:
                t = time.perf_counter()
                async with session.get(base + path, headers=headers) as resp:
                    body = await resp.read()
                    if resp.status != 200 or not body.startswith(b"["):
                        errors += 1
                latencies.append(time.perf_counter() - t)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return int(len(latencies) / elapsed), sorted(latencies), errors


def _wrk_ms(text: str) -> float:
    """A wrk latency ("812.00us", "3.21ms", "1.02s") in milliseconds."""
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if m is None:
        raise ValueError(f"wrk latency {text!r}")
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[m.group(2)]
    return float(m.group(1)) * scale


async def load_wrk(
    base: str, token: str, *, concurrency: int, duration: float, path: str = HOME
) -> tuple[int, float, float, int, int]:
    """The same load from wrk (C, one thread per core it is given): req/s, p50 and p99 in ms,
    errors and requests served. A load generator in Python costs about as much CPU as the
    server it loads, so on a small machine it measures itself as much as the server."""
    url = base + path
    async with aiohttp.ClientSession() as session:
        for _ in range(20):  # warm-up: caches, query plans
            async with session.get(url, headers={"Authorization": f"Bearer {token}"}) as resp:
                assert resp.status == 200, await resp.text()
                await resp.read()
    proc = await asyncio.create_subprocess_exec(
        "wrk", "--latency", "-t", "1", "-c", str(concurrency), "-d", f"{duration:.0f}s",
        "-H", f"Authorization: Bearer {token}", url,
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out = (await proc.communicate())[0].decode()
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed: {out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _wrk_ms(re.search(r"\s50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _wrk_ms(re.search(r"\s99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    served = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    errors = int(bad.group(1)) if bad else 0
    if socket_errors:
        errors += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1)))
    return int(rps), p50, p99, errors, served


def _cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User + system CPU time of processes on this machine, by pid (a gone one left out)."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / tick
    return out


def _cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(t - before.get(pid, 0.0) for pid, t in after.items())


async def _database_pids(url: str) -> list[int]:
    """The PostgreSQL backends serving ``url``'s database (when the server is local)."""
    if not url.startswith("postgres"):
        return []
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid()"
        )
    finally:
        await conn.close()
    return [int(r["pid"]) for r in rows]


def _with_children(pid: int) -> list[int]:
    """The server and its worker processes."""
    pids = [pid]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                pids.append(int(entry.name))
    return pids


def _peak_rss_mb(pid: int) -> float:
    """The largest peak RSS (VmHWM) of the server and its worker processes, in MB."""
    peak = 0
    for each in _with_children(pid):
        try:
            for line in Path(f"/proc/{each}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
        except OSError:
            continue
    return peak / 1024


def _pct(values: list[float], p: float) -> float:
    return values[min(len(values) - 1, int(len(values) * p))] * 1000


async def run_backend(name: str, url: str, args: argparse.Namespace) -> None:
    print(f"[{name}]", flush=True)
    token = await prepare(url, args)
    port = _free_port()
    server = start_server(url, port, access_log=args.access_log, workers=args.workers)
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_ready(base)
        # Worker 0 answers first and alone: a load started then would open every keep-alive
        # connection to it, and the others would idle through the run.
        from workers import wait_all_listening  # bench/workers.py (which imports this one)

        await wait_all_listening(server, port, args.workers or os.cpu_count() or 1)
        # CPU per request, beside req/s: on a machine busy with other work the rate moves
        # with the neighbours' load, the CPU a request costs much less.
        # (Backends the server's pool opens during the load count from zero.)
        server_before = _cpu_seconds(_with_children(server.pid))
        db_before = _cpu_seconds(await _database_pids(url))
        if args.load == "wrk" or (args.load == "auto" and shutil.which("wrk")):
            generator = "wrk"
            rps, p50, p99, errors, served = await load_wrk(
                base, token, concurrency=args.concurrency, duration=args.duration, path=args.path
            )
        else:
            generator = "Python client"
            rps, lat, errors = await load(
                base, token, concurrency=args.concurrency, duration=args.duration, path=args.path
            )
            p50, p99, served = _pct(lat, 0.5), _pct(lat, 0.99), max(1, len(lat))
        cpu_server = (
            _cpu_used(server_before, _cpu_seconds(_with_children(server.pid))) / served * 1000
        )
        db_pids = await _database_pids(url)
        cpu_db = _cpu_used(db_before, _cpu_seconds(db_pids)) / served * 1000
        print(
            f"  GET {args.path} x{args.concurrency} for {args.duration:.0f}s"
            f" ({args.workers or 'one per core'} worker{'s' if args.workers != 1 else ''},"
            f" load from {generator}):"
            f" {rps} req/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms,"
            f" errors {errors}; CPU per request: server {cpu_server:.2f} ms"
            + (f", PostgreSQL {cpu_db:.2f} ms" if db_pids else ""),
            flush=True,
        )
        passed = rps >= args.target_rps and p99 < args.target_p99 and not errors
        print(
            f"  target ≥ {args.target_rps:,} req/s, p99 < {args.target_p99:.0f} ms:"
            f" {'pass' if passed else 'FAIL'}; peak RSS of a serving process"
            f" {_peak_rss_mb(server.pid):.0f} MB",
            flush=True,
        )
    finally:
        server.terminate()
        server.wait(timeout=30)


def _remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _seed_name(args: argparse.Namespace) -> str:
    return f"fedinode_bench_{args.accounts}_{args.statuses}_{args.follows}"


async def _pg_database(admin_url: str, name: str, *, fresh: bool) -> str:
    import asyncpg

    conn = await asyncpg.connect(admin_url)
    try:
        if fresh:
            await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await conn.execute(f"CREATE DATABASE {name}")
    finally:
        await conn.close()
    base, _, _ = admin_url.rpartition("/")
    return f"{base}/{name}"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--statuses", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--follows", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument(
        "--path", default=HOME, help="what to GET (the targets are the home timeline's)"
    )
    parser.add_argument(
        "--data-dir",
        default=os.environ.get(
            "FEDINODE_BENCH_DIR", str(Path(tempfile.gettempdir()) / "fedinode-bench")
        ),
        help="where the seeded SQLite file is kept between runs",
    )
    parser.add_argument("--fresh", action="store_true", help="seed again even if a seed exists")
    parser.add_argument("--target-rps", type=int, default=2500, help="req/s the run must reach")
    parser.add_argument("--target-p99", type=float, default=50.0, help="p99 (ms) to stay under")
    parser.add_argument(
        "--load",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="load generator: wrk (C; Debian package wrk) or the Python client (auto: wrk if"
        " installed)",
    )
    parser.add_argument("--access-log", action="store_true", help="serve with access logging on")
    parser.add_argument(
        "--workers", type=int, default=0, help="serve --workers N (0: one per core, as serve)"
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "FEDINODE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
    )
    args = parser.parse_args()
    if args.backend in ("sqlite", "both"):
        os.makedirs(args.data_dir, exist_ok=True)
        path = Path(args.data_dir) / f"{_seed_name(args)}.sqlite3"
        if args.fresh:
            _remove_sqlite(path)
        await run_backend("sqlite", f"sqlite:///{path}", args)
    if args.backend in ("postgres", "both"):
        url = await _pg_database(args.postgres_url, _seed_name(args), fresh=args.fresh)
        await run_backend("postgres", url, args)


if __name__ == "__main__":
    asyncio.run(main())
