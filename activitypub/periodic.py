"""Jobs that the whole fleet runs once per period: pruning the queues, the policy decisions,
the finished push deliveries.

Any number of processes (``serve --workers N``, ``--role worker`` on several machines) may
try a job; the one that claims its lease row runs it (``storage.jobs``), the others wait
until it is due again. On one SQLite file this changes nothing but a restart: a process
that comes back within the period does not run the job again at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from storage.ids import now_ms
from storage.store import Store

log = logging.getLogger("fedinode.periodic")

MIN_WAIT = 1.0  # seconds: the shortest wait between looks at a job's lease


def holder(store: Store) -> str:
    """This process in the lease rows: the name its queue leases carry, and its start token."""
    owner = store.queues.owner
    return f"{owner.name}/{owner.boot}"


async def run_if_due(
    store: Store, name: str, every: float, job: Callable[[], Awaitable[Any]]
) -> bool:
    """Run ``job`` here if no process of the fleet ran it in the last ``every`` seconds and
    none runs it now; True when it ran here. A failing job still counts as run (it is tried
    again next period, not at once by every process)."""
    me = holder(store)
    period_ms = int(every * 1000)
    if not await store.jobs.claim(name, me, every_ms=period_ms, hold_ms=period_ms):
        return False
    try:
        await job()
    finally:
        try:
            await store.jobs.finish(name, me)
        except Exception:  # the lease runs out by itself
            log.warning("could not mark job %s finished", name, exc_info=True)
    return True


async def seconds_until_due(store: Store, name: str, every: float) -> float:
    """How long until ``name`` may be claimed again (between MIN_WAIT and ``every``)."""
    lease = await store.jobs.get(name)
    if lease is None:
        return MIN_WAIT
    ready_at = max(lease.due_at, lease.held_until)
    return min(max((ready_at - now_ms()) / 1000, MIN_WAIT), max(every, MIN_WAIT))


async def run_forever(
    store: Store, name: str, every: float, job: Callable[[], Awaitable[Any]], stop: asyncio.Event
) -> None:
    """Until ``stop`` is set: run ``job`` whenever it is due and this process claims it,
    sleeping in between until the lease says it may be due again."""
    while not stop.is_set():
        wait = every
        try:
            await run_if_due(store, name, every, job)
            wait = await seconds_until_due(store, name, every)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("periodic job %s failed", name)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), wait)
