"""Events through Redis pub/sub (``[events] url = "redis://…"``): they reach the other stores
of the same database and prefix, not the database's own channel, and a subscription lives
through a Redis restart."""

from __future__ import annotations

import asyncio
import secrets
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from redis_rig import SKIP_REASON, free_port, redis_url, start_server

from storage import events
from storage.store import Store

pytestmark = pytest.mark.skipif(redis_url() is None, reason=SKIP_REASON)


def shared_redis() -> str:
    """Redis on 127.0.0.1:6379 (or the run's own): each test uses its own channel prefix."""
    url = redis_url()
    assert url is not None
    return url


def unique_prefix() -> str:
    return f"fedinode-test-{secrets.token_hex(6)}:"


class Inbox:
    """What a subscription received, read with time limits (a cancelled ``anext`` would
    end the subscription's iterator)."""

    def __init__(self, messages: AsyncIterator[str]) -> None:
        self.queue: asyncio.Queue[str] = asyncio.Queue()
        self.task = asyncio.create_task(self._copy(messages))

    async def _copy(self, messages: AsyncIterator[str]) -> None:
        async for message in messages:
            self.queue.put_nowait(message)

    def close(self) -> None:
        self.task.cancel()


async def next_within(inbox: Inbox, seconds: float = 5.0) -> Any:
    return orjson.loads(await asyncio.wait_for(inbox.queue.get(), seconds))


async def nothing_within(inbox: Inbox, seconds: float = 0.3) -> bool:
    try:
        await asyncio.wait_for(inbox.queue.get(), seconds)
    except TimeoutError:
        return True
    return False


async def test_events_travel_through_redis_between_stores_of_one_database(
    database_url: str,
) -> None:
    prefix = unique_prefix()
    mine = await Store.open(database_url, events_url=shared_redis(), events_prefix=prefix)
    other = await Store.open(database_url, events_url=shared_redis(), events_prefix=prefix)
    stranger = await Store.open(database_url, events_url=shared_redis(), events_prefix=unique_prefix())
    plain = await Store.open(database_url)  # the database's own channel
    try:
        async with events.subscribe(mine.db) as messages, events.subscribe(plain.db) as direct:
            received, through_db = Inbox(messages), Inbox(direct)
            await events.publish(stranger.db, "status.deleted", status_id=1)
            await events.publish(other.db, "status.created", status_id=2)
            await events.publish(mine.db, "status.deleted", status_id=3)
            assert await next_within(received) == {"event": "status.created", "status_id": 2}
            assert await next_within(received) == {"event": "status.deleted", "status_id": 3}
            assert await nothing_within(received)  # not the other prefix's
            assert await nothing_within(through_db)  # nothing went through the database
            received.close()
            through_db.close()
    finally:
        for store in (plain, stranger, other, mine):
            await store.close()


async def test_policy_changes_reach_other_processes_through_redis(database_url: str) -> None:
    from activitypub.policy_gate import CHANNEL

    prefix = unique_prefix()
    mine = await Store.open(database_url, events_url=shared_redis(), events_prefix=prefix)
    other = await Store.open(database_url, events_url=shared_redis(), events_prefix=prefix)
    try:
        async with events.listen(mine.db, CHANNEL) as messages:
            await events.notify(other.db, CHANNEL, "origin-1")
            assert await asyncio.wait_for(anext(aiter(messages)), 5.0) == "origin-1"
    finally:
        await other.close()
        await mine.close()


class PrivateRedis:
    """A redis-server of this test's own, which it may stop and start again."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.directory = directory
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = start_server(self.port, str(self.directory))

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=20)
            self.proc = None


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        pytest.skip("needs redis-server (Debian package redis-server) to restart a Redis")
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def two_stores(
    database_url: str, private_redis: PrivateRedis
) -> AsyncIterator[tuple[Store, Store]]:
    prefix = unique_prefix()
    a = await Store.open(database_url, events_url=private_redis.url, events_prefix=prefix)
    b = await Store.open(database_url, events_url=private_redis.url, events_prefix=prefix)
    yield a, b
    await b.close()
    await a.close()


async def test_a_subscription_lives_through_a_redis_restart(
    two_stores: tuple[Store, Store], private_redis: PrivateRedis
) -> None:
    listener, publisher = two_stores
    async with events.subscribe(listener.db) as messages:
        received = Inbox(messages)
        await events.publish(publisher.db, "status.created", status_id=1)
        assert await next_within(received) == {"event": "status.created", "status_id": 1}

        private_redis.stop()
        with pytest.raises(Exception):  # noqa: B017 - best effort: the caller logs it
            await events.publish(publisher.db, "status.created", status_id=2)
        private_redis.start()

        # The same iterator goes on once the subscription is made again; events published
        # before that are lost (nothing is durable), so publish until one arrives.
        got = None
        for attempt in range(200):
            with_id = 1000 + attempt
            try:
                await events.publish(publisher.db, "status.created", status_id=with_id)
            except Exception:
                await asyncio.sleep(0.1)
                continue
            try:
                got = await next_within(received, 0.1)
            except TimeoutError:
                continue
            break
        assert got is not None and got["event"] == "status.created"
        bus = events.bus_of(listener.db)
        assert bus is not None and getattr(bus, "reconnects", 0) >= 1
        # And it keeps working in order afterwards.
        while await nothing_within(received, 0.2) is False:
            pass
        await events.publish(publisher.db, "status.deleted", status_id=5)
        assert await next_within(received) == {"event": "status.deleted", "status_id": 5}
        received.close()


async def test_readiness_asks_redis_when_events_go_through_it(database_url: str) -> None:
    from storage.gauges import readiness

    reached = await Store.open(database_url, events_url=shared_redis(), events_prefix="r:")
    away = await Store.open(
        database_url, events_url=f"redis://127.0.0.1:{free_port()}/0", events_prefix="r:"
    )
    try:
        assert await readiness(reached.db) is None
        # Nothing listens there: posts would not reach the other processes' streams.
        assert await readiness(away.db) == "events bus (Redis) unreachable"
    finally:
        await reached.close()
        await away.close()
