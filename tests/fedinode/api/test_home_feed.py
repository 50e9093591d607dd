"""The home timeline is read through ``home_feed`` (fan-out on write): what the feed gets on
create, follow and tag follow, and that the home rule, not the feed, decides what shows."""

from __future__ import annotations

from api_helpers import Actor, Api

HOME = "/api/v1/timelines/home"


async def _home(actor: Actor) -> list[str]:
    return [s["id"] for s in await actor.json("get", HOME)]


async def test_followed_post_appears_and_leaves_on_unfollow(api: Api) -> None:
    alice = await api.user("alice")
    bob = await api.user("bob")
    await bob.json("post", f"/api/v1/accounts/{alice.id}/follow")
    post = await alice.status("hello followers")
    assert await _home(bob) == [post["id"]]
    await bob.json("post", f"/api/v1/accounts/{alice.id}/unfollow")
    assert await _home(bob) == []
    later = await alice.status("not for bob")
    assert await _home(bob) == []
    # Following again shows both: the old feed row and the back-filled one.
    await bob.json("post", f"/api/v1/accounts/{alice.id}/follow")
    assert await _home(bob) == [later["id"], post["id"]]


async def test_follow_backfills_older_posts(api: Api) -> None:
    alice = await api.user("alice")
    bob = await api.user("bob")
    older = [(await alice.status(f"before {i}"))["id"] for i in range(3)]
    private = await alice.status("followers only", visibility="private")
    direct = await alice.status("to nobody in particular", visibility="direct")
    assert await _home(bob) == []
    await bob.json("post", f"/api/v1/accounts/{alice.id}/follow")
    assert await _home(bob) == [private["id"], *reversed(older)]
    assert direct["id"] not in await _home(bob)
    assert direct["id"] in await _home(alice)


async def test_followed_hashtag_posts_appear(api: Api) -> None:
    alice = await api.user("alice")
    bob = await api.user("bob")
    old_tagged = await alice.status("older #Gardening post")
    await alice.status("untagged")
    await alice.status("followers only #gardening", visibility="private")
    await bob.json("post", "/api/v1/tags/gardening/follow")
    assert await _home(bob) == [old_tagged["id"]]  # back-filled; private and untagged not
    new_tagged = await alice.status("new #gardening post")
    await alice.status("another untagged")
    assert await _home(bob) == [new_tagged["id"], old_tagged["id"]]
    await bob.json("post", "/api/v1/tags/gardening/unfollow")
    assert await _home(bob) == []


async def test_direct_reaches_home_of_mentioned_followers_only(api: Api) -> None:
    # Mastodon's rule: a direct status enters the home of mentioned accounts that follow its
    # author; a mention alone notifies (and shows in conversations) but does not fill home.
    alice = await api.user("alice")
    follower = await api.user("fran")
    mia = await api.user("mia")
    await follower.json("post", f"/api/v1/accounts/{alice.id}/follow")
    direct = await alice.status("psst @mia", visibility="direct")
    assert [m["acct"] for m in direct["mentions"]] == ["mia"]
    assert await _home(mia) == []
    assert await _home(follower) == []
    assert await _home(alice) == [direct["id"]]
    await mia.json("post", f"/api/v1/accounts/{alice.id}/follow")
    to_both = await alice.status("psst @mia and @fran", visibility="direct")
    assert await _home(mia) == [to_both["id"], direct["id"]]
    assert await _home(follower) == [to_both["id"]]


async def test_deleted_status_disappears(api: Api) -> None:
    alice = await api.user("alice")
    bob = await api.user("bob")
    await bob.json("post", f"/api/v1/accounts/{alice.id}/follow")
    keep = await alice.status("stays")
    gone = await alice.status("goes")
    assert await _home(bob) == [gone["id"], keep["id"]]
    await alice.json("delete", f"/api/v1/statuses/{gone['id']}")
    assert await _home(bob) == [keep["id"]]
    assert await _home(alice) == [keep["id"]]
    rows = await api.store.db.fetch(
        "SELECT status_id FROM home_feed WHERE status_id = $1", int(gone["id"])
    )
    assert rows == []


async def test_block_hides_feed_rows(api: Api) -> None:
    alice = await api.user("alice")
    bob = await api.user("bob")
    await bob.json("post", f"/api/v1/accounts/{alice.id}/follow")
    post = await alice.status("hello")
    assert await _home(bob) == [post["id"]]
    await bob.json("post", f"/api/v1/accounts/{alice.id}/block")
    assert await _home(bob) == []
    await bob.json("post", f"/api/v1/accounts/{alice.id}/unblock")
    assert await _home(bob) == []  # the block ended the follow
