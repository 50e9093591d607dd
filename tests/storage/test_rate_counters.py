"""Rate-limit counters in the database: a window starts at its first hit and ends at its
expiry, and two processes counting one key at once never lose a hit."""

from __future__ import annotations

import asyncio

from storage.rate_counters import Counter
from storage.store import Store

MINUTE = 60_000


async def test_hits_add_up_within_the_window_and_start_again_after_it(store: Store) -> None:
    counters = store.rate_counters
    assert await counters.hit("login:192.0.2.1", 1, MINUTE, now=1_000) == Counter(1, 1_000 + MINUTE)
    assert await counters.hit("login:192.0.2.1", 2, MINUTE, now=30_000) == Counter(3, 1_000 + MINUTE)
    assert await counters.get("login:192.0.2.1", now=MINUTE) == Counter(3, 1_000 + MINUTE)
    # Another key has its own counter.
    assert await counters.hit("login:192.0.2.2", 1, MINUTE, now=30_000) == Counter(1, 30_000 + MINUTE)
    # At the window's end the counter is gone, and the next hit opens a new window.
    assert await counters.get("login:192.0.2.1", now=1_000 + MINUTE) is None
    assert await counters.hit("login:192.0.2.1", 1, MINUTE, now=1_000 + MINUTE) == Counter(
        1, 1_000 + 2 * MINUTE
    )


async def test_taking_back_stops_at_zero_and_skips_expired_counters(store: Store) -> None:
    counters = store.rate_counters
    await counters.hit("k", 3, MINUTE, now=0)
    assert await counters.take_back("k", 2, now=1) == 1
    assert await counters.take_back("k", 5, now=2) == 0
    assert await counters.take_back("k", 1, now=MINUTE) == 0  # expired: nothing to take
    assert await counters.take_back("absent", 1, now=2) == 0


async def test_prune_deletes_only_expired_counters_in_batches(store: Store) -> None:
    counters = store.rate_counters
    for n in range(7):
        await counters.hit(f"old{n}", 1, MINUTE, now=n)
    await counters.hit("live", 1, MINUTE, now=MINUTE)
    assert await counters.prune_expired(MINUTE + 10, batch=3) == 7
    assert await counters.get("live", now=MINUTE + 10) == Counter(1, 2 * MINUTE)
    assert await counters.prune_expired(MINUTE + 10) == 0
    await counters.clear("live")
    assert await counters.get("live", now=MINUTE + 10) is None


async def test_two_processes_hitting_one_key_at_once_lose_no_hit(database_url: str) -> None:
    here, there = await Store.open(database_url), await Store.open(database_url)
    try:
        hits = [s.rate_counters.hit("busy", 1, MINUTE, now=5) for _ in range(15) for s in (here, there)]
        counts = sorted(c.count for c in await asyncio.gather(*hits))
        # Each hit saw the counter its own hit made: 1..30, none twice, none missing.
        assert counts == list(range(1, 31))
        assert await there.rate_counters.get("busy", now=6) == Counter(30, 5 + MINUTE)
        assert await here.rate_counters.clear_all() == 1
    finally:
        await here.close()
        await there.close()
