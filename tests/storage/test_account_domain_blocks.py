"""A user's domain blocks: stored once per domain, paged newest first, seen in relationships."""

from __future__ import annotations

from factories import local_account, post, remote_account

from storage.paging import Page
from storage.store import Store


async def test_block_page_and_unblock(store: Store) -> None:
    alice = await local_account(store, "alice")
    bob = await local_account(store, "bob")
    blocks = store.account_domain_blocks
    assert await blocks.block(alice.id, "one.test")
    assert not await blocks.block(alice.id, "one.test")  # again: still one
    for domain in ("two.test", "three.test"):
        await blocks.block(alice.id, domain)
    await blocks.block(bob.id, "four.test")
    newest = await blocks.page(alice.id, Page(limit=2))
    assert [d for _, d in newest] == ["three.test", "two.test"]
    older = await blocks.page(alice.id, Page(limit=2, max_id=newest[-1][0]))
    assert [d for _, d in older] == ["one.test"]
    newer = await blocks.page(alice.id, Page(limit=1, min_id=older[0][0]))
    assert [d for _, d in newer] == ["two.test"]
    assert await blocks.blocked_of(alice.id, ["one.test", "four.test", ""]) == {"one.test"}
    assert await blocks.unblock(alice.id, "two.test")
    assert not await blocks.unblock(alice.id, "two.test")
    assert [d for _, d in await blocks.page(alice.id, Page())] == ["three.test", "one.test"]


async def test_relationships_say_domain_blocking(store: Store) -> None:
    alice = await local_account(store, "alice")
    bob = await local_account(store, "bob")
    r1 = await remote_account(store, "r1", "one.test")
    r2 = await remote_account(store, "r2", "two.test")
    await store.account_domain_blocks.block(alice.id, "one.test")
    rels = await store.relationships.relationships(alice.id, [r1.id, r2.id, bob.id])
    assert {t for t, rel in rels.items() if rel.domain_blocking} == {r1.id}
    # The block is the viewer's own: another viewer does not see it.
    rels = await store.relationships.relationships(bob.id, [r1.id])
    assert not rels[r1.id].domain_blocking


async def test_notifications_from_a_blocked_domain_are_neither_made_nor_read(
    store: Store,
) -> None:
    alice = await local_account(store, "alice")
    bob = await local_account(store, "bob")
    dave = await remote_account(store, "dave", "one.test")
    erin = await remote_account(store, "erin", "two.test")
    notes = store.notifications
    from_dave = await notes.create(alice.id, dave.id, "follow", group_key="follow-1")
    await notes.create(alice.id, erin.id, "follow", group_key="follow-1")
    await notes.create(bob.id, dave.id, "mention")
    assert from_dave is not None
    await store.account_domain_blocks.block(alice.id, "one.test")
    assert await notes.create(alice.id, dave.id, "mention") is None
    assert [n.from_account_id for n in await notes.list(alice.id, Page(limit=9))] == [erin.id]
    assert await notes.get(alice.id, from_dave.id) is None
    assert await notes.count(alice.id) == 1
    assert await notes.count_unread(alice.id, 0) == 1
    assert await notes.count_unread_groups(alice.id, 0, [], 9) == 1
    # Another recipient's block is not alice's, and alice's is not bob's.
    assert [n.from_account_id for n in await notes.list(bob.id, Page())] == [dave.id]
    assert await notes.create(bob.id, dave.id, "favourite") is not None
    await store.account_domain_blocks.unblock(alice.id, "one.test")
    assert await notes.get(alice.id, from_dave.id) == from_dave
    assert await notes.count(alice.id) == 2


async def test_followers_and_requesters_from_a_domain(store: Store) -> None:
    alice = await local_account(store, "alice")
    bob = await local_account(store, "bob")
    r1 = await remote_account(store, "r1", "one.test")
    r2 = await remote_account(store, "r2", "one.test")
    r3 = await remote_account(store, "r3", "two.test")
    await store.relationships.follow(r1.id, alice.id)
    await store.relationships.follow(r3.id, alice.id)
    await store.relationships.follow(r1.id, bob.id)
    await store.relationships.request(r2.id, alice.id, uri="x")
    followers, requesters = await store.relationships.from_domain(alice.id, "one.test")
    assert ([a.id for a in followers], [a.id for a in requesters]) == ([r1.id], [r2.id])
    assert not await store.relationships.blocks_domain_of(alice.id, r1.id)
    await store.account_domain_blocks.block(alice.id, "one.test")
    assert await store.relationships.blocks_domain_of(alice.id, r1.id)
    assert not await store.relationships.blocks_domain_of(alice.id, r3.id)
    assert not await store.relationships.blocks_domain_of(bob.id, r1.id)


async def test_home_rule_leaves_out_a_followed_tag_post_from_there(store: Store) -> None:
    alice = await local_account(store, "alice")
    dave = await remote_account(store, "dave", "one.test")
    erin = await remote_account(store, "erin", "one.test")
    tag = await store.tags.get_or_create("cats")
    await store.tags.follow(alice.id, tag.id)
    await store.relationships.follow(alice.id, dave.id)
    followed = await post(store, dave, "dave's cat", tags=["cats"])
    other = await post(store, erin, "erin's cat", tags=["cats"])

    async def home() -> list[int]:
        entries = [e.id for e in await store.timelines.home_entries(alice.id, Page())]
        statuses = [s.id for s in await store.statuses.home_timeline(alice.id, Page())]
        assert entries == statuses
        return entries

    assert await home() == [other.id, followed.id]
    await store.account_domain_blocks.block(alice.id, "one.test")
    assert await home() == [followed.id]
    public = await store.statuses.public_timeline(alice.id, Page())
    assert [s.id for s in public] == []
