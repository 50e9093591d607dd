"""/api/v1/streaming: WebSocket (many subscriptions per socket) and server-sent events."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import orjson
from aiohttp import WSMsgType, web

from fedinode import appkeys
from fedinode.api import auth, schemas
from fedinode.services.streaming import (
    Listener,
    StreamError,
    StreamHub,
    Subscription,
    resolve_subscription,
)

log = logging.getLogger("fedinode.streaming")

HUB = web.AppKey("fedinode.stream_hub", StreamHub)
HEARTBEAT_SECONDS = 15.0
# SSE paths → stream names.
SSE_STREAMS = {
    "user": "user",
    "user/notification": "user:notification",
    "public": "public",
    "public/media": "public:media",
    "public/local": "public:local",
    "public/local/media": "public:local:media",
    "public/remote": "public:remote",
    "public/remote/media": "public:remote:media",
    "hashtag": "hashtag",
    "hashtag/local": "hashtag:local",
    "list": "list",
    "direct": "direct",
}
_READ_SCOPES = ("read", "read:statuses")


async def hub_ctx(app: web.Application) -> AsyncIterator[None]:
    """The process's one event subscription, started with the app and stopped with it."""
    if app[appkeys.ROLE] not in ("all", "web"):
        yield
        return
    hub = StreamHub(app[appkeys.STORE], app[appkeys.CONFIG])
    app[HUB] = hub
    task = asyncio.create_task(hub.run(), name="fedinode-streaming")
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(hub.ready.wait(), timeout=5.0)
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    for listener in list(hub.listeners):
        listener.close()


async def health(request: web.Request) -> web.Response:
    return web.Response(text="OK", content_type="text/plain")


async def _listener(request: web.Request) -> Listener:
    found = await auth.current(request)
    if found is not None and not found.allows(*_READ_SCOPES, "read:notifications"):
        raise web.HTTPForbidden(reason=auth.OUTSIDE_SCOPES)
    return Listener(
        viewer=found.account if found is not None else None,
        scopes=found.scopes if found is not None else frozenset(),
    )


def _check_scope(listener: Listener, stream: str) -> None:
    if listener.viewer is None:
        return
    from fedinode.api.auth import scope_covers

    needed = ("read:notifications",) if stream == "user:notification" else ("read:statuses",)
    if not any(scope_covers(listener.scopes, n) for n in needed):
        raise StreamError(auth.OUTSIDE_SCOPES, 403)


async def _subscribe(
    request: web.Request,
    listener: Listener,
    stream: str | None,
    tag: str | None,
    list_id: str | None,
) -> Subscription:
    sub = await resolve_subscription(
        request.app[appkeys.STORE], listener, stream, tag=tag, list_id=list_id
    )
    _check_scope(listener, sub.stream)
    return sub


# -- server-sent events -------------------------------------------------------------------


async def stream_sse(request: web.Request) -> web.StreamResponse:
    name = SSE_STREAMS.get(request.match_info.get("stream", ""), "")
    return await _sse(request, name)


async def _sse(request: web.Request, stream: str | None) -> web.StreamResponse:
    hub = request.app[HUB]
    listener = await _listener(request)
    try:
        sub = await _subscribe(
            request, listener, stream, request.query.get("tag"), request.query.get("list")
        )
    except StreamError as exc:
        raise _http_error(exc) from None
    listener.subscriptions.add(sub)
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",
        }
    )
    hub.add(listener)  # before the headers go out, as for WebSockets
    try:
        await response.prepare(request)
        await response.write(b":)\n")
        while True:
            try:
                message = await asyncio.wait_for(listener.queue.get(), HEARTBEAT_SECONDS)
            except TimeoutError:
                await response.write(b":thump\n")
                continue
            if message is None:
                break
            payload = message.payload if message.payload is not None else "undefined"
            await response.write(f"event: {message.event}\ndata: {payload}\n\n".encode())
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        hub.remove(listener)
    return response


def _http_error(exc: StreamError) -> web.HTTPException:
    body = orjson.dumps(schemas.stream_error_to_api(exc.message)).decode()
    classes: dict[int, type[web.HTTPException]] = {
        401: web.HTTPUnauthorized,
        403: web.HTTPForbidden,
        404: web.HTTPNotFound,
    }
    cls = classes.get(exc.status, web.HTTPBadRequest)
    return cls(text=body, content_type="application/json")


# -- WebSocket ----------------------------------------------------------------------------


async def streaming_root(request: web.Request) -> web.StreamResponse:
    """``/api/v1/streaming``: a WebSocket when upgraded, else SSE for ``?stream=``."""
    upgrade = request.headers.get("Upgrade", "").lower() == "websocket"
    if not upgrade:
        return await _sse(request, request.query.get("stream"))
    hub = request.app[HUB]
    listener = await _listener(request)
    offered = [
        p.strip() for p in request.headers.get("Sec-WebSocket-Protocol", "").split(",") if p.strip()
    ]
    ws = web.WebSocketResponse(heartbeat=30.0, protocols=offered[:1])
    # The stream named in the URL is subscribed, and the listener joins the hub, before the
    # handshake completes: a client that acts as soon as its socket is open (posts, follows)
    # must get every event that follows, however long the lookups here take.
    initial = request.query.get("stream")
    refused: StreamError | None = None
    if initial:
        try:
            listener.subscriptions.add(
                await _subscribe(
                    request, listener, initial, request.query.get("tag"), request.query.get("list")
                )
            )
        except StreamError as exc:
            refused = exc
    hub.add(listener)
    writer: asyncio.Task[None] | None = None
    try:
        await ws.prepare(request)
        if refused is not None:
            error = schemas.stream_error_to_api(refused.message, refused.status)
            await ws.send_str(orjson.dumps(error).decode())
        writer = asyncio.create_task(_write(ws, listener))
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            reply = await _handle(request, listener, msg.data)
            if reply is not None:
                await ws.send_str(reply)
    finally:
        hub.remove(listener)
        if writer is not None:
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
    return ws


async def _write(ws: web.WebSocketResponse, listener: Listener) -> None:
    async for message in listener.messages():
        if ws.closed:
            return
        await ws.send_str(message.websocket_json())
    await ws.close()


async def _handle(request: web.Request, listener: Listener, raw: str) -> str | None:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return orjson.dumps(schemas.stream_error_to_api("Invalid JSON")).decode()
    if not isinstance(data, dict):
        return orjson.dumps(schemas.stream_error_to_api("Invalid message")).decode()
    kind = data.get("type")
    stream = data.get("stream")
    tag = data.get("tag")
    list_id = data.get("list")
    list_text = str(list_id) if isinstance(list_id, int | str) else None
    tag_text = tag if isinstance(tag, str) else None
    if kind not in ("subscribe", "unsubscribe"):
        return (
            orjson.dumps(schemas.stream_error_to_api("Unknown message type")).decode()
            if kind != "ping"
            else None
        )
    try:
        sub = await _subscribe(
            request, listener, stream if isinstance(stream, str) else None, tag_text, list_text
        )
    except StreamError as exc:
        return orjson.dumps(schemas.stream_error_to_api(exc.message, exc.status)).decode()
    if kind == "subscribe":
        listener.subscriptions.add(sub)
    else:
        listener.subscriptions.discard(sub)
    return None
