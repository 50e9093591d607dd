"""Filters v2 outside the timelines: notifications, threads and account statuses."""

from __future__ import annotations

from typing import Any

from api_helpers import Actor, Api


async def _filters(alice: Actor, contexts: list[str]) -> None:
    for title, action, keyword in (("spoilers", "hide", "spoiler"), ("dune", "warn", "Dune")):
        await alice.json(
            "post",
            "/api/v2/filters",
            json={
                "title": title,
                "context": contexts,
                "filter_action": action,
                "keywords_attributes": [{"keyword": keyword}],
            },
        )


def _by_id(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {s["id"]: s for s in items}


async def test_notifications_context(api: Api) -> None:
    alice, bob = await api.user("alice"), await api.user("bob")
    await _filters(alice, ["notifications"])
    hidden = await bob.status("@alice big spoiler ahead")
    warned = await bob.status("@alice Dune is great")
    plain = await bob.status("@alice hello")
    notes = await alice.json("get", "/api/v1/notifications")
    statuses = {n["status"]["id"]: n["status"] for n in notes}
    assert set(statuses) == {warned["id"], plain["id"]}
    assert statuses[warned["id"]]["filtered"][0]["filter"]["title"] == "dune"
    assert statuses[warned["id"]]["filtered"][0]["keyword_matches"] == ["Dune"]
    assert statuses[plain["id"]]["filtered"] == []
    grouped = await alice.json("get", "/api/v2/notifications")
    assert hidden["id"] not in {s["id"] for s in grouped["statuses"]}
    assert {g["status_id"] for g in grouped["notification_groups"]} == {warned["id"], plain["id"]}
    # The filters are about notifications only: the thread shows both.
    thread = await alice.json("get", f"/api/v1/statuses/{hidden['id']}")
    assert thread["filtered"] == []


async def test_thread_context(api: Api) -> None:
    alice, bob = await api.user("alice"), await api.user("bob")
    await _filters(alice, ["thread"])
    root = await bob.status("a thread")
    hidden = await bob.status("spoiler reply", in_reply_to_id=root["id"])
    warned = await bob.status("Dune reply", in_reply_to_id=root["id"])
    leaf = await bob.status("a reply below it", in_reply_to_id=hidden["id"])
    context = await alice.json("get", f"/api/v1/statuses/{root['id']}/context")
    descendants = _by_id(context["descendants"])
    assert hidden["id"] not in descendants
    assert descendants[warned["id"]]["filtered"][0]["filter"]["filter_action"] == "warn"
    assert descendants[leaf["id"]]["filtered"] == []
    up = await alice.json("get", f"/api/v1/statuses/{leaf['id']}/context")
    assert [s["id"] for s in up["ancestors"]] == [root["id"]]
    # Bob's own statuses are never filtered for him, and he has no filters anyway.
    own = await bob.json("get", f"/api/v1/statuses/{root['id']}/context")
    assert len(own["descendants"]) == 3
    # Contexts matter: account statuses are not filtered by a thread filter.
    listed = _by_id(await alice.json("get", f"/api/v1/accounts/{bob.id}/statuses"))
    assert hidden["id"] in listed and listed[warned["id"]]["filtered"] == []


async def test_account_context(api: Api) -> None:
    alice, bob = await api.user("alice"), await api.user("bob")
    await _filters(alice, ["account"])
    hidden = await bob.status("spoiler alert")
    warned = await bob.status("Dune again")
    plain = await bob.status("nothing to see")
    listed = await alice.json("get", f"/api/v1/accounts/{bob.id}/statuses")
    assert [s["id"] for s in listed] == [plain["id"], warned["id"]]
    assert listed[1]["filtered"][0]["keyword_matches"] == ["Dune"]
    anonymous = await api.anon(f"/api/v1/accounts/{bob.id}/statuses")
    assert hidden["id"] in [s["id"] for s in anonymous]
    # Alice's own filters never hide her own statuses.
    mine = await alice.status("my spoiler")
    assert [s["id"] for s in await alice.json("get", f"/api/v1/accounts/{alice.id}/statuses")] == [
        mine["id"]
    ]
