"""Notifications read their statuses in one query and render them from the cache of status
versions: a status's counters and edits show at once, marks are the reader's own."""

from __future__ import annotations

from typing import Any

from api_helpers import Actor, Api

from activitypub.urls import Urls
from fedinode.api import schemas
from fedinode.services.context import Ctx
from fedinode.services.notifications import (
    GROUPABLE,
    NotificationGroupView,
    group_notifications,
    load_notification_views,
)
from storage.paging import Page

NOTIFICATIONS = "/api/v1/notifications"
GROUPED = "/api/v2/notifications"


async def _statuses(actor: Actor) -> list[dict[str, Any]]:
    rows = await actor.json("get", NOTIFICATIONS)
    return [n["status"] for n in rows if n.get("status") is not None]


async def test_counters_edits_and_marks_show_at_once(api: Api) -> None:
    alice = await api.user("alice")
    bob = await api.user("bob")
    carol = await api.user("carol")
    status = await alice.status("hello @bob @carol")
    for viewer in (bob, carol):
        for _ in range(2):  # the second read is served from the cache
            (shown,) = await _statuses(viewer)
            assert shown["id"] == status["id"] and shown["favourites_count"] == 0
    await bob.json("post", f"/api/v1/statuses/{status['id']}/favourite")
    (mine,) = await _statuses(bob)
    assert (mine["favourites_count"], mine["favourited"]) == (1, True)
    (theirs,) = await _statuses(carol)
    assert (theirs["favourites_count"], theirs["favourited"]) == (1, False)
    # Alice's own notification (bob's favourite) shows the same status with her marks.
    (own,) = await _statuses(alice)
    assert (own["id"], own["favourites_count"], own["favourited"]) == (status["id"], 1, False)
    await alice.json(
        "put", f"/api/v1/statuses/{status['id']}", json={"status": "edited @bob @carol"}
    )
    for viewer in (bob, carol):
        shown = (await _statuses(viewer))[-1]
        assert "edited" in shown["content"] and shown["edited_at"] is not None
    await alice.json("delete", f"/api/v1/statuses/{status['id']}")
    assert await _statuses(bob) == []


async def test_a_page_is_what_each_notification_renders(api: Api) -> None:
    """The page joined from kept status encodings is the page of rendered notifications:
    mentions, favourites, reblogs, follows, polls, filtered statuses, reports, for two
    readers."""
    alice = await api.user("alice", admin=True)
    bob = await api.user("bob")
    carol = await api.user("carol")
    await bob.json("post", f"/api/v1/accounts/{alice.account.id}/follow")
    mention = await bob.status("hi @alice")
    poll = await carol.status("vote @alice", poll={"options": ["x", "y"]})
    own = await alice.status("mine")
    await bob.json("post", f"/api/v1/statuses/{own['id']}/favourite")
    await carol.json("post", f"/api/v1/statuses/{own['id']}/reblog")
    await alice.json("post", f"/api/v1/statuses/{mention['id']}/bookmark")
    await alice.json("post", f"/api/v1/statuses/{mention['id']}/favourite")
    await alice.status("back to you @bob")
    await carol.json("post", "/api/v1/reports", json={"account_id": str(bob.account.id)})
    await alice.json("post", f"/api/v1/statuses/{poll['id']}/favourite")
    await alice.json(
        "post", "/api/v1/filters", json={"phrase": "vote", "context": ["notifications"]}
    )
    for reader in (alice, bob, alice):  # alice twice: from what the first read kept
        rows = await reader.json("get", NOTIFICATIONS)
        assert rows, reader.account.username
        stored = await api.store.notifications.list(reader.account.id, Page(limit=40))
        ctx = Ctx(api.store, api.config, Urls(api.config.base_url))
        views = await load_notification_views(ctx, stored, reader.account.id)
        viewer = reader.account.id
        expected = [schemas.notification_view_to_api(v, api.config, viewer) for v in views]
        assert rows == expected
    types = {n["type"] for n in await alice.json("get", NOTIFICATIONS)}
    assert {"mention", "favourite", "reblog", "follow", "admin.report"} <= types


def _grouped_to_api(
    groups: list[NotificationGroupView], api: Api, viewer_id: int
) -> dict[str, Any]:
    """The grouped page as dicts, rendered afresh: each account and status once, in order of
    first appearance, beside the groups."""
    accounts: dict[int, Any] = {}
    statuses: dict[int, Any] = {}
    for m in (m for g in groups for m in g.members):
        accounts.setdefault(m.account.id, m.account)
        if m.status is not None:
            statuses.setdefault(m.status.status.id, m.status)
    base = api.config.base_url
    return {
        "accounts": [schemas.account_to_api(a, base) for a in accounts.values()],
        "statuses": [schemas.status_to_api(s, api.config, viewer_id) for s in statuses.values()],
        "notification_groups": [schemas.notification_group_to_api(g, base) for g in groups],
    }


async def test_a_grouped_page_is_what_its_groups_render(api: Api) -> None:
    """/api/v2/notifications joined from kept status encodings is the grouped page rendered
    afresh: favourites, reblogs and follows grouped from several accounts, mentions, a poll,
    a filtered status, a report, for two readers whose marks on a status differ."""
    alice = await api.user("alice", admin=True)
    bob = await api.user("bob")
    carol = await api.user("carol")
    dave = await api.user("dave")
    for follower in (bob, carol, dave):
        await follower.json("post", f"/api/v1/accounts/{alice.account.id}/follow")
    mention = await bob.status("hi @alice")
    poll = await carol.status("vote @alice", poll={"options": ["x", "y"]})
    own = await alice.status("mine")
    for fan in (bob, carol, dave):
        await fan.json("post", f"/api/v1/statuses/{own['id']}/favourite")
    for booster in (carol, dave):
        await booster.json("post", f"/api/v1/statuses/{own['id']}/reblog")
    await alice.json("post", f"/api/v1/statuses/{mention['id']}/bookmark")
    await alice.json("post", f"/api/v1/statuses/{mention['id']}/favourite")
    await dave.json("post", f"/api/v1/statuses/{mention['id']}/favourite")
    await alice.status("back to you @bob")
    await carol.json("post", "/api/v1/reports", json={"account_id": str(bob.account.id)})
    await alice.json("post", f"/api/v1/statuses/{poll['id']}/favourite")
    await alice.json(
        "post", "/api/v1/filters", json={"phrase": "vote", "context": ["notifications"]}
    )
    ctx = Ctx(api.store, api.config, Urls(api.config.base_url))
    for reader in (alice, bob, alice):  # alice twice: from what the first read kept
        page = await reader.json("get", GROUPED)
        stored = await api.store.notifications.list(reader.account.id, Page(limit=40))
        views = await load_notification_views(ctx, stored, reader.account.id)
        groups = group_notifications(views, GROUPABLE)
        assert page == _grouped_to_api(groups, api, reader.account.id)
    page = await alice.json("get", GROUPED)
    counts = {(g["type"], g["notifications_count"]) for g in page["notification_groups"]}
    assert {("favourite", 3), ("reblog", 2), ("follow", 3), ("mention", 1)} <= counts
    assert "admin.report" in {g["type"] for g in page["notification_groups"]}
    shown = {s["id"]: s for s in page["statuses"]}
    assert shown[poll["id"]]["poll"] is not None and shown[poll["id"]]["filtered"]
    assert shown[mention["id"]]["favourited"] and shown[mention["id"]]["bookmarked"]
    bobs = await bob.json("get", GROUPED)
    (theirs,) = [s for s in bobs["statuses"] if s["id"] == mention["id"]]
    assert not theirs["favourited"] and not theirs["bookmarked"]
