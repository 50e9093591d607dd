"""Events through Redis pub/sub: what ``[events] url = "redis://…"`` selects.

The same contract as the database's LISTEN/NOTIFY (``Database.listen`` / ``notify``): a
payload published on a channel reaches every process subscribed to it at that moment, and
nothing is durable. Channels are named ``<prefix><channel>``, so several instances can share
one Redis.

A subscription outlives Redis restarts: the subscriber's connection is made again (0.1 s,
then doubling up to 5 s between tries) and the channel subscribed again, while whoever reads
the messages keeps waiting on the same iterator. What was published in between is lost, as
it is for a process that was not listening. Publishing while Redis is away raises (callers
treat events as best effort) and the next publish connects again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import redis.asyncio as aioredis

log = logging.getLogger("storage.events")

_QUEUE = 1000  # messages a slow reader may fall behind before newer ones are dropped
_RETRY_FIRST = 0.1
_RETRY_MOST = 5.0
_TIMEOUT = 5.0  # seconds for connecting and for one publish


class RedisEvents:
    """Publish and subscribe through one Redis; ``close()`` when done."""

    def __init__(self, url: str, prefix: str) -> None:
        self.url = url
        self.prefix = prefix
        # Publishing: short timeouts, so a Redis that hangs delays a post by seconds at most.
        self._publisher: Any = aioredis.Redis.from_url(
            url, socket_connect_timeout=_TIMEOUT, socket_timeout=_TIMEOUT
        )
        # Subscribing: a quiet channel is normal, so reads wait without a timeout; keepalive
        # and Redis's own close on restart end a dead connection.
        self._subscriber: Any = aioredis.Redis.from_url(
            url, socket_connect_timeout=_TIMEOUT, socket_keepalive=True, decode_responses=True
        )
        self.reconnects = 0  # subscriptions made again after a lost connection

    async def close(self) -> None:
        await self._publisher.aclose()
        await self._subscriber.aclose()

    async def ready(self) -> bool:
        """Whether Redis answers (on the publishing connection, with its short timeouts)."""
        try:
            return bool(await self._publisher.ping())
        except Exception:  # refused, timed out, answered oddly: not ready, whatever the cause
            return False

    async def notify(self, channel: str, payload: str) -> None:
        await self._publisher.publish(self.prefix + channel, payload)

    async def _subscribe(self, name: str) -> Any:
        pubsub = self._subscriber.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(name)
        except BaseException:
            await pubsub.aclose()
            raise
        return pubsub

    async def _pump(self, name: str, first: Any, queue: asyncio.Queue[str]) -> None:
        pubsub: Any = first
        delay = _RETRY_FIRST
        try:
            while True:
                if pubsub is None:
                    try:
                        pubsub = await self._subscribe(name)
                    except Exception:  # Redis away (or answering oddly): try again
                        await asyncio.sleep(delay)
                        delay = min(delay * 2, _RETRY_MOST)
                        continue
                    self.reconnects += 1
                    delay = _RETRY_FIRST
                    log.info("events: subscribed to %s again", name)
                try:
                    async for message in pubsub.listen():
                        if message.get("type") != "message":
                            continue
                        data = message.get("data")
                        if isinstance(data, str) and not queue.full():
                            queue.put_nowait(data)
                except Exception:  # whatever ended it, the subscriber must not be lost
                    log.warning("events: lost the Redis subscription to %s; reconnecting", name)
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
                pubsub = None
                await asyncio.sleep(delay)  # never a tight loop, whatever ended the last one
        finally:
            if pubsub is not None:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    @asynccontextmanager
    async def listen(self, channel: str) -> AsyncIterator[AsyncIterator[str]]:
        """Subscribed on entry (raises if Redis cannot be reached then); afterwards the
        messages keep coming across reconnects until the context is left."""
        name = self.prefix + channel
        queue: asyncio.Queue[str] = asyncio.Queue(maxsize=_QUEUE)
        first = await self._subscribe(name)
        pump = asyncio.create_task(self._pump(name, first, queue), name=f"events-{name}")

        async def messages() -> AsyncIterator[str]:
            while True:
                yield await queue.get()

        try:
            yield messages()
        finally:
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump
