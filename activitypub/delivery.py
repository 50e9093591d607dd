"""The delivery worker: claims delivery rows, signs, POSTs, and records the outcome.

Rows are claimed with a lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL) that names the
process, so several workers share the queue; a crashed worker's rows are taken back when
the same process starts again, or by anyone when the lease runs out. Every attempt of a
row sends the payload stored with it (the same activity ``id``), with the row's own id in
an ``Idempotency-Key`` header, so a receiver can drop a repeat. Outcomes are written in
batches, one transaction for many deliveries: when ``flush_batch`` of them are waiting,
``flush_interval`` after the last write, or when the worker runs out of work. A row is
marked done only after its POST succeeded; a crash before the write leaves it leased, and
it is sent again (same activity id, same Idempotency-Key). States:
queued → sending → done | retry (capped exponential backoff with jitter) → dead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import deque
from typing import TYPE_CHECKING

from activitypub.errors import FetchError, RefusedAddress
from activitypub.fetch import Fetcher
from activitypub.keys import KeyCache
from activitypub.ldsignatures import PayloadSigner
from activitypub.policy_gate import PolicyGate
from activitypub.settings import FederationSettings
from activitypub.signatures import digest_header
from activitypub.signing import SigningPool, SigningThreads, default_processes
from storage.ids import now_ms
from storage.models import Account, Delivery
from storage.queues import DeliveryRetry
from storage.store import Store

if TYPE_CHECKING:
    from activitypub.keys import PrivateKey

log = logging.getLogger("fedinode.delivery")

_HOUR_MS = 3_600_000
IDEMPOTENCY_HEADER = "Idempotency-Key"
_DAY_MS = 24 * _HOUR_MS


def is_permanent_failure(status: int) -> bool:
    """4xx (except 408 Request Timeout and 429 Too Many Requests) will not get better."""
    return 400 <= status < 500 and status not in (408, 429)


class DeliveryWorker:
    """One loop that keeps ``delivery_concurrency`` signed POSTs in flight.

    As many deliveries again are signed ahead while those POSTs are out: the signing
    processes (or threads) work while the loop sends, and a POST slot that frees finds
    the next request signed.
    """

    # Tunables; tests shorten them.
    retry_base_ms = 30_000
    retry_cap_ms = 6 * _HOUR_MS
    unreachable_after_failures = 16
    unreachable_retry_ms = _HOUR_MS
    poll_interval = 1.0
    lease_ms: int | None = None  # None: the queue's ([queue] delivery_lease_seconds)
    batch_size = 256
    # Signing moves to worker processes once this many deliveries are waiting (a burst);
    # a few deliveries are signed in the event loop. 0 processes: never.
    sign_processes = default_processes()
    # Worker processes, or threads of this process (cryptography releases the GIL while it
    # signs). Processes by default: a signing thread needs the GIL back after each
    # signature, and while the loop is busy it waits up to the interpreter's switch
    # interval (5 ms) for it; measured, a signature took 2-4 times its CPU time in wall
    # time, and the threads capped a fan-out below what processes reach (bench/fanout.py
    # --signing threads|processes; docs/federation.md).
    sign_in_threads = False
    pool_threshold = 16
    # A peer that keeps answering is recorded as reachable at most this often.
    peer_ok_interval = 30.0
    # Finished outcomes are written together: when this many wait, or this long (seconds)
    # after the last write, or when nothing is left to send.
    flush_batch = 256
    flush_interval = 0.1

    def __init__(
        self,
        store: Store,
        fetcher: Fetcher,
        keys: KeyCache,
        settings: FederationSettings,
        gate: PolicyGate,
        wake: asyncio.Event,
    ) -> None:
        self.store = store
        self.fetcher = fetcher
        self.keys = keys
        self.settings = settings
        self.gate = gate
        self.wake = wake
        self.concurrency = max(1, settings.delivery_concurrency)
        self._post_slots = asyncio.Semaphore(self.concurrency)
        self._senders: dict[int, tuple[float, Account | None]] = {}
        self._buffer: deque[Delivery] = deque()
        self._drained = False  # the last claim found fewer rows than it asked for
        self._inflight: set[asyncio.Task[None]] = set()
        self._done: list[int] = []
        self._retries: list[tuple[Delivery, str, bool]] = []  # (row, error, permanent)
        self._peer_ok: set[str] = set()
        self._peer_failed: set[str] = set()
        self._unreachable: dict[str, int] = {}
        self._unreachable_loaded = 0.0
        self._recent_failure: dict[str, float] = {}
        # Peers that asked for a pause (429/503 with Retry-After): monotonic time it ends.
        self._quiet_until: dict[str, float] = {}
        self._peer_ok_at: dict[str, float] = {}  # peer → when its success was last written
        # (sender, stored payload) → (bytes sent, Digest header): made once per activity.
        self._bodies: dict[tuple[int, str], tuple[bytes, str]] = {}
        # Outbound policy per peer, for the policy pipeline in force (a new one clears it).
        self._outbound: dict[str, bool] = {}
        self._outbound_of: object = None
        self._flushed_at = 0.0
        self._pool: SigningPool | SigningThreads | None = None
        self._ld = PayloadSigner()
        self._closing: asyncio.Task[None] | None = None
        self._stopping = False
        self.sent = 0
        self.failed = 0  # given up (dead)
        self.retried = 0

    # -- loop -----------------------------------------------------------------------------

    async def run(self) -> None:
        """Deliver until stopped; wakes on ``wake`` or every ``poll_interval`` seconds."""
        self._stopping = False
        try:
            while not self._stopping:
                try:
                    progressed = await self.step()
                except asyncio.CancelledError:
                    raise
                except Exception:  # the loop must survive a database hiccup
                    log.exception("delivery loop error")
                    progressed = False
                    await asyncio.sleep(1.0)
                if not progressed:
                    timeout = 0.02 if self._inflight else self.poll_interval
                    self.wake.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.wake.wait(), timeout)
        finally:
            await self._drain()
            if self._pool is not None:
                pool, self._pool = self._pool, None
                await pool.close()

    def stop(self) -> None:
        self._stopping = True
        self.wake.set()
        if self._pool is not None and not self._inflight and not self._buffer:
            # Not inside run() (which closes the pool itself after its last sends).
            pool, self._pool = self._pool, None
            with contextlib.suppress(RuntimeError):  # no running loop: workers exit on EOF
                self._closing = asyncio.get_running_loop().create_task(pool.close())

    @property
    def signing_pool(self) -> SigningPool | SigningThreads | None:
        """The signing threads or processes, while a burst has them running."""
        return self._pool

    def _new_pool(self) -> SigningPool | SigningThreads:
        if self.sign_in_threads:
            return SigningThreads(self.sign_processes)
        return SigningPool(self.sign_processes)

    async def start_signing_pool(self) -> int:
        """Start the signing processes now rather than at the first burst (benchmarks, or a
        server that knows a burst is coming), and ready the LD signer of public activities;
        returns how many processes (or threads) there are."""
        await self._ld.warm_up()
        if self.sign_processes <= 0:
            return 0
        if self._pool is None:
            self._pool = self._new_pool()
        await self._pool.warm_up()
        return self._pool.processes

    async def step(self) -> bool:
        """Claim if there is room, start sends, write finished outcomes; True if it did work."""
        progressed = False
        started = self.concurrency * 2  # POSTs in flight and as many being signed ahead
        if len(self._buffer) < started and (
            # Once a claim came back short, a read asks first: the claim is a write (the
            # writer's lock on SQLite), and the end of a fan-out asks after every POST.
            not self._drained or await self.store.queues.deliveries_claimable(now_ms())
        ):
            rows = await self.store.queues.claim_deliveries(self.batch_size, lease_ms=self.lease_ms)
            self._drained = len(rows) < self.batch_size
            if rows:
                await self._load_unreachable()
                self._buffer.extend(rows)
                progressed = True
                if (
                    self._pool is None
                    and self.sign_processes > 0
                    and len(self._buffer) >= self.pool_threshold
                    and not self._stopping
                ):
                    self._pool = self._new_pool()
        while self._buffer and len(self._inflight) < started:
            row = self._buffer.popleft()
            task = asyncio.create_task(self._deliver(row))
            self._inflight.add(task)
            task.add_done_callback(self._finished)
            progressed = True
        if self._flush_due() and await self.flush():
            progressed = True
        return progressed

    def _flush_due(self) -> bool:
        waiting = len(self._done) + len(self._retries)
        if not waiting and not self._peer_ok and not self._peer_failed:
            return False
        return (
            waiting >= self.flush_batch
            or (not self._inflight and not self._buffer)
            or self._stopping
            or time.monotonic() - self._flushed_at >= self.flush_interval
        )

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        self.wake.set()

    async def run_until_idle(self, within: float = 30.0) -> None:
        """Deliver everything that is due now, then return (tests, benchmarks, demo)."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            await self.step()
            if not self._inflight and not self._buffer:
                await self.flush()
                if not await self._due_now():
                    return
            else:
                self.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), 0.05)

    async def _due_now(self) -> bool:
        return await self.store.queues.deliveries_due(now_ms())

    async def _drain(self) -> None:
        """On shutdown: let in-flight sends finish briefly, record them; the rest keep their
        lease and are retried by the next worker."""
        if self._inflight:
            await asyncio.wait(self._inflight, timeout=5.0)
        for task in list(self._inflight):
            task.cancel()
        with contextlib.suppress(Exception):
            await self.flush()

    # -- one delivery ---------------------------------------------------------------------

    async def _sender(self, account_id: int) -> Account | None:
        cached = self._senders.get(account_id)
        if cached is not None and time.monotonic() - cached[0] < 60.0:
            return cached[1]
        account = await self.store.accounts.get(account_id)
        self._senders[account_id] = (time.monotonic(), account)
        return account

    async def _deliver(self, row: Delivery) -> None:
        try:
            sender = await self._sender(row.sender_account_id)
            if sender is None or not sender.private_key_pem:
                self._retries.append((row, "sender has no key", True))
                return
            if not self._outbound_allowed(row.peer):
                self._retries.append((row, "refused by policy", True))
                return
            quiet = self._quiet_until.get(row.peer)
            if quiet is not None:
                if time.monotonic() < quiet:  # sent again once the pause is over
                    self._retries.append((row, "peer asked to wait (Retry-After)", False))
                    return
                del self._quiet_until[row.peer]
            recent = self._recent_failure.get(row.peer)
            if recent is not None and time.monotonic() - recent < 2.0:
                # The peer just failed: do not pile up timeouts, try again later.
                self._retries.append((row, "peer failing", False))
                self._peer_failed.add(row.peer)
                return
            key = self.keys.private(sender.public_key_id, sender.private_key_pem)
            body, digest = await self._body(row, sender, key)
            pool = self._pool
            sign = None
            if pool is not None:
                key_id, pem = sender.public_key_id, sender.private_key_pem

                async def sign(data: bytes) -> bytes:
                    return await pool.sign(key_id, pem, data)

            answer = await self.fetcher.post_signed(
                row.inbox_url,
                body,
                sender.public_key_id,
                key,
                sign=sign,
                digest=digest,
                extra_headers=self._idempotency(row),
                slot=self._post_slots,
            )
        except RefusedAddress as exc:
            self._retries.append((row, f"refused address: {exc.reason}", True))
            return
        except FetchError as exc:
            self._recent_failure[row.peer] = time.monotonic()
            self._peer_failed.add(row.peer)
            self._retries.append((row, f"{exc.reason}: {exc.detail}", False))
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug must not kill the loop; keep the row
            log.exception("delivery %s failed unexpectedly", row.id)
            self._retries.append((row, repr(exc), False))
            return
        status = answer.status
        if answer.retry_after is not None:  # the peer asked for a pause: all its rows wait
            if len(self._quiet_until) >= 8192:
                self._quiet_until.clear()
            wait = min(answer.retry_after, self.retry_cap_ms / 1000)
            self._quiet_until[row.peer] = max(
                self._quiet_until.get(row.peer, 0.0), time.monotonic() + wait
            )
        if 200 <= status < 300:
            self._done.append(row.id)
            self._peer_ok.add(row.peer)
            self._recent_failure.pop(row.peer, None)
            self.sent += 1
        elif is_permanent_failure(status):
            self._peer_ok.add(row.peer)  # it answered: reachable
            self._retries.append((row, f"peer answered {status}", True))
        elif status == 429 or (status == 503 and answer.retry_after is not None):
            # It answered, asking us to slow down or to come back after its maintenance:
            # reachable, and its pause spaces the next attempts.
            self._peer_ok.add(row.peer)
            self._retries.append((row, f"peer answered {status}", False))
        else:
            self._recent_failure[row.peer] = time.monotonic()
            self._peer_failed.add(row.peer)
            self._retries.append((row, f"peer answered {status}", False))

    def _idempotency(self, row: Delivery) -> dict[str, str]:
        """The same on every attempt of one row (one activity to one inbox): a receiver
        that saw it already can drop the repeat, as it can by the activity's ``id``."""
        # A Structured Field string, as the IETF draft of the header has it.
        return {IDEMPOTENCY_HEADER: f'"{self.settings.domain}/deliveries/{row.id}"'}

    def _outbound_allowed(self, peer: str) -> bool:
        """The policy's outbound host check, asked once per peer while its rules hold."""
        pipeline = self.gate.pipeline
        if pipeline is not self._outbound_of:
            self._outbound.clear()
            self._outbound_of = pipeline
        allowed = self._outbound.get(peer)
        if allowed is None:
            if len(self._outbound) >= 8192:
                self._outbound.clear()
            allowed = self._outbound[peer] = pipeline.check_host(peer, "outbound").allowed
        return allowed

    async def _body(self, row: Delivery, sender: Account, key: PrivateKey) -> tuple[bytes, str]:
        """The bytes to send and their Digest header, made once per activity, not per inbox.
        Our public Create/Update/Delete carry an LD signature (made once per activity too)."""
        cache_key = (sender.id, row.payload)
        found = self._bodies.get(cache_key)
        if found is None:
            payload = await self._ld.payload(row.payload, sender.uri, sender.public_key_id, key)
            if len(self._bodies) >= 64:
                self._bodies.clear()
            body = payload.encode("utf-8")
            found = self._bodies[cache_key] = (body, digest_header(body))
        return found

    # -- outcomes -------------------------------------------------------------------------

    def retry_delay_ms(self, attempts: int, peer: str) -> int:
        delay = min(self.retry_cap_ms, self.retry_base_ms * (2 ** min(attempts, 30)))
        delay = int(delay * random.uniform(0.8, 1.2))
        if self._unreachable.get(peer, 0) >= self.unreachable_after_failures:
            delay = max(delay, self.unreachable_retry_ms)
        return delay

    async def _load_unreachable(self) -> None:
        if time.monotonic() - self._unreachable_loaded > 30.0:
            self._unreachable = await self.store.queues.unreachable_peers()
            self._unreachable_loaded = time.monotonic()

    async def flush(self) -> bool:
        """Write finished outcomes: sent rows and failed attempts in one transaction, then
        what was learnt about the peers."""
        if not (self._done or self._retries or self._peer_ok or self._peer_failed):
            return False
        self._flushed_at = time.monotonic()
        done, self._done = self._done, []
        retries, self._retries = self._retries, []
        ok, self._peer_ok = self._peer_ok, set()
        failed, self._peer_failed = self._peer_failed, set()
        now = now_ms()
        moment = time.monotonic()
        recorded = []
        for row, error, permanent in retries:
            delay = self.retry_delay_ms(row.attempts, row.peer)
            quiet = self._quiet_until.get(row.peer)
            if quiet is not None and quiet > moment:  # not before the pause it asked for
                delay = max(delay, int((quiet - moment) * 1000) + 1)
            dead = permanent or now + delay > row.expires_at
            recorded.append(DeliveryRetry(row.id, error, now + delay, dead))
        try:
            await self.store.queues.record_deliveries(done, recorded)
        except BaseException:
            # Not written (the database failed, or we were cancelled): keep them for the
            # next flush; the rows stay leased meanwhile, so nothing is sent twice for it.
            self._done[:0] = done
            self._retries[:0] = retries
            self._peer_ok |= ok
            self._peer_failed |= failed
            raise
        for (row, error, _), retry in zip(retries, recorded, strict=True):
            if retry.dead:
                self.failed += 1
                log.info("delivery of %s to %s is dead: %s", row.activity_id, row.inbox_url, error)
            else:
                self.retried += 1
        moment = time.monotonic()
        for peer in ok - failed:
            written = self._peer_ok_at.get(peer)
            if (
                written is not None
                and moment - written < self.peer_ok_interval
                and peer not in self._unreachable
            ):
                continue  # already recorded as reachable a moment ago
            await self.store.queues.peer_result(peer, True)
            self._peer_ok_at[peer] = moment
            self._unreachable.pop(peer, None)
        for peer in failed:
            await self.store.queues.peer_result(peer, False)
            self._peer_ok_at.pop(peer, None)
        return True
