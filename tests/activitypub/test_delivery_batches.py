"""The delivery worker against a real peer on loopback: every POST is signed, a burst's
outcomes are written together and only after the POSTs, and the outbound policy in force
is the one applied."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from remote_peer import FakePeer, keypair, start_peer

from activitypub.delivery import DeliveryWorker
from activitypub.fetch import Fetcher, make_client_session, retry_after_seconds
from activitypub.keys import KeyCache
from activitypub.policy_gate import PolicyGate
from activitypub.settings import FederationSettings
from policy.settings import settings_from_mapping
from storage.accounts import NewAccount
from storage.ids import now_ms
from storage.models import Account, QueueState
from storage.queues import NewDelivery
from storage.store import Store

OURS = 7  # key index of the sender in remote_peer's key cache
ACTIVITY_ID = "http://local.test/users/alice/statuses/1/activity"
PAYLOAD = '{"id":"' + ACTIVITY_ID + '","type":"Create","actor":"http://local.test/users/alice"}'


@pytest.fixture
async def peer() -> AsyncIterator[FakePeer]:
    peer = await start_peer({"bob": 0})
    yield peer
    await peer.server.close()


@pytest.fixture
async def alice(store: Store, peer: FakePeer) -> Account:
    private_pem, public_pem = keypair(OURS)
    uri = "http://local.test/users/alice"
    _, account = await store.users.create(
        NewAccount(username="alice", domain="", uri=uri, inbox_url=f"{uri}/inbox",
                   public_key_id=f"{uri}#main-key", public_key_pem=public_pem,
                   private_key_pem=private_pem),
        email="alice@local.test", password_hash="x",
    )  # fmt: skip
    peer.senders[account.public_key_id] = (uri, public_pem)  # the peer verifies every POST
    return account


@pytest.fixture
async def worker(store: Store) -> AsyncIterator[DeliveryWorker]:
    async with running_worker(store, 32) as worker:
        yield worker


@asynccontextmanager
async def running_worker(store: Store, concurrency: int) -> AsyncIterator[DeliveryWorker]:
    settings = FederationSettings(domain="local.test", scheme="http", allow_private_addresses=True,
                                  delivery_concurrency=concurrency)  # fmt: skip
    session = make_client_session("http", True, None, "fedinode-test", 5.0)
    fetcher = Fetcher(session, scheme="http", allow_private=True)
    gate = PolicyGate(settings_from_mapping("open", {}), store)
    worker = DeliveryWorker(store, fetcher, KeyCache(), settings, gate, asyncio.Event())
    worker.sign_processes = 2  # a burst signs in the signing processes
    worker.pool_threshold = 4
    try:
        yield worker
    finally:
        if worker.signing_pool is not None:
            await worker.signing_pool.close()
        await session.close()


async def enqueue(store: Store, sender: Account, peer: FakePeer, names: range) -> None:
    rows = [NewDelivery(ACTIVITY_ID, f"http://{peer.domain}/users/u{n}/inbox", peer.domain,
                        sender.id, PAYLOAD) for n in names]  # fmt: skip
    await store.queues.enqueue_deliveries(rows, ttl_ms=86_400_000)


@asynccontextmanager
async def inbox_host(
    store: Store,
    sender: Account,
    answer: Callable[[web.Request], Awaitable[web.Response]],
    count: int,
) -> AsyncIterator[str]:
    """A peer on loopback whose inboxes answer with ``answer``, and ``count`` rows queued
    for it; yields its host."""
    app = web.Application()
    app.router.add_post("/users/{name}/inbox", answer)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        host = f"127.0.0.1:{server.port}"
        rows = [NewDelivery(ACTIVITY_ID, f"http://{host}/users/u{n}/inbox", host, sender.id,
                            PAYLOAD) for n in range(count)]  # fmt: skip
        await store.queues.enqueue_deliveries(rows, ttl_ms=86_400_000)
        yield host
    finally:
        await server.close()


async def states(store: Store) -> list[QueueState]:
    return [d.state for d in await store.queues.deliveries_for(ACTIVITY_ID)]


async def test_a_burst_arrives_signed_and_is_recorded_done(
    store: Store, peer: FakePeer, alice: Account, worker: DeliveryWorker
) -> None:
    await enqueue(store, alice, peer, range(60))
    await worker.run_until_idle(20)
    assert len(peer.received) == 60  # the peer refuses (401) a POST it cannot verify
    assert all("Signature" in headers for headers in peer.received_headers)
    assert worker.signing_pool is not None and worker.signing_pool.signed >= 56
    assert await states(store) == [QueueState.DONE] * 60
    assert worker.sent == 60


async def test_sent_rows_stay_leased_until_their_batch_is_written(
    store: Store, peer: FakePeer, alice: Account, worker: DeliveryWorker
) -> None:
    worker.flush_interval = 3600.0
    worker.flush_batch = 1000
    await enqueue(store, alice, peer, range(10))
    await worker.step()  # claims the rows and starts their POSTs
    while worker.sent < 10:  # each finished POST wakes the worker
        worker.wake.clear()
        await asyncio.wait_for(worker.wake.wait(), 10)
    assert len(peer.received) == 10
    # Sent, not yet written: a crash now leaves them leased, to be sent again (the same
    # activity id and Idempotency-Key), never lost and never done before their POST.
    rows = await store.queues.deliveries_for(ACTIVITY_ID)
    assert {(d.state, d.lease_owner) for d in rows} == {
        (QueueState.SENDING, store.queues.owner.name)
    }
    await worker.step()  # nothing left in flight: the batch is written now
    assert await states(store) == [QueueState.DONE] * 10


async def test_rows_queued_after_the_queue_ran_dry_are_sent(
    store: Store, peer: FakePeer, alice: Account, worker: DeliveryWorker
) -> None:
    await enqueue(store, alice, peer, range(10))
    await worker.step()  # claims all there is: fewer rows than it asked for
    await enqueue(store, alice, peer, range(10, 20))  # while those POSTs are out
    await worker.run_until_idle(10)
    assert len(peer.received) == 20
    assert await states(store) == [QueueState.DONE] * 20


async def test_a_peer_blocked_meanwhile_gets_nothing_more(
    store: Store, peer: FakePeer, alice: Account, worker: DeliveryWorker
) -> None:
    await enqueue(store, alice, peer, range(3))
    await worker.run_until_idle(10)
    assert len(peer.received) == 3
    await store.policy.create_domain_block(peer.domain.split(":")[0], severity="suspend")
    await worker.gate.refresh()
    await enqueue(store, alice, peer, range(3, 6))
    await worker.run_until_idle(10)
    assert len(peer.received) == 3
    rows = await store.queues.deliveries_for(ACTIVITY_ID)
    assert [d.state for d in rows] == [QueueState.DONE] * 3 + [QueueState.DEAD] * 3
    assert {d.last_error for d in rows[3:]} == {"refused by policy"}


async def test_the_next_deliveries_are_signed_while_the_posts_are_out(
    store: Store, alice: Account
) -> None:
    arrived: list[str] = []
    answer = asyncio.Event()

    async def inbox(request: web.Request) -> web.Response:
        arrived.append(request.path)
        await answer.wait()  # hold every POST until the test lets them go
        return web.Response(status=202)

    async with inbox_host(store, alice, inbox, 12), running_worker(store, 2) as worker:
        await worker.step()
        pool = worker.signing_pool
        assert pool is not None
        await eventually(lambda: len(arrived) >= 2 and pool.signed >= 4)
        await asyncio.sleep(0.2)
        # Two POSTs are out (the limit) and two more are signed, waiting for a slot.
        assert (len(arrived), pool.signed) == (2, 4)
        answer.set()
        await worker.run_until_idle(10)
        assert len(arrived) == 12
        assert await states(store) == [QueueState.DONE] * 12


async def eventually(condition: Callable[[], bool], within: float = 10.0) -> None:
    for _ in range(int(within / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met in time")


@pytest.mark.parametrize("status", [429, 503])
async def test_a_peer_that_asks_for_a_pause_gets_nothing_until_it_is_over(
    store: Store, alice: Account, status: int
) -> None:
    arrived: list[str] = []

    async def inbox(request: web.Request) -> web.Response:
        arrived.append(request.path)
        return web.Response(status=status, headers={"Retry-After": "600"})

    started = now_ms()
    async with inbox_host(store, alice, inbox, 8), running_worker(store, 1) as worker:
        await worker.run_until_idle(10)
        # The first answer asked for ten minutes: only what was already signed and
        # waiting for its slot went out (one POST in flight, one signed ahead).
        assert 1 <= len(arrived) <= 2
        rows_now = await store.queues.deliveries_for(ACTIVITY_ID)
        assert {d.state for d in rows_now} == {QueueState.RETRY}
        assert min(d.next_attempt_at for d in rows_now) >= started + 599_000
        # Asking for a pause is an answer: the peer is not counted as failing (unreachable
        # after 16 failures would slow its deliveries to one try an hour).
        known = await store.queues.peer(rows_now[0].peer)
        assert known is not None
        assert (known.failures, known.unreachable_since) == (0, None)


def test_retry_after_is_read_as_seconds_or_as_a_date() -> None:
    assert retry_after_seconds("120") == 120.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412420.0) == 60.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412540.0) == 0.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds("") is None
    assert retry_after_seconds(None) is None
