from __future__ import annotations

import pytest
from factories import local_account, post, remote_account

from storage import ids
from storage.paging import Page
from storage.statuses import NewPoll, normalize_tag
from storage.store import Store


async def test_counters_follow_posts_replies_and_reblogs(store: Store) -> None:
    alice = await local_account(store, "alice")
    bob = await local_account(store, "bob")
    root = await post(store, alice, "root")
    reply = await post(store, bob, "reply", in_reply_to_id=root.id, in_reply_to_account_id=alice.id)
    boost = await post(store, bob, "boost", reblog_of_id=root.id)
    root_now = await store.statuses.get(root.id)
    assert root_now is not None and root_now.replies_count == 1 and root_now.reblogs_count == 1
    assert (await store.accounts.get(bob.id)).statuses_count == 2  # type: ignore[union-attr]
    await store.statuses.delete(reply.id)
    await store.statuses.delete(boost.id)
    root_now = await store.statuses.get(root.id)
    assert root_now is not None and root_now.replies_count == 0 and root_now.reblogs_count == 0


async def test_local_uri_comes_from_template(store: Store) -> None:
    alice = await local_account(store, "alice")
    s = await post(store, alice, "x")
    assert s.uri == f"{alice.uri}/statuses/{s.id}"


async def test_home_timeline_visibility(store: Store) -> None:
    alice = await local_account(store, "alice")
    bob = await local_account(store, "bob")
    carol = await local_account(store, "carol")
    await store.relationships.follow(alice.id, bob.id)
    public = await post(store, bob, "public")
    private = await post(store, bob, "private", visibility="private")
    dm_other = await post(store, bob, "dm to carol", visibility="direct", mentions=[carol.id])
    dm_alice = await post(store, bob, "dm to alice", visibility="direct", mentions=[alice.id])
    stranger = await post(store, carol, "carol public")
    home = [s.id for s in await store.statuses.home_timeline(alice.id, Page(limit=20))]
    assert home == [dm_alice.id, private.id, public.id]
    assert dm_other.id not in home and stranger.id not in home
    # followers-only is invisible to a non-follower everywhere
    assert not await store.statuses.visible_to(private, carol.id)
    assert not await store.statuses.visible_to(private, None)
    assert await store.statuses.visible_to(dm_other, carol.id)
    assert not await store.statuses.visible_to(dm_other, alice.id)
    tl = await store.statuses.account_statuses(bob.id, None, Page(limit=20))
    assert [s.id for s in tl] == [public.id]


async def test_blocks_and_mutes_filter_timelines(store: Store) -> None:
    alice = await local_account(store, "alice")
    bob = await local_account(store, "bob")
    await store.relationships.follow(alice.id, bob.id)
    s = await post(store, bob, "hi")
    assert [x.id for x in await store.statuses.home_timeline(alice.id, Page())] == [s.id]
    await store.relationships.mute(alice.id, bob.id)
    assert await store.statuses.home_timeline(alice.id, Page()) == []
    await store.relationships.unmute(alice.id, bob.id)
    await store.relationships.block(bob.id, alice.id)  # blocked by bob: also unfollows
    assert await store.relationships.get_follow(alice.id, bob.id) is None
    assert await store.statuses.public_timeline(alice.id, Page()) == []
    assert [x.id for x in await store.statuses.public_timeline(None, Page())] == [s.id]


async def test_paging_has_no_gaps_or_duplicates(store: Store) -> None:
    alice = await local_account(store, "alice")
    ids = [(await post(store, alice, f"n{i}")).id for i in range(25)]
    seen: list[int] = []
    page = Page(limit=7)
    while True:
        chunk = await store.statuses.account_statuses(alice.id, alice.id, page)
        if not chunk:
            break
        seen += [s.id for s in chunk]
        page = Page(limit=7, max_id=chunk[-1].id)
    assert seen == sorted(ids, reverse=True)
    # min_id pages upward, oldest first window but returned newest first
    newer = await store.statuses.account_statuses(alice.id, alice.id, Page(limit=3, min_id=ids[5]))
    assert [s.id for s in newer] == [ids[8], ids[7], ids[6]]
    since = await store.statuses.account_statuses(
        alice.id, alice.id, Page(limit=3, since_id=ids[5])
    )
    assert [s.id for s in since] == [ids[24], ids[23], ids[22]]


async def test_tags_in_any_script(store: Store) -> None:
    alice = await local_account(store, "alice")
    s1 = await post(store, alice, "a", tags=["سلام"])
    s2 = await post(store, alice, "b", tags=["日本", "Straße"])
    assert normalize_tag("#STRASSE") == normalize_tag("strasse")
    assert [s.id for s in await store.statuses.tag_timeline(None, ["#سلام"], Page())] == [s1.id]
    assert [s.id for s in await store.statuses.tag_timeline(None, ["日本"], Page())] == [s2.id]
    assert [s.id for s in await store.statuses.tag_timeline(None, ["STRASSE"], Page())] == [
        s2.id
    ]  # ß casefolds to ss
    assert [s.id for s in await store.statuses.tag_timeline(None, ["straße"], Page())] == [s2.id]
    tags = await store.statuses.tags_for([s2.id])
    assert {t.name for t in tags[s2.id]} == {"日本", "strasse"}


async def test_edit_keeps_history(store: Store) -> None:
    alice = await local_account(store, "alice")
    s = await post(store, alice, "v1")
    edited = await store.statuses.edit(
        s.id, content="<p>v2</p>", text="v2", spoiler_text="", sensitive=True, language="en"
    )
    assert edited.content == "<p>v2</p>" and edited.edited_at is not None and edited.sensitive
    history = await store.statuses.edits(s.id)
    assert [h.text for h in history] == ["v1", "v2"]


async def test_polls_and_context(store: Store) -> None:
    alice = await local_account(store, "alice")
    bob = await remote_account(store, "bob")
    root = await post(store, alice, "q", poll=NewPoll(options=["a", "b"], expires_at=None))
    polls = await store.statuses.polls_for([root.id])
    assert polls[root.id].options == ["a", "b"] and polls[root.id].votes == [0, 0]
    r1 = await post(store, bob, "r1", in_reply_to_id=root.id)
    r2 = await post(store, alice, "r2", in_reply_to_id=r1.id)
    assert [s.id for s in await store.statuses.descendants(root, None)] == [r1.id, r2.id]
    assert [s.id for s in await store.statuses.ancestors(r2, None)] == [root.id, r1.id]


async def test_home_feed_fan_out_and_backfill(store: Store) -> None:
    alice = await local_account(store, "alice")
    bob = await local_account(store, "bob")
    remote = await remote_account(store, "rita", "remote.example")
    await store.relationships.follow(alice.id, remote.id)
    await store.relationships.follow(remote.id, bob.id)  # a remote follower gets no feed
    incoming = await post(store, remote, "from afar")
    mine = await post(store, bob, "bob's own")
    feed = {
        (int(r["account_id"]), int(r["status_id"]))
        for r in await store.db.fetch("SELECT account_id, status_id FROM home_feed")
    }
    assert feed == {(alice.id, incoming.id), (bob.id, mine.id)}
    assert [s.id for s in await store.statuses.home_timeline(alice.id, Page())] == [incoming.id]
    # A bulk load that bypassed create: the back-fill writes what create would have.
    await store.db.execute("DELETE FROM home_feed")
    await store.statuses.backfill_home_feeds()
    await store.statuses.backfill_home_feeds()  # idempotent
    assert [s.id for s in await store.statuses.home_timeline(alice.id, Page())] == [incoming.id]
    assert [s.id for s in await store.statuses.home_timeline(bob.id, Page())] == [mine.id]


async def test_back_dated_ids_of_one_millisecond_across_a_restart(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two peers' posts published in the same second, one stored before a restart and one
    after it: the second gets an id of its own instead of failing on the first's."""
    mallory = await remote_account(store, "mallory")
    eve = await remote_account(store, "eve")
    monkeypatch.setattr(ids.secrets, "randbelow", lambda n: 0)  # the same draw both times
    # A fresh process: other tests in this one back-dated many ids to that millisecond.
    monkeypatch.setattr(ids, "_backdated", {})
    published = 1_767_225_600_000
    first = await post(store, mallory, "before", created_at=published)
    monkeypatch.setattr(ids, "_backdated", {})  # what a restart forgets
    second = await post(store, eve, "after", created_at=published)
    assert first.id != second.id
    assert ids.ms_of(first.id) == ids.ms_of(second.id) == published
    assert (await store.statuses.get(second.id)).text == "after"  # type: ignore[union-attr]
