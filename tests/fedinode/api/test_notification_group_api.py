"""One notification group (GET /api/v2/notifications/:group_key), its accounts
(…/:group_key/accounts) and the grouped unread count."""

from __future__ import annotations

from typing import Any

import pytest
from api_helpers import Actor, Api

from fedinode.services import notifications
from storage.ids import now_ms


async def _favourited_by_three(api: Api) -> tuple[Actor, list[Actor], dict[str, Any]]:
    """alice's status favourited by bob, carol and dave in that order, then bob mentions her."""
    alice = await api.user("alice")
    fans = [await api.user(name) for name in ("bob", "carol", "dave")]
    s = await alice.status("popular")
    for fan in fans:
        await fan.json("post", f"/api/v1/statuses/{s['id']}/favourite")
    await fans[0].status("@alice ping")
    return alice, fans, s


def _key(listing: dict[str, Any], type_: str) -> str:
    [key] = [g["group_key"] for g in listing["notification_groups"] if g["type"] == type_]
    return key  # type: ignore[no-any-return]


async def test_one_group_with_its_accounts_and_status(api: Api) -> None:
    alice, (bob, carol, dave), s = await _favourited_by_three(api)
    key = _key(await alice.json("get", "/api/v2/notifications"), "favourite")
    body = await alice.json("get", f"/api/v2/notifications/{key}")
    [group] = body["notification_groups"]
    assert group["group_key"] == key and group["type"] == "favourite"
    assert group["notifications_count"] == 3 and group["status_id"] == s["id"]
    assert group["sample_account_ids"] == [dave.id, carol.id, bob.id]
    assert [a["id"] for a in body["accounts"]] == [dave.id, carol.id, bob.id]
    assert [x["id"] for x in body["statuses"]] == [s["id"]]
    # Shown whole, not cut from a page: no page bounds, as Mastodon.
    assert "page_min_id" not in group and "page_max_id" not in group


async def test_group_accounts_newest_first_and_paged(api: Api) -> None:
    alice, (bob, carol, dave), _ = await _favourited_by_three(api)
    key = _key(await alice.json("get", "/api/v2/notifications"), "favourite")
    accounts = await alice.json("get", f"/api/v2/notifications/{key}/accounts")
    assert [a["id"] for a in accounts] == [dave.id, carol.id, bob.id]
    assert accounts[0]["username"] == "dave"
    first = await alice.get(f"/api/v2/notifications/{key}/accounts?limit=2")
    assert [a["id"] for a in await first.json()] == [dave.id, carol.id]
    next_url = first.links["next"]["url"]
    rest = await alice.json("get", next_url.path + "?" + next_url.query_string)
    assert [a["id"] for a in rest] == [bob.id]


async def test_ungrouped_key_names_one_notification(api: Api) -> None:
    alice, (bob, _, _), _ = await _favourited_by_three(api)
    key = _key(await alice.json("get", "/api/v2/notifications"), "mention")
    assert key.startswith("ungrouped-")
    body = await alice.json("get", f"/api/v2/notifications/{key}")
    [group] = body["notification_groups"]
    assert group["group_key"] == key and group["type"] == "mention"
    assert group["notifications_count"] == 1 and group["sample_account_ids"] == [bob.id]
    assert [x["content"] for x in body["statuses"]] != []
    assert group["status_id"] == body["statuses"][0]["id"]
    accounts = await alice.json("get", f"/api/v2/notifications/{key}/accounts")
    assert [a["id"] for a in accounts] == [bob.id]


async def test_other_users_and_unknown_keys_are_not_found(api: Api) -> None:
    alice, (bob, _, _), s = await _favourited_by_three(api)
    listing = await alice.json("get", "/api/v2/notifications")
    keys = [_key(listing, "favourite"), _key(listing, "mention")]
    for key in keys:
        for tail in ("", "/accounts"):
            assert (await bob.get(f"/api/v2/notifications/{key}{tail}")).status == 404
            assert (await alice.get(f"/api/v2/notifications/{key}{tail}")).status == 200
    # A mention keeps a key in the database that no client is shown: it names no group.
    unknown = ["favourite-1", "ungrouped-1", "ungrouped-x", f"mention-{s['id']}", "nothing"]
    for key in unknown:
        for tail in ("", "/accounts"):
            resp = await alice.get(f"/api/v2/notifications/{key}{tail}")
            assert resp.status == 404, key
            assert await resp.json() == {"error": "Record not found"}


async def test_needs_read_notifications_scope(api: Api) -> None:
    alice, _, _ = await _favourited_by_three(api)
    key = _key(await alice.json("get", "/api/v2/notifications"), "favourite")
    other = await api.token_for(alice.account, scopes="read:statuses write")
    narrow = await api.token_for(alice.account, scopes="read:notifications")
    for tail in ("", "/accounts"):
        assert (await other.get(f"/api/v2/notifications/{key}{tail}")).status == 403
        assert (await narrow.get(f"/api/v2/notifications/{key}{tail}")).status == 200


async def test_grouped_unread_count_counts_groups(api: Api) -> None:
    alice, (bob, _, _), _ = await _favourited_by_three(api)
    await bob.json("post", f"/api/v1/accounts/{alice.id}/follow")
    # One group of favourites, one follow, one mention.
    count = await alice.json("get", "/api/v2/notifications/unread_count")
    assert count == {"count": 3}
    only_follows = "/api/v2/notifications/unread_count?grouped_types[]=follow"
    assert await alice.json("get", only_follows) == {"count": 5}
    assert await alice.json("get", "/api/v2/notifications/unread_count?limit=2") == {"count": 2}
    assert (await alice.json("get", "/api/v1/notifications/unread_count"))["count"] == 5
    listing = await alice.json("get", "/api/v1/notifications")
    await alice.json(
        "post", "/api/v1/markers", json={"notifications": {"last_read_id": listing[1]["id"]}}
    )
    # The follow is left unread.
    assert await alice.json("get", "/api/v2/notifications/unread_count") == {"count": 1}


async def test_partial_avatars_send_the_newest_account_of_a_group_whole(api: Api) -> None:
    alice, (bob, carol, dave), _ = await _favourited_by_three(api)
    body = await alice.json("get", "/api/v2/notifications?expand_accounts=partial_avatars")
    # The mention is bob's, the favourites' newest is dave's; carol is only sampled.
    assert [a["id"] for a in body["accounts"]] == [bob.id, dave.id]
    assert "note" in body["accounts"][0]
    [partial] = body["partial_accounts"]
    assert partial == {
        "id": carol.id,
        "acct": "carol",
        "url": partial["url"],
        "avatar": partial["avatar"],
        "avatar_static": partial["avatar_static"],
        "locked": False,
        "bot": False,
    }
    assert partial["url"].endswith("/@carol") and partial["avatar"].startswith("http")
    full = await alice.json("get", "/api/v2/notifications?expand_accounts=full")
    assert "partial_accounts" not in full
    assert {a["id"] for a in full["accounts"]} == {bob.id, carol.id, dave.id}
    bad = await alice.get("/api/v2/notifications?expand_accounts=everything")
    assert bad.status == 400 and "expand_accounts" in (await bad.json())["error"]


async def test_a_large_group_counts_all_and_samples_the_newest_eight(api: Api) -> None:
    alice = await api.user("alice")
    s = await alice.status("viral")
    fans = [await api.user(f"fan{i}") for i in range(10)]
    for fan in fans:
        await fan.json("post", f"/api/v1/statuses/{s['id']}/favourite")
    [key] = [
        g["group_key"]
        for g in (await alice.json("get", "/api/v2/notifications"))["notification_groups"]
    ]
    [group] = (await alice.json("get", f"/api/v2/notifications/{key}"))["notification_groups"]
    assert group["notifications_count"] == 10
    assert group["sample_account_ids"] == [f.id for f in reversed(fans)][:8]
    accounts = await alice.json("get", f"/api/v2/notifications/{key}/accounts")
    assert [a["id"] for a in accounts] == [f.id for f in reversed(fans)]


async def test_dismissing_a_key_of_an_ungrouped_type_deletes_nothing(api: Api) -> None:
    """Only favourite, reblog and follow notifications form groups; a mention is its own
    ("ungrouped-<id>"), whatever key it was stored with."""
    alice, _fans, _s = await _favourited_by_three(api)
    [mention] = await alice.json("get", "/api/v1/notifications?types[]=mention")
    await alice.json("post", f"/api/v2/notifications/mention-{mention['status']['id']}/dismiss")
    assert [n["id"] for n in await alice.json("get", "/api/v1/notifications?types[]=mention")] == [
        mention["id"]
    ]
    await alice.json("post", f"/api/v2/notifications/ungrouped-{mention['id']}/dismiss")
    assert await alice.json("get", "/api/v1/notifications?types[]=mention") == []


async def test_hostile_group_keys_and_paging_are_refused_without_a_server_error(api: Api) -> None:
    alice, _fans, _s = await _favourited_by_three(api)
    key = _key(await alice.json("get", "/api/v2/notifications"), "favourite")
    for bad in (
        "ungrouped-" + "9" * 40,  # beyond a BIGINT
        "ungrouped-",
        "ungrouped--1",
        "favourite-%00",
        "x" * 5000,
        "%F0%9F%92%A5-1",
    ):
        for path in (f"/api/v2/notifications/{bad}", f"/api/v2/notifications/{bad}/accounts"):
            resp = await alice.get(path)  # a null byte is refused as such (400)
            assert resp.status == (400 if "%00" in bad else 404), (path[:60], resp.status)
        resp = await alice.post(f"/api/v2/notifications/{bad}/dismiss")
        assert resp.status < 500, (bad[:60], resp.status)
    for query in ("max_id=abc", "limit=-5", "limit=99999999999999999999", "since_id=" + "9" * 40):
        resp = await alice.get(f"/api/v2/notifications/{key}/accounts?{query}")
        body = await resp.json()
        assert resp.status == 200 or (resp.status in (400, 422) and body["error"]), (query, body)
    # Nothing was lost to any of it.
    [group] = (await alice.json("get", f"/api/v2/notifications/{key}"))["notification_groups"]
    assert group["notifications_count"] == 3


def _clock(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The time notifications are grouped by, half past an hour, moved by setting [0]."""
    hour = 3_600_000
    at = [now_ms() // hour * hour + hour // 2]
    monkeypatch.setattr(notifications, "now_ms", lambda: at[0])
    return at


async def test_a_group_takes_members_for_twelve_hours(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = _clock(monkeypatch)
    start, hour = clock[0], 3_600_000
    alice = await api.user("alice")
    fans = [await api.user(name) for name in ("bob", "carol", "dave", "erin")]
    s = await alice.status("popular")
    for fan, after in zip(fans, (0, 11, 13, 14), strict=True):
        clock[0] = start + after * hour
        await fan.json("post", f"/api/v1/statuses/{s['id']}/favourite")
        await fan.json("post", f"/api/v1/accounts/{alice.id}/follow")
    body = await alice.json("get", "/api/v2/notifications")
    groups = [(g["type"], g["sample_account_ids"]) for g in body["notification_groups"]]
    bob, carol, dave, erin = (f.id for f in fans)
    # Favourites and follows after 13 and 14 hours begin new groups; one after 11 joins.
    assert groups == [
        ("follow", [erin, dave]),
        ("favourite", [erin, dave]),
        ("follow", [carol, bob]),
        ("favourite", [carol, bob]),
    ]
    keys = [g["group_key"] for g in body["notification_groups"]]
    first = start // hour
    assert keys == [
        f"follow-{first + 13}",
        f"favourite-{s['id']}-{first + 13}",
        f"follow-{first}",
        f"favourite-{s['id']}-{first}",
    ]
    for key, count in zip(keys, (2, 2, 2, 2), strict=True):
        [whole] = (await alice.json("get", f"/api/v2/notifications/{key}"))["notification_groups"]
        assert whole["notifications_count"] == count
    assert await alice.json("get", "/api/v2/notifications/unread_count") == {"count": 4}
    await alice.json("post", f"/api/v2/notifications/{keys[3]}/dismiss")
    after = await alice.json("get", "/api/v2/notifications")
    assert [g["group_key"] for g in after["notification_groups"]] == keys[:3]


async def test_a_group_keyed_before_groups_closed_stays_whole_and_takes_no_one(
    api: Api,
) -> None:
    alice, bob, carol = await api.user("alice"), await api.user("bob"), await api.user("carol")
    s = await alice.status("popular")
    await bob.json("post", f"/api/v1/accounts/{alice.id}/follow")
    await bob.json("post", f"/api/v1/statuses/{s['id']}/favourite")
    # The keys notifications had before: per status, and per recipient for follows.
    old = {"favourite": f"favourite-{s['id']}", "follow": f"follow-{alice.id}"}
    await api.store.db.execute(
        "UPDATE notifications SET group_key = CASE type WHEN 'follow' THEN $1 ELSE $2 END"
        " WHERE account_id = $3",
        old["follow"],
        old["favourite"],
        alice.account.id,
    )
    await carol.json("post", f"/api/v1/accounts/{alice.id}/follow")
    await carol.json("post", f"/api/v1/statuses/{s['id']}/favourite")
    groups = (await alice.json("get", "/api/v2/notifications"))["notification_groups"]
    assert [(g["type"], g["sample_account_ids"]) for g in groups] == [
        ("favourite", [carol.id]),
        ("follow", [carol.id]),
        ("favourite", [bob.id]),
        ("follow", [bob.id]),
    ]
    assert [g["group_key"] for g in groups[2:]] == [old["favourite"], old["follow"]]
    for key in old.values():
        [whole] = (await alice.json("get", f"/api/v2/notifications/{key}"))["notification_groups"]
        assert whole["notifications_count"] == 1
        accounts = await alice.json("get", f"/api/v2/notifications/{key}/accounts")
        assert [a["id"] for a in accounts] == [bob.id]
        await alice.json("post", f"/api/v2/notifications/{key}/dismiss")
    assert len((await alice.json("get", "/api/v2/notifications"))["notification_groups"]) == 2
