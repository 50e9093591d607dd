"""Scheduled statuses: ``scheduled_at`` on posting, /api/v1/scheduled_statuses, and the
worker posting a due one exactly once (clock moved in the database, no waiting)."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from api_helpers import Actor, Api
from extras_rig import with_media_dir
from PIL import Image
from test_entities import MEDIA_ATTACHMENT, NULL, ListOf, Table, check

from fedinode import appkeys
from fedinode.api import entities
from fedinode.app import create_app
from fedinode.config import Config
from fedinode.federation import federator_of
from fedinode.services import statuses as status_service
from fedinode.services.context import Ctx
from fedinode.services.scheduled_statuses import publish_due
from storage.scheduled import publish_key
from storage.store import Store


@pytest.fixture
async def api(aiohttp_client: Any, config: Config, tmp_path: Any) -> Api:
    """The client API with its media under the test's own directory."""
    config = with_media_dir(config, tmp_path)
    client: TestClient[Any, Any] = await aiohttp_client(create_app(config))
    return Api(client=client, config=config)


# https://docs.joinmastodon.org/entities/ScheduledStatus/
SCHEDULED_STATUS: Table = {
    "id": (str,),
    "scheduled_at": (str,),
    "params": (
        {
            "text": (str,),
            "poll": ({"options": (ListOf(str),), "expires_in": (str,), "multiple": (bool,),
                      "hide_totals": (bool,)}, NULL),
            "media_ids": (ListOf(str), NULL),
            "sensitive": (bool, NULL),
            "spoiler_text": (str, NULL),
            "visibility": (str, NULL),
            "in_reply_to_id": (int, NULL),
            "language": (str, NULL),
            "application_id": (int, NULL),
            "scheduled_at": (NULL,),
            "idempotency": (str, NULL),
            "with_rate_limit": (bool,),
        },
    ),
    "media_attachments": (ListOf(MEDIA_ATTACHMENT),),
}


def _at(minutes: float) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _ctx(api: Api, store: Store | None = None) -> Ctx:
    app = api.client.app
    return Ctx(
        store=store or app[appkeys.STORE],
        config=app[appkeys.CONFIG],
        urls=app[appkeys.URLS],
        federation=federator_of(app),
    )


async def _upload(alice: Actor) -> dict[str, Any]:
    png = io.BytesIO()
    Image.new("RGB", (20, 10), (10, 200, 10)).save(png, "PNG")
    body = aiohttp.FormData()
    body.add_field("file", png.getvalue(), filename="g.png", content_type="image/png")
    return await alice.json("post", "/api/v2/media", data=body)  # type: ignore[no-any-return]


async def _own_statuses(api: Api, actor: Actor) -> list[dict[str, Any]]:
    return await actor.json("get", f"/api/v1/accounts/{actor.id}/statuses")  # type: ignore[no-any-return]


async def test_schedule_list_update_delete(api: Api) -> None:
    alice = await api.user("alice")
    bob = await api.user("bob")
    media = await _upload(alice)
    when = _at(60)
    scheduled = await alice.json(
        "post",
        "/api/v1/statuses",
        json={"status": "later, #tagged", "scheduled_at": when, "media_ids": [media["id"]],
              "visibility": "unlisted", "spoiler_text": "cw"},
    )
    check(scheduled, SCHEDULED_STATUS, entities.ScheduledStatus, "ScheduledStatus")
    assert scheduled["scheduled_at"] == when
    assert scheduled["params"]["text"] == "later, #tagged"
    assert scheduled["params"]["visibility"] == "unlisted"
    assert scheduled["params"]["media_ids"] == [media["id"]]
    assert [m["id"] for m in scheduled["media_attachments"]] == [media["id"]]
    # Not posted yet.
    assert await _own_statuses(api, alice) == []

    listed = await alice.json("get", "/api/v1/scheduled_statuses")
    assert [s["id"] for s in listed] == [scheduled["id"]]
    assert await bob.json("get", "/api/v1/scheduled_statuses") == []
    one = await alice.json("get", f"/api/v1/scheduled_statuses/{scheduled['id']}")
    assert one == scheduled
    await bob.json("get", f"/api/v1/scheduled_statuses/{scheduled['id']}", expect=404)

    later = _at(120)
    moved = await alice.json(
        "put", f"/api/v1/scheduled_statuses/{scheduled['id']}", json={"scheduled_at": later}
    )
    assert moved["scheduled_at"] == later
    too_soon = await alice.json(
        "put", f"/api/v1/scheduled_statuses/{scheduled['id']}", json={"scheduled_at": _at(2)},
        expect=422,
    )  # fmt: skip
    assert "5 minutes" in too_soon["error"]
    await bob.json("put", f"/api/v1/scheduled_statuses/{scheduled['id']}",
                   json={"scheduled_at": later}, expect=404)  # fmt: skip

    # The attachment waits with the scheduled status: it cannot be deleted meanwhile.
    await alice.json("delete", f"/api/v1/media/{media['id']}", expect=422)

    await bob.json("delete", f"/api/v1/scheduled_statuses/{scheduled['id']}", expect=404)
    assert await alice.json("delete", f"/api/v1/scheduled_statuses/{scheduled['id']}") == {}
    assert await alice.json("get", "/api/v1/scheduled_statuses") == []
    await alice.json("get", f"/api/v1/scheduled_statuses/{scheduled['id']}", expect=404)
    await alice.json("delete", f"/api/v1/media/{media['id']}")


async def test_too_soon_past_or_invalid_post_is_refused(api: Api) -> None:
    alice = await api.user("alice")
    for when in (_at(4), _at(-10)):
        body = await alice.json(
            "post", "/api/v1/statuses", json={"status": "x", "scheduled_at": when}, expect=422
        )
        assert "5 minutes" in body["error"]
    bad = await alice.json(
        "post", "/api/v1/statuses", json={"status": "x", "scheduled_at": "tomorrow"}, expect=422
    )
    assert "Scheduled at" in bad["error"]
    # What posting refuses is refused when scheduling, not silently dropped later.
    await alice.json(
        "post", "/api/v1/statuses", json={"status": "", "scheduled_at": _at(30)}, expect=422
    )
    await alice.json(
        "post",
        "/api/v1/statuses",
        json={"status": "x", "scheduled_at": _at(30), "media_ids": ["12345"]},
        expect=422,
    )
    assert await alice.json("get", "/api/v1/scheduled_statuses") == []


async def test_paging_with_link_header(api: Api) -> None:
    alice = await api.user("alice")
    with_poll = await alice.json(
        "post",
        "/api/v1/statuses",
        json={"status": "vote later", "scheduled_at": _at(40),
              "poll": {"options": ["a", "b"], "expires_in": 600}},
    )  # fmt: skip
    check(with_poll, SCHEDULED_STATUS, entities.ScheduledStatus, "ScheduledStatus (poll)")
    assert with_poll["params"]["poll"]["options"] == ["a", "b"]
    await alice.json("delete", f"/api/v1/scheduled_statuses/{with_poll['id']}")
    ids = []
    for n in range(3):
        s = await alice.json(
            "post", "/api/v1/statuses", json={"status": f"n{n}", "scheduled_at": _at(30 + n)}
        )
        ids.append(s["id"])
    resp = await alice.get("/api/v1/scheduled_statuses?limit=2")
    first = await resp.json()
    assert [s["id"] for s in first] == ids[::-1][:2]
    assert "rel=\"next\"" in resp.headers["Link"]
    rest = await alice.json("get", f"/api/v1/scheduled_statuses?max_id={first[-1]['id']}")
    assert [s["id"] for s in rest] == [ids[0]]


async def test_due_status_is_posted_once_with_its_media(api: Api, database_url: str) -> None:
    alice = await api.user("alice")
    media = await _upload(alice)
    scheduled = await alice.json(
        "post",
        "/api/v1/statuses",
        json={"status": "posted by the worker", "scheduled_at": _at(10),
              "media_ids": [media["id"]], "language": "en"},
    )
    assert await publish_due(_ctx(api)) == 0  # not due yet
    await api.store.scheduled_statuses.make_due(int(scheduled["id"]))

    # Two processes (two stores on the one database) race for it: one status results.
    other = await Store.open(database_url)
    try:
        await asyncio.gather(publish_due(_ctx(api)), publish_due(_ctx(api, other)))
    finally:
        await other.close()

    posted = await _own_statuses(api, alice)
    assert [s["content"] for s in posted] == ["<p>posted by the worker</p>"]
    assert [m["id"] for m in posted[0]["media_attachments"]] == [media["id"]]
    assert posted[0]["language"] == "en"
    assert await alice.json("get", "/api/v1/scheduled_statuses") == []
    assert await publish_due(_ctx(api)) == 0


async def test_a_worker_that_died_after_posting_does_not_post_twice(api: Api) -> None:
    alice = await api.user("alice")
    scheduled = await alice.json(
        "post", "/api/v1/statuses", json={"status": "once", "scheduled_at": _at(10)}
    )
    sid = int(scheduled["id"])
    # The status went out under the row's key, then the process died before deleting the row.
    await status_service.post_status(
        _ctx(api),
        alice.account,
        status_service.StatusInput(text="once", media_ids=[], poll=None, in_reply_to_id=None,
                                   sensitive=False, spoiler_text="", visibility=None,
                                   language=None),
        application_id=None,
        idempotency_key=publish_key(sid),
    )  # fmt: skip
    await api.store.scheduled_statuses.make_due(sid)
    assert await publish_due(_ctx(api)) == 1
    assert len(await _own_statuses(api, alice)) == 1
    assert await api.store.scheduled_statuses.get(sid) is None


async def test_a_status_that_can_no_longer_be_posted_is_dropped(api: Api) -> None:
    alice = await api.user("alice")
    parent = await alice.status("parent")
    scheduled = await alice.json(
        "post",
        "/api/v1/statuses",
        json={"status": "reply", "scheduled_at": _at(10), "in_reply_to_id": parent["id"]},
    )
    assert scheduled["params"]["in_reply_to_id"] == int(parent["id"])
    await alice.json("delete", f"/api/v1/statuses/{parent['id']}")
    await api.store.scheduled_statuses.make_due()
    assert await publish_due(_ctx(api)) == 1
    assert await _own_statuses(api, alice) == []
    assert await alice.json("get", "/api/v1/scheduled_statuses") == []
