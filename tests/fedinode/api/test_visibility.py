"""Followers-only and direct statuses never leak: status GET, context, account statuses,
public / home / tag timelines, favourited_by; blocks and mutes both ways."""

from __future__ import annotations

from typing import Any

from api_helpers import Actor, Api


async def _cast(api: Api) -> tuple[Actor, Actor, Actor, Actor]:
    alice = await api.user("alice")
    follower = await api.user("fran")
    stranger = await api.user("sam")
    mentioned = await api.user("mia")
    await follower.json("post", f"/api/v1/accounts/{alice.id}/follow")
    return alice, follower, stranger, mentioned


async def _ids(actor: Actor | None, api: Api, path: str) -> set[str]:
    if actor is None:
        body = await api.anon(path)
    else:
        body = await actor.json("get", path)
    return {s["id"] for s in body} | {s["reblog"]["id"] for s in body if s.get("reblog")}


async def test_private_and_direct_reach_only_their_audience(api: Api) -> None:
    alice, follower, stranger, mentioned = await _cast(api)
    public = await alice.status("public #topic")
    private = await alice.status("followers only #topic", visibility="private")
    direct = await alice.status("psst @mia #topic", visibility="direct")
    assert [m["acct"] for m in direct["mentions"]] == ["mia"]

    # Status GET: 404 (not 403) for those who may not see it.
    for viewer, allowed in (
        (follower, {public["id"], private["id"]}),
        (stranger, {public["id"]}),
        (mentioned, {public["id"], direct["id"]}),
        (alice, {public["id"], private["id"], direct["id"]}),
    ):
        for s in (public, private, direct):
            resp = await viewer.get(f"/api/v1/statuses/{s['id']}")
            assert (resp.status == 200) == (s["id"] in allowed), (
                viewer.account.username,
                s["content"],
            )
    for s in (private, direct):
        assert (await api.client.get(f"/api/v1/statuses/{s['id']}")).status == 404

    # Account statuses.
    path = f"/api/v1/accounts/{alice.id}/statuses"
    assert await _ids(None, api, path) == {public["id"]}
    assert await _ids(stranger, api, path) == {public["id"]}
    assert await _ids(follower, api, path) == {public["id"], private["id"]}
    assert await _ids(mentioned, api, path) == {public["id"], direct["id"]}

    # Timelines: public and tag show only public; home shows what the follower may see.
    for viewer in (None, follower, stranger, mentioned):
        assert await _ids(viewer, api, "/api/v1/timelines/public") == {public["id"]}
        assert await _ids(viewer, api, "/api/v1/timelines/tag/topic") == {public["id"]}
    assert await _ids(follower, api, "/api/v1/timelines/home") == {public["id"], private["id"]}
    assert await _ids(stranger, api, "/api/v1/timelines/home") == set()

    # Context: replies inherit nothing; a private reply is hidden from strangers.
    reply = await alice.status("private reply", in_reply_to_id=public["id"], visibility="private")
    ctx_stranger = await stranger.json("get", f"/api/v1/statuses/{public['id']}/context")
    assert ctx_stranger["descendants"] == []
    ctx_follower = await follower.json("get", f"/api/v1/statuses/{public['id']}/context")
    assert [s["id"] for s in ctx_follower["descendants"]] == [reply["id"]]
    assert (await stranger.get(f"/api/v1/statuses/{reply['id']}/context")).status == 404

    # Interactions on an invisible status are 404 too, and favourited_by does not leak it.
    await follower.json("post", f"/api/v1/statuses/{private['id']}/favourite")
    assert (await stranger.post(f"/api/v1/statuses/{private['id']}/favourite")).status == 404
    assert (await stranger.get(f"/api/v1/statuses/{private['id']}/favourited_by")).status == 404
    favs = await alice.json("get", f"/api/v1/statuses/{private['id']}/favourited_by")
    assert [a["username"] for a in favs] == ["fran"]

    # Nobody can reblog a private or direct status of someone else.
    assert (await follower.post(f"/api/v1/statuses/{private['id']}/reblog")).status == 422
    assert (await mentioned.post(f"/api/v1/statuses/{direct['id']}/reblog")).status == 422


async def test_reblog_of_invisible_status_does_not_leak_through_home(api: Api) -> None:
    alice, follower, stranger, _ = await _cast(api)
    await stranger.json("post", f"/api/v1/accounts/{follower.id}/follow")
    public = await alice.status("public one")
    await follower.json("post", f"/api/v1/statuses/{public['id']}/reblog")
    home: list[dict[str, Any]] = await stranger.json("get", "/api/v1/timelines/home")
    assert [s["reblog"]["id"] for s in home if s["reblog"]] == [public["id"]]
    # Alice blocks the stranger: her status disappears even as someone else's reblog.
    await alice.json("post", f"/api/v1/accounts/{stranger.id}/block")
    home = await stranger.json("get", "/api/v1/timelines/home")
    assert home == []
    assert (await stranger.get(f"/api/v1/statuses/{public['id']}")).status == 404


async def test_blocks_and_mutes_both_ways(api: Api) -> None:
    alice, follower, stranger, _ = await _cast(api)
    s = await alice.status("hello world #blocktest")
    await stranger.json("post", f"/api/v1/accounts/{alice.id}/block")
    # The blocker does not see the blocked, and the blocked does not see the blocker.
    assert await _ids(stranger, api, "/api/v1/timelines/public") == set()
    assert await _ids(stranger, api, "/api/v1/timelines/tag/blocktest") == set()
    assert (await alice.get(f"/api/v1/statuses/{s['id']}")).status == 200
    blocked_view = await (await alice.get(f"/api/v1/accounts/{stranger.id}/statuses")).json()
    assert blocked_view == []
    assert (await stranger.get(f"/api/v1/statuses/{s['id']}")).status == 404
    # A block severs the follow it had.
    rel = await stranger.json("get", f"/api/v1/accounts/relationships?id[]={alice.id}")
    assert rel[0]["blocking"] is True and rel[0]["following"] is False
    rel = await alice.json("get", f"/api/v1/accounts/relationships?id[]={stranger.id}")
    assert rel[0]["blocked_by"] is True
    # Mutes hide from public and home timelines but not from a direct GET.
    await follower.json("post", f"/api/v1/accounts/{alice.id}/mute")
    assert await _ids(follower, api, "/api/v1/timelines/home") == set()
    assert await _ids(follower, api, "/api/v1/timelines/public") == set()
    assert (await follower.get(f"/api/v1/statuses/{s['id']}")).status == 200
    await follower.json("post", f"/api/v1/accounts/{alice.id}/unmute")
    assert await _ids(follower, api, "/api/v1/timelines/home") == {s["id"]}
