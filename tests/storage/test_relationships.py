from __future__ import annotations

from factories import local_account, post, remote_account

from storage.paging import Page
from storage.store import Store


async def test_follow_counts_and_inboxes(store: Store) -> None:
    alice = await local_account(store, "alice")
    r1 = await remote_account(store, "r1", "one.test")
    r2 = await remote_account(store, "r2", "one.test")
    r3 = await remote_account(store, "r3", "two.test", shared=False)
    for r in (r1, r2, r3):
        await store.relationships.follow(r.id, alice.id)
    await store.relationships.follow(r1.id, alice.id)  # again: no double count
    a = await store.accounts.get(alice.id)
    assert a is not None and a.followers_count == 3
    inboxes = sorted(await store.relationships.follower_inboxes(alice.id))
    assert inboxes == ["https://one.test/inbox", "https://two.test/users/r3/inbox"]
    followers = await store.relationships.followers(alice.id, Page(limit=10))
    assert [acc.username for _, acc in followers] == ["r3", "r2", "r1"]
    assert await store.relationships.count_with_domain("one.test") == (0, 2)
    assert await store.relationships.sever_domain("one.test") == 2
    a = await store.accounts.get(alice.id)
    assert a is not None and a.followers_count == 1


async def test_requests_and_relationships(store: Store) -> None:
    alice = await local_account(store, "alice")
    bob = await local_account(store, "bob")
    await store.relationships.request(bob.id, alice.id, uri="x")
    pending = await store.relationships.requests_for(alice.id, Page())
    assert [acc.id for _, acc in pending] == [bob.id]
    rel = (await store.relationships.relationships(bob.id, [alice.id]))[alice.id]
    assert rel.requested and rel.following is None
    await store.relationships.follow(bob.id, alice.id)
    rel = (await store.relationships.relationships(bob.id, [alice.id]))[alice.id]
    assert not rel.requested and rel.following is not None
    assert await store.relationships.requests_for(alice.id, Page()) == []


async def test_favourites_bookmarks_notifications(store: Store) -> None:
    alice = await local_account(store, "alice")
    bob = await local_account(store, "bob")
    s = await post(store, alice, "fav me")
    assert await store.interactions.favourite(bob.id, s.id)
    assert not await store.interactions.favourite(bob.id, s.id)
    assert (await store.statuses.get(s.id)).favourites_count == 1  # type: ignore[union-attr]
    assert await store.interactions.marked("favourites", bob.id, [s.id]) == {s.id}
    assert await store.interactions.mark("bookmarks", bob.id, s.id)
    assert [st.id for _, st in await store.interactions.statuses_marked("bookmarks", bob.id, Page())] == [s.id]
    n = await store.notifications.create(alice.id, bob.id, "favourite", status_id=s.id)
    assert n is not None
    assert [x.id for x in await store.notifications.list(alice.id, Page(), types=["favourite"])] == [n.id]
    assert await store.notifications.list(alice.id, Page(), exclude_types=["favourite"]) == []
    await store.relationships.block(alice.id, bob.id)
    assert await store.notifications.create(alice.id, bob.id, "mention", status_id=s.id) is None
    assert await store.interactions.unfavourite(bob.id, s.id)
    assert (await store.statuses.get(s.id)).favourites_count == 0  # type: ignore[union-attr]


async def test_relationships_with_many_accounts_carry_notes_blocks_and_mutes(store: Store) -> None:
    alice = await local_account(store, "alice")
    bob = await local_account(store, "bob")
    carol = await local_account(store, "carol")
    dave = await remote_account(store, "dave")
    await store.relationships.follow(alice.id, bob.id)
    await store.relationships.follow(carol.id, alice.id)
    await store.relationships.block(dave.id, alice.id)
    await store.relationships.mute(alice.id, carol.id)
    await store.relationships.set_note(alice.id, bob.id, "met at the meetup")
    rels = await store.relationships.relationships(alice.id, [bob.id, carol.id, dave.id, bob.id])
    assert list(rels) == [bob.id, carol.id, dave.id]
    assert rels[bob.id].following is not None and rels[bob.id].note == "met at the meetup"
    assert rels[carol.id].followed_by and rels[carol.id].muting is not None
    assert rels[dave.id].blocked_by and not rels[dave.id].blocking and rels[dave.id].note == ""
    assert await store.relationships.hidden_authors(alice.id, [bob.id, carol.id, dave.id]) == {carol.id, dave.id}
    assert await store.relationships.follows_of(alice.id, [bob.id, carol.id]) == {bob.id}
    await store.relationships.set_note(alice.id, bob.id, "")
    assert (await store.relationships.relationships(alice.id, [bob.id]))[bob.id].note == ""
