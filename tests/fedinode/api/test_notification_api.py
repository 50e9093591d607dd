"""Notifications v1 (filters, dismiss, clear, unread count) and grouped v2."""

from __future__ import annotations

from api_helpers import Api


async def test_v1_filters_dismiss_clear(api: Api) -> None:
    alice = await api.user("alice")
    bob = await api.user("bob")
    carol = await api.user("carol")
    s = await alice.status("hello")
    await bob.json("post", f"/api/v1/statuses/{s['id']}/favourite")
    await carol.json("post", f"/api/v1/statuses/{s['id']}/favourite")
    await bob.status("@alice hi")
    await bob.json("post", f"/api/v1/accounts/{alice.id}/follow")
    all_ = await alice.json("get", "/api/v1/notifications")
    assert [n["type"] for n in all_] == ["follow", "mention", "favourite", "favourite"]
    mention = all_[1]
    assert "@<span>alice</span>" in mention["status"]["content"] and mention[
        "group_key"
    ].startswith("ungrouped-")
    only = await alice.json("get", "/api/v1/notifications?types[]=mention")
    assert [n["type"] for n in only] == ["mention"]
    excl = await alice.json(
        "get", "/api/v1/notifications?exclude_types[]=favourite&exclude_types[]=follow"
    )
    assert [n["type"] for n in excl] == ["mention"]
    from_carol = await alice.json("get", f"/api/v1/notifications?account_id={carol.id}")
    assert [n["account"]["id"] for n in from_carol] == [carol.id]
    assert (await alice.json("get", "/api/v1/notifications/unread_count"))["count"] == 4
    assert (await alice.json("get", f"/api/v1/notifications/{mention['id']}"))["id"] == mention[
        "id"
    ]
    assert (await bob.get(f"/api/v1/notifications/{mention['id']}")).status == 404
    await alice.json("post", f"/api/v1/notifications/{mention['id']}/dismiss")
    assert len(await alice.json("get", "/api/v1/notifications")) == 3
    await alice.json("post", "/api/v1/notifications/clear")
    assert await alice.json("get", "/api/v1/notifications") == []


async def test_v2_groups_favourites_of_one_status(api: Api) -> None:
    alice = await api.user("alice")
    fans = [await api.user(f"fan{i}") for i in range(3)]
    s = await alice.status("popular")
    for fan in fans:
        await fan.json("post", f"/api/v1/statuses/{s['id']}/favourite")
    await fans[0].status("@alice ping")
    body = await alice.json("get", "/api/v2/notifications")
    groups = body["notification_groups"]
    assert [g["type"] for g in groups] == ["mention", "favourite"]
    fav = groups[1]
    assert fav["notifications_count"] == 3 and fav["status_id"] == s["id"]
    assert set(fav["sample_account_ids"]) == {f.id for f in fans}
    assert {a["id"] for a in body["accounts"]} == {f.id for f in fans}
    assert s["id"] in {x["id"] for x in body["statuses"]}
    await alice.json("post", f"/api/v2/notifications/{fav['group_key']}/dismiss")
    body = await alice.json("get", "/api/v2/notifications")
    assert [g["type"] for g in body["notification_groups"]] == ["mention"]


async def test_admin_report_notification_carries_the_report(api: Api) -> None:
    admin = await api.user("root", admin=True, scopes="read write follow push admin:read")
    alice, bob = await api.user("alice"), await api.user("bob")
    bad = await bob.status("something rude")
    report = await alice.json(
        "post",
        "/api/v1/reports",
        json={
            "account_id": bob.id,
            "status_ids": [bad["id"]],
            "comment": "rude",
            "category": "spam",
        },
    )
    notes = await admin.json("get", "/api/v1/notifications")
    assert [n["type"] for n in notes] == ["admin.report"]
    note = notes[0]
    assert note["account"]["id"] == alice.id and note["status"] is None
    got = note["report"]
    assert got["id"] == report["id"] and got["comment"] == "rude" and got["category"] == "spam"
    assert got["target_account"]["id"] == bob.id and got["status_ids"] == [bad["id"]]
    single = await admin.json("get", f"/api/v1/notifications/{note['id']}")
    assert single["report"]["id"] == report["id"]
    grouped = await admin.json("get", "/api/v2/notifications")
    group = grouped["notification_groups"][0]
    assert group["type"] == "admin.report" and group["report"]["id"] == report["id"]
    assert group["report"]["target_account"]["id"] == bob.id
    # Other notifications carry no report.
    await alice.json("post", f"/api/v1/accounts/{admin.id}/follow")
    follow = (await admin.json("get", "/api/v1/notifications?types[]=follow"))[0]
    assert follow["report"] is None


async def test_blocking_clears_the_blockers_notifications_from_the_blocked(api: Api) -> None:
    alice, bob, carol = await api.user("alice"), await api.user("bob"), await api.user("carol")
    s = await alice.status("hello")
    for fan in (bob, carol):
        await fan.json("post", f"/api/v1/statuses/{s['id']}/favourite")
    await bob.status("@alice hi")
    await bob.json("post", f"/api/v1/accounts/{alice.id}/follow")
    await alice.status("@bob hi")
    assert len(await alice.json("get", "/api/v1/notifications")) == 4
    await alice.json("post", f"/api/v1/accounts/{bob.id}/block")
    left = await alice.json("get", "/api/v1/notifications")
    assert [(n["type"], n["account"]["id"]) for n in left] == [("favourite", carol.id)]
    assert (await alice.json("get", "/api/v1/notifications/unread_count"))["count"] == 1
    grouped = await alice.json("get", "/api/v2/notifications")
    [group] = grouped["notification_groups"]
    assert group["notifications_count"] == 1 and group["sample_account_ids"] == [carol.id]
    # Unblocking brings nothing back; the blocked account keeps what the blocker sent it.
    await alice.json("post", f"/api/v1/accounts/{bob.id}/unblock")
    assert len(await alice.json("get", "/api/v1/notifications")) == 1
    assert [n["type"] for n in await bob.json("get", "/api/v1/notifications")] == ["mention"]


async def test_notifications_from_a_suspended_account_are_not_shown(api: Api) -> None:
    root = await api.user("root", admin=True, scopes="read write admin:read admin:write")
    alice, bob, carol = await api.user("alice"), await api.user("bob"), await api.user("carol")
    s = await alice.status("hello")
    for fan in (bob, carol):
        await fan.json("post", f"/api/v1/statuses/{s['id']}/favourite")
    await bob.status("@alice hi")
    mention = (await alice.json("get", "/api/v1/notifications"))[0]
    key = (await alice.json("get", "/api/v2/notifications"))["notification_groups"][1]["group_key"]
    await root.json("post", f"/api/v1/admin/accounts/{bob.id}/action", json={"type": "suspend"})
    left = await alice.json("get", "/api/v1/notifications")
    assert [(n["type"], n["account"]["id"]) for n in left] == [("favourite", carol.id)]
    assert (await alice.get(f"/api/v1/notifications/{mention['id']}")).status == 404
    assert (await alice.json("get", "/api/v1/notifications/unread_count"))["count"] == 1
    [group] = (await alice.json("get", "/api/v2/notifications"))["notification_groups"]
    assert group["notifications_count"] == 1 and group["sample_account_ids"] == [carol.id]
    [whole] = (await alice.json("get", f"/api/v2/notifications/{key}"))["notification_groups"]
    assert whole["notifications_count"] == 1 and whole["sample_account_ids"] == [carol.id]
    accounts = await alice.json("get", f"/api/v2/notifications/{key}/accounts")
    assert [a["id"] for a in accounts] == [carol.id]
    assert await alice.json("get", "/api/v2/notifications/unread_count") == {"count": 1}
    # Lifting the suspension shows them again.
    await root.json("post", f"/api/v1/admin/accounts/{bob.id}/unsuspend")
    assert len(await alice.json("get", "/api/v1/notifications")) == 3
    assert (await alice.get(f"/api/v1/notifications/{mention['id']}")).status == 200
