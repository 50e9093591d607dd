"""Leases name their owner; a process that starts again takes back what it held at once."""

from __future__ import annotations

from factories import local_account

from storage.ids import now_ms
from storage.models import QueueState
from storage.queues import LeaseOwner, NewDelivery, NewInboxItem
from storage.store import Store


def _inbox(n: int) -> list[NewInboxItem]:
    return [
        NewInboxItem(f"https://r.test/a/{i}", "{}", "r.test", "https://r.test/u") for i in range(n)
    ]


async def _deliveries(store: Store, n: int) -> None:
    alice = await local_account(store, "alice")
    rows = [NewDelivery("https://local.test/act/1", f"https://r{i}.test/inbox", f"r{i}.test", alice.id, "{}")
            for i in range(n)]  # fmt: skip
    assert await store.queues.enqueue_deliveries(rows, ttl_ms=86_400_000) == n


async def test_claimed_rows_carry_their_owner_and_finishing_clears_it(store: Store) -> None:
    store.queues.configure_leases(LeaseOwner("host-a#0", "boot-1"))
    await store.queues.enqueue_inbox(_inbox(2))
    await _deliveries(store, 2)
    items = await store.queues.claim_inbox(10)
    sent = await store.queues.claim_deliveries(10)
    assert {i.state for i in items} == {QueueState.PROCESSING}
    assert {d.state for d in sent} == {QueueState.SENDING}
    assert isinstance(items[0].state, QueueState) and isinstance(sent[0].state, QueueState)
    assert {i.lease_owner for i in items} == {d.lease_owner for d in sent} == {"host-a#0"}
    await store.queues.finish_inbox_many([i.id for i in items])
    await store.queues.finish_deliveries([d.id for d in sent])
    owners = await store.db.fetch(
        "SELECT lease_owner, lease_boot FROM inbox_queue UNION ALL"
        " SELECT lease_owner, lease_boot FROM delivery_queue"
    )
    assert [(r["lease_owner"], r["lease_boot"]) for r in owners] == [(None, None)] * 4
    assert await store.queues.deliveries_by_state() == {QueueState.DONE: 2}


async def test_a_restarted_process_takes_back_its_leases_at_once(store: Store) -> None:
    queues = store.queues
    queues.configure_leases(LeaseOwner("host-a#0", "boot-1"), inbox_lease_ms=600_000,
                            delivery_lease_ms=600_000)  # fmt: skip
    await queues.enqueue_inbox(_inbox(3))
    await _deliveries(store, 4)
    held_items = await queues.claim_inbox(10)
    held = await queues.claim_deliveries(10)
    # One delivery had failed before: it goes back as a retry, with its attempts kept.
    await queues.retry_delivery(held[0].id, "timeout", retry_at=now_ms() - 1, dead=False)
    [again] = await queues.claim_deliveries(10)
    assert again.attempts == 1
    # Another process holds rows too; its leases are not ours to take.
    queues.configure_leases(LeaseOwner("host-b#1", "boot-9"))
    await queues.enqueue_inbox(
        [NewInboxItem("https://r.test/other", "{}", "r.test", "https://r.test/u")]
    )
    [other] = await queues.claim_inbox(10)

    # host-a#0 dies (kill -9) and starts again with a new boot token: nothing is due yet,
    # every lease runs for ten more minutes.
    queues.configure_leases(LeaseOwner("host-a#0", "boot-2"))
    assert await queues.claim_inbox(10) == [] and await queues.claim_deliveries(10) == []
    taken = await queues.take_back_leases()
    assert (taken.inbox, taken.deliveries) == (3, 4)
    states = await queues.deliveries_by_state()
    assert states == {QueueState.QUEUED: 3, QueueState.RETRY: 1}
    assert await queues.inbox_by_state() == {QueueState.QUEUED: 3, QueueState.PROCESSING: 1}
    items = await queues.claim_inbox(10)
    rows = await queues.claim_deliveries(10)
    assert {i.id for i in items} == {i.id for i in held_items}
    assert {d.id for d in rows} == {d.id for d in held}
    assert {d.id: d.attempts for d in rows}[again.id] == 1
    assert {i.lease_owner for i in items} == {"host-a#0"}
    # Taking back again finds nothing: the rows are leased under the new boot token.
    assert (await queues.take_back_leases()) == type(taken)(0, 0)
    row = await store.db.fetchrow(
        "SELECT state, lease_owner FROM inbox_queue WHERE id = $1", other.id
    )
    assert row is not None and (row["state"], row["lease_owner"]) == ("processing", "host-b#1")


async def test_lease_lengths_come_from_the_queue_settings(store: Store) -> None:
    store.queues.configure_leases(inbox_lease_ms=-1, delivery_lease_ms=-1)
    await store.queues.enqueue_inbox(_inbox(1))
    await _deliveries(store, 1)
    assert len(await store.queues.claim_inbox(5)) == 1
    assert len(await store.queues.claim_deliveries(5)) == 1
    # The leases ran out at once: anyone may take the rows again.
    assert len(await store.queues.claim_inbox(5)) == 1
    assert len(await store.queues.claim_deliveries(5)) == 1
    store.queues.configure_leases(inbox_lease_ms=60_000, delivery_lease_ms=60_000)
    assert len(await store.queues.claim_inbox(5)) == 1
    assert await store.queues.claim_inbox(5) == []


async def test_leases_of_a_process_whose_slot_is_free_are_taken_back(database_url: str) -> None:
    """A process that died and came back under another id slot (or not at all)."""
    first = await Store.open(database_url)
    second = await Store.open(database_url, run_migrations=False)
    try:
        await first.claim_process_slot()
        await second.claim_process_slot()
        await first.queues.enqueue_inbox(_inbox(2))
        assert len(await first.queues.claim_inbox(10)) == 2
        # While the first process lives, its leases are its own.
        assert await second.take_back_leases() == type(await second.take_back_leases())(0, 0)
        await first.close()  # its slot is free: as after a kill -9
        taken = await second.take_back_leases()
        assert (taken.inbox, taken.deliveries) == (2, 0)
        assert len(await second.queues.claim_inbox(10)) == 2
    finally:
        if first.slot is not None:
            await first.close()
        await second.close()


async def test_a_process_under_a_new_name_takes_back_what_its_slot_held(database_url: str) -> None:
    first = await Store.open(database_url)
    try:
        claim = await first.claim_process_slot()
        await first.queues.enqueue_inbox(_inbox(1))
        assert len(await first.queues.claim_inbox(10)) == 1
    finally:
        await first.close()
    again = await Store.open(database_url, run_migrations=False)
    try:
        assert (await again.claim_process_slot(worker_name="renamed")).slot == claim.slot
        taken = await again.take_back_leases()
        assert (taken.inbox, taken.deliveries) == (1, 0)
    finally:
        await again.close()
