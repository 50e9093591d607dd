"""Object Integrity Proofs (FEP-8b32): ``DataIntegrityProof`` with ``eddsa-jcs-2022``.

Per W3C vc-di-eddsa (eddsa-jcs-2022): the proof options are the ``proof`` without
``proofValue`` (with the document's ``@context`` when the proof names one, which must be a
prefix of the document's); the unsecured document is the document without ``proof``. Both
are canonicalised with JCS (RFC 8785), hashed with SHA-256, and
``sha256(options) || sha256(document)`` (64 raw bytes) is verified with Ed25519 against the
multibase-decoded ``proofValue``. The key is a Multikey (``publicKeyMultibase``) that the
actor publishes in ``assertionMethod`` (as Fedify does).

No JSON-LD processing: JCS works on the JSON as received, so this is cheap (µs).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from activitypub.fields import as_list, id_of
from activitypub.keys import multibase_decode, multibase_encode, parse_multikey

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import ed25519

DATA_INTEGRITY_PROOF = "DataIntegrityProof"
EDDSA_JCS_2022 = "eddsa-jcs-2022"
ASSERTION_METHOD = "assertionMethod"
MULTIKEY = "Multikey"


class Unverifiable(Exception):
    """The proof cannot be checked (malformed, unsupported suite, not canonicalisable)."""


# -- JCS (RFC 8785) -------------------------------------------------------------------


def jcs(value: Any) -> bytes:
    """The RFC 8785 canonical JSON of ``value`` (UTF-8); raises ValueError when it has none."""
    out: list[str] = []
    _jcs(value, out, 0)
    return "".join(out).encode("utf-8")


def _jcs(value: Any, out: list[str], depth: int) -> None:
    if depth > 64:
        raise ValueError("JSON nested too deeply")
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, int):
        out.append(_number(float(value)) if abs(value) >= 2**53 else str(value))
    elif isinstance(value, float):
        out.append(_number(value))
    elif isinstance(value, list | tuple):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _jcs(item, out, depth + 1)
        out.append("]")
    elif isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise ValueError("object keys must be strings")
        out.append("{")
        # Members sorted by their keys' UTF-16 code units.
        for index, key in enumerate(sorted(value, key=lambda k: k.encode("utf-16-be"))):
            if index:
                out.append(",")
            out.append(json.dumps(key, ensure_ascii=False))
            out.append(":")
            _jcs(value[key], out, depth + 1)
        out.append("}")
    else:
        raise ValueError(f"not JSON: {type(value).__name__}")


def _number(value: float) -> str:
    """ECMAScript Number::toString, as RFC 8785 requires."""
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError("NaN and infinities have no JSON form")
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    # Here, not at the top: decimal costs every process ~0.4 MB, and floats in signed
    # objects are rare (integers never come here).
    from decimal import Decimal

    _, digit_tuple, exponent = Decimal(repr(abs(value))).normalize().as_tuple()
    digits = "".join(map(str, digit_tuple))
    assert isinstance(exponent, int)
    k = len(digits)
    n = exponent + k  # the decimal point sits after n digits
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * (-n) + digits
    else:
        mantissa = digits[0] + ("." + digits[1:] if k > 1 else "")
        text = f"{mantissa}e{'+' if n - 1 >= 0 else '-'}{abs(n - 1)}"
    return sign + text


# -- proofs ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Proof:
    verification_method: str
    created: str
    value: bytes
    options: dict[str, Any]  # the proof without proofValue


def proof_of(doc: dict[str, Any]) -> Proof | None:
    """The first eddsa-jcs-2022 assertion proof of ``doc``; None when it has none."""
    for candidate in as_list(doc.get("proof")):
        if not isinstance(candidate, dict):
            continue
        if (
            candidate.get("type") != DATA_INTEGRITY_PROOF
            or candidate.get("cryptosuite") != EDDSA_JCS_2022
            or candidate.get("proofPurpose") != ASSERTION_METHOD
        ):
            continue
        method, value = candidate.get("verificationMethod"), candidate.get("proofValue")
        if not isinstance(method, str) or not isinstance(value, str) or len(value) > 256:
            continue
        try:
            raw = multibase_decode(value)
        except ValueError:
            continue
        options = {k: v for k, v in candidate.items() if k != "proofValue"}
        created = candidate.get("created")
        return Proof(method, created if isinstance(created, str) else "", raw, options)
    return None


def hash_data(doc: dict[str, Any], options: dict[str, Any]) -> bytes:
    """sha256(JCS(options)) || sha256(JCS(doc without proof)) (raises Unverifiable)."""
    unsecured = {k: v for k, v in doc.items() if k != "proof"}
    context = options.get("@context")
    if context is not None:
        # The proof's context must be a prefix of the document's; it then replaces it.
        mine, theirs = as_list(context), as_list(unsecured.get("@context"))
        if theirs[: len(mine)] != mine:
            raise Unverifiable("the proof's @context does not start the document's")
        unsecured["@context"] = context
    try:
        return hashlib.sha256(jcs(options)).digest() + hashlib.sha256(jcs(unsecured)).digest()
    except (ValueError, RecursionError, TypeError) as exc:
        raise Unverifiable(f"not canonicalisable: {exc}") from exc


def verify(doc: dict[str, Any], public_key: ed25519.Ed25519PublicKey) -> bool:
    """True when ``doc``'s eddsa-jcs-2022 proof verifies with ``public_key``.

    Raises Unverifiable when there is no usable proof.
    """
    from cryptography.exceptions import InvalidSignature

    proof = proof_of(doc)
    if proof is None:
        raise Unverifiable("no eddsa-jcs-2022 assertionMethod proof")
    data = hash_data(doc, proof.options)
    try:
        public_key.verify(proof.value, data)
    except InvalidSignature:
        return False
    return True


def sign(
    doc: dict[str, Any],
    verification_method: str,
    private_key: ed25519.Ed25519PrivateKey,
    *,
    created: datetime | None = None,
) -> dict[str, Any]:
    """A copy of ``doc`` with an eddsa-jcs-2022 ``proof`` made with ``private_key``."""
    moment = (created or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    options: dict[str, Any] = {
        "type": DATA_INTEGRITY_PROOF,
        "cryptosuite": EDDSA_JCS_2022,
        "verificationMethod": verification_method,
        "proofPurpose": ASSERTION_METHOD,
        "created": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    signature = private_key.sign(hash_data(doc, options))
    signed = {k: v for k, v in doc.items() if k != "proof"}
    signed["proof"] = {**options, "proofValue": multibase_encode(signature)}
    return signed


# -- keys from actor documents --------------------------------------------------------


def assertion_key(actor_doc: dict[str, Any], method_id: str) -> ed25519.Ed25519PublicKey | None:
    """The Ed25519 Multikey ``method_id`` that ``actor_doc`` lists under assertionMethod.

    The entry must be controlled by the actor (``controller`` = the actor's id).
    """
    actor_id = actor_doc.get("id")
    if not isinstance(actor_id, str):
        return None
    for entry in as_list(actor_doc.get(ASSERTION_METHOD)):
        if not isinstance(entry, dict) or entry.get("id") != method_id:
            continue
        if MULTIKEY not in as_list(entry.get("type")):
            continue
        if id_of(entry.get("controller")) != actor_id:
            continue
        multibase = entry.get("publicKeyMultibase")
        if not isinstance(multibase, str):
            continue
        try:
            return parse_multikey(multibase)
        except ValueError:
            continue
    return None
