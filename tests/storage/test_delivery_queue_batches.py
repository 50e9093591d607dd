"""A fan-out goes into the delivery queue in a few statements, and a batch of outcomes is
written in one transaction: sent rows done, failed ones waiting for their retry or dead."""

from __future__ import annotations

from factories import local_account

from storage.ids import now_ms
from storage.models import QueueState
from storage.queues import DeliveryRetry, NewDelivery
from storage.store import Store

DAY_MS = 86_400_000


async def test_a_large_fan_out_of_two_activities_keeps_each_rows_payload(store: Store) -> None:
    alice = await local_account(store, "alice")
    bob = await local_account(store, "bob")
    first = [NewDelivery("https://local.test/act/1", f"https://r{i}.test/inbox", f"r{i}.test",
                         alice.id, '{"n":1}') for i in range(600)]  # fmt: skip
    second = [NewDelivery("https://local.test/act/2", f"https://r{i}.test/inbox", f"r{i}.test",
                          bob.id, '{"n":2}') for i in range(0, 600, 2)]  # fmt: skip
    mixed = [row for pair in zip(first[:300], second, strict=True) for row in pair] + first[300:]
    assert await store.queues.enqueue_deliveries(mixed, ttl_ms=DAY_MS) == 900
    # The same (activity, inbox) again is dropped, a new inbox is added.
    again = [*first[:10], NewDelivery("https://local.test/act/1", "https://new.test/inbox",
                                      "new.test", alice.id, '{"n":1}')]  # fmt: skip
    assert await store.queues.enqueue_deliveries(again, ttl_ms=DAY_MS) == 1
    ones = await store.queues.deliveries_for("https://local.test/act/1")
    twos = await store.queues.deliveries_for("https://local.test/act/2")
    assert len(ones) == 601 and len(twos) == 300
    assert {(d.payload, d.sender_account_id) for d in ones} == {('{"n":1}', alice.id)}
    assert {(d.payload, d.sender_account_id) for d in twos} == {('{"n":2}', bob.id)}
    assert {d.inbox_url for d in twos} == {f"https://r{i}.test/inbox" for i in range(0, 600, 2)}
    assert all(d.peer == d.inbox_url.split("/")[2] for d in ones + twos)
    assert {d.state for d in ones + twos} == {QueueState.QUEUED}
    assert all(d.expires_at - d.created_at == DAY_MS for d in ones + twos)


async def test_one_call_records_sent_retried_and_dead_rows(store: Store) -> None:
    alice = await local_account(store, "alice")
    rows = [NewDelivery("https://local.test/act/1", f"https://r{i}.test/inbox", f"r{i}.test",
                        alice.id, "{}") for i in range(8)]  # fmt: skip
    await store.queues.enqueue_deliveries(rows, ttl_ms=DAY_MS)
    claimed = await store.queues.claim_deliveries(10)
    ids = [d.id for d in claimed]
    later = now_ms() + 60_000
    await store.queues.record_deliveries(
        ids[:5],
        [DeliveryRetry(ids[5], "peer answered 503", later, False),
         DeliveryRetry(ids[6], "peer answered 410", later, True)],
    )  # fmt: skip
    found = {d.id: d for d in await store.queues.deliveries_for("https://local.test/act/1")}
    assert [found[i].state for i in ids] == [QueueState.DONE] * 5 + [
        QueueState.RETRY, QueueState.DEAD, QueueState.SENDING]  # fmt: skip
    assert {found[i].payload for i in ids[:5]} == {""}
    assert (found[ids[5]].attempts, found[ids[5]].last_error) == (1, "peer answered 503")
    assert found[ids[5]].next_attempt_at == later
    assert found[ids[6]].last_error == "peer answered 410"
    # The leases of the recorded rows are released; the row not recorded keeps its lease.
    assert [found[i].lease_owner is None for i in ids] == [True] * 7 + [False]
    await store.queues.record_deliveries([], [])  # nothing to write: no statement
    assert not await store.queues.deliveries_due(now_ms())


async def test_claimable_says_whether_a_claim_would_find_a_row(store: Store) -> None:
    alice = await local_account(store, "alice")
    assert not await store.queues.deliveries_claimable(now_ms())
    await store.queues.enqueue_deliveries(
        [NewDelivery("https://local.test/act/1", "https://r.test/inbox", "r.test", alice.id, "{}")],
        ttl_ms=DAY_MS,
    )
    assert await store.queues.deliveries_claimable(now_ms())
    [row] = await store.queues.claim_deliveries(10, lease_ms=60_000)
    assert not await store.queues.deliveries_claimable(now_ms())  # leased to us
    # A lease that ran out (its holder died) makes the row claimable again.
    assert await store.queues.deliveries_claimable(now_ms() + 61_000)
    assert [d.id for d in await store.queues.claim_deliveries(10, lease_ms=-1)] == []
    await store.queues.record_deliveries([row.id])
    assert not await store.queues.deliveries_claimable(now_ms() + 61_000)
