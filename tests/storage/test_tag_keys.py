"""Tags keyed by policy.text.tag_key: spelling variants are one tag; old rows are re-keyed."""

from __future__ import annotations

from factories import local_account, post

from policy.text import TAG_KEY_VERSION, tag_key
from storage.paging import Page
from storage.statuses import TagName
from storage.store import Store

VARIANTS = ["كتاب", "کتاب", "كـتـاب", "ﻛﺘﺎﺏ"]


def named(display: str) -> TagName:
    return TagName(tag_key(display), display)


async def test_variant_tags_are_one_tag_timeline(store: Store) -> None:
    alice = await local_account(store, "alice")
    ids = [(await post(store, alice, f"#{v}", tags=[named(v)])).id for v in VARIANTS]
    for v in VARIANTS:
        found = await store.statuses.tag_timeline(None, [tag_key(v)], Page())
        assert [s.id for s in found] == ids[::-1]
    tag = await store.statuses.tag_by_name(tag_key("#کتاب"))
    assert tag is not None and tag.name == "کتاب"
    assert tag.display_name == "كتاب"  # as the first author wrote it
    tags = await store.statuses.tags_for(ids)
    assert {t.id for s in ids for t in tags[s]} == {tag.id}
    assert [t.id for t in await store.tags.search(tag_key("كت"))] == [tag.id]
    assert (await store.tags.get_or_create("كـتـاب", key=tag_key("كـتـاب"))).id == tag.id


async def test_one_status_with_two_spellings_has_one_tag(store: Store) -> None:
    alice = await local_account(store, "alice")
    s = await post(store, alice, "#Café #cafe", tags=[named("Café"), named("cafe")])
    tags = (await store.statuses.tags_for([s.id]))[s.id]
    assert [(t.name, t.display_name) for t in tags] == [("cafe", "Café")]


async def test_rekey_merges_tags_stored_under_old_keys(store: Store) -> None:
    alice = await local_account(store, "alice")
    bob = await local_account(store, "bob")
    # Bare names: stored as before the fold (NFC + case-fold only), one tag per spelling.
    first = await post(store, alice, "a", tags=["كتاب"])
    second = await post(store, bob, "b", tags=["کتاب", "Café"])
    third = await post(store, bob, "c", tags=["كـتـاب", "cafe"])
    both = await post(store, bob, "d", tags=["كتاب", "کتاب"])  # two rows for one status
    arabic = await store.tags.get("كتاب")
    persian = await store.tags.get("کتاب")
    assert arabic is not None and persian is not None and arabic.id != persian.id
    await store.tags.follow(alice.id, arabic.id)
    await store.tags.follow(alice.id, persian.id)
    await store.tags.follow(bob.id, persian.id)
    await store.tags.feature_tag(bob.id, "کتاب")

    assert await store.tags.rekey(tag_key, TAG_KEY_VERSION) == 3
    assert await store.tags.rekey(tag_key, TAG_KEY_VERSION) == 0  # once per version

    merged = await store.tags.get(tag_key("کتاب"))
    assert merged is not None and merged.id == arabic.id and merged.display_name == "كتاب"
    found = await store.statuses.tag_timeline(None, [tag_key("كـتـاب")], Page())
    assert [s.id for s in found] == [both.id, third.id, second.id, first.id]
    assert [t.id for t in (await store.statuses.tags_for([both.id]))[both.id]] == [merged.id]
    assert await store.db.fetchval("SELECT COUNT(*) FROM status_tags") == 6
    cafe = await store.tags.get("cafe")
    assert cafe is not None and cafe.display_name == "Café"
    assert [s.id for s in await store.statuses.tag_timeline(None, ["cafe"], Page())] == [
        third.id,
        second.id,
    ]
    assert await store.tags.following(alice.id, [merged.id]) == {merged.id}
    assert await store.tags.following(bob.id, [merged.id]) == {merged.id}
    featured = await store.tags.featured_tags(bob.id)
    assert [(f.tag.id, f.statuses_count) for f in featured] == [(merged.id, 3)]
    assert await store.db.fetchval("SELECT COUNT(*) FROM tags") == 2
