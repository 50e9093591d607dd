"""Worker role throughput on PostgreSQL: how fast 1, 2, 4 ``serve --role worker`` processes
drain an inbox queue that a web process filled.

For each worker count: a ``serve --role web`` process takes ``--activities`` signed
Create{Note} (pre-signed, from fake remote actors served on loopback by this script) into
the inbox queue while no worker runs; then ``serve --role worker --workers N`` starts and the
time until every queued activity is processed (a stored status each) gives activities/s and
the CPU each worker process used. Each round posts new activities into the same database.

    python bench/worker_role.py [--workers 1,2,4] [--activities 3000]
        [--postgres-url postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import inbox  # bench/inbox.py: fake actors, pre-signing, the posting loop
import timeline  # bench/timeline.py: the database's backends and their CPU
import workers  # bench/workers.py: the server's processes and their CPU

from activitypub.keys import generate_keypair, load_private
from activitypub.signatures import sign_request

DATABASE = "fedinode_bench_worker_role"


def environment(url: str, port: int, data: Path) -> dict[str, str]:
    return {
        **os.environ,
        "FEDINODE_INSTANCE__DOMAIN": f"127.0.0.1:{port}",
        "FEDINODE_SERVER__PORT": str(port),
        "FEDINODE_SERVER__ACCESS_LOG": "false",
        "FEDINODE_DATABASE__URL": url,
        "FEDINODE_FEDERATION__SCHEME": "http",
        "FEDINODE_FEDERATION__ALLOW_PRIVATE_ADDRESSES": "true",
        "FEDINODE_MEDIA__DIRECTORY": str(data / "media"),
        "FEDINODE_MEDIA__CACHE_REMOTE": "false",
        "FEDINODE_RATE_LIMITS__ENABLED": "false",
    }


def start(role: str, count: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "fedinode.cli", "--log-level", "WARNING", "serve",
         "--role", role, "--workers", str(count)],
        env=env,
    )  # fmt: skip


def resign(
    signed: list[tuple[bytes, dict[str, str]]], suffix: str, target: str,
    keys: list[tuple[str, str]],
) -> list[tuple[bytes, dict[str, str]]]:  # fmt: skip
    """The same activities with ids of this round (``suffix``), signed again."""
    private = [load_private(k[0]) for k in keys]
    out = []
    for index, (body, _) in enumerate(signed):
        activity: dict[str, Any] = orjson.loads(body)
        activity["id"] += suffix
        activity["object"]["id"] += suffix
        data = orjson.dumps(activity)
        uri = activity["actor"]
        headers = sign_request("POST", target, {"Content-Type": "application/activity+json"},
                               data, f"{uri}#main-key", private[index % len(keys)])  # fmt: skip
        out.append((data, headers))
    return out


async def counts(url: str) -> tuple[int, int]:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        done = await conn.fetchval("SELECT COUNT(*) FROM inbox_queue WHERE state = 'done'")
        total = await conn.fetchval("SELECT COUNT(*) FROM inbox_queue")
        return int(total), int(done)
    finally:
        await conn.close()


async def fresh_database(admin_url: str) -> str:
    import asyncpg

    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
        await conn.execute(f"CREATE DATABASE {DATABASE}")
    finally:
        await conn.close()
    return admin_url.rsplit("/", 1)[0] + f"/{DATABASE}"


async def main(args: argparse.Namespace) -> None:
    import tempfile

    data = Path(tempfile.mkdtemp(prefix="fedinode-bench-worker-role-"))
    url = await fresh_database(args.postgres_url)
    port, actor_port = inbox.free_port(), inbox.free_port()
    target = f"http://127.0.0.1:{port}/inbox"
    keys = [generate_keypair() for _ in range(args.actors)]
    base = inbox.presign(args.activities, actor_port, target, keys)
    actors = await inbox.serve_actors(actor_port, keys)
    env = environment(url, port, data)
    command = [sys.executable, "-m", "fedinode.cli", "migrate"]
    migrate = await asyncio.to_thread(subprocess.run, command, env=env)
    assert migrate.returncode == 0
    web = start("web", 1, env)
    try:
        await inbox.wait_up(f"http://127.0.0.1:{port}/.well-known/nodeinfo")
        warm = inbox.presign_warm(args.actors, actor_port, target, keys)
        await inbox.post_all(target, warm, min(args.actors, args.connections))
        print(f"worker role on PostgreSQL, {args.activities} inbox activities per round;"
              f" {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip
        for count in args.workers:
            requests = resign(base, f"-w{count}-{time.time_ns()}", target, keys)
            _, before = await counts(url)
            elapsed, _, statuses = await inbox.post_all(target, requests, args.connections)
            accepted = statuses.get(202, 0)
            expected = before + accepted + (args.actors if count == args.workers[0] else 0)
            worker = start("worker", count, env)
            started = time.perf_counter()
            try:
                pids = workers.server_processes(worker.pid)
                for _ in range(100):  # the supervisor's children, once all started
                    if count == 1 or len(pids) == count:
                        break
                    await asyncio.sleep(0.1)
                    pids = workers.server_processes(worker.pid)
                cpu = {p: workers.cpu_seconds(p) for p in pids}
                db_pids = await timeline._database_pids(url)
                db_before = timeline._cpu_seconds(db_pids)
                done = before
                deadline = time.monotonic() + 600
                while time.monotonic() < deadline:
                    _, done = await counts(url)
                    if done >= expected:
                        break
                    await asyncio.sleep(0.2)
                drained = time.perf_counter() - started
                used = {p: workers.cpu_seconds(p) - cpu[p] for p in pids}
                shares = " ".join(f"{used[p] / drained:.0%}" for p in pids)
                db_pids = sorted(set(db_pids) | set(await timeline._database_pids(url)))
                db_used = timeline._cpu_used(db_before, timeline._cpu_seconds(db_pids))
                handled = max(done - before, 1)
                print(f"  --role worker --workers {count}: {done - before:,} activities in"
                      f" {drained:.1f} s (from the workers' start) → {(done - before) / drained:,.0f}"
                      f"/s; CPU per worker process [{shares}]; CPU per activity"
                      f" {sum(used.values()) / handled * 1000:.1f} ms in fedinode,"
                      f" {db_used / handled * 1000:.1f} ms in PostgreSQL; intake {accepted / elapsed:,.0f}/s;"
                      f" load average {os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip
            finally:
                worker.terminate()
                worker.wait(timeout=60)
    finally:
        web.terminate()
        web.wait(timeout=60)
        await actors.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--activities", type=int, default=3000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--actors", type=int, default=20)
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "FEDINODE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
    )
    arguments = parser.parse_args()
    arguments.workers = [int(n) for n in arguments.workers.split(",")]
    asyncio.run(main(arguments))
