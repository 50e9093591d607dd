"""Grouped notifications do not depend on where the other account lives: a local and a
remote follower of one account land in one group of /api/v2/notifications."""

from __future__ import annotations

from typing import Any

import aiohttp

from federation.api_client import follow, following, make_client, session
from federation.conftest import InstanceFactory, eventually

__all__ = ["session"]  # the fixture


async def test_local_and_remote_followers_share_one_follow_group(
    instances: InstanceFactory, session: aiohttp.ClientSession
) -> None:
    a = await instances("a", backend="sqlite")
    b = await instances("b", backend="postgres")
    alice = await make_client(a, session, "alice")
    bob = await make_client(a, session, "bob")  # follows from the same instance
    carol = await make_client(b, session, "carol")  # follows from a peer
    await following(bob, await follow(bob, alice, via_lookup=True))
    await following(carol, await follow(carol, alice))

    async def both() -> list[dict[str, Any]]:
        notes: list[dict[str, Any]] = await alice.notifications("follow")
        return notes if len(notes) == 2 else []

    notes = await eventually(both, what="two follow notifications")
    followers = {n["account"]["acct"] for n in notes}
    assert followers == {bob.username, carol.handle}
    body = await alice.get("/api/v2/notifications", params={"types[]": "follow"})
    groups = body["notification_groups"]
    assert [(g["type"], g["notifications_count"]) for g in groups] == [("follow", 2)]
    assert sorted(groups[0]["sample_account_ids"]) == sorted(n["account"]["id"] for n in notes)
    # Dismissing the group dismisses both follows, the local one and the remote one.
    await alice.post(f"/api/v2/notifications/{groups[0]['group_key']}/dismiss")
    assert await alice.notifications("follow") == []
