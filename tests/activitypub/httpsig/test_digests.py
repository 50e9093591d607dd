"""The one digest reader and writer (activitypub.httpsig.digests) for RFC 3230 ``Digest``
(draft-cavage) and RFC 9530 ``Content-Digest`` (RFC 9421)."""

from __future__ import annotations

import base64
import hashlib

import pytest

from activitypub.errors import SignatureError
from activitypub.httpsig.digests import (
    CONTENT_DIGEST,
    DIGEST,
    body_sha256,
    check_digest,
    content_digest_header,
    digest_header,
    sha256_claims,
)

BODY = b'{"type":"Create"}'
HASH = hashlib.sha256(BODY).digest()
B64 = base64.b64encode(HASH).decode("ascii")
OTHER = base64.b64encode(hashlib.sha256(b"other").digest()).decode("ascii")


def test_both_headers_carry_the_same_hash() -> None:
    assert digest_header(BODY) == f"SHA-256={B64}"
    assert content_digest_header(BODY) == f"sha-256=:{B64}:"
    # A body hashed once for Digest serves Content-Digest too (the hash is not recomputed).
    assert content_digest_header(b"ignored", digest=f"SHA-256={B64}") == f"sha-256=:{B64}:"
    # A digest of another algorithm is not reused.
    assert content_digest_header(BODY, digest="SHA-512=xyz") == f"sha-256=:{B64}:"


@pytest.mark.parametrize(
    ("header", "value"),
    [
        (DIGEST, f"SHA-256={B64}"),
        (DIGEST, f"md5=abc, sha-256 = {B64}"),
        (CONTENT_DIGEST, f"sha-256=:{B64}:"),
        (CONTENT_DIGEST, f"sha-512=:AAAA:, SHA-256=:{B64}:"),
    ],
)
def test_reads_sha256_of_either_form(header: str, value: str) -> None:
    assert list(sha256_claims(header, value)) == [HASH]
    assert check_digest(header, value, body_sha256(BODY)) is True


@pytest.mark.parametrize("header", [DIGEST, CONTENT_DIGEST])
def test_other_algorithms_only_is_no_digest(header: str) -> None:
    assert list(sha256_claims(header, "sha-512=:AAAA:, md5=AAAA")) == []
    assert check_digest(header, "sha-512=:AAAA:", HASH) is False


@pytest.mark.parametrize(
    ("header", "value", "message"),
    [
        (DIGEST, "SHA-256=not*base64", "Digest header is not valid base64"),
        (CONTENT_DIGEST, "sha-256=:not*base64:", "Content-Digest is not valid base64"),
        # Content-Digest is a structured byte sequence: the colons are required.
        (CONTENT_DIGEST, f"sha-256={B64}", "Content-Digest value is malformed"),
        (DIGEST, f"SHA-256={OTHER}", "Digest does not match body"),
        (CONTENT_DIGEST, f"sha-256=:{OTHER}:", "Content-Digest does not match body"),
        # Every SHA-256 entry must match, not just one of them.
        (DIGEST, f"SHA-256={B64},SHA-256={OTHER}", "Digest does not match body"),
    ],
)
def test_refusals_name_the_header(header: str, value: str, message: str) -> None:
    with pytest.raises(SignatureError, match=message):
        check_digest(header, value, HASH)


def test_entries_are_read_in_order() -> None:
    """A mismatch is reported before a later malformed entry is even read."""
    with pytest.raises(SignatureError, match="does not match"):
        check_digest(CONTENT_DIGEST, f"sha-256=:{OTHER}:, sha-256=broken", HASH)
    claims = sha256_claims(CONTENT_DIGEST, f"sha-256=:{B64}:, sha-256=broken")
    assert next(claims) == HASH
    with pytest.raises(SignatureError, match="malformed"):
        next(claims)
