"""A user's domain blocks: stored once per domain, paged newest first, seen in relationships."""

from __future__ import annotations

from factories import local_account, remote_account

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
