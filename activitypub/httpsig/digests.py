"""Body digests: RFC 3230 ``Digest: SHA-256=<base64>`` (draft-cavage) and RFC 9530
``Content-Digest: sha-256=:<base64>:`` (RFC 9421). One writer and one reader serve both:
the two headers differ only in the byte-sequence colons around the base64."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterator

from activitypub.errors import SignatureError

DIGEST = "Digest"
CONTENT_DIGEST = "Content-Digest"


def body_sha256(body: bytes) -> bytes:
    return hashlib.sha256(body).digest()


def digest_header(body: bytes) -> str:
    """``SHA-256=<base64>`` for a body."""
    return "SHA-256=" + base64.b64encode(body_sha256(body)).decode("ascii")


def content_digest_header(body: bytes, *, digest: str | None = None) -> str:
    """RFC 9530 ``sha-256=:<base64>:`` for a body; ``digest`` (our ``digest_header(body)``)
    carries the same hash, so a body hashed once serves both specs."""
    if digest is None or not digest.startswith("SHA-256="):
        digest = digest_header(body)
    return f"sha-256=:{digest[8:]}:"


def sha256_claims(header: str, value: str) -> Iterator[bytes]:
    """The SHA-256 hashes a ``Digest`` or ``Content-Digest`` value claims, in order; other
    algorithms are skipped. A malformed SHA-256 entry raises SignatureError when reached."""
    structured = header == CONTENT_DIGEST
    for item in value.split(","):
        algo, _, encoded = item.strip().partition("=")
        if algo.strip().lower() != "sha-256":
            continue
        encoded = encoded.strip()
        if structured:
            if len(encoded) < 2 or encoded[0] != ":" or encoded[-1] != ":":
                raise SignatureError("Content-Digest value is malformed")
            encoded = encoded[1:-1]
        try:
            yield base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            what = "Content-Digest" if structured else "Digest header"
            raise SignatureError(f"{what} is not valid base64") from None


def check_digest(header: str, value: str, sha256: bytes) -> bool:
    """Whether ``value`` (of ``header``) carries a SHA-256 digest; every one it carries must
    equal ``sha256`` (the body's), else SignatureError "<header> does not match body"."""
    found = False
    for claimed in sha256_claims(header, value):
        if not hmac.compare_digest(claimed, sha256):
            raise SignatureError(f"{header} does not match body")
        found = True
    return found
