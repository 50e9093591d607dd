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
