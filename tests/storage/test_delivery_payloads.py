"""A fan-out's payload is stored once, not in each delivery row; every claimed row still
carries it (rows of earlier versions with their own payload too), and it is dropped once
no row will send it."""

from __future__ import annotations

from factories import local_account

from storage.ids import new_id, now_ms
from storage.queues import NewDelivery
from storage.store import Store

DAY_MS = 86_400_000


async def payload_rows(store: Store) -> int:
    return int(await store.db.fetchval("SELECT count(*) FROM delivery_payloads"))


async def test_one_payload_row_for_a_fan_out_and_every_claim_carries_it(store: Store) -> None:
    alice = await local_account(store, "alice")
    rows = [NewDelivery("https://local.test/act/1", f"https://r{i}.test/inbox", f"r{i}.test",
                        alice.id, '{"n":1}') for i in range(300)]  # fmt: skip
    rows.append(NewDelivery("https://local.test/act/2", "https://r0.test/inbox", "r0.test",
                            alice.id, '{"n":2}'))  # fmt: skip
    assert await store.queues.enqueue_deliveries(rows, ttl_ms=DAY_MS) == 301
    assert await payload_rows(store) == 2
    claimed = await store.queues.claim_deliveries(200)
    claimed += await store.queues.claim_deliveries(200)
    assert len(claimed) == 301
    assert {d.payload for d in claimed if d.activity_id.endswith("/1")} == {'{"n":1}'}
    assert {d.payload for d in claimed if d.activity_id.endswith("/2")} == {'{"n":2}'}


async def test_a_row_with_its_own_payload_is_still_delivered_with_it(store: Store) -> None:
    alice = await local_account(store, "alice")
    now = now_ms()
    await store.db.execute(
        "INSERT INTO delivery_queue (id, activity_id, inbox_url, peer, sender_account_id,"
        " payload, state, attempts, next_attempt_at, created_at, expires_at)"
        " VALUES ($1, 'https://local.test/act/old', 'https://r.test/inbox', 'r.test', $2,"
        " '{\"old\":true}', 'queued', 0, $3, $3, $4)",
        new_id(),
        alice.id,
        now,
        now + DAY_MS,
    )
    [claimed] = await store.queues.claim_deliveries(10)
    assert claimed.payload == '{"old":true}'


async def test_prune_drops_a_payload_once_no_row_will_send_it(store: Store) -> None:
    alice = await local_account(store, "alice")
    sent = [NewDelivery("https://local.test/act/1", f"https://r{i}.test/inbox", f"r{i}.test",
                        alice.id, '{"n":1}') for i in range(3)]  # fmt: skip
    waiting = NewDelivery("https://local.test/act/2", "https://r0.test/inbox", "r0.test",
                          alice.id, '{"n":2}')  # fmt: skip
    await store.queues.enqueue_deliveries(sent, ttl_ms=DAY_MS)
    await store.queues.finish_deliveries([d.id for d in await store.queues.claim_deliveries(3)])
    await store.queues.enqueue_deliveries([waiting], ttl_ms=DAY_MS)
    # A repeat that adds no row leaves a payload no row uses.
    assert await store.queues.enqueue_deliveries(sent[:1], ttl_ms=DAY_MS) == 0
    assert await payload_rows(store) == 3
    # Too recent to go yet.
    await store.queues.prune_done(now_ms() - DAY_MS)
    assert await payload_rows(store) == 3
    await store.queues.prune_done(now_ms() + DAY_MS)
    assert await payload_rows(store) == 1
    [pending] = await store.queues.claim_deliveries(10)
    assert pending.payload == '{"n":2}'
