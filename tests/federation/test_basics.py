"""Two instances: follow, accept, post delivery."""

from __future__ import annotations

from federation.conftest import InstanceFactory, eventually
from storage.paging import Page


async def test_follow_accept_and_post_arrives(instances: InstanceFactory) -> None:
    a = await instances("a")
    b = await instances("b")
    alice = await a.user("alice")
    bob = await b.user("bob")

    bob_on_a = await a.follow(alice, f"bob@{b.domain}")
    await eventually(lambda: a.store.relationships.get_follow(alice.id, bob_on_a.id), what="accept")
    alice_on_b = await b.account(alice.uri)
    assert alice_on_b is not None
    assert await b.store.relationships.get_follow(alice_on_b.id, bob.id) is not None

    status = await b.post(bob, "hello from b")

    async def arrived() -> bool:
        timeline = await a.store.statuses.home_timeline(alice.id, Page())
        return any(s.uri == status.uri for s in timeline)

    await eventually(arrived, what="post in home timeline")
