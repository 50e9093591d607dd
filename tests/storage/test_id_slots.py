"""Ids stay unique across processes sharing one database: each holds its own id slot."""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
import time
from pathlib import Path

import pytest

from storage import ids
from storage.ids import SEQUENCE_BITS, SLOT_BITS, new_id, now_ms
from storage.slots import slot_is_held
from storage.store import Store

WORKER = Path(__file__).with_name("id_slot_worker.py")
ROOT = Path(__file__).parents[2]


def _slot_of(ident: int) -> int:
    return (ident >> SEQUENCE_BITS) & ((1 << SLOT_BITS) - 1)


async def test_ids_carry_the_claimed_slot_and_keep_increasing(database_url: str) -> None:
    store = await Store.open(database_url)
    try:
        claim = await store.claim_process_slot()
        made = [new_id() for _ in range(20_000)]
        assert made == sorted(made) and len(set(made)) == len(made)
        assert {_slot_of(i) for i in made} == {claim.slot}
        assert all(0 < i < 2**63 for i in made)
        # Still time-ordered: at most a few milliseconds borrowed ahead of the clock.
        assert (made[-1] >> 16) <= now_ms() + 1000
        # Back-dated ids (a remote post's publication time) share the slot and never
        # repeat, however many land on one millisecond.
        # A second-precise time (as Mastodon writes `published`), a while ago.
        published = (now_ms() // 1000 - 86_400 - secrets.randbelow(10**6)) * 1000
        dated = [new_id(published) for _ in range(1000)]
        assert len(set(dated)) == 1000 and not set(dated) & set(made)
        assert {_slot_of(i) for i in dated} == {claim.slot}
        assert min(i >> 16 for i in dated) == published
    finally:
        await store.close()


async def test_two_stores_on_one_database_hold_different_slots(database_url: str) -> None:
    first = await Store.open(database_url)
    second = await Store.open(database_url, run_migrations=False)
    try:
        a = await first.claim_process_slot()
        b = await second.claim_process_slot(worker_name="web-2")
        assert a.slot != b.slot
        assert await slot_is_held(database_url, a.slot) and await slot_is_held(database_url, b.slot)
        assert second.queues.owner.name == "web-2"
        assert first.queues.owner.name.endswith(f"#slot{a.slot}")
        await first.close()
        # The process that dies (or closes) lets its slot go; the next one to start gets it.
        assert not await slot_is_held(database_url, a.slot)
        assert ids.current_slot() == b.slot
        third = await Store.open(database_url, run_migrations=False)
        try:
            assert (await third.claim_process_slot()).slot == a.slot
        finally:
            await third.close()
    finally:
        if first.slot is not None:
            await first.close()
        await second.close()


async def test_processes_sharing_a_database_never_make_the_same_id(
    database_url: str, tmp_path: Path
) -> None:
    store = await Store.open(database_url)
    await store.db.execute("CREATE TABLE id_probe (id BIGINT PRIMARY KEY)")
    await store.close()
    processes, count = 3, 50_000
    start_at = time.time() + 5.0  # after every process has started
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    outs = [tmp_path / f"ids-{n}.txt" for n in range(processes)]
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            str(WORKER),
            database_url,
            str(out),
            str(start_at),
            str(count),
            env=env,
            stderr=asyncio.subprocess.PIPE,
        )
        for out in outs
    ]
    for proc in procs:
        _, err = await asyncio.wait_for(proc.communicate(), 100)
        assert proc.returncode == 0, err.decode()[-2000:]
    every: list[int] = []
    slots = set()
    for out in outs:
        header, *lines = out.read_text().splitlines()
        _, claimed, used = header.split()
        assert claimed == used
        slots.add(int(claimed))
        made = [int(line) for line in lines]
        assert len(made) == count and made == sorted(made)  # increasing within a process
        assert {_slot_of(i) for i in made} == {int(claimed)}
        every += made
    assert len(slots) == processes
    assert len(set(every)) == processes * count  # no id made twice
    store = await Store.open(database_url, run_migrations=False)
    try:
        assert await store.db.fetchval("SELECT COUNT(*) FROM id_probe") == processes * count
        # The runs overlapped in time: their ids interleave, so uniqueness was not luck.
        spans = [(min(map(int, o.read_text().splitlines()[1:])),
                  max(map(int, o.read_text().splitlines()[1:]))) for o in outs]  # fmt: skip
        assert max(lo for lo, _ in spans) < min(hi for _, hi in spans)
    finally:
        await store.close()


async def test_a_slot_lost_with_its_connection_is_taken_again(database_url: str) -> None:
    """PostgreSQL drops an advisory lock with the session (a server restart, a cut link):
    the process takes its slot again rather than go on making ids in a slot others may take."""
    if not database_url.startswith("postgresql"):
        pytest.skip("a SQLite slot is a lock file this process holds: nothing to lose")
    import asyncpg

    store = await Store.open(database_url)
    try:
        claim = await store.claim_process_slot()
        pid = claim._handle.get_server_pid()
        admin = await asyncpg.connect(database_url)
        try:
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
        finally:
            await admin.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            handle = claim._handle
            if handle is not None and handle.get_server_pid() != pid:
                break
            await asyncio.sleep(0.05)
        assert claim._handle.get_server_pid() != pid
        assert await slot_is_held(database_url, claim.slot)
        assert ids.current_slot() == claim.slot
    finally:
        await store.close()
    assert not await slot_is_held(database_url, claim.slot)
