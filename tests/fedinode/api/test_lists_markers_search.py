"""Lists, markers, filters on timelines, search, followed tags, suggestions, conversations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from extras_rig import make_rig

from fedinode.config import Config


async def test_lists_crud_members_and_timeline(
    aiohttp_client: Any, config: Config, tmp_path: Path
) -> None:
    rig = await make_rig(aiohttp_client, config, tmp_path)
    alice, bob, carol = await rig.user("alice"), await rig.user("bob"), await rig.user("carol")
    await rig.store.relationships.follow(alice.account.id, bob.account.id)

    created = await alice.call(
        "POST", "/api/v1/lists", json={"title": "Friends", "replies_policy": "none"}
    )
    assert (
        created["title"] == "Friends"
        and created["replies_policy"] == "none"
        and created["exclusive"] is False
    )
    lid = created["id"]
    await alice.call("POST", "/api/v1/lists", json={"title": ""}, expect=422)
    await alice.call(
        "POST", "/api/v1/lists", json={"title": "x", "replies_policy": "bogus"}, expect=422
    )
    # Only followed accounts may be added.
    await alice.call(
        "POST", f"/api/v1/lists/{lid}/accounts", json={"account_ids": [carol.id]}, expect=422
    )
    await alice.call("POST", f"/api/v1/lists/{lid}/accounts", json={"account_ids": [bob.id]})
    members = await alice.call("GET", f"/api/v1/lists/{lid}/accounts")
    assert [m["id"] for m in members] == [bob.id]
    assert [x["id"] for x in await alice.call("GET", f"/api/v1/accounts/{bob.id}/lists")] == [lid]

    await bob.call("GET", f"/api/v1/lists/{lid}", expect=404)
    await bob.call("GET", f"/api/v1/timelines/list/{lid}", expect=404)

    first = await rig.post(bob, "in the list")
    await rig.post(carol, "not in the list")
    private = await rig.post(bob, "bob followers only", visibility="private")
    timeline = await alice.call("GET", f"/api/v1/timelines/list/{lid}")
    assert [s["id"] for s in timeline] == [str(private.id), str(first.id)]

    renamed = await alice.call("PUT", f"/api/v1/lists/{lid}", json={"title": "Pals"})
    assert renamed["title"] == "Pals" and renamed["replies_policy"] == "none"
    await alice.call("DELETE", f"/api/v1/lists/{lid}/accounts", params={"account_ids[]": bob.id})
    assert await alice.call("GET", f"/api/v1/lists/{lid}/accounts") == []
    await alice.call("DELETE", f"/api/v1/lists/{lid}")
    assert await alice.call("GET", "/api/v1/lists") == []
    reader_user = await rig.store.users.by_account(alice.account.id)
    assert reader_user is not None
    reader = await rig.token(reader_user.id, alice.account, "write:statuses")
    await reader.call("GET", "/api/v1/lists", expect=403)


async def test_markers(aiohttp_client: Any, config: Config, tmp_path: Path) -> None:
    rig = await make_rig(aiohttp_client, config, tmp_path)
    alice = await rig.user("alice")
    assert await alice.call("GET", "/api/v1/markers", params={"timeline[]": "home"}) == {}
    saved = await alice.call("POST", "/api/v1/markers", json={"home": {"last_read_id": "123"}})
    assert saved["home"]["last_read_id"] == "123" and saved["home"]["version"] == 1
    again = await alice.call(
        "POST",
        "/api/v1/markers",
        data={"home[last_read_id]": "456", "notifications[last_read_id]": "7"},
    )
    assert again["home"]["version"] == 2 and again["notifications"]["version"] == 1
    got = await alice.call("GET", "/api/v1/markers?timeline[]=home&timeline[]=notifications")
    assert got["home"]["last_read_id"] == "456" and got["notifications"]["last_read_id"] == "7"
    assert got["home"]["updated_at"].endswith("Z")
    await alice.call("POST", "/api/v1/markers", json={}, expect=422)


async def test_filters_crud_and_applied_to_timelines(
    aiohttp_client: Any, config: Config, tmp_path: Path
) -> None:
    rig = await make_rig(aiohttp_client, config, tmp_path)
    alice, bob = await rig.user("alice"), await rig.user("bob")
    await rig.store.relationships.follow(alice.account.id, bob.account.id)
    warn = await alice.call(
        "POST",
        "/api/v2/filters",
        json={
            "title": "spoilers",
            "context": ["home", "public"],
            "filter_action": "warn",
            "expires_in": 3600,
            "keywords_attributes": [{"keyword": "Dune", "whole_word": True}],
        },
    )
    assert (
        warn["filter_action"] == "warn"
        and warn["expires_at"]
        and warn["keywords"][0]["keyword"] == "Dune"
    )
    await alice.call(
        "POST",
        "/api/v2/filters",
        data={
            "title": "hidden",
            "context[]": "home",
            "filter_action": "hide",
            "keywords_attributes[][keyword]": "ネタバレ",
            "keywords_attributes[][whole_word]": "false",
        },
    )
    await alice.call(
        "POST", "/api/v2/filters", json={"title": "bad", "context": ["nowhere"]}, expect=422
    )
    assert len(await alice.call("GET", "/api/v2/filters")) == 2
    await bob.call("GET", f"/api/v2/filters/{warn['id']}", expect=404)

    hidden = await rig.post(bob, "これはネタバレです")
    warned = await rig.post(bob, "Dune part two!")
    plain = await rig.post(bob, "dunes of sand")  # whole word: no match
    home = await alice.call("GET", "/api/v1/timelines/list/0", expect=404)
    lst = await alice.call("POST", "/api/v1/lists", json={"title": "b"})
    await alice.call("POST", f"/api/v1/lists/{lst['id']}/accounts", json={"account_ids": [bob.id]})
    home = await alice.call("GET", f"/api/v1/timelines/list/{lst['id']}")
    assert [s["id"] for s in home] == [str(plain.id), str(warned.id)]
    assert home[0]["filtered"] == []
    assert home[1]["filtered"][0]["keyword_matches"] == ["Dune"]
    assert str(hidden.id) not in [s["id"] for s in home]

    kw = await alice.call(
        "POST",
        f"/api/v2/filters/{warn['id']}/keywords",
        json={"keyword": "sand", "whole_word": False},
    )
    assert (await alice.call("GET", f"/api/v2/filters/keywords/{kw['id']}"))["keyword"] == "sand"
    fs = await alice.call(
        "POST", f"/api/v2/filters/{warn['id']}/statuses", json={"status_id": str(plain.id)}
    )
    assert fs["status_id"] == str(plain.id)
    updated = await alice.call(
        "PUT",
        f"/api/v2/filters/{warn['id']}",
        json={
            "title": "spoilers2",
            "keywords_attributes": [{"id": warn["keywords"][0]["id"], "_destroy": True}],
        },
    )
    assert updated["title"] == "spoilers2" and [k["keyword"] for k in updated["keywords"]] == [
        "sand"
    ]
    assert updated["statuses"] == [fs]
    v1 = await alice.call("GET", "/api/v1/filters")
    assert {f["phrase"] for f in v1} == {"sand", "ネタバレ"}
    await alice.call("DELETE", f"/api/v2/filters/{warn['id']}")
    await alice.call("GET", f"/api/v2/filters/{warn['id']}", expect=404)
    reader_user = await rig.store.users.by_account(alice.account.id)
    assert reader_user is not None
    reader = await rig.token(reader_user.id, alice.account, "read")
    await reader.call(
        "POST", "/api/v2/filters", json={"title": "x", "context": ["home"]}, expect=403
    )


async def test_search_statuses_only_visible_in_any_script(
    aiohttp_client: Any, config: Config, tmp_path: Path
) -> None:
    rig = await make_rig(aiohttp_client, config, tmp_path)
    alice, bob, carol = await rig.user("alice"), await rig.user("bob"), await rig.user("carol")
    fa = await rig.post(bob, "سلام به همه دوستان")
    ja_private = await rig.post(bob, "今日は東京で寿司を食べました", visibility="private")
    await rig.post(bob, "direct to carol سلام", visibility="direct", mentions=[carol.account.id])

    found = await alice.call("GET", "/api/v2/search", params={"q": "سلام", "type": "statuses"})
    assert [s["id"] for s in found["statuses"]] == [str(fa.id)]
    assert (await alice.call("GET", "/api/v2/search", params={"q": "東京", "type": "statuses"}))[
        "statuses"
    ] == []
    assert len((await carol.call("GET", "/api/v2/search", params={"q": "سلام"}))["statuses"]) == 2
    await rig.store.relationships.follow(alice.account.id, bob.account.id)
    found = await alice.call("GET", "/api/v2/search", params={"q": "東京 寿司"})
    assert [s["id"] for s in found["statuses"]] == [str(ja_private.id)]
    # Anonymous search never returns statuses.
    resp = await rig.client.get("/api/v2/search", params={"q": "سلام"})
    assert (await resp.json())["statuses"] == []

    accounts = await alice.call("GET", "/api/v2/search", params={"q": "bo", "type": "accounts"})
    assert [a["username"] for a in accounts["accounts"]] == ["bob"]
    exact = await alice.call("GET", "/api/v2/search", params={"q": "@carol@local.test"})
    assert exact["accounts"][0]["username"] == "carol"
    await rig.store.relationships.block(bob.account.id, alice.account.id)
    assert (await alice.call("GET", "/api/v2/search", params={"q": "سلام"}))["statuses"] == []


async def test_followed_tags_and_tag_entity(
    aiohttp_client: Any, config: Config, tmp_path: Path
) -> None:
    rig = await make_rig(aiohttp_client, config, tmp_path)
    alice, bob = await rig.user("alice"), await rig.user("bob")
    await rig.post(bob, "#日本 photo", tags=["日本"])
    tag = await alice.call("GET", "/api/v1/tags/日本")
    assert tag["name"] == "日本" and tag["following"] is False and tag["history"][0]["uses"] == "1"
    followed = await alice.call("POST", "/api/v1/tags/日本/follow")
    assert followed["following"] is True
    new = await alice.call("POST", "/api/v1/tags/Brand_New/follow")
    assert new["name"] == "Brand_New"
    assert sorted(t["name"] for t in await alice.call("GET", "/api/v1/followed_tags")) == [
        "Brand_New",
        "日本",
    ]
    hashtags = await alice.call("GET", "/api/v2/search", params={"q": "#日", "type": "hashtags"})
    assert (
        hashtags["hashtags"][0]["name"] == "日本" and hashtags["hashtags"][0]["following"] is True
    )
    assert (await alice.call("POST", "/api/v1/tags/日本/unfollow"))["following"] is False
    await alice.call("GET", "/api/v1/tags/nope", expect=404)


async def test_suggestions(aiohttp_client: Any, config: Config, tmp_path: Path) -> None:
    rig = await make_rig(aiohttp_client, config, tmp_path)
    a, b, c, d = [await rig.user(n) for n in ("alice", "bob", "carol", "dave")]
    await rig.store.relationships.follow(a.account.id, b.account.id)
    await rig.store.relationships.follow(b.account.id, c.account.id)
    got = await a.call("GET", "/api/v2/suggestions")
    assert [(s["account"]["username"], s["sources"]) for s in got] == [
        ("carol", ["friends_of_friends"]),
        ("dave", ["most_followed"]),
    ]
    await a.call("DELETE", f"/api/v1/suggestions/{d.id}")
    assert [s["username"] for s in await a.call("GET", "/api/v1/suggestions")] == ["carol"]


async def test_conversations(aiohttp_client: Any, config: Config, tmp_path: Path) -> None:
    rig = await make_rig(aiohttp_client, config, tmp_path)
    alice, bob, carol = await rig.user("alice"), await rig.user("bob"), await rig.user("carol")
    dm = await rig.post(
        bob, "secret", visibility="direct", mentions=[alice.account.id], conversation="tag:c1"
    )
    convs = await alice.call("GET", "/api/v1/conversations")
    assert len(convs) == 1 and convs[0]["unread"] is True
    assert convs[0]["last_status"]["id"] == str(dm.id)
    assert [a["username"] for a in convs[0]["accounts"]] == ["bob"]
    assert await carol.call("GET", "/api/v1/conversations") == []
    read = await alice.call("POST", f"/api/v1/conversations/{convs[0]['id']}/read")
    assert read["unread"] is False
    await carol.call("POST", f"/api/v1/conversations/{convs[0]['id']}/read", expect=404)
    await alice.call("DELETE", f"/api/v1/conversations/{convs[0]['id']}")
    assert await alice.call("GET", "/api/v1/conversations") == []


async def test_account_search_finds_an_exact_handle_even_when_muted_or_blocked(
    aiohttp_client: Any, config: Config, tmp_path: Path
) -> None:
    rig = await make_rig(aiohttp_client, config, tmp_path)
    alice, bob = await rig.user("alice"), await rig.user("bobby")
    await rig.user("bobcat")
    await alice.call("POST", f"/api/v1/accounts/{bob.id}/mute")

    async def names(q: str) -> list[str]:
        found = await alice.call("GET", "/api/v2/search", params={"q": q, "type": "accounts"})
        return [a["acct"] for a in found["accounts"]]

    # A partial match leaves the muted account out; the exact handle finds it (to unmute).
    assert await names("bob") == ["bobcat"]
    for q in ("bobby", "@bobby", "BOBBY", "bobby@local.test", "@bobby@local.test"):
        assert await names(q) == ["bobby"], q
    await alice.call("POST", f"/api/v1/accounts/{bob.id}/unmute")
    await alice.call("POST", f"/api/v1/accounts/{bob.id}/block")
    assert await names("bobby") == ["bobby"]
    assert await names("bob") == ["bobcat"]
