"""HTTP Signatures, the public entry: draft-cavage-http-signatures-12 (as Mastodon and most
of the fediverse use) and RFC 9421 HTTP Message Signatures, both verified and both made.

The work is done in ``activitypub.httpsig`` by job (``digests``, ``cavage``, ``rfc9421``,
``structured``, ``common``); this module picks the spec. ``verify_request`` checks Date
window, digest, covered headers and the RSA/Ed25519 signature with a key obtained from an
injected async resolver. Every refusal raises ``SignatureError`` with a reason that names
the failure; nothing is swallowed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta

from yarl import URL

from activitypub.errors import SignatureError
from activitypub.httpsig.cavage import (
    ParsedSignature,
    PendingSignature,
    parse_signature_header,
    prepare_signature,
    sign_request,
    signing_string,
    verify_cavage,
)
from activitypub.httpsig.common import (
    BODY_METHODS,
    CAVAGE,
    DEFAULT_MAX_SKEW,
    ED25519,
    HS2019,
    RFC9421,
    RFC9421_ALGORITHMS,
    RSA_PSS_SHA512,
    RSA_SHA256,
    RSA_V1_5_SHA256,
    SUPPORTED_ALGORITHMS,
    KeyResolver,
    ResolvedKey,
    VerifiedSignature,
    as_ci,
    http_date,
    key_id_host,
    sign_bytes,
)
from activitypub.httpsig.digests import content_digest_header, digest_header
from activitypub.httpsig.rfc9421 import (
    ParsedSignatureInput,
    PendingRfc9421,
    parse_signature_input,
    prepare_signature_rfc9421,
    sign_request_rfc9421,
    verify_rfc9421,
)

__all__ = [
    "BODY_METHODS",
    "CAVAGE",
    "DEFAULT_MAX_SKEW",
    "ED25519",
    "HS2019",
    "RFC9421",
    "RFC9421_ALGORITHMS",
    "RSA_PSS_SHA512",
    "RSA_SHA256",
    "RSA_V1_5_SHA256",
    "SUPPORTED_ALGORITHMS",
    "KeyResolver",
    "ParsedSignature",
    "ParsedSignatureInput",
    "PendingRfc9421",
    "PendingSignature",
    "ResolvedKey",
    "VerifiedSignature",
    "content_digest_header",
    "digest_header",
    "http_date",
    "key_id_host",
    "parse_signature_header",
    "parse_signature_input",
    "prepare_signature",
    "prepare_signature_rfc9421",
    "sign_bytes",
    "sign_request",
    "sign_request_as",
    "sign_request_rfc9421",
    "signing_string",
    "verify_request",
]


def sign_request_as(
    spec: str,
    method: str,
    url: str | URL,
    headers: Mapping[str, str],
    body: bytes | None,
    key_id: str,
    *,
    digest: str | None = None,
) -> PendingSignature | PendingRfc9421:
    """The pending signature of ``spec`` (``CAVAGE`` or ``RFC9421``) for an RSA key."""
    if spec == RFC9421:
        return prepare_signature_rfc9421(method, url, headers, body, key_id, digest=digest)
    return prepare_signature(method, url, headers, body, key_id, digest=digest)


async def verify_request(
    method: str,
    path_qs: str,
    headers: Mapping[str, str],
    body: bytes | None,
    resolve_key: KeyResolver,
    *,
    now: datetime | None = None,
    max_skew: timedelta = DEFAULT_MAX_SKEW,
    required_headers: Iterable[str] | None = None,
    key_host_allowed: Callable[[str], bool] | None = None,
    scheme: str = "https",
    our_host: str | None = None,
) -> VerifiedSignature:
    """Verify a signed request; return who signed it or raise SignatureError.

    draft-cavage (``Signature``) and RFC 9421 (``Signature-Input`` + ``Signature``, chosen
    when Signature-Input is present; ``scheme`` rebuilds ``@target-uri``).

    ``path_qs`` is the raw request target (``request.raw_path`` in aiohttp). ``body`` is
    the raw body (None for bodiless requests). ``required_headers`` (draft-cavage only)
    defaults to ``(request-target) host date`` (+ ``digest`` for POST/PUT/PATCH); ``date``
    is also satisfied by ``(created)``. ``key_host_allowed`` is called with the keyId host
    before any key lookup, so a blocked host never costs a fetch. On a failed verification
    the key is resolved again with ``refresh=True`` once (key rotation). ``our_host`` (our
    ``host[:port]``) must then be the request's Host: the signature covers Host, and a
    request signed for another server must not be replayable to us.
    """
    method = method.upper()
    ci = as_ci(headers)
    if our_host is not None and not _same_authority(ci.get("Host", ""), our_host, scheme):
        raise SignatureError("request is addressed to another host")
    if "Signature-Input" in ci:
        return await verify_rfc9421(
            method, path_qs, ci, body, resolve_key,
            now=now, max_skew=max_skew, key_host_allowed=key_host_allowed, scheme=scheme,
        )  # fmt: skip
    return await verify_cavage(
        method, path_qs, ci, body, resolve_key,
        now=now, max_skew=max_skew, required_headers=required_headers,
        key_host_allowed=key_host_allowed,
    )  # fmt: skip


def _same_authority(host_header: str, our_host: str, scheme: str) -> bool:
    default = ":443" if scheme == "https" else ":80"
    return host_header.strip().lower().removesuffix(
        default
    ) == our_host.strip().lower().removesuffix(default)
