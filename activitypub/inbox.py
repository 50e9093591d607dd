"""Inbox intake: the security pipeline in front of the intake queue.

Order (ARCHITECTURE.md): body cap → JSON parse → host check (before any key fetch) →
HTTP signature (Date window, Digest, key) → the signer is the actor → policy pipeline →
persist (group commit) → 202. Processing happens later, from the queue.

Decisions worth knowing:
- A policy rejection is answered 202: the sender learns nothing it could tune spam
  against (Akkoma does the same); the decision is in the policy log.
- A Delete from an actor we never stored is answered 202 without verifying anything:
  Mastodon broadcasts account deletions to every peer it knows, signed by keys that are
  already gone, and fetching them would be pure waste.
- Activities whose type we do not handle are answered 202 and dropped.
- A forwarded activity (signer ≠ actor, e.g. a reply forwarded with a Linked Data
  Signature) is refused 401: LD signatures are not verified here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import orjson

from activitypub import vocab
from activitypub.convert import authority_of
from activitypub.errors import SignatureError
from activitypub.fields import id_of, obj_type
from activitypub.policy_gate import PolicyGate
from activitypub.resolver import Resolver
from activitypub.settings import FederationSettings
from activitypub.signatures import (
    key_id_host,
    parse_signature_header,
    parse_signature_input,
    verify_request,
)
from storage.queues import NewInboxItem
from storage.store import Store

log = logging.getLogger("fedinode.inbox")

HANDLED_TYPES = frozenset(
    {
        vocab.CREATE, vocab.UPDATE, vocab.DELETE, vocab.FOLLOW, vocab.ACCEPT, vocab.REJECT,
        vocab.UNDO, vocab.ANNOUNCE, vocab.LIKE, vocab.BLOCK, vocab.FLAG, vocab.MOVE,
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class IntakeResult:
    status: int
    reason: str = ""


ACCEPTED = IntakeResult(202, "accepted")


class InboxWriter:
    """Group commit: requests arriving within ``window`` seconds share one transaction.

    Each caller awaits its own item's commit, so a 202 is only sent once the activity is
    durable; a SQLite commit costs about a millisecond, so batching multiplies throughput.
    """

    def __init__(
        self,
        store: Store,
        *,
        window: float = 0.002,
        max_batch: int = 512,
        on_commit: Callable[[], None] = lambda: None,
    ) -> None:
        self.store = store
        self.window = window
        self.max_batch = max_batch
        self._on_commit = on_commit
        self._pending: list[tuple[NewInboxItem, asyncio.Future[int]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    async def add(self, item: NewInboxItem) -> int:
        """Persist one item (with whatever else is waiting); 1 if new, 0 if a duplicate."""
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if len(self._pending) >= self.max_batch:
            self._start_flush(0.0)
        elif self._flusher is None or self._flusher.done():
            self._start_flush(self.window)
        return await future

    def _start_flush(self, delay: float) -> None:
        self._flusher = asyncio.create_task(self._flush_after(delay))

    async def _flush_after(self, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        async with self._lock:
            while self._pending:
                batch, self._pending = (
                    self._pending[: self.max_batch],
                    self._pending[self.max_batch :],
                )
                await self._write(batch)

    async def _write(self, batch: list[tuple[NewInboxItem, asyncio.Future[int]]]) -> None:
        try:
            await self.store.queues.enqueue_inbox([item for item, _ in batch])
        except Exception as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for _, future in batch:
            if not future.done():
                future.set_result(1)
        self._on_commit()


# Actors and key ids repeat from request to request; activity ids do not.
_authority_cached = lru_cache(maxsize=4096)(authority_of)


def _cached_authority(url: str) -> str:
    """``authority_of``, remembered for URLs of a sane length (the cache must stay small)."""
    return _authority_cached(url) if len(url) <= 512 else authority_of(url)


def _signature_key_host(headers: Mapping[str, str]) -> str:
    """The keyId's host from the signature headers, "" if absent or unreadable."""
    try:
        if "Signature-Input" in headers:
            inputs = parse_signature_input(headers["Signature-Input"])
            for entry in inputs.values():
                return _cached_authority(entry.key_id) or key_id_host(entry.key_id)
            return ""
        raw = headers.get("Signature") or headers.get("Authorization") or ""
        if not raw:
            return ""
        parsed = parse_signature_header(raw)
        return _cached_authority(parsed.key_id) or key_id_host(parsed.key_id)
    except SignatureError:
        return ""


class InboxIntake:
    """Checks one POST to an inbox and persists it; returns the status to answer."""

    def __init__(
        self,
        store: Store,
        gate: PolicyGate,
        resolver: Resolver,
        settings: FederationSettings,
        writer: InboxWriter,
    ) -> None:
        self.store = store
        self.gate = gate
        self.resolver = resolver
        self.settings = settings
        self.writer = writer
        self.max_skew = timedelta(seconds=settings.signature_max_skew_seconds)

    async def receive(
        self,
        *,
        method: str,
        path_qs: str,
        headers: Mapping[str, str],
        body: bytes,
        recipient_account_id: int | None = None,
    ) -> IntakeResult:
        if len(body) > self.settings.max_inbox_bytes:
            return IntakeResult(413, "body too large")
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError:
            return IntakeResult(400, "body is not valid JSON")
        if not isinstance(document, dict):
            return IntakeResult(400, "body is not a JSON object")
        if b"\\u0000" in body and _has_nul(document):
            return IntakeResult(400, "body contains a NUL character")  # PostgreSQL text cannot
        activity_id = document.get("id")
        activity_host = authority_of(activity_id) if isinstance(activity_id, str) else ""
        if not isinstance(activity_id, str) or not activity_host:
            return IntakeResult(400, "activity has no usable id")
        type_ = obj_type(document)
        if type_ is None:
            return IntakeResult(400, "activity has no type")
        actor = id_of(document.get("actor"))
        peer = _cached_authority(actor) if actor is not None else ""
        if actor is None or not peer:
            return IntakeResult(400, "activity has no usable actor")
        if activity_host != peer:
            return IntakeResult(400, "activity id is not on the actor's host")

        # Host checks come before anything that could make us fetch a key.
        hosts = [peer]
        key_host = _signature_key_host(headers)
        if key_host and key_host != peer:
            hosts.append(key_host)
        for host in hosts:
            decision = await self.gate.check_host(host, "inbound", activity=document, actor=actor)
            if not decision.allowed:
                return IntakeResult(403, "this host is not accepted here")

        if type_ not in HANDLED_TYPES:
            return IntakeResult(202, "ignored: unsupported activity type")
        if type_ == vocab.DELETE and await self._unknown_actor(actor):
            return IntakeResult(202, "ignored: unknown actor")

        try:
            verified = await verify_request(
                method,
                path_qs,
                headers,
                body,
                self.resolver.key,
                max_skew=self.max_skew,
                scheme=self.settings.scheme,
                our_host=self.settings.domain,
            )
        except SignatureError as exc:
            return IntakeResult(exc.status, exc.reason)
        if verified.key_owner != actor:
            return IntakeResult(401, "the signer is not the activity's actor")

        cached = self.resolver.peek_key(verified.key_id)
        first_seen = (
            datetime.fromtimestamp(cached.first_seen_ms / 1000, UTC) if cached is not None else None
        )
        outcome = await self.gate.run(
            document, direction="inbound", peer=peer, actor=actor, actor_first_seen=first_seen
        )
        if not outcome.accepted or outcome.activity is None:
            return IntakeResult(202, "accepted")
        payload = body if outcome.activity is document else orjson.dumps(outcome.activity)
        await self.writer.add(
            NewInboxItem(
                activity_id=activity_id,
                payload=payload.decode("utf-8"),
                peer=peer,
                actor=actor,
                recipient_account_id=recipient_account_id,
            )
        )
        return ACCEPTED

    async def _unknown_actor(self, actor: str) -> bool:
        return await self.store.accounts.by_uri(actor) is None


def _has_nul(document: object) -> bool:
    stack = [document]  # iterative: JSON nests deeper than Python recurses
    while stack:
        item = stack.pop()
        if isinstance(item, str) and "\x00" in item:
            return True
        if isinstance(item, dict):
            stack.extend([*item.keys(), *item.values()])
        elif isinstance(item, list):
            stack.extend(item)
    return False


def same_host(url: str, host: str) -> bool:
    return authority_of(url) == host
