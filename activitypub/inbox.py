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
- A forwarded activity (signer ≠ actor: a reply forwarded by its thread's origin, a relay)
  is accepted when the actor's own signature travels with it: an RsaSignature2017 Linked
  Data Signature (Mastodon) or an eddsa-jcs-2022 integrity proof (FEP-8b32, Fedify), on the
  activity or, for Create/Update, on its object. Otherwise the body is not trusted: the
  object (Create/Update), the object's absence (Delete) or the activity itself is fetched
  from the actor's origin and what the origin says is processed; if that fails too, 401.
  None of this runs when the signer is the actor (pyld stays off the hot path).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import orjson

from activitypub import integrity, ldsignatures, vocab
from activitypub.convert import authority_of
from activitypub.errors import FetchError, MalformedActivity, SignatureError
from activitypub.fields import id_of, is_public, obj_type
from activitypub.keys import LRU
from activitypub.outbox import Outbox
from activitypub.peer_limits import PeerLimiter
from activitypub.policy_gate import PolicyGate
from activitypub.quarantine import FirstContact
from activitypub.resolver import Resolver
from activitypub.settings import FederationSettings
from activitypub.signatures import (
    RFC9421,
    VerifiedSignature,
    key_id_host,
    parse_signature_header,
    parse_signature_input,
    verify_request,
)
from storage.queues import NewInboxItem
from storage.store import Store

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

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
    retry_after: int = 0  # seconds, with 429


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




def _signature_key_host(headers: Mapping[str, str]) -> str:
    """The keyId's host from the signature headers, "" if absent or unreadable."""
    try:
        if "Signature-Input" in headers:
            inputs = parse_signature_input(headers["Signature-Input"])
            for entry in inputs.values():
                return authority_of(entry.key_id) or key_id_host(entry.key_id)
            return ""
        raw = headers.get("Signature") or headers.get("Authorization") or ""
        if not raw:
            return ""
        parsed = parse_signature_header(raw)
        return authority_of(parsed.key_id) or key_id_host(parsed.key_id)
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
        outbox: Outbox | None = None,
    ) -> None:
        self.store = store
        self.outbox = outbox
        self.gate = gate
        self.resolver = resolver
        self.settings = settings
        self.writer = writer
        self.first_contact = FirstContact(store, gate, settings)
        self.limiter = PeerLimiter(store, gate)
        self.max_skew = timedelta(seconds=settings.signature_max_skew_seconds)
        # assertionMethod id → (when looked up, key or None): Multikeys are not stored.
        self._multikeys: LRU[tuple[float, Ed25519PublicKey | None]] = LRU(4096)
        # Forwarded activities by what vouched for them (ld_signature, integrity_proof,
        # object_signature, origin) or "refused".
        self.forwarded: Counter[str] = Counter()

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
        peer = authority_of(actor) if actor is not None else ""
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
        # Marked before the key fetch, which stores the actor (see activitypub/quarantine.py).
        held = await self.first_contact.is_held(peer)

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
        first_seen = self._first_seen(verified)
        # Per-peer limits count the host that made the request (a relay, a thread's origin
        # forwarding a reply), once its signature verified: a forger cannot spend them.
        sender = peer if verified.key_owner == actor else (
            authority_of(verified.key_owner) or peer
        )  # fmt: skip
        throttled = await self.limiter.take(sender, "requests_per_minute", activity=document)
        if throttled is not None and throttled.enforced:
            return IntakeResult(429, "too many requests", throttled.retry_after)
        if verified.key_owner != actor:
            relayed = await self.relayed(document, type_, actor, peer)
            if isinstance(relayed, IntakeResult):
                return relayed
            if relayed is not document:
                document, body = relayed, orjson.dumps(relayed)
            first_seen = await self._actor_first_seen(actor)
        if verified.spec == RFC9421:  # it signs RFC 9421, so it verifies it: sign so to it
            self.resolver.fetcher.specs.remember(peer, RFC9421)
        outcome = await self.gate.run(
            document, direction="inbound", peer=peer, actor=actor, actor_first_seen=first_seen
        )
        if not outcome.accepted or outcome.activity is None:
            return IntakeResult(202, "accepted")
        payload = body if outcome.activity is document else orjson.dumps(outcome.activity)
        throttled = await self.limiter.take(sender, "activities_per_day", activity=document)
        if throttled is not None and throttled.enforced:
            return IntakeResult(429, "too many activities today", throttled.retry_after)
        if held and await self.first_contact.hold(
            host=peer,
            activity_id=activity_id,
            activity_type=type_,
            actor=actor,
            payload=payload.decode("utf-8"),
            recipient_account_id=recipient_account_id,
        ):
            return IntakeResult(202, "held: first contact")
        await self.writer.add(
            NewInboxItem(
                activity_id=activity_id,
                payload=payload.decode("utf-8"),
                peer=peer,
                actor=actor,
                recipient_account_id=recipient_account_id,
            )
        )
        if self.outbox is not None and outcome.activity is document and _forwardable(document):
            try:
                await self.forward_reply(document, type_, actor, skip_hosts={peer, key_host})
            except Exception:  # forwarding is a courtesy: never lose the 202 over it
                log.exception("forwarding %s failed", activity_id)
        return ACCEPTED

    def _first_seen(self, verified: VerifiedSignature) -> datetime | None:
        cached = self.resolver.peek_key(verified.key_id)
        return (
            datetime.fromtimestamp(cached.first_seen_ms / 1000, UTC) if cached is not None else None
        )

    async def _actor_first_seen(self, actor: str) -> datetime | None:
        account = await self.store.accounts.by_uri(actor)
        return datetime.fromtimestamp(account.created_at / 1000, UTC) if account else None

    # -- forwarded activities (signer ≠ actor) --------------------------------------------

    async def relayed(
        self, document: dict[str, Any], type_: str, actor: str, peer: str
    ) -> dict[str, Any] | IntakeResult:
        """The activity to process when someone other than its actor delivered it.

        The document itself when the actor's signature on it verifies; a document rebuilt
        from what the actor's origin serves otherwise; an IntakeResult (401) when neither.
        """
        if await self._ld_signed_by(document, actor):
            self.forwarded["ld_signature"] += 1
            return document
        if await self._proven_by(document, actor):
            self.forwarded["integrity_proof"] += 1
            return document
        obj = document.get("object")
        if (
            type_ in (vocab.CREATE, vocab.UPDATE)
            and isinstance(obj, dict)
            and (id_of(obj.get("attributedTo")) == actor or obj.get("id") == actor)
            and (await self._ld_signed_by(obj, actor) or await self._proven_by(obj, actor))
        ):
            self.forwarded["object_signature"] += 1
            return _envelope(document, obj)
        try:
            confirmed = await self._from_origin(document, type_, actor, peer)
        except (FetchError, MalformedActivity) as exc:
            self.forwarded["refused"] += 1
            log.info("forwarded %s %s not verified: %r", type_, document.get("id"), exc)
            return IntakeResult(
                401,
                "the signer is not the activity's actor, the actor's signature (LD signature "
                f"or integrity proof) does not verify, and its origin does not confirm it: "
                f"{exc.reason}",
            )
        self.forwarded["origin"] += 1
        return confirmed

    async def _ld_signed_by(self, doc: dict[str, Any], actor: str) -> bool:
        signature = ldsignatures.signature_of(doc)
        if signature is None or authority_of(signature.creator) != authority_of(actor):
            return False
        try:
            cached = await self.resolver.cached_key(signature.creator)
        except (FetchError, MalformedActivity) as exc:
            log.info("LD signature key %s not resolved: %r", signature.creator, exc)
            return False
        if cached is None or cached.owner != actor:
            return False
        try:
            # Canonicalisation costs milliseconds of pure Python: not in the event loop.
            data = await asyncio.to_thread(ldsignatures.signed_data, doc, doc["signature"])
        except ldsignatures.Unverifiable as exc:
            log.info("LD signature on %s unverifiable: %s", doc.get("id"), exc)
            return False
        key = cached.resolved.public_key
        if ldsignatures.check(signature, data, key):
            return True
        try:  # the actor may have rotated its key (refetched at most once a minute)
            fresh = await self.resolver.cached_key(signature.creator, refresh=True)
        except (FetchError, MalformedActivity):
            return False
        if fresh is None or fresh.owner != actor or fresh.resolved.public_key is key:
            return False
        return ldsignatures.check(signature, data, fresh.resolved.public_key)

    async def _proven_by(self, doc: dict[str, Any], actor: str) -> bool:
        proof = integrity.proof_of(doc)
        if proof is None or authority_of(proof.verification_method) != authority_of(actor):
            return False
        key = await self._assertion_key(actor, proof.verification_method)
        if key is None:
            return False
        try:
            return integrity.verify(doc, key)
        except integrity.Unverifiable as exc:
            log.info("integrity proof on %s unverifiable: %s", doc.get("id"), exc)
            return False

    async def _assertion_key(self, actor: str, method: str) -> Ed25519PublicKey | None:
        """The actor's assertionMethod Multikey ``method``: from memory, else the actor's
        document (fetched at most once a minute per method)."""
        cached = self._multikeys.get(method)
        now = time.monotonic()
        if cached is not None and (cached[1] is not None or now - cached[0] < 60.0):
            return cached[1]
        try:
            actor_doc = await self.resolver.fetch_json(actor)
        except (FetchError, MalformedActivity) as exc:
            log.info("actor %s not fetched for its assertion keys: %r", actor, exc)
            return None
        key = integrity.assertion_key(actor_doc, method) if actor_doc.get("id") == actor else None
        self._multikeys.put(method, (now, key))
        return key

    async def _from_origin(
        self, document: dict[str, Any], type_: str, actor: str, peer: str
    ) -> dict[str, Any]:
        """The activity as the actor's origin confirms it (raises FetchError otherwise)."""
        obj = document.get("object")
        target = id_of(obj)
        if type_ in (vocab.CREATE, vocab.UPDATE):
            if target is None or authority_of(target) != peer:
                raise MalformedActivity("the object is not on the actor's host")
            fetched = await self.resolver.fetch_json(target)
            if fetched.get("id") != target:
                raise MalformedActivity("the origin serves another object at this id")
            if obj_type(fetched) in vocab.ACTOR_TYPES:
                if target != actor:
                    raise MalformedActivity("update of another actor")
            elif id_of(fetched.get("attributedTo")) != actor:
                raise MalformedActivity("the origin's object is not the actor's")
            return _envelope(document, fetched)
        if type_ == vocab.DELETE:
            if target is None or authority_of(target) != peer:
                raise MalformedActivity("the deleted object is not on the actor's host")
            try:
                fetched = await self.resolver.fetch_json(target)
            except FetchError as exc:
                if exc.remote_status in (404, 410):
                    return _without_proofs(document)  # gone at its origin: the Delete holds
                raise
            if obj_type(fetched) == vocab.TOMBSTONE:
                return _without_proofs(document)
            raise MalformedActivity("the origin still serves the deleted object")
        activity_id = document.get("id")
        if not isinstance(activity_id, str):
            raise MalformedActivity("activity has no id")
        fetched = await self.resolver.fetch_json(activity_id)
        if (
            fetched.get("id") != activity_id
            or obj_type(fetched) != type_
            or id_of(fetched.get("actor")) != actor
        ):
            raise MalformedActivity("the origin serves another activity at this id")
        return fetched

    # -- forwarding replies to our statuses -------------------------------------------------

    async def forward_reply(
        self, document: dict[str, Any], type_: str, actor: str, *, skip_hosts: set[str]
    ) -> int:
        """Forward a signed, public reply to one of our statuses to its author's followers.

        As Mastodon does: a reply (Create, Update, Delete) to a local status that carries
        its author's own signature (LD signature or integrity proof, which the followers'
        servers check: we forward the body unchanged) and is public or unlisted goes to
        the remote followers of the local status's author, HTTP-signed by that author, so
        the thread reaches everyone who follows it. Returns the delivery rows made.
        """
        assert self.outbox is not None
        obj = document.get("object")
        parent_uri: str | None = None
        if type_ in (vocab.CREATE, vocab.UPDATE) and isinstance(obj, dict):
            if not is_public(obj.get("to"), obj.get("cc"), document.get("to"),
                             document.get("cc")):  # fmt: skip
                return 0
            parent_uri = id_of(obj.get("inReplyTo"))
        elif type_ == vocab.DELETE:
            target = id_of(obj)
            reply = await self.store.statuses.by_uri(target) if target else None
            if reply is None or reply.visibility not in ("public", "unlisted"):
                return 0
            parent_uri = reply.in_reply_to_uri
        if not parent_uri or authority_of(parent_uri) != self.settings.domain.lower():
            return 0
        parent = await self.store.statuses.by_uri(parent_uri)
        if parent is None or not parent.local:
            return 0
        author = await self.store.accounts.get(parent.account_id)
        if author is None or not author.local or author.suspended:
            return 0
        inboxes = [
            inbox
            for inbox in await self.store.relationships.follower_inboxes(author.id)
            if authority_of(inbox) not in skip_hosts
        ]
        return await self.outbox.enqueue(author, document, inboxes)

    async def _unknown_actor(self, actor: str) -> bool:
        return await self.store.accounts.by_uri(actor) is None


def _forwardable(document: dict[str, Any]) -> bool:
    """Cheap first test: a Create/Update/Delete that carries its author's signature."""
    return (
        document.get("type") in (vocab.CREATE, vocab.UPDATE, vocab.DELETE)
        and (ldsignatures.signature_of(document) is not None
             or integrity.proof_of(document) is not None)
    )  # fmt: skip


def _without_proofs(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k not in ("signature", "proof")}


def _envelope(document: dict[str, Any], obj: dict[str, Any]) -> dict[str, Any]:
    """The activity with ``obj`` (verified, or fetched from its origin) as its object.

    The envelope's own addressing was not verified: it is taken from the object.
    """
    rebuilt = _without_proofs(document)
    rebuilt["object"] = obj
    for key in ("to", "cc"):
        if key in obj:
            rebuilt[key] = obj[key]
        else:
            rebuilt.pop(key, None)
    rebuilt.pop("bto", None)
    rebuilt.pop("bcc", None)
    return rebuilt
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
