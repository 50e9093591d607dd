"""Linked Data Signatures (``RsaSignature2017``), as Mastodon makes and checks them.

A document carries ``signature: {type, creator, created, signatureValue}``. What is signed
is ``sha256hex(C(options)) + sha256hex(C(document))`` (64 + 64 ASCII hex digits), where
``C`` is URDNA2015 canonical N-Quads, ``options`` is the signature block without ``type``,
``id`` and ``signatureValue`` under a context that defines ``creator``/``created`` (Mastodon
names ``https://w3id.org/identity/v1``; we use security v1, which defines both terms to the
same IRIs and types, so the canonical N-Quads are identical), and ``document`` is the
document without ``signature``. The signature is RSASSA-PKCS1-v1_5 with SHA-256, base64.

Canonicalisation costs milliseconds (pyld, pure Python): only called for activities that
need it (a forwarded activity, signer ≠ actor; a public activity we send), and only with
the contexts we hold verbatim (``jsonld.canonical_nquads``): a document naming any other
context is ``Unverifiable``, never fetched.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson

from activitypub.errors import MalformedActivity
from activitypub.fields import is_public
from activitypub.jsonld import UnknownContext, canonical_nquads
from activitypub.vocab import DEFAULT_CONTEXT, PUBLIC, SECURITY_V1_CONTEXT

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import rsa

log = logging.getLogger("fedinode.federation")

RSA_SIGNATURE_2017 = "RsaSignature2017"


class Unverifiable(Exception):
    """The signature cannot be checked (unknown context, malformed block or document)."""


@dataclass(frozen=True, slots=True)
class LdSignature:
    creator: str  # a key id
    created: str
    value: bytes


def signature_of(doc: dict[str, Any]) -> LdSignature | None:
    """The RsaSignature2017 block of ``doc``; None when there is none (or another type)."""
    block = doc.get("signature")
    if not isinstance(block, dict) or block.get("type") != RSA_SIGNATURE_2017:
        return None
    creator, created, value = (
        block.get("creator"),
        block.get("created"),
        block.get("signatureValue"),
    )
    if not (isinstance(creator, str) and isinstance(value, str) and len(value) <= 4096):
        return None
    try:
        raw = base64.b64decode(value, validate=False)
    except (binascii.Error, ValueError):
        return None
    return LdSignature(creator=creator, created=created if isinstance(created, str) else "",
                       value=raw)  # fmt: skip


def _hash(doc: dict[str, Any]) -> str:
    try:
        return hashlib.sha256(canonical_nquads(doc).encode("utf-8")).hexdigest()
    except UnknownContext as exc:
        raise Unverifiable(f"unknown JSON-LD context {str(exc)[:200]}") from exc
    except MalformedActivity as exc:
        raise Unverifiable(exc.reason) from exc
    except Exception as exc:  # pyld on arbitrary input may raise anything: never a 500
        raise Unverifiable(f"not canonicalisable: {exc!r}"[:200]) from exc


def signed_data(doc: dict[str, Any], block: dict[str, Any]) -> bytes:
    """What an RsaSignature2017 ``block`` over ``doc`` signs (raises Unverifiable)."""
    options = {k: v for k, v in block.items() if k not in ("type", "id", "signatureValue")}
    options["@context"] = SECURITY_V1_CONTEXT
    document = {k: v for k, v in doc.items() if k != "signature"}
    return (_hash(options) + _hash(document)).encode("ascii")


def check(signature: LdSignature, data: bytes, public_key: object) -> bool:
    """True when ``signature`` signs ``data`` (from ``signed_data``) with ``public_key``."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    if not isinstance(public_key, rsa.RSAPublicKey):
        return False
    try:
        public_key.verify(signature.value, data, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def verify(doc: dict[str, Any], public_key: object) -> bool:
    """True when ``doc``'s RsaSignature2017 verifies with ``public_key`` (an RSA key).

    Raises Unverifiable when it cannot be checked at all (no signature, unknown context).
    CPU-bound (canonicalisation): call it in a thread from async code.
    """
    from cryptography.hazmat.primitives.asymmetric import rsa

    signature = signature_of(doc)
    if signature is None:
        raise Unverifiable("no RsaSignature2017 signature")
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise Unverifiable("the creator's key is not an RSA key")
    return check(signature, signed_data(doc, doc["signature"]), public_key)


def sign(
    doc: dict[str, Any],
    key_id: str,
    private_key: rsa.RSAPrivateKey,
    *,
    created: datetime | None = None,
) -> dict[str, Any]:
    """A copy of ``doc`` with an RsaSignature2017 ``signature`` by ``key_id``.

    Raises Unverifiable when ``doc`` cannot be canonicalised (a context we do not hold).
    """
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    moment = (created or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    block: dict[str, Any] = {
        "type": RSA_SIGNATURE_2017,
        "creator": key_id,
        "created": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    data = signed_data(doc, block)
    value = private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    block["signatureValue"] = base64.b64encode(value).decode("ascii")
    signed = {k: v for k, v in doc.items() if k != "signature"}
    signed["signature"] = block
    return signed


# -- signing what we send -------------------------------------------------------------

_SIGNED_TYPES = ("Create", "Update", "Delete")


def wants_signature(doc: dict[str, Any], actor_uri: str) -> bool:
    """Mastodon's rule: our own public (or unlisted) Create/Update/Delete are LD-signed, so
    that a server forwarding them (a reply in its thread) can prove who wrote them."""
    if doc.get("type") not in _SIGNED_TYPES or "signature" in doc:
        return False
    if doc.get("actor") != actor_uri:
        return False  # a forwarded activity keeps its author's signature
    obj = doc.get("object")
    addressing = [doc.get("to"), doc.get("cc")]
    if isinstance(obj, dict):
        addressing += [obj.get("to"), obj.get("cc")]
    return is_public(*addressing)


def signed_payload(payload: str, actor_uri: str, key_id: str, key: object) -> str:
    """``payload`` (JSON text) LD-signed when ``wants_signature``; unchanged otherwise, and
    unchanged when it cannot be signed (an RSA key is needed; contexts must be known)."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    if not isinstance(key, rsa.RSAPrivateKey):
        return payload
    try:
        doc = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return payload
    if not isinstance(doc, dict) or not wants_signature(doc, actor_uri):
        return payload
    try:
        return orjson.dumps(sign(doc, key_id, key)).decode("utf-8")
    except Unverifiable:
        return payload


class PayloadSigner:
    """LD-signs each outgoing payload once (in a thread: canonicalisation is ~ms of pure
    Python), however many inboxes it goes to; concurrent deliveries share the work."""

    def __init__(self, maxsize: int = 64) -> None:
        self._maxsize = maxsize
        self._done: dict[str, asyncio.Future[str]] = {}

    async def payload(self, payload: str, actor_uri: str, key_id: str, key: object) -> str:
        if not _may_want_signature(payload):
            return payload
        future = self._done.get(payload)
        if future is None:
            if len(self._done) >= self._maxsize:
                for old in list(self._done)[: self._maxsize // 2]:
                    if self._done[old].done():
                        del self._done[old]
            future = asyncio.ensure_future(
                asyncio.to_thread(signed_payload, payload, actor_uri, key_id, key)
            )
            self._done[payload] = future
        try:
            return await asyncio.shield(future)
        except Exception:  # never lose a delivery over its LD signature
            log.exception("LD signing failed")
            self._done.pop(payload, None)
            return payload

    async def warm_up(self) -> None:
        """Import pyld and load our contexts now (~60 ms of CPU, in a thread), not when
        the first public activity waits for its signature with every delivery of it."""
        await asyncio.to_thread(warm_up)


def warm_up() -> None:
    """Canonicalise a Create of a Note in the shape we send, and a signature's options (the
    first real one then costs ~3 ms instead of ~6: pyld keeps what it learnt of the terms)."""
    here = "https://warm-up.invalid/users/a"
    note = {"@context": DEFAULT_CONTEXT, "id": f"{here}/statuses/1", "type": "Note",
            "attributedTo": here, "url": f"{here}/1", "to": [PUBLIC], "cc": [f"{here}/followers"],
            "published": "2020-01-01T00:00:00Z", "content": "", "summary": None,
            "sensitive": False, "inReplyTo": None, "conversation": f"{here}/statuses/1",
            "tag": [], "attachment": [], "replies": f"{here}/statuses/1/replies"}  # fmt: skip
    doc = {"@context": DEFAULT_CONTEXT, "id": f"{here}/statuses/1/activity", "type": "Create",
           "actor": here, "object": note, "to": note["to"], "cc": note["cc"],
           "published": note["published"]}  # fmt: skip
    block = {"type": RSA_SIGNATURE_2017, "creator": f"{here}#main-key",
             "created": "2020-01-01T00:00:00Z"}  # fmt: skip
    with contextlib.suppress(Unverifiable):
        signed_data(doc, block)


def _may_want_signature(payload: str) -> bool:
    """Substring pre-test (no parse) for ``wants_signature``: most payloads fail it."""
    return (
        any(f'"type":"{kind}"' in payload for kind in _SIGNED_TYPES)
        and "#Public" in payload
        and '"signature"' not in payload
    )
