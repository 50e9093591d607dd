"""A reply travels through its thread's origin: carol@C replies to alice@A; A forwards the
reply to alice's follower bob@B. B accepts it on carol's LD signature (made by C's delivery
worker), without asking C: C is down by then."""

from __future__ import annotations

from federation.conftest import InstanceFactory, eventually


async def test_reply_forwarded_by_the_threads_origin_is_verified_by_its_ld_signature(
    instances: InstanceFactory,
) -> None:
    a = await instances("a", backend="sqlite")
    b = await instances("b", backend="postgres")
    c = await instances("c", backend="sqlite")
    alice, bob, carol = await a.user("alice"), await b.user("bob"), await c.user("carol")
    alice_on_b = await b.follow(bob, f"alice@{a.domain}")
    await eventually(
        lambda: b.store.relationships.get_follow(bob.id, alice_on_b.id), what="bob follows alice"
    )
    assert await b.fed.resolve_account(f"carol@{c.domain}") is not None  # B knows carol's key

    post = await a.post(alice, "what do you all think?")
    await eventually(lambda: b.store.statuses.by_uri(post.uri), what="the post on B")
    on_c = await c.fed.resolve_status(post.uri)
    assert on_c is not None
    alice_on_c = await c.account(alice.uri)
    assert alice_on_c is not None
    reply = await c.post(carol, "I think so too", in_reply_to=on_c, mentions=(alice_on_c,))
    await eventually(lambda: a.store.statuses.by_uri(reply.uri), what="the reply on A")
    await c.stop()  # B cannot ask C: only carol's signature can vouch for the reply

    on_b = await eventually(lambda: b.store.statuses.by_uri(reply.uri), what="the reply on B")
    assert "I think so too" in on_b.content
    assert on_b.in_reply_to_uri == post.uri
    assert b.fed.intake.forwarded == {"ld_signature": 1}  # not fetched from C
