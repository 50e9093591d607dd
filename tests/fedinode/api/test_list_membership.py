"""List members are followed accounts: when a follow ends, the membership ends with it."""

from __future__ import annotations

from api_helpers import Actor, Api


async def _members(owner: Actor, list_id: str) -> set[str]:
    return {a["id"] for a in await owner.json("get", f"/api/v1/lists/{list_id}/accounts")}


async def test_unfollow_block_and_removal_from_followers_end_list_membership(api: Api) -> None:
    alice = await api.user("alice")
    bob, carol, dave, erin = [await api.user(n) for n in ("bob", "carol", "dave", "erin")]
    for other in (bob, carol, dave):
        await alice.json("post", f"/api/v1/accounts/{other.id}/follow")
    friends = await alice.json("post", "/api/v1/lists", json={"title": "friends"})
    lid = friends["id"]
    await alice.json(
        "post", f"/api/v1/lists/{lid}/accounts", json={"account_ids": [bob.id, carol.id, dave.id]}
    )
    await erin.json("post", f"/api/v1/accounts/{alice.id}/follow")
    erins = await erin.json("post", "/api/v1/lists", json={"title": "people"})
    await erin.json(
        "post", f"/api/v1/lists/{erins['id']}/accounts", json={"account_ids": [alice.id]}
    )
    assert await _members(alice, lid) == {bob.id, carol.id, dave.id}

    await alice.json("post", f"/api/v1/accounts/{bob.id}/unfollow")
    assert await _members(alice, lid) == {carol.id, dave.id}
    await alice.json("post", f"/api/v1/accounts/{carol.id}/block")
    assert await _members(alice, lid) == {dave.id}
    # Being blocked ends the blocked side's follow too.
    await dave.json("post", f"/api/v1/accounts/{alice.id}/block")
    assert await _members(alice, lid) == set()
    assert (await alice.json("get", f"/api/v1/accounts/{dave.id}/lists")) == []
    await alice.json("post", f"/api/v1/accounts/{erin.id}/remove_from_followers")
    assert await _members(erin, erins["id"]) == set()
    # Following again does not bring anyone back on its own.
    await alice.json("post", f"/api/v1/accounts/{bob.id}/follow")
    assert await _members(alice, lid) == set()
