"""``serve --workers N``: throughput of one process against N on one port, and how the load
spreads over the processes.

Seeds a small instance (bench/timeline.py's seed: a viewer following ``--follows`` accounts),
then for each worker count starts ``fedinode serve --workers N``, waits until every worker
listens, and loads ``GET /api/v1/timelines/home?limit=20`` and ``GET /api/v1/instance`` with
``wrk`` (when it is on PATH; else bench/timeline.py's aiohttp loader, which costs the server
a share of the CPU). Prints req/s, p50, p99, and the CPU each server process used, with the
machine's load average (figures from a busy machine say little).

    python bench/workers.py                          # SQLite and PostgreSQL, 1 then 2 workers
    python bench/workers.py --backend sqlite --workers 1,2,4 --duration 5
    python bench/workers.py --backend postgres --role web --workers 1,2,4   # web role only
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import timeline  # bench/timeline.py: seeding, server start, aiohttp loader

PATHS = ("/api/v1/timelines/home?limit=20", "/api/v1/instance")


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def server_processes(root: int) -> list[int]:
    """The supervisor's ``fedinode serve`` children, or the one process itself."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if (
                int(_stat(int(entry))[1]) == root
                and b"fedinode.cli" in Path(f"/proc/{entry}/cmdline").read_bytes()
            ):
                found.append(int(entry))
        except OSError:
            continue
    return sorted(found) or [root]


def cpu_seconds(pid: int) -> float:
    try:
        fields = _stat(pid)
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def listening(port: int, pids: list[int]) -> int:
    """How many of ``pids`` hold a socket listening on ``port``."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            next(f)
            for line in f:
                row = line.split()
                if row[3] == "0A" and int(row[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(f"socket:[{row[9]}]")
    count = 0
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                    count += 1
                    break
            except OSError:
                continue
    return count


async def wait_all_listening(server: subprocess.Popen[bytes], port: int, workers: int) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("the server exited")
        if listening(port, server_processes(server.pid)) >= workers:
            return
        await asyncio.sleep(0.2)
    raise RuntimeError("not every worker listened")


def run_wrk(url: str, token: str | None, args: argparse.Namespace) -> tuple[float, str, str]:
    command = ["wrk", "-t2", f"-c{args.concurrency}", f"-d{args.duration:.0f}s", "--latency"]
    if token:
        command += ["-H", f"Authorization: Bearer {token}"]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p50 = re.search(r"\s50%\s+(\S+)", out)
    p99 = re.search(r"\s99%\s+(\S+)", out)
    if not (rps and p50 and p99):
        raise RuntimeError(f"unexpected wrk output: {out}")
    return float(rps.group(1)), p50.group(1), p99.group(1)


async def run_aiohttp(
    url: str, token: str | None, args: argparse.Namespace
) -> tuple[float, str, str]:
    base, _, path = url.partition("/api/")
    if path.startswith("v1/timelines/home") and token:
        rps, lat, _ = await timeline.load(
            base, token, concurrency=args.concurrency, duration=args.duration
        )
        return float(rps), f"{timeline._pct(lat, 0.5):.1f}ms", f"{timeline._pct(lat, 0.99):.1f}ms"
    import aiohttp

    done = 0
    stop_at = time.perf_counter() + args.duration
    async with aiohttp.ClientSession() as session:

        async def worker() -> None:
            nonlocal done
            while time.perf_counter() < stop_at:
                async with session.get(url) as resp:
                    await resp.read()
                done += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(args.concurrency)))
        return done / (time.perf_counter() - started), "-", "-"


async def run_backend(name: str, url: str, args: argparse.Namespace) -> None:
    token = await timeline.prepare(url, args)
    loader = "wrk" if shutil.which("wrk") else "aiohttp (wrk not found)"
    print(f"[{name}] load generator: {loader}, {args.concurrency} connections", flush=True)
    for workers in args.workers:
        port = timeline._free_port()
        server = timeline.start_server(url, port, workers=workers, role=args.role)
        base = f"http://127.0.0.1:{port}"
        try:
            await timeline.wait_ready(base)
            await wait_all_listening(server, port, workers)
            processes = server_processes(server.pid)
            for path in PATHS:
                bearer = token if "timelines" in path else None
                before = {p: cpu_seconds(p) for p in processes}
                db_pids = await timeline._database_pids(url)
                db_before = timeline._cpu_seconds(db_pids)
                started = time.monotonic()
                if shutil.which("wrk"):
                    rps, p50, p99 = run_wrk(base + path, bearer, args)
                else:
                    rps, p50, p99 = await run_aiohttp(base + path, bearer, args)
                elapsed = time.monotonic() - started
                used = {p: cpu_seconds(p) - before[p] for p in processes}
                shares = " ".join(f"{used[p] / elapsed:.0%}" for p in processes)
                db_pids = sorted(set(db_pids) | set(await timeline._database_pids(url)))
                db_used = timeline._cpu_used(db_before, timeline._cpu_seconds(db_pids))
                served = max(rps * elapsed, 1.0)
                # CPU per request: what sizing rests on, less skewed by a busy machine
                # than req/s (the database's share is 0 when it runs elsewhere).
                per_request = (
                    f"CPU per request {sum(used.values()) / served * 1000:.2f} ms in fedinode,"
                    f" {db_used / served * 1000:.2f} ms in PostgreSQL"
                )
                print(
                    f"  --role {args.role} --workers {workers}  GET {path}: {rps:,.0f} req/s, p50 {p50}, p99 {p99};"
                    f" CPU per process [{shares}]; {per_request}; load average {os.getloadavg()[0]:.1f}",
                    flush=True,
                )
        finally:
            server.terminate()
            server.wait(timeout=60)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--workers", default="1,2", help="worker counts to compare, e.g. 1,2")
    parser.add_argument("--role", choices=("all", "web"), default="all", help="serve --role")
    parser.add_argument("--statuses", type=int, default=6000)
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--follows", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--fresh", action="store_true", help="seed again even if a seed exists")
    parser.add_argument(
        "--data-dir",
        default=os.environ.get(
            "FEDINODE_BENCH_DIR", str(Path(tempfile.gettempdir()) / "fedinode-bench")
        ),
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "FEDINODE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
    )
    args = parser.parse_args()
    args.workers = [int(n) for n in args.workers.split(",")]
    if args.backend in ("sqlite", "both"):
        os.makedirs(args.data_dir, exist_ok=True)
        path = Path(args.data_dir) / f"{timeline._seed_name(args)}.sqlite3"
        if args.fresh:
            timeline._remove_sqlite(path)
        await run_backend("sqlite", f"sqlite:///{path}", args)
    if args.backend in ("postgres", "both"):
        url = await timeline._pg_database(
            args.postgres_url, timeline._seed_name(args), fresh=args.fresh
        )
        await run_backend("postgres", url, args)


if __name__ == "__main__":
    asyncio.run(main())
