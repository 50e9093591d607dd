"""The federation workers prune finished queue rows once they are a day old."""

from __future__ import annotations

from activitypub.federation import QUEUE_RETENTION_MS
from federation.conftest import InstanceFactory
from storage.ids import now_ms
from storage.queues import NewInboxItem


async def test_prune_loop_runs_and_prunes_done_rows(instances: InstanceFactory) -> None:
    a = await instances("a")
    assert any(t.get_name() == "fedinode-prune" and not t.done() for t in a.fed._workers)
    alice = await a.user("alice")
    await a.store.queues.enqueue_inbox(
        [
            NewInboxItem(
                activity_id=f"https://r.test/a/{i}",
                payload="{}",
                peer="r.test",
                actor="https://r.test/u",
            )
            for i in range(3)
        ]
    )
    await a.fed.outbox.enqueue(
        alice, {"id": "https://x/1", "type": "Note"}, ["http://r.test/inbox"]
    )
    await a.fed.processor.run_until_idle(5)  # the payloads are malformed: dropped, done
    assert await a.store.queues.inbox_by_state() == {"done": 3}
    assert await a.fed.prune_queues() == (0, 0)
    later = now_ms() + QUEUE_RETENTION_MS + 1000
    assert await a.fed.prune_queues(later) == (3, 0)
    assert await a.store.queues.deliveries_by_state() != {}
