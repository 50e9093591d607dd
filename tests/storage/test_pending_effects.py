"""A status's owed side effects are stored with it, leased to one worker at a time, and gone
with it; a notification named by its key is stored once (migration 0010)."""

from __future__ import annotations

from factories import local_account, post, remote_account

from storage import effects
from storage.statuses import NewStatus
from storage.store import Store


async def test_a_mark_is_written_with_its_status_and_its_idempotency_key(store: Store) -> None:
    alice = await local_account(store, "alice")
    status = await store.statuses.create(
        NewStatus(account_id=alice.id, local=True, text="hi", pending_effects=True,
                  idempotency_key="k"),
        uri_template=f"{alice.uri}/statuses/{{id}}",
    )  # fmt: skip
    assert await store.effects.of(status.id) == [effects.CREATED]
    assert await store.statuses.idempotent_status(alice.id, "k") == status.id
    plain = await post(store, alice, "no mark")
    assert await store.effects.of(plain.id) == []


async def test_an_edit_marks_its_side_effects_and_a_delete_takes_the_marks_along(
    store: Store,
) -> None:
    alice = await local_account(store, "alice")
    status = await post(store, alice)
    await store.statuses.edit(status.id, content="<p>new</p>", text="new", spoiler_text="",
                              sensitive=False, language=None, pending_effects=True)  # fmt: skip
    assert await store.effects.of(status.id) == [effects.UPDATED]
    await store.statuses.delete(status.id)
    assert await store.effects.count() == 0


async def test_marks_are_due_after_their_grace_time_and_leased_when_taken(store: Store) -> None:
    alice = await local_account(store, "alice")
    status = await store.statuses.create(
        NewStatus(account_id=alice.id, local=True, text="hi", pending_effects=True),
        uri_template=f"{alice.uri}/statuses/{{id}}",
    )
    assert await store.effects.claim_due(10) == []  # its writer still has it
    await store.db.execute("UPDATE pending_effects SET next_attempt_at = 0")
    (taken,) = await store.effects.claim_due(10)
    assert (taken.status_id, taken.event, taken.attempts) == (status.id, effects.CREATED, 1)
    assert await store.effects.claim_due(10) == []  # leased
    await store.effects.done(status.id, effects.CREATED)
    assert await store.effects.of(status.id) == []


async def test_a_scheduled_mark_keeps_its_first_time(store: Store) -> None:
    alice = await local_account(store, "alice")
    status = await post(store, alice)
    await store.effects.schedule(status.id, effects.POLL_COUNTS, after_ms=0)
    await store.effects.schedule(status.id, effects.POLL_COUNTS, after_ms=3_600_000)
    assert [p.event for p in await store.effects.claim_due(10)] == [effects.POLL_COUNTS]


async def test_a_notification_with_a_key_is_stored_once_per_recipient(store: Store) -> None:
    alice = await local_account(store, "alice")
    bob = await local_account(store, "bob")
    mallory = await remote_account(store, "mallory")
    status = await post(store, mallory, "hi @alice @bob")
    for _ in range(2):
        for recipient in (alice, bob):
            await store.notifications.create(recipient.id, mallory.id, "mention",
                                             status_id=status.id,
                                             dedupe_key=f"mention:{status.id}")  # fmt: skip
    # Without a key (rows from before the migration, poll endings) nothing is refused.
    await store.notifications.create(alice.id, mallory.id, "follow")
    await store.notifications.create(alice.id, mallory.id, "follow")
    counts = await store.db.fetch(
        "SELECT account_id, type, COUNT(*) AS n FROM notifications"
        " GROUP BY account_id, type ORDER BY account_id, type"
    )
    assert [(int(r["account_id"]), r["type"], int(r["n"])) for r in counts] == sorted(
        [(alice.id, "follow", 2), (alice.id, "mention", 1), (bob.id, "mention", 1)]
    )
