"""Notifications read their statuses in one query and render them from the cache of status
versions: a status's counters and edits show at once, marks are the reader's own."""

from __future__ import annotations

from typing import Any

from api_helpers import Actor, Api

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
