"""Notifications read their statuses in one query and render them from the cache of status
versions: a status's counters and edits show at once, marks are the reader's own."""

from __future__ import annotations

from typing import Any

from api_helpers import Actor, Api

from activitypub.urls import Urls
from fedinode.api import schemas
from fedinode.services.context import Ctx
from fedinode.services.notifications import load_notification_views
from storage.paging import Page

NOTIFICATIONS = "/api/v1/notifications"


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
