"""Published policy lists on the wire: the instance actor's Ed25519 key, the signed list
document (an FEP-8b32 ``eddsa-jcs-2022`` proof) and reading a subscribed list.

A list is accepted only when its proof verifies with an ``assertionMethod`` Multikey that
the list's ``attributedTo`` actor announces, all three (list, actor, key) on one host. An
unsigned list, or a CSV, is accepted only when the subscription allows unsigned sources.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

import orjson

from activitypub import integrity
from activitypub.errors import ActivityPubError
from activitypub.fetch import Fetcher, authority
from activitypub.keys import multibase_encode, multikey_of, parse_private_multikey
from policy.lists import ListEntry, ListFormatError, entries_from_csv, entries_from_document
from policy.lists import list_document as unsigned_document
from storage.models import Account
from storage.store import Store

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import ed25519

log = logging.getLogger("fedinode.policy.lists")

LIST_PATH = "/policy/list.json"
CSV_PATH = "/policy/list.csv"
KEY_FRAGMENT = "#ed25519-key"
MULTIKEY_CONTEXT = "https://w3id.org/security/multikey/v1"
_ACCEPT = "application/json, application/ld+json, text/csv;q=0.9, text/plain;q=0.5"
_ED25519_PRIV = b"\x80\x26"


class ListRefused(Exception):
    """A subscribed list that is not taken; ``reason`` says why (logged, shown to admins)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class SigningKey:
    """The instance actor's Ed25519 key as kept (multibase), parsed on first use: a
    process that never signs a list nor serves the instance actor never loads it."""

    key_id: str
    controller: str
    private_multibase: str

    @classmethod
    def of(cls, key_id: str, controller: str, private: ed25519.Ed25519PrivateKey) -> SigningKey:
        """The key for a key object already at hand."""
        return cls(key_id, controller, multibase_encode(_ED25519_PRIV + private.private_bytes_raw()))

    @cached_property
    def private(self) -> ed25519.Ed25519PrivateKey:
        return parse_private_multikey(self.private_multibase)

    @cached_property
    def public_multibase(self) -> str:
        return multikey_of(self.private)

    def assertion_method(self) -> dict[str, Any]:
        """The Multikey entry the instance actor announces under ``assertionMethod``."""
        return {
            "id": self.key_id,
            "type": integrity.MULTIKEY,
            "controller": self.controller,
            "publicKeyMultibase": self.public_multibase,
        }


async def ensure_signing_key(store: Store, actor: Account) -> SigningKey:
    """The instance actor's Ed25519 key: made once, kept in the database."""
    found = await store.policy_lists.multikey(actor.id)
    if found is None:
        # An Ed25519 private key is 32 random bytes (RFC 8032, 5.1.5).
        seed = secrets.token_bytes(32)
        found = await store.policy_lists.create_multikey(
            actor.id, actor.uri + KEY_FRAGMENT, multibase_encode(_ED25519_PRIV + seed)
        )
    return SigningKey(found.key_id, actor.uri, found.private_multibase)


def announce_key(actor_doc: dict[str, Any], key: SigningKey) -> dict[str, Any]:
    """The actor document with the key under ``assertionMethod`` (and its context)."""
    context = actor_doc.get("@context")
    contexts = context if isinstance(context, list) else [context] if context else []
    if MULTIKEY_CONTEXT not in contexts:
        contexts = [*contexts, MULTIKEY_CONTEXT]
    return {**actor_doc, "@context": contexts, integrity.ASSERTION_METHOD: [key.assertion_method()]}


def signed_list(list_id: str, entries: Iterable[ListEntry], key: SigningKey) -> dict[str, Any]:
    """The published list, signed now by the instance actor's key."""
    now = datetime.now(UTC).replace(microsecond=0)
    doc = unsigned_document(list_id, key.controller, entries, now.strftime("%Y-%m-%dT%H:%M:%SZ"))
    return integrity.sign(doc, key.key_id, key.private, created=now)


@dataclass(frozen=True, slots=True)
class FetchedList:
    entries: tuple[ListEntry, ...]
    content_type: str  # "json" | "csv"
    signed_by: str  # the actor whose key signed it; "" when unsigned


async def read_list(
    fetcher: Fetcher,
    url: str,
    *,
    allow_unsigned: bool,
    host_allowed: Callable[[str], bool] | None = None,
) -> FetchedList:
    """Fetch and check a subscribed list (raises ListRefused with the reason)."""
    try:
        final, content_type, body = await fetcher.get_document(
            url, _ACCEPT, sign=True, host_allowed=host_allowed
        )
    except ActivityPubError as exc:
        detail = f" ({exc.detail})" if exc.detail else ""
        raise ListRefused(f"not fetched: {exc.reason}{detail}") from None
    text_type = content_type.lower()
    if "csv" in text_type or text_type.startswith("text/plain"):
        if not allow_unsigned:
            raise ListRefused("a CSV list carries no signature and unsigned lists are not allowed")
        try:
            entries = entries_from_csv(body.decode("utf-8"))
        except (UnicodeDecodeError, ListFormatError) as exc:
            raise ListRefused(f"unreadable CSV: {exc}") from None
        return FetchedList(tuple(entries), "csv", "")
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise ListRefused("the list is neither JSON nor CSV") from None
    if not isinstance(doc, dict):
        raise ListRefused("the list is not a JSON object")
    signed_by = ""
    if integrity.proof_of(doc) is None:
        if not allow_unsigned:
            raise ListRefused("the list is unsigned and unsigned lists are not allowed")
    else:
        signed_by = await _verify(fetcher, doc, authority(final), host_allowed)
    try:
        entries = entries_from_document(doc)
    except ListFormatError as exc:
        raise ListRefused(f"unreadable list: {exc}") from None
    return FetchedList(tuple(entries), "json", signed_by)


async def _verify(
    fetcher: Fetcher,
    doc: dict[str, Any],
    host: str,
    host_allowed: Callable[[str], bool] | None,
) -> str:
    """The publisher's actor id once the proof verifies with its announced key."""
    proof = integrity.proof_of(doc)
    assert proof is not None
    actor = doc.get("attributedTo")
    if not isinstance(actor, str) or _host(actor) != host:
        raise ListRefused("the list's attributedTo is not an actor on the list's host")
    if _host(proof.verification_method) != host:
        raise ListRefused("the proof's key is not on the list's host")
    try:
        actor_doc = await fetcher.get_json(actor, host_allowed=host_allowed)
    except ActivityPubError as exc:
        raise ListRefused(f"the publisher's actor was not fetched: {exc.reason}") from None
    if actor_doc.get("id") != actor:
        raise ListRefused("the publisher's actor document has another id")
    key = integrity.assertion_key(actor_doc, proof.verification_method)
    if key is None:
        raise ListRefused("the signing key is not announced by the publisher's actor")
    try:
        ok = integrity.verify(doc, key)
    except integrity.Unverifiable as exc:
        raise ListRefused(f"the proof cannot be checked: {exc}") from None
    if not ok:
        raise ListRefused("the proof does not verify: the list was altered after signing")
    return actor


def _host(url: str) -> str:
    from yarl import URL

    try:
        return authority(URL(url))
    except ValueError:
        return ""
