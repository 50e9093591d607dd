"""draft-cavage-http-signatures-12, as Mastodon and most of the fediverse use it:
the ``Signature`` header, made (``prepare_signature`` / ``sign_request``) and verified
(``verify_cavage``: covered headers, Date window, Digest, then the key)."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

from yarl import URL

from activitypub.errors import SignatureError
from activitypub.httpsig.common import (
    BODY_METHODS,
    HS2019,
    RSA_SHA256,
    SUPPORTED_ALGORITHMS,
    Headers,
    KeyResolver,
    VerifiedSignature,
    as_ci,
    check_created,
    check_date_header,
    check_expires,
    check_key_host,
    covered_header_value,
    http_date,
    http_date_now,
    key_id_host,
    sign_bytes,
    verify_with_key,
)
from activitypub.httpsig.digests import (
    CONTENT_DIGEST,
    DIGEST,
    body_sha256,
    check_digest,
    digest_header,
)

if TYPE_CHECKING:
    from activitypub.keys import PrivateKey

# Parameter values never contain quotes in practice (base64, URLs, header names).
_PARAM_RE = re.compile(r'\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"([^"]*)"|([^,\s]*))\s*(?:,|$)')

_REQUIRED = frozenset({"(request-target)", "host", "date"})
_REQUIRED_WITH_BODY = _REQUIRED | {"digest"}


@dataclass(frozen=True, slots=True)
class ParsedSignature:
    """The parameters of a ``Signature`` header."""

    key_id: str
    algorithm: str
    headers: tuple[str, ...]
    signature: bytes
    created: int | None = None
    expires: int | None = None

    @property
    def key_host(self) -> str:
        """Lower-case host of the keyId URL ("" if it has none)."""
        return key_id_host(self.key_id)


# --------------------------------------------------------------------------- signing


@dataclass(slots=True)
class PendingSignature:
    """A request's headers and signing string, waiting for the signature bytes.

    Signing is split in two so the RSA operation can run elsewhere (a process pool):
    ``prepare_signature`` is cheap string work, ``complete`` adds the Signature header.
    """

    headers: dict[str, str]
    data: bytes
    params: list[str]

    def complete(self, signature: bytes) -> dict[str, str]:
        encoded = base64.b64encode(signature).decode("ascii")
        self.headers["Signature"] = ",".join([*self.params, f'signature="{encoded}"'])
        return self.headers


def prepare_signature(
    method: str,
    url: str | URL,
    headers: Mapping[str, str],
    body: bytes | None,
    key_id: str,
    *,
    algorithm: str = RSA_SHA256,
    now: datetime | None = None,
    expires_in: timedelta | None = None,
    digest: str | None = None,
) -> PendingSignature:
    """Everything of ``sign_request`` but the signature itself; ``digest`` may be given
    when the same body goes to many inboxes (it must be ``digest_header(body)``)."""
    if algorithm not in SUPPORTED_ALGORITHMS:
        raise ValueError(f"unsupported algorithm {algorithm!r}")
    target = URL(url) if isinstance(url, str) else url
    out: dict[str, str] = dict(headers)
    lower = {name.lower(): name for name in out}
    if "date" not in lower:
        out["Date"] = http_date(now) if now is not None else http_date_now()
        lower["date"] = "Date"
    if "host" not in lower:
        out["Host"] = target.host_port_subcomponent or ""
        lower["host"] = "Host"
    covered = ["(request-target)"]
    created = expires = None
    if algorithm == HS2019:
        moment = (now or datetime.now(UTC)).astimezone(UTC)
        created = int(moment.timestamp())
        covered.append("(created)")
        if expires_in is not None:
            expires = created + int(expires_in.total_seconds())
            covered.append("(expires)")
    covered += ["host", "date"]
    if body is not None:
        lower.setdefault("digest", "Digest")
        out[lower["digest"]] = digest if digest is not None else digest_header(body)
        covered.append("digest")
    lines = []
    for name in covered:
        if name == "(request-target)":
            lines.append(f"(request-target): {method.lower()} {target.raw_path_qs}")
        elif name == "(created)":
            lines.append(f"(created): {created}")
        elif name == "(expires)":
            lines.append(f"(expires): {expires}")
        else:
            lines.append(f"{name}: {out[lower[name]]}")
    params = [f'keyId="{key_id}"', f'algorithm="{algorithm}"']
    if created is not None:
        params.append(f"created={created}")
    if expires is not None:
        params.append(f"expires={expires}")
    params.append(f'headers="{" ".join(covered)}"')
    return PendingSignature(out, "\n".join(lines).encode("utf-8"), params)


def sign_request(
    method: str,
    url: str | URL,
    headers: Mapping[str, str],
    body: bytes | None,
    key_id: str,
    private_key: PrivateKey,
    *,
    algorithm: str = RSA_SHA256,
    now: datetime | None = None,
    expires_in: timedelta | None = None,
) -> dict[str, str]:
    """Return a copy of ``headers`` with Date, Host, Digest (for a body) and Signature added.

    Covered: ``(request-target) host date`` plus ``digest`` when there is a body; with
    ``algorithm="hs2019"`` also ``(created)`` (and ``(expires)`` if ``expires_in``).
    The request target is taken from yarl, as aiohttp will send it.
    """
    pending = prepare_signature(
        method, url, headers, body, key_id, algorithm=algorithm, now=now, expires_in=expires_in
    )
    return pending.complete(sign_bytes(private_key, pending.data))


# --------------------------------------------------------------------------- parsing


@lru_cache(maxsize=64)
def parse_signature_header(value: str) -> ParsedSignature:
    """Parse a ``Signature`` header (or ``Authorization: Signature …``); SignatureError if bad.

    Cached (a few entries): the inbox reads the keyId's host for its host check before
    verifying, and must not pay for the parse twice. Errors are not cached."""
    text = value.strip()
    if text[:10].lower() == "signature ":
        text = text[10:]
    if len(text) > 8192:
        raise SignatureError("Signature header too long")
    params: dict[str, str] = {}
    pos = 0
    while pos < len(text):
        match = _PARAM_RE.match(text, pos)
        if match is None or match.end() == pos:
            raise SignatureError("malformed Signature header")
        name = match.group(1)
        raw = match.group(2) if match.group(2) is not None else match.group(3)
        params.setdefault(name, raw)
        pos = match.end()
    key_id = params.get("keyId")
    if not key_id:
        raise SignatureError("Signature header has no keyId")
    encoded = params.get("signature")
    if not encoded:
        raise SignatureError("Signature header has no signature")
    try:
        signature = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError("signature is not valid base64") from None
    algorithm = params.get("algorithm", HS2019).lower()
    covered = params.get("headers")
    names = tuple(covered.lower().split()) if covered else ("(created)",)
    if not names:
        raise SignatureError("Signature header covers no headers")
    return ParsedSignature(
        key_id=key_id,
        algorithm=algorithm,
        headers=names,
        signature=signature,
        created=_int_param(params.get("created"), "created"),
        expires=_int_param(params.get("expires"), "expires"),
    )


def _int_param(value: str | None, name: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value.split(".", 1)[0])
    except ValueError:
        raise SignatureError(f"Signature parameter {name} is not a number") from None


# --------------------------------------------------------------------------- verifying


def _check_date(
    headers: Headers, parsed: ParsedSignature, now: datetime, max_skew: timedelta
) -> None:
    if "(created)" in parsed.headers:
        if parsed.created is None:
            raise SignatureError("(created) covered but created parameter missing")
        check_created(parsed.created, now, max_skew)
    if "(expires)" in parsed.headers:
        if parsed.expires is None:
            raise SignatureError("(expires) covered but expires parameter missing")
        check_expires(parsed.expires, now)
    if "Date" not in headers and "(created)" in parsed.headers:
        return
    check_date_header(headers, now, max_skew)


def _check_digest(
    headers: Headers, parsed: ParsedSignature, method: str, body: bytes | None
) -> None:
    """The body must match a SHA-256 Digest (or, failing one, Content-Digest) when there is
    a body; for POST/PUT/PATCH the digest header must be there and covered."""
    digest_value = headers.get(DIGEST)
    content_digest = headers.get(CONTENT_DIGEST)
    must = method in BODY_METHODS and body is not None
    if digest_value is None and content_digest is None:
        if must:
            raise SignatureError("missing Digest header")
        return
    if body is None:
        return
    sha256 = body_sha256(body)
    checked = False
    if digest_value is not None:
        if must and "digest" not in parsed.headers:
            raise SignatureError("Digest header not covered by signature")
        checked = check_digest(DIGEST, digest_value, sha256)
    if content_digest is not None and not checked:
        if must and "content-digest" not in parsed.headers:
            raise SignatureError("Content-Digest header not covered by signature")
        checked = check_digest(CONTENT_DIGEST, content_digest, sha256)
    if not checked:
        raise SignatureError("no SHA-256 digest of the body")


def signing_string(
    method: str,
    path_qs: str,
    headers: Mapping[str, str],
    parsed: ParsedSignature,
) -> bytes:
    """The string the signature covers, rebuilt from the request."""
    ci = as_ci(headers)
    lines = []
    for name in parsed.headers:
        if name == "(request-target)":
            lines.append(f"(request-target): {method.lower()} {path_qs}")
        elif name == "(created)":
            if parsed.created is None:
                raise SignatureError("(created) covered but created parameter missing")
            lines.append(f"(created): {parsed.created}")
        elif name == "(expires)":
            if parsed.expires is None:
                raise SignatureError("(expires) covered but expires parameter missing")
            lines.append(f"(expires): {parsed.expires}")
        else:
            lines.append(f"{name}: {covered_header_value(ci, name)}")
    return "\n".join(lines).encode("utf-8")


def _required_for(method: str, body: bytes | None) -> frozenset[str]:
    if method in BODY_METHODS and body is not None:
        return _REQUIRED_WITH_BODY
    return _REQUIRED


async def verify_cavage(
    method: str,
    path_qs: str,
    headers: Headers,
    body: bytes | None,
    resolve_key: KeyResolver,
    *,
    now: datetime | None,
    max_skew: timedelta,
    required_headers: Iterable[str] | None,
    key_host_allowed: Callable[[str], bool] | None,
) -> VerifiedSignature:
    """Verify a draft-cavage signature (``Signature`` or ``Authorization: Signature``);
    ``method`` is upper case. See ``activitypub.signatures.verify_request``."""
    raw = headers.get("Signature")
    if raw is None:
        auth = headers.get("Authorization", "")
        if auth[:10].lower() == "signature ":
            raw = auth
    if raw is None:
        raise SignatureError("missing Signature header")
    parsed = parse_signature_header(raw)
    if parsed.algorithm not in SUPPORTED_ALGORITHMS:
        raise SignatureError(f"unsupported signature algorithm {parsed.algorithm[:40]!r}")
    key_host = check_key_host(parsed.key_id, key_host_allowed, name="keyId")

    required = (
        frozenset(h.lower() for h in required_headers)
        if required_headers is not None
        else _required_for(method, body)
    )
    covered = set(parsed.headers)
    for name in sorted(required):
        if name in covered:
            continue
        if name == "date" and "(created)" in covered:
            continue
        if name == "digest" and "content-digest" in covered:
            continue
        raise SignatureError(f"signature does not cover {name}")

    moment = (now or datetime.now(UTC)).astimezone(UTC)
    _check_date(headers, parsed, moment, max_skew)
    _check_digest(headers, parsed, method, body)
    data = signing_string(method, path_qs, headers, parsed)

    resolved = await verify_with_key(
        resolve_key, parsed.key_id, parsed.algorithm, parsed.signature, data
    )
    return VerifiedSignature(
        key_id=parsed.key_id,
        key_owner=resolved.owner,
        key_host=key_host,
        algorithm=parsed.algorithm,
        headers=parsed.headers,
    )
