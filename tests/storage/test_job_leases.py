"""Leases of periodic jobs: one claimer per period, however many ask at once."""

from __future__ import annotations

import asyncio

from storage.store import Store

HOUR = 3_600_000


async def test_a_job_is_claimed_once_per_period_and_not_while_it_runs(store: Store) -> None:
    jobs = store.jobs
    assert await jobs.claim("prune", "a", every_ms=HOUR, hold_ms=HOUR, now=1_000)
    assert not await jobs.claim("prune", "b", every_ms=HOUR, hold_ms=HOUR, now=2_000)
    assert await jobs.claim("other", "b", every_ms=HOUR, hold_ms=HOUR, now=2_000)  # its own row
    await jobs.finish("prune", "a", now=5_000)
    lease = await jobs.get("prune")
    assert lease is not None
    assert (lease.holder, lease.due_at, lease.held_until, lease.finished_at, lease.runs) == (
        "a", 1_000 + HOUR, 0, 5_000, 1
    )
    # Finished, but not due yet: nobody runs it again within the period.
    assert not await jobs.claim("prune", "b", every_ms=HOUR, hold_ms=HOUR, now=HOUR)
    assert await jobs.claim("prune", "b", every_ms=HOUR, hold_ms=HOUR, now=1_000 + HOUR)
    lease = await jobs.get("prune")
    assert lease is not None and (lease.holder, lease.runs, lease.finished_at) == ("b", 2, None)


async def test_a_run_that_never_finished_is_taken_over_when_its_hold_runs_out(
    store: Store,
) -> None:
    jobs = store.jobs
    assert await jobs.claim("prune", "dies", every_ms=1_000, hold_ms=10_000, now=0)
    # Due again, but still held by the run that never finished.
    assert not await jobs.claim("prune", "b", every_ms=1_000, hold_ms=10_000, now=5_000)
    assert await jobs.claim("prune", "b", every_ms=1_000, hold_ms=10_000, now=10_000)
    await jobs.finish("prune", "dies", now=10_001)  # too late: not its run any more
    lease = await jobs.get("prune")
    assert lease is not None and (lease.holder, lease.held_until) == ("b", 20_000)


async def test_of_many_claims_at_once_exactly_one_wins(database_url: str) -> None:
    stores = [await Store.open(database_url) for _ in range(3)]
    try:
        for now in (1_000, 1_000 + HOUR, 1_000 + 2 * HOUR):
            won = await asyncio.gather(*(
                s.jobs.claim("prune", f"p{i}-{k}", every_ms=HOUR, hold_ms=HOUR, now=now)
                for i, s in enumerate(stores) for k in range(4)
            ))  # fmt: skip
            assert sum(won) == 1
            lease = await stores[0].jobs.get("prune")
            assert lease is not None
            await stores[0].jobs.finish("prune", lease.holder, now=now + 1)
        assert [lease.runs for lease in await stores[0].jobs.all()] == [3]
    finally:
        for s in stores:
            await s.close()
