"""NotificationStore on both backends."""

from __future__ import annotations

from factories import local_account

from storage.paging import Page
from storage.store import Store


async def test_delete_from_removes_one_senders_notifications_of_one_recipient(store: Store) -> None:
    alice, bob, carol = [await local_account(store, n) for n in ("alice", "bob", "carol")]
    await store.notifications.create(alice.id, bob.id, "follow")
    await store.notifications.create(alice.id, carol.id, "follow")
    await store.notifications.create(carol.id, bob.id, "follow")
    await store.notifications.delete_from(alice.id, bob.id)
    assert [n.from_account_id for n in await store.notifications.list(alice.id, Page(limit=9))] == [
        carol.id
    ]
    assert [n.from_account_id for n in await store.notifications.list(carol.id, Page(limit=9))] == [
        bob.id
    ]


async def test_reads_leave_out_notifications_from_suspended_accounts(store: Store) -> None:
    alice, bob, carol = [await local_account(store, n) for n in ("alice", "bob", "carol")]
    from_bob = await store.notifications.create(alice.id, bob.id, "follow", group_key="follow-1")
    await store.notifications.create(alice.id, carol.id, "follow", group_key="follow-1")
    await store.notifications.create(alice.id, bob.id, "mention")
    assert from_bob is not None
    await store.accounts.update(bob.id, suspended=True)
    notes = store.notifications
    assert [n.from_account_id for n in await notes.list(alice.id, Page(limit=9))] == [carol.id]
    assert await notes.get(alice.id, from_bob.id) is None
    assert await notes.count(alice.id) == 1
    assert await notes.count_unread(alice.id, 0) == 1
    assert await notes.count_unread_groups(alice.id, 0, ["follow"], 9) == 1
    await store.accounts.update(bob.id, suspended=False)
    assert await notes.get(alice.id, from_bob.id) == from_bob
    assert await notes.count_unread_groups(alice.id, 0, ["follow"], 9) == 2


async def test_create_joins_an_open_group_the_recipient_has(store: Store) -> None:
    alice, bob, carol, dave = [
        await local_account(store, n) for n in ("alice", "bob", "carol", "dave")
    ]
    notes = store.notifications
    first = await notes.create(alice.id, bob.id, "follow", group_key="follow-7")
    joined = await notes.create(
        alice.id,
        carol.id,
        "follow",
        group_key="follow-9",
        open_group_keys=["follow-6", "follow-7", "follow-8"],
    )
    # dave's group (follow-8) is another recipient's: alice's next follow begins its own.
    await notes.create(dave.id, bob.id, "follow", group_key="follow-8")
    began = await notes.create(
        alice.id, dave.id, "follow", group_key="follow-10", open_group_keys=["follow-8", "follow-9"]
    )
    assert first is not None and joined is not None and began is not None
    assert (first.group_key, joined.group_key, began.group_key) == (
        "follow-7",
        "follow-7",
        "follow-10",
    )
    assert await notes.count(alice.id, group_key="follow-7") == 2
