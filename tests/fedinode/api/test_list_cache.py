"""A list timeline is one query a page, rendered from the cache of status versions: counters
and edits show at once, marks are the owner's, a reblog of a status the owner may not see or
whose author the owner blocks is left out (its id still pages)."""

from __future__ import annotations

from typing import Any

from api_helpers import Actor, Api


async def _list(owner: Actor, members: list[Actor]) -> str:
    row = await owner.json("post", "/api/v1/lists", json={"title": "friends"})
    for m in members:
        await owner.json("post", f"/api/v1/accounts/{m.id}/follow")
    await owner.json(
        "post", f"/api/v1/lists/{row['id']}/accounts", json={"account_ids": [m.id for m in members]}
    )
    return f"/api/v1/timelines/list/{row['id']}"


async def _get(owner: Actor, path: str, **params: Any) -> list[dict[str, Any]]:
    return await owner.json("get", path, params=params)  # type: ignore[no-any-return]


async def test_counters_marks_edits_and_hidden_reblogs(api: Api) -> None:
    alice = await api.user("alice")
    bob = await api.user("bob")
    carol = await api.user("carol")
    path = await _list(bob, [alice])
    status = await alice.status("listed")
    for _ in range(2):  # the second read is served from the cache
        (row,) = await _get(bob, path)
        assert (row["id"], row["favourites_count"], row["favourited"]) == (status["id"], 0, False)
    await bob.json("post", f"/api/v1/statuses/{status['id']}/favourite")
    await carol.json("post", f"/api/v1/statuses/{status['id']}/favourite")
    (row,) = await _get(bob, path)
    assert (row["favourites_count"], row["favourited"]) == (2, True)
    await alice.json("put", f"/api/v1/statuses/{status['id']}", json={"status": "edited"})
    (row,) = await _get(bob, path)
    assert row["content"] == "<p>edited</p>"
    # Alice reblogs carol's status: shown until bob blocks carol; a private one never.
    original = await carol.status("carol's words")
    reblog = await alice.json("post", f"/api/v1/statuses/{original['id']}/reblog")
    shown = await _get(bob, path)
    assert [s["id"] for s in shown] == [reblog["id"], status["id"]]
    assert shown[0]["reblog"]["id"] == original["id"]
    await bob.json("post", f"/api/v1/accounts/{carol.id}/block")
    assert [s["id"] for s in await _get(bob, path)] == [status["id"]]
    # The hidden reblog still pages: a page of one ending at it links past it.
    resp = await bob.get(path, params={"limit": "1"})
    assert await resp.json() == []
    assert f"max_id={reblog['id']}" in resp.headers["Link"]


async def test_a_page_asked_again_is_the_same_as_the_home_timelines_rendering(api: Api) -> None:
    # The second read of a list page is joined from the encodings kept with each status
    # version; it shows each status exactly as the home timeline does, marks and filters
    # (a list filters in the home context) included.
    alice = await api.user("alice")
    bob = await api.user("bob")
    path = await _list(bob, [alice])
    first = await alice.status("about apples")
    second = await alice.status("about pears")
    await bob.json("post", f"/api/v1/statuses/{first['id']}/favourite")
    await bob.json("post", f"/api/v1/statuses/{second['id']}/bookmark")

    async def same_as_home() -> list[dict[str, Any]]:
        home = {s["id"]: s for s in await _get(bob, "/api/v1/timelines/home")}
        for _ in range(2):
            listed = await _get(bob, path)
            assert [s["id"] for s in listed] == [second["id"], first["id"]]
            assert listed == [home[s["id"]] for s in listed]
        return listed

    listed = await same_as_home()
    assert (listed[1]["favourited"], listed[0]["bookmarked"]) == (True, True)
    await bob.keyword_filter("fruit", "apples")
    listed = await same_as_home()
    assert [f["filter"]["title"] for f in listed[1]["filtered"]] == ["fruit"]
    assert listed[0]["filtered"] == []
