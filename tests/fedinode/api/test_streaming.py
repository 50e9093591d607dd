"""Streaming over WebSocket and server-sent events: who receives which event."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import orjson
from extras_rig import Rig, User, make_rig

from fedinode.config import Config
from storage import events


async def next_event(ws: Any, wait: float = 3.0) -> dict[str, Any]:
    msg = await asyncio.wait_for(ws.receive(), wait)
    return orjson.loads(msg.data)  # type: ignore[no-any-return]


async def no_event(ws: Any, wait: float = 0.3) -> None:
    try:
        msg = await asyncio.wait_for(ws.receive(), wait)
    except TimeoutError:
        return
    raise AssertionError(f"unexpected message {msg.data!r}")


async def setup(
    aiohttp_client: Any, config: Config, tmp_path: Path
) -> tuple[Rig, User, User, User]:
    rig = await make_rig(aiohttp_client, config, tmp_path)
    alice = await rig.user("alice")
    bob = await rig.user("bob")
    carol = await rig.user("carol")
    await rig.store.relationships.follow(alice.account.id, bob.account.id)
    return rig, alice, bob, carol


async def test_websocket_user_stream_gets_followed_posts_not_foreign_private_ones(
    aiohttp_client: Any, config: Config, tmp_path: Path
) -> None:
    rig, alice, bob, carol = await setup(aiohttp_client, config, tmp_path)
    ws = await rig.client.ws_connect(f"/api/v1/streaming?access_token={alice.token}&stream=user")

    await rig.post(
        carol, "carol followers only", visibility="private"
    )  # alice doesn't follow carol
    await rig.post(carol, "carol public")  # public, but not followed: not in home
    status = await rig.post(bob, "bob says hi")
    event = await next_event(ws)
    assert event["stream"] == ["user"] and event["event"] == "update"
    payload = orjson.loads(event["payload"])
    assert payload["id"] == str(status.id) and payload["account"]["username"] == "bob"
    assert payload["filtered"] == []
    await no_event(ws)

    private = await rig.post(bob, "bob private", visibility="private")
    assert orjson.loads((await next_event(ws))["payload"])["id"] == str(private.id)

    await events.publish(
        rig.store.db, "status.deleted", status_id=status.id, account_id=bob.account.id
    )
    deleted = await next_event(ws)
    assert deleted == {"stream": ["user"], "event": "delete", "payload": str(status.id)}
    await ws.close()


async def test_websocket_subscribe_many_streams_and_hashtags(
    aiohttp_client: Any, config: Config, tmp_path: Path
) -> None:
    rig, alice, _bob, carol = await setup(aiohttp_client, config, tmp_path)
    ws = await rig.client.ws_connect(
        "/api/v1/streaming", headers={"Authorization": f"Bearer {alice.token}"}
    )
    await ws.send_str(orjson.dumps({"type": "subscribe", "stream": "public:local"}).decode())
    await ws.send_str(
        orjson.dumps({"type": "subscribe", "stream": "hashtag", "tag": "Café"}).decode()
    )
    await ws.send_str(orjson.dumps({"type": "subscribe", "stream": "list", "list": "999"}).decode())
    error = await next_event(ws)
    assert error["error"] and error["status"] == 404
    await asyncio.sleep(0.05)

    tagged = await rig.post(carol, "#café time", tags=["café"])
    got = [await next_event(ws), await next_event(ws)]
    assert sorted(tuple(e["stream"]) for e in got) == [("hashtag", "café"), ("public:local",)]
    assert all(orjson.loads(e["payload"])["id"] == str(tagged.id) for e in got)
    await rig.post(carol, "unlisted", visibility="unlisted")
    await no_event(ws)

    await ws.send_str(orjson.dumps({"type": "unsubscribe", "stream": "public:local"}).decode())
    await asyncio.sleep(0.05)
    await rig.post(carol, "#café again", tags=["café"])
    only = await next_event(ws)
    assert only["stream"] == ["hashtag", "café"]
    await no_event(ws)
    await ws.close()


async def test_websocket_token_in_subprotocol_and_notifications(
    aiohttp_client: Any, config: Config, tmp_path: Path
) -> None:
    rig, alice, bob, carol = await setup(aiohttp_client, config, tmp_path)
    ws = await rig.client.ws_connect(
        "/api/v1/streaming?stream=user:notification", protocols=(alice.token,)
    )
    assert ws.protocol == alice.token
    n = await rig.store.notifications.create(alice.account.id, carol.account.id, "follow")
    assert n is not None
    await events.publish(
        rig.store.db, "notification", notification_id=n.id, account_id=alice.account.id
    )
    event = await next_event(ws)
    assert event["event"] == "notification" and event["stream"] == ["user:notification"]
    body = orjson.loads(event["payload"])
    assert body["type"] == "follow" and body["account"]["username"] == "carol"
    # Bob's notification never reaches Alice.
    m = await rig.store.notifications.create(bob.account.id, carol.account.id, "follow")
    assert m is not None
    await events.publish(
        rig.store.db, "notification", notification_id=m.id, account_id=bob.account.id
    )
    await no_event(ws)
    await ws.close()


async def test_stream_refusals(aiohttp_client: Any, config: Config, tmp_path: Path) -> None:
    rig, alice, _bob, _carol = await setup(aiohttp_client, config, tmp_path)
    resp = await rig.client.get("/api/v1/streaming/user")
    assert resp.status == 401
    resp = await rig.client.get("/api/v1/streaming/user", headers={"Authorization": "Bearer nope"})
    assert resp.status == 401
    writer = await rig.user("writer", scopes="write")
    resp = await rig.client.get("/api/v1/streaming/user", headers=writer.auth)
    assert resp.status == 403
    resp = await rig.client.get("/api/v1/streaming/hashtag", headers=alice.auth)
    assert resp.status == 400
    health = await rig.client.get("/api/v1/streaming/health")
    assert health.status == 200 and await health.text() == "OK"


async def read_sse_event(resp: Any, wait: float = 3.0) -> tuple[str, str]:
    event = data = ""
    while True:
        line = (await asyncio.wait_for(resp.content.readline(), wait)).decode().rstrip("\n")
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: "):
            data = line[6:]
        elif line == "" and event:
            return event, data


async def test_sse_user_and_public_streams(
    aiohttp_client: Any, config: Config, tmp_path: Path
) -> None:
    rig, alice, bob, carol = await setup(aiohttp_client, config, tmp_path)
    user = await rig.client.get("/api/v1/streaming/user", headers=alice.auth)
    assert user.status == 200 and user.content_type == "text/event-stream"
    public = await rig.client.get("/api/v1/streaming/public/local")
    assert public.status == 200
    await asyncio.sleep(0.05)

    await rig.post(carol, "carol private", visibility="private")
    seen = await rig.post(bob, "bob private", visibility="private")
    event, data = await read_sse_event(user)
    assert event == "update" and orjson.loads(data)["id"] == str(seen.id)

    public_post = await rig.post(carol, "hello world")
    event, data = await read_sse_event(public)
    # Private posts never reach the public stream: the first event is the public one.
    assert event == "update" and orjson.loads(data)["id"] == str(public_post.id)
    user.close()
    public.close()


async def test_filters_apply_to_streams(
    aiohttp_client: Any, config: Config, tmp_path: Path
) -> None:
    rig, alice, bob, _carol = await setup(aiohttp_client, config, tmp_path)
    await alice.call(
        "POST",
        "/api/v2/filters",
        json={
            "title": "no spoilers",
            "context": ["home"],
            "filter_action": "warn",
            "keywords_attributes": [{"keyword": "dune", "whole_word": True}],
        },
    )
    await alice.call(
        "POST",
        "/api/v2/filters",
        json={
            "title": "never",
            "context": ["home"],
            "filter_action": "hide",
            "keywords_attributes": [{"keyword": "سیاست", "whole_word": False}],
        },
    )
    ws = await rig.client.ws_connect(f"/api/v1/streaming?access_token={alice.token}&stream=user")
    await rig.post(bob, "درباره‌ی سیاست امروز")
    warned = await rig.post(bob, "Dune is great")
    event = await next_event(ws)
    # The two filters made before the stream opened are news to it if PostgreSQL's
    # notification of them reached the hub after it subscribed (a client re-reads filters).
    while event == {"stream": ["user"], "event": "filters_changed"}:
        event = await next_event(ws)
    payload = orjson.loads(event["payload"])
    assert payload["id"] == str(warned.id)
    assert payload["filtered"][0]["filter"]["title"] == "no spoilers"
    assert payload["filtered"][0]["keyword_matches"] == ["dune"]
    await no_event(ws)
    await alice.call(
        "POST",
        "/api/v2/filters",
        json={"title": "x", "context": ["public"], "keywords_attributes": [{"keyword": "x"}]},
    )
    changed = await next_event(ws)
    assert changed == {"stream": ["user"], "event": "filters_changed"}
    await ws.close()


async def test_an_edit_streams_each_viewer_their_own_marks(
    aiohttp_client: Any, config: Config, tmp_path: Path
) -> None:
    """The status of an event is rendered once and shared; what each viewer did to it
    (favourited, bookmarked) is theirs alone."""
    rig, alice, bob, carol = await setup(aiohttp_client, config, tmp_path)
    await rig.store.relationships.follow(carol.account.id, bob.account.id)
    status = await rig.post(bob, "before the edit")
    await alice.call("POST", f"/api/v1/statuses/{status.id}/favourite")
    await carol.call("POST", f"/api/v1/statuses/{status.id}/bookmark")
    streams = {
        who.account.username: await rig.client.ws_connect(
            f"/api/v1/streaming?access_token={who.token}&stream=user"
        )
        for who in (alice, carol)
    }
    await asyncio.sleep(0.2)  # both subscribed
    await bob.call("PUT", f"/api/v1/statuses/{status.id}", json={"status": "after the edit"})
    seen = {}
    for name, ws in streams.items():
        event = await next_event(ws)
        while event["event"] != "status.update":
            event = await next_event(ws)
        payload = orjson.loads(event["payload"])
        assert payload["content"] == "<p>after the edit</p>"
        seen[name] = (payload["favourited"], payload["bookmarked"], payload["favourites_count"])
        await ws.close()
    assert seen == {"alice": (True, False, 1), "carol": (False, True, 1)}


async def test_a_blocked_domain_streams_only_followed_authors_to_home(
    aiohttp_client: Any, config: Config, tmp_path: Path
) -> None:
    from tests.storage.factories import remote_account

    rig, alice, bob, carol = await setup(aiohttp_client, config, tmp_path)
    dave = await remote_account(rig.store, "dave", "remote.test")
    erin = await remote_account(rig.store, "erin", "remote.test")
    await rig.store.relationships.follow(alice.account.id, dave.id)
    await rig.store.account_domain_blocks.block(alice.account.id, "remote.test")
    ws = await rig.client.ws_connect(
        "/api/v1/streaming", headers={"Authorization": f"Bearer {alice.token}"}
    )
    for stream in ("user", "public"):
        await ws.send_str(orjson.dumps({"type": "subscribe", "stream": stream}).decode())
    await asyncio.sleep(0.05)

    from_erin = await rig.post(erin, "erin public")
    await rig.post(bob, "bob shares erin", reblog_of_id=from_erin.id)
    from_dave = await rig.post(dave, "dave public")
    got = await next_event(ws)
    assert got["stream"] == ["user"] and orjson.loads(got["payload"])["id"] == str(from_dave.id)
    await no_event(ws)  # nor dave's on the public stream
    from_carol = await rig.post(carol, "carol public")
    got = await next_event(ws)
    assert got["stream"] == ["public"] and orjson.loads(got["payload"])["id"] == str(from_carol.id)
    await ws.close()
