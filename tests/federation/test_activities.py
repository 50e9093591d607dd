"""Every common activity between real instances on loopback (SQLite and PostgreSQL mixed)."""

from __future__ import annotations

import asyncio

from federation.conftest import Instance, InstanceFactory, eventually
from policy.settings import settings_from_mapping
from storage.models import Account, Status
from storage.paging import Page
from storage.statuses import NewStatus


async def _pair(
    instances: InstanceFactory,
) -> tuple[Instance, Instance, Account, Account, Account, Account]:
    """A (SQLite) and B (PostgreSQL when available); alice@A and bob@B follow each other.

    Returns (a, b, alice, bob, bob as A knows him, alice as B knows her)."""
    a = await instances("a", backend="sqlite")
    b = await instances("b", backend="postgres")
    alice = await a.user("alice")
    bob = await b.user("bob")
    bob_on_a = await a.follow(alice, f"bob@{b.domain}")
    alice_on_b = await b.follow(bob, f"alice@{a.domain}")
    await eventually(
        lambda: a.store.relationships.get_follow(alice.id, bob_on_a.id), what="alice follows bob"
    )
    await eventually(
        lambda: b.store.relationships.get_follow(bob.id, alice_on_b.id), what="bob follows alice"
    )
    return a, b, alice, bob, bob_on_a, alice_on_b


async def _arrives(instance: Instance, uri: str) -> Status:
    return await eventually(
        lambda: instance.store.statuses.by_uri(uri), what=f"{uri} on {instance.name}"
    )


async def _notified(instance: Instance, account: Account, type_: str) -> bool:
    notes = await instance.store.notifications.list(account.id, Page(limit=40), types=[type_])
    return bool(notes)


async def test_post_reply_mention_and_notification(instances: InstanceFactory) -> None:
    a, b, alice, bob, bob_on_a, _alice_on_b = await _pair(instances)
    post = await b.post(bob, "what do you think? #fediverse", tags=("fediverse",))
    copy = await _arrives(a, post.uri)
    assert "what do you think?" in copy.content and copy.visibility == "public"
    timeline = await a.store.statuses.home_timeline(alice.id, Page())
    assert [s.uri for s in timeline][:1] == [post.uri]
    tags = await a.store.statuses.tags_for([copy.id])
    assert [t.name for t in tags[copy.id]] == ["fediverse"]

    reply = await a.post(alice, "@bob I agree", mentions=(bob_on_a,), in_reply_to=copy)
    reply_on_b = await _arrives(b, reply.uri)
    assert reply_on_b.in_reply_to_id == post.id
    assert (await b.store.statuses.get(post.id)).replies_count == 1  # type: ignore[union-attr]
    await eventually(lambda: _notified(b, bob, "mention"), what="mention notification")


async def test_direct_message_reaches_only_the_mentioned(instances: InstanceFactory) -> None:
    a, b, alice, bob, bob_on_a, _alice_on_b = await _pair(instances)
    c = await instances("c")
    carol = await c.user("carol")
    await c.follow(carol, f"alice@{a.domain}")
    await eventually(
        lambda: a.store.relationships.followers(alice.id, Page()), what="carol follows"
    )
    dm = await a.post(alice, "psst", visibility="direct", mentions=(bob_on_a,))
    on_b = await _arrives(b, dm.uri)
    assert on_b.visibility == "direct"
    assert await b.store.statuses.visible_to(on_b, bob.id)
    await a.fed.delivery.run_until_idle(5)
    assert await c.store.statuses.by_uri(dm.uri) is None


async def test_like_and_boost_and_their_undo(instances: InstanceFactory) -> None:
    a, b, alice, bob, _bob_on_a, _alice_on_b = await _pair(instances)
    post = await b.post(bob, "like me")
    copy = await _arrives(a, post.uri)

    await a.store.interactions.favourite(alice.id, copy.id)
    await a.fed.outbox.favourited(alice, copy)
    await eventually(lambda: _notified(b, bob, "favourite"), what="favourite notification")
    assert (await b.store.statuses.get(post.id)).favourites_count == 1  # type: ignore[union-attr]

    reblog = await a.store.statuses.create(
        NewStatus(account_id=alice.id, local=True, reblog_of_id=copy.id, visibility="public"),
        uri_template=a.urls.status_template("alice"),
    )
    await a.fed.outbox.reblogged(reblog)
    await eventually(lambda: _notified(b, bob, "reblog"), what="reblog notification")

    async def counts() -> tuple[int, int]:
        s = await b.store.statuses.get(post.id)
        assert s is not None
        return s.favourites_count, s.reblogs_count

    assert await counts() == (1, 1)

    await a.store.interactions.unfavourite(alice.id, copy.id)
    await a.fed.outbox.unfavourited(alice, copy)
    await a.store.statuses.delete(reblog.id)
    await a.fed.outbox.unreblogged(reblog)

    async def undone() -> bool:
        return await counts() == (0, 0)

    await eventually(undone, what="like and boost undone")


async def test_edit_and_delete(instances: InstanceFactory) -> None:
    a, b, alice, bob, _bob_on_a, _alice_on_b = await _pair(instances)
    post = await b.post(bob, "frist")
    copy = await _arrives(a, post.uri)
    # alice favourites it, so she is told about the edit.
    await a.store.interactions.favourite(alice.id, copy.id)

    edited = await b.store.statuses.edit(
        post.id,
        content="<p>first</p>",
        text="first",
        spoiler_text="",
        sensitive=False,
        language="en",
    )
    await b.fed.outbox.status_updated(edited)

    async def updated() -> bool:
        s = await a.store.statuses.get(copy.id)
        return s is not None and s.content == "<p>first</p>" and s.edited_at is not None

    await eventually(updated, what="edit")
    assert len(await a.store.statuses.edits(copy.id)) == 2
    await eventually(lambda: _notified(a, alice, "update"), what="update notification")

    deleted = await b.store.statuses.delete(post.id)
    assert deleted is not None
    await b.fed.outbox.status_deleted(deleted)

    async def gone() -> bool:
        return await a.store.statuses.get(copy.id) is None

    await eventually(gone, what="delete")


async def test_unfollow_block_and_profile_update(instances: InstanceFactory) -> None:
    a, b, alice, bob, bob_on_a, alice_on_b = await _pair(instances)

    bob = await b.store.accounts.update(
        bob.id, display_name="Bob the Builder", note="<p>I build</p>"
    )
    await b.fed.outbox.profile_updated(bob)

    async def renamed() -> bool:
        acc = await a.store.accounts.get(bob_on_a.id)
        return acc is not None and acc.display_name == "Bob the Builder"

    await eventually(renamed, what="profile update")

    await a.unfollow(alice, bob_on_a)

    async def unfollowed() -> bool:
        return await b.store.relationships.get_follow(alice_on_b.id, bob.id) is None

    await eventually(unfollowed, what="unfollow")

    await b.store.relationships.block(bob.id, alice_on_b.id)
    await b.fed.outbox.blocked(bob, alice_on_b)

    async def blocked() -> bool:
        return await a.store.relationships.is_blocked_either_way(alice.id, bob_on_a.id)

    await eventually(blocked, what="block")
    # the block severed bob's follow of alice on both sides
    assert await a.store.relationships.get_follow(bob_on_a.id, alice.id) is None

    await b.store.relationships.unblock(bob.id, alice_on_b.id)
    await b.fed.outbox.unblocked(bob, alice_on_b)

    async def unblocked() -> bool:
        return not await a.store.relationships.is_blocked_either_way(alice.id, bob_on_a.id)

    await eventually(unblocked, what="unblock")


async def test_locked_account_approval(instances: InstanceFactory) -> None:
    a = await instances("a")
    c = await instances("c", backend="postgres")
    alice = await a.user("alice")
    carol = await c.user("carol", locked=True)
    carol_on_a = await a.follow(alice, f"carol@{c.domain}")
    await eventually(lambda: _notified(c, carol, "follow_request"), what="follow request")
    alice_on_c = await c.account(alice.uri)
    assert alice_on_c is not None
    request = await c.store.relationships.get_request(alice_on_c.id, carol.id)
    assert request is not None
    # Not following yet: carol has not decided.
    assert await a.store.relationships.get_follow(alice.id, carol_on_a.id) is None
    assert await a.store.relationships.get_request(alice.id, carol_on_a.id) is not None

    await c.store.relationships.follow(alice_on_c.id, carol.id, uri=request.uri)
    await c.fed.outbox.follow_accepted(carol, alice_on_c, request.uri)
    await eventually(
        lambda: a.store.relationships.get_follow(alice.id, carol_on_a.id), what="approved"
    )

    private = await c.post(carol, "followers only", visibility="private")
    copy = await _arrives(a, private.uri)
    assert copy.visibility == "private"
    assert await a.store.statuses.visible_to(copy, alice.id)


async def test_rejected_follow_request(instances: InstanceFactory) -> None:
    a = await instances("a")
    c = await instances("c")
    alice = await a.user("alice")
    carol = await c.user("carol", locked=True)
    carol_on_a = await a.follow(alice, f"carol@{c.domain}")
    await eventually(lambda: _notified(c, carol, "follow_request"), what="follow request")
    alice_on_c = await c.account(alice.uri)
    assert alice_on_c is not None
    request = await c.store.relationships.delete_request(alice_on_c.id, carol.id)
    assert request is not None
    await c.fed.outbox.follow_rejected(carol, alice_on_c, request.uri)

    async def withdrawn() -> bool:
        return await a.store.relationships.get_request(alice.id, carol_on_a.id) is None

    await eventually(withdrawn, what="reject")
    assert await a.store.relationships.get_follow(alice.id, carol_on_a.id) is None


async def test_delivery_to_a_stopped_peer_succeeds_when_it_returns(
    instances: InstanceFactory,
) -> None:
    a, b, alice, _bob, _bob_on_a, _alice_on_b = await _pair(instances)
    await b.stop()
    post = await a.post(alice, "are you there?")

    async def retried() -> bool:
        rows = await a.store.queues.deliveries_for(f"{post.uri}/activity")
        return bool(rows) and rows[0].state == "retry" and rows[0].attempts >= 1

    await eventually(retried, what="a failed attempt")
    await b.start()
    await _arrives(b, post.uri)

    async def done() -> bool:
        rows = await a.store.queues.deliveries_for(f"{post.uri}/activity")
        return [r.state for r in rows] == ["done"]

    await eventually(done, what="delivery done")
    peer = await a.store.queues.peer(b.domain)
    assert peer is not None and peer.unreachable_since is None and peer.failures == 0


async def test_sender_killed_mid_queue_resumes_after_restart(instances: InstanceFactory) -> None:
    a, b, alice, _bob, _bob_on_a, _alice_on_b = await _pair(instances)
    # Stop A's delivery loop, queue a post, and leave its rows claimed as a worker killed
    # mid-send would (state "sending" with a lease).
    a.fed.delivery.stop()
    await asyncio.sleep(0.1)
    post = await a.post(alice, "survives a crash")
    claimed = await a.store.queues.claim_deliveries(10, lease_ms=300)
    assert [r.activity_id for r in claimed] == [f"{post.uri}/activity"]
    await a.restart()
    await _arrives(b, post.uri)


async def test_domain_suspension_refuses_both_ways(instances: InstanceFactory) -> None:
    a = await instances("a")
    c = await instances("c")
    # C suspends A: a restart with the policy (domains carry the port of A).
    c.policy = settings_from_mapping(
        "open", {"domain_blocks": [{"domain": a.domain, "severity": "suspend"}]}
    )
    await c.restart()
    alice = await a.user("alice")
    await c.user("carol")
    # C will not even look alice up.
    assert await c.fed.resolve_account(f"alice@{a.domain}") is None
    # A can look carol up, but C refuses what A sends.
    carol_on_a = await a.follow(alice, f"carol@{c.domain}")

    async def dead() -> bool:
        rows = await a.store.queues.deliveries_by_state()
        return rows.get("dead", 0) == 1

    await eventually(dead, what="delivery refused by C")
    assert await a.store.relationships.get_follow(alice.id, carol_on_a.id) is None
    decisions = await c.store.policy.decisions(Page(limit=20))
    assert any(d.direction == "inbound" and d.peer == a.domain for d in decisions)
