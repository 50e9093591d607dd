"""The user stream and follows made through the API around the moment the stream opens.

Everything goes through the HTTP API and a real WebSocket (the aiohttp client against the
app served on loopback), on SQLite and on PostgreSQL: follow, open the stream, the
followed account posts; and a follow made while the stream is already open.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import orjson
import pytest
from extras_rig import User, make_rig

import fedinode.api.streaming as streaming_api
from fedinode.config import Config


async def next_event(ws: Any, wait: float = 3.0) -> dict[str, Any]:
    msg = await asyncio.wait_for(ws.receive(), wait)
    return orjson.loads(msg.data)  # type: ignore[no-any-return]


async def no_event(ws: Any, wait: float = 0.3) -> None:
    try:
        msg = await asyncio.wait_for(ws.receive(), wait)
    except TimeoutError:
        return
    raise AssertionError(f"unexpected message {msg.data!r}")


async def open_user_stream(user: User, style: str) -> Any:
    """The user stream named in the URL, or subscribed by message as masto.js does."""
    if style == "query":
        return await user.client.ws_connect(
            f"/api/v1/streaming?stream=user&access_token={user.token}"
        )
    ws = await user.client.ws_connect("/api/v1/streaming", headers=user.auth)
    await ws.send_str('{"type":"subscribe","stream":"user"}')
    # Messages are read in order and a subscribe is not answered: the answer to a bad message
    # sent after it shows that the subscription is in place.
    await ws.send_str('{"type":"nonsense"}')
    assert (await next_event(ws))["error"] == "Unknown message type"
    return ws


async def post(user: User, text: str) -> str:
    body = await user.call("POST", "/api/v1/statuses", json={"status": text})
    return str(body["id"])


async def assert_update(ws: Any, status_id: str, username: str) -> None:
    event = await next_event(ws)
    assert event["stream"] == ["user"] and event["event"] == "update", event
    payload = orjson.loads(event["payload"])
    assert payload["id"] == status_id and payload["account"]["username"] == username


@pytest.mark.parametrize("style", ["query", "message"])
async def test_follow_then_open_stream_gets_the_followed_accounts_posts(
    aiohttp_client: Any, config: Config, tmp_path: Path, style: str
) -> None:
    rig = await make_rig(aiohttp_client, config, tmp_path)
    alice, bob = await rig.user("alice"), await rig.user("bob")
    followed = await alice.call("POST", f"/api/v1/accounts/{bob.id}/follow")
    assert followed["following"] is True
    ws = await open_user_stream(alice, style)  # right after the follow

    await assert_update(ws, await post(bob, "bob right after the follow"), "bob")
    await assert_update(ws, await post(alice, "alice herself"), "alice")
    await assert_update(ws, await post(bob, "bob again"), "bob")
    await no_event(ws)
    home = await alice.call("GET", "/api/v1/timelines/home")
    assert [s["account"]["username"] for s in home] == ["bob", "alice", "bob"]
    await ws.close()


@pytest.mark.parametrize("style", ["query", "message"])
async def test_a_follow_made_while_streaming_takes_effect_at_once(
    aiohttp_client: Any, config: Config, tmp_path: Path, style: str
) -> None:
    rig = await make_rig(aiohttp_client, config, tmp_path)
    alice, carol = await rig.user("alice"), await rig.user("carol")
    ws = await open_user_stream(alice, style)
    await post(carol, "before the follow")
    await no_event(ws)

    await alice.call("POST", f"/api/v1/accounts/{carol.id}/follow")
    await assert_update(ws, await post(carol, "carol, followed while streaming"), "carol")

    await alice.call("POST", f"/api/v1/accounts/{carol.id}/unfollow")
    await post(carol, "after the unfollow")
    await no_event(ws)
    await ws.close()


async def test_the_stream_in_the_url_is_live_when_the_handshake_completes(
    aiohttp_client: Any, config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client may act the moment its socket opens: a slow lookup while the server sets up
    the subscription must delay the handshake, not lose the events that follow it."""
    rig = await make_rig(aiohttp_client, config, tmp_path)
    alice, bob = await rig.user("alice"), await rig.user("bob")
    await alice.call("POST", f"/api/v1/accounts/{bob.id}/follow")
    resolve = streaming_api.resolve_subscription

    async def slow_resolve(*args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(0.3)
        return await resolve(*args, **kwargs)

    monkeypatch.setattr(streaming_api, "resolve_subscription", slow_resolve)
    for path in ("/api/v1/streaming?stream=user", "/api/v1/streaming/user"):
        if path.endswith("/user"):
            resp = await alice.client.get(path, headers=alice.auth)
            assert resp.status == 200
            status_id = await post(bob, "right after the SSE headers")
            line = b""
            while not line.startswith(b"data: "):
                line = await asyncio.wait_for(resp.content.readline(), 3.0)
            assert orjson.loads(line[6:])["id"] == status_id
            resp.close()
        else:
            ws = await alice.client.ws_connect(path, headers=alice.auth)
            await assert_update(ws, await post(bob, "right after the handshake"), "bob")
            await ws.close()
