"""Periodic jobs run once per period across processes sharing one database."""

from __future__ import annotations

import asyncio
import itertools
import subprocess
import sys
import time
from pathlib import Path

from activitypub import periodic
from storage.store import Store

WORKER = Path(__file__).with_name("periodic_job_worker.py")


def run_two_processes(database_url: str, out: Path, every: float, seconds: float) -> None:
    start_at = time.time() + 3.0
    command = [sys.executable, str(WORKER), database_url, str(out), str(start_at), str(seconds),
               str(every)]  # fmt: skip
    procs = [subprocess.Popen(command, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err


async def test_two_processes_run_a_job_once_per_period(tmp_path: Path, database_url: str) -> None:
    await (await Store.open(database_url)).close()  # migrated before the processes start
    out = tmp_path / "runs.txt"
    every, seconds = 1.0, 4.5
    await asyncio.to_thread(run_two_processes, database_url, out, every, seconds)
    runs = sorted(
        (int(start), int(end), int(pid))
        for pid, start, end in (line.split() for line in out.read_text().splitlines())
    )
    # Once per period: every run starts a full period after the one before it (the lease's
    # due time), so never two in one period and never two at once.
    assert len(runs) >= 3
    for (start, end, _), (next_start, _, _) in itertools.pairwise(runs):
        assert next_start >= start + int(every * 1000)
        assert next_start >= end
    assert len(runs) <= int(seconds / every) + 1
    store = await Store.open(database_url)
    try:
        lease = await store.jobs.get("test_job")
        assert lease is not None and lease.runs == len(runs)
    finally:
        await store.close()


async def test_run_if_due_runs_here_only_when_no_process_ran_it(store: Store) -> None:
    ran: list[str] = []

    async def job() -> None:
        ran.append("x")

    assert await periodic.run_if_due(store, "j", 3600.0, job)
    assert not await periodic.run_if_due(store, "j", 3600.0, job)
    assert ran == ["x"]
    wait = await periodic.seconds_until_due(store, "j", 3600.0)
    assert 3500.0 < wait <= 3600.0
