"""HTTP Signatures: draft-cavage-http-signatures-12 (as Mastodon and most of the fediverse
use) and RFC 9421 HTTP Message Signatures, both verified and both made.

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
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from functools import lru_cache
from typing import Any
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
# RFC 9421 algorithm names.
RSA_V1_5_SHA256 = "rsa-v1_5-sha256"
RSA_PSS_SHA512 = "rsa-pss-sha512"
RFC9421_ALGORITHMS = frozenset({RSA_V1_5_SHA256, RSA_PSS_SHA512, ED25519})
# The two specs a request can be signed with (double-knocking picks one per peer).
CAVAGE = "draft-cavage"
RFC9421 = "rfc9421"

DEFAULT_MAX_SKEW = timedelta(hours=1)
_PKCS1V15 = padding.PKCS1v15()
_SHA256 = hashes.SHA256()
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
    spec: str = CAVAGE  # which spec the request was signed with

    @property
    def actor(self) -> str:
        """Alias of ``key_owner``: the actor id the signing key belongs to."""
        return self.key_owner


# resolve_key(key_id, refresh) -> ResolvedKey, or None when the key is unknown.
# With refresh=True the resolver must bypass its cache (the key may have rotated).
KeyResolver = Callable[[str, bool], Awaitable[ResolvedKey | None]]


@lru_cache(maxsize=1024)
def key_id_host(key_id: str) -> str:
    """Lower-case host (without port) of a keyId URL, "" if not an http(s) URL (cached:
    the same few key ids sign most requests)."""
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


_date_cache: tuple[int, str] = (0, "")


def _http_date_now() -> str:
    """``http_date()`` for now, formatted once per second."""
    global _date_cache
    second = int(time.time())
    if _date_cache[0] != second:
        _date_cache = (second, http_date(datetime.fromtimestamp(second, UTC)))
    return _date_cache[1]


# --------------------------------------------------------------------------- signing


def sign_bytes(private_key: PrivateKey, data: bytes) -> bytes:
    """The raw signature of a signing string (RSASSA-PKCS1-v1_5 SHA-256, or Ed25519)."""
    if isinstance(private_key, rsa.RSAPrivateKey):
        return private_key.sign(data, _PKCS1V15, _SHA256)
    return private_key.sign(data)


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
        out["Date"] = http_date(now) if now is not None else _http_date_now()
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


def _as_ci(headers: Mapping[str, str]) -> CIMultiDictProxy[str] | CIMultiDict[str]:
    if isinstance(headers, CIMultiDictProxy | CIMultiDict):
        return headers
    return CIMultiDict(headers)


def _verify_bytes(key: PublicKey, algorithm: str, signature: bytes, data: bytes) -> bool:
    try:
        if isinstance(key, rsa.RSAPublicKey):
            if algorithm == ED25519:
                raise SignatureError("key type does not match algorithm")
            if algorithm == RSA_PSS_SHA512:
                key.verify(
                    signature,
                    data,
                    padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64),
                    hashes.SHA512(),
                )
            else:
                key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(key, ed25519.Ed25519PublicKey):
            if algorithm in (RSA_SHA256, RSA_V1_5_SHA256, RSA_PSS_SHA512):
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
    date = _http_date_value(date_value)
    if date > now + max_skew:
        raise SignatureError("Date header is in the future")
    if date < now - max_skew:
        raise SignatureError("Date header is stale")


@lru_cache(maxsize=256)
def _http_date_value(value: str) -> datetime:
    """A Date header's moment (cached: concurrent requests carry the same second)."""
    try:
        date = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        raise SignatureError("Date header is not an HTTP date") from None
    if date.tzinfo is None:
        date = date.replace(tzinfo=UTC)
    return date


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


_REQUIRED = frozenset({"(request-target)", "host", "date"})
_REQUIRED_WITH_BODY = _REQUIRED | {"digest"}


def _required_for(method: str, body: bytes | None) -> frozenset[str]:
    if method in BODY_METHODS and body is not None:
        return _REQUIRED_WITH_BODY
    return _REQUIRED


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


async def _verify_with_key(
    resolve_key: KeyResolver, key_id: str, algorithm: str, signature: bytes, data: bytes
) -> ResolvedKey:
    """Resolve the key and verify; on failure refresh the key once (rotation)."""
    resolved = await _resolve(resolve_key, key_id, False)
    if _verify_bytes(resolved.public_key, algorithm, signature, data):
        return resolved
    fresh = await _resolve(resolve_key, key_id, True)
    if _same_key(fresh.public_key, resolved.public_key) or not _verify_bytes(
        fresh.public_key, algorithm, signature, data
    ):
        raise SignatureError("signature does not verify")
    return fresh


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
    the raw body (None for bodiless requests). ``required_headers`` defaults to
    ``(request-target) host date`` (+ ``digest`` for POST/PUT/PATCH); ``date`` is also
    satisfied by ``(created)``. ``key_host_allowed`` is called with the keyId host before
    any key lookup, so a blocked host never costs a fetch. On a failed verification the
    key is resolved again with ``refresh=True`` once (key rotation). ``our_host`` (our
    ``host[:port]``) must then be the request's Host: the signature covers Host, and a
    request signed for another server must not be replayable to us.
    """
    method = method.upper()
    ci = _as_ci(headers)
    if our_host is not None and not _same_authority(ci.get("Host", ""), our_host, scheme):
        raise SignatureError("request is addressed to another host")
    if "Signature-Input" in ci:
        return await _verify_rfc9421(
            method, path_qs, ci, body, resolve_key,
            now=now, max_skew=max_skew, key_host_allowed=key_host_allowed, scheme=scheme,
        )  # fmt: skip
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

    resolved = await _verify_with_key(
        resolve_key, parsed.key_id, parsed.algorithm, parsed.signature, data
    )
    return VerifiedSignature(
        key_id=parsed.key_id,
        key_owner=resolved.owner,
        key_host=key_host,
        algorithm=parsed.algorithm,
        headers=parsed.headers,
    )


def _same_authority(host_header: str, our_host: str, scheme: str) -> bool:
    default = ":443" if scheme == "https" else ":80"
    return host_header.strip().lower().removesuffix(
        default
    ) == our_host.strip().lower().removesuffix(default)


def _same_key(a: PublicKey, b: PublicKey) -> bool:
    if a is b:
        return True
    if isinstance(a, rsa.RSAPublicKey) and isinstance(b, rsa.RSAPublicKey):
        return a.public_numbers() == b.public_numbers()
    return False


# --------------------------------------------------------------------------- RFC 9421

_TOKEN_RE = re.compile(r"[A-Za-z*][A-Za-z0-9_\-.:%*/]*")
_KEY_RE = re.compile(r"[a-z*][a-z0-9_\-.*]*")
_NUMBER_RE = re.compile(r"-?\d{1,15}(?:\.\d{1,3})?")


@dataclass(frozen=True, slots=True)
class ParsedSignatureInput:
    """One member of an RFC 9421 ``Signature-Input`` header."""

    label: str
    components: tuple[str, ...]
    params: Mapping[str, str | int | bool]
    raw: str  # the serialized member value, used verbatim as @signature-params

    @property
    def key_id(self) -> str:
        value = self.params.get("keyid")
        return value if isinstance(value, str) else ""


class _SFScanner:
    """Just enough of RFC 8941 to read Signature-Input and Signature dictionaries."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def error(self, what: str) -> SignatureError:
        return SignatureError(f"malformed {what}")

    def skip_ows(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t":
            self.pos += 1

    def key(self) -> str:
        match = _KEY_RE.match(self.text, self.pos)
        if match is None:
            raise self.error("structured field key")
        self.pos = match.end()
        return match.group(0)

    def string(self) -> str:
        if self.text[self.pos : self.pos + 1] != '"':
            raise self.error("structured field string")
        out = []
        self.pos += 1
        while self.pos < len(self.text):
            char = self.text[self.pos]
            self.pos += 1
            if char == "\\":
                out.append(self.text[self.pos : self.pos + 1])
                self.pos += 1
            elif char == '"':
                return "".join(out)
            else:
                out.append(char)
        raise self.error("structured field string")

    def bare(self) -> str | int | bool:
        char = self.text[self.pos : self.pos + 1]
        if char == '"':
            return self.string()
        if char == "?":
            value = self.text[self.pos + 1 : self.pos + 2]
            self.pos += 2
            return value == "1"
        if char == ":":
            end = self.text.find(":", self.pos + 1)
            if end < 0:
                raise self.error("structured field byte sequence")
            value_bytes = self.text[self.pos + 1 : end]
            self.pos = end + 1
            return ":" + value_bytes + ":"
        if char == "-" or char.isdigit():
            match = _NUMBER_RE.match(self.text, self.pos)
            if match is None:
                raise self.error("structured field number")
            self.pos = match.end()
            return int(float(match.group(0)))
        match = _TOKEN_RE.match(self.text, self.pos)
        if match is None:
            raise self.error("structured field item")
        self.pos = match.end()
        return match.group(0)

    def params(self) -> dict[str, str | int | bool]:
        out: dict[str, str | int | bool] = {}
        while self.text[self.pos : self.pos + 1] == ";":
            self.pos += 1
            self.skip_ows()
            name = self.key()
            if self.text[self.pos : self.pos + 1] == "=":
                self.pos += 1
                out[name] = self.bare()
            else:
                out[name] = True
        return out

    def inner_list(self) -> tuple[list[tuple[str, dict[str, str | int | bool]]], dict[str, Any]]:
        if self.text[self.pos : self.pos + 1] != "(":
            raise self.error("Signature-Input (expected an inner list)")
        self.pos += 1
        items: list[tuple[str, dict[str, str | int | bool]]] = []
        while True:
            self.skip_ows()
            if self.text[self.pos : self.pos + 1] == ")":
                self.pos += 1
                break
            item = self.string()
            items.append((item, self.params()))
            if self.text[self.pos : self.pos + 1] not in (" ", ")"):
                raise self.error("Signature-Input inner list")
        return items, self.params()

    def dictionary(self, member: Callable[[], Any]) -> dict[str, tuple[Any, str]]:
        out: dict[str, tuple[Any, str]] = {}
        while True:
            self.skip_ows()
            if self.pos >= len(self.text):
                return out
            name = self.key()
            if self.text[self.pos : self.pos + 1] != "=":
                raise self.error("structured field dictionary")
            self.pos += 1
            start = self.pos
            value = member()
            out[name] = (value, self.text[start : self.pos])
            self.skip_ows()
            if self.pos >= len(self.text):
                return out
            if self.text[self.pos] != ",":
                raise self.error("structured field dictionary")
            self.pos += 1


def parse_signature_input(value: str) -> dict[str, ParsedSignatureInput]:
    """Parse an RFC 9421 ``Signature-Input`` header; SignatureError if malformed."""
    if len(value) > 8192:
        raise SignatureError("Signature-Input header too long")
    scanner = _SFScanner(value)
    members = scanner.dictionary(scanner.inner_list)
    out: dict[str, ParsedSignatureInput] = {}
    for label, ((items, params), raw) in members.items():
        components = []
        for name, item_params in items:
            if item_params:
                raise SignatureError(f"unsupported component parameters on {name!r}")
            components.append(name.lower())
        out[label] = ParsedSignatureInput(label, tuple(components), params, raw)
    return out


def _parse_rfc9421_signatures(value: str) -> dict[str, bytes]:
    scanner = _SFScanner(value)
    members = scanner.dictionary(scanner.bare)
    out: dict[str, bytes] = {}
    for label, (item, _raw) in members.items():
        if not isinstance(item, str) or len(item) < 2 or item[0] != ":" or item[-1] != ":":
            raise SignatureError("Signature value is not a byte sequence")
        try:
            out[label] = base64.b64decode(item[1:-1], validate=True)
        except (binascii.Error, ValueError):
            raise SignatureError("signature is not valid base64") from None
    return out


def _rfc9421_base(
    method: str,
    path_qs: str,
    headers: CIMultiDictProxy[str] | CIMultiDict[str],
    sig_input: ParsedSignatureInput,
    scheme: str,
) -> bytes:
    authority = (headers.get("Host") or "").strip().lower()
    path, _, query = path_qs.partition("?")
    lines = []
    for name in sig_input.components:
        if name == "@method":
            value = method.upper()
        elif name == "@target-uri":
            value = f"{scheme}://{authority}{path_qs}"
        elif name == "@authority":
            value = authority
        elif name == "@scheme":
            value = scheme
        elif name == "@request-target":
            value = path_qs
        elif name == "@path":
            value = path or "/"
        elif name == "@query":
            value = "?" + query
        elif name.startswith("@"):
            raise SignatureError(f"unsupported derived component {name[:40]!r}")
        else:
            values = headers.getall(name, [])
            if not values:
                raise SignatureError(f"signed header {name} is missing")
            value = ", ".join(v.strip() for v in values)
        lines.append(f'"{name}": {value}')
    lines.append(f'"@signature-params": {sig_input.raw}')
    return "\n".join(lines).encode("utf-8")


def _content_digest_matches(value: str, body: bytes) -> bool:
    actual = hashlib.sha256(body).digest()
    found = False
    for item in value.split(","):
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
            return False
        found = True
    if not found:
        raise SignatureError("no SHA-256 Content-Digest of the body")
    return True


async def _verify_rfc9421(
    method: str,
    path_qs: str,
    headers: CIMultiDictProxy[str] | CIMultiDict[str],
    body: bytes | None,
    resolve_key: KeyResolver,
    *,
    now: datetime | None,
    max_skew: timedelta,
    key_host_allowed: Callable[[str], bool] | None,
    scheme: str,
) -> VerifiedSignature:
    inputs = parse_signature_input(headers.get("Signature-Input", ""))
    raw_signatures = headers.get("Signature")
    if raw_signatures is None:
        raise SignatureError("missing Signature header")
    signatures = _parse_rfc9421_signatures(raw_signatures)
    label = next((name for name in inputs if name in signatures), None)
    if label is None:
        raise SignatureError("no Signature matches Signature-Input")
    sig_input = inputs[label]
    key_id = sig_input.key_id
    key_host = key_id_host(key_id)
    if not key_host:
        raise SignatureError("keyid is not an http(s) URL")
    if key_host_allowed is not None and not key_host_allowed(key_host):
        raise SignatureError("keyId host is not allowed", status=403)
    alg = sig_input.params.get("alg", RSA_V1_5_SHA256)
    if not isinstance(alg, str) or alg not in RFC9421_ALGORITHMS:
        raise SignatureError("unsupported signature algorithm")

    covered = set(sig_input.components)
    if "@method" not in covered:
        raise SignatureError("signature does not cover @method")
    if not (
        "@target-uri" in covered
        or ("@authority" in covered and covered & {"@path", "@request-target"})
    ):
        raise SignatureError("signature does not cover the target URI")
    must_digest = method in BODY_METHODS and body is not None
    if must_digest and "content-digest" not in covered:
        raise SignatureError("signature does not cover content-digest")

    moment = (now or datetime.now(UTC)).astimezone(UTC)
    created = sig_input.params.get("created")
    if isinstance(created, int) and not isinstance(created, bool):
        created_at = datetime.fromtimestamp(created, UTC)
        if created_at > moment + max_skew:
            raise SignatureError("signature created in the future")
        if created_at < moment - max_skew:
            raise SignatureError("signature is stale (created too long ago)")
    elif "date" in covered:
        _check_date(headers, ParsedSignature(key_id, alg, ("date",), b""), moment, max_skew)
    else:
        raise SignatureError("signature has neither created nor a covered Date")
    expires = sig_input.params.get("expires")
    if isinstance(expires, int) and not isinstance(expires, bool) and expires < moment.timestamp():
        raise SignatureError("signature has expired")
    if body is not None and "content-digest" in covered:
        content_digest = headers.get("Content-Digest")
        if content_digest is None:
            raise SignatureError("missing Content-Digest header")
        if not _content_digest_matches(content_digest, body):
            raise SignatureError("Content-Digest does not match body")

    data = _rfc9421_base(method, path_qs, headers, sig_input, scheme)
    resolved = await _verify_with_key(resolve_key, key_id, alg, signatures[label], data)
    return VerifiedSignature(
        key_id=key_id,
        key_owner=resolved.owner,
        key_host=key_host,
        algorithm=alg,
        headers=sig_input.components,
        spec=RFC9421,
    )


def content_digest_header(body: bytes, *, digest: str | None = None) -> str:
    """RFC 9530 ``sha-256=:<base64>:`` for a body; ``digest`` (our ``digest_header(body)``)
    carries the same hash, so a body hashed once serves both specs."""
    if digest is not None and digest.startswith("SHA-256="):
        return f"sha-256=:{digest[8:]}:"
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii") + ":"


@dataclass(slots=True)
class PendingRfc9421:
    """An RFC 9421 request's headers and signature base, waiting for the signature bytes
    (the same split as ``PendingSignature``, so a process pool can sign either)."""

    headers: dict[str, str]
    data: bytes
    signature_params: str
    label: str

    def complete(self, signature: bytes) -> dict[str, str]:
        encoded = base64.b64encode(signature).decode("ascii")
        self.headers["Signature-Input"] = f"{self.label}={self.signature_params}"
        self.headers["Signature"] = f"{self.label}=:{encoded}:"
        return self.headers


def prepare_signature_rfc9421(
    method: str,
    url: str | URL,
    headers: Mapping[str, str],
    body: bytes | None,
    key_id: str,
    *,
    algorithm: str = RSA_V1_5_SHA256,
    now: datetime | None = None,
    digest: str | None = None,
    label: str = "sig1",
) -> PendingRfc9421:
    """Everything of an RFC 9421 signature but the signature itself.

    Covers ``"@method" "@target-uri"`` and, with a body, ``"content-digest"`` (RFC 9530,
    added); parameters ``created``, ``keyid``, ``alg``. A Date header is added (not
    covered) for peers that log or check it. ``digest`` as in ``content_digest_header``.
    """
    if algorithm not in RFC9421_ALGORITHMS:
        raise ValueError(f"unsupported algorithm {algorithm!r}")
    if '"' in key_id or "\\" in key_id:
        raise ValueError("key id cannot be a structured field string")
    target = URL(url) if isinstance(url, str) else url
    out: dict[str, str] = dict(headers)
    lower = {name.lower() for name in out}
    if "date" not in lower:
        out["Date"] = http_date(now) if now is not None else _http_date_now()
    created = int((now or datetime.now(UTC)).timestamp())
    target_uri = f"{target.scheme}://{target.host_port_subcomponent}{target.raw_path_qs}"
    components = ['"@method"', '"@target-uri"']
    lines = [f'"@method": {method.upper()}', f'"@target-uri": {target_uri}']
    if body is not None:
        out["Content-Digest"] = content_digest_header(body, digest=digest)
        components.append('"content-digest"')
        lines.append(f'"content-digest": {out["Content-Digest"]}')
    params = f'({" ".join(components)});created={created};keyid="{key_id}";alg="{algorithm}"'
    lines.append(f'"@signature-params": {params}')
    return PendingRfc9421(out, "\n".join(lines).encode("utf-8"), params, label)


def sign_request_rfc9421(
    method: str,
    url: str | URL,
    headers: Mapping[str, str],
    body: bytes | None,
    key_id: str,
    private_key: PrivateKey,
    *,
    now: datetime | None = None,
    label: str = "sig1",
) -> dict[str, str]:
    """RFC 9421 signing (``rsa-v1_5-sha256`` or ``ed25519``): adds Date, Content-Digest,
    Signature-Input and Signature; covers @method @target-uri (+ content-digest)."""
    alg = RSA_V1_5_SHA256 if isinstance(private_key, rsa.RSAPrivateKey) else ED25519
    pending = prepare_signature_rfc9421(
        method, url, headers, body, key_id, algorithm=alg, now=now, label=label
    )
    return pending.complete(sign_bytes(private_key, pending.data))


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
