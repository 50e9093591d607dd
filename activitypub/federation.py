"""The ``Federation`` object: one per application, holding every federation component.

Built inside a cleanup context (it needs the running loop, the store and the client
session); ``start`` loads the instance actor, ``start_workers`` runs the queue workers,
``stop`` ends them cleanly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from typing import TYPE_CHECKING

import aiohttp
import orjson

from activitypub import periodic, vocab
from activitypub.convert import authority_of
from activitypub.delivery import DeliveryWorker
from activitypub.errors import ActivityPubError
from activitypub.fetch import Fetcher
from activitypub.inbox import InboxIntake, InboxWriter
from activitypub.intents import IntentReplayer
from activitypub.keys import KeyCache, generate_keypair
from activitypub.outbox import Outbox
from activitypub.policy_gate import PolicyGate
from activitypub.policy_lists import SigningKey, ensure_signing_key
from activitypub.processing import InboxProcessor
from activitypub.resolver import Resolver
from activitypub.settings import FederationSettings
from activitypub.surface import Surface
from activitypub.urls import Urls
from storage import events
from storage.accounts import NewAccount
from storage.errors import Conflict
from storage.ids import now_ms
from storage.models import Account, Status
from storage.store import Store

if TYPE_CHECKING:
    from activitypub.keys import PrivateKey

log = logging.getLogger("fedinode.federation")

# The instance actor's account row; a dot keeps it apart from any user name.
INSTANCE_ACTOR_USERNAME = "instance.actor"
# Finished queue rows are kept a day (inspection; replays within it are dropped at intake),
# then pruned by a loop that runs with the workers.
QUEUE_RETENTION_MS = 86_400_000
PRUNE_EVERY_S = 3600.0
PRUNE_JOB = "queue_prune"  # its lease row (activitypub.periodic)
# How often the workers look for leases held by processes that died.
TAKE_BACK_EVERY_S = 10.0
# Tombstones of deleted remote statuses outlive any retry of their Create (7 days at most).
TOMBSTONE_RETENTION_MS = 8 * 86_400_000
# Intake commits made in a process that does not apply the inbox wake those that do.
INBOX_CHANNEL = "fedinode_inbox"


# Run by ``keypair_apart`` in a child process: prints the new pair as a JSON array.
_KEYPAIR_SCRIPT = (
    "import sys, json; from activitypub.keys import generate_keypair; "
    "sys.stdout.write(json.dumps(generate_keypair()))"
)


async def keypair_apart() -> tuple[str, str]:
    """A new RSA key pair (``generate_keypair``) made in a short-lived child process.

    Making one takes 50–500 ms of CPU that would stall this process's event loop, and
    the serving process then loads the crypto library (~8 MB) only once it first signs
    or verifies something, not because it was started on a new database. If the child
    cannot run or answers nonsense, the pair is made here, in a thread.
    """
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    try:
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-c", _KEYPAIR_SCRIPT,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, env=env,
        )  # fmt: skip
        out, err = await child.communicate()
        if child.returncode == 0:
            pair = orjson.loads(out)
            if (
                isinstance(pair, list)
                and len(pair) == 2
                and str(pair[0]).startswith("-----BEGIN PRIVATE KEY-----")
                and str(pair[1]).startswith("-----BEGIN PUBLIC KEY-----")
            ):
                return str(pair[0]), str(pair[1])
        log.warning("making a key pair in a child process failed (exit %s): %s",
                    child.returncode, err.decode(errors="replace")[-500:])  # fmt: skip
    except (OSError, orjson.JSONDecodeError) as exc:
        log.warning("making a key pair in a child process failed: %s", exc)
    return await asyncio.to_thread(generate_keypair)


class InstanceMoved(RuntimeError):
    """The database's instance actor lives at another URL than the configuration gives it:
    the domain (or a local instance's host:port) changed after the database was made, and
    every stored id still names the old one."""

    def __init__(self, stored_uri: str, expected_uri: str) -> None:
        self.stored_base = stored_uri.removesuffix("/actor")
        self.expected_base = expected_uri.removesuffix("/actor")
        super().__init__(f"the database's ids name {self.stored_base}, not {self.expected_base}")


class Federation:
    def __init__(
        self,
        settings: FederationSettings,
        store: Store,
        gate: PolicyGate,
        session: aiohttp.ClientSession,
        surface: Surface,
    ) -> None:
        self.settings = settings
        self.store = store
        self.gate = gate
        self.urls = Urls(settings.base_url)
        self.keys = KeyCache()
        self.delivery_wake = asyncio.Event()
        self.inbox_wake = asyncio.Event()
        self._instance_actor: Account | None = None
        self.list_key: SigningKey | None = None  # signs the published policy list
        self.fetcher = Fetcher(
            session,
            scheme="http" if settings.scheme == "http" else "https",
            allow_private=settings.allow_private_addresses,
            signer=self._signer,
            max_body=settings.max_fetch_bytes,
            timeout=settings.fetch_timeout_seconds,
        )
        self.resolver = Resolver(store, self.fetcher, gate, self.keys, settings, surface)
        self.outbox = Outbox(
            store,
            self.urls,
            settings,
            gate,
            instance_actor=self.instance_actor,
            on_enqueue=self.delivery_wake.set,
        )
        self.writer = InboxWriter(store, on_commit=self._inbox_committed)
        # Whether this process applies the inbox (``start_workers``); when it does not,
        # each intake commit tells the processes that do (``INBOX_CHANNEL``).
        self._processing_inbox = False
        self._inbox_notice: asyncio.Task[None] | None = None
        self._notices: asyncio.Task[None] | None = None  # listens while it applies
        self.intake = InboxIntake(
            store, gate, self.resolver, settings, self.writer, outbox=self.outbox
        )
        self.processor = InboxProcessor(
            store, self.resolver, self.outbox, settings, self.urls, self.inbox_wake, surface
        )
        self.delivery = DeliveryWorker(
            store, self.fetcher, self.keys, settings, gate, self.delivery_wake
        )
        # Deliveries owed for local interactions whose use case did not finish.
        self.intents = IntentReplayer(store, self.outbox)
        self._workers: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Load (or create, once) the instance actor used to sign fetches."""
        self._instance_actor = await self._ensure_instance_actor()
        actor = self._instance_actor
        # Its private key is parsed on first use (~40 µs, KeyCache), not here.
        self.list_key = await ensure_signing_key(self.store, actor)
        # What a process held when it died is due now, not when its leases run out.
        taken = await self.store.take_back_leases()
        if taken.inbox or taken.deliveries:
            log.info("took back %d inbox and %d delivery row(s) leased before a restart",
                     taken.inbox, taken.deliveries)  # fmt: skip
            self.delivery_wake.set()
            self.inbox_wake.set()

    def start_workers(
        self, *, prune: bool = True, inbox: bool = True, notices: bool = True
    ) -> None:
        """Run the inbox and delivery loops as tasks (role worker / all); ``prune``: also
        the periodic queue pruning, which one process of a fleet runs; ``inbox``: also
        the inbox worker (on SQLite one process of a fleet applies the inbox: the
        processes would only take turns at its one writer, each reading the pages the
        other wrote afresh); ``notices``: the inbox worker listens for other processes'
        intake commits (off where every process applies its own: a PostgreSQL listener
        holds a connection)."""
        if self._workers:
            return
        self._stopping.clear()
        if prune:
            self._workers.append(asyncio.create_task(self._prune_forever(), name="fedinode-prune"))
        self._workers.append(
            asyncio.create_task(self._take_back_forever(), name="fedinode-take-back")
        )
        self._workers.append(asyncio.create_task(self.delivery.run(), name="fedinode-delivery"))
        if not inbox:
            return
        self._processing_inbox = True
        if notices:
            self._notices = asyncio.create_task(
                self._wake_on_notices(), name="fedinode-inbox-notices"
            )
            self._workers.append(self._notices)
        for index in range(max(1, self.settings.inbox_workers)):
            self._workers.append(
                asyncio.create_task(self.processor.run(), name=f"fedinode-inbox-{index}")
            )

    def _inbox_committed(self) -> None:
        """After an intake commit: wake this process's inbox worker, or tell the processes
        that apply the inbox (one notice at a time: a notice wakes a worker for all the
        rows committed until it runs)."""
        self.inbox_wake.set()
        if self._processing_inbox:
            self.processor.intake_committed()
            return
        if self._inbox_notice is None or self._inbox_notice.done():
            self._inbox_notice = asyncio.create_task(self._send_inbox_notice())

    async def _send_inbox_notice(self) -> None:
        try:
            await events.notify(self.store.db, INBOX_CHANNEL, "")
        except Exception:  # the worker's poll still finds the rows within a second
            log.warning("could not tell the inbox workers of new rows", exc_info=True)

    async def _wake_on_notices(self) -> None:
        """Wake the inbox worker when another process committed rows for it."""
        while not self._stopping.is_set():
            try:
                async with events.listen(self.store.db, INBOX_CHANNEL) as notices:
                    async for _ in notices:
                        self.inbox_wake.set()
            except asyncio.CancelledError:
                raise
            except Exception:  # the poll interval still applies; listen again
                log.warning("listening for inbox notices failed", exc_info=True)
                await asyncio.sleep(1.0)

    async def stop(self) -> None:
        self._stopping.set()
        # Pending poll counts go out now rather than never (they are only enqueued).
        with contextlib.suppress(Exception):
            await self.outbox.flush_poll_updates()
        self.delivery.stop()
        self.processor.stop()
        if self._notices is not None:  # it holds nothing: it only listens
            self._notices.cancel()
        if self._workers:
            _done, pending = await asyncio.wait(self._workers, timeout=10.0)
            for task in pending:
                task.cancel()
            for task in pending:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._workers.clear()
        self._notices = None
        self._processing_inbox = False
        # Let a group commit that is in progress finish.
        await asyncio.sleep(0)

    async def prune_queues(self, now: int | None = None) -> tuple[int, int]:
        """Delete done inbox and delivery rows older than the retention, and old
        tombstones; returns (inbox, delivery) rows deleted."""
        now = now if now is not None else now_ms()
        inbox, delivered = await self.store.queues.prune_done(now - QUEUE_RETENTION_MS)
        await self.store.tombstones.prune(now - TOMBSTONE_RETENTION_MS)
        await self.intake.limiter.prune(now)
        if inbox or delivered:
            log.info("pruned %d inbox and %d delivery row(s)", inbox, delivered)
        return inbox, delivered

    async def _prune_forever(self) -> None:
        """Prune once per period across every process of the fleet (a lease row)."""
        await periodic.run_forever(
            self.store, PRUNE_JOB, PRUNE_EVERY_S, self.prune_queues, self._stopping
        )

    async def _take_back_forever(self) -> None:
        """Now and then, queue again what processes that died held (one that came back
        under another id slot, or not at all), rather than wait for their leases; and send
        the deliveries owed for local interactions whose use case did not finish."""
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), TAKE_BACK_EVERY_S)
            if self._stopping.is_set():
                return
            try:
                if await self.intents.run_due():
                    self.delivery_wake.set()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("replaying federation intents failed")
            try:
                taken = await self.store.take_back_leases()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("taking back leases failed")
                continue
            if taken.inbox or taken.deliveries:
                log.info("took back %d inbox and %d delivery row(s) of a process that died",
                         taken.inbox, taken.deliveries)  # fmt: skip
                self.delivery_wake.set()
                self.inbox_wake.set()

    def instance_actor(self) -> Account:
        if self._instance_actor is None:
            raise RuntimeError("Federation.start() has not run")
        return self._instance_actor

    def _signer(self) -> tuple[str, PrivateKey]:
        actor = self.instance_actor()
        return actor.public_key_id, self.keys.private(actor.public_key_id, actor.private_key_pem)

    async def _ensure_instance_actor(self) -> Account:
        uri = self.urls.instance_actor
        found = await self.store.accounts.by_uri(uri)
        if found is not None:
            return found
        private_pem, public_pem = await keypair_apart()
        base = self.urls.base
        new = NewAccount(
            username=INSTANCE_ACTOR_USERNAME,
            domain="",
            uri=uri,
            url=f"{base}/about",
            actor_type=vocab.APPLICATION,
            display_name=self.settings.title,
            bot=True,
            discoverable=False,
            indexable=False,
            locked=True,
            inbox_url=f"{uri}/inbox",
            outbox_url=f"{uri}/outbox",
            shared_inbox_url=self.urls.shared_inbox,
            public_key_id=f"{uri}#main-key",
            public_key_pem=public_pem,
            private_key_pem=private_pem,
        )
        try:
            return await self.store.accounts.create(new)
        except Conflict:
            again = await self.store.accounts.by_uri(uri)
            if again is not None:
                return again
            stored = await self.store.accounts.by_handle(INSTANCE_ACTOR_USERNAME, "")
            if stored is not None:
                raise InstanceMoved(stored.uri, uri) from None
            raise

    # -- the application's entry points --------------------------------------------------

    async def resolve_account(self, acct_or_url: str) -> Account | None:
        """``user@host`` or an actor URL → the account (fetched if new); None if not found
        or refused by policy."""
        try:
            if acct_or_url.startswith(("http://", "https://")):
                host = authority_of(acct_or_url)
                if host and host != self.resolver.domain:
                    decision = await self.gate.check_host(host, "fetch")
                    if not decision.allowed:
                        return None
                return await self.resolver.actor(acct_or_url)
            return await self.resolver.account_by_acct(acct_or_url)
        except ActivityPubError as exc:
            log.info("could not resolve %s: %r", acct_or_url, exc)
            return None

    async def resolve_status(self, url: str) -> Status | None:
        """A status by its URI or URL, fetched from its origin if we do not have it."""
        found = await self.store.statuses.by_uri_or_url(url)
        if found is not None:
            return found
        if self.resolver.is_local(url):
            return None
        try:
            return await self.resolver.status(url)
        except ActivityPubError as exc:
            log.info("could not resolve %s: %r", url, exc)
            return None

    async def refresh_account(self, account: Account) -> Account:
        """A fresh copy of a remote account's actor document (the stored one on failure)."""
        try:
            return await self.resolver.refresh_actor(account)
        except ActivityPubError as exc:
            log.info("could not refresh %s: %r", account.uri, exc)
            return account

    async def process_pending(self, within: float = 30.0) -> None:
        """Process the intake queue and deliver what is due, until both are idle (tests,
        benchmarks, the demo)."""
        await self.processor.run_until_idle(within)
        await self.delivery.run_until_idle(within)
