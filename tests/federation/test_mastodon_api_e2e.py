"""End to end through the Mastodon client API: three real instances on loopback (SQLite and
PostgreSQL mixed), users with OAuth tokens obtained over HTTP, and nothing but HTTP calls
to each instance's client API. Every common activity is observed on the other side."""

from __future__ import annotations

from typing import Any

import aiohttp

from federation.api_client import follow, following, make_client, session
from federation.conftest import Instance, InstanceFactory, eventually

__all__ = ["session"]  # the fixture


async def _drain(*instances: Instance) -> None:
    for _ in range(2):
        for instance in instances:
            await instance.fed.process_pending(5)


async def test_every_activity_through_the_mastodon_api(
    instances: InstanceFactory, session: aiohttp.ClientSession
) -> None:
    a = await instances("a", backend="sqlite")
    b = await instances("b", backend="postgres")
    c = await instances("c", backend="sqlite")
    alice = await make_client(a, session, "alice")
    bob = await make_client(b, session, "bob")
    carol = await make_client(c, session, "carol", locked=True)

    # Follow / Accept, found through search?resolve and through lookup.
    bob_on_a = await follow(alice, bob)
    alice_on_b = await follow(bob, alice, via_lookup=True)
    await following(alice, bob_on_a)
    await following(bob, alice_on_b)
    followers = await bob.get(f"/api/v1/accounts/{bob.id}/followers")
    assert [f["acct"] for f in followers] == [alice.handle]
    follows = await eventually(lambda: bob.notifications("follow"), what="follow note at b")
    assert [n["account"]["acct"] for n in follows] == [alice.handle]

    # A locked account approves through follow_requests/authorize.
    carol_on_a = await follow(alice, carol)
    assert (await alice.relationship(carol_on_a))["requested"]

    async def requests() -> list[dict[str, Any]]:
        return await carol.get("/api/v1/follow_requests")  # type: ignore[no-any-return]

    pending = await eventually(requests, what="follow request at carol")
    assert [r["acct"] for r in pending] == [alice.handle]
    await eventually(lambda: carol.notifications("follow_request"), what="follow_request note")
    await carol.post(f"/api/v1/follow_requests/{pending[0]['id']}/authorize")
    await following(alice, carol_on_a)
    alice_on_c = await follow(carol, alice)
    await following(carol, alice_on_c)

    # A post arrives in the follower's home.
    post = await bob.status("hello from b #fediverse")
    copy = await eventually(lambda: alice.in_home(post["uri"]), what="post in alice's home")
    assert "hello from b" in copy["content"] and copy["account"]["acct"] == bob.handle

    # A reply with a mention: the context on the other side, and a mention notification.
    reply = await alice.status(f"@{bob.handle} indeed", in_reply_to_id=copy["id"])
    assert reply["in_reply_to_id"] == copy["id"]

    async def replied() -> bool:
        ctx = await bob.get(f"/api/v1/statuses/{post['id']}/context")
        return any(d["uri"] == reply["uri"] for d in ctx["descendants"])

    await eventually(replied, what="reply in bob's context")
    mentions = await eventually(lambda: bob.notifications("mention"), what="mention note")
    assert mentions[0]["account"]["acct"] == alice.handle
    assert mentions[0]["status"]["uri"] == reply["uri"]
    reply_on_b = mentions[0]["status"]
    assert reply_on_b["in_reply_to_id"] == post["id"]

    # Like and boost, seen by the author.
    await alice.post(f"/api/v1/statuses/{copy['id']}/favourite")
    await alice.post(f"/api/v1/statuses/{copy['id']}/reblog")
    await eventually(lambda: bob.notifications("favourite"), what="favourite note")
    await eventually(lambda: bob.notifications("reblog"), what="reblog note")

    async def counts() -> bool:
        s = await bob.get(f"/api/v1/statuses/{post['id']}")
        return bool(s["favourites_count"] == 1 and s["reblogs_count"] == 1)

    await eventually(counts, what="favourite and reblog counts")
    # Carol follows alice: alice's boost of bob's post reaches carol's home.

    async def boosted() -> bool:
        return any(
            s["reblog"] is not None and s["reblog"]["uri"] == post["uri"]
            for s in await carol.home()
        )

    await eventually(boosted, what="boost in carol's home")

    # Edit: the other side shows the new text and the history.
    await bob.call("PUT", f"/api/v1/statuses/{post['id']}", json={"status": "hello, edited"})

    async def edited() -> Any:
        s = await alice.get(f"/api/v1/statuses/{copy['id']}")
        return s if "hello, edited" in s["content"] else None

    shown = await eventually(edited, what="edit on a")
    assert shown["edited_at"] is not None
    history = await alice.get(f"/api/v1/statuses/{copy['id']}/history")
    assert len(history) == 2 and "hello from b" in history[0]["content"]
    await eventually(lambda: alice.notifications("update"), what="update note (alice boosted)")

    # Profile update: the display name is visible on the other side.
    await bob.call("PATCH", "/api/v1/accounts/update_credentials",
                   data={"display_name": "Bob of B"})  # fmt: skip

    async def renamed() -> bool:
        account = await alice.get(f"/api/v1/accounts/{bob_on_a}")
        return bool(account["display_name"] == "Bob of B")

    await eventually(renamed, what="display name on a")

    # A direct message reaches only the mentioned account.
    dm = await alice.status(f"@{bob.handle} psst", visibility="direct")

    async def dm_at_bob() -> bool:
        notes = await bob.notifications("mention")
        return any(n["status"]["uri"] == dm["uri"] for n in notes)

    await eventually(dm_at_bob, what="DM at bob")
    conversations = await bob.get("/api/v1/conversations")
    assert any(c["last_status"]["uri"] == dm["uri"] for c in conversations)
    await _drain(a, b, c)
    assert await carol.in_home(dm["uri"]) is None
    search = await carol.get("/api/v2/search", params={"q": dm["uri"], "resolve": "true"})
    assert search["statuses"] == []

    # Delete: gone from the other side's home.
    await bob.call("DELETE", f"/api/v1/statuses/{post['id']}")

    async def deleted() -> bool:
        return await alice.in_home(post["uri"]) is None

    await eventually(deleted, what="deletion on a")
    await alice.get(f"/api/v1/statuses/{copy['id']}", expect=404)

    # Unfollow: new posts no longer arrive.
    await alice.post(f"/api/v1/accounts/{bob_on_a}/unfollow")

    async def unfollowed() -> bool:
        return not await bob.get(f"/api/v1/accounts/{bob.id}/followers")

    await eventually(unfollowed, what="unfollow at b")
    after = await bob.status("after the unfollow")
    await _drain(b, a)
    assert await alice.in_home(after["uri"]) is None

    # Block: carol blocks alice; the follows between them end on both sides, and alice's
    # posts stop reaching carol.
    await carol.post(f"/api/v1/accounts/{alice_on_c}/block")

    async def blocked() -> bool:
        rel = await alice.relationship(carol_on_a)
        return not rel["following"] and not rel["followed_by"]

    await eventually(blocked, what="block severs the follows on a")
    assert not (await carol.relationship(alice_on_c))["following"]
    assert (await carol.relationship(alice_on_c))["blocking"]
    hidden = await alice.status("can carol see this?")
    await _drain(a, c)
    assert await carol.in_home(hidden["uri"]) is None


async def test_deleting_through_the_api_reaches_the_mentioned(
    instances: InstanceFactory, session: aiohttp.ClientSession
) -> None:
    """The mention rows go with the deleted status; the Delete still reaches the mentioned
    accounts (who do not follow the author), for a public post and a direct message."""
    a = await instances("a", backend="postgres")
    b = await instances("b", backend="sqlite")
    alice = await make_client(a, session, "alice")
    bob = await make_client(b, session, "bob")
    await alice.resolve(bob)
    public = await alice.status(f"@{bob.handle} hello stranger")
    dm = await alice.status(f"@{bob.handle} just between us", visibility="direct")

    async def mentioned() -> list[str]:
        return [n["status"]["id"] for n in await bob.notifications("mention")]

    async def both_arrived() -> bool:
        return len(await mentioned()) == 2

    await eventually(both_arrived, what="both mentions at bob")
    copies = await mentioned()
    for copy_id in copies:
        await bob.get(f"/api/v1/statuses/{copy_id}")

    await alice.call("DELETE", f"/api/v1/statuses/{public['id']}")
    await alice.call("DELETE", f"/api/v1/statuses/{dm['id']}")

    async def gone() -> bool:
        for copy_id in copies:
            async with session.get(
                f"{bob.base}/api/v1/statuses/{copy_id}",
                headers={"Authorization": f"Bearer {bob.token}"},
            ) as resp:
                if resp.status != 404:
                    return False
        return True

    await eventually(gone, what="deletions at bob")
    assert await mentioned() == []


async def test_undo_reject_and_unblock_through_the_api(
    instances: InstanceFactory, session: aiohttp.ClientSession
) -> None:
    a = await instances("a", backend="sqlite")
    b = await instances("b", backend="postgres")
    alice = await make_client(a, session, "alice")
    bob = await make_client(b, session, "bob", locked=True)
    carol = await make_client(b, session, "carol")

    # A locked account rejects a request: the requester is told.
    bob_on_a = await follow(alice, bob)

    async def requests() -> list[dict[str, Any]]:
        return await bob.get("/api/v1/follow_requests")  # type: ignore[no-any-return]

    [request] = await eventually(requests, what="follow request at b")
    await bob.post(f"/api/v1/follow_requests/{request['id']}/reject")

    async def rejected() -> bool:
        rel = await alice.relationship(bob_on_a)
        return not rel["requested"] and not rel["following"]

    await eventually(rejected, what="rejection at a")

    # Like and boost, then their undo: the counts on the author's side go back.
    carol_on_a = await follow(alice, carol)
    await following(alice, carol_on_a)
    post = await carol.status("undo me")
    copy = await eventually(lambda: alice.in_home(post["uri"]), what="post at a")
    await alice.post(f"/api/v1/statuses/{copy['id']}/favourite")
    await alice.post(f"/api/v1/statuses/{copy['id']}/reblog")

    async def counts(expected: tuple[int, int]) -> bool:
        s = await carol.get(f"/api/v1/statuses/{post['id']}")
        return (s["favourites_count"], s["reblogs_count"]) == expected

    await eventually(lambda: counts((1, 1)), what="like and boost at b")
    await alice.post(f"/api/v1/statuses/{copy['id']}/unfavourite")
    await alice.post(f"/api/v1/statuses/{copy['id']}/unreblog")
    await eventually(lambda: counts((0, 0)), what="undo at b")

    # Block and unblock: after the unblock, a new follow works again.
    alice_on_b = (await carol.lookup(alice))["id"]
    await carol.post(f"/api/v1/accounts/{alice_on_b}/block")

    async def blocked() -> bool:
        return not (await alice.relationship(carol_on_a))["following"]

    await eventually(blocked, what="block at a")
    await carol.post(f"/api/v1/accounts/{alice_on_b}/unblock")
    await _drain(b, a)
    await alice.post(f"/api/v1/accounts/{carol_on_a}/follow")
    await following(alice, carol_on_a)
