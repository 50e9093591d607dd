"""Done queue rows older than the cut are pruned in batches; pending and recent ones stay."""

from __future__ import annotations

from factories import local_account

from storage.ids import now_ms
from storage.queues import NewDelivery, NewInboxItem
from storage.store import Store


async def test_prune_done_rows_of_both_queues(store: Store) -> None:
    alice = await local_account(store, "alice")
    items = [
        NewInboxItem(
            activity_id=f"https://r.test/a/{i}",
            payload="{}",
            peer="r.test",
            actor="https://r.test/u",
        )
        for i in range(7)
    ]
    await store.queues.enqueue_inbox(items)
    deliveries = [
        NewDelivery(
            activity_id=f"act{i}",
            inbox_url="https://r.test/inbox",
            peer="r.test",
            sender_account_id=alice.id,
            payload="{}",
        )
        for i in range(5)
    ]
    await store.queues.enqueue_deliveries(deliveries, ttl_ms=60_000)
    claimed = await store.queues.claim_inbox(5)
    await store.queues.finish_inbox_many([i.id for i in claimed])
    sent = await store.queues.claim_deliveries(3)
    await store.queues.finish_deliveries([d.id for d in sent])

    # Nothing is old enough yet.
    assert await store.queues.prune_done(now_ms() - 86_400_000) == (0, 0)
    # A day later: only the done rows go, in batches smaller than their number.
    assert await store.queues.prune_done(now_ms() + 86_400_000, batch=2) == (5, 3)
    assert await store.queues.inbox_by_state() == {"queued": 2}
    assert await store.queues.deliveries_by_state() == {"queued": 2}
    assert await store.queues.prune_done(now_ms() + 86_400_000) == (0, 0)
