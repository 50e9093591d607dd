"""Lists, markers, filters, tags, conversations, moderation and search rows, on both backends."""

from __future__ import annotations

from factories import local_account, post, remote_account

from storage.filters import KeywordChange
from storage.ids import now_ms
from storage.moderation import AccountFilter, ReportFilter
from storage.paging import Page
from storage.store import Store


async def test_list_timeline_members_visibility_and_replies_policy(store: Store) -> None:
    alice = await local_account(store, "alice")
    bob = await local_account(store, "bob")
    carol = await local_account(store, "carol")
    dave = await local_account(store, "dave")
    await store.relationships.follow(alice.id, bob.id)
    lst = await store.lists.create(alice.id, "friends")
    await store.lists.add_accounts(lst.id, [bob.id, carol.id])
    assert [a.id for a in await store.lists.accounts(lst.id, Page(limit=10))] == [carol.id, bob.id]

    public = await post(store, bob, "bob public")
    private_carol = await post(store, carol, "carol private", visibility="private")  # alice doesn't follow carol
    reply_to_dave = await post(store, bob, "to dave", in_reply_to_id=public.id, in_reply_to_account_id=dave.id)
    reply_to_carol = await post(store, bob, "to carol", in_reply_to_account_id=carol.id, in_reply_to_id=private_carol.id)
    self_reply = await post(store, bob, "self", in_reply_to_id=public.id, in_reply_to_account_id=bob.id)
    await post(store, dave, "not a member")

    ids = [s.id for s in await store.lists.timeline(lst, Page(limit=20))]
    assert ids == [self_reply.id, reply_to_carol.id, public.id]
    await store.lists.update(lst.id, replies_policy="none")
    lst = await store.lists.get(alice.id, lst.id)  # type: ignore[assignment]
    assert [s.id for s in await store.lists.timeline(lst, Page(limit=20))] == [self_reply.id, public.id]
    await store.lists.update(lst.id, replies_policy="followed")
    lst = await store.lists.get(alice.id, lst.id)  # type: ignore[assignment]
    assert reply_to_dave.id not in [s.id for s in await store.lists.timeline(lst, Page(limit=20))]

    assert [m.list_id for m in await store.lists.memberships(bob.id)] == [lst.id]
    assert await store.lists.get(bob.id, lst.id) is None
    await store.lists.remove_from_owner_lists(alice.id, bob.id)
    assert [a.id for a in await store.lists.accounts(lst.id, Page(limit=10))] == [carol.id]


async def test_markers_version_increments(store: Store) -> None:
    alice = await local_account(store, "alice")
    first = await store.markers.set(alice.id, "home", "100")
    second = await store.markers.set(alice.id, "home", "200")
    assert (first.version, second.version, second.last_read_id) == (1, 2, "200")
    got = await store.markers.get(alice.id, ["home", "notifications"])
    assert list(got) == ["home"]


async def test_filters_keywords_statuses_and_expiry(store: Store) -> None:
    alice = await local_account(store, "alice")
    f = await store.filters.create(
        alice.id, title="spoilers", contexts=["home"], action="warn", expires_at=None,
        keywords=[("dune", True), ("سلام", False)],
    )
    assert [(k.keyword, k.whole_word) for k in f.keywords] == [("dune", True), ("سلام", False)]
    dune = f.keywords[0]
    f2 = await store.filters.update(
        alice.id, f.id, title="spoilers!", action="hide",
        keyword_changes=[KeywordChange(id=dune.id, destroy=True), KeywordChange(keyword="arrakis", whole_word=False)],
    )
    assert f2 is not None and f2.title == "spoilers!" and f2.action == "hide" and f2.contexts == ["home"]
    assert sorted(k.keyword for k in f2.keywords) == ["arrakis", "سلام"]
    await store.filters.update(alice.id, f.id, expires_at=now_ms() - 1)
    assert await store.filters.all(alice.id, active_at=now_ms()) == []
    await store.filters.update(alice.id, f.id, expires_at=None)
    assert len(await store.filters.all(alice.id, active_at=now_ms())) == 1

    bob = await local_account(store, "bob")
    status = await post(store, bob, "x")
    fs = await store.filters.add_status(f.id, status.id)
    assert await store.filters.status(bob.id, fs.id) is None
    assert (await store.filters.status(alice.id, fs.id)) == fs
    assert await store.filters.get(bob.id, f.id) is None
    assert await store.filters.delete(alice.id, f.id)
    assert await store.filters.statuses([f.id]) == []


async def test_tags_follow_search_and_history(store: Store) -> None:
    alice = await local_account(store, "alice")
    await post(store, alice, "#日本 one", tags=["日本"])
    await post(store, alice, "#日本 two", tags=["日本"])
    tag = await store.tags.get_or_create("日本")
    assert tag.name == "日本"
    assert [t.name for t in await store.tags.search("日")] == ["日本"]
    history = (await store.tags.history([tag.id]))[tag.id]
    assert len(history) == 7 and history[0].uses == 2 and history[0].accounts == 1
    await store.tags.follow(alice.id, tag.id)
    assert await store.tags.following(alice.id, [tag.id]) == {tag.id}
    assert [t.id for t in await store.tags.followed(alice.id, Page(limit=5))] == [tag.id]
    assert await store.tags.local_followers([tag.id]) == {alice.id}
    await store.tags.unfollow(alice.id, tag.id)
    assert await store.tags.following(alice.id, [tag.id]) == set()


async def test_conversations_unread_read_remove(store: Store) -> None:
    alice = await local_account(store, "alice")
    bob = await local_account(store, "bob")
    first = await post(store, bob, "psst", visibility="direct", mentions=[alice.id], conversation="c1")
    convs = await store.conversations.page(alice.id, Page(limit=10))
    assert len(convs) == 1 and convs[0].unread and convs[0].last_status_id == first.id
    assert not (await store.conversations.page(bob.id, Page(limit=10)))[0].unread
    await store.conversations.mark_read(alice.id, convs[0].id, first.id)
    assert not (await store.conversations.page(alice.id, Page(limit=10)))[0].unread
    await store.conversations.remove(alice.id, convs[0].id, first.id)
    assert await store.conversations.page(alice.id, Page(limit=10)) == []
    second = await post(store, bob, "again", visibility="direct", mentions=[alice.id], conversation="c1")
    again = await store.conversations.page(alice.id, Page(limit=10))
    assert [(c.id, c.last_status_id, c.unread) for c in again] == [(convs[0].id, second.id, True)]
    assert sorted(await store.conversations.participants("c1")) == sorted([alice.id, bob.id])
    carol = await local_account(store, "carol")
    assert await store.conversations.page(carol.id, Page(limit=10)) == []


async def test_moderation_accounts_and_reports(store: Store) -> None:
    alice = await local_account(store, "alice")
    bob = await local_account(store, "bob")
    remote = await remote_account(store, "eve")
    await store.accounts.update(remote.id, silenced=True)
    user = await store.users.by_account(bob.id)
    assert user is not None
    await store.users.update(user.id, approved=False)

    local = await store.moderation.accounts(AccountFilter(origin="local"), Page(limit=10))
    assert {r.account.id for r in local} == {alice.id, bob.id}
    pending = await store.moderation.accounts(AccountFilter(status="pending"), Page(limit=10))
    assert [r.account.id for r in pending] == [bob.id] and pending[0].user is not None
    silenced = await store.moderation.accounts(AccountFilter(status="silenced"), Page(limit=10))
    assert [(r.account.id, r.user) for r in silenced] == [(remote.id, None)]
    await store.moderation.set_sensitized(remote.id, True)
    row = await store.moderation.account(remote.id)
    assert row is not None and row.sensitized

    report = await store.reports.create(alice.id, remote.id, comment="spam")
    open_reports = await store.moderation.reports(ReportFilter(), Page(limit=10))
    assert [r.report.id for r in open_reports] == [report.id]
    await store.moderation.assign(report.id, bob.id)
    resolved = await store.moderation.resolve(report.id, bob.id)
    assert resolved is not None and resolved.action_taken_by_account_id == bob.id
    assert resolved.report.assigned_account_id == bob.id and resolved.report.action_taken_at
    assert await store.moderation.reports(ReportFilter(), Page(limit=10)) == []
    assert len(await store.moderation.reports(ReportFilter(resolved=True), Page(limit=10))) == 1
    reopened = await store.moderation.resolve(report.id, None)
    assert reopened is not None and reopened.report.action_taken_at is None
    await store.moderation.log(bob.id, "silence", target_account_id=remote.id)
    assert await store.moderation.actions_on(remote.id) == [(bob.id, "silence", "")]


async def test_search_candidates_respect_visibility_in_any_script(store: Store) -> None:
    alice = await local_account(store, "alice")
    bob = await local_account(store, "bob")
    fa = await post(store, bob, "سلام دنیا")
    ja = await post(store, bob, "日本語のテキスト", visibility="private")
    got = await store.search.status_candidates(alice.id, ["دنیا"])
    assert [s.id for s in got] == [fa.id]
    assert await store.search.status_candidates(alice.id, ["日本語"]) == []
    await store.relationships.follow(alice.id, bob.id)
    assert [s.id for s in await store.search.status_candidates(alice.id, ["日本語"])] == [ja.id]
    assert await store.search.status_candidates(alice.id, ["100%"]) == []


async def test_suggestions(store: Store) -> None:
    alice = await local_account(store, "alice")
    bob = await local_account(store, "bob")
    carol = await local_account(store, "carol")
    dave = await local_account(store, "dave")
    await store.relationships.follow(alice.id, bob.id)
    await store.relationships.follow(bob.id, carol.id)
    assert [a.id for a in await store.search.friends_of_friends(alice.id, limit=5)] == [carol.id]
    popular = [a.id for a in await store.search.popular_local(alice.id, limit=5)]
    assert bob.id not in popular and alice.id not in popular and set(popular) == {carol.id, dave.id}
    await store.relationships.block(alice.id, carol.id)
    assert await store.search.friends_of_friends(alice.id, limit=5) == []
    await store.search.dismiss_suggestion(alice.id, dave.id)
    assert await store.search.popular_local(alice.id, limit=5) == []
