"""The home timeline's block and mute rules, which look at a row only when the viewer has
blocks or mutes at all: every direction and expiry still applies (both backends)."""

from __future__ import annotations

from storage.ids import now_ms
from storage.paging import Page
from storage.store import Store
from tests.storage.factories import local_account, post


async def _home(store: Store, viewer_id: int) -> list[int]:
    entries = [e.id for e in await store.timelines.home_entries(viewer_id, Page())]
    statuses = [s.id for s in await store.statuses.home_timeline(viewer_id, Page())]
    assert entries == statuses
    return entries


async def test_blocks_either_way_and_live_mutes_hide_a_followed_tag_post(store: Store) -> None:
    alice = await local_account(store, "alice")
    bob = await local_account(store, "bob")
    carol = await local_account(store, "carol")
    tag = await store.tags.get_or_create("cats")
    await store.tags.follow(alice.id, tag.id)
    s = await post(store, bob, "a cat", tags=["cats"], visibility="public")
    assert await _home(store, alice.id) == [s.id]

    # Blocks and mutes between others do not hide it.
    await store.relationships.block(carol.id, bob.id)
    await store.relationships.block(alice.id, carol.id)
    await store.relationships.mute(alice.id, carol.id)
    assert await _home(store, alice.id) == [s.id]

    await store.relationships.block(alice.id, bob.id)
    assert await _home(store, alice.id) == []
    await store.relationships.unblock(alice.id, bob.id)
    assert await _home(store, alice.id) == [s.id]

    await store.relationships.block(bob.id, alice.id)
    assert await _home(store, alice.id) == []
    await store.relationships.unblock(bob.id, alice.id)
    assert await _home(store, alice.id) == [s.id]

    await store.relationships.mute(alice.id, bob.id, expires_at=now_ms() - 1000)
    assert await _home(store, alice.id) == [s.id]  # the mute has run out
    await store.relationships.mute(alice.id, bob.id, expires_at=now_ms() + 60_000)
    assert await _home(store, alice.id) == []
