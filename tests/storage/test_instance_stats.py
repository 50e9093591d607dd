"""Instance figures: counted from the tables, then served from memory for a minute."""

from __future__ import annotations

from factories import local_account

from storage import store as store_module
from storage.store import Store


async def test_figures_are_counted_once_a_minute(store: Store) -> None:
    await local_account(store, "alice")
    first = await store.instance_stats()
    assert first.user_count == 1
    await local_account(store, "bob")
    # Within the minute the same figures come back without counting again.
    assert await store.instance_stats() is first
    # A minute later they are counted again and include bob.
    assert store._stats is not None
    store._stats = (store._stats[0] - store_module.STATS_MAX_AGE_MS, first)
    again = await store.instance_stats()
    assert again.user_count == 2
