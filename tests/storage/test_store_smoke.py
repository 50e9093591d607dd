from storage.accounts import NewAccount
from storage.paging import Page
from storage.statuses import NewStatus
from storage.store import Store


async def test_post_and_home_timeline(store: Store) -> None:
    user, alice = await store.users.create(
        NewAccount(username="alice", domain="", uri="http://a/users/alice"), email="a@x", password_hash="h"
    )
    bob = await store.accounts.create(NewAccount(username="bob", domain="b.example", uri="https://b.example/u/bob"))
    await store.relationships.follow(alice.id, bob.id)
    s = await store.statuses.create(NewStatus(account_id=bob.id, local=False, uri="https://b.example/s/1", content="<p>hi</p>", tags=["Hello"]))
    tl = await store.statuses.home_timeline(alice.id, Page(limit=10))
    assert [x.id for x in tl] == [s.id]
    assert (await store.accounts.get(alice.id)).following_count == 1  # type: ignore[union-attr]
    stats = await store.instance_stats()
    assert stats.user_count == 1
