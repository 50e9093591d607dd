"""/api/v1/domain_blocks: a user's blocked domains, listed, paged, added and removed."""

from __future__ import annotations

from api_helpers import Actor, Api


async def test_block_list_and_unblock(api: Api) -> None:
    alice = await api.user("alice")
    assert await alice.json("get", "/api/v1/domain_blocks") == []
    assert await alice.json("post", "/api/v1/domain_blocks", data={"domain": "One.TEST."}) == {}
    await alice.json("post", "/api/v1/domain_blocks", json={"domain": "two.test"})
    await alice.json("post", "/api/v1/domain_blocks", json={"domain": "bücher.test"})
    await alice.json("post", "/api/v1/domain_blocks", json={"domain": "two.test"})  # again
    assert await alice.json("get", "/api/v1/domain_blocks") == [
        "xn--bcher-kva.test", "two.test", "one.test",
    ]  # fmt: skip
    assert await alice.json("delete", "/api/v1/domain_blocks", params={"domain": "TWO.test"}) == {}
    assert await alice.json("delete", "/api/v1/domain_blocks", json={"domain": "never.test"}) == {}
    assert await alice.json("get", "/api/v1/domain_blocks") == ["xn--bcher-kva.test", "one.test"]
    bob = await api.user("bob")
    assert await bob.json("get", "/api/v1/domain_blocks") == []


async def test_paging_follows_the_link_header(api: Api) -> None:
    alice = await api.user("alice")
    for n in range(5):
        await alice.json("post", "/api/v1/domain_blocks", json={"domain": f"d{n}.test"})
    resp = await alice.get("/api/v1/domain_blocks", params={"limit": "2"})
    assert await resp.json() == ["d4.test", "d3.test"]
    next_url = resp.headers["Link"].split(">;")[0].lstrip("<")
    assert "max_id=" in next_url and "limit=2" in next_url
    path = next_url.split("local.test", 1)[1]
    assert await alice.json("get", path) == ["d2.test", "d1.test"]


async def test_bad_domains_are_refused(api: Api) -> None:
    alice = await api.user("alice")
    for bad in ("", "  ", "not a domain", "exa mple.test", "*.wild.test"):
        body = await alice.json("post", "/api/v1/domain_blocks", 422, json={"domain": bad})
        assert body["error"].startswith("Validation failed")
    body = await alice.json("post", "/api/v1/domain_blocks", 422, json={})
    assert "blank" in body["error"]
    body = await alice.json("post", "/api/v1/domain_blocks", 422, json={"domain": "LOCAL.test"})
    assert "own" in body["error"]
    # Hostile input: a clear 4xx with a reason, never a 5xx, nothing stored.
    for hostile in ("a" * 300 + ".test", "evil\x00.test", "x." * 200 + "test", "ex\nample.test",
                    "http://example.test/path", "[::1]", "exa%mple.test"):  # fmt: skip
        resp = await alice.post("/api/v1/domain_blocks", json={"domain": hostile})
        body = await resp.json()
        assert resp.status in (400, 422) and body["error"], (hostile, resp.status, body)
    for shape in ({"x": 1}, None):
        resp = await alice.post("/api/v1/domain_blocks", json={"domain": shape})
        assert 400 <= resp.status < 500, (shape, resp.status)
    resp = await alice.delete("/api/v1/domain_blocks", json={"domain": "a" * 5000})
    assert 400 <= resp.status < 500
    assert await alice.json("get", "/api/v1/domain_blocks") == []


async def test_scopes(api: Api) -> None:
    reader = await api.user("reader", scopes="read:blocks")
    assert await reader.json("get", "/api/v1/domain_blocks") == []
    await reader.json("post", "/api/v1/domain_blocks", 403, json={"domain": "one.test"})
    follow = await api.token_for(reader.account, scopes="follow")
    await follow.json("post", "/api/v1/domain_blocks", json={"domain": "one.test"})
    assert await follow.json("get", "/api/v1/domain_blocks") == ["one.test"]
    await follow.json("delete", "/api/v1/domain_blocks", json={"domain": "one.test"})
    writer = await api.token_for(reader.account, scopes="write:blocks")
    await writer.json("get", "/api/v1/domain_blocks", 403)
    assert (await api.client.get("/api/v1/domain_blocks")).status == 401


async def test_relationship_shows_domain_blocking(api: Api) -> None:
    from tests.storage.factories import remote_account

    alice = await api.user("alice")
    dave = await remote_account(api.store, "dave", "remote.test")
    rel_path = f"/api/v1/accounts/relationships?id[]={dave.id}"
    assert (await alice.json("get", rel_path))[0]["domain_blocking"] is False
    await alice.json("post", "/api/v1/domain_blocks", json={"domain": "remote.test"})
    assert (await alice.json("get", rel_path))[0]["domain_blocking"] is True
    await alice.json("delete", "/api/v1/domain_blocks", json={"domain": "remote.test"})
    assert (await alice.json("get", rel_path))[0]["domain_blocking"] is False


async def test_block_removes_followers_there_and_hides_their_notifications(api: Api) -> None:
    from tests.storage.factories import remote_account

    alice = await api.user("alice")
    dave = await remote_account(api.store, "dave", "remote.test")
    erin = await remote_account(api.store, "erin", "other.test")
    for follower in (dave, erin):
        await api.store.relationships.follow(follower.id, alice.account.id)
        await api.store.notifications.create(alice.account.id, follower.id, "follow")
    await api.store.relationships.follow(alice.account.id, dave.id)
    await alice.json("post", "/api/v1/domain_blocks", json={"domain": "remote.test"})
    followers = await alice.json("get", f"/api/v1/accounts/{alice.id}/followers")
    assert [a["acct"] for a in followers] == ["erin@other.test"]
    notes = await alice.json("get", "/api/v1/notifications")
    assert [n["account"]["acct"] for n in notes] == ["erin@other.test"]
    # Alice's own follow of an account there stays, as Mastodon.
    (rel,) = await alice.json("get", f"/api/v1/accounts/relationships?id[]={dave.id}")
    assert rel["following"] is True and rel["followed_by"] is False


async def _ids(actor: Actor, path: str) -> list[str]:
    return [s["id"] for s in await actor.json("get", path)]


async def test_public_and_tag_timelines_hide_the_domain(api: Api) -> None:
    from tests.storage.factories import post, remote_account

    alice = await api.user("alice")
    bob = await api.user("bob")
    dave = await remote_account(api.store, "dave", "remote.test")
    erin = await remote_account(api.store, "erin", "other.test")
    from_dave = await post(api.store, dave, "dave on #cats", tags=["cats"])
    from_erin = await post(api.store, erin, "erin on #cats", tags=["cats"])
    await api.store.relationships.follow(alice.account.id, dave.id)
    both = [str(from_erin.id), str(from_dave.id)]
    for path in ("/api/v1/timelines/public", "/api/v1/timelines/tag/cats"):
        assert await _ids(alice, path) == both
    await alice.json("post", "/api/v1/domain_blocks", json={"domain": "remote.test"})
    for path in ("/api/v1/timelines/public", "/api/v1/timelines/tag/cats"):
        # Following dave does not bring his posts back there, as Mastodon.
        assert await _ids(alice, path) == [str(from_erin.id)]
        assert await _ids(bob, path) == both  # alice's block is hers alone
        assert [s["id"] for s in await api.anon(path)] == both


async def test_home_keeps_followed_authors_but_not_reblogs_or_tags_from_there(
    api: Api,
) -> None:
    from tests.storage.factories import post, remote_account

    alice = await api.user("alice")
    bob = await api.user("bob")
    dave = await remote_account(api.store, "dave", "remote.test")
    erin = await remote_account(api.store, "erin", "remote.test")
    await alice.json("post", f"/api/v1/accounts/{bob.id}/follow")
    await alice.json("post", "/api/v1/tags/gardening/follow")
    await api.store.relationships.follow(alice.account.id, dave.id)
    from_dave = await post(api.store, dave, "followed dave")
    tagged = await post(api.store, erin, "erin on #gardening", tags=["gardening"])
    shared = await post(api.store, erin, "erin worth sharing")
    reblog = await bob.json("post", f"/api/v1/statuses/{shared.id}/reblog")
    own = await bob.status("bob's own")
    home = "/api/v1/timelines/home"
    assert await _ids(alice, home) == [
        own["id"], reblog["id"], str(tagged.id), str(from_dave.id),
    ]  # fmt: skip
    await alice.json("post", "/api/v1/domain_blocks", json={"domain": "remote.test"})
    assert await _ids(alice, home) == [own["id"], str(from_dave.id)]
    await alice.json("delete", "/api/v1/domain_blocks", json={"domain": "remote.test"})
    assert len(await _ids(alice, home)) == 4


async def test_threads_and_status_search_leave_the_domain_out(api: Api) -> None:
    """As Mastodon's status filter: a thread's replies and parents, and statuses found by
    search, by authors of a domain the viewer blocks are left out (for that viewer only)."""
    from tests.storage.factories import post, remote_account

    alice = await api.user("alice")
    bob = await api.user("bob")
    dave = await remote_account(api.store, "dave", "remote.test")
    erin = await remote_account(api.store, "erin", "other.test")
    root = await api.store.statuses.get(int((await bob.status("pelican root"))["id"]))
    assert root is not None
    r1 = await post(api.store, dave, "pelican from dave", in_reply_to_id=root.id)
    r2 = await post(api.store, erin, "pelican from erin", in_reply_to_id=r1.id)

    async def thread(actor: Actor) -> tuple[list[str], list[str]]:
        below = await actor.json("get", f"/api/v1/statuses/{root.id}/context")
        above = await actor.json("get", f"/api/v1/statuses/{r2.id}/context")
        return [s["id"] for s in below["descendants"]], [s["id"] for s in above["ancestors"]]

    async def found(actor: Actor) -> list[str]:
        body = await actor.json("get", "/api/v2/search", params={"q": "pelican", "type": "statuses"})
        return sorted(s["id"] for s in body["statuses"])

    everything = ([str(r1.id), str(r2.id)], [str(root.id), str(r1.id)])
    assert await thread(alice) == everything
    all_three = sorted([str(root.id), str(r1.id), str(r2.id)])
    assert await found(alice) == all_three
    await alice.json("post", "/api/v1/domain_blocks", json={"domain": "remote.test"})
    assert await thread(alice) == ([str(r2.id)], [str(root.id)])
    assert await found(alice) == sorted([str(root.id), str(r2.id)])
    assert await thread(bob) == everything  # alice's block is hers alone
    assert await found(bob) == all_three
    await alice.json("delete", "/api/v1/domain_blocks", json={"domain": "remote.test"})
    assert await thread(alice) == everything
