"""HTTP Signatures (draft-cavage-http-signatures-12), as Mastodon and most of the fediverse use.

Built from small parts: ``sign_request`` (outgoing), ``parse_signature_header``, and
``verify_request`` which checks Date window, Digest, covered headers and the RSA/Ed25519
signature with a key obtained from an injected async resolver. Every refusal raises
``SignatureError`` with a reason that names the failure; nothing is swallowed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from activitypub.errors import FetchError, SignatureError
from activitypub.keys import PrivateKey, PublicKey

RSA_SHA256 = "rsa-sha256"
HS2019 = "hs2019"
ED25519 = "ed25519"
SUPPORTED_ALGORITHMS = frozenset({RSA_SHA256, HS2019, ED25519})

DEFAULT_MAX_SKEW = timedelta(hours=1)
# Methods whose body must be covered by a Digest.
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})

# Parameter values never contain quotes in practice (base64, URLs, header names).
_PARAM_RE = re.compile(r'\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"([^"]*)"|([^,\s]*))\s*(?:,|$)')


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


@dataclass(frozen=True, slots=True)
class ResolvedKey:
    """What a key resolver returns: the actor owning the key and the key object."""

    owner: str
    public_key: PublicKey


@dataclass(frozen=True, slots=True)
class VerifiedSignature:
    """Outcome of a successful verification."""

    key_id: str
    key_owner: str
    key_host: str
    algorithm: str
    headers: tuple[str, ...]

    @property
    def actor(self) -> str:
        """Alias of ``key_owner``: the actor id the signing key belongs to."""
        return self.key_owner


# resolve_key(key_id, refresh) -> ResolvedKey, or None when the key is unknown.
# With refresh=True the resolver must bypass its cache (the key may have rotated).
KeyResolver = Callable[[str, bool], Awaitable[ResolvedKey | None]]


def key_id_host(key_id: str) -> str:
    """Lower-case host (without port) of a keyId URL, "" if not an http(s) URL."""
    try:
        parts = urlsplit(key_id)
    except ValueError:
        return ""
    if parts.scheme not in ("http", "https"):
        return ""
    return (parts.hostname or "").lower()


def digest_header(body: bytes) -> str:
    """``SHA-256=<base64>`` for a body."""
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def http_date(moment: datetime | None = None) -> str:
    """An RFC 7231 IMF-fixdate (``Sat, 28 Nov 2026 13:21:35 GMT``)."""
    return format_datetime((moment or datetime.now(UTC)).astimezone(UTC), usegmt=True)


# --------------------------------------------------------------------------- signing


def _sign_bytes(private_key: PrivateKey, data: bytes) -> bytes:
    if isinstance(private_key, rsa.RSAPrivateKey):
        return private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    return private_key.sign(data)


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
    if algorithm not in SUPPORTED_ALGORITHMS:
        raise ValueError(f"unsupported algorithm {algorithm!r}")
    target = URL(url) if isinstance(url, str) else url
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    out: dict[str, str] = dict(headers)
    lower = {name.lower(): name for name in out}
    if "date" not in lower:
        out["Date"] = http_date(moment)
        lower["date"] = "Date"
    if "host" not in lower:
        out["Host"] = target.host_port_subcomponent or ""
        lower["host"] = "Host"
    covered = ["(request-target)"]
    created = expires = None
    if algorithm == HS2019:
        created = int(moment.timestamp())
        covered.append("(created)")
        if expires_in is not None:
            expires = created + int(expires_in.total_seconds())
            covered.append("(expires)")
    covered += ["host", "date"]
    if body is not None:
        lower.setdefault("digest", "Digest")
        out[lower["digest"]] = digest_header(body)
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
    signature = base64.b64encode(_sign_bytes(private_key, "\n".join(lines).encode("utf-8")))
    params = [f'keyId="{key_id}"', f'algorithm="{algorithm}"']
    if created is not None:
        params.append(f"created={created}")
    if expires is not None:
        params.append(f"expires={expires}")
    params.append(f'headers="{" ".join(covered)}"')
    params.append(f'signature="{signature.decode("ascii")}"')
    out["Signature"] = ",".join(params)
    return out


# --------------------------------------------------------------------------- parsing


def parse_signature_header(value: str) -> ParsedSignature:
    """Parse a ``Signature`` header (or ``Authorization: Signature …``); SignatureError if bad."""
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


def _as_ci(headers: Mapping[str, str]) -> CIMultiDictProxy[str] | CIMultiDict[str]:
    if isinstance(headers, CIMultiDictProxy | CIMultiDict):
        return headers
    return CIMultiDict(headers)


def _verify_bytes(key: PublicKey, algorithm: str, signature: bytes, data: bytes) -> bool:
    try:
        if isinstance(key, rsa.RSAPublicKey):
            if algorithm == ED25519:
                raise SignatureError("key type does not match algorithm")
            key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(key, ed25519.Ed25519PublicKey):
            if algorithm == RSA_SHA256:
                raise SignatureError("key type does not match algorithm")
            key.verify(signature, data)
        else:
            raise SignatureError("unsupported key type")
    except InvalidSignature:
        return False
    return True


def _check_date(
    headers: CIMultiDictProxy[str] | CIMultiDict[str],
    parsed: ParsedSignature,
    now: datetime,
    max_skew: timedelta,
) -> None:
    if "(created)" in parsed.headers:
        if parsed.created is None:
            raise SignatureError("(created) covered but created parameter missing")
        created = datetime.fromtimestamp(parsed.created, UTC)
        if created > now + max_skew:
            raise SignatureError("signature created in the future")
        if created < now - max_skew:
            raise SignatureError("signature is stale (created too long ago)")
    if "(expires)" in parsed.headers:
        if parsed.expires is None:
            raise SignatureError("(expires) covered but expires parameter missing")
        if parsed.expires < now.timestamp():
            raise SignatureError("signature has expired")
    date_value = headers.get("Date")
    if date_value is None:
        if "(created)" in parsed.headers:
            return
        raise SignatureError("missing Date header")
    try:
        date = parsedate_to_datetime(date_value)
    except (TypeError, ValueError, IndexError):
        raise SignatureError("Date header is not an HTTP date") from None
    if date.tzinfo is None:
        date = date.replace(tzinfo=UTC)
    if date > now + max_skew:
        raise SignatureError("Date header is in the future")
    if date < now - max_skew:
        raise SignatureError("Date header is stale")


def _check_digest(
    headers: CIMultiDictProxy[str] | CIMultiDict[str],
    parsed: ParsedSignature,
    method: str,
    body: bytes | None,
) -> None:
    digest_value = headers.get("Digest")
    content_digest = headers.get("Content-Digest")
    must = method in BODY_METHODS and body is not None
    if digest_value is None and content_digest is None:
        if must:
            raise SignatureError("missing Digest header")
        return
    if body is None:
        return
    actual = hashlib.sha256(body).digest()
    checked = False
    if digest_value is not None:
        if must and "digest" not in parsed.headers:
            raise SignatureError("Digest header not covered by signature")
        for item in digest_value.split(","):
            algo, _, encoded = item.strip().partition("=")
            if algo.strip().lower() != "sha-256":
                continue
            try:
                claimed = base64.b64decode(encoded.strip(), validate=True)
            except (binascii.Error, ValueError):
                raise SignatureError("Digest header is not valid base64") from None
            if not hmac.compare_digest(claimed, actual):
                raise SignatureError("Digest does not match body")
            checked = True
    if content_digest is not None and not checked:
        if must and "content-digest" not in parsed.headers:
            raise SignatureError("Content-Digest header not covered by signature")
        for item in content_digest.split(","):
            algo, _, encoded = item.strip().partition("=")
            if algo.strip().lower() != "sha-256":
                continue
            encoded = encoded.strip()
            if len(encoded) < 2 or encoded[0] != ":" or encoded[-1] != ":":
                raise SignatureError("Content-Digest value is malformed")
            try:
                claimed = base64.b64decode(encoded[1:-1], validate=True)
            except (binascii.Error, ValueError):
                raise SignatureError("Content-Digest is not valid base64") from None
            if not hmac.compare_digest(claimed, actual):
                raise SignatureError("Content-Digest does not match body")
            checked = True
    if not checked:
        raise SignatureError("no SHA-256 digest of the body")


def signing_string(
    method: str,
    path_qs: str,
    headers: Mapping[str, str],
    parsed: ParsedSignature,
) -> bytes:
    """The string the signature covers, rebuilt from the request."""
    ci = _as_ci(headers)
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
            values = ci.getall(name, [])
            if not values:
                raise SignatureError(f"signed header {name} is missing")
            lines.append(f"{name}: {', '.join(v.strip() for v in values)}")
    return "\n".join(lines).encode("utf-8")


def _required_for(method: str, body: bytes | None) -> frozenset[str]:
    names = {"(request-target)", "host", "date"}
    if method in BODY_METHODS and body is not None:
        names.add("digest")
    return frozenset(names)


async def _resolve(resolve_key: KeyResolver, key_id: str, refresh: bool) -> ResolvedKey:
    try:
        resolved = await resolve_key(key_id, refresh)
    except SignatureError:
        raise
    except FetchError as exc:
        raise SignatureError("signing key could not be fetched", detail=str(exc)) from exc
    if resolved is None:
        raise SignatureError("unknown signing key")
    return resolved


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
) -> VerifiedSignature:
    """Verify a draft-cavage signed request; return who signed it or raise SignatureError.

    ``path_qs`` is the raw request target (``request.raw_path`` in aiohttp). ``body`` is
    the raw body (None for bodiless requests). ``required_headers`` defaults to
    ``(request-target) host date`` (+ ``digest`` for POST/PUT/PATCH); ``date`` is also
    satisfied by ``(created)``. ``key_host_allowed`` is called with the keyId host before
    any key lookup, so a blocked host never costs a fetch. On a failed verification the
    key is resolved again with ``refresh=True`` once (key rotation).
    """
    method = method.upper()
    ci = _as_ci(headers)
    raw = ci.get("Signature")
    if raw is None:
        auth = ci.get("Authorization", "")
        if auth[:10].lower() == "signature ":
            raw = auth
    if raw is None:
        raise SignatureError("missing Signature header")
    parsed = parse_signature_header(raw)
    if parsed.algorithm not in SUPPORTED_ALGORITHMS:
        raise SignatureError(f"unsupported signature algorithm {parsed.algorithm[:40]!r}")
    key_host = parsed.key_host
    if not key_host:
        raise SignatureError("keyId is not an http(s) URL")
    if key_host_allowed is not None and not key_host_allowed(key_host):
        raise SignatureError("keyId host is not allowed", status=403)

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
    _check_date(ci, parsed, moment, max_skew)
    _check_digest(ci, parsed, method, body)
    data = signing_string(method, path_qs, ci, parsed)

    resolved = await _resolve(resolve_key, parsed.key_id, False)
    if not _verify_bytes(resolved.public_key, parsed.algorithm, parsed.signature, data):
        fresh = await _resolve(resolve_key, parsed.key_id, True)
        if _same_key(fresh.public_key, resolved.public_key) or not _verify_bytes(
            fresh.public_key, parsed.algorithm, parsed.signature, data
        ):
            raise SignatureError("signature does not verify")
        resolved = fresh
    return VerifiedSignature(
        key_id=parsed.key_id,
        key_owner=resolved.owner,
        key_host=key_host,
        algorithm=parsed.algorithm,
        headers=parsed.headers,
    )


def _same_key(a: PublicKey, b: PublicKey) -> bool:
    if a is b:
        return True
    if isinstance(a, rsa.RSAPublicKey) and isinstance(b, rsa.RSAPublicKey):
        return a.public_numbers() == b.public_numbers()
    return False
