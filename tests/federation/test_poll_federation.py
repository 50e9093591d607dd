"""Polls across instances through the Mastodon API: remote votes are counted once, and a
local poll's counts go out as an Update of the Question to followers and voters."""

from __future__ import annotations

from typing import Any

import aiohttp

from federation.api_client import Client, follow, following, make_client, session
from federation.conftest import InstanceFactory, eventually

__all__ = ["session"]  # the fixture


async def _poll_counts(client: Client, status_id: str) -> tuple[int, list[int]]:
    status = await client.get(f"/api/v1/statuses/{status_id}")
    poll = status["poll"]
    return poll["votes_count"], [o["votes_count"] for o in poll["options"]]


async def test_votes_and_poll_updates(
    instances: InstanceFactory, session: aiohttp.ClientSession
) -> None:
    a = await instances("a", backend="sqlite")
    b = await instances("b", backend="postgres")
    c = await instances("c", backend="sqlite")
    a.fed.outbox.poll_update_delay = 0.2
    alice = await make_client(a, session, "alice")
    dave = await make_client(a, session, "dave")
    bob = await make_client(b, session, "bob")  # votes, does not follow alice
    carol = await make_client(c, session, "carol")  # follows alice, does not vote
    alice_on_c = await follow(carol, alice)
    await following(carol, alice_on_c)

    post = await alice.status(
        "tea or coffee?", poll={"options": ["tea", "coffee"], "expires_in": 3600}
    )
    on_c = await eventually(lambda: carol.in_home(post["uri"]), what="poll at carol")
    found = await bob.get("/api/v2/search", params={"q": post["uri"], "resolve": "true"})
    [on_b] = found["statuses"]

    # A remote vote: stored at the author's instance, then the counts reach the followers.
    await bob.post(f"/api/v1/polls/{on_b['poll']['id']}/votes", json={"choices": [0]})

    async def counted(client: Client, status_id: str, expected: tuple[int, list[int]]) -> bool:
        return await _poll_counts(client, status_id) == expected

    await eventually(lambda: counted(alice, post["id"], (1, [1, 0])), what="vote at a")
    await eventually(lambda: counted(carol, on_c["id"], (1, [1, 0])), what="update at c")

    # A local vote: the Update reaches the remote voter's instance too.
    await dave.post(f"/api/v1/polls/{post['poll']['id']}/votes", json={"choices": [1]})
    await eventually(lambda: counted(bob, on_b["id"], (2, [1, 1])), what="update at b")
    await eventually(lambda: counted(carol, on_c["id"], (2, [1, 1])), what="second update at c")

    # A second vote from the same remote account on a single-choice poll is refused.
    bob_account = await b.store.accounts.by_handle("bob", "")
    status_on_b = await b.store.statuses.by_uri(post["uri"])
    assert bob_account is not None and status_on_b is not None
    await b.fed.outbox.poll_voted(bob_account, status_on_b, [1])
    await b.fed.delivery.run_until_idle(5)
    await a.fed.processor.run_until_idle(5)
    assert await _poll_counts(alice, post["id"]) == (2, [1, 1])
    votes = await a.store.db.fetch("SELECT account_id, choice FROM poll_votes ORDER BY choice")
    bob_on_a = await a.store.accounts.by_uri(bob_account.uri)
    assert bob_on_a is not None
    assert [(int(v["account_id"]), int(v["choice"])) for v in votes][:1] == [(bob_on_a.id, 0)]
    assert len(votes) == 2


async def test_hidden_totals_are_not_sent_before_the_end(
    instances: InstanceFactory, session: aiohttp.ClientSession
) -> None:
    a = await instances("a", backend="sqlite")
    b = await instances("b", backend="sqlite")
    a.fed.outbox.poll_update_delay = 0.05
    alice = await make_client(a, session, "alice")
    dave = await make_client(a, session, "dave")
    bob = await make_client(b, session, "bob")
    await following(bob, await follow(bob, alice))
    post = await alice.status(
        "secret ballot", poll={"options": ["x", "y"], "expires_in": 3600, "hide_totals": True}
    )
    await eventually(lambda: bob.in_home(post["uri"]), what="poll at b")
    await dave.post(f"/api/v1/polls/{post['poll']['id']}/votes", json={"choices": [0]})
    await a.fed.outbox.flush_poll_updates()
    deliveries: list[Any] = await a.store.db.fetch(
        "SELECT activity_id FROM delivery_queue WHERE activity_id LIKE '%#updates/polls/%'"
    )
    assert deliveries == []
